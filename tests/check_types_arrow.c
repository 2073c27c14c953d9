/*
 * check_types_arrow: the rules of the Arrow layouts (types_arrow.c) on
 * whole trees whose blobs hold real bytes, read through an in-memory
 * reader: each type accepted when right, each rule refused with its
 * message, and the content rules skipped when a blob is not here.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/types.h"
#include "tests/check_core.h"

#define NBLOBS 64

/* The blobs of one test: id "b" + 16 hex digits, bytes copied. */
static struct {
	char id[24];
	uint8_t *bytes;
	size_t n;
	int absent; /* "not here": the reader says -ENOENT */
} blobs[NBLOBS];
static int nblobs;
static int maps; /* mapped minus unmapped */

static int
mem_map(void *arg, const char *id, const void **data, uint64_t *size)
{
	int i;

	(void)arg;
	for (i = 0; i < nblobs; i++)
		if (strcmp(blobs[i].id, id) == 0 && !blobs[i].absent) {
			*data = blobs[i].bytes;
			*size = blobs[i].n;
			maps++;
			return 0;
		}
	return -ENOENT;
}

static void
mem_unmap(void *arg, const void *data, uint64_t size)
{
	(void)arg;
	(void)data;
	(void)size;
	maps--;
}

static const struct types_reader reader = { mem_map, mem_unmap, NULL };

static void
reset(void)
{
	while (nblobs > 0)
		free(blobs[--nblobs].bytes);
	maps = 0;
}

/* A raw blob's tree holding bytes[0..n). */
static json_t *
blob(const void *bytes, size_t n)
{
	int i = nblobs++;

	ck_assert_int_lt(i, NBLOBS);
	snprintf(blobs[i].id, sizeof blobs[i].id, "b%016x", 0x800000 + i);
	blobs[i].bytes = malloc(n + 1);
	memcpy(blobs[i].bytes, bytes, n);
	blobs[i].n = n;
	blobs[i].absent = 0;
	return json_pack("{s:s, s:s, s:I}", "typename", "Blob", "id", blobs[i].id, "nbytes", (json_int_t)n);
}

/* A validity bitmap of "1" (valid) and "0" (null) slots. */
static json_t *
bitmap(const char *slots)
{
	uint8_t bits[64] = { 0 };
	size_t i, n = strlen(slots);

	for (i = 0; i < n; i++)
		if (slots[i] == '1')
			bits[i / 8] |= (uint8_t)(1u << (i % 8));
	return blob(bits, (n + 7) / 8);
}

static json_t *
array(const char *typename, long long length, long long nulls, json_t *bm)
{
	return json_pack("{s:s, s:I, s:I, s:i, s:o}", "typename", typename, "length_", (json_int_t)length,
	    "null_count_", (json_int_t)nulls, "offset_", 0, "null_bitmap_", bm ? bm : blob("", 0));
}

static json_t *
int64s(const int64_t *v, size_t n, const char *valid, long long nulls)
{
	json_t *a = array("vineyard::NumericArray<int64>", (long long)n, nulls, valid ? bitmap(valid) : NULL);

	json_object_set_new(a, "buffer_", blob(v, n * 8));
	return a;
}

/* A string array of n values; NULL values are nulls. */
static json_t *
strings(const char *const *v, size_t n, int large)
{
	char data[256] = "", valid[64] = "";
	int64_t off64[64];
	int32_t off32[64];
	size_t i, len = 0;
	long long nulls = 0;
	json_t *a;

	for (i = 0; i < n; i++) {
		off32[i] = (int32_t)len;
		off64[i] = (int64_t)len;
		valid[i] = v[i] ? '1' : '0';
		nulls += v[i] == NULL;
		if (v[i] != NULL) {
			memcpy(data + len, v[i], strlen(v[i]));
			len += strlen(v[i]);
		}
	}
	off32[n] = (int32_t)len;
	off64[n] = (int64_t)len;
	a = array(large ? "vineyard::BaseBinaryArray<arrow::LargeStringArray>"
			: "vineyard::BaseBinaryArray<arrow::StringArray>",
	    (long long)n, nulls, nulls ? bitmap(valid) : NULL);
	json_object_set_new(
	    a, "buffer_offsets_", large ? blob(off64, (n + 1) * 8) : blob(off32, (n + 1) * 4));
	json_object_set_new(a, "buffer_data_", blob(data, len));
	return a;
}

/* A dictionary<values=string, indices=int32> array of the indices (-1: null). */
static json_t *
dictionary(const int32_t *idx, size_t n, const char *const *values, size_t nvalues)
{
	char valid[64] = "";
	long long nulls = 0;
	size_t i;
	json_t *ind, *a;

	for (i = 0; i < n; i++) {
		valid[i] = idx[i] < 0 ? '0' : '1';
		nulls += idx[i] < 0;
	}
	ind = array("vineyard::NumericArray<int32>", (long long)n, nulls, nulls ? bitmap(valid) : NULL);
	json_object_set_new(ind, "buffer_", blob(idx, n * 4));
	a = json_pack("{s:s, s:I, s:I, s:i, s:s, s:o, s:o}", "typename", "vineyard::DictionaryArray",
	    "length_", (json_int_t)n, "null_count_", (json_int_t)nulls, "offset_", 0, "data_type_",
	    "dictionary<values=string, indices=int32, ordered=0>", "indices_", ind, "dictionary_",
	    strings(values, nvalues, 0));
	return a;
}

static json_t *
fields(void)
{
	return json_pack("[{s:s, s:s, s:b}, {s:s, s:s, s:b}, {s:s, s:s, s:b}]", "name", "s", "type", "string",
	    "nullable", 1, "name", "t", "type", "timestamp[ns, tz=UTC]", "nullable", 0, "name", "c", "type",
	    "dictionary<values=string, indices=int32, ordered=0>", "nullable", 1);
}

static json_t *
schema(void)
{
	return json_pack("{s:s, s:o, s:s}", "typename", "vineyard::SchemaProxy", "fields_", fields(),
	    "schema_textual_",
	    "s: string\nt: timestamp[ns, tz=UTC]\nc: dictionary<values=string, indices=int32, ordered=0>");
}

/* A batch of 3 rows: s, t, c. */
static json_t *
batch(const char *const *s)
{
	static const int64_t ts[] = { 1700000000000000000, 1700000001000000000, 1700000002000000000 };
	static const int32_t idx[] = { 1, -1, 0 };
	static const char *const cats[] = { "low", "high" };
	json_t *t = array("vineyard::NumericArray<timestamp[ns, tz=UTC]>", 3, 0, NULL);

	json_object_set_new(t, "buffer_", blob(ts, sizeof ts));
	return json_pack("{s:s, s:i, s:i, s:i, s:o, s:o, s:o, s:o}", "typename", "vineyard::RecordBatch",
	    "column_num_", 3, "row_num_", 3, "__columns_-size", 3, "schema_", schema(), "__columns_-0",
	    strings(s, 3, 0), "__columns_-1", t, "__columns_-2", dictionary(idx, 3, cats, 2));
}

static json_t *
table(json_t *b0, json_t *b1)
{
	return json_pack("{s:s, s:i, s:i, s:i, s:i, s:o, s:o, s:o}", "typename", "vineyard::Table",
	    "num_rows_", 6, "num_columns_", 3, "batch_num_", 2, "partitions_-size", 2, "schema_", schema(),
	    "partitions_-0", b0, "partitions_-1", b1);
}

static char err[512];

/* Validate tree (stolen) with bytes, then without; the first's message in
 * err. Every mapping is released. */
static int
check(json_t *tree)
{
	int rc = types_validate_bytes(tree, &reader, err, sizeof err);

	ck_assert_int_eq(maps, 0);
	json_decref(tree);
	reset();
	return rc;
}

/* The size rules alone (no reader). */
static int
check_sizes(json_t *tree)
{
	int rc = types_validate(tree, err, sizeof err);

	json_decref(tree);
	reset();
	return rc;
}

#define REFUSED(tree, msg)                                                      \
	do {                                                                    \
		ck_assert_int_eq(check(tree), -EINVAL);                         \
		ck_assert_msg(strstr(err, msg) != NULL, "message \"%s\"", err); \
	} while (0)

static const int64_t v3[] = { 10, -20, 30 };

START_TEST(test_numeric)
{
	static const int32_t days[] = { 19000, 19001 };
	json_t *a;

	ck_assert_int_eq(check(int64s(v3, 3, NULL, 0)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(check(int64s(v3, 3, "101", 1)), 0);
	a = array("vineyard::NumericArray<date32[day]>", 2, 0, NULL);
	json_object_set_new(a, "buffer_", blob(days, sizeof days));
	json_object_set_new(a, "data_type_", json_string("date32[day]"));
	ck_assert_int_eq(check(a), 0);
	a = array("vineyard::NumericArray<duration[us]>", 3, 0, NULL);
	json_object_set_new(a, "buffer_", blob(v3, sizeof v3));
	ck_assert_int_eq(check(a), 0);
	/* Integers as decimal strings, as Vineyard writes them. */
	a = int64s(v3, 3, NULL, 0);
	json_object_set_new(a, "length_", json_string("3"));
	ck_assert_int_eq(check(a), 0);

	/* Size rules. */
	a = array("vineyard::NumericArray<int64>", 3, 0, NULL);
	json_object_set_new(a, "buffer_", blob(v3, 16));
	REFUSED(a, "buffer_: 16 bytes; 3 slots of int64 need 24");
	a = int64s(v3, 3, NULL, 0);
	json_object_set_new(a, "offset_", json_integer(1));
	REFUSED(a, "buffer_: 24 bytes; 4 slots of int64 need 32");
	a = int64s(v3, 3, NULL, 0);
	json_object_set_new(a, "null_count_", json_integer(4));
	REFUSED(a, "null_count_ 4 exceeds length_ 3");
	a = int64s(v3, 3, NULL, 0);
	json_object_set_new(a, "data_type_", json_string("double"));
	REFUSED(a, "data_type_ double differs from the typename's int64");
	REFUSED(array("vineyard::NumericArray<string>", 0, 0, NULL), "names no Arrow type");
	a = int64s(v3, 3, NULL, 0);
	json_object_del(a, "buffer_");
	REFUSED(a, "member buffer_ is missing");

	/* The bitmap: long enough, its 0 bits the null count. */
	REFUSED(int64s(v3, 3, NULL, 1), "null_bitmap_: empty, but null_count_ is 1");
	a = array("vineyard::NumericArray<int64>", 3, 1, bitmap("1"));
	json_object_set_new(a, "length_", json_integer(9));
	json_object_set_new(a, "buffer_", blob(v3, 24));
	REFUSED(a, "null_bitmap_: 1 bytes; 9 slots need 2");
	REFUSED(int64s(v3, 3, "111", 1), "null_bitmap_: 0 null slots (0 bits), but null_count_ is 1");
	/* A content rule: without the bytes it is not checked. */
	ck_assert_int_eq(check_sizes(int64s(v3, 3, "111", 1)), 0);
}
END_TEST

START_TEST(test_bool)
{
	json_t *a = array("vineyard::BooleanArray", 10, 0, NULL);

	json_object_set_new(a, "buffer_", blob("\x05\x01", 2));
	ck_assert_int_eq(check(a), 0);
	a = array("vineyard::BooleanArray", 10, 0, NULL);
	json_object_set_new(a, "buffer_", blob("\x05", 1));
	REFUSED(a, "buffer_: 1 bytes; 10 slots of bool need 2");
}
END_TEST

START_TEST(test_string)
{
	static const char *const ok[] = { "a", NULL, "h\xc3\xa9llo", "" };
	static const int32_t dec[] = { 0, 7, 3, 9 };
	static const int32_t past[] = { 0, 1, 12 };
	json_t *a;

	ck_assert_int_eq(check(strings(ok, 4, 0)), 0);
	ck_assert_int_eq(check(strings(ok, 4, 1)), 0);
	a = array("vineyard::BaseBinaryArray<arrow::StringArray>", 3, 0, NULL);
	json_object_set_new(a, "buffer_offsets_", blob(dec, sizeof dec));
	json_object_set_new(a, "buffer_data_", blob("abcdefghi", 9));
	REFUSED(a, "buffer_offsets_: offset 7 decreases to 3 at slot 2");
	a = array("vineyard::BaseBinaryArray<arrow::StringArray>", 2, 0, NULL);
	json_object_set_new(a, "buffer_offsets_", blob(past, sizeof past));
	json_object_set_new(a, "buffer_data_", blob("abcdefghi", 9));
	REFUSED(a, "buffer_offsets_: offset 12 at slot 2 is past the 9 bytes of data");
	a = array("vineyard::BaseBinaryArray<arrow::StringArray>", 3, 0, NULL);
	json_object_set_new(a, "buffer_offsets_", blob(dec, 12));
	json_object_set_new(a, "buffer_data_", blob("abcdefghi", 9));
	REFUSED(a, "buffer_offsets_: 12 bytes; 4 offsets of int32 need 16");

	/* UTF-8 per value: a lone continuation byte, an overlong, a
	 * surrogate, a sequence cut at the value's end. */
	static const char *const bad[] = { "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82" };
	for (size_t i = 0; i < 4; i++) {
		const char *v[] = { "fine", bad[i] };

		REFUSED(strings(v, 2, 0), "buffer_data_: the value at slot 1 is not valid UTF-8");
	}
	/* A character split across two values is two bad values. */
	static const char *const split[] = { "\xc3", "\xa9" };
	REFUSED(strings(split, 2, 0), "slot 0 is not valid UTF-8");
	/* Binary is bytes, any bytes. */
	a = strings(split, 2, 0);
	json_object_set_new(a, "typename", json_string("vineyard::BaseBinaryArray<arrow::BinaryArray>"));
	ck_assert_int_eq(check(a), 0);
	/* A null slot's bytes are not a value. */
	a = strings(split, 2, 0);
	json_object_set_new(a, "null_count_", json_integer(1));
	json_object_set_new(a, "null_bitmap_", bitmap("01"));
	REFUSED(a, "slot 1 is not valid UTF-8");
	a = strings(split, 2, 0);
	json_object_set_new(a, "null_count_", json_integer(2));
	json_object_set_new(a, "null_bitmap_", bitmap("00"));
	ck_assert_int_eq(check(a), 0);
	/* Nulls, but their bitmap is not here: which bytes are values is
	 * unknown, so UTF-8 is not checked. */
	a = strings(split, 2, 0);
	json_object_set_new(a, "null_count_", json_integer(1));
	json_object_set_new(a, "null_bitmap_", bitmap("01"));
	blobs[nblobs - 1].absent = 1;
	ck_assert_int_eq(check(a), 0);
	/* Not here (another member's blob): only the size rules. */
	a = array("vineyard::BaseBinaryArray<arrow::StringArray>", 3, 0, NULL);
	json_object_set_new(a, "buffer_offsets_", blob(dec, sizeof dec));
	json_object_set_new(a, "buffer_data_", blob("abcdefghi", 9));
	blobs[nblobs - 2].absent = 1;
	ck_assert_int_eq(check(a), 0);
}
END_TEST

START_TEST(test_dictionary)
{
	static const int32_t idx[] = { 1, -1, 0, 1 };
	static const int32_t out[] = { 1, 2 };
	static const char *const cats[] = { "low", "high" };
	json_t *a;
	int first;

	ck_assert_int_eq(check(dictionary(idx, 4, cats, 2)), 0);
	/* The -1 at the null slot is no index; without the bitmap's bytes
	 * the rule cannot tell, and is skipped. */
	first = nblobs;
	a = dictionary(idx, 4, cats, 2);
	blobs[first].absent = 1;
	ck_assert_int_eq(check(a), 0);
	REFUSED(
	    dictionary(out, 2, cats, 2), "indices_: index 2 at slot 1 is outside the dictionary's 2 values");
	a = dictionary(idx, 4, cats, 2);
	json_object_del(a, "data_type_");
	REFUSED(a, "data_type_ is missing");
	a = dictionary(idx, 4, cats, 2);
	json_object_set_new(
	    a, "data_type_", json_string("dictionary<values=string, indices=int8, ordered=0>"));
	REFUSED(a, "indices_: type int32; data_type_ says int8");
	a = dictionary(idx, 4, cats, 2);
	json_object_set_new(
	    a, "data_type_", json_string("dictionary<values=binary, indices=int32, ordered=0>"));
	REFUSED(a, "dictionary_: type string; data_type_ says values=binary");
	a = dictionary(idx, 4, cats, 2);
	json_object_set_new(a, "null_count_", json_integer(0));
	REFUSED(a, "indices_: 4 slots, 1 null; the array has 4, 0 null");
}
END_TEST

START_TEST(test_bufferview)
{
	json_t *big = blob("0123456789abcdef0123456789abcdef", 32), *a, *bv;

	/* Two views into one blob, as packed tables are. */
	a = array("vineyard::NumericArray<int64>", 2, 0, NULL);
	bv = json_pack("{s:s, s:i, s:i, s:O}", "typename", "vineyard::BufferView", "offset_", 16, "size_", 16,
	    "buffer_", big);
	json_object_set_new(a, "buffer_", bv);
	json_object_set_new(a, "null_bitmap_",
	    json_pack("{s:s, s:i, s:i, s:O}", "typename", "vineyard::BufferView", "offset_", 0, "size_", 0,
		"buffer_", big));
	json_decref(big);
	ck_assert_int_eq(check(a), 0);
	big = blob("0123456789abcdef0123456789abcdef", 32);
	REFUSED(json_pack("{s:s, s:i, s:i, s:o}", "typename", "vineyard::BufferView", "offset_", 4, "size_",
		    8, "buffer_", big),
	    "offset_ 4 is not a multiple of 8");
	big = blob("0123456789abcdef0123456789abcdef", 32);
	REFUSED(json_pack("{s:s, s:i, s:i, s:o}", "typename", "vineyard::BufferView", "offset_", 24, "size_",
		    16, "buffer_", big),
	    "offset_ 24 + size_ 16 is past the 32 bytes of buffer_");
	a = int64s(v3, 3, NULL, 0);
	json_object_set_new(a, "buffer_", json_pack("{s:s}", "typename", "vineyard::SchemaProxy"));
	REFUSED(a, "buffer_ is neither a blob nor a vineyard::BufferView");
}
END_TEST

START_TEST(test_table)
{
	static const char *const s0[] = { "x", "y\xc3\xa9", NULL };
	static const char *const s1[] = { "a", "b", "c" };
	json_t *t, *b;

	ck_assert_int_eq(check(table(batch(s0), batch(s1))), 0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(check(batch(s1)), 0);
	ck_assert_int_eq(check(schema()), 0);

	/* A content rule deep inside names the whole path. */
	t = table(batch(s0), batch(s1));
	b = json_object_get(json_object_get(t, "partitions_-1"), "__columns_-0");
	{
		static const int32_t dec[] = { 0, 7, 3, 9 };

		json_object_set_new(b, "buffer_offsets_", blob(dec, sizeof dec));
		json_object_set_new(b, "buffer_data_", blob("abcdefghi", 9));
	}
	REFUSED(t, "partitions_-1.__columns_-0.buffer_offsets_: offset 7 decreases to 3 at slot 2");

	t = table(batch(s0), batch(s1));
	json_object_set_new(t, "num_rows_", json_integer(7));
	REFUSED(t, "num_rows_ 7, but the batches hold 6");
	t = table(batch(s0), batch(s1));
	json_object_set_new(t, "batch_num_", json_integer(1));
	REFUSED(t, "batch_num_ 1 differs from partitions_-size 2");
	b = batch(s1);
	json_object_set_new(b, "row_num_", json_integer(4));
	REFUSED(b, "__columns_-0: length_ 3, but row_num_ is 4");
	b = batch(s1);
	json_object_set_new(b, "column_num_", json_integer(2));
	REFUSED(b, "column_num_ 2 differs from __columns_-size 3");
	/* Field t is not nullable. */
	b = batch(s1);
	json_object_set_new(json_object_get(b, "__columns_-1"), "null_count_", json_integer(1));
	json_object_set_new(json_object_get(b, "__columns_-1"), "null_bitmap_", bitmap("101"));
	REFUSED(b, "__columns_-1: 1 nulls in field t, which is not nullable");
	/* Columns in the wrong order. */
	b = batch(s1);
	json_object_set(b, "__columns_-2", json_object_get(b, "__columns_-0"));
	REFUSED(b,
	    "__columns_-2: type string, but field c is dictionary<values=string, indices=int32, ordered=0>");
	/* A batch's schema differs from its table's. */
	t = table(batch(s0), batch(s1));
	json_array_remove(
	    json_object_get(json_object_get(json_object_get(t, "partitions_-1"), "schema_"), "fields_"), 2);
	REFUSED(t, "partitions_-1: column_num_ 3, but the schema has 2 fields");
	t = table(batch(s0), batch(s1));
	json_object_set_new(
	    json_array_get(
		json_object_get(json_object_get(json_object_get(t, "partitions_-1"), "schema_"), "fields_"),
		0),
	    "nullable", json_false());
	REFUSED(t, "partitions_-1.schema_: fields_ differ from the table's");
	/* ipc_, when there, is a blob. */
	t = table(batch(s0), batch(s1));
	json_object_set_new(t, "ipc_", blob("ARROW1", 6));
	ck_assert_int_eq(check(t), 0);
	t = table(batch(s0), batch(s1));
	json_object_set_new(t, "ipc_", schema());
	REFUSED(t, "ipc_ is not a blob");

	/* The schema's own rules. */
	t = schema();
	json_array_append_new(json_object_get(t, "fields_"),
	    json_pack("{s:s, s:s, s:b}", "name", "s", "type", "int8", "nullable", 1));
	REFUSED(t, "field s appears twice");
	t = schema();
	json_object_set_new(json_array_get(json_object_get(t, "fields_"), 0), "type", json_string("text"));
	REFUSED(t, "fields_[0] (s): type is not a type string");
	t = schema();
	json_object_set_new(
	    t, "fields_", json_string("[{\"name\": \"x\", \"type\": \"double\", \"nullable\": false}]"));
	ck_assert_int_eq(check(t), 0);
	/* Other vineyard:: typenames are user types. */
	ck_assert_int_eq(check(json_pack("{s:s}", "typename", "vineyard::Graph<x>")), 0);
}
END_TEST

Suite *
types_arrow_suite(void)
{
	Suite *s = suite_create("types_arrow");
	TCase *tc = tcase_create("types_arrow");

	tcase_add_test(tc, test_numeric);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_string);
	tcase_add_test(tc, test_dictionary);
	tcase_add_test(tc, test_bufferview);
	tcase_add_test(tc, test_table);
	suite_add_tcase(s, tc);
	return s;
}
