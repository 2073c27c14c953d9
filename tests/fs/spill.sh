#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# spill: a store of 128 MiB with a spill directory takes 160 MiB of objects
# written with cp; the oldest leave memory for the spill dir and come back
# byte for byte when read (cmp); concurrent readers of a spilled object
# wait for one reload; pin, unpin, evict and load through the CLI and
# getfattr's user.vineyard.location; a complete byte stream's chunks held
# until it is removed; stats and `vineyardfs stat`; a daemon
# killed with SIGKILL in the middle of writing a spill file comes back with
# every object and no temp file left.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

SPILL=$T/spill
hold_lib
LD_PRELOAD=$SHIM VFS_HOLD_RENAME_GATE=$T/rgate vfs_mount --memory 128M --spill-dir "$SPILL"
[ "$(stat_get spill_dir)" = "$SPILL" ] || fail "stats spill_dir is $(stat_get spill_dir)"

# Ten objects of 16 MiB: 160 MiB through a 128 MiB store.
for i in 0 1 2 3 4 5 6 7 8 9; do
	head -c 16M /dev/urandom >"$T/src$i"
	cp "$T/src$i" "$MNT/names/f$i" || fail "cp of object $i failed (the spill did not keep up?)"
done
wait_until "all 10 objects sealed" stat_is blobs_sealed 10
gone_to_disk()
{
	[ "$(stat_get bytes_on_disk_only)" -gt 0 ]
}
under_high()
{
	[ "$(stat_get memory_used_bytes)" -le $((128 * 1048576 * 80 / 100)) ]
}
wait_until "objects to leave memory" gone_to_disk
wait_until "memory use under the high-water mark" under_high
[ "$(xattr_get user.vineyard.location "$MNT/names/f0")" = disk ] ||
	fail "the oldest object is $(xattr_get user.vineyard.location "$MNT/names/f0"), not on disk"
[ "$(xattr_get user.vineyard.location "$MNT/names/f9")" = memory ] ||
	fail "the newest object is $(xattr_get user.vineyard.location "$MNT/names/f9"), not in memory"
f0=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/f0")
[ "$(stat -c %s "$SPILL/$f0")" = $((16 * 1048576)) ] || fail "no spill file of 16 MiB for f0 in $SPILL"
[ "$(stat_get spill_errors)" = 0 ] || fail "spill errors: $(stat_get spill_errors)"

# Everything reads back, spilled or not.
for i in 0 1 2 3 4 5 6 7 8 9; do
	cmp "$T/src$i" "$MNT/names/f$i" || fail "object $i differs after a spill and reload"
done
[ "$(stat_get reloads)" -gt 0 ] || fail "no reloads counted"
[ "$(stat_get reload_errors)" = 0 ] || fail "reload errors: $(stat_get reload_errors)"

# Four readers of one spilled object at once: one reload.
"$VINEYARDFS" load --mount "$MNT" f3 >/dev/null || fail "vineyardfs load f3 failed"
[ "$(xattr_get user.vineyard.location "$MNT/names/f3")" = memory,disk ] || fail "f3 is not in memory after load"
"$VINEYARDFS" evict --mount "$MNT" f3 >"$T/evict.out" || fail "vineyardfs evict f3 failed"
grep -q "f3: evicted 1 blobs" "$T/evict.out" || fail "evict printed: $(cat "$T/evict.out")"
[ "$(xattr_get user.vineyard.location "$MNT/names/f3")" = disk ] || fail "f3 is not on disk after evict"
# Its memory is given back in the background (bytes_releasing), soon.
wait_until "the memory f3 held to be released" stat_is bytes_releasing 0
before=$(stat_get reloads)
pids=()
for i in 1 2 3 4; do
	cmp "$T/src3" "$MNT/names/f3" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "a concurrent reader of a spilled object read other bytes"
done
[ "$(stat_get reloads)" = $((before + 1)) ] || fail "4 concurrent readers made $(($(stat_get reloads) - before)) reloads"

# Pin: stays in memory, evict refuses; unpin: it may go; load: back.
"$VINEYARDFS" pin --mount "$MNT" f3 >/dev/null || fail "pin failed"
[ "$(xattr_get user.vineyard.pinned "$MNT/blobs/$(xattr_get user.vineyard.member.buffer_ "$MNT/names/f3")")" = true ] ||
	fail "the blob of f3 is not pinned"
must_fail "are open, pinned or being loaded" "$VINEYARDFS" evict --mount "$MNT" f3
[ "$(stat_get bytes_pinned)" = $((16 * 1048576)) ] || fail "stats bytes_pinned is $(stat_get bytes_pinned)"
"$VINEYARDFS" unpin --mount "$MNT" f3 >/dev/null || fail "unpin failed"
"$VINEYARDFS" evict --mount "$MNT" f3 >/dev/null || fail "evict after unpin failed"
"$VINEYARDFS" load --mount "$MNT" f3 >/dev/null || fail "load failed"
[ "$(xattr_get user.vineyard.location "$MNT/names/f3")" = memory,disk ] || fail "f3 is not in memory after load"
must_fail "Permission denied" runuser -u nobody -- "$VINEYARDFS" evict --mount "$MNT" f3
"$VINEYARDFS" stat --mount "$MNT" >"$T/stat.out" || fail "vineyardfs stat failed"
grep -q "^spill directory *$SPILL" "$T/stat.out" || fail "vineyardfs stat shows: $(cat "$T/stat.out")"
grep -q "^reloads " "$T/stat.out" || fail "vineyardfs stat shows no reloads: $(cat "$T/stat.out")"

# A complete byte stream serves its reads from its chunks, which it holds
# until streams/<name> is removed (with the stream's object): evict
# refuses them until then (their memory could not be freed), and the rm
# frees it.
head -c 20M /dev/urandom >"$T/bs"
cp "$T/bs" "$MNT/streams/bs" || fail "writing stream bs failed"
cmp "$T/bs" "$MNT/streams/bs" || fail "stream bs reads other bytes"
must_fail "are open, pinned or being loaded" "$VINEYARDFS" evict --mount "$MNT" bs
used=$(stat_get memory_used_bytes)
rm "$MNT/streams/bs" || fail "rm streams/bs failed"
freed()
{
	[ $((used - $(stat_get memory_used_bytes))) -ge $((20 * 1048576)) ]
}
wait_until "the memory of stream bs to be freed after its rm" freed
[ ! -e "$MNT/names/bs" ] || fail "names/bs is still there after rm streams/bs"

# A writer that reserves its size first (fallocate, as the Python client,
# the C library and vineyardfs put do) gets room made by spilling: 64 MiB,
# more than the headroom above the high-water mark.
head -c 64M /dev/urandom >"$T/big"
PYTHONPATH=$TESTS_SRCDIR/../python "$PY" -c '
import sys, numpy as np, vineyardfs
data = np.fromfile(sys.argv[2], dtype=np.uint8)
vineyardfs.Client(sys.argv[1]).put(data, name="big")' "$MNT" "$T/big" || fail "put of 64 MiB failed"
cmp "$T/big" "$MNT/names/big/buffer_" || fail "the big tensor holds other bytes"

# SIGKILL while a spill file is being written: the 64 MiB object evicted,
# the daemon held (tests/fs/hold.c) with the spill file written but not
# renamed into place, and killed there.
pid=$(vfs_pid)
pid_is_daemon "$pid" || fail "no daemon with pid '$pid'"
touch "$T/rgate"
bg_start "$VINEYARDFS" evict --mount "$MNT" big
evict=$BG_PID
held()
{
	[ -e "$T/rgate.held" ]
}
wait_until "the spill of big to be held before its rename" held
ls -A "$SPILL" | grep -q '^\.tmp-' || fail "the spill was held without a temp file in $SPILL"
kill -9 "$pid"
wait "$evict" 2>/dev/null || true
wait_until "daemon pid $pid to die" gone "$pid"
ls -A "$SPILL" | grep -q '^\.tmp-' || fail "no temp file was left by the kill: nothing was tested"

# No --spill-dir: the one remembered. Every object, no temp file. From
# here on, spill files are written ahead (--spill-ahead).
vfs_mount --memory 128M --spill-ahead
grep -q "spill files written ahead above it" "$STATE/vineyardfs.log" || fail "--spill-ahead is not logged"
[ "$(stat_get spill_dir)" = "$SPILL" ] || fail "the spill dir was not remembered: $(stat_get spill_dir)"
! ls -A "$SPILL" | grep -q '^\.tmp-' || fail "a temp file of the killed spill is still there"
grep -q "removed 1 files no spilled blob owns" "$STATE/vineyardfs.log" || fail "the cleanup is not logged"
cmp "$T/big" "$MNT/names/big/buffer_" || fail "the object being spilled at the kill differs"
for i in 0 1 2 3 4 5 6 7 8 9; do
	cmp "$T/src$i" "$MNT/names/f$i" || fail "object $i differs after the kill"
done
[ "$(stat_get objects)" = 11 ] || fail "stats objects is $(stat_get objects), expected 11 (10 Blobs, a Tensor)"

# Deleting a spilled object removes its spill file.
"$VINEYARDFS" evict --mount "$MNT" f5 >/dev/null || fail "evict f5 failed"
f5=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/f5")
[ -e "$SPILL/$f5" ] || fail "no spill file for f5"
rm "$MNT/names/f5"
[ ! -e "$SPILL/$f5" ] || fail "the spill file of the deleted f5 is still there"
# A snapshot of a store with spilled objects takes them from the spill
# dir; restored on a wiped state dir, every object is in memory and the
# restored store does not take over the old spill dir.
"$VINEYARDFS" evict --mount "$MNT" f6 >/dev/null || fail "evict f6 failed"
[ "$(stat_get bytes_on_disk_only)" -gt 0 ] || fail "nothing on disk only before the snapshot"
"$VINEYARDFS" snapshot create --mount "$MNT" "$T/snap" >/dev/null || fail "snapshot of a spilled store failed"
"$VINEYARDFS" umount "$MNT" || fail "umount failed"
umount "$STATE/mem"
rm -rf "$STATE"
mkdir "$STATE"
vfs_mount --memory 256M --restore "$T/snap"
[ "$(stat_get spill_dir)" = - ] || fail "the restored store uses spill dir $(stat_get spill_dir)"
[ "$(stat_get bytes_on_disk_only)" = 0 ] || fail "the restored store has bytes on disk only"
for i in 0 1 2 3 4 6 7 8 9; do
	cmp "$T/src$i" "$MNT/names/f$i" || fail "object $i differs after a snapshot of the spilled store"
done
cmp "$T/big" "$MNT/names/big/buffer_" || fail "the big tensor differs after the restore"
echo "PASS: spill"
