#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# rename: mv within names/ renames an object's name, also over an existing
# name (whose object goes if that was its last name), and the new name
# survives a restart; moves out of names/ and exchanges fail.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

vfs_mount

head -c 70000 /dev/urandom >"$T/a.bin"
head -c 5000 /dev/urandom >"$T/b.bin"
cp "$T/a.bin" "$MNT/names/a"
cp "$T/b.bin" "$MNT/names/b"
wait_sealed "$MNT/names/a"
wait_sealed "$MNT/names/b"
ida=$(xattr_get user.vineyard.id "$MNT/names/a")
idb=$(xattr_get user.vineyard.id "$MNT/names/b")
ino=$(stat -c %i "$MNT/names/a")

mv "$MNT/names/a" "$MNT/names/renamed" || fail "mv names/a names/renamed failed"
[ ! -e "$MNT/names/a" ] || fail "names/a still there after mv"
cmp "$T/a.bin" "$MNT/names/renamed" || fail "names/renamed differs from what was written"
[ "$(xattr_get user.vineyard.id "$MNT/names/renamed")" = "$ida" ] || fail "the object changed id when renamed"
[ "$(stat -c %i "$MNT/names/renamed")" = "$ino" ] || fail "the inode number changed when renamed"
[ "$(stat_get objects)" = 2 ] || fail "stats objects is $(stat_get objects), expected 2"

# Over an existing name: b's object had no other name, so it goes.
mv -f "$MNT/names/renamed" "$MNT/names/b" || fail "mv over names/b failed"
cmp "$T/a.bin" "$MNT/names/b" || fail "names/b is not a's bytes after mv over it"
[ "$(xattr_get user.vineyard.id "$MNT/names/b")" = "$ida" ] || fail "names/b does not name a's object"
[ ! -e "$MNT/objects/$idb" ] || fail "b's object survived losing its only name"
wait_until "b's object deleted" stat_is objects 1

# No replacing when asked not to; nothing leaves names/.
cp "$T/b.bin" "$MNT/names/c"
wait_sealed "$MNT/names/c"
renameat2()
{
	echo "import ctypes; l = ctypes.CDLL(None, use_errno=True)
if l.renameat2(-100, b'$1', -100, b'$2', $3) != 0:
    e = ctypes.get_errno(); raise OSError(e, 'renameat2')"
}
py_errno EEXIST "$(renameat2 "$MNT/names/c" "$MNT/names/b" 1)"   # RENAME_NOREPLACE
py_errno EINVAL "$(renameat2 "$MNT/names/c" "$MNT/names/b" 2)"   # RENAME_EXCHANGE
cmp "$T/a.bin" "$MNT/names/b" || fail "a refused rename replaced names/b"
py_errno EPERM "import os; os.rename('$MNT/names/c', '$MNT/objects/c')"
py_errno EPERM "import os; os.rename('$MNT/objects/$ida', '$MNT/names/d')"
cmp "$T/b.bin" "$MNT/names/c" || fail "names/c changed after failed moves"

# The new names survive a restart.
"$VINEYARDFS" umount "$MNT" || fail "umount failed"
vfs_mount
cmp "$T/a.bin" "$MNT/names/b" || fail "names/b lost after a restart"
cmp "$T/b.bin" "$MNT/names/c" || fail "names/c lost after a restart"
for n in a renamed; do
	[ ! -e "$MNT/names/$n" ] || fail "names/$n came back after a restart"
done
[ "$(stat_get names)" = 2 ] || fail "stats names is $(stat_get names) after a restart, expected 2"

echo "PASS: rename"
