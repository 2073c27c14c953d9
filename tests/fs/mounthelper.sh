#!/bin/bash
# mounthelper: mount.fuse.vineyardfs, mount(8)'s helper for the type
# fuse.vineyardfs. Called as mount(8) calls it, with fstab's options: the
# state dir from the source, --memory from memory=64M, --fuse-uring from
# fuse_uring=off, FUSE options passed
# on, fstab's own (_netdev, noauto, nofail) left out, an unknown daemon
# flag refused. Then, in a mount namespace of the test's own where the
# helper is in /sbin (a tmpfs over /usr/sbin, seen by nothing else),
# `mount -t fuse.vineyardfs` and an fstab line through `mount --fstab`.
. "$(dirname "$0")/lib.sh"

HELPER=$(cd "$(dirname "$VINEYARDFS")" && pwd)/mount.fuse.vineyardfs
[ -x "$HELPER" ] || fail "no $HELPER (make builds it)"
export VINEYARDFS

# As mount(8) calls it.
"$HELPER" "$STATE" "$MNT" -o memory=64M,_netdev,noauto,nofail,default_permissions,fuse_uring=off 2>"$T/helper.err" ||
	fail "mount.fuse.vineyardfs: $(cat "$T/helper.err")"
VFS_STATES+=("$STATE")
VFS_MNTS+=("$MNT")
is_mounted "$MNT" || fail "the helper returned 0 but $MNT is not mounted"
[ "$(stat_get memory_limit_bytes)" = $((64 << 20)) ] || fail "memory=64M gave $(stat_get memory_limit_bytes)"
findmnt -n -o FSTYPE "$MNT" | grep -q "fuse.vineyardfs" || fail "$MNT is $(findmnt -n -o FSTYPE "$MNT")"
[ "$(stat_get fuse_transport)" = dev_fuse ] || fail "fuse_uring=off gave $(stat_get fuse_transport)"
printf 'hi' >"$MNT/names/x"
[ "$(cat "$MNT/names/x")" = hi ] || fail "the store the helper mounted does not read back"
"$VINEYARDFS" umount "$MNT" || fail "umount"
# A value missing, an unknown argument: refused with a message.
must_fail "needs a value" "$HELPER" "$STATE" "$MNT" -o memory
must_fail "unknown argument" "$HELPER" "$STATE" "$MNT" --bogus
! is_mounted "$MNT" || fail "a refused helper call mounted"

# Through mount(8) and an fstab line, in a mount namespace of our own.
mkdir -p "$T/sbin" "$T/m2" "$T/st2" "$T/m3" "$T/st3"
cp "$HELPER" "$T/sbin/mount.fuse.vineyardfs"
VFS_STATES+=("$T/st2" "$T/st3")
printf '%s %s fuse.vineyardfs memory=32M,_netdev 0 0\n' "$T/st3" "$T/m3" >"$T/fstab"
cat >"$T/inner.sh" <<'INNER'
set -eu
T=$1
cleanup()
{
	"$VINEYARDFS" umount "$T/m2" 2>/dev/null || true
	"$VINEYARDFS" umount "$T/m3" 2>/dev/null || true
}
trap cleanup EXIT
mount -t tmpfs -o size=1M tmpfs /usr/sbin
cp "$T/sbin/mount.fuse.vineyardfs" /usr/sbin/
mount -t fuse.vineyardfs -o memory=48M "$T/st2" "$T/m2"
awk '$1 == "memory_limit_bytes" { print $2 }' "$T/m2/.vineyardfs/stats" >"$T/m2.limit"
mount --fstab "$T/fstab" "$T/m3"
awk '$1 == "memory_limit_bytes" { print $2 }' "$T/m3/.vineyardfs/stats" >"$T/m3.limit"
"$VINEYARDFS" umount "$T/m2"
"$VINEYARDFS" umount "$T/m3"
INNER
unshare -m --propagation private sh "$T/inner.sh" "$T" 2>"$T/ns.err" || fail "mount -t fuse.vineyardfs in a namespace: $(cat "$T/ns.err")"
[ "$(cat "$T/m2.limit")" = $((48 << 20)) ] || fail "mount -t gave memory $(cat "$T/m2.limit")"
[ "$(cat "$T/m3.limit")" = $((32 << 20)) ] || fail "the fstab line gave memory $(cat "$T/m3.limit")"
echo "PASS: mounthelper"
