# Shared by the benchmark scripts in bench/ (sourced, not run): finding the
# binary, a private work dir, building the C helpers, mounting daemons and
# taking everything down again in one EXIT trap (etcd and redis-server
# included: free ports, started and stopped here), medians and the FUSE
# request counter. Every mount a script makes lives under $WORK, which is removed with
# --one-file-system so that nothing still mounted is ever walked into.
# shellcheck shell=bash

export LC_ALL=C
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
WORK=
VFS=
VFS_STATES=()
VFS_MNTS=()
TMPFS_MNTS=()
REDIS_PID=
ETCD_PID=
TRACE_INST=
TRACEFS_MOUNTED=

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

note() {
	echo "${0##*/}: $*" >&2
}

# $VINEYARDFS, else ./vineyardfs; made absolute.
find_vineyardfs() {
	if [ -n "${VINEYARDFS:-}" ]; then
		VFS=$VINEYARDFS
	elif [ -x ./vineyardfs ]; then
		VFS=vineyardfs
	else
		die "no vineyardfs binary: set VINEYARDFS=/path/to/vineyardfs or run from the build dir"
	fi
	case $VFS in
	/*) ;;
	*) VFS=$PWD/${VFS#./} ;;
	esac
	[ -x "$VFS" ] || die "$VFS is not an executable"
}

# Root, /dev/fuse, the binary, $WORK and the EXIT trap.
bench_init() {
	[ "$(id -u)" -eq 0 ] || die "must run as root (mounts, drop_caches)"
	[ -c /dev/fuse ] || die "/dev/fuse is missing"
	find_vineyardfs
	command -v cc >/dev/null || die "cc not found"
	WORK=$(mktemp -d /tmp/vfsbench.XXXXXX)
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$WORK/bin"
}

# Compile bench/src/NAME.c into $WORK/bin/NAME; extra args go to cc.
build_helper() {
	local name=$1
	shift
	cc -O2 -o "$WORK/bin/$name" "$BENCH_DIR/src/$name.c" "$@" ||
		die "could not compile $BENCH_DIR/src/$name.c"
}

# The pid in STATE/lock if it is a live vineyardfs, else nothing.
vfs_pid() {
	local pid
	pid=$(cat "$1/lock" 2>/dev/null) || return 0
	case $pid in
	'' | *[!0-9]*) return 0 ;;
	esac
	if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = vineyardfs ]; then
		echo "$pid"
	fi
}

# vfs_mount STATE MNT [options...]: start a daemon; registered for cleanup.
vfs_mount() {
	local st=$1 mnt=$2
	shift 2
	mkdir -p "$st" "$mnt"
	VFS_STATES+=("$st")
	VFS_MNTS+=("$mnt")
	"$VFS" mount --state-dir "$st" "$@" "$mnt" 2>>"$WORK/mount.log" ||
		die "vineyardfs mount $* $mnt failed: $(tail -n 5 "$WORK/mount.log")"
}

# vfs_stop STATE MNT: unmount, make sure the daemon is gone, free STATE/mem.
vfs_stop() {
	local st=$1 mnt=$2 pid n
	if mountpoint -q "$mnt"; then
		"$VFS" umount "$mnt" 2>>"$WORK/mount.log" || true
	fi
	pid=$(vfs_pid "$st")
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		n=0
		while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	if mountpoint -q "$mnt"; then
		umount -l "$mnt" 2>/dev/null || true
	fi
	if mountpoint -q "$st/mem"; then
		umount "$st/mem" 2>/dev/null || umount -l "$st/mem" 2>/dev/null || true
	fi
}

# tmpfs_mount DIR SIZE: a private tmpfs for the baselines.
tmpfs_mount() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2,mode=0755" vfsbench "$1" || die "mount tmpfs $1"
	TMPFS_MNTS+=("$1")
}

tmpfs_umount() {
	if mountpoint -q "$1"; then
		umount "$1" 2>/dev/null || umount -l "$1" 2>/dev/null || true
	fi
}

bench_cleanup() {
	local rc=$? i left
	set +e
	trace_close
	# etcd first: members leaving then hear "connection refused" at once.
	etcd_stop
	if [ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
		kill "$REDIS_PID"
		wait "$REDIS_PID" 2>/dev/null
	fi
	for i in "${!VFS_STATES[@]}"; do
		vfs_stop "${VFS_STATES[$i]}" "${VFS_MNTS[$i]}"
	done
	for i in "${TMPFS_MNTS[@]}"; do
		tmpfs_umount "$i"
	done
	if [ -n "$TRACEFS_MOUNTED" ]; then
		umount "$TRACEFS_MOUNTED" 2>/dev/null
	fi
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		left=$(findmnt -rn -o TARGET | grep -F "$WORK/")
		if [ -n "$left" ]; then
			echo "${0##*/}: still mounted, $WORK left in place: $left" >&2
		else
			rm -rf --one-file-system "$WORK"
		fi
	fi
	exit "$rc"
}

# A free TCP port on 127.0.0.1 (one not listed by ss; the starts retry).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
			echo "$p"
			return
		fi
	done
}

# redis_start [options...]: a redis-server on 127.0.0.1:$PORT, no
# persistence, data in $WORK/redis; registered for cleanup.
redis_start() {
	local try n
	mkdir -p "$WORK/redis"
	for try in 1 2 3; do
		PORT=$(free_port)
		redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no \
			--dir "$WORK/redis" --logfile "$WORK/redis/log" --daemonize no "$@" &
		REDIS_PID=$!
		n=0
		while [ $n -lt 200 ] && kill -0 "$REDIS_PID" 2>/dev/null; do
			if [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ]; then
				return 0
			fi
			sleep 0.05
			n=$((n + 1))
		done
		kill "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
		REDIS_PID=
		note "redis-server did not start on port $PORT (try $try)"
	done
	die "could not start redis-server: $(tail -n 3 "$WORK/redis/log" 2>/dev/null)"
}

# etcd_start: Debian's etcd (ETCD_BIN, /usr/bin/etcd) on free ports of
# 127.0.0.1, its data in $WORK/etcd; sets ETCD_URL; registered for
# cleanup; returns once /health answers (bounded, 60 s).
etcd_start() {
	local bin=${ETCD_BIN:-/usr/bin/etcd} try n cport pport
	[ -x "$bin" ] || die "no $bin (Debian's etcd-server)"
	for try in 1 2 3; do
		cport=$(free_port)
		pport=$(free_port)
		ETCD_URL=http://127.0.0.1:$cport
		rm -rf "$WORK/etcd"
		"$bin" --name bench --data-dir "$WORK/etcd" \
			--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
			--listen-peer-urls "http://127.0.0.1:$pport" \
			--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
			--initial-cluster "bench=http://127.0.0.1:$pport" \
			--initial-cluster-state new >>"$WORK/etcd.log" 2>&1 &
		ETCD_PID=$!
		n=0
		while [ $n -lt 600 ] && kill -0 "$ETCD_PID" 2>/dev/null; do
			if curl -sf -m 2 "$ETCD_URL/health" >/dev/null 2>&1; then
				return 0
			fi
			sleep 0.1
			n=$((n + 1))
		done
		etcd_stop
		note "etcd did not start on port $cport (try $try)"
	done
	die "could not start etcd: $(tail -n 3 "$WORK/etcd.log" 2>/dev/null)"
}

etcd_stop() {
	[ -n "$ETCD_PID" ] || return 0
	kill "$ETCD_PID" 2>/dev/null || true
	wait "$ETCD_PID" 2>/dev/null || true
	ETCD_PID=
}

# prewarm MIB [huge]: have MIB MiB of memory backed by the host again
# before a timed run, with huge pages if asked (see src/prewarm.c); needs
# build_helper prewarm.
prewarm() {
	"$WORK/bin/prewarm" "$@" || die "prewarm $* failed"
}

# CPU time (user + system) used so far by process PID, in microseconds.
cpu_us() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", ($14 + $15) * 1e6 / hz }' "/proc/$1/stat"
}

# A "key value" line of MNT/.vineyardfs/stats.
vfs_stat() {
	awk -v k="$2" '$1 == k { print $2 }' "$1/.vineyardfs/stats"
}

# Wait (bounded, 120 s) until FILE's object is sealed.
wait_sealed() {
	local n=0
	until [ "$(getfattr --only-values -n user.vineyard.sealed "$1" 2>/dev/null)" = true ]; do
		[ $n -lt 12000 ] || die "$1 was not sealed after 120 s"
		sleep 0.01
		n=$((n + 1))
	done
}

# Wait (bounded, 120 s) until MNT's stats show blobs_unsealed 0; prints
# the wait in microseconds.
wait_unsealed_zero() {
	local t0 n=0 u q
	t0=$(now_us)
	while [ $n -lt 120000 ]; do
		# Sealed and committed: seals_queued counts seals whose SQLite
		# commit is still to come (older daemons lack it: empty).
		u=$(vfs_stat "$1" blobs_unsealed)
		q=$(vfs_stat "$1" seals_queued)
		if [ "$u" = 0 ] && [ "${q:-0}" = 0 ]; then
			echo $(($(now_us) - t0))
			return 0
		fi
		# Spin for the first polls (a seal takes microseconds), then sleep.
		[ $n -lt 100 ] || sleep 0.001
		n=$((n + 1))
	done
	die "$1: blobs_unsealed $(vfs_stat "$1" blobs_unsealed), seals_queued $(vfs_stat "$1" seals_queued) after 120 s"
}

now_us() {
	local t=$EPOCHREALTIME
	echo $((10#${t%.*} * 1000000 + 10#${t#*.}))
}

# The median of the numbers given as arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Floating-point arithmetic: calc 'EXPR' (awk syntax) → number with printf FMT.
calc() {
	awk "BEGIN { printf \"${2:-%.2f}\", $1 }"
}

# The "Cached:" figure of /proc/meminfo, in KiB.
cached_kib() {
	awk '$1 == "Cached:" { print $2 }' /proc/meminfo
}

drop_caches() {
	sync
	echo 1 >/proc/sys/vm/drop_caches
}

# ---- counting FUSE requests with the kernel's fuse tracepoints ----
# A private ftrace instance, filtered on one mount's connection, so other
# FUSE users on the machine are not counted. Optional: when tracefs or the
# fuse events are missing, trace_open says why and returns 1, and trace_on /
# trace_off say n/a. trace_open MNT again switches to another mount.
# TRACE_KB is the ring buffer size per CPU.
trace_open() {
	local mnt=$1 top dev major minor ev
	top=/sys/kernel/tracing
	if [ -z "$TRACE_INST" ]; then
		if [ ! -d "$top/events" ] && [ -d "$top" ] && [ -z "$TRACEFS_MOUNTED" ]; then
			mount -t tracefs nodev "$top" 2>/dev/null && TRACEFS_MOUNTED=$top
		fi
		if [ ! -d "$top/events/fuse/fuse_request_end" ]; then
			note "no fuse tracepoints in $top: FUSE request counts skipped"
			return 1
		fi
		mkdir "$top/instances/vfsbench.$$" || return 1
		TRACE_INST=$top/instances/vfsbench.$$
		echo "${TRACE_KB:-16384}" >"$TRACE_INST/buffer_size_kb"
	fi
	# The tracepoints' connection is the kernel's dev_t: major << 20 | minor.
	dev=$(mountpoint -d "$mnt") || return 1
	major=${dev%:*}
	minor=${dev#*:}
	for ev in send end; do
		echo "connection == $((major << 20 | minor))" \
			>"$TRACE_INST/events/fuse/fuse_request_$ev/filter"
	done
}

trace_on() {
	[ -n "$TRACE_INST" ] || return 0
	echo >"$TRACE_INST/trace"
	echo 1 >"$TRACE_INST/events/fuse/enable"
}

# trace_off N: stop and print the FUSE requests per operation, given that N
# operations ran while tracing, each opcode with its mean time from send to
# reply: "5.00 = CREATE 1.00 (41 µs), ...".
trace_off() {
	if [ -z "$TRACE_INST" ]; then
		echo "n/a (no fuse tracepoints)"
		return 0
	fi
	echo 0 >"$TRACE_INST/events/fuse/enable"
	awk '
		/^# entries-in-buffer/ {
			split($3, e, "/")
			if (e[1] != e[2]) print "~LOST " e[2] - e[1]
		}
		/^#/ { next }
		{
			for (i = 1; i <= NF; i++)
				if ($i ~ /^fuse_request_(send|end):$/)
					break
			if (i > NF)
				next
			ts = $(i - 1)
			sub(/:$/, "", ts)
			for (j = i; j <= NF && $j != "req"; j++)
				;
			req = $(j + 1)
			if ($i == "fuse_request_send:") {
				op = $(j + 4)
				op = substr(op, 7, length(op) - 7)
				start[req] = ts
				name[req] = op
				count[op]++
			} else if (req in start) {
				op = name[req]
				lat[op] += ts - start[req]
				nlat[op]++
				delete start[req]
			}
		}
		END {
			for (op in count)
				printf "%s %d %.0f\n", op, count[op], nlat[op] ? lat[op] / nlat[op] * 1e6 : -1
		}' "$TRACE_INST/trace" | sort |
		awk -v n="$1" '
			$1 == "~LOST" { lost = $2; next }
			{
				t += $2
				s = s sprintf("%s %s %.2f", sep, $1, $2 / n)
				s = s ($3 >= 0 ? sprintf(" (%d µs)", $3) : "")
				sep = ","
			}
			END {
				printf "%.2f =%s%s\n", t / n, (t ? s : " none"),
					(lost ? sprintf(" [trace buffer overflowed: %d events lost]", lost) : "")
			}'
}

trace_close() {
	if [ -n "$TRACE_INST" ] && [ -d "$TRACE_INST" ]; then
		echo 0 >"$TRACE_INST/events/fuse/enable" 2>/dev/null
		rmdir "$TRACE_INST" 2>/dev/null
	fi
	TRACE_INST=
}
