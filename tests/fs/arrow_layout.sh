#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# arrow_layout: the ctl op through .vineyardfs/ctl, as the Python client
# uses it: the reply's pieces and offsets, with the buffers filled in, make
# an Arrow IPC file (written through names/) that npm's apache-arrow reads
# back with every value and null; anyone may ask; bad requests get EINVAL
# with a message naming the bad part.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"
# shellcheck source=SCRIPTDIR/../arrow_js.sh
. "$TESTS_SRCDIR/arrow_js.sh"

arrow_js_setup
vfs_mount

# expect_einval WANT REQUEST: the reply is EINVAL and its message says WANT.
expect_einval()
{
	local reply

	reply=$(ctl "$2") || fail "ctl request failed: $2"
	case $reply in
	*'"ok":false'*'"error":"EINVAL"'*"$1"*) ;;
	*) fail "request $2: expected EINVAL saying '$1', got: $reply" ;;
	esac
}

# A table of 5 rows: int64 x, string s, dictionary c; nulls in each.
"$PY" - "$MNT/.vineyardfs/ctl" "$MNT/names/t" <<'PY' || fail "the layout did not make a file"
import base64, json, struct, sys

req = {"op": "arrow_layout",
       "fields": [{"name": "x", "type": "int64", "nullable": True},
                  {"name": "s", "type": "string", "nullable": True},
                  {"name": "c", "type": "dictionary<values=string, indices=int32, ordered=0>",
                   "nullable": True}],
       "dictionaries": [{"field": 2, "length": 3, "null_count": 0, "buffers": [0, 16, 12]}],
       "batches": [{"rows": 5, "columns": [{"null_count": 1, "buffers": [1, 40]},
                                           {"null_count": 1, "buffers": [1, 24, 6]},
                                           {"null_count": 1, "buffers": [1, 20]}]}]}
with open(sys.argv[1], "r+b", buffering=0) as f:
    f.write(json.dumps(req).encode())
    r = json.loads(f.read())
assert r["ok"], r
img = bytearray(r["nbytes"])
for p in r["pieces"]:
    data = base64.b64decode(p["data"])
    img[p["offset"]:p["offset"] + len(data)] = data
bufs = [[b"\x1d", struct.pack("<5q", 1, 0, 3, 4, 5)],
        [b"\x1b", struct.pack("<6i", 0, 1, 3, 3, 3, 6), b"abbccc"],
        [b"\x1b", struct.pack("<5i", 0, 1, 0, 0, 2)]]
for col, offs in zip(bufs, r["batches"][0]["columns"]):
    for data, o in zip(col, offs):
        assert o % 64 == 0, offs
        img[o:o + len(data)] = data
d = r["dictionaries"][0]
assert d["field"] == 2, d
for data, o in zip([b"", struct.pack("<4i", 0, 3, 8, 12), b"redgreenblue"], d["buffers"]):
    img[o:o + len(data)] = data
with open(sys.argv[2], "wb") as f:
    f.write(img)
PY
wait_sealed "$MNT/names/t"
node "$TESTS_SRCDIR/arrow_ipc_print.mjs" "$MNT/names/t" >"$T/got" || fail "apache-arrow cannot read names/t"
cat >"$T/want" <<'WANT'
field x Int64 true
field s Utf8 true
field c Dictionary<Int32, Utf8> true
batches 5
x nulls=1 ["1",null,"3","4","5"]
s nulls=1 ["a","bb",null,"","ccc"]
c nulls=1 ["red","green",null,"red","blue"]
WANT
diff -u "$T/want" "$T/got" || fail "apache-arrow reads names/t differently (above)"

# Open to anyone: it touches no object.
case $(ctl '{"op":"arrow_layout","fields":[{"name":"a","type":"bool"}],"batches":[{"rows":9,"columns":[{"buffers":[0,2]}]}]}' nobody) in
'{"ok":true,"nbytes":'*) ;;
*) fail "nobody may not lay out a file" ;;
esac

expect_einval 'fields[0].type' '{"op":"arrow_layout","fields":[{"name":"a","type":"int128"}],"batches":[]}'
expect_einval 'batch 0 column 0: 2 buffers, its type has 3' \
	'{"op":"arrow_layout","fields":[{"name":"a","type":"string"}],"batches":[{"rows":1,"columns":[{"buffers":[0,8]}]}]}'
expect_einval 'values of 8 bytes, 3 slots need 12' \
	'{"op":"arrow_layout","fields":[{"name":"a","type":"int32"}],"batches":[{"rows":3,"columns":[{"buffers":[0,8]}]}]}'
expect_einval 'dictionaries' \
	'{"op":"arrow_layout","fields":[{"name":"a","type":"dictionary<values=string, indices=int8, ordered=0>"}],"batches":[]}'
echo "ok"
