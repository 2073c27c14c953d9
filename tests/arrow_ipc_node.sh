#!/bin/bash
# arrow_ipc_node: an Arrow IPC file laid out by the core's writer
# (tests/arrow_ipc_sample: metadata from arrow_ipc_layout, buffers filled
# at its offsets) read by npm's apache-arrow 21: every field's type and
# nullability, both batches, and every value and null, as expected.
set -eu
src=${TESTS_SRCDIR:-$(dirname "$0")}
# shellcheck source=SCRIPTDIR/arrow_js.sh
. "$src/arrow_js.sh"
sample=$(dirname "${VINEYARDFS:?set VINEYARDFS}")/tests/arrow_ipc_sample
T=$(mktemp -d /tmp/vfs-arrow.XXXXXX)
trap 'rm -rf "$T"' EXIT

arrow_js_setup
"$sample" "$T/sample.arrow" >/dev/null
node "$src/arrow_ipc_print.mjs" "$T/sample.arrow" >"$T/got"
cat >"$T/want" <<'WANT'
field i Int32 true
field x Float64 true
field b Bool true
field s Utf8 true
field t Timestamp<MILLISECOND, UTC> true
field d Date32<DAY> false
field c Dictionary<Int8, Utf8> true
field L LargeUtf8 true
field u Duration<MICROSECOND> true
field y Binary true
field f Float32 true
batches 3 2
i nulls=1 [-7,null,13,23,33]
x nulls=1 [0.5,1.5,2.5,null,4.5]
b nulls=1 [true,false,true,false,null]
s nulls=1 ["a","","héllo",null,"xyz"]
t nulls=1 [0,1000,null,3000,4000]
d nulls=0 [-86400000,0,86400000,172800000,259200000]
c nulls=1 ["red","green",null,"green","red"]
L nulls=0 ["L0","L1","L2","L3","L4"]
u nulls=0 ["0","7","14","21","28"]
y nulls=1 [null,[241],[242,242],[243,243,243],[244,244,244,244]]
f nulls=0 [0,0.25,0.5,0.75,1]
WANT
if ! diff -u "$T/want" "$T/got"; then
	echo "FAIL: apache-arrow reads the writer's file differently (above)" >&2
	exit 1
fi
echo "ok: apache-arrow $(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$NODE_PATH/apache-arrow/package.json") reads the writer's file"
