#!/bin/bash
# cluster_prefetch: with --prefetch, a member fetches another member's
# object as soon as its name appears, before anything opens it. B prefetches,
# C does not; A publishes two objects. B holds copies of both without an
# open (its store has their blobs and .vineyardfs/cluster counts them), and
# reads them right after A is killed with kill -9 (the bytes were already
# here). C, which did not prefetch, holds no copy. An object that would take
# B past 3/4 of its memory is skipped, not fetched, and B drops nothing for
# it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

KEY=$T/key
cluster_key "$KEY"

etcd_start
member_mount 1 alpha --cluster-key "$KEY"
member_mount 2 beta --cluster-key "$KEY" --memory 64M --prefetch
member_mount 3 gamma --cluster-key "$KEY"
A=$T/m1
B=$T/m2
C=$T/m3
wait_joined "$A" "$B" "$C"
[ "$(cluster_get prefetch "$B")" = yes ] || fail "B does not say prefetch yes"
[ "$(cluster_get prefetch "$C")" = no ] || fail "C says prefetch $(cluster_get prefetch "$C")"

for n in p q; do
	head -c 8M /dev/urandom >"$T/$n"
	cp "$T/$n" "$A/names/$n"
	publish_sealed "$A" "$n"
done
for n in p q; do
	wait_until "$n on B" test -e "$B/names/$n"
	wait_until "$n on C" test -e "$C/names/$n"
done
pb=$(xattr_get user.vineyard.member.buffer_ "$B/names/p")
qb=$(xattr_get user.vineyard.member.buffer_ "$B/names/q")
# Nothing on B opens p or q: the copies come by themselves.
wait_until "B to prefetch p and q" test -f "$T/st2/mem/$pb" -a -f "$T/st2/mem/$qb"
wait_until "B to count 2 blobs prefetched" cluster_is prefetch_blobs 2 "$B"
[ "$(cluster_get prefetch_bytes "$B")" = $((16 << 20)) ] ||
	fail "B counts $(cluster_get prefetch_bytes "$B") bytes prefetched, not $((16 << 20))"
[ "$(cluster_get cache_copies "$B")" = 2 ] || fail "B holds $(cluster_get cache_copies "$B") copies, not 2"
[ "$(cluster_get cache_copies "$C")" = 0 ] || fail "C, without --prefetch, holds copies"
[ ! -e "$T/st3/mem/$pb" ] || fail "C, without --prefetch, has p's blob"

# Too big for B's 3/4: skipped, nothing dropped for it.
head -c 40M /dev/urandom >"$T/big"
cp "$T/big" "$A/names/big"
publish_sealed "$A" big
wait_until "big on B" test -e "$B/names/big"
wait_until "B to skip big" cluster_is prefetch_skips 1 "$B"
bigb=$(xattr_get user.vineyard.member.buffer_ "$B/names/big")
[ ! -e "$T/st2/mem/$bigb" ] || fail "B prefetched big past 3/4 of its memory"
[ "$(cluster_get cache_drops "$B")" = 0 ] || fail "B dropped copies for a prefetch"
[ "$(cluster_get prefetch_errors "$B")" = 0 ] || fail "B counts prefetch errors"

# A dies: B still reads p and q whole, from its copies.
member_kill 1
cmp "$T/p" "$B/names/p" || fail "p read on B after A's death differs"
cmp "$T/q" "$B/names/q" || fail "q read on B after A's death differs"
# C has no copy: its read fails (EHOSTDOWN or, once the lease expired, the
# same), it does not hang.
if cat "$C/names/p" >/dev/null 2>"$T/c.err"; then
	fail "C read p with its owner dead and no copy"
fi
echo "PASS: cluster_prefetch"
