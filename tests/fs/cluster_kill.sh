#!/bin/bash
# cluster_kill: a member dying mid-transfer. A holds 1 GiB, published; B
# opens it, and once B's temp file for it is filling, A is stopped (SIGSTOP
# pins the moment: the transfer is under way, not done) and killed with
# kill -9. B's open fails with EIO (the transfer broke), B keeps neither the
# blob nor its temp file, its memory accounting is back where it was, and
# B still serves the rest. A restarted on its state dir, B's open of the
# same object fetches it whole.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

KEY=$T/key
cluster_key "$KEY"

etcd_start
member_mount 1 alpha --cluster-key "$KEY" --memory 1536M
member_mount 2 beta --cluster-key "$KEY" --memory 1536M
A=$T/m1
B=$T/m2
wait_joined "$A" "$B"

# About a second of transfer here, longer on a busy machine.
head -c 1G /dev/urandom >"$A/names/huge"
head -c 100K /dev/urandom >"$T/small"
cp "$T/small" "$A/names/small"
for n in huge small; do
	publish_sealed "$A" "$n"
	wait_until "$n on B" test -e "$B/names/$n"
done
sum=$(sha256sum <"$A/names/huge")
cmp "$T/small" "$B/names/small" || fail "small read on B differs"
echo local >"$B/names/mine"
wait_sealed "$B/names/mine"
used=$(stat_get memory_used_bytes "$B")
bid=$(xattr_get user.vineyard.member.buffer_ "$B/names/huge")
tmp=$T/st2/mem/.tmp-$bid

bg_start timed_read "$B/names/huge" "$T/read1"
wait_until "B's temp file for huge" test -e "$tmp"
apid=$(vfs_pid "$T/st1")
kill -STOP "$apid"
if [ ! -e "$tmp" ] || [ -s "$T/read1" ]; then
	fail "the transfer of huge ended before A could be stopped"
fi
echo "B had $(du -k "$tmp" | cut -f1) KiB of huge when A was stopped"
member_kill 1
wait_until "B's read of huge to end" test -s "$T/read1"
echo "B's read after A died: $(cat "$T/read1") s"
[ "$(cut -d' ' -f1 "$T/read1")" = EIO ] || fail "B's read of huge while A died: $(cat "$T/read1"), expected EIO"
grep -q "cannot fetch blob $bid" "$T/st2/vineyardfs.log" || fail "B does not log the broken fetch"
[ ! -e "$tmp" ] || fail "B kept the temp file of the broken fetch"
[ ! -e "$T/st2/mem/$bid" ] || fail "B kept a blob file for the broken fetch"
wait_until "B's memory accounting back to $used" stat_is memory_used_bytes "$used" "$B"
# B serves the rest: what it fetched, and its own.
cmp "$T/small" "$B/names/small" || fail "small on B after A died"
[ "$(cat "$B/names/mine")" = local ] || fail "B's own object after A died"
echo more >"$B/names/more"
wait_sealed "$B/names/more"

# A back on its state dir: the same open fetches it whole.
wait_until "huge unavailable on B" xattr_is user.vineyard.location "$B/names/huge" "remote:alpha,unavailable"
member_mount 1 alpha --cluster-key "$KEY" --memory 1536M
wait_until "huge available again on B" xattr_is user.vineyard.location "$B/names/huge" "remote:alpha"
[ "$(sha256sum <"$B/names/huge")" = "$sum" ] || fail "huge read on B after A came back differs"
[ -f "$T/st2/mem/$bid" ] || fail "B read huge but keeps no copy of its blob"
echo "PASS: cluster_kill"
