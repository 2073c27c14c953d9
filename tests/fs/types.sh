#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# shellcheck disable=SC2012 # ls is the user's tool here; the names are plain
# types: the built-in types beyond Blob, Tensor and DataFrame through the
# Python module (Sequence, Tuple, nested ones, Scalar of each kind, Graph
# with and without properties), read back by the module and by plain
# tools (cat, getfattr, ls, numpy.memmap of a member's blob, vineyardfs
# tree/stat); inputs the module refuses before it writes anything; and a
# Graph the daemon refuses (EINVAL) leaving nothing behind.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

vfs_mount
export VINEYARDFS_MOUNT=$MNT
export PYTHONPATH=$TESTS_SRCDIR/../python
vfs()
{
	"$VINEYARDFS" "$@" --mount "$MNT"
}

# ---- round trips through the module ----
"$PY" - <<'EOF' || fail "the Python round trips failed"
import mmap
import os
import numpy as np
import pandas as pd
import vineyardfs

mnt = os.environ["VINEYARDFS_MOUNT"]
vfs = vineyardfs.Client()


def blob_of(*path):
    """The real path of the blob file at names/<path>."""
    return os.path.realpath(os.path.join(mnt, "names", *path))


# A Sequence holding a Tensor, a DataFrame, a Blob and a Tuple.
t = np.arange(12, dtype=np.int32).reshape(3, 4)
df = pd.DataFrame({"x": np.arange(5.0) / 4, "y": np.arange(5, dtype=np.int64) * 10,
                   "z": np.arange(5) % 2 == 0})
sid = vfs.put([t, df, b"raw bytes", ("a", 2)], name="seq")
assert sid.startswith("o") and len(sid) == 17, sid
seq = vfs.get("seq")
assert type(seq) is list and len(seq) == 4, seq
assert isinstance(seq[0], np.memmap) and seq[0].dtype == np.int32 and seq[0].shape == (3, 4), seq[0]
assert (seq[0] == t).all() and not seq[0].flags.writeable
# No copy: the element is a map of the element Tensor's own blob.
assert seq[0].filename == blob_of("seq", "__elements_-0", "buffer_"), seq[0].filename
assert isinstance(seq[1], pd.DataFrame) and list(seq[1].columns) == ["x", "y", "z"] and seq[1].equals(df), seq[1]
x = seq[1]["x"].values
assert isinstance(x, np.memmap) or isinstance(x.base, np.memmap), type(x.base)
assert isinstance(seq[2], memoryview) and bytes(seq[2]) == b"raw bytes", bytes(seq[2])
assert isinstance(seq[2].obj, mmap.mmap) and seq[2].readonly, seq[2].obj  # mapped, not read
assert seq[3] == ("a", 2) and type(seq[3]) is tuple and type(seq[3][1]) is int, seq[3]
assert vfs.get(sid)[3] == ("a", 2)
meta = vfs.meta("seq")
assert meta["typename"] == "Sequence" and meta["size_"] == 4, meta
assert [meta["__elements_-%d" % i]["typename"] for i in range(4)] == ["Tensor", "DataFrame", "Blob", "Tuple"], meta
assert meta["nbytes"] == t.nbytes + 5 * (8 + 8 + 1) + len(b"raw bytes"), meta["nbytes"]

# A Tuple holding Scalars and a Sequence holding a Tensor.
tup = vfs.get(vfs.put((7, 2.5, "three", [np.arange(3.0)], True), name="tup"))
assert type(tup) is tuple and len(tup) == 5, tup
assert tup[:3] == (7, 2.5, "three") and tup[4] is True, tup
assert type(tup[3]) is list and len(tup[3]) == 1 and (tup[3][0] == np.arange(3.0)).all(), tup[3]
assert vfs.meta("tup")["__elements_-3"]["typename"] == "Sequence"

# Empty ones.
assert vfs.get(vfs.put([], name="none")) == [] and vfs.get(vfs.put((), name="nothing")) == ()
assert vfs.meta("none")["size_"] == 0 and vfs.meta("nothing")["typename"] == "Tuple"

# Scalars of each kind: the value and its Python type come back, and the
# type_ field says what was stored.
cases = {
    "i": (42, int, "int64"),
    "imin": (-(1 << 63), int, "int64"),
    "f": (2.5, float, "float64"),
    "fwhole": (3.0, float, "float64"),
    "s": ("h\u00e9llo w\u00f6rld", str, "str"),
    "empty": ("", str, "str"),
    "t": (True, bool, "bool"),
    "no": (False, bool, "bool"),
    "f32": (np.float32(0.5), float, "float32"),
    "u8": (np.uint8(200), int, "uint8"),
    "i16": (np.int16(-300), int, "int16"),
    "nb": (np.bool_(False), bool, "bool"),
}
for name, (value, pytype, type_) in cases.items():
    vfs.put(value, name=name)
    back = vfs.get(name)
    assert type(back) is pytype and back == value, (name, back, type(back))
    meta = vfs.meta(name)
    assert meta["typename"] == "Scalar" and meta["type_"] == type_ and meta["nbytes"] == 0, meta
# Written by another client, a float's value may be a JSON integer: still a float.
fid = vfs._request({"op": "create", "typename": "Scalar", "fields": {"type_": "float32", "value_": 3}})["id"]
assert type(vfs.get(fid)) is float and vfs.get(fid) == 3.0, vfs.get(fid)
vfs.delete(fid)

# A Graph with property DataFrames: 3 vertices, 4 edges.
offsets, edges = [0, 2, 3, 4], [1, 2, 2, 0]
vp = pd.DataFrame({"rank": np.array([0.5, 0.25, 0.25]), "label": np.array([1, 2, 3], dtype=np.int32)})
ep = pd.DataFrame({"w": np.array([1.0, 2.0, 3.0, 4.0])})
gid = vfs.put_graph(offsets, edges, vertex_props=vp, edge_props=ep, name="g")
g = vfs.get("g")
assert isinstance(g, vineyardfs.Graph) and (g.vertex_num, g.edge_num) == (3, 4), g
for attr, want in (("offsets", offsets), ("edges", edges)):
    a = getattr(g, attr)
    assert isinstance(a, np.memmap) and a.dtype == np.int64 and not a.flags.writeable, (attr, type(a), a.dtype)
    assert a.tolist() == want, (attr, a)
    assert a.filename == blob_of("g", attr, "buffer_"), a.filename
assert g.vertex_props.equals(vp) and list(g.vertex_props.columns) == ["rank", "label"], g.vertex_props
assert g.edge_props.equals(ep), g.edge_props
assert vfs.get(gid).edges.tolist() == edges
# A Graph read back can be put again, as it is.
g2 = vfs.get(vfs.put(g, name="g2"))
assert g2.offsets.tolist() == offsets and g2.edges.tolist() == edges and g2.vertex_props.equals(vp)

# Without properties; a Graph made by hand; a graph with no edges.
vfs.put(vineyardfs.Graph(np.array([0, 1, 2], dtype=np.int32), (1, 0)), name="g0")
g0 = vfs.get("g0")
assert (g0.vertex_num, g0.edge_num) == (2, 2) and g0.vertex_props is None and g0.edge_props is None, g0
assert g0.offsets.tolist() == [0, 1, 2] and g0.edges.tolist() == [1, 0]
assert "vertex_properties_" not in vfs.meta("g0") and "edge_properties_" not in vfs.meta("g0")
ge = vfs.get(vfs.put_graph([0, 0, 0], [], name="gempty"))
assert (ge.vertex_num, ge.edge_num) == (2, 0) and ge.edges.shape == (0,) and not ge.edges.flags.writeable, ge

# Any other typename: get gives the metadata tree.
uid = vfs._request({"op": "create", "typename": "my::Thing", "fields": {"answer_": 42}})["id"]
other = vfs.get(uid)
assert type(other) is dict and other["typename"] == "my::Thing" and other["answer_"] == 42, other
vfs.delete(uid)
print("types: round trips ok")
EOF

# ---- the same objects with plain tools ----
[ "$(xattr_get user.vineyard.typename "$MNT/names/seq")" = Sequence ] || fail "seq is not a Sequence"
[ "$(xattr_get user.vineyard.typename "$MNT/names/tup")" = Tuple ] || fail "tup is not a Tuple"
[ "$(xattr_get user.vineyard.typename "$MNT/names/i")" = Scalar ] || fail "i is not a Scalar"
[ "$(xattr_get user.vineyard.typename "$MNT/names/g")" = Graph ] || fail "g is not a Graph"
[ "$(xattr_get user.vineyard.size_ "$MNT/names/seq")" = 4 ] || fail "seq's size_ is not 4"
[ "$(xattr_get user.vineyard.type_ "$MNT/names/i")" = int64 ] || fail "i's type_ is not int64"
[ "$(xattr_get user.vineyard.value_ "$MNT/names/i")" = 42 ] || fail "i's value_ is not 42"
[ "$(xattr_get user.vineyard.value_ "$MNT/names/f")" = 2.5 ] || fail "f's value_ is not 2.5"
[ "$(xattr_get user.vineyard.value_ "$MNT/names/t")" = true ] || fail "t's value_ is not true"
[ "$(xattr_get user.vineyard.type_ "$MNT/names/f32")" = float32 ] || fail "f32's type_ is not float32"
[ "$(xattr_get user.vineyard.vertex_num_ "$MNT/names/g")" = 3 ] || fail "g's vertex_num_ is not 3"
[ "$(xattr_get user.vineyard.edge_num_ "$MNT/names/g")" = 4 ] || fail "g's edge_num_ is not 4"
# The member xattr and the member link name the same object.
off=$(readlink "$MNT/names/g/offsets")
[ "$(xattr_get user.vineyard.member.offsets "$MNT/names/g")" = "${off##*/}" ] ||
	fail "g's member.offsets is not what names/g/offsets links to ($off)"

[ "$(ls "$MNT/names/seq/" | tr '\n' ' ')" = "__elements_-0 __elements_-1 __elements_-2 __elements_-3 meta.json " ] ||
	fail "ls names/seq: $(ls "$MNT/names/seq/")"
[ "$(ls "$MNT/names/g/" | tr '\n' ' ')" = "edge_properties_ edges meta.json offsets vertex_properties_ " ] ||
	fail "ls names/g: $(ls "$MNT/names/g/")"
[ "$(ls "$MNT/names/g0/" | tr '\n' ' ')" = "edges meta.json offsets " ] || fail "ls names/g0: $(ls "$MNT/names/g0/")"
[ "$(ls "$MNT/names/i/")" = meta.json ] || fail "ls names/i: $(ls "$MNT/names/i/")"
# Elements are links to object directories; the Blob element's bytes are a file.
if [ ! -L "$MNT/names/seq/__elements_-2" ] || [ ! -d "$MNT/names/seq/__elements_-2" ]; then
	fail "names/seq/__elements_-2 is not a link to an object directory"
fi
[ "$(cat "$MNT/names/seq/__elements_-2/buffer_")" = "raw bytes" ] || fail "cat of the Blob element's buffer_"
[ "$(stat -c %s "$MNT/names/g/offsets/buffer_")" = 32 ] || fail "g's offsets blob is not 4 int64s"
[ "$(stat -c %s "$MNT/names/seq/__elements_-0/buffer_")" = 48 ] || fail "seq's Tensor blob is not 12 int32s"

# meta.json, as cat shows it, and the graph's arrays as numpy maps them.
cat "$MNT/names/seq/meta.json" >"$T/seq.json" || fail "cat names/seq/meta.json"
cat "$MNT/names/s/meta.json" >"$T/s.json" || fail "cat names/s/meta.json"
"$PY" - "$T/seq.json" "$T/s.json" "$MNT" <<'EOF' || fail "meta.json or the graph's blobs are not as written"
import json, sys
import numpy as np
seq, s, mnt = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
assert seq["typename"] == "Sequence" and seq["size_"] == 4, seq
e0, e3 = seq["__elements_-0"], seq["__elements_-3"]
assert e0["typename"] == "Tensor" and e0["value_type_"] == "int32" and e0["shape_"] == [3, 4], e0
assert e3["typename"] == "Tuple" and e3["size_"] == 2, e3
a = e3["__elements_-0"]
assert (a["typename"], a["type_"], a["value_"]) == ("Scalar", "str", "a"), a
assert seq["__elements_-1"]["columns_"] == ["x", "y", "z"], seq["__elements_-1"]
assert s["type_"] == "str" and s["value_"] == "h\u00e9llo w\u00f6rld", s
offsets = np.memmap(mnt + "/names/g/offsets/buffer_", dtype=np.int64, mode="r")
edges = np.memmap(mnt + "/names/g/edges/buffer_", dtype=np.int64, mode="r")
rank = np.memmap(mnt + "/names/g/vertex_properties_/rank/buffer_", dtype=np.float64, mode="r")
assert offsets.tolist() == [0, 2, 3, 4] and edges.tolist() == [1, 2, 2, 0], (offsets, edges)
assert rank.tolist() == [0.5, 0.25, 0.25], rank
# Vertex 0's out-edges, by the offsets.
assert edges[offsets[0]:offsets[1]].tolist() == [1, 2]
EOF

# vineyardfs tree: the member structure, ids and sizes aside.
vfs tree g >"$T/tree" || fail "vineyardfs tree g failed"
sed -E 's/ [ob][0-9a-f]{16} / /; s/, [0-9]+ bytes$//' "$T/tree" >"$T/tree.shape"
cat >"$T/tree.want" <<'EOF'
g Graph
  offsets Tensor
    buffer_ Blob
  edges Tensor
    buffer_ Blob
  vertex_properties_ DataFrame
    rank Tensor
      buffer_ Blob
    label Tensor
      buffer_ Blob
  edge_properties_ DataFrame
    w Tensor
      buffer_ Blob
EOF
diff -u "$T/tree.want" "$T/tree.shape" || fail "vineyardfs tree g: $(cat "$T/tree")"
# 32 + 32 (offsets, edges) + 24 + 12 (vertex properties) + 32 (edge properties).
head -n 1 "$T/tree" | grep -qE '^g o[0-9a-f]{16} Graph, 132 bytes$' || fail "tree g's first line: $(head -n 1 "$T/tree")"
vfs tree seq >"$T/tree" || fail "vineyardfs tree seq failed"
grep -qE '^    __elements_-1 o[0-9a-f]{16} Scalar, 0 bytes$' "$T/tree" ||
	fail "tree seq does not show the nested Tuple's Scalar: $(cat "$T/tree")"
vfs stat i --json >"$T/stat" || fail "vineyardfs stat i failed"
for want in '"typename":"Scalar"' '"type_":"int64"' '"value_":42'; do
	grep -qF "$want" "$T/stat" || fail "vineyardfs stat i has no $want: $(cat "$T/stat")"
done
vfs stat g0 --json >"$T/stat" || fail "vineyardfs stat g0 failed"
for want in '"typename":"Graph"' '"vertex_num_":2' '"edge_num_":2'; do
	grep -qF "$want" "$T/stat" || fail "vineyardfs stat g0 has no $want: $(cat "$T/stat")"
done

# ---- refusals: nothing is left behind ----
nobj=$(ls "$MNT/objects" | wc -l)
nblob=$(ls "$MNT/blobs" | wc -l)
names=$(ls "$MNT/names")
"$PY" - <<'EOF' || fail "the refusals test failed"
import errno, os
import numpy as np
import pandas as pd
import vineyardfs

mnt = os.environ["VINEYARDFS_MOUNT"]
vfs = vineyardfs.Client()
names = vfs.list()


def count():
    return len(os.listdir(mnt + "/objects")), len(os.listdir(mnt + "/blobs")), len(os.listdir(mnt + "/names"))


before = count()
df = pd.DataFrame({"a": np.arange(3)})
me = [1]
me.append(me)
# Refused by the module, before anything is written (the good parts come first).
bad = [
    ([np.arange(3), b"x", None], TypeError, "[2]: cannot store a NoneType"),
    ({"a": 1}, TypeError, "cannot store a dict"),
    ([df, (1, {2})], TypeError, "[1][1]: cannot store a set"),
    (1 << 63, ValueError, "does not fit in 64 signed bits"),
    (float("nan"), ValueError, "no JSON form"),
    ("a\0b", ValueError, "NUL"),
    ("\ud800", ValueError, "valid Unicode"),
    (np.float16(1), TypeError, "no Scalar type"),
    (np.array(["text"]), TypeError, "unsupported dtype"),
    (np.zeros(1, dtype=np.complex128), TypeError, "unsupported dtype"),
    (pd.DataFrame({"s": [{"a": 1}]}), TypeError, "column 's' holds dict values"),
    (pd.DataFrame({"s": [1]}).astype({"s": "complex64"}), TypeError, "column 's' has dtype complex64"),
    (pd.DataFrame({"typename": [1]}), ValueError, "column 'typename' cannot be a member name"),
    (pd.DataFrame({"a/b": [1]}), ValueError, "column 'a/b' cannot be a member name"),
    (pd.DataFrame([[1, 2]], columns=["c", "c"]), ValueError, "must be distinct"),
    (me, ValueError, "the list holds itself"),
    (memoryview(np.zeros((4, 4))[:, 1]), ValueError, "C-contiguous"),
]
for value, exc, text in bad:
    try:
        vfs.put(value, name="bad")
        raise AssertionError("put(%r) was accepted" % (value,))
    except exc as e:
        assert text in str(e), (value, str(e))
    assert count() == before, (value, count(), before)
for call, exc, text in [
    (lambda: vfs.put_graph([[0, 1]], [0]), ValueError, "offsets: one dimension expected, not 2"),
    (lambda: vfs.put_graph([0, 1], [0.5]), TypeError, "edges: integers expected, not float64"),
    (lambda: vfs.put_graph([], []), ValueError, "at least one"),
    (lambda: vfs.put_graph([0, 1], [0], vertex_props={"a": [1]}), TypeError, "vertex_props must be a pandas DataFrame"),
    (lambda: vfs.put_graph([0, 1], [0], edge_props=pd.DataFrame({"s": ["x"]})), TypeError, "column 's' has dtype object"),
    (lambda: vineyardfs.Graph([0, 1], [0], vertex_num=-1), ValueError, "vertex_num must be a count"),
    (lambda: vfs.put(b"x", name="a/b"), ValueError, "holds / or NUL"),
    (lambda: vfs.put(b"x", name=""), ValueError, "is empty"),
    (lambda: vfs.put(1, name=3), TypeError, "is a int, not a str"),
]:
    try:
        call()
        raise AssertionError("accepted, expected %s" % text)
    except exc as e:
        assert text in str(e), (text, str(e))
    assert count() == before, (text, count(), before)

# Refused by the daemon, after the members were written: they go again.
for call, err, text in [
    # edges has 4 items where the offsets end at 3.
    (lambda: vfs.put_graph([0, 2, 3], [1, 0, 1, 2], name="badg"), errno.EINVAL, "edges has 4 items, 3 expected"),
    # A Graph whose counts are not the arrays'.
    (lambda: vfs.put(vineyardfs.Graph([0, 1, 2], [1, 0], vertex_num=5), name="badg"), errno.EINVAL,
     "offsets has 3 items, 6 expected"),
    # Vertex properties of 3 rows for 2 vertices.
    (lambda: vfs.put_graph([0, 1, 2], [1, 0], vertex_props=pd.DataFrame({"w": np.arange(3.0)}), name="badg"),
     errno.EINVAL, "vertex_properties_ has 3 rows, 2 expected"),
    # A taken name: the Sequence, its Tensor, its DataFrame and its columns go.
    (lambda: vfs.put([np.arange(3), pd.DataFrame({"a": [1, 2], "b": [3.0, 4.0]}), "s", b"b"], name="seq"),
     errno.EEXIST, 'name "seq" is taken'),
    (lambda: vfs.put(b"bytes", name="seq"), errno.EEXIST, ""),
]:
    try:
        call()
        raise AssertionError("accepted, expected %s" % text)
    except vineyardfs.VineyardfsError as e:
        assert e.errno == err and text in str(e), (e.errno, str(e), text)
    assert count() == before, (text, count(), before)
    assert vfs.list() == names, (text, set(vfs.list()) ^ set(names))
print("types: refusals ok")
EOF
[ "$(ls "$MNT/objects" | wc -l)" = "$nobj" ] || fail "refused puts left objects behind: $(ls "$MNT/objects" | wc -l), $nobj before"
[ "$(ls "$MNT/blobs" | wc -l)" = "$nblob" ] || fail "refused puts left blobs behind: $(ls "$MNT/blobs" | wc -l), $nblob before"
[ "$(ls "$MNT/names")" = "$names" ] || fail "refused puts changed names/: $(ls "$MNT/names")"
[ ! -e "$MNT/names/badg" ] || fail "the refused graph has a name"
echo "PASS: types"
