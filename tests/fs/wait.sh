#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# wait: {"op":"wait"} on .vineyardfs/ctl blocks until a name names a sealed
# object, without holding a daemon thread: 48 waiters (more than the 32
# FUSE workers) are parked while the mount keeps answering; all of them
# get the id when the object is sealed (not when the name first appears);
# a waiter interrupted with SIGINT returns EINTR at once and is forgotten;
# timeouts answer ETIMEDOUT; get --wait and Python's wait_name use it; a
# daemon that stops answers the waits left.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

vfs_mount
CTL=$MNT/.vineyardfs/ctl
cat >"$T/wait.py" <<'EOF'
import errno, os, signal, sys
# wait.py CTL NAME OUT [TIMEOUT_MS]: write the reply (or "EINTR") to OUT.
class Interrupted(Exception):
    pass
def on_int(*a):
    raise Interrupted()  # a handler that returns would have read(2) retried
signal.signal(signal.SIGINT, on_int)
req = '{"op":"wait","name":"%s"%s}' % (sys.argv[2],
    ',"timeout_ms":%s' % sys.argv[4] if len(sys.argv) > 4 else "")
fd = os.open(sys.argv[1], os.O_RDWR)
os.write(fd, req.encode())
try:
    out = os.read(fd, 65536).decode()
except Interrupted:
    out = "EINTR"
except OSError as e:
    out = errno.errorcode.get(e.errno, str(e.errno))
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(out)
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
EOF

# 48 waiters for one name.
pids=()
for i in $(seq 1 48); do
	"$PY" "$T/wait.py" "$CTL" late "$T/out.$i" &
	pids+=("$!")
	VFS_BG+=("$!")
done
wait_until "48 parked waits" stat_is requests_waiting 48
# Every FUSE worker would be taken if waits held one: the mount answers.
echo hello >"$T/hello"
cp "$T/hello" "$MNT/names/other"
[ "$(cat "$MNT/names/other")" = hello ] || fail "the mount stopped answering while waits are parked"
ls "$MNT/objects" >/dev/null

# The name appears while its bytes are written: nobody is answered yet.
exec 5>"$MNT/names/late"
printf 'part one\n' >&5
[ "$(xattr_get user.vineyard.sealed "$MNT/names/late")" = false ] || fail "late sealed too early"
[ "$(stat_get requests_waiting)" = 48 ] || fail "a waiter was answered before the seal"
for i in $(seq 1 48); do
	[ ! -e "$T/out.$i" ] || fail "waiter $i answered before the seal: $(cat "$T/out.$i")"
done
printf 'part two\n' >&5
exec 5>&-
wait_sealed "$MNT/names/late"
id=$(xattr_get user.vineyard.id "$MNT/names/late")
for i in $(seq 1 48); do
	wait "${pids[$((i - 1))]}" || fail "waiter $i failed"
	[ "$(cat "$T/out.$i")" = "{\"ok\":true,\"id\":\"$id\"}" ] || fail "waiter $i got: $(cat "$T/out.$i")"
done
[ "$(stat_get requests_waiting)" = 0 ] || fail "waits left parked: $(stat_get requests_waiting)"

# A name that is already there answers at once.
"$PY" "$T/wait.py" "$CTL" late "$T/now"
[ "$(cat "$T/now")" = "{\"ok\":true,\"id\":\"$id\"}" ] || fail "ready wait got: $(cat "$T/now")"

# SIGINT: the read returns EINTR promptly, the daemon forgets the wait.
"$PY" "$T/wait.py" "$CTL" never "$T/intr" &
ipid=$!
VFS_BG+=("$ipid")
wait_until "a parked wait" stat_is requests_waiting 1
kill -INT "$ipid"
wait "$ipid" || fail "the interrupted waiter failed"
[ "$(cat "$T/intr")" = EINTR ] || fail "interrupted wait got: $(cat "$T/intr")"
wait_until "no parked waits" stat_is requests_waiting 0

# Timeouts.
"$PY" "$T/wait.py" "$CTL" never "$T/late" 200
grep -q '"error":"ETIMEDOUT"' "$T/late" || fail "timed-out wait got: $(cat "$T/late")"
"$PY" "$T/wait.py" "$CTL" never "$T/zero" 0
grep -q '"error":"ETIMEDOUT"' "$T/zero" || fail "wait with timeout 0 got: $(cat "$T/zero")"
"$PY" "$T/wait.py" "$CTL" "a/b" "$T/bad"
grep -q '"error":"EINVAL"' "$T/bad" || fail "wait for a bad name got: $(cat "$T/bad")"

# Clients: get --wait and wait_name block until the object is made.
"$VINEYARDFS" get --wait --mount "$MNT" -o "$T/got" later &
gpid=$!
VFS_BG+=("$gpid")
PYTHONPATH=$TESTS_SRCDIR/../python "$PY" -c '
import sys, vineyardfs
print(vineyardfs.Client(sys.argv[1]).wait_name("later"))' "$MNT" >"$T/pyid" &
ppid=$!
VFS_BG+=("$ppid")
wait_until "two parked client waits" stat_is requests_waiting 2
printf 'made later\n' >"$MNT/names/later"
wait "$gpid" || fail "get --wait failed"
[ "$(cat "$T/got")" = "made later" ] || fail "get --wait got: $(cat "$T/got")"
wait "$ppid" || fail "wait_name failed"
[ "$(cat "$T/pyid")" = "$(xattr_get user.vineyard.id "$MNT/names/later")" ] || fail "wait_name got: $(cat "$T/pyid")"

# A daemon told to stop answers what still waits (EINTR).
"$PY" "$T/wait.py" "$CTL" never "$T/atexit" &
upid=$!
VFS_BG+=("$upid")
wait_until "a parked wait" stat_is requests_waiting 1
kill -TERM "$(vfs_pid)"
wait "$upid" || fail "the waiter failed at the daemon's stop"
# EINTR, which Python retries; the retry finds the connection gone
# (ENOTCONN or ECONNABORTED), or, over FUSE io_uring, reaches the daemon
# while its session ends and is refused (ESHUTDOWN: no wait is parked then).
case $(cat "$T/atexit") in
EINTR | ENOTCONN | ECONNABORTED | ESHUTDOWN) ;;
*) fail "waiter at the daemon's stop got: $(cat "$T/atexit")" ;;
esac
echo "PASS: wait"
