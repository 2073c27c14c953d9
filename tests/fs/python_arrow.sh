#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# python_arrow: pandas DataFrames of every column kind as vineyard::Table
# objects through the Python module: round trips of each dtype with and
# without nulls (assert_frame_equal, dtypes checked), empty frames,
# unicode, long strings, indexes, a 10^6-row frame; numeric columns come
# back as views of the table's one mapped blob (zero copy); the blob is an
# Arrow IPC file that npm's apache-arrow reads with the same values; a
# hand-made unpacked table and a RecordBatch read too; what has no Arrow
# type is refused (TypeError naming the column) and leaves nothing behind;
# numeric frames stay DataFrames unless asked.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"
# shellcheck source=SCRIPTDIR/../arrow_js.sh
. "$TESTS_SRCDIR/arrow_js.sh"

arrow_js_setup
vfs_mount
PYTHONPATH=$TESTS_SRCDIR/../python VINEYARDFS_MOUNT=$MNT "$PY" - "$T" <<'EOF' ||
import os, sys
import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal
import vineyardfs

t = sys.argv[1]
vfs = vineyardfs.Client()
mnt = vfs.mount

def rt(df, arrow=True, **kw):
    """put then get: an equal frame, dtypes included."""
    oid = vfs.put(df, arrow=arrow, **kw)
    assert vfs.meta(oid)["typename"] == "vineyard::Table", vfs.meta(oid)["typename"]
    back = vfs.get(oid)
    assert_frame_equal(back, df)
    return oid, back

n = 7
nulls = np.arange(n) % 3 == 1
kinds = {
    "i8": np.arange(n, dtype=np.int8), "u16": np.arange(n, dtype=np.uint16),
    "i32": np.arange(n, dtype=np.int32) - 3, "u64": np.arange(n, dtype=np.uint64) << 60,
    "f32": np.arange(n, dtype=np.float32) / 3, "f64": np.r_[np.arange(n - 1) / 7, np.nan],
    "bool": np.arange(n) % 2 == 0,
    "str": np.array(["a", "bb", "", "日本語", "x" * 70000, "émoji 🎉", "z"], dtype=object),
    "bytes": np.array([b"\x00\xff", b"", b"b", b"c" * 9, b"d", b"e", b"f"], dtype=object),
    "ts": pd.date_range("1999-12-31 23:59:59", periods=n, freq="37s"),
    "tstz": pd.date_range("2020-03-29", periods=n, freq="h", tz="Europe/Paris"),
    "dur": pd.to_timedelta(np.arange(n) * 1.5, unit="s"),
    "cat": pd.Categorical(list("abcabca")),
    "catint": pd.Categorical(np.arange(n) % 3 * 10, ordered=True),
    "Int64": pd.array(np.arange(n), dtype="Int64"), "UInt8": pd.array(np.arange(n), dtype="UInt8"),
    "Float64": pd.array(np.arange(n) / 2, dtype="Float64"), "boolean": pd.array(np.arange(n) % 2 == 1, dtype="boolean"),
    "string": pd.array(list("abcdefg"), dtype="string"),
}
# Each kind alone, without and (where pandas can hold one) with nulls.
for k, col in kinds.items():
    rt(pd.DataFrame({k: col}))
    s = pd.Series(col)
    if k in ("str", "bytes", "string", "Int64", "UInt8", "Float64", "boolean", "cat", "catint"):
        s = s.mask(nulls)  # None / pd.NA / NaN as the dtype holds nulls
    elif k in ("ts", "tstz", "dur"):
        s = s.mask(nulls)  # NaT
    else:
        continue
    rt(pd.DataFrame({k: s}))
# All together, with nulls, the column order kept.
mixed = pd.DataFrame({k: pd.Series(c).mask(nulls) if k in ("str", "Int64", "ts", "cat", "boolean") else c
                      for k, c in kinds.items()})
oid, back = rt(mixed, name="mixed")
assert list(back.columns) == list(kinds), list(back.columns)
# Object columns: None and NaN are both nulls; an all-null column is text.
# A frame with a column a DataFrame cannot hold is a table unasked.
_, b = rt(pd.DataFrame({"s": ["a", None, np.nan], "n": [None, None, None]}), arrow=None)
assert b["s"].tolist() == ["a", None, None], b["s"].tolist()

# Empty frames and 0 rows.
rt(pd.DataFrame(), arrow=True)
rt(pd.DataFrame({"a": pd.Series([], dtype="int64"), "s": pd.Series([], dtype=object),
                 "c": pd.Categorical([]), "t": pd.Series([], dtype="datetime64[ns]")}), arrow=True)
# Indexes: a RangeIndex is kept as metadata, any other as columns.
rt(pd.DataFrame({"x": [1, 2, 3]}, index=pd.RangeIndex(10, 16, 2, name="r")), arrow=True)
oid, _ = rt(pd.DataFrame({"x": [1, 2, 3]}, index=pd.Index(["a", "b", "c"], name="k")))
assert [f["name"] for f in vfs.meta(oid)["schema_"]["fields_"]] == ["x", "__index_level_0__"]
rt(pd.DataFrame({"x": [1.5, 2]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["p", "q"])))

# A 10^6-row frame: numeric and temporal columns are views of the one
# mapped blob: their data lies inside a shared read-only mapping of it.
rows = 10**6
rng = np.random.default_rng(1)
big = pd.DataFrame({"i": np.arange(rows), "f": rng.random(rows),
                    "s": np.array(["row %d" % i for i in range(rows)], dtype=object),
                    "t": pd.date_range("2000-01-01", periods=rows, freq="s"),
                    "c": pd.Categorical(rng.integers(0, 50, rows).astype(str)), "b": rng.random(rows) < 0.5})
oid, back = rt(big)
maps = []
for line in open("/proc/self/maps"):
    f = line.split()
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    maps.append((lo, hi, f[1], f[-1]))
def mapped(a):
    addr = a.__array_interface__["data"][0]
    return [m for m in maps if m[0] <= addr < m[1]]
mappings = set()
for c in ("i", "f", "t"):
    a = back[c].to_numpy()
    m = mapped(a)
    assert m and m[0][2] == "r--s" and m[0][3].startswith(mnt + "/objects/"), (c, m)
    assert not a.flags.writeable
    mappings.add(m[0][:2])
assert len(mappings) == 1, mappings  # one mapping: the blob is mapped once
a = back["b"].to_numpy()
assert not mapped(a) or mapped(a)[0][2] != "r--s"  # bools are unpacked: a copy
meta = vfs.meta(oid)
assert meta["partitions_-0"]["__columns_-0"]["buffer_"]["buffer_"]["id"] == meta["ipc_"]["id"], meta["ipc_"]
del back, a

# The blob is an Arrow IPC file: apache-arrow reads the mixed table from it.
with open(os.path.join(t, "mixed.id"), "w") as f:
    f.write(vfs.meta("mixed")["id"])

# Numeric frames stay DataFrames of Tensors unless asked; both read.
num = pd.DataFrame({"x": np.arange(5.0), "y": np.arange(5)})
assert vfs.meta(vfs.put(num, name="num"))["typename"] == "DataFrame"
assert_frame_equal(vfs.get("num"), num)
rt(num, arrow=True)
try:
    vfs.put(pd.DataFrame({"s": ["a"]}), arrow=False)
    raise AssertionError("arrow=False put a text column")
except TypeError as e:
    assert "column 's' has dtype object" in str(e), e

# A RecordBatch of the table reads alone; an unpacked table (a blob per
# buffer, as v6d makes them, no ipc_) reads as well.
batch = vfs.meta("mixed")["partitions_-0"]["id"]
got = vfs.get(batch)
assert got["str"].tolist() == [None if z else v for v, z in zip(kinds["str"], nulls)], got["str"].tolist()
assert got["Int64"].dtype == "Int64" and list(got.columns) == list(kinds)
def blob(data):
    return vfs.meta(vfs.put(bytes(data)))["buffer_"]["id"]
empty = blob(b"")
x = vfs.create("vineyard::NumericArray<int64>", {"buffer_": blob(np.array([1, 0, 3], dtype=np.int64)),
               "null_bitmap_": blob(b"\x05")}, {"length_": 3, "null_count_": 1, "offset_": 0})
s = vfs.create("vineyard::BaseBinaryArray<arrow::StringArray>", {
    "buffer_offsets_": blob(np.array([0, 1, 3, 6], dtype=np.int32)), "buffer_data_": blob(b"abbccc"),
    "null_bitmap_": empty}, {"length_": 3, "null_count_": 0, "offset_": 0})
fields = [{"name": "x", "type": "int64", "nullable": True}, {"name": "s", "type": "string", "nullable": True}]
schema = vfs.create("vineyard::SchemaProxy", {}, {"fields_": fields, "schema_textual_": "x: int64\ns: string"})
rb = vfs.create("vineyard::RecordBatch", {"schema_": schema, "__columns_-0": x, "__columns_-1": s},
                {"column_num_": 2, "row_num_": 3, "__columns_-size": 2})
tb = vfs.create("vineyard::Table", {"schema_": schema, "partitions_-0": rb, "partitions_-1": rb},
                {"num_rows_": 6, "num_columns_": 2, "batch_num_": 2, "partitions_-size": 2})
want = pd.DataFrame({"x": pd.array([1, None, 3] * 2, dtype="Int64"), "s": ["a", "bb", "ccc"] * 2})
assert_frame_equal(vfs.get(tb), want)

# What has no Arrow type: TypeError naming the column, nothing left.
before = sorted(os.listdir(os.path.join(mnt, "objects")))
for bad, what in [(pd.DataFrame({"d": [{"a": 1}, {}]}), "column 'd' holds dict values"),
                  (pd.DataFrame({"ok": ["a", "b"], "m": ["a", 1]}), "column 'm' holds int values"),
                  (pd.DataFrame({"p": pd.period_range("2020", periods=2)}), "column 'p' has dtype period"),
                  ([pd.DataFrame({"c": np.zeros(2, dtype=np.complex128)})], "column 'c' has dtype complex128")]:
    try:
        vfs.put(bad)
        raise AssertionError("put of %r worked" % what)
    except TypeError as e:
        assert what in str(e), (what, e)
try:
    vfs.put(pd.DataFrame([[1, 2]], columns=["c", "c"]), arrow=True)
    raise AssertionError("duplicate column names worked")
except ValueError as e:
    assert "distinct" in str(e), e
assert sorted(os.listdir(os.path.join(mnt, "objects"))) == before
print("python arrow: ok")
EOF
	fail "the Python Arrow test failed"

# apache-arrow reads the mixed table's blob, the Arrow IPC file.
id=$(cat "$T/mixed.id")
node "$TESTS_SRCDIR/arrow_ipc_print.mjs" "$MNT/objects/$id/ipc_" >"$T/js" ||
	fail "apache-arrow cannot read the table's blob"
for want in 'field str Utf8 true' 'field tstz Timestamp<NANOSECOND, Europe/Paris> true' \
	'field cat Dictionary<Int8, Utf8> true' 'batches 7' \
	'str nulls=2 ["a",null,"","日本語",null,"émoji 🎉","z"]' \
	'i8 nulls=0 [0,1,2,3,4,5,6]' 'bool nulls=0 [true,false,true,false,true,false,true]' \
	'cat nulls=2 ["a",null,"c","a",null,"c","a"]' 'Int64 nulls=2 ["0",null,"2","3",null,"5","6"]'; do
	grep -qxF "$want" "$T/js" || fail "apache-arrow reads otherwise: no line '$want' in: $(cut -c1-200 "$T/js")"
done
echo "PASS: python_arrow"
