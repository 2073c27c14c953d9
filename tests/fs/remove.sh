#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# remove: rm of a name and rmdir of an object directory remove the object,
# its names and its blob; a blob still open or mapped stays readable and
# its memory is freed only when the last user lets go. rm -r of an object
# directory deletes the object and the members only it held (a DataFrame
# and its unshared column), not one another object holds (EBUSY, nothing
# hidden); a crash between its unlinks and its rmdir loses nothing.
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

pid_gone()
{
	! pid_alive "$1"
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

# ---- rm -r objects/o…: the object, and the members only it held ----
# Two 1 MiB float64 columns: c1 is df1's alone, c2 is df1's and df2's.
"$PY" -c '
import numpy as np, sys
np.arange(131072, dtype=np.float64).tofile(sys.argv[1])
(np.arange(131072, dtype=np.float64) * -1).tofile(sys.argv[2])' "$MNT/names/raw1" "$MNT/names/raw2"
wait_sealed "$MNT/names/raw1"
wait_sealed "$MNT/names/raw2"
cp "$MNT/names/raw1" "$T/c1.bin"
cp "$MNT/names/raw2" "$T/c2.bin"
b1=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/raw1")
b2=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/raw2")
tensor()
{
	id_of "$(ctl '{"op":"create","typename":"Tensor","fields":{"value_type_":"float64","shape_":[131072]},"members":{"buffer_":"'"$1"'"}}')"
}
c1=$(tensor "$b1")
c2=$(tensor "$b2")
[ -n "$c1" ] || fail "creating the Tensor over $b1 failed"
[ -n "$c2" ] || fail "creating the Tensor over $b2 failed"
# The Tensors hold the blobs now; the Blob objects that wrote them go.
rm "$MNT/names/raw1" "$MNT/names/raw2" || fail "rm names/raw1 names/raw2 failed"
df1=$(id_of "$(ctl '{"op":"create","typename":"DataFrame","fields":{"columns_":["a","b"]},"members":{"a":"'"$c1"'","b":"'"$c2"'"},"name":"df1"}')")
df2=$(id_of "$(ctl '{"op":"create","typename":"DataFrame","fields":{"columns_":["b"]},"members":{"b":"'"$c2"'"},"name":"df2"}')")
[ -n "$df1" ] || fail "creating DataFrame df1 failed"
[ -n "$df2" ] || fail "creating DataFrame df2 failed"
# The entries of a directory of the mount, sorted, on one line: what ls
# shows (and rm -r finds) there. Ids and member names need no quoting.
entries()
{
	# shellcheck disable=SC2012
	ls -A "$MNT/$1" | sort | tr '\n' ' '
}
[ "$(entries "objects/$df1")" = "a b meta.json " ] || fail "objects/$df1 holds '$(entries "objects/$df1")'"
[ "$(entries "objects/$c2")" = "buffer_ meta.json " ] || fail "objects/$c2 holds '$(entries "objects/$c2")'"
[ "$(readlink "$MNT/objects/$df1/a")" = "../$c1" ] || fail "objects/$df1/a is not a link to ../$c1"
[ "$(stat_get objects)" = 4 ] || fail "stats objects is $(stat_get objects) with two frames of two columns, expected 4"
[ "$(stat_get blobs)" = 2 ] || fail "stats blobs is $(stat_get blobs), expected 2"
used=$(stat_get memory_used_bytes)
[ "$used" -ge 2097152 ] || fail "memory_used_bytes is $used with two 1 MiB blobs"

# c2 is held by df2: rm -r fails with EBUSY at its first entry and hides nothing.
must_fail "Device or resource busy" rm -r "$MNT/objects/$c2"
[ "$(entries "objects/$c2")" = "buffer_ meta.json " ] || fail "a refused rm -r left objects/$c2 holding '$(entries "objects/$c2")'"
[ "$(xattr_get user.vineyard.state "$MNT/objects/$c2")" = live ] || fail "a refused rm -r marked $c2"
cmp "$MNT/objects/$c2/buffer_" "$T/c2.bin" || fail "objects/$c2/buffer_ changed after a refused rm -r"
# Someone who may not delete df2: EACCES, from the kernel (the directory is
# 0755) or, on a directory anyone may write, from the daemon.
must_fail "Permission denied" runuser -u nobody -- rm -r "$MNT/objects/$df2"
open_id=$(id_of "$(ctl '{"op":"create","typename":"Scalar","fields":{"type_":"int8","value_":1},"mode":438}')")
[ "$(stat -c %a "$MNT/objects/$open_id")" = 777 ] || fail "objects/$open_id is not mode 777"
must_fail "Permission denied" runuser -u nobody -- rm -r "$MNT/objects/$open_id"
[ "$(entries "objects/$open_id")" = "meta.json " ] || fail "nobody's rm -r hid objects/$open_id/meta.json"
[ "$(entries "objects/$df2")" = "b meta.json " ] || fail "nobody's rm -r left objects/$df2 holding '$(entries "objects/$df2")'"
rmdir "$MNT/objects/$open_id" || fail "rmdir objects/$open_id failed"

# A file open on c1's blob across the rm -r: it still reads its bytes.
mkdir "$T/h1"
bg_start "$PY" "$T/holder.py" "$MNT/objects/$df1/a/buffer_" "$T/c1.bin" "$T/h1"
holder=$BG_PID
wait_until "the holder to open objects/$df1/a/buffer_" is_file "$T/h1/held"
out=$(rm -r "$MNT/objects/$df1" 2>&1) || fail "rm -r objects/$df1 failed: $out"
[ -z "$out" ] || fail "rm -r objects/$df1 printed: $out"
# df1, and c1 with its blob, are gone; c2 and df2 stay whole.
for x in "objects/$df1" "objects/$c1" "blobs/$b1" names/df1; do
	[ ! -e "$MNT/$x" ] || fail "$x exists after rm -r objects/$df1"
done
[ "$(entries objects)" = "$(printf '%s\n' "$c2" "$df2" | sort | tr '\n' ' ')" ] ||
	fail "objects/ lists '$(entries objects)' after rm -r, expected $c2 and $df2"
[ "$(entries blobs)" = "$b2 " ] || fail "blobs/ lists '$(entries blobs)' after rm -r, expected $b2"
[ "$(stat_get objects)" = 2 ] || fail "stats objects is $(stat_get objects) after rm -r, expected 2"
[ "$(stat_get blobs)" = 1 ] || fail "stats blobs is $(stat_get blobs) after rm -r, expected 1"
cmp "$MNT/objects/$c2/buffer_" "$T/c2.bin" || fail "the shared column's bytes changed"
cmp "$MNT/names/df2/b/buffer_" "$T/c2.bin" || fail "df2's column does not read back"
"$PY" -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["typename"] == "DataFrame" and m["columns_"] == ["b"] and m["b"]["id"] == sys.argv[2], m
' "$MNT/names/df2/meta.json" "$c2" || fail "df2's meta.json is not whole"
touch "$T/h1/removed"
wait_until "the holder to read c1's blob after the rm -r" is_file "$T/h1/result"
[ "$(cat "$T/h1/result")" = ok ] || fail "reading c1's blob open across rm -r: $(cat "$T/h1/result")"
[ "$(stat_get memory_used_bytes)" -ge $((used - 65536)) ] ||
	fail "memory_used_bytes is $(stat_get memory_used_bytes) while c1's blob is still open (was $used)"
touch "$T/h1/close"
wait_until "the holder to close c1's blob" is_file "$T/h1/closed"
wait "$holder" || fail "the holder failed"
wait_until "memory_used_bytes to lose c1's 1 MiB" used_at_most $((used - 1048576))

# An unlink inside objects/df2, then a crash before the rmdir: df2 comes
# back whole; nothing was written.
rm "$MNT/objects/$df2/meta.json" || fail "rm objects/$df2/meta.json failed"
[ ! -e "$MNT/objects/$df2/meta.json" ] || fail "objects/$df2/meta.json is still there after its rm"
[ "$(entries "objects/$df2")" = "b " ] || fail "objects/$df2 holds '$(entries "objects/$df2")' after rm of meta.json"
[ "$(xattr_get user.vineyard.state "$MNT/objects/$df2")" = removing ] || fail "df2 is not marked removing"
cmp "$MNT/objects/$df2/b/buffer_" "$T/c2.bin" || fail "df2's column does not read back while df2 is being removed"
pid=$(vfs_pid)
pid_is_daemon "$pid" || fail "no daemon with pid '$pid' from $STATE/lock"
kill -9 "$pid"
wait_until "daemon pid $pid to die" pid_gone "$pid"
vfs_mount
[ "$(entries "objects/$df2")" = "b meta.json " ] || fail "after a restart objects/$df2 holds '$(entries "objects/$df2")'"
[ "$(xattr_get user.vineyard.state "$MNT/objects/$df2")" = live ] || fail "df2 is still marked after a restart"
[ "$(stat_get objects)" = 2 ] || fail "stats objects is $(stat_get objects) after the restart, expected 2"
cmp "$MNT/names/df2/b/buffer_" "$T/c2.bin" || fail "df2's column does not read back after the restart"
grep -q '"columns_"' "$MNT/objects/$df2/meta.json" || fail "df2's meta.json is not back"
# Now to the end: df2 and c2 with it.
rm -r "$MNT/objects/$df2" || fail "rm -r objects/$df2 failed"
empty_dir objects
empty_dir blobs
empty_dir names
[ "$(stat_get objects)" = 0 ] || fail "stats objects is $(stat_get objects) after the last rm -r, expected 0"

echo "PASS: remove"
