#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# fuse_uring: FUSE over io_uring as the transport. With --fuse-uring on the
# stats say io_uring and requests come through the ring; with off, through
# /dev/fuse; the same work gives the same bytes, listings, xattrs and
# errno values on both, passthrough included, and a parked wait is
# answered late through the ring. auto never changes the module parameter
# (enable_uring N: /dev/fuse, and the reason says how to enable it); on
# sets it; on with --supervise is refused with a clear message.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

PARAM=/sys/module/fuse/parameters/enable_uring
if [ ! -e "$PARAM" ]; then
	echo "SKIP: the kernel has no FUSE over io_uring (CONFIG_FUSE_IO_URING)"
	exit 77
fi
# The parameter is the system's: put it back as it was.
WAS=$(cat "$PARAM")
trap 'echo "$WAS" >"$PARAM"; vfs_cleanup' EXIT
# This test chooses the transport of each mount itself.
unset VFS_TEST_FUSE_URING
FUSE_TRANSPORT=

# The same work on a mount; what a user sees, on stdout.
work()
{
	local m=$1 i

	head -c 4096 /dev/urandom >"$T/small"
	head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$T/big"
	for i in $(seq 1 50); do
		printf 'object %d\n' "$i" >"$m/names/o$i"
	done
	cp "$T/small" "$m/names/small"
	cp "$T/big" "$m/names/big"
	cmp "$T/small" "$m/names/small" || fail "small read back differs on $m"
	cmp "$T/big" "$m/names/big" || fail "big read back differs on $m"
	for i in 1 25 50; do cat "$m/names/o$i"; done
	# shellcheck disable=SC2012 # names and sizes, as a user lists them
	ls -l "$m/names" | awk 'NR > 1 { print $1, $5, $NF }'
	getfattr --absolute-names -n user.vineyard.sealed "$m/names/big" | tail -n +2
	cat "$m/names/missing" 2>&1 | sed "s|$m|MNT|"
	mkdir "$m/names/dir" 2>&1 | sed "s|$m|MNT|" || true
	rm "$m/names/o2"
	[ ! -e "$m/names/o2" ] || fail "o2 still there on $m"
	# A big read through the daemon (the payload buffer, not passthrough).
	dd if="$m/names/big" bs=1M iflag=direct 2>/dev/null | cmp - "$T/big" || fail "direct read differs on $m"
}

# on: the module parameter is set, the ring carries the requests.
echo N >"$PARAM"
vfs_mount --fuse-uring on
[ "$(cat "$PARAM")" = Y ] || fail "--fuse-uring on did not set $PARAM"
wait_until "the ring in use" stat_is fuse_transport io_uring
before=$(stat_get fuse_ring_requests)
work "$MNT" >"$T/on.out"
after=$(stat_get fuse_ring_requests)
[ "$after" -gt $((before + 100)) ] || fail "the work came through the ring: $before -> $after requests"
[ "$(stat_get data_path)" = passthrough ] || fail "no passthrough through the ring"
opens=$(stat_get passthrough_opens 2>/dev/null || echo 0)
: "$opens"

# A wait parked in the daemon: answered from its park thread, through the
# entry it holds, while other requests go on.
"$PY" - "$MNT/.vineyardfs/ctl" >"$T/wait.out" <<'EOF2' &
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.write(fd, b'{"op":"wait","name":"later"}')
sys.stdout.write(os.read(fd, 65536).decode())
EOF2
wpid=$!
VFS_BG+=("$wpid")
wait_until "a parked wait" stat_is requests_waiting 1
echo now >"$MNT/names/later"
wait "$wpid" || fail "the parked wait failed"
id=$(xattr_get user.vineyard.id "$MNT/names/later")
[ "$(cat "$T/wait.out")" = "{\"ok\":true,\"id\":\"$id\"}" ] || fail "the wait got: $(cat "$T/wait.out")"

# off: /dev/fuse, and it says why; the same work, the same output.
M2=$T/mnt2
mkdir "$M2"
vfs_mount_at "$T/state2" "$M2" --fuse-uring off
stat_is fuse_transport dev_fuse "$M2" || fail "off: transport $(stat_get fuse_transport "$M2")"
grep -q "^fuse_transport_reason disabled by --fuse-uring off" "$M2/.vineyardfs/stats" ||
	fail "off: no reason in the stats"
work "$M2" >"$T/off.out"
[ "$(stat_get fuse_ring_requests "$M2")" = 0 ] || fail "off: requests through a ring"
diff -u "$T/off.out" "$T/on.out" || fail "the ring and /dev/fuse differ (above)"
grep -q "No such file or directory" "$T/on.out" || fail "no ENOENT for a missing name: $(cat "$T/on.out")"

# auto never changes the parameter: N stays N, /dev/fuse, the reason says
# how. (A test running beside this one with --fuse-uring on may set it Y
# meanwhile: then only that this daemon did not is checked.)
echo N >"$PARAM"
M3=$T/mnt3
mkdir "$M3"
vfs_mount_at "$T/state3" "$M3" --fuse-uring auto
! grep -q "to Y for --fuse-uring on" "$T/state3/vineyardfs.log" || fail "auto changed $PARAM"
if [ "$(stat_get fuse_transport "$M3")" = dev_fuse ]; then
	grep -q "^fuse_transport_reason .*enable_uring" "$M3/.vineyardfs/stats" || fail "auto: no hint in the stats"
else
	[ "$(cat "$PARAM")" = Y ] || fail "auto used the ring while $PARAM is N"
fi
"$VINEYARDFS" umount "$M3" || fail "umount $M3"
# ... and with Y (the default mode) it uses the ring.
echo Y >"$PARAM"
vfs_mount_at "$T/state3" "$M3"
wait_until "auto: the ring in use" stat_is fuse_transport io_uring "$M3"
"$VINEYARDFS" umount "$M3" || fail "umount $M3"

# on with --supervise, and a bad mode: refused, saying why.
must_fail "--supervise" "$VINEYARDFS" mount --state-dir "$T/state4" --memory 64M --fuse-uring on --supervise "$M3"
must_fail "give auto, on or off" "$VINEYARDFS" mount --state-dir "$T/state4" --fuse-uring yes "$M3"

# The ring's mount unmounts cleanly, its daemon exits.
pid=$(stat_get pid)
"$VINEYARDFS" umount "$MNT" || fail "umount of the ring's mount"
pid_alive "$pid" && fail "the daemon $pid is alive after the unmount"
echo "PASS: fuse_uring"
