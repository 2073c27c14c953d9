#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# perms: objects carry their creator's uid/gid and the mode from the create
# call and umask, and the kernel enforces them (default_permissions): read
# permission, and the sticky bit of names/ and objects/; streams belong to
# their writer (mode from its umask), others read them per mode and cannot
# remove them or push to them.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

id nobody >/dev/null 2>&1 || fail "no user nobody"
vfs_mount

as_nobody()
{
	runuser -u nobody -- "$@"
}

mode_is()
{
	local got

	got=$(stat -c %a "$MNT/$1")
	[ "$got" = "$2" ] || fail "mode of $1 is $got, expected $2"
}

[ "$(stat -c %a "$MNT/names")" = 1777 ] || fail "names/ has mode $(stat -c %a "$MNT/names"), expected 1777"
[ "$(stat -c %a "$MNT/objects")" = 1777 ] || fail "objects/ has mode $(stat -c %a "$MNT/objects"), expected 1777"

# Root's private and public objects.
(umask 077 && printf secret >"$MNT/names/private")
(umask 022 && printf public >"$MNT/names/public")
(umask 000 && "$PY" -c "import os; os.close(os.open('$MNT/names/odd', os.O_CREAT | os.O_WRONLY, 0o604))")
for n in private public odd; do
	wait_sealed "$MNT/names/$n"
done
mode_is names/private 600
mode_is names/public 644
mode_is names/odd 604
priv=$(xattr_get user.vineyard.id "$MNT/names/private")
pub=$(xattr_get user.vineyard.id "$MNT/names/public")
mode_is "objects/$priv" 700
mode_is "objects/$pub" 755
mode_is "blobs/$(xattr_get user.vineyard.member.buffer_ "$MNT/names/private")" 600
[ "$(stat -c %U:%G "$MNT/names/private")" = root:root ] ||
	fail "names/private is owned by $(stat -c %U:%G "$MNT/names/private"), expected root:root"

must_fail "Permission denied" as_nobody cat "$MNT/names/private"
must_fail "Permission denied" as_nobody cat "$MNT/objects/$priv/buffer_"
[ "$(as_nobody cat "$MNT/names/public")" = public ] || fail "nobody cannot read the 0644 names/public"
[ "$(cat "$MNT/names/private")" = secret ] || fail "root cannot read names/private"

# nobody creates its own object in the 01777 names/.
as_nobody sh -c "umask 027 && printf mine >'$MNT/names/mine'" || fail "nobody cannot create names/mine"
wait_sealed "$MNT/names/mine"
mine=$(xattr_get user.vineyard.id "$MNT/names/mine")
mode_is names/mine 640
[ "$(stat -c %U "$MNT/names/mine")" = nobody ] || fail "names/mine is owned by $(stat -c %U "$MNT/names/mine"), not nobody"
[ "$(stat -c %U "$MNT/objects/$mine")" = nobody ] || fail "objects/$mine is owned by $(stat -c %U "$MNT/objects/$mine"), not nobody"
[ "$(stat -c %g "$MNT/names/mine")" = "$(id -g nobody)" ] || fail "names/mine has gid $(stat -c %g "$MNT/names/mine"), not nobody's"
[ "$(as_nobody cat "$MNT/names/mine")" = mine ] || fail "nobody cannot read back names/mine"

# The sticky bit: nobody cannot remove root's objects, but can its own.
must_fail "Operation not permitted" as_nobody rm -f "$MNT/names/public"
must_fail "Operation not permitted" as_nobody rmdir "$MNT/objects/$pub"
[ -e "$MNT/names/public" ] || fail "names/public is gone after nobody's refused rm"
[ -d "$MNT/objects/$pub" ] || fail "objects/$pub is gone after nobody's refused rmdir"
as_nobody rm "$MNT/names/mine" || fail "nobody cannot remove its own names/mine"
[ ! -e "$MNT/names/mine" ] || fail "names/mine still exists after rm"
[ ! -e "$MNT/objects/$mine" ] || fail "objects/$mine still exists after rm of its name"
[ "$(stat_get objects)" = 3 ] || fail "stats objects is $(stat_get objects), expected 3"

# Streams: the writer owns its stream; others read a 0644 one, cannot read
# a 0600 one, nor remove or push to root's.
sh -c "umask 022 && printf 'for all\n' >'$MNT/streams/open'"
sh -c "umask 077 && printf 'for root\n' >'$MNT/streams/closed'"
[ "$(stat -c %U "$MNT/streams/open")" = root ] || fail "streams/open is not root's"
[ "$(as_nobody cat "$MNT/streams/open")" = "for all" ] || fail "nobody cannot read the 0644 streams/open"
must_fail "Permission denied" as_nobody cat "$MNT/streams/closed"
must_fail "Operation not permitted" as_nobody rm -f "$MNT/streams/open"
[ "$(cat "$MNT/streams/open")" = "for all" ] || fail "streams/open changed after nobody's refused rm"
as_nobody sh -c "printf 'by nobody\n' >'$MNT/streams/theirs'" || fail "nobody cannot write a stream of its own"
[ "$(stat -c %U "$MNT/streams/theirs")" = nobody ] || fail "streams/theirs is owned by $(stat -c %U "$MNT/streams/theirs")"
as_nobody rm "$MNT/streams/theirs" || fail "nobody cannot remove its own stream"
# An object stream produced by root: nobody may read it, not push to it.
"$PY" - "$MNT" <<'EOF' || fail "root cannot produce an object stream"
import json, os, sys
oid = os.getxattr(sys.argv[1] + "/names/public", "user.vineyard.id").decode()
with open(sys.argv[1] + "/.vineyardfs/ctl", "r+b", buffering=0) as ctl:
    ctl.write(b'{"op":"stream_open","name":"rootq"}')
    assert json.loads(ctl.read())["ok"]
    ctl.write(json.dumps({"op": "stream_push", "id": oid}).encode())
    assert json.loads(ctl.read())["index"] == 0
    ctl.write(b'{"op":"stream_close"}')
    assert json.loads(ctl.read())["ok"]
EOF
[ "$(as_nobody "$VINEYARDFS" stream read --mount "$MNT" rootq | wc -l)" = 1 ] || fail "nobody cannot read root's object stream"
must_fail "Operation not permitted" as_nobody "$VINEYARDFS" stream push --mount "$MNT" rootq "$MNT/names/public"

echo "PASS: perms"
