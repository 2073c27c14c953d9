#!/bin/bash
# cluster_cache: fetched copies of another member's blobs are a cache. B has
# 64 MiB of memory and a spill directory; A holds three published objects of
# 24 MiB. B reads all three: the third's fetch drops the least recently used
# copy (the first) instead of spilling B's own object, every byte reads
# right, and the dropped one is fetched again at its next read. `vineyardfs
# evict` of a remote object drops B's copy (EBUSY while it is open); no
# remote blob ever gets a spill file or a row in B's database.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

KEY=$T/key
cluster_key "$KEY"

etcd_start
member_mount 1 alpha --cluster-key "$KEY"
# Spill only at 100%: room for a fetch is made by the fetch itself.
member_mount 2 beta --cluster-key "$KEY" --memory 64M --spill-dir "$T/spill2" --spill-high 100 --spill-low 90
A=$T/m1
B=$T/m2
wait_joined "$A" "$B"

# B's own object, 8 MiB: it must stay in memory while copies can go.
head -c 8M /dev/urandom >"$T/own"
cp "$T/own" "$B/names/own"
wait_sealed "$B/names/own"

for n in x y z; do
	head -c 24M /dev/urandom >"$T/$n"
	cp "$T/$n" "$A/names/$n"
	publish_sealed "$A" "$n"
done
for n in x y z; do
	wait_until "$n on B" test -e "$B/names/$n"
done
xb=$(xattr_get user.vineyard.member.buffer_ "$B/names/x")
yb=$(xattr_get user.vineyard.member.buffer_ "$B/names/y")
zb=$(xattr_get user.vineyard.member.buffer_ "$B/names/z")

cmp "$T/x" "$B/names/x" || fail "x read on B differs"
cmp "$T/y" "$B/names/y" || fail "y read on B differs"
[ -f "$T/st2/mem/$xb" ] && [ -f "$T/st2/mem/$yb" ] || fail "B keeps no copy of x or y after reading them"
[ "$(cluster_get cache_copies "$B")" = 2 ] || fail "B says it holds $(cluster_get cache_copies "$B") copies, not 2"
[ "$(cluster_get cache_drops "$B")" = 0 ] || fail "B dropped copies while it had room"

# z does not fit beside x, y and own: x, the oldest copy, goes.
cmp "$T/z" "$B/names/z" || fail "z read on B differs"
[ ! -e "$T/st2/mem/$xb" ] || fail "B kept x's copy and had no room for z"
[ -f "$T/st2/mem/$zb" ] || fail "B keeps no copy of z"
[ "$(cluster_get cache_drops "$B")" -ge 1 ] || fail "cache_drops does not count the drop"
[ "$(stat_get spills "$B")" = 0 ] || fail "B spilled its own object while copies could be dropped"
[ "$(xattr_get user.vineyard.location "$B/names/own")" = memory ] ||
	fail "B's own object left memory: $(xattr_get user.vineyard.location "$B/names/own")"
cmp "$T/own" "$B/names/own" || fail "B's own object differs"

# x again: fetched again, right.
cmp "$T/x" "$B/names/x" || fail "x read again on B (fetched a second time) differs"
[ -f "$T/st2/mem/$xb" ] || fail "B keeps no copy of x after reading it again"

# evict of a remote object drops the copy; open, it is busy.
copies=$(cluster_get cache_copies "$B")
exec 7<"$B/names/x"
must_fail "open" "$VINEYARDFS" evict -m "$B" x
exec 7<&-
# The kernel releases the file after close returns: evict once it has.
evict_x()
{
	out=$("$VINEYARDFS" evict -m "$B" x 2>&1)
}
wait_until "evict of x to succeed once it is closed" evict_x
case $out in *"evicted 1 blobs"*) ;; *) fail "evict of x says: $out" ;; esac
[ ! -e "$T/st2/mem/$xb" ] || fail "evict kept x's copy in B's store"
[ "$(cluster_get cache_copies "$B")" = $((copies - 1)) ] || fail "cache_copies did not go down on evict"
cmp "$T/x" "$B/names/x" || fail "x read after evict differs"

# Nothing remote was spilled or recorded (the database read once B is
# down: the daemon holds it locked).
"$VINEYARDFS" umount "$B" || fail "umount of B failed"
for b in "$xb" "$yb" "$zb"; do
	[ ! -e "$T/spill2/$b" ] || fail "remote blob $b got a spill file"
	rows=$("$PY" -c 'import sqlite3, sys
v = int(sys.argv[2][1:], 16)
v = v - (1 << 64) if v >= 1 << 63 else v
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(db.execute("select count(*) from blobs where id = ?", (v,)).fetchone()[0])' "$T/st2/meta.db" "$b") ||
		fail "cannot read the database of B"
	[ "$rows" = 0 ] || fail "remote blob $b has a row in B's database"
done

echo "PASS: cluster_cache"
