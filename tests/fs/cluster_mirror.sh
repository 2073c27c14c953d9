#!/bin/bash
# cluster_mirror: the mirror kept in a member's database. B, restarted
# while etcd is away, shows A's published objects from its own SQLite (ls
# names/, the same meta.json, location remote:alpha,unavailable), reads
# the one whose blob it had fetched (its copy kept, CRC-checked) and gets
# EHOSTDOWN for the other; a global object of B's made of A's objects
# has its members at once; once etcd is back all are available and
# readable, and an object A deleted while B was down is gone. B restarted
# without --etcd shows no mirror and keeps no fetched copy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

# mirror_keys STATE PATTERN: the mirror's keys LIKE PATTERN in the
# database of STATE (no daemon on it), sorted, on one line.
mirror_keys()
{
	"$PY" - "$1/meta.db" "$2" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(" ".join(k for (k,) in db.execute("SELECT key FROM mirror WHERE key LIKE ? ORDER BY key", (sys.argv[2],))))
PYEOF
}

KEY=$T/key
cluster_key "$KEY"

etcd_start
member_mount 1 alpha --cluster-key "$KEY"
member_mount 2 beta --cluster-key "$KEY"
A=$T/m1
B=$T/m2
wait_joined "$A" "$B"

head -c 3M /dev/urandom >"$T/kept"
printf 'fresh bytes\n' >"$T/fresh"
printf 'short-lived\n' >"$T/doomed"
for n in kept fresh doomed; do
	cp "$T/$n" "$A/names/$n"
	publish_sealed "$A" "$n"
done
for n in kept fresh doomed; do
	wait_until "$n on B" test -e "$B/names/$n"
done
kept_id=$(xattr_get user.vineyard.id "$A/names/kept")
fresh_id=$(xattr_get user.vineyard.id "$A/names/fresh")
doomed_id=$(xattr_get user.vineyard.id "$A/names/doomed")
kept_bid=$(xattr_get user.vineyard.member.buffer_ "$B/names/kept")
# B reads kept: a fetched copy in its store.
cmp "$T/kept" "$B/names/kept" || fail "kept read on B differs"
[ -f "$T/st2/mem/$kept_bid" ] || fail "B keeps no copy of kept's blob"
cp "$B/objects/$kept_id/meta.json" "$T/kept.meta.json"
cp "$B/objects/$fresh_id/meta.json" "$T/fresh.meta.json"
# A global object of B's made of A's two.
reply=$(MNT=$B ctl '{"op": "create", "typename": "Pair", "name": "pair",
 "members": {"a": "'"$kept_id"'", "b": "'"$fresh_id"'"}}')
gid=$(id_of "$reply")
[ -n "$gid" ] || fail "create of a global object on B: $reply"
wait_until "pair on A" test -e "$A/names/pair"
cp "$B/objects/$gid/meta.json" "$T/pair.meta.json"

# B stops (its database holds what the watch showed, read here with the
# daemon gone: it keeps the database to itself); A deletes doomed
# meanwhile; then etcd goes away.
"$VINEYARDFS" umount "$B" || fail "umount B"
[ "$(mirror_keys "$T/st2" "names/%")" = "names/doomed names/fresh names/kept names/pair" ] ||
	fail "B's database mirrors names: $(mirror_keys "$T/st2" "names/%")"
rm "$A/names/doomed"
wait_until "doomed gone from etcd" not etcd_has "/vineyardfs/t/objects/$doomed_id"
etcd_stop

# B comes back with etcd away: A's objects from its own database.
member_mount 2 beta --cluster-key "$KEY"
cluster_is joined no "$B" || fail "B joined without etcd"
ls "$B/names" >"$T/names.B"
for n in kept fresh doomed; do
	grep -qx "$n" "$T/names.B" || fail "B restarted without etcd does not list $n: $(cat "$T/names.B")"
done
cmp "$T/kept.meta.json" "$B/objects/$kept_id/meta.json" || fail "kept's meta.json changed over B's restart"
cmp "$T/fresh.meta.json" "$B/objects/$fresh_id/meta.json" || fail "fresh's meta.json changed over B's restart"
# B's global object has its members at once: the mirror shows them.
[ -d "$B/objects/$gid/a" ] && [ -d "$B/objects/$gid/b" ] ||
	fail "B's global object lacks its remote members without etcd: $(ls "$B/objects/$gid")"
cmp "$T/pair.meta.json" "$B/objects/$gid/meta.json" || fail "pair's meta.json changed over B's restart"
for n in kept fresh; do
	[ "$(xattr_get user.vineyard.location "$B/names/$n")" = "remote:alpha,unavailable" ] ||
		fail "$n on B without etcd: location $(xattr_get user.vineyard.location "$B/names/$n")"
done
grep -q "the mirror as of etcd revision" "$T/st2/vineyardfs.log" || fail "B does not say it showed its mirror"
grep -q "1 fetched copies kept" "$T/st2/vineyardfs.log" || fail "B did not keep its copy of kept"
# The copy reads with its owner unreachable; fresh was never fetched.
cmp "$T/kept" "$B/names/kept" || fail "kept's copy on B differs after the restart"
py_errno EHOSTDOWN "open('$B/names/fresh', 'rb')"

# etcd back: B joins, lists, sweeps doomed; A's objects are available.
etcd_start
wait_until "B to join" cluster_is joined yes "$B"
wait_until "fresh available on B" xattr_is user.vineyard.location "$B/names/fresh" "remote:alpha"
wait_until "doomed gone from B" test ! -e "$B/names/doomed"
wait_until "$doomed_id gone from B's objects/" test ! -e "$B/objects/$doomed_id"
cmp "$T/fresh" "$B/names/fresh" || fail "fresh read on B after etcd came back differs"
cmp "$T/kept" "$B/names/kept" || fail "kept read on B after etcd came back differs"
"$VINEYARDFS" umount "$B" || fail "umount B"
[ "$(mirror_keys "$T/st2" "names/%")" = "names/fresh names/kept names/pair" ] ||
	fail "B's database after the sweep mirrors names: $(mirror_keys "$T/st2" "names/%")"
[ -z "$(mirror_keys "$T/st2" "objects/$doomed_id")" ] || fail "B's database still holds doomed's object"

# B out of the cluster: no mirror shown, its fetched copies gone.
vfs_mount_at "$T/st2" "$B" --instance-id 2
[ ! -e "$B/names/kept" ] || fail "B without --etcd shows the mirror"
[ ! -e "$T/st2/mem/$kept_bid" ] || fail "B without --etcd keeps a fetched copy"
grep -q "dropped the mirror of cluster t" "$T/st2/vineyardfs.log" || fail "B does not say it dropped the mirror"
exit 0
