#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# arrow_types: an Arrow table made by hand, as v6d's clients do, through
# .vineyardfs/ctl over blobs written with printf: a string column with a
# null, a timestamp column whose values are a BufferView into a larger
# blob, a dictionary column; and a packed table (bool, int64 with a null,
# large_string), every buffer a view into one blob. They are accepted and
# read back (meta.json, and libvineyardfs's table reader: tests/clib_test.c
# arrow); arrays with
# decreasing offsets, bad UTF-8, a short bitmap or a wrong null count get
# EINVAL with the rule in the reply, and leave no object behind.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

vfs_mount

# put NAME BYTES (printf format): a sealed blob holding them; its id on stdout.
put()
{
	# shellcheck disable=SC2059 # the bytes are a printf format on purpose
	printf "$2" >"$MNT/names/$1"
	wait_sealed "$MNT/names/$1"
	xattr_get user.vineyard.member.buffer_ "$MNT/names/$1"
}

# create TYPENAME FIELDS MEMBERS [NAME]: the new object's id, or fail.
create()
{
	local reply name=

	[ -z "${4:-}" ] || name=',"name":"'$4'"'
	reply=$(ctl '{"op":"create","typename":"'"$1"'","fields":'"$2"',"members":'"$3$name"'}')
	case $reply in '{"ok":true'*) ;; *) fail "create $1 $2 $3: $reply" ;; esac
	id_of "$reply"
}

# refused TEXT TYPENAME FIELDS MEMBERS: EINVAL, TEXT in the message.
refused()
{
	local reply

	reply=$(ctl '{"op":"create","typename":"'"$2"'","fields":'"$3"',"members":'"$4"'}')
	case $reply in
	*'"ok":false'*'"error":"EINVAL"'*) ;;
	*) fail "create $2 $3 $4: expected EINVAL, got: $reply" ;;
	esac
	case $reply in
	*"$1"*) ;;
	*) fail "create $2: the reply does not say '$1': $reply" ;;
	esac
}

# Column s (string): "ab", null, "cé"; validity 0b101.
empty=$(put empty '')
s_bits=$(put s_bits '\005')
s_off=$(put s_off '\000\000\000\000\002\000\000\000\002\000\000\000\005\000\000\000')
s_data=$(put s_data 'abc\303\251')
# Column t (timestamp[ns, tz=UTC]): 1, 2, 3 s after the epoch, bytes 8..31
# of a 32-byte blob (a BufferView, as packed tables are).
t_blob=$(put t_blob '\377\377\377\377\377\377\377\377\000\312\232\073\000\000\000\000\000\224\065\167\000\000\000\000\000\136\320\262\000\000\000\000')
# Column c (dictionary<values=string, indices=int8>): hi, lo, hi.
c_idx=$(put c_idx '\001\000\001')
d_off=$(put d_off '\000\000\000\000\002\000\000\000\004\000\000\000')
d_data=$(put d_data 'lohi')

STR='vineyard::BaseBinaryArray<arrow::StringArray>'
s=$(create "$STR" '{"length_":3,"null_count_":1,"offset_":0}' \
	'{"buffer_offsets_":"'"$s_off"'","buffer_data_":"'"$s_data"'","null_bitmap_":"'"$s_bits"'"}')
tv=$(create vineyard::BufferView '{"offset_":8,"size_":24}' '{"buffer_":"'"$t_blob"'"}')
t=$(create 'vineyard::NumericArray<timestamp[ns, tz=UTC]>' '{"length_":"3","null_count_":"0","offset_":"0"}' \
	'{"buffer_":"'"$tv"'","null_bitmap_":"'"$empty"'"}')
idx=$(create 'vineyard::NumericArray<int8>' '{"length_":3,"null_count_":0,"offset_":0}' \
	'{"buffer_":"'"$c_idx"'","null_bitmap_":"'"$empty"'"}')
dict=$(create "$STR" '{"length_":2,"null_count_":0,"offset_":0}' \
	'{"buffer_offsets_":"'"$d_off"'","buffer_data_":"'"$d_data"'","null_bitmap_":"'"$empty"'"}')
DT='dictionary<values=string, indices=int8, ordered=0>'
c=$(create vineyard::DictionaryArray '{"length_":3,"null_count_":0,"offset_":0,"data_type_":"'"$DT"'"}' \
	'{"indices_":"'"$idx"'","dictionary_":"'"$dict"'"}')
FIELDS='[{"name":"s","type":"string","nullable":true},{"name":"t","type":"timestamp[ns, tz=UTC]","nullable":false},{"name":"c","type":"'"$DT"'","nullable":true}]'
TEXT='s: string\nt: timestamp[ns, tz=UTC]\nc: '"$DT"
schema=$(create vineyard::SchemaProxy '{"fields_":'"$FIELDS"',"schema_textual_":"'"$TEXT"'"}' '{}')
batch=$(create vineyard::RecordBatch '{"column_num_":3,"row_num_":3,"__columns_-size":3}' \
	'{"schema_":"'"$schema"'","__columns_-0":"'"$s"'","__columns_-1":"'"$t"'","__columns_-2":"'"$c"'"}')
table=$(create vineyard::Table '{"num_rows_":3,"num_columns_":3,"batch_num_":1,"partitions_-size":1}' \
	'{"schema_":"'"$schema"'","partitions_-0":"'"$batch"'"}' tab)
[ "$(xattr_get user.vineyard.id "$MNT/names/tab")" = "$table" ] || fail "names/tab is not $table"

"$PY" - "$MNT/names/tab" <<'EOF' || fail "the table's meta.json is not the table made"
import json, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
assert m["typename"] == "vineyard::Table" and m["num_rows_"] == 3, m
b = m["partitions_-0"]
assert [f["name"] for f in b["schema_"]["fields_"]] == ["s", "t", "c"], b["schema_"]
assert b["__columns_-1"]["buffer_"]["typename"] == "vineyard::BufferView", b["__columns_-1"]
assert b["__columns_-2"]["dictionary_"]["length_"] == 2, b["__columns_-2"]
EOF
cmp <(printf 'lohi') "$MNT/names/tab/partitions_-0/__columns_-2/dictionary_/buffer_data_" ||
	fail "the dictionary's data does not read back through the tree"

# A packed table: every buffer a BufferView into one blob, at multiples of
# 8: bool b (true, false, true) at 0, int64 i (7, -8, null) at 8 with its
# validity at 32, large_string s ("x", "", "yzw") offsets at 40, data at 72.
Z7='\000\000\000\000\000\000\000'
pack=$(put pack "\005$Z7\007$Z7\370\377\377\377\377\377\377\377\011$Z7\003$Z7\000$Z7\001$Z7\001$Z7\004${Z7}xyzw")
view()
{
	create vineyard::BufferView '{"offset_":'"$1"',"size_":'"$2"'}' '{"buffer_":"'"$pack"'"}'
}
none=$(view 0 0)
b=$(create vineyard::BooleanArray '{"length_":3,"null_count_":0,"offset_":0}' \
	'{"buffer_":"'"$(view 0 1)"'","null_bitmap_":"'"$none"'"}')
i=$(create 'vineyard::NumericArray<int64>' '{"length_":3,"null_count_":1,"offset_":0}' \
	'{"buffer_":"'"$(view 8 24)"'","null_bitmap_":"'"$(view 32 1)"'"}')
s2=$(create 'vineyard::BaseBinaryArray<arrow::LargeStringArray>' '{"length_":3,"null_count_":0,"offset_":0}' \
	'{"buffer_offsets_":"'"$(view 40 32)"'","buffer_data_":"'"$(view 72 4)"'","null_bitmap_":"'"$none"'"}')
schema2=$(create vineyard::SchemaProxy '{"fields_":[{"name":"b","type":"bool","nullable":false},{"name":"i","type":"int64","nullable":true},{"name":"s","type":"large_string","nullable":false}]}' '{}')
batch2=$(create vineyard::RecordBatch '{"column_num_":3,"row_num_":3,"__columns_-size":3}' \
	'{"schema_":"'"$schema2"'","__columns_-0":"'"$b"'","__columns_-1":"'"$i"'","__columns_-2":"'"$s2"'"}')
create vineyard::Table '{"num_rows_":3,"num_columns_":3,"batch_num_":1,"partitions_-size":1}' \
	'{"schema_":"'"$schema2"'","partitions_-0":"'"$batch2"'"}' packed >/dev/null

# libvineyardfs reads every value of both (the packed one in one mapping).
CLIB=$(dirname "$VINEYARDFS")/tests/clib_test
[ -x "$CLIB" ] || fail "$CLIB is not built"
"$CLIB" "$MNT" "$DATA_PATH" arrow || fail "clib_test arrow"

# Refusals: the rule and the member in the reply, nothing made.
bad_off=$(put bad_off '\000\000\000\000\002\000\000\000\001\000\000\000\005\000\000\000')
past=$(put past '\000\000\000\000\002\000\000\000\002\000\000\000\011\000\000\000')
bad_utf8=$(put bad_utf8 'abc\251\303')
nine=$(put nine '\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000')
bad_idx=$(put bad_idx '\001\002\001')
idx2=$(create 'vineyard::NumericArray<int8>' '{"length_":3,"null_count_":0,"offset_":0}' \
	'{"buffer_":"'"$bad_idx"'","null_bitmap_":"'"$empty"'"}')
before=$(stat_get objects)
refused 'buffer_offsets_: offset 2 decreases to 1 at slot 2' "$STR" '{"length_":3,"null_count_":1,"offset_":0}' \
	'{"buffer_offsets_":"'"$bad_off"'","buffer_data_":"'"$s_data"'","null_bitmap_":"'"$s_bits"'"}'
refused 'offset 9 at slot 3 is past the 5 bytes of data' "$STR" '{"length_":3,"null_count_":1,"offset_":0}' \
	'{"buffer_offsets_":"'"$past"'","buffer_data_":"'"$s_data"'","null_bitmap_":"'"$s_bits"'"}'
refused 'buffer_data_: the value at slot 2 is not valid UTF-8' "$STR" '{"length_":3,"null_count_":1,"offset_":0}' \
	'{"buffer_offsets_":"'"$s_off"'","buffer_data_":"'"$bad_utf8"'","null_bitmap_":"'"$s_bits"'"}'
# As binary the same bytes are fine (deleted again, to count objects).
bin=$(create 'vineyard::BaseBinaryArray<arrow::BinaryArray>' '{"length_":3,"null_count_":1,"offset_":0}' \
	'{"buffer_offsets_":"'"$s_off"'","buffer_data_":"'"$bad_utf8"'","null_bitmap_":"'"$s_bits"'"}')
[ "$(ctl '{"op":"delete","id":"'"$bin"'"}')" = '{"ok":true}' ] || fail "delete the binary array"
refused 'null_bitmap_: 2 null slots (0 bits), but null_count_ is 1' "$STR" '{"length_":3,"null_count_":1,"offset_":0}' \
	'{"buffer_offsets_":"'"$s_off"'","buffer_data_":"'"$s_data"'","null_bitmap_":"'"$c_idx"'"}'
refused 'null_bitmap_: 1 bytes; 9 slots need 2' 'vineyard::NumericArray<int32>' '{"length_":9,"null_count_":1,"offset_":0}' \
	'{"buffer_":"'"$nine"'","null_bitmap_":"'"$s_bits"'"}'
refused "indices_: index 2 at slot 1 is outside the dictionary's 2 values" vineyard::DictionaryArray \
	'{"length_":3,"null_count_":0,"offset_":0,"data_type_":"'"$DT"'"}' '{"indices_":"'"$idx2"'","dictionary_":"'"$dict"'"}'
refused 'offset_ 4 is not a multiple of 8' vineyard::BufferView '{"offset_":4,"size_":8}' '{"buffer_":"'"$t_blob"'"}'
refused '__columns_-0: length_ 3, but row_num_ is 4' vineyard::RecordBatch '{"column_num_":3,"row_num_":4,"__columns_-size":3}' \
	'{"schema_":"'"$schema"'","__columns_-0":"'"$s"'","__columns_-1":"'"$t"'","__columns_-2":"'"$c"'"}'
refused 'num_rows_ 4, but the batches hold 3' vineyard::Table '{"num_rows_":4,"num_columns_":3,"batch_num_":1,"partitions_-size":1}' \
	'{"schema_":"'"$schema"'","partitions_-0":"'"$batch"'"}'
[ "$(stat_get objects)" = "$before" ] || fail "refused requests left objects behind: $(stat_get objects) vs $before"

echo "PASS: arrow_types"
