#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# shellcheck disable=SC2010 # ls is the user's tool here; the names are plain
# arrow: the mount's Arrow view. A packed vineyard::Table (one with a
# member ipc_) shows table.arrow in its directory and under its name: the
# ipc_ blob itself (same inode, same bytes), read by passthrough without
# growing the FUSE file's page cache (cachestat, as passthrough.sh
# measures it), read-only, listed and stat'ed without a fetch; removed
# with its table by rm -r. Tables without ipc_ and other objects have no
# view, and a member named table.arrow wins over it.
# Then with a real Arrow implementation (npm's apache-arrow 21): a CSV of
# int, float, bool, string, timestamp and date columns with empty fields
# put by the CLI is read through names/t2/table.arrow and from get -o
# x.arrow with every value, null and type checked; an IPC file that
# apache-arrow writes (a dictionary column among others) is put as it is
# and read back by pandas, from get -o x.csv and from the Python module's
# get; an unpacked table (a blob per buffer, made by hand) gets out as an
# IPC file laid out by the writer.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"
# shellcheck source=SCRIPTDIR/../arrow_js.sh
. "$TESTS_SRCDIR/arrow_js.sh"

arrow_js_setup
vfs()
{
	"$VINEYARDFS" "$@" --mount "$MNT"
}

SIZE_MB=64

# table NAME IPC_BLOB|"": create an empty vineyard::Table (no columns, no
# batches), packed when IPC_BLOB is given; its id.
table()
{
	local members='' reply

	[ -z "$2" ] || members=", \"ipc_\": \"$2\""
	reply=$(ctl "{\"op\": \"create\", \"typename\": \"vineyard::Table\", \"name\": \"$1\",
		\"fields\": {\"num_rows_\": 0, \"num_columns_\": 0, \"batch_num_\": 0, \"partitions_-size\": 0},
		\"members\": {\"schema_\": \"$SCHEMA\"$members}}")
	id_of "$reply" | grep . || fail "creating table $1 failed: $reply"
}

vfs_mount --memory 400M
[ "$(stat_get data_path)" = passthrough ] || fail "data_path is $(stat_get data_path), expected passthrough"

# The IPC bytes: any bytes will do for the view, which serves them as they are.
head -c $((SIZE_MB << 20)) /dev/urandom >"$T/ipc.bin"
cp "$T/ipc.bin" "$MNT/names/ipc" || fail "writing the ipc blob failed"
wait_sealed "$MNT/names/ipc"
blob=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/ipc") || fail "no blob for names/ipc"
reply=$(ctl '{"op": "create", "typename": "vineyard::SchemaProxy",
	"fields": {"fields_": [], "schema_textual_": ""}}')
SCHEMA=$(id_of "$reply")
[ -n "$SCHEMA" ] || fail "creating the schema failed: $reply"

packed=$(table t "$blob")
plain=$(table u "")

# Listed in the object's directory and under the name; the blob's inode.
ls "$MNT/objects/$packed" | grep -qx table.arrow || fail "objects/$packed lists no table.arrow: $(ls "$MNT/objects/$packed")"
ls "$MNT/names/t/" | grep -qx table.arrow || fail "names/t/ lists no table.arrow"
ino=$(stat -c %i "$MNT/blobs/$blob")
for f in "$MNT/objects/$packed/table.arrow" "$MNT/names/t/table.arrow"; do
	[ "$(stat -c %i "$f")" = "$ino" ] || fail "$f: inode $(stat -c %i "$f"), the ipc_ blob's is $ino"
	[ "$(stat -c %s "$f")" = $((SIZE_MB << 20)) ] || fail "$f: size $(stat -c %s "$f")"
	[ "$(stat -c %F "$f")" = "regular file" ] || fail "$f is a $(stat -c %F "$f")"
done

# Read by passthrough: the same bytes, no FUSE page cache, no read served.
view=$MNT/names/t/table.arrow
reads=$(stat_get reads_served)
before=$(cached_kb "$view") || fail "cachestat of $view failed"
cmp "$view" "$T/ipc.bin" || fail "table.arrow differs from the ipc_ blob's bytes"
after=$(cached_kb "$view") || fail "cachestat of $view failed"
[ $((after - before)) -lt $((16 << 10)) ] ||
	fail "reading the $SIZE_MB MiB view grew its page cache by $(((after - before) >> 10)) MiB (expected < 16 MiB)"
[ "$(stat_get reads_served)" = "$reads" ] || fail "the daemon served reads of the view: $reads -> $(stat_get reads_served)"

# Read-only, as the sealed blob is.
py_errno EPERM "open('$view', 'r+b')"

# No view for a table without ipc_, nor for other objects.
[ ! -e "$MNT/objects/$plain/table.arrow" ] || fail "a table without ipc_ has a table.arrow"
ls "$MNT/names/u/" | grep -qx table.arrow && fail "names/u/ lists table.arrow"
reply=$(ctl "{\"op\": \"create\", \"typename\": \"Sequence\", \"name\": \"s\",
	\"fields\": {\"size_\": 1}, \"members\": {\"__elements_-0\": \"$packed\", \"ipc_\": \"$blob\"}}")
[ -n "$(id_of "$reply")" ] || fail "creating a Sequence failed: $reply"
[ ! -e "$MNT/names/s/table.arrow" ] || fail "a Sequence with an ipc_ member has a table.arrow"

# A member of that name wins over the view.
reply=$(ctl "{\"op\": \"create\", \"typename\": \"vineyard::Table\", \"name\": \"w\",
	\"fields\": {\"num_rows_\": 0, \"num_columns_\": 0, \"batch_num_\": 0, \"partitions_-size\": 0},
	\"members\": {\"schema_\": \"$SCHEMA\", \"ipc_\": \"$blob\", \"table.arrow\": \"$SCHEMA\"}}")
[ -n "$(id_of "$reply")" ] || fail "creating table w failed: $reply"
[ -L "$MNT/names/w/table.arrow" ] || fail "the member table.arrow of w is not the link to its object"

# rm -r of the table (without -f: every unlink must succeed) removes it
# and its view; the view is unlinked as members are (the object is then
# being removed).
rm "$MNT/names/s" || fail "removing s failed"
rm -r "$MNT/objects/$packed" || fail "rm -r of the packed table failed"
[ ! -e "$MNT/objects/$packed" ] || fail "objects/$packed is still there"
[ ! -e "$MNT/names/t" ] || fail "names/t is still there"

# ---- the CLI's tables, read by apache-arrow ----
cat >"$T/t.csv" <<'EOF'
i,f,b,s,ts,tz,d
1,1.5,true,hello,2024-01-02T03:04:05,2024-01-02T03:04:05Z,2024-01-02
,2.25,False,"a,b",2024-01-02 03:04:05.123,2024-01-02T04:04:05+01:00,
3,,,,,,1970-01-01
-4,-0.5,true,"""q"" é",1969-12-31T23:59:59,1970-01-01T00:00:00.001Z,1969-12-31
EOF
cat >"$T/t.want" <<'EOF'
field i Int64 true
field f Float64 true
field b Bool true
field s Utf8 true
field ts Timestamp<NANOSECOND> true
field tz Timestamp<NANOSECOND, UTC> true
field d Date32<DAY> true
batches 4
i nulls=1 ["1",null,"3","-4"]
f nulls=1 [1.5,2.25,null,-0.5]
b nulls=1 [true,false,null,true]
s nulls=1 ["hello","a,b",null,"\"q\" é"]
ts nulls=1 [1704164645000,1704164645123,null,-1000]
tz nulls=1 [1704164645000,1704164645000,null,1]
d nulls=1 [1704153600000,null,0,-86400000]
EOF
vfs put "$T/t.csv" --name t2 >/dev/null || fail "put of the CSV failed"
node "$TESTS_SRCDIR/arrow_ipc_print.mjs" "$MNT/names/t2/table.arrow" >"$T/view.got" ||
	fail "apache-arrow cannot read names/t2/table.arrow"
diff -u "$T/t.want" "$T/view.got" || fail "apache-arrow read other values through the view"
vfs get t2 -o "$T/t2.arrow" || fail "get -o t2.arrow failed"
cmp "$T/t2.arrow" "$MNT/names/t2/table.arrow" || fail "get -o x.arrow of a packed table is not its ipc_ bytes"
node "$TESTS_SRCDIR/arrow_ipc_print.mjs" "$T/t2.arrow" >"$T/file.got" || fail "apache-arrow cannot read get -o t2.arrow"
diff -u "$T/t.want" "$T/file.got" || fail "apache-arrow read other values from get -o x.arrow"
# get -o x.csv: the same table, times in ISO 8601 (offsets as UTC, Z).
vfs get t2 -o "$T/t2.csv" || fail "get -o t2.csv failed"
cat >"$T/t2.want" <<'EOF'
i,f,b,s,ts,tz,d
1,1.5,True,hello,2024-01-02T03:04:05,2024-01-02T03:04:05Z,2024-01-02
,2.25,False,"a,b",2024-01-02T03:04:05.123,2024-01-02T03:04:05Z,
3,,,,,,1970-01-01
-4,-0.5,True,"""q"" é",1969-12-31T23:59:59,1970-01-01T00:00:00.001Z,1969-12-31
EOF
diff -u "$T/t2.want" "$T/t2.csv" || fail "get -o x.csv wrote other text"
vfs put "$T/t2.csv" --name t3 >/dev/null || fail "put of get's CSV failed"
vfs get t3 -o "$T/t3.csv" || fail "get -o t3.csv failed"
cmp "$T/t2.csv" "$T/t3.csv" || fail "the CSV round trip changed the text"

# ---- an IPC file apache-arrow writes, put as it is ----
cat >"$T/write.mjs" <<'EOF'
import { createRequire } from 'module';
import { writeFileSync } from 'fs';
const require = createRequire(process.env.NODE_PATH + '/');
const A = require('apache-arrow');
const t = new A.Table({
	k: A.vectorFromArray(['red', 'blue', null, 'red'], new A.Dictionary(new A.Utf8(), new A.Int32())),
	n: A.vectorFromArray([1, null, 3, 4], new A.Int32()),
	x: A.vectorFromArray([0.5, 1.5, null, -2], new A.Float64()),
	s: A.vectorFromArray(['a', 'é', 'c"q', null], new A.Utf8()),
	when: A.vectorFromArray([new Date(Date.UTC(2024, 0, 2)), null, new Date(0), new Date(-86400000)], new A.DateDay()),
});
writeFileSync(process.argv[2], A.tableToIPC(t, 'file'));
EOF
node "$T/write.mjs" "$T/js.arrow" || fail "apache-arrow could not write an IPC file"
vfs put "$T/js.arrow" --name js >/dev/null || fail "put of apache-arrow's IPC file failed"
cmp "$T/js.arrow" "$MNT/names/js/table.arrow" || fail "the view of a put .arrow file is not the file's bytes"
[ "$(xattr_get user.vineyard.typename "$MNT/names/js/partitions_-0/__columns_-0")" = vineyard::DictionaryArray ] ||
	fail "the dictionary column is not a vineyard::DictionaryArray"
vfs get js -o "$T/js.csv" || fail "get -o js.csv failed"
"$PY" - "$T/js.csv" <<'EOF' || fail "pandas read other values from get -o js.csv: $(cat "$T/js.csv")"
import sys, pandas as pd
df = pd.read_csv(sys.argv[1])
assert list(df.columns) == ["k", "n", "x", "s", "when"], df.columns
assert df["k"].tolist()[:2] == ["red", "blue"] and pd.isna(df["k"][2]) and df["k"][3] == "red", df["k"]
assert df["n"][0] == 1 and pd.isna(df["n"][1]) and df["n"].tolist()[2:] == [3, 4], df["n"]
assert df["x"][0] == 0.5 and df["x"][1] == 1.5 and pd.isna(df["x"][2]) and df["x"][3] == -2.0, df["x"]
assert df["s"].tolist()[:3] == ["a", "é", 'c"q'] and pd.isna(df["s"][3]), df["s"]
assert df["when"][0] == "2024-01-02" and pd.isna(df["when"][1]), df["when"]
assert df["when"].tolist()[2:] == ["1970-01-01", "1969-12-31"], df["when"]
EOF

# What pandas gets from the Python module's get of that table: the values,
# nulls and dtypes, the dictionary column as a category.
PYTHONPATH=$TESTS_SRCDIR/../python "$PY" - "$MNT" <<'EOF' || fail "the Python module's get of apache-arrow's table differs"
import sys, pandas as pd, vineyardfs
df = vineyardfs.Client(sys.argv[1]).get("js")
print(df.dtypes.to_dict())
assert list(df.columns) == ["k", "n", "x", "s", "when"], df.columns
assert isinstance(df["k"].dtype, pd.CategoricalDtype), df["k"].dtype
assert df["k"].tolist()[:2] == ["red", "blue"] and pd.isna(df["k"][2]) and df["k"][3] == "red", df["k"]
assert str(df["n"].dtype) == "Int32" and df["n"][0] == 1 and df["n"][1] is pd.NA, df["n"]
assert df["n"].tolist()[2:] == [3, 4], df["n"]
assert df["x"][0] == 0.5 and df["x"][1] == 1.5 and pd.isna(df["x"][2]) and df["x"][3] == -2.0, df["x"]
assert df["s"].tolist()[:3] == ["a", "é", 'c"q'] and pd.isna(df["s"][3]), df["s"]
assert df["when"][0] == pd.Timestamp("2024-01-02") and pd.isna(df["when"][1]), df["when"]
assert df["when"][3] == pd.Timestamp("1969-12-31"), df["when"]
EOF

# ---- an unpacked table (a blob per buffer): get -o x.arrow lays one out ----
blob_of()
{
	printf '%b' "$2" >"$MNT/names/$1" || fail "writing names/$1 failed"
	wait_sealed "$MNT/names/$1"
	xattr_get user.vineyard.member.buffer_ "$MNT/names/$1"
}
made()
{
	local reply

	reply=$(ctl "$1")
	id_of "$reply" | grep . || fail "ctl $1: $reply"
}
nv=$(blob_of nv '\005\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\007\0\0\0\0\0\0\0')
bits=$(blob_of bits '\005')
so=$(blob_of so '\0\0\0\0\001\0\0\0\001\0\0\0\003\0\0\0')
sd=$(blob_of sd 'xyz')
ncol=$(made "{\"op\": \"create\", \"typename\": \"vineyard::NumericArray<int64>\",
	\"fields\": {\"length_\": 3, \"null_count_\": 1, \"offset_\": 0},
	\"members\": {\"buffer_\": \"$nv\", \"null_bitmap_\": \"$bits\"}}")
scol=$(made "{\"op\": \"create\", \"typename\": \"vineyard::BaseBinaryArray<arrow::StringArray>\",
	\"fields\": {\"length_\": 3, \"null_count_\": 1, \"offset_\": 0},
	\"members\": {\"buffer_offsets_\": \"$so\", \"buffer_data_\": \"$sd\", \"null_bitmap_\": \"$bits\"}}")
schema=$(made '{"op": "create", "typename": "vineyard::SchemaProxy", "fields": {"fields_":
	[{"name": "n", "type": "int64", "nullable": true}, {"name": "s", "type": "string", "nullable": true}],
	"schema_textual_": "n: int64\ns: string"}}')
batch=$(made "{\"op\": \"create\", \"typename\": \"vineyard::RecordBatch\",
	\"fields\": {\"column_num_\": 2, \"row_num_\": 3, \"__columns_-size\": 2},
	\"members\": {\"schema_\": \"$schema\", \"__columns_-0\": \"$ncol\", \"__columns_-1\": \"$scol\"}}")
made "{\"op\": \"create\", \"typename\": \"vineyard::Table\", \"name\": \"u2\",
	\"fields\": {\"num_rows_\": 3, \"num_columns_\": 2, \"batch_num_\": 1, \"partitions_-size\": 1},
	\"members\": {\"schema_\": \"$schema\", \"partitions_-0\": \"$batch\"}}" >/dev/null
[ ! -e "$MNT/names/u2/table.arrow" ] || fail "an unpacked table has a table.arrow"
vfs get u2 -o "$T/u2.arrow" || fail "get -o u2.arrow of an unpacked table failed"
node "$TESTS_SRCDIR/arrow_ipc_print.mjs" "$T/u2.arrow" >"$T/u2.got" || fail "apache-arrow cannot read get -o u2.arrow"
printf 'field n Int64 true\nfield s Utf8 true\nbatches 3\nn nulls=1 ["5",null,"7"]\ns nulls=1 ["x",null,"yz"]\n' >"$T/u2.want"
diff -u "$T/u2.want" "$T/u2.got" || fail "apache-arrow read other values from the unpacked table's file"
vfs get u2 -o "$T/u2.csv" || fail "get -o u2.csv failed"
[ "$(cat "$T/u2.csv")" = "$(printf 'n,s\n5,x\n,\n7,yz')" ] || fail "get -o u2.csv wrote: $(cat "$T/u2.csv")"

echo "PASS: arrow (the view of $SIZE_MB MiB grew its page cache by $(((after - before) >> 10)) MiB)"
