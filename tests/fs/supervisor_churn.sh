#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# supervisor_churn: "mount --supervise" under kills that land anywhere.
# Three lookers stat names that do not exist in names/ (each one a LOOKUP
# that holds the directory's lock in the kernel until the daemon answers)
# while a churner creates objects and removes them (each removal makes the
# daemon invalidate the kernel's names/ entry, a write for which the
# kernel takes that same lock). The worker is killed with SIGKILL
# ROUNDS times at random moments. Each time it must end and a new worker
# must answer: a thread of the worker that waited in the kernel for the
# lock would keep the dead worker from ending (it did, before entry
# invalidations went through the supervisor's relay process). The
# lookers see no error but ENOENT; the churner loses at most the object
# it was writing at each kill (a seal not committed is discarded); an
# object stored before the kills reads back whole.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

ROUNDS=${ROUNDS:-24}
SUP=
trap vfs_cleanup_supervised EXIT

vfs_mount --supervise
SUP=$(sed -n 's/^supervisor \([0-9][0-9]*\)$/\1/p' "$STATE/lock")
pid_is_daemon "$SUP" || fail "no supervisor line in $STATE/lock: $(cat "$STATE/lock")"
head -c 100000 /dev/urandom >"$T/keep"
cp "$T/keep" "$MNT/names/keep"
wait_until "names/keep to be sealed" is_sealed "$MNT/names/keep"

cat >"$T/look.py" <<'EOF'
import errno, os, sys
mnt, stop, out = sys.argv[1:4]
calls, errors = 0, []
while not os.path.exists(stop):
    calls += 1
    try:
        os.stat("%s/names/absent-%d-%d" % (mnt, os.getpid(), calls))
        errors.append("absent-%d exists" % calls)
    except FileNotFoundError:
        pass
    except OSError as e:
        errors.append(errno.errorcode.get(e.errno, str(e.errno)))
with open(out + ".tmp", "w") as f:
    f.write("%d %d %s\n" % (calls, len(errors), " ".join(errors[:10])))
os.rename(out + ".tmp", out)
EOF
cat >"$T/churn.py" <<'EOF'
import errno, os, sys
mnt, stop, out = sys.argv[1:4]
done, errors = 0, []
while not os.path.exists(stop):
    path = "%s/names/t%d" % (mnt, done + len(errors))
    try:
        with open(path, "wb") as f:
            f.write(b"x")
        oid = os.getxattr(path, "user.vineyard.id").decode()
        os.rmdir("%s/objects/%s" % (mnt, oid))
        done += 1
    except OSError as e:
        errors.append(errno.errorcode.get(e.errno, str(e.errno)))
with open(out + ".tmp", "w") as f:
    f.write("%d %d %s\n" % (done, len(errors), " ".join(errors[:20])))
os.rename(out + ".tmp", out)
EOF
for k in 1 2 3; do
	bg_start "$PY" "$T/look.py" "$MNT" "$T/stop" "$T/look$k.out"
done
bg_start "$PY" "$T/churn.py" "$MNT" "$T/stop" "$T/churn.out"

worker=$(vfs_pid)
for round in $(seq "$ROUNDS"); do
	# Kills land at random points of the load. The supervisor gives up
	# after 8 workers in a row lived less than 2 s (and waits longer
	# before each restart after the second): every fourth worker lives
	# past that.
	sleep "0.$((RANDOM % 4 + 1))"
	[ $((round % 4)) != 0 ] || sleep 2.1
	crash_worker "round $round"
done
touch "$T/stop"
for f in look1 look2 look3 churn; do
	wait_until "the $f process to report" exists "$T/$f.out"
done
for k in 1 2 3; do
	read -r calls nerr errs <"$T/look$k.out"
	[ "$nerr" = 0 ] || fail "looker $k saw errors across the kills: $errs"
	[ "$calls" -gt 0 ] || fail "looker $k made no lookup"
done
read -r stored nerr errs <"$T/churn.out"
[ "$stored" -gt 0 ] || fail "the churner stored and removed nothing"
[ "$nerr" -le "$ROUNDS" ] || fail "the churner failed $nerr times over $ROUNDS kills: $errs"
for e in $errs; do
	case $e in
	ENOENT | ENODATA) ;; # the object it was writing at a kill was discarded
	*) fail "the churner saw $e: $errs" ;;
	esac
done
cmp "$T/keep" "$MNT/names/keep" || fail "names/keep differs after $ROUNDS kills"
echo "lookups: $(cat "$T"/look?.out | awk '{ n += $1 } END { print n }'); churn: $stored stored and removed, $nerr lost to kills"
echo "PASS: supervisor_churn"
