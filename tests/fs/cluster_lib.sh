# shellcheck shell=bash
#
# cluster_lib.sh: sourced by the cluster's mount tests after lib.sh. Starts
# Debian's etcd with its data under the test's private dir on free ports of
# 127.0.0.1 and stops it in the EXIT trap (then lib.sh's cleanup runs); mounts
# members, each with its own mount point, state dir, instance id, node name
# and --listen port. Skips (77) without an etcd binary. Traffic goes to
# 127.0.0.1 only.

ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
if [ ! -x "$ETCD_BIN" ]; then
	echo "SKIP: no $ETCD_BIN (Debian's etcd-server)"
	exit 77
fi
# Generous: the machine may be busy; every wait is still bounded.
VFS_WAIT=${VFS_WAIT:-60}
# The lease of the members: short, so that a killed member goes quickly.
CLUSTER_TTL=2

ETCD_CPORT=$(free_port)
ETCD_PPORT=$(free_port)
ETCD_URL=http://127.0.0.1:$ETCD_CPORT
ETCD_DATA=$T/etcd-data
ETCD_PID=

etcd_up()
{
	"$PY" -c 'import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "/health", timeout=2).read()
except Exception:
    sys.exit(1)' "$ETCD_URL"
}

# etcd_start: start etcd (again) on the same ports and data dir; returns
# once it answers.
etcd_start()
{
	"$ETCD_BIN" --name t --data-dir "$ETCD_DATA" \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PPORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PPORT" \
		--initial-cluster "t=http://127.0.0.1:$ETCD_PPORT" \
		--initial-cluster-state new >>"$T/etcd.log" 2>&1 &
	ETCD_PID=$!
	wait_until "etcd to answer on $ETCD_URL" etcd_up
}

# etcd_has KEY: does etcd hold KEY now (its v3 gateway, a range read)?
etcd_has()
{
	"$PY" - "$ETCD_URL" "$1" <<'EOF'
import base64, json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/v3/kv/range",
    data=json.dumps({"key": base64.b64encode(sys.argv[2].encode()).decode()}).encode())
try:
    reply = json.load(urllib.request.urlopen(req, timeout=2))
except Exception:
    sys.exit(1)
sys.exit(0 if reply.get("kvs") else 1)
EOF
}

etcd_stop()
{
	[ -n "$ETCD_PID" ] || return 0
	kill -9 "$ETCD_PID" 2>/dev/null || true
	wait "$ETCD_PID" 2>/dev/null || true
	ETCD_PID=
}

cluster_cleanup()
{
	local rc=$?

	set +e
	if [ "$rc" -ne 0 ] && [ -s "$T/etcd.log" ]; then
		echo "---- tail of $T/etcd.log ----" >&2
		tail -n 15 "$T/etcd.log" >&2
	fi
	# etcd first: a member leaving then gets "connection refused" at once.
	etcd_stop
	(exit "$rc")
	vfs_cleanup
}
trap cluster_cleanup EXIT

# member_mount N NODE [options]: member N (instance id N) on $T/mN with
# state $T/stN, node name NODE, listening on a free port.
member_mount()
{
	local n=$1 node=$2

	shift 2
	mkdir -p "$T/m$n" "$T/st$n"
	vfs_mount_at "$T/st$n" "$T/m$n" --instance-id "$n" --etcd "$ETCD_URL" --cluster t \
		--listen "127.0.0.1:$(free_port)" --node-name "$node" --cluster-ttl "$CLUSTER_TTL" "$@"
}

# cluster_get KEY MNT: one value of MNT/.vineyardfs/cluster.
cluster_get()
{
	awk -v k="$1" '$1 == k { print $2 }' "$2/.vineyardfs/cluster"
}

cluster_is()
{
	[ "$(cluster_get "$1" "$3")" = "$2" ]
}

# xattr_is NAME PATH VALUE: for wait_until.
xattr_is()
{
	[ "$(xattr_get "$1" "$2" 2>/dev/null)" = "$3" ]
}

# member_kill N: kill -9 member N's daemon and wait until it is gone.
member_kill()
{
	local pid

	pid=$(vfs_pid "$T/st$1")
	pid_is_daemon "$pid" || fail "no daemon for member $1"
	kill -9 "$pid"
	wait_until "member $1 (pid $pid) to die" member_dead "$pid"
}

# not COMMAND...: for wait_until.
not()
{
	! "$@"
}

member_dead()
{
	! pid_alive "$1"
}
