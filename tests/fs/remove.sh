#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# remove: rm of a name and rmdir of an object directory remove the object,
# its names and its blob; a blob still open or mapped stays readable and
# its memory is freed only when the last user lets go.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

vfs_mount
head -c 3145728 /dev/urandom >"$T/data"

used_at_most()
{
	[ "$(stat_get memory_used_bytes)" -le "$1" ]
}

is_file()
{
	[ -e "$1" ]
}

empty_dir()
{
	[ -z "$(ls -A "$MNT/$1")" ] || fail "$1 is not empty: $(ls -A "$MNT/$1")"
}

# rm names/x
cp "$T/data" "$MNT/names/x"
wait_sealed "$MNT/names/x"
oid=$(xattr_get user.vineyard.id "$MNT/names/x")
bid=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/x")
[ "$(stat_get memory_used_bytes)" -ge 3145728 ] || fail "memory_used_bytes $(stat_get memory_used_bytes) is below the 3 MiB object"
rm "$MNT/names/x" || fail "rm names/x failed"
[ ! -e "$MNT/names/x" ] || fail "names/x exists after rm"
[ ! -e "$MNT/objects/$oid" ] || fail "objects/$oid exists after rm names/x"
[ ! -e "$MNT/blobs/$bid" ] || fail "blobs/$bid exists after rm names/x"
empty_dir objects
empty_dir blobs
empty_dir names
[ "$(stat_get objects)" = 0 ] || fail "stats objects is $(stat_get objects) after rm, expected 0"
[ "$(stat_get blobs)" = 0 ] || fail "stats blobs is $(stat_get blobs) after rm, expected 0"
[ "$(stat_get deletes)" = 1 ] || fail "stats deletes is $(stat_get deletes), expected 1"
wait_until "memory_used_bytes <= 64 KiB after rm" used_at_most 65536

# A file open (fd and mapping) across its rm.
cp "$T/data" "$MNT/names/y"
wait_sealed "$MNT/names/y"
# A background job's stdin is /dev/null: the script goes in a file.
cat >"$T/holder.py" <<'EOF'
import mmap, os, sys, time
path, data, d = sys.argv[1:]

def wait_for(name):
    for _ in range(400):
        if os.path.exists(os.path.join(d, name)):
            return
        time.sleep(0.05)
    sys.exit("holder: timed out waiting for " + name)

def say(name, text=""):
    with open(os.path.join(d, name + ".tmp"), "w") as f:
        f.write(text)
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))

want = open(data, "rb").read()
fd = os.open(path, os.O_RDONLY)
m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
say("held")
wait_for("removed")
by_fd = os.pread(fd, len(want) + 1, 0)
by_map = m[:]
say("result", "ok" if by_fd == want and by_map == want else
    "bad: fd read %d bytes (%s), mapping %s" % (len(by_fd), by_fd == want, by_map == want))
wait_for("close")
m.close()
os.close(fd)
say("closed")
EOF
bg_start "$PY" "$T/holder.py" "$MNT/names/y" "$T/data" "$T"
holder=$BG_PID
wait_until "the holder to open names/y" is_file "$T/held"
rm "$MNT/names/y" || fail "rm names/y failed while it is open"
[ ! -e "$MNT/names/y" ] || fail "names/y exists after rm"
empty_dir objects
empty_dir blobs
[ "$(stat_get objects)" = 0 ] || fail "stats objects is $(stat_get objects) after rm of an open file"
touch "$T/removed"
wait_until "the holder to read names/y after its rm" is_file "$T/result"
[ "$(cat "$T/result")" = ok ] || fail "reading an open file after rm: $(cat "$T/result")"
used=$(stat_get memory_used_bytes)
[ "$used" -ge 3145728 ] || fail "memory_used_bytes is $used while the removed file is still open (expected >= 3 MiB)"
touch "$T/close"
wait_until "the holder to close names/y" is_file "$T/closed"
wait "$holder" || fail "the holder failed"
wait_until "memory_used_bytes <= 64 KiB after the last close" used_at_most 65536

# rmdir objects/o… removes the object and its name.
cp "$T/data" "$MNT/names/z"
wait_sealed "$MNT/names/z"
oid=$(xattr_get user.vineyard.id "$MNT/names/z")
bid=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/z")
rmdir "$MNT/objects/$oid" || fail "rmdir objects/$oid failed"
[ ! -e "$MNT/objects/$oid" ] || fail "objects/$oid exists after rmdir"
[ ! -e "$MNT/names/z" ] || fail "names/z exists after rmdir objects/$oid"
[ ! -e "$MNT/blobs/$bid" ] || fail "blobs/$bid exists after rmdir objects/$oid"
empty_dir objects
empty_dir blobs
empty_dir names
[ "$(stat_get objects)" = 0 ] || fail "stats objects is $(stat_get objects) after rmdir, expected 0"
[ "$(stat_get names)" = 0 ] || fail "stats names is $(stat_get names) after rmdir, expected 0"
wait_until "memory_used_bytes <= 64 KiB after rmdir" used_at_most 65536

echo "PASS: remove"
