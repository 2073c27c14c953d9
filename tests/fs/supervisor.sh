#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# supervisor: "mount --supervise" keeps the mount alive across a crash of
# its daemon. With objects stored, a reader holding a blob open (a shell
# descriptor and a Python mmap), a directory listing and the control file
# open, a wait parked on .vineyardfs/ctl and a prober calling statfs, stat
# and readdir without pause, the worker is killed with
# SIGKILL (twice). The supervisor starts a new worker on the same /dev/fuse
# connection: nobody sees ENOTCONN or any other error, the reader goes on
# reading the right bytes, the parked wait is answered after the restart
# (the kernel resends it to the new worker), ls, cat meta.json and
# getfattr work, new objects can be written; then "vineyardfs umount"
# ends the worker and the supervisor and the mount is gone.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

SUP= # the supervisor's pid, for vfs_cleanup_supervised
trap vfs_cleanup_supervised EXIT

vfs_mount --supervise
worker=$(vfs_pid)
SUP=$(sed -n 's/^supervisor \([0-9][0-9]*\)$/\1/p' "$STATE/lock")
pid_is_daemon "$worker" || fail "no worker with pid '$worker' from $STATE/lock"
pid_is_daemon "$SUP" || fail "no supervisor line in $STATE/lock: $(cat "$STATE/lock")"
[ "$(awk '$1 == "PPid:" { print $2 }' "/proc/$worker/status")" = "$SUP" ] ||
	fail "worker $worker is not a child of supervisor $SUP"
[ "$(stat_get pid)" = "$worker" ] || fail "stats names pid $(stat_get pid), not the worker $worker"
[ "$(stat_get data_path)" = "$DATA_PATH" ] || fail "data path $(stat_get data_path), expected $DATA_PATH"

# Objects, and their sums.
"$PY" - "$MNT/names" "$T/sums" <<'EOF' || fail "writing the objects failed"
import hashlib, os, sys
d, sums = sys.argv[1], sys.argv[2]
with open(sums, "w") as out:
    for i, size in enumerate([1, 4096, 65537, 1 << 20, 8 << 20]):
        data = os.urandom(size)
        with open("%s/f%d" % (d, i), "xb") as f:
            f.write(data)
        out.write("%s  f%d\n" % (hashlib.sha256(data).hexdigest(), i))
EOF
for i in $(seq -w 0 299); do
	printf '%s' "$i" >"$MNT/names/g$i"
done
wait_until "305 objects sealed" stat_is blobs_sealed 305
cp "$MNT/names/f4" "$T/f4"
id4=$(xattr_get user.vineyard.id "$MNT/names/f4")

# A shell holds f4 open and has read its first 4 KiB.
exec 3<"$MNT/names/f4"
dd bs=4096 count=1 <&3 >"$T/f4.head" 2>/dev/null

# A Python reader holds f4 open and mapped, reads half, and waits for go.
cat >"$T/reader.py" <<'EOF'
import hashlib, mmap, os, sys, time
path, ready, go, out = sys.argv[1:5]
fd = os.open(path, os.O_RDONLY)
size = os.fstat(fd).st_size
m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
first = os.read(fd, size // 2)
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
rest = b""
while True:
    b = os.read(fd, 1 << 20)
    if not b:
        break
    rest += b
want = open(sys.argv[5], "rb").read()
res = "ok" if first + rest == want and m[:] == want else "bytes differ"
with open(out + ".tmp", "w") as f:
    f.write(res)
os.rename(out + ".tmp", out)
EOF
bg_start "$PY" "$T/reader.py" "$MNT/names/f4" "$T/reader.ready" "$T/reader.go" "$T/reader.out" "$T/f4"
reader=$BG_PID
wait_until "the reader to map f4" exists "$T/reader.ready"

# Descriptors opened before the crash and used after it: a listing of
# names/ read in part (its handle is opened again by the new worker), and
# .vineyardfs/ctl opened but not written yet.
cat >"$T/late.py" <<'EOF'
import os, sys, time
mnt, ready, go, out = sys.argv[1:5]
it = os.scandir(mnt + "/names")
first = [next(it).name for _ in range(10)]
ctl = os.open(mnt + "/.vineyardfs/ctl", os.O_RDWR)
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
names = first + [e.name for e in it]
os.write(ctl, b'{"op":"wait","name":"f0","timeout_ms":1000}')
reply = os.read(ctl, 65536).decode()
with open(out + ".tmp", "w") as f:
    f.write("%d %d %s" % (len(names), len(set(names)), reply))
os.rename(out + ".tmp", out)
EOF
bg_start "$PY" "$T/late.py" "$MNT" "$T/late.ready" "$T/late.go" "$T/late.out"
late=$BG_PID
wait_until "the listing and ctl to be open" exists "$T/late.ready"

# A wait parked in the daemon, answered only once names/later exists.
cat >"$T/wait.py" <<'EOF'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.write(fd, b'{"op":"wait","name":"later"}')
try:
    out = os.read(fd, 65536).decode()
except OSError as e:
    out = errno.errorcode.get(e.errno, str(e.errno))
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(out)
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
EOF
bg_start "$PY" "$T/wait.py" "$MNT/.vineyardfs/ctl" "$T/wait.out"
waiter=$BG_PID
wait_until "the wait to be parked" stat_is requests_waiting 1

# A prober: statfs (always answered by the daemon) and stat of an object,
# without pause, until told to stop; it reports errors and the longest call.
cat >"$T/probe.py" <<'EOF'
import os, sys, time
mnt, stop, out = sys.argv[1:4]
errors, worst, calls = [], 0.0, 0
while not os.path.exists(stop):
    for call in (lambda: os.statvfs(mnt), lambda: os.stat(mnt + "/names/f0"),
                 lambda: os.listdir(mnt + "/names")):
        t = time.monotonic()
        try:
            call()
        except OSError as e:
            errors.append("%s: %s" % (type(e).__name__, e))
        worst = max(worst, time.monotonic() - t)
        calls += 1
with open(out + ".tmp", "w") as f:
    f.write("calls %d worst_ms %.1f errors %d\n%s" % (calls, worst * 1000, len(errors),
        "\n".join(errors[:10])))
os.rename(out + ".tmp", out)
EOF
bg_start "$PY" "$T/probe.py" "$MNT" "$T/probe.stop" "$T/probe.out"
prober=$BG_PID

# The crash.
old=$worker
crash_worker
[ "$(awk '$1 == "PPid:" { print $2 }' "/proc/$worker/status")" = "$SUP" ] ||
	fail "the new worker $worker is not a child of supervisor $SUP"
grep -q "worker $old was killed by signal 9" "$STATE/vineyardfs.log" ||
	fail "the supervisor did not log the worker's death"
grep -q "worker 2 took over the connection" "$STATE/vineyardfs.log" ||
	fail "the new worker did not log taking over"
[ "$(stat_get data_path)" = "$DATA_PATH" ] || fail "data path after the restart: $(stat_get data_path)"

# The wait was resent to the new worker and is parked there.
wait_until "the resent wait to be parked again" stat_is requests_waiting 1
[ ! -e "$T/wait.out" ] || fail "the wait was answered before its name existed: $(cat "$T/wait.out")"

# What a user does after the restart.
(cd "$MNT/names" && sha256sum -c --quiet "$T/sums") || fail "objects differ after the restart"
[ "$(ls "$MNT/names" | wc -l)" = 305 ] || fail "ls names/ after the restart: $(ls "$MNT/names" | wc -l) entries"
grep -q '"typename"' "$MNT/objects/$id4/meta.json" || fail "cat meta.json after the restart failed"
[ "$(xattr_get user.vineyard.typename "$MNT/names/f4")" = Blob ] || fail "getfattr after the restart failed"
ls -l "$MNT/objects" "$MNT/blobs" >/dev/null || fail "ls -l objects blobs after the restart failed"

# The shell's descriptor goes on where it was.
cat <&3 >"$T/f4.tail" || fail "reading the held descriptor after the restart failed"
exec 3<&-
cat "$T/f4.head" "$T/f4.tail" | cmp - "$T/f4" || fail "the held descriptor read wrong bytes after the restart"
touch "$T/reader.go"
wait_until "the Python reader to finish" exists "$T/reader.out"
[ "$(cat "$T/reader.out")" = ok ] || fail "the Python reader: $(cat "$T/reader.out")"

touch "$T/late.go"
wait_until "the listing and ctl to be used" exists "$T/late.out"
read -r n uniq reply <"$T/late.out"
[ "$n" = 305 ] && [ "$uniq" = 305 ] ||
	fail "the listing begun before the restart gave $n entries ($uniq distinct), expected 305"
case $reply in
*'"ok":true'*) ;;
*) fail "ctl opened before the restart and written after it: $reply" ;;
esac

# A new object answers the parked wait.
echo "after the restart" >"$MNT/names/later"
wait_until "the wait to be answered" exists "$T/wait.out"
grep -q '"ok":true' "$T/wait.out" || fail "the resent wait got: $(cat "$T/wait.out")"
[ "$(cat "$MNT/names/later")" = "after the restart" ] || fail "names/later reads wrong"

# A second crash, with the prober still going, and a byte stream whose
# inode the kernel keeps (streams live in memory, in the worker).
printf 'x' >"$MNT/streams/s0" || fail "writing stream s0 failed"
ino0=$(stat -c %i "$MNT/streams/s0") || fail "stat of stream s0 failed"
crash_worker "the second"
(cd "$MNT/names" && sha256sum -c --quiet "$T/sums") || fail "objects differ after the second restart"
# The new worker's first stream, an object stream (a directory), does not
# take s0's inode number, which the kernel may still hold as a file.
"$VINEYARDFS" stream push --mount "$MNT" --ids s1 f0 >/dev/null || fail "stream push after the restart failed"
ino1=$(stat -c %i "$MNT/streams/s1") || fail "stat of the new stream s1 failed"
[ -d "$MNT/streams/s1" ] && [ "$ino1" != "$ino0" ] || fail "the new stream s1 has inode $ino1, s0 had $ino0"
touch "$T/probe.stop"
wait_until "the prober to stop" exists "$T/probe.out"
read -r _ calls _ worst _ errors <"$T/probe.out"
[ "$errors" = 0 ] || fail "the prober saw errors during the restarts: $(cat "$T/probe.out")"
echo "prober: $calls calls, the longest took $worst ms (across two restarts)"

# umount ends the worker, then the supervisor (once the readers are gone:
# they may still be exiting after they wrote their results).
wait "$reader" "$waiter" "$prober" "$late"
"$VINEYARDFS" umount "$MNT" || fail "vineyardfs umount failed"
! is_mounted "$MNT" || fail "$MNT is still mounted after umount"
pid_alive "$worker" && fail "worker $worker still runs after umount"
pid_alive "$SUP" && fail "supervisor $SUP still runs after umount"
grep -q "the file system is unmounted" "$STATE/vineyardfs.log" ||
	fail "the supervisor did not log the unmount"

echo "PASS: supervisor"
