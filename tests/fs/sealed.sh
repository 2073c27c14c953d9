#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# sealed: sealed data is immutable (EPERM for any write path), the
# namespace refuses mkdir, links, renames out of names/ and files outside
# names/, and a taken name cannot be created again.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

vfs_mount

head -c 100000 /dev/urandom >"$T/data"
cp "$T/data" "$MNT/names/x"
wait_sealed "$MNT/names/x"
oid=$(xattr_get user.vineyard.id "$MNT/names/x")
bid=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/x")
x=$MNT/names/x

# Every way to write sealed data fails.
# shellcheck disable=SC2016 # $1 is for the inner shell
must_fail "Operation not permitted" bash -c 'echo x >>"$1"' _ "$x"
# shellcheck disable=SC2016
must_fail "Operation not permitted" bash -c 'echo x >"$1"' _ "$x"
must_fail "Operation not permitted" truncate -s 0 "$x"
must_fail "Operation not permitted" truncate -s 0 "$MNT/blobs/$bid"
must_fail "Operation not permitted" dd if=/dev/zero of="$x" bs=1 count=1 conv=notrunc status=none
py_errno EPERM "open('$x', 'r+b')"
py_errno EPERM "open('$x', 'ab')"
py_errno EPERM "os.open('$MNT/blobs/$bid', os.O_WRONLY)"
py_errno EPERM "os.open('$MNT/objects/$oid/buffer_', os.O_RDWR)"
py_errno EPERM "os.truncate('$x', 10)"
cmp "$T/data" "$x" || fail "names/x changed after the refused writes"
cmp "$T/data" "$MNT/blobs/$bid" || fail "blobs/$bid changed after the refused writes"
[ "$(stat -c %s "$x")" = 100000 ] || fail "names/x size changed to $(stat -c %s "$x")"
[ "$(stat_get writes_served)" = 0 ] || [ "$(stat_get data_path)" != passthrough ] ||
	fail "the daemon served writes: writes_served $(stat_get writes_served)"

# The namespace: no mkdir, links, symlinks, renames out of names/.
must_fail "Operation not permitted" mkdir "$MNT/names/d"
must_fail "Operation not permitted" mkdir "$MNT/objects/d"
must_fail "Operation not permitted" mkdir "$MNT/objects/$oid/d"
py_errno EPERM "os.mkdir('$MNT/d')"
must_fail "Operation not permitted" ln "$x" "$MNT/names/hard"
must_fail "Operation not permitted" ln -s x "$MNT/names/sym"
# Renames within names/ are allowed (rename.sh); out of it they are not.
py_errno EPERM "os.rename('$x', '$MNT/objects/moved')"
py_errno EPERM "os.rename('$MNT/objects/$oid', '$MNT/names/moved')"
[ -f "$x" ] || fail "names/x is gone after the refused rename"
for n in d hard sym moved; do
	if [ -e "$MNT/names/$n" ] || [ -L "$MNT/names/$n" ]; then
		fail "names/$n exists after a refused call"
	fi
done
[ ! -e "$MNT/objects/d" ] || fail "objects/d exists after a refused mkdir"

# Objects are born in names/ only.
for f in "objects/f" "blobs/f" "objects/$oid/f" "f"; do
	rc=0
	{ : >"$MNT/$f"; } 2>/dev/null || rc=$?
	[ "$rc" -ne 0 ] || fail "creating $f succeeded"
	[ ! -e "$MNT/$f" ] || fail "$f exists after a refused create"
done
[ "$(ls "$MNT/objects")" = "$oid" ] || fail "objects/ lists $(ls "$MNT/objects"), expected only $oid"
[ "$(ls "$MNT/blobs")" = "$bid" ] || fail "blobs/ lists $(ls "$MNT/blobs"), expected only $bid"

# A taken name cannot be created again; a new one can.
py_errno EEXIST "open('$x', 'xb')"
py_errno EEXIST "os.open('$x', os.O_CREAT | os.O_EXCL | os.O_WRONLY)"
"$PY" -c "open('$MNT/names/y', 'xb').write(b'y')" || fail "creating names/y with O_EXCL failed"
wait_sealed "$MNT/names/y"
[ "$(cat "$MNT/names/y")" = y ] || fail "names/y does not hold 'y'"
[ "$(stat_get objects)" = 2 ] || fail "stats objects is $(stat_get objects), expected 2"
cmp "$T/data" "$x" || fail "names/x changed"

echo "PASS: sealed"
