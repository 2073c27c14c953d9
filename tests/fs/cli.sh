#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# cli: the client subcommands against a real mount, crossing over with the
# Python module and plain tools: .npy in and out as Tensors, raw files as
# Blobs, ls, stat, tree, name, unname, get --wait, rm, the exit codes and
# messages of failures, and the command table's --help and usages.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

vfs_mount
export VINEYARDFS_MOUNT=$MNT
export PYTHONPATH=$TESTS_SRCDIR/../python
vfs()
{
	"$VINEYARDFS" "$@"
}

"$PY" -c 'import numpy as np, sys; np.save(sys.argv[1], np.arange(12, dtype=np.int32).reshape(3, 4))' "$T/a.npy"
id=$(vfs put "$T/a.npy" --name a) || fail "put a.npy failed"
case $id in o????????????????) ;; *) fail "put printed '$id', not an object id" ;; esac
[ "$(xattr_get user.vineyard.typename "$MNT/objects/$id")" = Tensor ] || fail "a.npy did not become a Tensor"
# CLI in, Python out.
"$PY" -c '
import numpy as np, vineyardfs
a = vineyardfs.Client().get("a")
assert a.dtype == np.int32 and a.shape == (3, 4) and (a == np.arange(12).reshape(3, 4)).all(), a' ||
	fail "the Python module does not read what vineyardfs put wrote"
# Python in, CLI out.
"$PY" -c '
import numpy as np, vineyardfs
vineyardfs.Client().put(np.linspace(0, 1, 7, dtype=np.float32), name="p")' || fail "Python put failed"
vfs get p -o "$T/p.npy" || fail "get p failed"
"$PY" -c '
import numpy as np, sys
p = np.load(sys.argv[1])
assert p.dtype == np.float32 and (p == np.linspace(0, 1, 7, dtype=np.float32)).all(), p' "$T/p.npy" ||
	fail "get p wrote a .npy that numpy does not read back"
vfs get a -o "$T/a2.npy" || fail "get a failed"
cmp "$T/a.npy" "$T/a2.npy" || fail "a.npy did not round trip byte for byte"

# Raw files are Blobs; with no name they stay reachable by id only.
head -c 100000 /dev/urandom >"$T/raw"
rid=$(vfs put "$T/raw" --name raw) || fail "put raw failed"
vfs get raw >"$T/raw2" || fail "get raw failed"
cmp "$T/raw" "$T/raw2" || fail "raw did not round trip"
cmp "$T/raw" "$MNT/names/raw" || fail "names/raw differs from the file put"
anon=$(vfs put "$T/raw") || fail "put without a name failed"
left=$(find "$MNT/names" -name '.vfs-tmp-*' | wc -l)
[ "$left" = 0 ] || fail "$left temporary names were left in names/"
vfs get "$anon" | cmp - "$T/raw" || fail "get by id failed"

# ls, stat.
vfs ls --json | "$PY" -c '
import json, sys
rows = {r["name"]: r for r in json.load(sys.stdin)}
assert set(rows) == {"a", "p", "raw"}, rows
assert rows["a"]["typename"] == "Tensor" and rows["a"]["nbytes"] == 48 and rows["a"]["owner"] == "root", rows["a"]
assert rows["raw"]["typename"] == "Blob" and rows["raw"]["nbytes"] == 100000, rows["raw"]' ||
	fail "ls --json does not list a, p and raw as expected"
vfs ls | grep -q "^raw .* Blob .* 100000 " || fail "ls does not show raw"
[ "$(vfs ls --all | wc -l)" -ge 5 ] || fail "ls --all does not show every object"
vfs stat a --json | "$PY" -c 'import json, sys; m = json.load(sys.stdin); assert m["shape_"] == [3, 4], m' ||
	fail "stat a does not show its shape"

# The Python module's copy of the keys every tree has (it cannot read
# object.c's table) is among the names listxattr shows.
"$PY" -c '
import os, sys, vineyardfs
shown = {n[len("user.vineyard."):] for n in os.listxattr(sys.argv[1])}
assert set(vineyardfs._FIXED) <= shown, set(vineyardfs._FIXED) - shown' "$MNT/objects/$id" ||
	fail "vineyardfs._FIXED names keys an object does not show"

# tree, name, unname, get --wait.
"$PY" -c '
import numpy as np, pandas as pd, vineyardfs
vineyardfs.Client().put(pd.DataFrame({"u": np.arange(3.0), "v": np.arange(3)}), name="frame")' ||
	fail "Python put of a DataFrame failed"
vfs tree frame >"$T/tree" || fail "tree frame failed"
for line in "^frame o.* DataFrame, " "^  u o.* Tensor, 24 bytes" "^    buffer_ b.* Blob, 24 bytes"; do
	grep -q "$line" "$T/tree" || fail "tree frame has no line like '$line': $(cat "$T/tree")"
done
vfs name a also-a || fail "name a also-a failed"
cmp <(vfs get also-a) <(vfs get a) || fail "also-a does not name a's object"
vfs unname also-a || fail "unname also-a failed"
[ ! -e "$MNT/names/also-a" ] || fail "names/also-a is still there after unname"
vfs get --wait later -o "$T/later" &
waiter=$!
VFS_BG+=("$waiter")
printf 'eventually' >"$T/eventually"
vfs put "$T/eventually" --name later >/dev/null || fail "put later failed"
wait "$waiter" || fail "get --wait later failed"
[ "$(cat "$T/later")" = eventually ] || fail "get --wait got: $(cat "$T/later")"
# A name still being written is not ready: get --wait waits for its seal.
exec 4>"$MNT/names/slow"
printf 'first half ' >&4
vfs get --wait slow -o "$T/slow" 4>&- & # not holding the writer's descriptor itself
waiter=$!
VFS_BG+=("$waiter")
wait_until "get --wait to be parked" stat_is requests_waiting 1
printf 'second half' >&4
exec 4>&-
wait "$waiter" || fail "get --wait slow failed"
[ "$(cat "$T/slow")" = "first half second half" ] || fail "get --wait returned before the seal: $(cat "$T/slow")"

# CSV <-> Table: pandas writes, put reads it into a packed vineyard::Table
# (typed columns, nulls), get writes CSV that pandas reads back to the
# same frame.
"$PY" - "$T/t.csv" <<'PYEOF'
import sys, numpy as np, pandas as pd
n = 5000
rng = np.random.default_rng(7)
df = pd.DataFrame({"idx": np.arange(n) * 3 - 7, "price, usd": rng.random(n) * 1e6,
                   "ok": np.arange(n) % 3 == 0, "gap": np.where(np.arange(n) % 5 == 0, np.nan, 1.25)})
df.to_csv(sys.argv[1], index=False)
PYEOF
vfs put "$T/t.csv" --name table >"$T/tid" || fail "put of a CSV failed"
[ "$(xattr_get user.vineyard.typename "$MNT/names/table")" = vineyard::Table ] || fail "a CSV did not become a vineyard::Table"
"$PY" - "$MNT/names/table/schema_/meta.json" <<'PYEOF' || fail "the Table's schema is wrong"
import json, sys
f = json.load(open(sys.argv[1]))["fields_"]
assert [(x["name"], x["type"]) for x in f] == [("idx", "int64"), ("price, usd", "double"), ("ok", "bool"), ("gap", "double")], f
PYEOF
[ -f "$MNT/names/table/table.arrow" ] || fail "the CSV's Table has no Arrow view"
vfs get table -o "$T/back.csv" || fail "get of a Table failed"
"$PY" - "$T/t.csv" "$T/back.csv" <<'PYEOF' || fail "the CSV round trip changed the frame"
import sys, pandas as pd
a = pd.read_csv(sys.argv[1], float_precision="round_trip")
b = pd.read_csv(sys.argv[2], float_precision="round_trip")
pd.testing.assert_frame_equal(a, b)
PYEOF
# A DataFrame of Tensors (from Python) still gets out as CSV.
vfs get frame -o "$T/frame.csv" || fail "get of a DataFrame failed"
[ "$(cat "$T/frame.csv")" = "$(printf 'u,v\n0.0,0\n1.0,1\n2.0,2')" ] || fail "get frame wrote: $(cat "$T/frame.csv")"
# ls filters: a name glob, a type glob.
vfs ls 'tab*' | awk 'NR > 1 { print $1 }' >"$T/ls1"
[ "$(cat "$T/ls1")" = table ] || fail "ls 'tab*' listed: $(cat "$T/ls1")"
vfs ls --type 'Data*' --json >"$T/ls2"
"$PY" -c 'import json, sys; rows = json.load(open(sys.argv[1])); assert sorted(r["name"] for r in rows) == ["frame"], rows' "$T/ls2" ||
	fail "ls --type 'Data*' listed: $(cat "$T/ls2")"
# A value its forced type refuses fails the put with its place, and
# leaves nothing.
objects=$(ls "$MNT/objects" | wc -l)
printf 'a,b\n1,2\n3,x\n' >"$T/text.csv"
must_fail "column 'b', row 2: 'x' is not an int64" vfs put "$T/text.csv" --name text --type b=int64
must_fail "put takes --type COLUMN=TYPE, for a .csv file" vfs put "$T/text.csv" --type int64
printf 'a,b\n1,2\n3\n' >"$T/ragged.csv"
must_fail "line 3" vfs put "$T/ragged.csv"
[ "$(ls "$MNT/objects" | wc -l)" = "$objects" ] || fail "a refused CSV left objects behind"
[ ! -e "$MNT/names/text" ] || fail "a refused CSV left its name"

# rm, and failures.
vfs rm raw || fail "rm raw failed"
[ ! -e "$MNT/names/raw" ] || fail "rm raw left names/raw behind"
[ ! -e "$MNT/objects/$rid" ] || fail "rm raw left objects/$rid behind"
rc=0
vfs get nope >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "get of a missing name: exit $rc, expected 1"
grep -q "no such object" "$T/err" || fail "get of a missing name said: $(cat "$T/err")"
rc=0
vfs put >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "put without a file: exit $rc, expected 2"
printf 'not numpy' >"$T/bad.npy"
rc=0
vfs put "$T/bad.npy" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "a bad .npy: exit $rc, expected 1"
grep -q "not a .npy file" "$T/err" || fail "a bad .npy said: $(cat "$T/err")"
rc=0
VINEYARDFS_MOUNT=$T vfs ls >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "ls of a directory that is not a mount: exit $rc, expected 1"

# An unknown name: one clean message, the name said once, from every
# command that takes one.
for c in get stat tree rm pin; do
	rc=0
	vfs "$c" nope >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 1 ] || fail "$c of a missing name: exit $rc, expected 1"
	[ "$(cat "$T/err")" = "vineyardfs $c: nope: no such object or name" ] ||
		fail "$c of a missing name said: $(cat "$T/err")"
done

# The command table: --help lists every command, and a command given too
# few arguments prints its own usage, nothing else's, and exits 2.
vfs --help >"$T/help" || fail "vineyardfs --help failed"
for c in mount umount put get ls stat tree rm name unname stream snapshot pin unpin evict load; do
	grep -q "^  $c " "$T/help" || fail "--help does not list $c: $(cat "$T/help")"
done
rc=0
vfs snapshot >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "snapshot without arguments: exit $rc, expected 2"
[ "$(head -n 1 "$T/err")" = "usage: vineyardfs snapshot create DIR" ] ||
	fail "snapshot without arguments said: $(cat "$T/err")"
! grep -q "vineyardfs put" "$T/err" || fail "snapshot's usage shows other commands: $(cat "$T/err")"
rc=0
vfs stream push >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "stream push without a name: exit $rc, expected 2"
grep -q "^ *vineyardfs stream read NAME" "$T/err" || fail "stream's usage said: $(cat "$T/err")"
rc=0
VINEYARDFS_MOUNT=/nonexistent vfs stream pull x >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "stream with an unknown subcommand: exit $rc, expected 2"
grep -q "^usage: vineyardfs stream push" "$T/err" || fail "stream pull said: $(cat "$T/err")"
vfs help get >"$T/usage" || fail "vineyardfs help get failed"
[ "$(head -n 1 "$T/usage")" = "usage: vineyardfs get NAME|ID [-o FILE] [--wait]" ] ||
	fail "help get said: $(cat "$T/usage")"
vfs get --help | cmp -s - "$T/usage" || fail "get --help differs from help get"
rc=0
vfs nosuchcommand >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "an unknown command: exit $rc, expected 2"
grep -q "unknown command 'nosuchcommand'" "$T/err" || fail "an unknown command said: $(cat "$T/err")"

echo "PASS: cli"
