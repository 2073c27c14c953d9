#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# snapshot: "vineyardfs snapshot create" of a store holding a Tensor and a
# DataFrame (Python), Blobs (CLI put, cp), a second name, a chown'ed and
# chmod'ed object; then unmount, wipe the state dir, "mount --restore":
# bytes, names, owners, modes and inode numbers come back. A restore into
# a store with objects is refused. A second snapshot copies only the new
# blob. A daemon killed with SIGKILL in the middle of a snapshot of a
# large store comes back with every object, and the snapshot it was
# overwriting still restores; the next snapshot leaves no temp file.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

export PYTHONPATH=$TESTS_SRCDIR/../python
SNAP=$T/snap
MEM=3G
vfs()
{
	"$VINEYARDFS" "$@" --mount "$MNT"
}

# A JSON reply's integer field: json_int FILE KEY.
json_int()
{
	"$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# What a user sees of the store: every name and object with its mode,
# owner, size and inode number, the blobs, and the bytes of names/.
listing()
{
	local d=$1

	(
		cd "$d"
		stat -c '%n %f %u %g %s %i' names/* objects/* blobs/* objects/*/*
		sha256sum names/raw names/raw2 names/cli names/owned
	) | sort
}

vfs_mount --memory "$MEM"

# The objects: Python's Tensor and DataFrame, the CLI's Blob, cp's Blob.
VINEYARDFS_MOUNT=$MNT "$PY" - "$T" <<'EOF' || fail "Python put failed"
import sys
import numpy as np, pandas as pd
import vineyardfs
t = sys.argv[1]
vfs = vineyardfs.Client()
a = np.random.default_rng(1).random((300, 200))
vfs.put(a, name="tensor")
np.save(t + "/tensor.npy", a)
df = pd.DataFrame({"x": np.arange(1000, dtype=np.int64), "y": np.random.default_rng(2).random(1000)})
vfs.put(df, name="df")
df.to_pickle(t + "/df.pkl")
EOF
head -c 3000001 /dev/urandom >"$T/raw"
cp "$T/raw" "$MNT/names/raw"
wait_sealed "$MNT/names/raw"
vfs name raw raw2 || fail "vineyardfs name failed"
head -c 70000 /dev/urandom >"$T/cli"
vfs put "$T/cli" --name cli >/dev/null || fail "vineyardfs put failed"
head -c 5000 /dev/urandom >"$T/owned"
cp "$T/owned" "$MNT/names/owned"
wait_sealed "$MNT/names/owned"
chown nobody:nogroup "$MNT/names/owned" || fail "chown failed"
chmod 0604 "$MNT/names/owned" || fail "chmod failed"
listing "$MNT" >"$T/before"
grep -q "^names/owned 8184 65534 " "$T/before" || fail "chown/chmod of names/owned did not take: $(grep owned "$T/before")"

# Only root may take a snapshot; the CLI gives the daemon an absolute path.
must_fail "only root may take a snapshot" runuser -u nobody -- "$VINEYARDFS" snapshot create "$T/nobody" --mount "$MNT"
case $(ctl '{"op":"snapshot","dir":"relative/dir"}') in
*'"error":"EINVAL"'*) ;;
*) fail "a relative snapshot dir was not refused with EINVAL" ;;
esac
(cd "$T" && "$VINEYARDFS" snapshot create snap --mount "$MNT" --json >"$T/reply1") ||
	fail "snapshot create failed: $(cat "$T/reply1")"
[ "$(json_int "$T/reply1" bytes_copied)" = "$(json_int "$T/reply1" bytes)" ] ||
	fail "the first snapshot did not copy every byte: $(cat "$T/reply1")"
blobs1=$(json_int "$T/reply1" blobs)
[ "$blobs1" = "$(stat_get blobs_sealed)" ] || fail "the snapshot holds $blobs1 blobs, the store $(stat_get blobs_sealed)"
[ -f "$SNAP/meta.db" ] || fail "no $SNAP/meta.db"
[ "$(find "$SNAP/blobs" -type f -name 'b*' | wc -l)" = "$blobs1" ] || fail "$SNAP/blobs does not hold $blobs1 blob files"
[ "$(stat_get snapshots_created)" = 1 ] || fail "stats snapshots_created is $(stat_get snapshots_created)"

# Wipe the state dir; restore.
"$VINEYARDFS" umount "$MNT" || fail "umount failed"
umount "$STATE/mem" || fail "cannot unmount $STATE/mem"
rm -rf "$STATE"
mkdir "$STATE"
vfs_mount --memory "$MEM" --restore "$SNAP"
grep -q "restored .* objects, .* blobs .*checksums verified" "$STATE/vineyardfs.log" ||
	fail "the log does not tell of the restore"
listing "$MNT" >"$T/after"
diff "$T/before" "$T/after" || fail "the restored store differs (names, modes, owners, sizes, inodes or bytes)"
cmp "$T/raw" "$MNT/names/raw2" || fail "names/raw2 differs after the restore"
VINEYARDFS_MOUNT=$MNT "$PY" - "$T" <<'EOF' || fail "the Tensor or the DataFrame differs after the restore"
import sys
import numpy as np, pandas as pd
import vineyardfs
t = sys.argv[1]
vfs = vineyardfs.Client()
assert (vfs.get("tensor") == np.load(t + "/tensor.npy")).all()
df = vfs.get("df")
want = pd.read_pickle(t + "/df.pkl")
assert list(df.columns) == list(want.columns) and (df["x"] == want["x"]).all() and (df["y"] == want["y"]).all(), df
EOF
must_fail "not permitted" runuser -u nobody -- sh -c "echo x >>'$MNT/names/owned'"
runuser -u nobody -- cat "$MNT/names/owned" | cmp - "$T/owned" || fail "nobody cannot read names/owned (0604)"

# A restore into a store that holds objects is refused, and changes nothing.
"$VINEYARDFS" umount "$MNT" || fail "umount failed"
must_fail "already holds" "$VINEYARDFS" mount --state-dir "$STATE" --memory "$MEM" --restore "$SNAP" "$MNT"
! is_mounted "$MNT" || fail "a refused restore mounted $MNT"
vfs_mount --memory "$MEM"
listing "$MNT" >"$T/after"
diff "$T/before" "$T/after" || fail "a refused restore changed the store"

# Incremental: one new blob of 1 MiB is all a second snapshot copies.
head -c 1048576 /dev/urandom >"$T/new"
cp "$T/new" "$MNT/names/new"
wait_sealed "$MNT/names/new"
vfs snapshot create "$SNAP" --json >"$T/reply2" || fail "second snapshot failed: $(cat "$T/reply2")"
[ "$(json_int "$T/reply2" bytes_copied)" = 1048576 ] || fail "the second snapshot copied more than the new blob: $(cat "$T/reply2")"
[ "$(json_int "$T/reply2" blobs_skipped)" = "$blobs1" ] || fail "the second snapshot did not skip the $blobs1 blobs there: $(cat "$T/reply2")"
vfs snapshot create "$SNAP" >"$T/reply3" || fail "third snapshot failed"
grep -q "copied 0 blobs" "$T/reply3" || fail "a snapshot with nothing new copied something: $(cat "$T/reply3")"
listing "$MNT" >"$T/snap2"

# A large store, and the daemon killed in the middle of its snapshot.
"$PY" - "$MNT/names" "$T/sums" <<'EOF' || fail "writing the large objects failed"
import hashlib, os, sys
d, sums = sys.argv[1], sys.argv[2]
chunk = os.urandom(1 << 20)
with open(sums, "w") as out:
    for i in range(64):
        data = bytes([i]) * 16 + chunk * 24
        with open("%s/big%02d" % (d, i), "xb") as f:
            f.write(data)
        out.write("%s  big%02d\n" % (hashlib.sha256(data).hexdigest(), i))
EOF
(cd "$MNT/names" && sha256sum raw raw2 cli owned new) >>"$T/sums"
wait_until "no unsealed blobs" stat_is blobs_unsealed 0
# An in-progress snapshot: running, some bytes copied, not all.
copying()
{
	local s

	s=$(cat "$MNT/.vineyardfs/stats") || return 1
	echo "$s" | awk '$1 == "snapshot_running" { r = $2 } $1 == "snapshot_bytes_done" { d = $2 }
		$1 == "snapshot_bytes_total" { t = $2 } END { exit !(r == 1 && d > 0 && d < t) }'
}
bg_start "$VINEYARDFS" snapshot create "$SNAP" --mount "$MNT"
wait_until "the snapshot to be copying blobs" copying
pid=$(vfs_pid)
kill -9 "$pid"
wait_until "daemon pid $pid to die" gone "$pid"
vfs_mount --memory "$MEM"
(cd "$MNT/names" && sha256sum -c --quiet "$T/sums") || fail "objects differ after a kill during a snapshot"
[ "$(stat_get blobs_unsealed)" = 0 ] || fail "unsealed blobs after the restart"

# The snapshot the killed daemon was overwriting still restores, as it was.
mkdir "$T/mnt2"
vfs_mount_at "$T/state2" "$T/mnt2" --memory "$MEM" --restore "$SNAP"
listing "$T/mnt2" >"$T/after"
diff "$T/snap2" "$T/after" || fail "the earlier snapshot does not restore as it was after a kill"
"$VINEYARDFS" umount "$T/mnt2" || fail "umount of $T/mnt2 failed"

# A snapshot over what the killed one left: done, and no temp file left.
vfs snapshot create "$SNAP" --json >"$T/reply4" || fail "snapshot after the kill failed: $(cat "$T/reply4")"
left=$(find "$SNAP" -name '.tmp-*' | wc -l)
[ "$left" = 0 ] || fail "$left temp files left in $SNAP"
[ "$(find "$SNAP/blobs" -type f -name 'b*' | wc -l)" = "$(json_int "$T/reply4" blobs)" ] ||
	fail "$SNAP/blobs holds files the snapshot does not use"

echo "PASS: snapshot"
