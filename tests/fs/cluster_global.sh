#!/bin/bash
# cluster_global: a global object (issue 13). Four members and etcd on
# 127.0.0.1; members 1 to 3 each put a DataFrame chunk (chunk k holds rows
# k*N .. k*N+N-1 of known columns) and publish it; member 4 creates a
# GlobalDataFrame whose partitions are the three remote chunks (ctl create,
# published at once). Then: "global": true in meta.json and
# user.vineyard.global on all four, the object by name on the other three,
# nbytes the sum of the chunks'; member 4 reads it chunk by chunk, every
# value checked, and opening one chunk fetches that chunk's blobs only
# (the others' are not in its store yet); evict of it drops the copies;
# a member who is not root may
# use remote members too; a restart of member 4 keeps the object (its
# member entries come back with the mirror); a chunk deleted by its owner
# leaves the entry dangling (gone from the directory, ENOENT, meta.json
# shows its id alone) while the rest reads; deleting the global object on
# member 4 removes it everywhere and leaves the chunks to their owners.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

N=5000
KEY=$T/key
cluster_key "$KEY"

etcd_start
nodes=(x alpha beta gamma delta)
for n in 1 2 3 4; do
	member_mount "$n" "${nodes[$n]}" --cluster-key "$KEY"
done
for n in 1 2 3 4; do
	wait_until "member $n to join" cluster_is joined yes "$T/m$n"
done
D=$T/m4

# py MOUNT [ARGS...]: python3 with the module, a Client on MOUNT as c.
py()
{
	local mnt=$1

	shift
	PYTHONPATH=$TESTS_SRCDIR/../python "$PY" - "$mnt" "$@"
}

# Chunk k on member k: int64 column "row" (its global row numbers) and
# float64 column "value" (row * 0.5), published.
for k in 1 2 3; do
	py "$T/m$k" "$k" "$N" <<'EOF' || fail "put and publish chunk $k"
import sys
import numpy as np, pandas as pd
import vineyardfs
c = vineyardfs.Client(sys.argv[1])
k, n = int(sys.argv[2]), int(sys.argv[3])
rows = np.arange(k * n, k * n + n, dtype=np.int64)
c.put(pd.DataFrame({"row": rows, "value": rows * 0.5}), name="chunk%d" % k)
assert c.publish("chunk%d" % k) == "published"
EOF
done
for k in 1 2 3; do
	wait_until "chunk$k on member 4" test -e "$D/names/chunk$k"
done
ids=()
for k in 1 2 3; do
	ids[k]=$(xattr_get user.vineyard.id "$D/names/chunk$k")
done

# The global object, on member 4.
req='{"op": "create", "typename": "vineyard::GlobalDataFrame", "name": "gdf",
 "fields": {"partition_num_": 3},
 "members": {"partitions_-0": "'${ids[1]}'", "partitions_-1": "'${ids[2]}'", "partitions_-2": "'${ids[3]}'"}}'
reply=$(MNT=$D ctl "$req")
gid=$(id_of "$reply")
[ -n "$gid" ] || fail "create of the global object: $reply"
echo "$reply" | grep -q '"global":true' || fail "create does not say global: $reply"
echo "$reply" | grep -q '"state":"queued"' || fail "create did not queue the publish: $reply"
wait_until "gdf in etcd" etcd_has "/vineyardfs/t/objects/$gid"
wait_until "gdf named in etcd" etcd_has /vineyardfs/t/names/gdf

# Global on all four, by name on the other three, one meta.json.
for n in 1 2 3 4; do
	wait_until "gdf on member $n" test -e "$T/m$n/names/gdf"
	[ "$(xattr_get user.vineyard.global "$T/m$n/names/gdf")" = true ] ||
		fail "user.vineyard.global of gdf on member $n: $(xattr_get user.vineyard.global "$T/m$n/names/gdf")"
	cmp "$D/objects/$gid/meta.json" "$T/m$n/objects/$gid/meta.json" ||
		fail "meta.json of gdf differs between member 4 and member $n"
done
[ "$(xattr_get user.vineyard.global "$D/names/chunk1")" = false ] || fail "a chunk says it is global"
py "$D" "$N" <<'EOF' || fail "meta.json of gdf"
import json, sys
m = json.load(open(sys.argv[1] + "/names/gdf/meta.json"))
n = int(sys.argv[2])
assert m["global"] is True and m["instance_id"] == 4, m
parts = [m["partitions_-%d" % i] for i in range(3)]
assert [p["instance_id"] for p in parts] == [1, 2, 3], parts
assert all(p["typename"] == "DataFrame" and p["global"] is False for p in parts), parts
assert m["nbytes"] == sum(p["nbytes"] for p in parts) == 3 * n * 16, m["nbytes"]
EOF

# blobs_of MOUNT ID: the blob ids of object ID's tree, one a line.
blobs_of()
{
	py "$1" "$2" <<'EOF'
import json, sys
def walk(t):
    for k, v in t.items():
        if isinstance(v, dict) and str(v.get("id", "")).startswith("b"):
            print(v["id"])
        elif isinstance(v, dict) and "typename" in v:
            walk(v)
walk(json.load(open(sys.argv[1] + "/objects/" + sys.argv[2] + "/meta.json")))
EOF
}
# fetched K: how many of chunk K's blobs are in member 4's store.
fetched()
{
	local b c=0

	for b in $(blobs_of "$D" "${ids[$1]}"); do
		[ -f "$T/st4/mem/$b" ] && c=$((c + 1))
	done
	echo "$c"
}
for k in 1 2 3; do
	[ "$(blobs_of "$D" "${ids[$k]}" | wc -l)" = 2 ] || fail "chunk $k has not two blobs"
	[ "$(fetched "$k")" = 0 ] || fail "member 4 has chunk $k's blobs before any read"
done

# read_chunk MOUNT K: read partition K-1 of gdf on MOUNT, every value checked.
read_chunk()
{
	py "$1" "$2" "$N" <<'EOF'
import sys
import numpy as np
import vineyardfs
c = vineyardfs.Client(sys.argv[1])
k, n = int(sys.argv[2]), int(sys.argv[3])
meta = c.get("gdf")  # a type of its own: its metadata tree
df = c.get(meta["partitions_-%d" % (k - 1)]["id"])
rows = np.arange(k * n, k * n + n, dtype=np.int64)
assert list(df.columns) == ["row", "value"], df.columns
assert (df["row"].to_numpy() == rows).all(), "rows of chunk %d" % k
assert (df["value"].to_numpy() == rows * 0.5).all(), "values of chunk %d" % k
EOF
}
# Chunk by chunk: each read fetches its own blobs, and no other chunk's;
# the location of gdf says which of its blobs are here.
[ "$(xattr_get user.vineyard.location "$D/names/gdf")" = remote ] ||
	fail "location of gdf before any read: $(xattr_get user.vineyard.location "$D/names/gdf")"
for k in 1 2 3; do
	read_chunk "$D" "$k" || fail "reading chunk $k of gdf on member 4"
	want=memory,remote
	[ "$k" -lt 3 ] || want=memory
	[ "$(xattr_get user.vineyard.location "$D/names/gdf")" = "$want" ] ||
		fail "location of gdf after reading chunk $k: $(xattr_get user.vineyard.location "$D/names/gdf")"
	[ "$(fetched "$k")" = 2 ] || fail "member 4 read chunk $k but has $(fetched "$k") of its 2 blobs"
	for j in 1 2 3; do
		[ "$j" -gt "$k" ] || continue
		[ "$(fetched "$j")" = 0 ] || fail "reading chunk $k fetched chunk $j's blobs too"
	done
done
# evict of gdf on member 4 drops its copies of the chunks (nothing of it
# is member 4's to spill), then they are fetched again; pin and load of
# it concern no blob of member 4's and do not fail.
out=$("$VINEYARDFS" evict -m "$D" gdf) || fail "evict of gdf on member 4: $out"
case $out in *"evicted 6 blobs"*) ;; *) fail "evict of gdf says: $out" ;; esac
for k in 1 2 3; do
	[ "$(fetched "$k")" = 0 ] || fail "evict of gdf left chunk $k's copies"
done
[ "$(xattr_get user.vineyard.location "$D/names/gdf")" = remote ] ||
	fail "location of gdf after evict: $(xattr_get user.vineyard.location "$D/names/gdf")"
out=$("$VINEYARDFS" pin -m "$D" gdf) || fail "pin of gdf on member 4: $out"
out=$("$VINEYARDFS" load -m "$D" gdf) || fail "load of gdf on member 4: $out"
read_chunk "$D" 2 || fail "reading chunk 2 of gdf again after evict"
[ "$(fetched 2)" = 2 ] || fail "chunk 2 was not fetched again"

# On member 1 chunk 1 is its own record, and chunk 2 comes from member 2.
read_chunk "$T/m1" 2 || fail "reading chunk 2 of gdf on member 1"
read_chunk "$T/m1" 1 || fail "reading chunk 1 of gdf on member 1"
[ "$(xattr_get user.vineyard.location "$T/m1/names/chunk1")" = memory ] ||
	fail "chunk 1 on its owner: location $(xattr_get user.vineyard.location "$T/m1/names/chunk1")"

# Remote records are readable by all: a user who owns none of them may
# make a global object of them too (their uid is the publisher's).
if id nobody >/dev/null 2>&1; then
	reply=$(MNT=$D ctl '{"op": "create", "typename": "Pair", "name": "mine",
	 "members": {"a": "'${ids[1]}'", "b": "'${ids[2]}'"}}' nobody)
	echo "$reply" | grep -q '"global":true' || fail "create by nobody: $reply"
	wait_until "mine on member 2" test -e "$T/m2/names/mine"
	out=$(MNT=$D ctl '{"op": "delete", "id": "'"$(id_of "$reply")"'"}' nobody)
	echo "$out" | grep -q '"ok":true' || fail "delete by nobody: $out"
	wait_until "mine gone from member 2" test ! -e "$T/m2/names/mine"
fi

# Python's create on member 3, of member 1's and its own chunk.
py "$T/m3" "${ids[1]}" "${ids[3]}" <<'EOF' || fail "Python's create of a global object"
import sys
import vineyardfs
c = vineyardfs.Client(sys.argv[1])
oid = c.create("Pair", {"a": sys.argv[2], "b": sys.argv[3]}, name="pair3")
m = c.meta("pair3")
assert m["id"] == oid and m["global"] is True and m["a"]["instance_id"] == 1, m
c.delete("pair3")
assert "pair3" not in c.list()
EOF
[ -e "$T/m3/names/chunk3" ] || fail "deleting pair3 took chunk 3 with it"

# A restart of member 4 keeps gdf: its rows are member 4's own.
"$VINEYARDFS" umount "$D" >/dev/null || fail "umount member 4"
member_mount 4 delta --cluster-key "$KEY"
[ -d "$D/objects/$gid" ] || fail "gdf is gone after a restart of member 4"
[ "$(xattr_get user.vineyard.member.partitions_-1 "$D/objects/$gid")" = "${ids[2]}" ] ||
	fail "gdf lost its member ids at the restart"
wait_until "member 4 to join again" cluster_is joined yes "$D"
wait_until "the mirror to show chunk 3 again" test -d "$D/objects/$gid/partitions_-2"
[ "$(xattr_get user.vineyard.global "$D/names/gdf")" = true ] || fail "gdf is not global after a restart"
cmp "$D/objects/$gid/meta.json" "$T/m1/objects/$gid/meta.json" ||
	fail "meta.json of gdf after the restart differs from member 1's"
read_chunk "$D" 3 || fail "reading chunk 3 of gdf after a restart of member 4"
grep -q "has a member that no longer exists" "$T/st4/vineyardfs.log" &&
	fail "member 4's restart dropped an object with remote members"

# Chunk 1 deleted by its owner: not held back; gdf's entry dangles.
rm "$T/m1/names/chunk1"
wait_until "chunk 1 gone from member 4" test ! -e "$D/objects/${ids[1]}"
wait_until "partitions_-0 gone from gdf on member 4" test ! -e "$D/objects/$gid/partitions_-0"
py_errno ENOENT "open('$D/objects/$gid/partitions_-0/meta.json')"
py "$D" "${ids[1]}" <<'EOF' || fail "meta.json of gdf with a dangling member"
import json, sys
m = json.load(open(sys.argv[1] + "/names/gdf/meta.json"))
assert m["partitions_-0"] == {"id": sys.argv[2]}, m["partitions_-0"]
assert m["global"] is True, m
EOF
wait_until "partitions_-0 gone from gdf on member 2" test ! -e "$T/m2/objects/$gid/partitions_-0"
read_chunk "$T/m2" 3 || fail "reading chunk 3 of gdf on member 2 after chunk 1 went"
# Restarted members list gdf again and make no record of chunk 1 from it
# (its owner deleted it), be they another member or the chunk's owner:
# member 1 from gdf's key as first published (chunk 1's whole tree in
# it), member 2 after gdf is published again (chunk 1 as its id alone).
for n in 1 2; do
	if [ "$n" = 2 ]; then
		out=$("$VINEYARDFS" publish -m "$D" gdf) || fail "publish gdf again: $out"
	fi
	"$VINEYARDFS" umount "$T/m$n" >/dev/null || fail "umount member $n"
	member_mount "$n" "${nodes[$n]}" --cluster-key "$KEY"
	wait_until "member $n to join again" cluster_is joined yes "$T/m$n"
	wait_until "gdf on member $n again" test -e "$T/m$n/objects/$gid/partitions_-2"
	[ ! -e "$T/m$n/objects/${ids[1]}" ] || fail "member $n shows the deleted chunk 1 again"
	[ ! -e "$T/m$n/objects/$gid/partitions_-0" ] || fail "member $n shows gdf's partitions_-0 again"
	[ "$(xattr_get user.vineyard.member.partitions_-0 "$T/m$n/objects/$gid")" = "${ids[1]}" ] ||
		fail "gdf on member $n lost its member partitions_-0"
	cmp "$D/objects/$gid/meta.json" "$T/m$n/objects/$gid/meta.json" ||
		fail "meta.json of gdf on member $n differs from member 4's after chunk 1 went"
done
read_chunk "$T/m1" 3 || fail "reading chunk 3 of gdf on member 1 after its restart"

# Deleting gdf on member 4 removes it everywhere; the chunks stay.
rm "$D/names/gdf"
wait_until "gdf gone from etcd" not etcd_has "/vineyardfs/t/objects/$gid"
for n in 1 2 3 4; do
	wait_until "gdf gone from member $n" test ! -e "$T/m$n/objects/$gid"
	[ ! -e "$T/m$n/names/gdf" ] || fail "the name gdf is still on member $n"
done
[ -e "$T/m2/names/chunk2" ] || fail "chunk 2 went with gdf on its owner"
[ -e "$D/names/chunk3" ] || fail "chunk 3 went with gdf on member 4"
read_chunk_direct()
{
	py "$1" "$N" <<'EOF'
import sys
import numpy as np
import vineyardfs
c = vineyardfs.Client(sys.argv[1])
n = int(sys.argv[2])
df = c.get("chunk3")
assert (df["row"].to_numpy() == np.arange(3 * n, 4 * n)).all()
EOF
}
read_chunk_direct "$D" || fail "chunk 3 does not read on member 4 after gdf went"
exit 0
