# shellcheck shell=bash
#
# lib.sh: sourced by every mount test. Gives each test a private temporary
# directory (so tests can run in parallel), mounts daemons in it, and tears
# everything down in an EXIT trap whatever happened: the FUSE mounts, any
# daemon still alive, the tmpfs each daemon leaves at STATE/mem, the files.
#
# Variables for the test: T (the private dir), MNT, STATE (the first
# daemon's mount point and state dir), PY (a python3 with numpy), DATA_PATH
# (passthrough, or fallback when VFS_MOUNT_OPTS has --no-passthrough).

set -eu

if [ ! -c /dev/fuse ]; then
	echo "SKIP: /dev/fuse is missing"
	exit 77
fi
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: mount tests need root"
	exit 77
fi
if [ -z "${VINEYARDFS:-}" ] || [ ! -x "$VINEYARDFS" ]; then
	echo "ERROR: set VINEYARDFS to the vineyardfs binary" >&2
	exit 99
fi

PY=/usr/bin/python3
# VFS_TEST_FUSE_URING=on|off|auto: the FUSE transport of the daemons the
# tests mount (unset: the default, auto). FUSE_TRANSPORT is what the stats
# must then say: io_uring, dev_fuse, or empty (not checked). Supervised
# daemons always use /dev/fuse (vineyardfs(8)).
FUSE_TRANSPORT=
case ${VFS_TEST_FUSE_URING:-} in
'' | auto) ;;
on)
	if [ ! -e /sys/module/fuse/parameters/enable_uring ]; then
		echo "SKIP: the kernel has no FUSE over io_uring (CONFIG_FUSE_IO_URING)"
		exit 77
	fi
	FUSE_TRANSPORT=io_uring ;;
off) FUSE_TRANSPORT=dev_fuse ;;
*)
	echo "ERROR: VFS_TEST_FUSE_URING must be on, off or auto" >&2
	exit 99 ;;
esac
# The data path the daemons are expected to use.
# shellcheck disable=SC2034 # read by the tests that source this file
case " ${VFS_MOUNT_OPTS:-} " in
*" --no-passthrough "*) DATA_PATH=fallback ;;
*) DATA_PATH=passthrough ;;
esac
TEST_NAME=$(basename "$0" .sh)

# Mount points and state dirs to clean up, and background processes to kill.
VFS_MNTS=()
VFS_STATES=()
VFS_BG=()

T=$(mktemp -d /tmp/vfs-test.XXXXXX)
# Other users (perms.sh runs as nobody) must be able to reach the mount.
chmod 0755 "$T"
MNT=$T/mnt
STATE=$T/state
mkdir "$MNT" "$STATE"

# Print a message and fail the test; the EXIT trap shows the daemon logs.
fail()
{
	echo "FAIL [$TEST_NAME]: $*" >&2
	exit 1
}

# Is $1 a mount point? Reads the mount table, so a dead FUSE mount (which
# answers ENOTCONN to stat) counts too.
is_mounted()
{
	awk -v p="$1" '$2 == p { found = 1 } END { exit !found }' /proc/self/mounts
}

# The pid recorded by the daemon of state dir $1 (default $STATE).
vfs_pid()
{
	local lock=${1:-$STATE}/lock

	[ -s "$lock" ] || return 1
	head -n 1 "$lock"
}

# Is pid $1 running? A zombie waiting for its reaper has exited, but only
# once every thread has: a killed daemon's main thread turns zombie first
# while another may still finish an I/O, holding its files (and the state
# dir's lock) until then.
pid_alive()
{
	local t st

	[ -n "$1" ] || return 1
	for t in /proc/"$1"/task/*/stat; do
		st=$(awk '{ print $3 }' "$t" 2>/dev/null) || continue
		[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ] && return 0
	done
	return 1
}

# For wait_until: does path $1 exist? Has process $1 ended (or is it a
# zombie)?
exists()
{
	[ -e "$1" ]
}
gone()
{
	! pid_alive "$1"
}

# poll_gone PID N: give process PID N times 50 ms to end (for cleanups,
# which must not fail as wait_until does); whether it has.
poll_gone()
{
	local i

	for i in $(seq "$2"); do
		pid_alive "$1" || return 0
		: "$i"
		sleep 0.05
	done
	! pid_alive "$1"
}

# Is pid $1 a running vineyardfs process (not a recycled pid)?
pid_is_daemon()
{
	pid_alive "$1" && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = vineyardfs ]
}

# vfs_mount_at STATE MNT [options]: start a daemon; returns when it is ready.
vfs_mount_at()
{
	local state=$1 mnt=$2

	shift 2
	case " ${VFS_STATES[*]} " in *" $state "*) ;; *) VFS_STATES+=("$state") ;; esac
	case " ${VFS_MNTS[*]} " in *" $mnt "*) ;; *) VFS_MNTS+=("$mnt") ;; esac
	# The command's own stderr (start-up messages, errors) goes to a file
	# beside the log, shown if the test fails.
	# VFS_MOUNT_OPTS (e.g. --no-passthrough) runs a test on the other data path.
	local ring=() want=$FUSE_TRANSPORT
	case " $* " in
	*" --supervise "*) want= ;;
	*) [ -z "${VFS_TEST_FUSE_URING:-}" ] || ring=(--fuse-uring "$VFS_TEST_FUSE_URING") ;;
	esac
	# shellcheck disable=SC2086 # split on purpose
	"$VINEYARDFS" mount --state-dir "$state" --memory 256M ${VFS_MOUNT_OPTS:-} "${ring[@]}" "$@" "$mnt" \
		2>>"$state.mount-stderr" ||
		fail "vineyardfs mount $* $mnt failed: $(cat "$state.mount-stderr")"
	is_mounted "$mnt" || fail "vineyardfs mount returned 0 but $mnt is not mounted"
	# The ring registers after INIT, which the first request triggers.
	[ -z "$want" ] || wait_until "the FUSE transport $want on $mnt" \
		grep -qx "fuse_transport $want" "$mnt/.vineyardfs/stats"
}

# vfs_mount [options]: the test's main daemon, on $MNT with $STATE.
vfs_mount()
{
	vfs_mount_at "$STATE" "$MNT" "$@"
}

# wait_until DESCRIPTION COMMAND...: poll COMMAND until it succeeds, for a
# bounded time (VFS_WAIT seconds, default 10), then fail.
wait_until()
{
	local what=$1 i=0 limit

	shift
	limit=$((${VFS_WAIT:-10} * 20))
	until "$@"; do
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || fail "timed out after ${VFS_WAIT:-10} s waiting for: $what"
		sleep 0.05
	done
}

# xattr_get NAME PATH: the value of one extended attribute.
xattr_get()
{
	getfattr --absolute-names --only-values -n "$1" "$2"
}

# Is the object behind path $1 sealed?
is_sealed()
{
	[ "$(xattr_get user.vineyard.sealed "$1" 2>/dev/null)" = true ]
}

# wait_sealed PATH: wait until the object or blob at PATH is sealed (the
# kernel's RELEASE that seals it comes just after the last close).
wait_sealed()
{
	wait_until "$1 to be sealed" is_sealed "$1"
}

# stat_get KEY [MNT]: one value from MNT/.vineyardfs/stats.
stat_get()
{
	local v

	v=$(awk -v k="$1" '$1 == k { print $2; found = 1 } END { exit !found }' \
		"${2:-$MNT}/.vineyardfs/stats") || fail "no '$1' in ${2:-$MNT}/.vineyardfs/stats"
	echo "$v"
}

# stat_is KEY VALUE [MNT]: for wait_until.
stat_is()
{
	[ "$(stat_get "$1" "${3:-$MNT}")" = "$2" ]
}

# must_fail TEXT COMMAND...: COMMAND must exit non-zero and print TEXT.
must_fail()
{
	local text=$1 out rc=0

	shift
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "'$*' succeeded, expected failure with '$text'"
	case $out in
	*"$text"*) ;;
	*) fail "'$*' failed (exit $rc) without '$text': $out" ;;
	esac
}

# hold_lib: SHIM, the LD_PRELOAD library of tests/fs/hold.c, which holds a
# daemon at a chosen point while a gate file exists.
hold_lib()
{
	SHIM=$(dirname "$VINEYARDFS")/tests/fs/.libs/libhold.so
	[ -f "$SHIM" ] || fail "$SHIM is missing (make check builds it)"
	# An ASan daemon accepts a preloaded library ahead of its runtime.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
}

# errno_check ERRNO CODE: succeeds when the python statements CODE (os,
# stat and errno imported) raise OSError ERRNO (a name such as EPERM); else
# prints what they did.
errno_check()
{
	"$PY" - "$1" "$2" <<'EOF'
import errno, os, stat, sys
want, code = sys.argv[1], sys.argv[2]
try:
    exec(code)
except OSError as e:
    got = errno.errorcode.get(e.errno, str(e.errno))
    if got != want:
        print("raised errno %s (%s, %s), expected %s" % (e.errno, got, e.strerror, want))
        sys.exit(1)
    sys.exit(0)
print("succeeded, expected %s" % want)
sys.exit(1)
EOF
}

# py_errno ERRNO CODE: errno_check, or fail.
py_errno()
{
	local out

	out=$(errno_check "$1" "$2") || fail "$2: $out"
}

# A port of 127.0.0.1 nobody listens on now.
free_port()
{
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# cached_kb FILE: the page cache of FILE's own inode, in KiB. cachestat(2)
# (Linux 6.5, older than passthrough) reads the mapping of the open file
# itself. fincore and mincore cannot tell: they mmap the file, and the mmap
# of a passthrough file maps the backing file, whose pages are all resident.
cached_kb()
{
	"$PY" - "$1" <<'EOF'
import ctypes, os, sys
SYS_cachestat = 451  # the same number on every architecture
class Range(ctypes.Structure):
    _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]
class Stat(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("cache", "dirty", "writeback", "evicted", "recently_evicted")]
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(sys.argv[1], os.O_RDONLY)
r, st = Range(0, 0), Stat()  # len 0: to the end of the file
if libc.syscall(SYS_cachestat, fd, ctypes.byref(r), ctypes.byref(st), 0) != 0:
    e = ctypes.get_errno()
    sys.exit("cachestat %s: %s" % (sys.argv[1], os.strerror(e)))
print(st.cache * os.sysconf("SC_PAGE_SIZE") >> 10)
EOF
}

# ctl REQUEST [USER]: the reply to one request to $MNT/.vineyardfs/ctl,
# written and read on one descriptor, as USER if given.
ctl()
{
	local as=()

	[ -z "${2:-}" ] || as=(runuser -u "$2" --)
	${as[@]+"${as[@]}"} "$PY" -c '
import sys
with open(sys.argv[1], "r+b", buffering=0) as f:
    f.write(sys.argv[2].encode("utf-8", "surrogateescape"))
    sys.stdout.write(f.read().decode())' "$MNT/.vineyardfs/ctl" "$1"
}

# id_of REPLY: the object id in a ctl reply.
id_of()
{
	echo "$1" | sed -n 's/.*"id":"\(o[0-9a-f]*\)".*/\1/p'
}

# Run in the background and kill at exit: bg_start COMMAND...; pid in BG_PID.
bg_start()
{
	"$@" &
	BG_PID=$!
	VFS_BG+=("$BG_PID")
}

# The FUSE connections of our mounts (their device minors, which name
# them in /sys/fs/fuse/connections), from the mount table.
vfs_connections()
{
	local m

	for m in "${VFS_MNTS[@]}"; do
		# Fields: id parent major:minor root point opts ... - fstype ...
		awk -v p="$m" '$5 == p {
			for (i = 7; i < NF; i++)
				if ($i == "-") {
					if ($(i + 1) ~ /^fuse/) { split($3, d, ":"); print d[2] }
					break
				}
		}' /proc/self/mountinfo
	done
}

# Abort FUSE connections $@: what a daemon left stuck ends with
# ECONNABORTED (a daemon thread or a caller waiting in the kernel for a
# request nobody will answer).
vfs_abort_connections()
{
	local c mounted=

	[ -d /sys/fs/fuse/connections ] || return 0
	if [ -z "$(ls /sys/fs/fuse/connections)" ] &&
		mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null; then
		mounted=1
	fi
	for c in "$@"; do
		[ -e "/sys/fs/fuse/connections/$c/abort" ] || continue
		echo "cleanup: aborting FUSE connection $c (something is stuck on it)" >&2
		echo 1 >"/sys/fs/fuse/connections/$c/abort"
	done
	[ -z "$mounted" ] || umount /sys/fs/fuse/connections
}

vfs_cleanup()
{
	local rc=$? i p s m f conns stuck=

	set +e
	trap - EXIT
	conns=$(vfs_connections)
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for s in "${VFS_STATES[@]}"; do
			for f in "$s.mount-stderr" "$s/vineyardfs.log"; do
				[ -s "$f" ] || continue
				echo "---- tail of $f ----" >&2
				tail -n 30 "$f" >&2
			done
		done
	fi
	# A killed process whose request went to a dead daemon waits for it
	# uninterruptibly: poll, bounded, and abort the connections if need be.
	for p in "${VFS_BG[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	for p in "${VFS_BG[@]}"; do
		poll_gone "$p" 100 || stuck=1
	done
	if [ -n "$stuck" ]; then
		# shellcheck disable=SC2086 # one minor per word
		vfs_abort_connections $conns
		stuck=
	fi
	for p in "${VFS_BG[@]}"; do
		wait "$p" 2>/dev/null
	done
	# Mounts may be stacked (a remount over a stale one): peel them all.
	for m in "${VFS_MNTS[@]}"; do
		for i in 1 2 3 4 5; do
			is_mounted "$m" || break
			timeout 30 "$VINEYARDFS" umount "$m" >/dev/null 2>&1 ||
				umount -l "$m" 2>/dev/null
		done
	done
	for s in "${VFS_STATES[@]}"; do
		p=$(vfs_pid "$s" 2>/dev/null)
		if pid_is_daemon "$p"; then
			kill -9 "$p" 2>/dev/null
			# Not our child: wait for it by polling, bounded; a
			# thread of it stuck in the kernel ends with an abort.
			if ! poll_gone "$p" 100; then
				# shellcheck disable=SC2086 # one minor per word
				vfs_abort_connections $conns
				poll_gone "$p" 100
			fi
		fi
		# A killed daemon leaves its dead FUSE mount behind.
		for m in "${VFS_MNTS[@]}"; do
			for i in 1 2 3 4 5; do
				is_mounted "$m" || break
				umount -l "$m" 2>/dev/null
			done
		done
		if is_mounted "$s/mem"; then
			umount "$s/mem" 2>/dev/null || umount -l "$s/mem"
		fi
	done
	# A daemon built with sanitizers reports to its log (and at exit, leaks).
	for s in "${VFS_STATES[@]}"; do
		for f in "$s.mount-stderr" "$s/vineyardfs.log"; do
			if [ -s "$f" ] && grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$f"; then
				echo "FAIL [$TEST_NAME]: sanitizer report in $f:" >&2
				grep -A 30 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$f" | head -n 60 >&2
				rc=1
			fi
		done
	done
	if awk -v t="$T/" 'index($2, t) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
		echo "WARNING: something is still mounted under $T; not removing it" >&2
		[ "$rc" -ne 0 ] || rc=1
	else
		rm -rf "$T"
	fi
	exit "$rc"
}

# For wait_until, under --supervise: does a worker other than $1 serve
# the mount at MNT (the lock file names it and so do its stats)?
new_worker()
{
	local p

	p=$(vfs_pid) && [ "$p" != "$1" ] && pid_is_daemon "$p" && stat_is pid "$p"
}

# crash_worker [WHEN]: kill the supervised worker $worker with SIGKILL,
# wait for it to end and for a new one to answer; worker is then the new
# one. The supervisor (SUP) must live on.
crash_worker()
{
	local old=$worker

	kill -9 "$old"
	wait_until "worker $old to end${1:+ ($1)}" gone "$old"
	wait_until "a new worker to answer${1:+ ($1)}" new_worker "$old"
	worker=$(vfs_pid)
	pid_alive "$SUP" || fail "the supervisor died with its worker"
}

# For tests that mount with --supervise, whose supervisor's pid is in SUP
# (it is not in the lock file's first line): stop it first on the way
# out, whatever happened (it unmounts), then vfs_cleanup; the exit status
# is kept (set +e: under set -e, "(exit $rc)" would end the shell).
vfs_cleanup_supervised()
{
	local rc=$?

	set +e
	if [ -n "${SUP:-}" ] && pid_alive "$SUP"; then
		kill -TERM "$SUP" 2>/dev/null
		poll_gone "$SUP" 100
	fi
	(exit "$rc")
	vfs_cleanup
}
trap vfs_cleanup EXIT
trap 'exit 1' HUP INT TERM
