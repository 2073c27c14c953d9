#!/bin/bash
# cluster_netns: a member cut off from the network. A runs in a network
# namespace of its own, joined to the host (etcd, B, C on 127.0.0.1) by a
# veth pair the test makes and unplugs with "ip link set ... down".
# - Cut off: A keeps working alone (put, read, a publish that queues; no
#   FUSE request waits), its lease expires, and B and C mark its objects
#   unavailable within the lease and a margin; an open then is EHOSTDOWN.
# - Plugged back: A finds its lease gone and joins again by itself, its
#   objects are available again and read right on B, and what it published
#   meanwhile shows.
# - Cut mid-transfer (A stopped with SIGSTOP while B's temp file fills, to
#   pin the moment, then unplugged and let go): B's open fails within the
#   peer time limit with EHOSTUNREACH (about 10 s: one receive's limit),
#   leaving no half blob and no memory held; B answers everything
#   else meanwhile; plugged back, the same open reads it whole.
# Every step prints what it measured. Traffic: loopback and the veth only;
# the namespace and the veth go in the EXIT trap (cluster_lib.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

# Seconds since $1 (a date +%s.%N), one decimal.
since()
{
	awk -v t="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - t }'
}

NS=vfs-netns-$$
ns_create "$NS"
KEY=$T/key
cluster_key "$KEY"

ETCD_EXTRA_URLS=http://${NS_HOST_IP[$NS]}:$ETCD_CPORT
etcd_start
ns_member_mount "$NS" 1 alpha --cluster-key "$KEY" --memory 1536M
member_mount 2 beta --cluster-key "$KEY" --memory 1536M
member_mount 3 gamma --cluster-key "$KEY"
A=$T/m1
B=$T/m2
C=$T/m3
wait_joined "$A" "$B" "$C"
"$VINEYARDFS" cluster -m "$B" | grep -q "^member 1 alpha ${NS_IP[$NS]//./\\.}:[0-9]* live$" ||
	fail "A is not live at ${NS_IP[$NS]} for B: $("$VINEYARDFS" cluster -m "$B")"

head -c 100K /dev/urandom >"$T/small"
head -c 8M /dev/urandom >"$T/mid"
cp "$T/small" "$A/names/small"
cp "$T/mid" "$A/names/mid"
head -c 1G /dev/urandom >"$A/names/huge"
for n in small mid huge; do
	publish_sealed "$A" "$n"
	wait_until "$n on B" test -e "$B/names/$n"
	wait_until "$n on C" test -e "$C/names/$n"
done
sum=$(sha256sum <"$A/names/huge")
# Through the veth.
cmp "$T/small" "$B/names/small" || fail "small read on B differs"

# Cut off: A's lease expires, the others mark its objects unavailable.
t0=$(date +%s.%N)
ns_link "$NS" down
wait_until "small unavailable on B" xattr_is user.vineyard.location "$B/names/small" "remote:alpha,unavailable"
wait_until "small unavailable on C" xattr_is user.vineyard.location "$C/names/small" "remote:alpha,unavailable"
took=$(since "$t0")
echo "A's objects unavailable on B and C $took s after the cut (lease $CLUSTER_TTL s)"
awk -v t="$took" -v l="$CLUSTER_TTL" 'BEGIN { exit !(t <= l + 8) }' || fail "unavailable only after $took s"
py_errno EHOSTDOWN "open('$B/names/mid', 'rb')"
py_errno EHOSTDOWN "open('$C/names/mid', 'rb')"
cmp "$T/small" "$B/names/small" || fail "B's copy of small after the cut"
# A alone: every file system request answers at once (bounded by 10 s,
# and measured); a publish queues (the command waits 10 s for etcd, then
# says so).
s=$(date +%s.%N)
timeout 10 cp "$T/small" "$A/names/offline" || fail "a put on A while cut off"
wait_sealed "$A/names/offline"
timeout 10 cmp "$T/small" "$A/names/offline" || fail "a read on A while cut off"
timeout 10 cmp "$T/mid" "$A/names/mid" || fail "a read of mid on A while cut off"
timeout 10 ls -l "$A/names" >/dev/null || fail "ls on A while cut off"
echo "A while cut off: put, read, ls in $(since "$s") s"
out=$(timeout 30 "$VINEYARDFS" publish -m "$A" offline) || fail "publish on A while cut off: $out"
case $out in *queued*) ;; *) fail "publish on A while cut off said '$out'" ;; esac
cluster_is etcd_reachable no "$A" || fail "A says etcd is reachable while cut off"

# Plugged back: A joins again by itself.
t0=$(date +%s.%N)
ns_link "$NS" up
wait_until "small available again on B" xattr_is user.vineyard.location "$B/names/small" "remote:alpha"
wait_until "small available again on C" xattr_is user.vineyard.location "$C/names/small" "remote:alpha"
echo "A's objects available again $(since "$t0") s after the link came up"
grep -q "our lease is gone" "$T/st1/vineyardfs.log" || fail "A does not say that its lease went"
cluster_is joined yes "$A" || fail "A is not joined again"
cmp "$T/mid" "$B/names/mid" || fail "mid read on B after A came back differs"
wait_until "offline on B" test -e "$B/names/offline"
cmp "$T/small" "$B/names/offline" || fail "offline read on B differs"

# Cut mid-transfer.
used=$(stat_get memory_used_bytes "$B")
bid=$(xattr_get user.vineyard.member.buffer_ "$B/names/huge")
tmp=$T/st2/mem/.tmp-$bid
apid=$(vfs_pid "$T/st1")
bg_start timed_read "$B/names/huge" "$T/read1"
wait_until "B's temp file for huge" test -e "$tmp"
kill -STOP "$apid"
if [ ! -e "$tmp" ] || [ -s "$T/read1" ]; then
	kill -CONT "$apid"
	fail "the transfer of huge ended before A could be stopped"
fi
echo "B had $(du -k "$tmp" | cut -f1) KiB of huge at the cut"
ns_link "$NS" down
kill -CONT "$apid"
# While the fetch waits on the dead link, B answers everything else.
s=$(date +%s.%N)
timeout 5 cmp "$T/small" "$B/names/small" || fail "B's copy of small while a fetch is stalled"
timeout 5 ls -l "$B/names" >/dev/null || fail "ls on B while a fetch is stalled"
timeout 5 getfattr --absolute-names -n user.vineyard.location "$B/names/huge" >/dev/null ||
	fail "getfattr of huge on B while it is being fetched"
echo "B while a fetch is stalled: read, ls, getfattr in $(since "$s") s"
[ ! -s "$T/read1" ] || fail "B's read of huge ended before the checks made during the cut: $(cat "$T/read1")"
wait_until "B's read of huge to end" test -s "$T/read1"
echo "B's read of huge cut off: $(cat "$T/read1") s"
[ "$(cut -d' ' -f1 "$T/read1")" = EHOSTUNREACH ] ||
	fail "B's read of huge cut off: $(cat "$T/read1"), expected EHOSTUNREACH"
grep -q "cannot fetch blob $bid" "$T/st2/vineyardfs.log" || fail "B does not log the broken fetch"
[ ! -e "$tmp" ] || fail "B kept the temp file of the broken fetch"
[ ! -e "$T/st2/mem/$bid" ] || fail "B kept a blob file for the broken fetch"
wait_until "B's memory accounting back to $used" stat_is memory_used_bytes "$used" "$B"
cmp "$T/mid" "$B/names/mid" || fail "mid on B during the cut"
echo b >"$B/names/mine"
wait_sealed "$B/names/mine"
[ "$(cat "$B/names/mine")" = b ] || fail "B's own object during the cut"

ns_link "$NS" up
wait_until "huge available again on B" xattr_is user.vineyard.location "$B/names/huge" "remote:alpha"
[ "$(sha256sum <"$B/names/huge")" = "$sum" ] || fail "huge read on B after the link came up differs"
echo "PASS: cluster_netns"
