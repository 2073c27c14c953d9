#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# seal_commit: nothing reports an object sealed before its seal is saved.
# The daemon runs with tests/fs/hold.c preloaded, which holds SQLite's
# commits back while a gate file exists. While a seal's commit is held, the
# object must show as unsealed everywhere (xattrs of its name, object and
# blob, meta.json, a wait for its name); a kill -9 then loses it, which is
# no lie since nothing said it was sealed. Once the commit goes through it
# shows as sealed, and a kill -9 loses nothing. A delete, likewise, removes
# its blob's file only once the delete is saved.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

hold_lib
GATE=$T/gate

mount_held()
{
	LD_PRELOAD=$SHIM VFS_HOLD_GATE=$GATE vfs_mount
}

kill_daemon()
{
	local pid

	pid=$(vfs_pid)
	pid_is_daemon "$pid" || fail "no daemon with pid '$pid' from $STATE/lock"
	kill -9 "$pid"
	wait_until "daemon pid $pid to die" gone "$pid"
}

# Every place that tells whether names/$1 is sealed says "$2".
says_sealed()
{
	local name=$1 want=$2 oid bid got

	oid=$(xattr_get user.vineyard.id "$MNT/names/$name")
	bid=$(sed -n 's/.*"id": *"\(b[0-9a-f]*\)".*/\1/p' "$MNT/objects/$oid/meta.json" | head -n 1)
	[ -n "$bid" ] || fail "no blob id for names/$name"
	for p in "$MNT/names/$name" "$MNT/objects/$oid" "$MNT/blobs/$bid"; do
		got=$(xattr_get user.vineyard.sealed "$p")
		[ "$got" = "$want" ] || fail "user.vineyard.sealed of $p is '$got' while the commit is ${3:-held}, expected '$want'"
	done
	n=$(grep -c "\"sealed\": $want" "$MNT/objects/$oid/meta.json") ||
		fail "meta.json of names/$name does not say \"sealed\": $want: $(cat "$MNT/objects/$oid/meta.json")"
	[ "$n" = 2 ] || fail "meta.json of names/$name says \"sealed\": $want $n times, expected 2 (the object and its blob)"
}

mount_held

# 1. The commit is held: unsealed everywhere; a wait for the name times out.
touch "$GATE"
printf 'first object' >"$MNT/names/a"
wait_until "the seal's commit to be held" exists "$GATE.held"
says_sealed a false
reply=$(ctl '{"op":"wait","name":"a","timeout_ms":300}')
case $reply in
*ETIMEDOUT*) ;;
*) fail "a wait for names/a answered '$reply' while its seal was not saved, expected ETIMEDOUT" ;;
esac
kill_daemon
rm -f "$GATE" "$GATE.held"
mount_held
[ ! -e "$MNT/names/a" ] || fail "names/a, whose seal was never saved, came back after a kill -9"
grep -q "discarding unsealed blob" "$STATE/vineyardfs.log" ||
	fail "the restart did not log the discard of the unsaved blob"

# 2. The commit goes through: sealed everywhere, and it survives a kill -9.
touch "$GATE"
printf 'second object' >"$MNT/names/b"
wait_until "the seal's commit to be held" exists "$GATE.held"
says_sealed b false
rm -f "$GATE"
wait_sealed "$MNT/names/b"
says_sealed b true "saved"
reply=$(ctl '{"op":"wait","name":"b","timeout_ms":10000}')
case $reply in
*'"ok":true'*) ;;
*) fail "a wait for names/b answered '$reply' after its seal was saved" ;;
esac
kill_daemon
vfs_mount
[ "$(cat "$MNT/names/b")" = "second object" ] || fail "names/b, reported sealed, was lost by a kill -9"
is_sealed "$MNT/names/b" || fail "names/b is not sealed after the restart"

# 3. A delete removes its blob's file only once the delete is saved:
# killed while its commit is held, the daemon leaves the object whole (the
# rmdir never returned) and the next start finds nothing missing.
kill_daemon
mount_held
oid=$(xattr_get user.vineyard.id "$MNT/names/b")
bid=$(sed -n 's/.*"id": *"\(b[0-9a-f]*\)".*/\1/p' "$MNT/objects/$oid/meta.json" | head -n 1)
[ -f "$STATE/mem/$bid" ] || fail "no file $STATE/mem/$bid for the blob of names/b"
rm -f "$GATE.held"
touch "$GATE"
bg_start rmdir "$MNT/objects/$oid"
rmdir_pid=$BG_PID
wait_until "the delete's commit to be held" exists "$GATE.held"
[ -f "$STATE/mem/$bid" ] || fail "the file of blob $bid was removed before its delete was saved"
logged=$(wc -l <"$STATE/vineyardfs.log")
kill_daemon
wait "$rmdir_pid" 2>/dev/null && fail "rmdir of objects/$oid succeeded though its daemon was killed"
rm -f "$GATE" "$GATE.held"
vfs_mount
if tail -n +"$((logged + 1))" "$STATE/vineyardfs.log" | grep -E "is missing|no longer exists"; then
	fail "the start after a kill during a delete reported the lines above"
fi
[ "$(cat "$MNT/names/b")" = "second object" ] || fail "names/b, whose delete was never saved, is lost"

echo "PASS: seal_commit"
