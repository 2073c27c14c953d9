#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# supervisor_spill: "mount --supervise --spill-dir". Objects a and b are
# held open from before a crash of the worker, a by a shell descriptor and
# b by a Python mapping whose descriptor is closed (the mapping alone
# holds the file); c is not held. After kill -9 of the worker (twice), the
# new worker counts those opens: `vineyardfs evict` refuses a and b (their
# location stays memory) and evicts c, and the held descriptor and the
# mapping read the right bytes. Once the holders let go (the kernel's
# RELEASE reaches the new worker), evict moves a and b to disk.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

SUP= # the supervisor's pid, for vfs_cleanup_supervised
# The held descriptor goes first, so that nothing holds the mount.
cleanup()
{
	local rc=$?

	set +e
	exec 5<&-
	(exit "$rc")
	vfs_cleanup_supervised
}
trap cleanup EXIT

SPILL=$T/spill
vfs_mount --supervise --spill-dir "$SPILL"
worker=$(vfs_pid)
SUP=$(sed -n 's/^supervisor \([0-9][0-9]*\)$/\1/p' "$STATE/lock")
pid_is_daemon "$SUP" || fail "no supervisor line in $STATE/lock: $(cat "$STATE/lock")"
[ "$(stat_get spill_dir)" = "$SPILL" ] || fail "stats spill_dir is $(stat_get spill_dir)"

for o in a b c; do
	head -c 1M /dev/urandom >"$T/$o"
	cp "$T/$o" "$MNT/names/$o" || fail "cp of $o failed"
done
wait_until "3 objects sealed" stat_is blobs_sealed 3

location()
{
	xattr_get user.vineyard.location "$MNT/names/$1"
}
busy()
{
	must_fail "are open, pinned or being loaded" "$VINEYARDFS" evict --mount "$MNT" "$1"
	[ "$(location "$1")" = memory ] || fail "$1 is $(location "$1") after a refused evict, not memory"
}
# The shell holds a open and has read its first 4 KiB.
exec 5<"$MNT/names/a"
dd bs=4096 count=1 <&5 >"$T/a.head" 2>/dev/null

# Python maps b, closes its descriptor, and waits for go.
cat >"$T/holder.py" <<'EOF'
import mmap, os, sys, time
path, ready, go, out, want = sys.argv[1:6]
fd = os.open(path, os.O_RDONLY)
m = mmap.mmap(fd, os.fstat(fd).st_size, prot=mmap.PROT_READ)
os.close(fd)
first = m[:4096]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
res = "ok" if m[:] == open(want, "rb").read() else "bytes differ"
m.close()
with open(out + ".tmp", "w") as f:
    f.write(res)
os.rename(out + ".tmp", out)
EOF
bg_start "$PY" "$T/holder.py" "$MNT/names/b" "$T/holder.ready" "$T/holder.go" "$T/holder.out" "$T/b"
holder=$BG_PID
wait_until "the holder to map b" exists "$T/holder.ready"

# The worker that saw the opens refuses, of course.
busy a
busy b

# After each crash the new worker counts what the kernel still holds.
crash_worker
grep -q "open files of earlier workers: 2 counted" "$STATE/vineyardfs.log" ||
	fail "the new worker did not count the 2 opens: $(grep 'open files of earlier' "$STATE/vineyardfs.log")"
busy a
busy b
crash_worker
[ "$(grep -c "open files of earlier workers: 2 counted" "$STATE/vineyardfs.log")" = 2 ] ||
	fail "the third worker did not count the 2 opens: $(grep 'open files of earlier' "$STATE/vineyardfs.log")"
busy a
busy b
"$VINEYARDFS" evict --mount "$MNT" c >"$T/evict.out" || fail "vineyardfs evict c failed"
grep -q "c: evicted 1 blobs" "$T/evict.out" || fail "evict c printed: $(cat "$T/evict.out")"
[ "$(location c)" = disk ] || fail "c is $(location c) after evict, not disk"

# The holders read the right bytes, then let go.
cat <&5 >"$T/a.tail" || fail "reading the held descriptor after the restarts failed"
cat "$T/a.head" "$T/a.tail" | cmp - "$T/a" || fail "the held descriptor read wrong bytes after the restarts"
exec 5<&-
touch "$T/holder.go"
wait_until "the holder to finish" exists "$T/holder.out"
[ "$(cat "$T/holder.out")" = ok ] || fail "the mapping of b: $(cat "$T/holder.out")"
wait "$holder"

# The RELEASEs reach the worker after the close: then evict succeeds.
evicted()
{
	"$VINEYARDFS" evict --mount "$MNT" "$1" >/dev/null 2>&1 && [ "$(location "$1")" = disk ]
}
wait_until "a to be evicted once released" evicted a
wait_until "b to be evicted once released" evicted b
cmp "$T/a" "$MNT/names/a" || fail "a differs after its eviction"
cmp "$T/b" "$MNT/names/b" || fail "b differs after its eviction"
[ "$(stat_get spill_errors)" = 0 ] || fail "spill errors: $(stat_get spill_errors)"

"$VINEYARDFS" umount "$MNT" || fail "vineyardfs umount failed"
! is_mounted "$MNT" || fail "$MNT is still mounted after umount"
pid_alive "$SUP" && fail "supervisor $SUP still runs after umount"

echo "PASS: supervisor_spill"
