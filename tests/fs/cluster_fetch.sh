#!/bin/bash
# cluster_fetch: the bytes of another member's object. Members that share
# the cluster key (--cluster-key): an object put and published on A is read
# on B byte for byte, its blob fetched once from A's peer port into B's store
# and read from there (again after A is gone); four readers at once all get
# the bytes; a member with another key is refused (EACCES) and keeps no half
# blob; with A gone, a blob B never fetched answers EHOSTDOWN.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

KEY=$T/key
cluster_key "$KEY"
WRONG=$T/wrong
cluster_key "$WRONG"

etcd_start
member_mount 1 alpha --cluster-key "$KEY"
member_mount 2 beta --cluster-key "$KEY"
member_mount 3 gamma --cluster-key "$WRONG"
A=$T/m1
B=$T/m2
C=$T/m3
wait_joined "$A" "$B" "$C"
grep -q "serving blobs on" "$T/st1/vineyardfs.log" || fail "A does not say it serves blobs"

# Three objects on A, published.
head -c 8M /dev/urandom >"$T/big"
head -c 32M /dev/urandom >"$T/mid"
head -c 100K /dev/urandom >"$T/small"
for n in big mid small; do
	cp "$T/$n" "$A/names/$n"
	publish_sealed "$A" "$n"
done
for n in big mid small; do
	wait_until "$n on B" test -e "$B/names/$n"
	wait_until "$n on C" test -e "$C/names/$n"
done

# B reads big: fetched from A into B's store, then a local read.
bid=$(xattr_get user.vineyard.member.buffer_ "$B/names/big")
[ ! -e "$T/st2/mem/$bid" ] || fail "B had big's blob before anyone read it"
cmp "$T/big" "$B/names/big" || fail "big read on B differs from what A was given"
[ -f "$T/st2/mem/$bid" ] || fail "B read big but keeps no copy of its blob in its store"
cmp "$T/big" "$B/names/big" || fail "big read again on B differs"

# Four readers of mid at once: every one gets the bytes.
pids=()
for i in 1 2 3 4; do
	cmp "$T/mid" "$B/names/mid" >"$T/cmp.$i" 2>&1 &
	pids+=($!)
done
for i in 1 2 3 4; do
	wait "${pids[$((i - 1))]}" || fail "concurrent reader $i of mid on B: $(cat "$T/cmp.$i")"
done

# C has another key: refused, and nothing is left in its store.
py_errno EACCES "open('$C/names/small', 'rb').read()"
left=$(find "$T/st3/mem" -mindepth 1 -name 'b*' -o -mindepth 1 -name '.tmp-*' | wc -l)
[ "$left" = 0 ] || fail "a refused fetch left $left files in C's store: $(ls -A "$T/st3/mem")"
grep -q "cannot fetch blob" "$T/st3/vineyardfs.log" || fail "C's refused fetch is not logged"

# A gone: what B fetched still reads; what it did not answers EHOSTDOWN.
member_kill 1
wait_until "small on B to be unavailable" xattr_is user.vineyard.location "$B/names/small" "remote:alpha,unavailable"
cmp "$T/big" "$B/names/big" || fail "B's copy of big does not read after A is gone"
py_errno EHOSTDOWN "open('$B/names/small', 'rb').read()"

echo "PASS: cluster_fetch"
