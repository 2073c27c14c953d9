# shellcheck shell=bash
#
# cluster_lib.sh: sourced by the cluster's mount tests after lib.sh. Starts
# Debian's etcd with its data under the test's private dir on free ports of
# 127.0.0.1 and stops it in the EXIT trap (then lib.sh's cleanup runs); mounts
# members, each with its own mount point, state dir, instance id, node name
# and --listen port. Skips (77) without an etcd binary. Traffic goes to
# 127.0.0.1 only, and to the network namespaces a test makes (ns_create:
# a namespace joined to this one by a veth pair on a private 10.213.X.0/24
# that nothing here uses; ns_member_mount starts a member inside one).
# The namespaces and their links go in the EXIT trap.

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
# More client URLs for etcd to listen on (comma-separated), for members
# in a network namespace: set before etcd_start.
ETCD_EXTRA_URLS=

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
		--listen-client-urls "$ETCD_URL${ETCD_EXTRA_URLS:+,$ETCD_EXTRA_URLS}" \
		--advertise-client-urls "$ETCD_URL" \
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
	ns_cleanup
	(exit "$rc")
	vfs_cleanup
}
trap cluster_cleanup EXIT

# Network namespaces made by ns_create, with their host-side veth ends,
# their subnet's host and namespace addresses.
NS_NAMES=()
declare -A NS_HOST_DEV=() NS_HOST_IP=() NS_IP=()

# ns_create NS: a network namespace NS (unique to this test run) joined to
# this one by a veth pair: the host end NS_HOST_IP[NS], the namespace's
# end NS_IP[NS], on a 10.213.X.0/24 that no address or route here uses.
# Skips (77) where no ip(8) or no right to make namespaces.
ns_create()
{
	local ns=$1 hdev ndev x='' c i

	command -v ip >/dev/null || {
		echo "SKIP: no ip(8) (iproute2)"
		exit 77
	}
	# The names: unique to this process, at most 15 bytes for a link.
	hdev=vfh$$${#NS_NAMES[@]}
	ndev=vfn$$${#NS_NAMES[@]}
	for i in $(seq 0 249); do
		c=$((($$ + i) % 250 + 1))
		ip -4 addr show | grep -q "inet 10\.213\.$c\." && continue
		ip -4 route show | grep -q "^10\.213\.$c\." && continue
		x=$c
		break
	done
	[ -n "$x" ] || fail "no free 10.213.X.0/24 for namespace $ns"
	if ! ip netns add "$ns" 2>"$T/netns.err"; then
		echo "SKIP: cannot make a network namespace: $(cat "$T/netns.err")"
		exit 77
	fi
	NS_NAMES+=("$ns")
	NS_HOST_DEV[$ns]=$hdev
	NS_HOST_IP[$ns]=10.213.$x.1
	NS_IP[$ns]=10.213.$x.2
	ip link add "$hdev" type veth peer name "$ndev" netns "$ns" || fail "cannot make veth $hdev"
	ip addr add "${NS_HOST_IP[$ns]}/24" dev "$hdev" || fail "cannot address $hdev"
	ip link set "$hdev" up || fail "cannot bring $hdev up"
	ip -n "$ns" addr add "${NS_IP[$ns]}/24" dev "$ndev" || fail "cannot address $ndev in $ns"
	ip -n "$ns" link set "$ndev" up || fail "cannot bring $ndev up in $ns"
	ip -n "$ns" link set lo up || fail "cannot bring lo up in $ns"
}

# ns_link NS up|down: plug or unplug namespace NS's cable (its host end;
# both ends lose the carrier).
ns_link()
{
	ip link set "${NS_HOST_DEV[$1]}" "$2" || fail "ip link set ${NS_HOST_DEV[$1]} $2"
}

# The namespace ns_member_mount runs the daemon in, and the binary.
NS_RUN=
VFS_BIN=$VINEYARDFS

# vineyardfs in namespace NS_RUN: its network only. Not "ip netns exec",
# which also gives the command a mount namespace of its own where the
# FUSE mount would be invisible to everyone else (notes/cluster.md).
ns_vineyardfs()
{
	nsenter --net="/var/run/netns/$NS_RUN" "$VFS_BIN" "$@"
}

# ns_member_mount NS N NODE [options]: member_mount for a member in
# namespace NS: it listens on NS_IP[NS] and reaches etcd on its host end
# (etcd must listen there too: ETCD_EXTRA_URLS). vfs_mount_at runs
# "$VINEYARDFS", here the name of the function above, so that the
# bookkeeping and the checks of a mount stay in one place.
ns_member_mount()
{
	local ns=$1 n=$2 node=$3

	shift 3
	mkdir -p "$T/m$n" "$T/st$n"
	NS_RUN=$ns VINEYARDFS=ns_vineyardfs vfs_mount_at "$T/st$n" "$T/m$n" --instance-id "$n" \
		--etcd "http://${NS_HOST_IP[$ns]}:$ETCD_CPORT" --cluster t \
		--listen "${NS_IP[$ns]}:$(free_port)" --node-name "$node" --cluster-ttl "$CLUSTER_TTL" "$@"
}

# Remove the links and namespaces ns_create made. A daemon still inside
# one keeps it alive, unnamed and unplugged, until vfs_cleanup ends it.
ns_cleanup()
{
	local ns

	for ns in "${NS_NAMES[@]}"; do
		ip link del "${NS_HOST_DEV[$ns]}" 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	NS_NAMES=()
}

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

# cluster_key FILE: a new cluster key, 32 random bytes, readable by root only.
cluster_key()
{
	head -c 32 /dev/urandom >"$1"
	chmod 600 "$1"
}

# wait_joined MNT...: until every member mounted there has joined.
wait_joined()
{
	local m

	for m in "$@"; do
		wait_until "$m to join" cluster_is joined yes "$m"
	done
}

# publish_sealed MNT NAME: once MNT/names/NAME is sealed, publish it.
publish_sealed()
{
	local out

	wait_sealed "$1/names/$2"
	out=$("$VINEYARDFS" publish -m "$1" "$2") || fail "publish $2: $out"
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

# timed_read PATH OUT: read PATH whole, then write to OUT (at once, by a
# rename) "ok SECONDS" or "ERRNO SECONDS" (a name such as EIO): for a
# reader in the background (bg_start), waited for with wait_until test -s.
timed_read()
{
	"$PY" - "$1" "$2" <<'EOF'
import errno, os, sys, time
t = time.monotonic()
try:
    with open(sys.argv[1], "rb") as f:
        while f.read(1 << 20):
            pass
    r = "ok"
except OSError as e:
    r = errno.errorcode.get(e.errno, str(e.errno))
with open(sys.argv[2] + ".new", "w") as f:
    f.write("%s %.1f\n" % (r, time.monotonic() - t))
os.rename(sys.argv[2] + ".new", sys.argv[2])
EOF
}
