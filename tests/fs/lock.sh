#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# lock: one daemon per state dir; "vineyardfs umount" and SIGTERM stop the
# daemon and unmount cleanly, leaving the data (the tmpfs at STATE/mem) for
# the next daemon.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

dead()
{
	! pid_alive "$1"
}

in_mount_list()
{
	mount | awk -v p="$1" '$3 == p { found = 1 } END { exit !found }'
}

vfs_mount
head -c 200000 /dev/urandom >"$T/data"
cp "$T/data" "$MNT/names/keep"
wait_sealed "$MNT/names/keep"
pid=$(vfs_pid)
pid_alive "$pid" || fail "no daemon with pid '$pid' from $STATE/lock"

# A second daemon on the same state dir refuses.
mkdir "$T/mnt2"
VFS_MNTS+=("$T/mnt2")
must_fail "in use" "$VINEYARDFS" mount --state-dir "$STATE" --memory 256M "$T/mnt2"
must_fail "pid $pid" "$VINEYARDFS" mount --state-dir "$STATE" --memory 256M "$T/mnt2"
! is_mounted "$T/mnt2" || fail "the refused second daemon mounted $T/mnt2"
[ "$(vfs_pid)" = "$pid" ] || fail "the refused second daemon changed the pid in $STATE/lock to $(vfs_pid)"
cmp "$T/data" "$MNT/names/keep" || fail "names/keep differs after the refused second mount"

# vineyardfs umount waits for the daemon to exit.
"$VINEYARDFS" umount "$MNT" || fail "vineyardfs umount $MNT failed"
pid_alive "$pid" && fail "daemon pid $pid still runs after vineyardfs umount returned"
in_mount_list "$MNT" && fail "mount still lists $MNT after vineyardfs umount"
is_mounted "$STATE/mem" || fail "the tmpfs at $STATE/mem was unmounted; the data should stay"

# Remount: the data is still there.
vfs_mount
cmp "$T/data" "$MNT/names/keep" || fail "names/keep differs after the remount"
[ "$(stat_get objects)" = 1 ] || fail "stats objects is $(stat_get objects) after the remount, expected 1"
pid=$(vfs_pid)
pid_alive "$pid" || fail "no daemon with pid '$pid' after the remount"

# SIGTERM unmounts cleanly.
kill -TERM "$pid"
wait_until "daemon pid $pid to exit after SIGTERM" dead "$pid"
is_mounted "$MNT" && fail "$MNT is still a mount point after the daemon exited on SIGTERM"
in_mount_list "$MNT" && fail "mount still lists $MNT after SIGTERM"
grep -q "unmounting" "$STATE/vineyardfs.log" || fail "the log does not record the unmount"

vfs_mount
cmp "$T/data" "$MNT/names/keep" || fail "names/keep differs after the restart that followed SIGTERM"

echo "PASS: lock"
