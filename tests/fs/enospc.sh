#!/bin/bash
# enospc: a write past --memory fails with ENOSPC, and so does a
# fallocate(2) past it (which reserves memory; EPERM on sealed data, no
# hole punching); at close the partial object is discarded (logged, counted, its memory freed) while the other
# objects stay intact and new ones can be written. Once with passthrough
# (the kernel writes to tmpfs) and once with --no-passthrough (the daemon
# does).
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

head -c 1048576 /dev/urandom >"$T/one"
head -c 1048576 /dev/urandom >"$T/two"

not_exists()
{
	[ ! -e "$1" ]
}

used_below()
{
	[ "$(stat_get memory_used_bytes "$1")" -lt "$2" ]
}

# run_case STATE MNT DATA_PATH [mount options]
run_case()
{
	local state=$1 mnt=$2 path=$3 out

	shift 3
	vfs_mount_at "$state" "$mnt" --memory 8M "$@"
	[ "$(stat_get data_path "$mnt")" = "$path" ] ||
		fail "data_path is $(stat_get data_path "$mnt"), expected $path"
	cp "$T/one" "$mnt/names/keep"
	wait_sealed "$mnt/names/keep"

	out=$(dd if=/dev/zero of="$mnt/names/big" bs=1M count=20 2>&1) &&
		fail "[$path] dd of 20 MiB into an 8 MiB store succeeded: $out"
	case $out in
	*"No space left on device"*) ;;
	*) fail "[$path] dd failed without 'No space left on device': $out" ;;
	esac

	wait_until "[$path] names/big to be discarded" not_exists "$mnt/names/big"
	wait_until "[$path] memory_used_bytes below 2 MiB" used_below "$mnt" 2097152
	grep -q "discarded" "$state/vineyardfs.log" || fail "[$path] the log does not mention the discard"
	[ "$(stat_get discards "$mnt")" -ge 1 ] || fail "[$path] stats discards is $(stat_get discards "$mnt")"
	[ "$(stat_get objects "$mnt")" = 1 ] || fail "[$path] stats objects is $(stat_get objects "$mnt"), expected 1"
	[ "$(stat_get blobs_unsealed "$mnt")" = 0 ] || fail "[$path] stats blobs_unsealed is not 0"
	[ "$(ls "$mnt/names")" = keep ] || fail "[$path] names/ lists '$(ls "$mnt/names")', expected keep"
	cmp "$T/one" "$mnt/names/keep" || fail "[$path] names/keep changed"

	cp "$T/two" "$mnt/names/after" || fail "[$path] cannot write a 1 MiB object after the discard"
	wait_sealed "$mnt/names/after"
	cmp "$T/two" "$mnt/names/after" || fail "[$path] names/after differs from what was written"
	[ "$(stat_get objects "$mnt")" = 2 ] || fail "[$path] stats objects is $(stat_get objects "$mnt"), expected 2"
	if [ "$path" = fallback ]; then
		[ "$(stat_get writes_served "$mnt")" -gt 0 ] || fail "[$path] the daemon served no writes"
	else
		[ "$(stat_get writes_served "$mnt")" = 0 ] || fail "[$path] the daemon served writes in passthrough mode"
	fi

	# fallocate(2) reserves memory up front (so a writer through a mapping
	# fails at once rather than with SIGBUS later), and counts it.
	fallocate -l 3M "$mnt/names/reserved" || fail "[$path] fallocate of 3 MiB failed"
	[ "$(stat -c %s "$mnt/names/reserved")" = 3145728 ] || fail "[$path] fallocate did not set the size"
	wait_sealed "$mnt/names/reserved"
	[ "$(stat -c %s "$mnt/names/reserved")" = 3145728 ] || fail "[$path] the reserved blob sealed at another size"
	must_fail "No space left on device" fallocate -l 20M "$mnt/names/toobig"
	must_fail "Operation not permitted" fallocate -l 4M "$mnt/names/reserved"
		exec 6>"$mnt/names/holes"
	must_fail "unsupported" fallocate -p -o 0 -l 4096 "$mnt/names/holes" 6>&-
	exec 6>&-
	wait_until "[$path] names/toobig to be discarded" not_exists "$mnt/names/toobig"
}

run_case "$STATE" "$MNT" passthrough
mkdir "$T/mnt2" "$T/state2"
run_case "$T/state2" "$T/mnt2" fallback --no-passthrough

echo "PASS: enospc"
