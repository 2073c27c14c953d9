#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# crash: kill -9 the daemon with 500 sealed objects and one half-written
# one, then mount again on the same (now stale) mount point and state dir:
# the sealed objects come back byte for byte with the same inode numbers,
# the unsealed one is discarded and the log says so.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

N=500
vfs_mount

# N objects of random sizes; their sha256 sums, as sha256sum -c reads them.
"$PY" - "$MNT/names" "$T/sums" "$N" <<'EOF' || fail "writing the objects failed"
import hashlib, random, sys
d, sums, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open("/dev/urandom", "rb") as r, open(sums, "w") as out:
    for i in range(n):
        data = r.read(random.randint(1, 65536))
        name = "f%03d" % i
        with open("%s/%s" % (d, name), "xb") as f:
            f.write(data)
        out.write("%s  %s\n" % (hashlib.sha256(data).hexdigest(), name))
EOF
wait_until "all $N objects sealed" stat_is blobs_sealed "$N"
wait_until "no unsealed blobs" stat_is blobs_unsealed 0
[ "$(stat_get objects)" = "$N" ] || fail "stats objects is $(stat_get objects), expected $N"
(cd "$MNT/names" && sha256sum -c --quiet "$T/sums") || fail "objects differ before the crash"

inodes()
{
	local n

	for n in f000 f001 f250 f499; do
		stat -c "%n %i" "$MNT/names/$n" "$MNT/objects/$(xattr_get user.vineyard.id "$MNT/names/$n")"
	done
}
inodes >"$T/inodes.before"

# A writer in the middle of an object: writes, then blocks on a fifo.
mkfifo "$T/fifo"
cat >"$T/writer.py" <<'EOF'
import os, sys
f = open(sys.argv[1], "xb")
f.write(os.urandom(5000))
f.flush()
open(sys.argv[2] + ".tmp", "w").close()
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
open(sys.argv[3]).read()
EOF
is_file()
{
	[ -e "$1" ]
}
bg_start "$PY" "$T/writer.py" "$MNT/names/partial" "$T/writing" "$T/fifo"
writer=$BG_PID
wait_until "the writer to write" is_file "$T/writing"
[ "$(stat_get blobs_unsealed)" = 1 ] || fail "stats blobs_unsealed is $(stat_get blobs_unsealed) with a writer, expected 1"

# What a client killed while it built an object leaves: a sealed Blob
# object under a .vfs-tmp-* name (see libvineyardfs(3)).
printf 'half an object' >"$MNT/names/.vfs-tmp-1234-deadbeef-0"
wait_sealed "$MNT/names/.vfs-tmp-1234-deadbeef-0"

# The crash.
pid=$(vfs_pid)
pid_is_daemon "$pid" || fail "no daemon with pid '$pid' from $STATE/lock"
kill -9 "$pid"
wait_until "daemon pid $pid to die" gone "$pid"
kill -9 "$writer"
wait "$writer" 2>/dev/null || true
is_mounted "$MNT" || fail "the killed daemon's mount went away by itself; the stale-mount case is not tested"

# Mount again over the stale mount, same state dir.
vfs_mount
[ "$(vfs_pid)" != "$pid" ] || fail "the lock file still names the dead daemon"
(cd "$MNT/names" && sha256sum -c --quiet "$T/sums") || fail "objects differ after the crash"
[ ! -e "$MNT/names/partial" ] || fail "the half-written names/partial survived the crash"
[ ! -e "$MNT/names/.vfs-tmp-1234-deadbeef-0" ] || fail "a client's temporary object survived the restart"
grep -q "removed 1 temporary object that clients left unfinished" "$STATE/vineyardfs.log" ||
	fail "the removal of a client's temporary object is not logged"
[ "$(stat_get objects)" = "$N" ] || fail "stats objects is $(stat_get objects) after the crash, expected $N"
[ "$(stat_get blobs_sealed)" = "$N" ] || fail "stats blobs_sealed is $(stat_get blobs_sealed) after the crash, expected $N"
[ "$(stat_get blobs_unsealed)" = 0 ] || fail "stats blobs_unsealed is $(stat_get blobs_unsealed) after the crash"
n=$(find "$MNT/names" -mindepth 1 | wc -l)
[ "$n" = "$N" ] || fail "names/ lists $n entries, expected $N"
n=$(find "$MNT/blobs" -mindepth 1 | wc -l)
[ "$n" = "$N" ] || fail "blobs/ lists $n entries, expected $N"
inodes >"$T/inodes.after"
diff "$T/inodes.before" "$T/inodes.after" || fail "inode numbers changed across the restart"

# The last two checks are reported together.
problems=
n=$(awk -v p="$MNT" '$2 == p' /proc/self/mounts | wc -l)
[ "$n" = 1 ] ||
	problems="$problems; $MNT is mounted $n times: the stale mount was not detached but mounted over"
# N objects, and the client's temporary (removed after the reconcile).
if ! grep -q "reconciled: $((N + 1)) sealed blobs kept, 1 unsealed discarded" "$STATE/vineyardfs.log"; then
	where=$(grep -h "reconciled:" "$STATE.mount-stderr" "$STATE/vineyardfs.log" | tail -n 1)
	problems="$problems; $STATE/vineyardfs.log has no 'reconciled: $((N + 1)) sealed blobs kept, 1 unsealed discarded' line (the last reconcile line, from the mount command's stderr or the log: '$where')"
fi
[ -z "$problems" ] || fail "${problems#; }"

echo "PASS: crash"
