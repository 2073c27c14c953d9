/*
 * check_types: the rules of the built-in types on whole metadata trees,
 * valid and broken, including hostile shapes (overflow, deep nesting).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/types.h"
#include "tests/check_core.h"

/* A raw blob's tree. */
static json_t *
blob(long long nbytes)
{
	return json_pack(
	    "{s:s, s:s, s:I}", "typename", "Blob", "id", "b8000000000000001", "nbytes", (json_int_t)nbytes);
}

static json_t *
tensor(const char *vt, json_t *shape, long long nbytes)
{
	return json_pack("{s:s, s:s, s:o, s:o}", "typename", "Tensor", "value_type_", vt, "shape_", shape,
	    "buffer_", blob(nbytes));
}

/* Validate tree (stolen) and return the result; the message goes to err. */
static char err[512];

static int
check(json_t *tree)
{
	int rc = types_validate(tree, err, sizeof err);

	json_decref(tree);
	return rc;
}

START_TEST(test_item_sizes)
{
	ck_assert_uint_eq(types_item_size("int8"), 1);
	ck_assert_uint_eq(types_item_size("uint16"), 2);
	ck_assert_uint_eq(types_item_size("float32"), 4);
	ck_assert_uint_eq(types_item_size("float64"), 8);
	ck_assert_uint_eq(types_item_size("bool"), 1);
	ck_assert_uint_eq(types_item_size("float16"), 0);
	ck_assert_uint_eq(types_item_size(NULL), 0);
}
END_TEST

START_TEST(test_tensor)
{
	ck_assert_int_eq(check(tensor("float64", json_pack("[i,i]", 1000, 1000), 8000000)), 0);
	ck_assert_str_eq(err, "");
	/* Vineyard writes shape_ as a string; both forms are accepted. */
	ck_assert_int_eq(check(tensor("int32", json_string("[3, 4]"), 48)), 0);
	ck_assert_int_eq(check(tensor("bool", json_pack("[]"), 1)), 0); /* a 0-d tensor */
	ck_assert_int_eq(check(tensor("uint8", json_pack("[i]", 0), 0)), 0);
	ck_assert_int_eq(check(tensor("float64", json_pack("[i,i]", 10, 10), 799)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "buffer_ holds 799 bytes"));
	ck_assert_ptr_nonnull(strstr(err, "needs 800"));
	ck_assert_int_eq(check(tensor("float16", json_pack("[i]", 2), 4)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "value_type_ \"float16\""));
	ck_assert_int_eq(check(tensor("int8", json_pack("[i]", -1), 0)), -EINVAL);
	ck_assert_int_eq(check(tensor("int8", json_string("[1,"), 1)), -EINVAL);
	/* 2^32 * 2^32 items overflow 64 bits: rejected, not wrapped around. */
	ck_assert_int_eq(
	    check(tensor("int8", json_pack("[I,I]", (json_int_t)1 << 32, (json_int_t)1 << 32), 0)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "overflows"));
	ck_assert_int_eq(check(tensor("int64", json_pack("[I]", (json_int_t)1 << 62), 0)), -EINVAL);
	/* buffer_ must be a blob, not another object. */
	ck_assert_int_eq(check(json_pack("{s:s, s:s, s:[i], s:{s:s, s:s, s:i}}", "typename", "Tensor",
			     "value_type_", "int8", "shape_", 1, "buffer_", "typename", "Tensor", "id",
			     "o0000000000000001", "nbytes", 1)),
	    -EINVAL);
	ck_assert_int_eq(
	    check(json_pack("{s:s, s:s, s:[i]}", "typename", "Tensor", "value_type_", "int8", "shape_", 1)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "member buffer_ is missing"));
}
END_TEST

static json_t *
dataframe(long long rows_a, long long rows_b)
{
	return json_pack("{s:s, s:[s,s], s:o, s:o}", "typename", "DataFrame", "columns_", "a", "b", "a",
	    tensor("float64", json_pack("[I]", (json_int_t)rows_a), rows_a * 8), "b",
	    tensor("int32", json_pack("[I]", (json_int_t)rows_b), rows_b * 4));
}

START_TEST(test_dataframe)
{
	json_t *df;

	ck_assert_int_eq(check(dataframe(10, 10)), 0);
	ck_assert_int_eq(check(dataframe(10, 11)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "column b has 11 rows"));
	df = dataframe(5, 5);
	json_object_set_new(df, "columns_", json_pack("[s,s]", "a", "a"));
	ck_assert_int_eq(check(df), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "appears twice"));
	df = dataframe(5, 5);
	json_object_set_new(df, "columns_", json_pack("[s,s,s]", "a", "b", "c"));
	ck_assert_int_eq(check(df), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "column c has no member"));
	df = dataframe(5, 5);
	json_object_set_new(df, "b", blob(20));
	ck_assert_int_eq(check(df), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a Tensor"));
	df = dataframe(5, 5);
	json_object_set_new(json_object_get(df, "a"), "shape_", json_pack("[i,i]", 5, 1));
	json_object_set_new(json_object_get(df, "a"), "buffer_", blob(40));
	ck_assert_int_eq(check(df), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "1-D"));
	/* A broken column is named by its path. */
	df = dataframe(5, 5);
	json_object_set_new(json_object_get(df, "b"), "buffer_", blob(3));
	ck_assert_int_eq(check(df), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "b: buffer_ holds 3 bytes"));
	/* columns_ as a string, as Vineyard writes it. */
	df = dataframe(2, 2);
	json_object_set_new(df, "columns_", json_string("[\"a\", \"b\"]"));
	ck_assert_int_eq(check(df), 0);
	ck_assert_int_eq(check(json_pack("{s:s, s:[]}", "typename", "DataFrame", "columns_")), 0);
	ck_assert_int_eq(check(json_pack("{s:s}", "typename", "DataFrame")), -EINVAL);
}
END_TEST

START_TEST(test_sequence_scalar)
{
	ck_assert_int_eq(check(json_pack("{s:s, s:i, s:o, s:o}", "typename", "Sequence", "size_", 2,
			     "__elements_-0", blob(1), "__elements_-1", dataframe(1, 1))),
	    0);
	ck_assert_int_eq(
	    check(json_pack("{s:s, s:s, s:o}", "typename", "Tuple", "size_", "2", "__elements_-0", blob(1))),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "__elements_-1 is missing"));
	/* An invalid element makes the sequence invalid. */
	ck_assert_int_eq(check(json_pack("{s:s, s:i, s:o}", "typename", "Sequence", "size_", 1,
			     "__elements_-0", dataframe(1, 2))),
	    -EINVAL);
	ck_assert_int_eq(check(json_pack("{s:s, s:i}", "typename", "Sequence", "size_", -1)), -EINVAL);
	ck_assert_int_eq(
	    check(json_pack("{s:s, s:s, s:f}", "typename", "Scalar", "type_", "float64", "value_", 2.5)), 0);
	ck_assert_int_eq(
	    check(json_pack("{s:s, s:s, s:s}", "typename", "Scalar", "type_", "str", "value_", "x")), 0);
	ck_assert_int_eq(
	    check(json_pack("{s:s, s:s, s:b}", "typename", "Scalar", "type_", "bool", "value_", 1)), 0);
	ck_assert_int_eq(
	    check(json_pack("{s:s, s:s, s:s}", "typename", "Scalar", "type_", "int64", "value_", "7")),
	    -EINVAL);
	ck_assert_int_eq(
	    check(json_pack("{s:s, s:s, s:i}", "typename", "Scalar", "type_", "complex", "value_", 1)),
	    -EINVAL);
	ck_assert_int_eq(check(json_pack("{s:s, s:s}", "typename", "Scalar", "type_", "int8")), -EINVAL);
}
END_TEST

static json_t *
graph(long long nv, long long ne, long long noffsets, const char *offset_type)
{
	return json_pack("{s:s, s:I, s:I, s:o, s:o}", "typename", "Graph", "vertex_num_", (json_int_t)nv,
	    "edge_num_", (json_int_t)ne, "offsets",
	    tensor(
		offset_type, json_pack("[I]", (json_int_t)noffsets), noffsets * types_item_size(offset_type)),
	    "edges", tensor("int64", json_pack("[I]", (json_int_t)ne), ne * 8));
}

START_TEST(test_graph)
{
	json_t *g;

	ck_assert_int_eq(check(graph(4, 6, 5, "int64")), 0);
	ck_assert_int_eq(check(graph(4, 6, 4, "int64")), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "offsets has 4 items, 5 expected"));
	ck_assert_int_eq(check(graph(4, 6, 5, "int32")), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not int64"));
	g = graph(4, 6, 5, "int64");
	json_object_set_new(g, "vertex_properties_", dataframe(4, 4));
	json_object_set_new(g, "edge_properties_", dataframe(6, 6));
	ck_assert_int_eq(check(g), 0);
	g = graph(4, 6, 5, "int64");
	json_object_set_new(g, "edge_properties_", dataframe(4, 4));
	ck_assert_int_eq(check(g), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "edge_properties_ has 4 rows, 6 expected"));
	g = graph(4, 6, 5, "int64");
	json_object_del(g, "edges");
	ck_assert_int_eq(check(g), -EINVAL);
}
END_TEST

START_TEST(test_hostile)
{
	json_t *deep = blob(1), *t;
	int i;

	/* Sequences nested past the depth limit are refused, not recursed. */
	for (i = 0; i < 100; i++) {
		t = json_pack("{s:s, s:i, s:o}", "typename", "Sequence", "size_", 1, "__elements_-0", deep);
		deep = t;
	}
	ck_assert_int_eq(check(deep), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "deeper than"));
	ck_assert_int_eq(check(json_pack("[i]", 1)), -EINVAL);
	ck_assert_int_eq(check(json_pack("{s:i}", "typename", 3)), -EINVAL);
	ck_assert_int_eq(
	    check(json_pack("{s:s, s:i}", "typename", "Sequence", "size_", 2000000000)), -EINVAL);
	/* Unknown types are user types, accepted as they are. */
	ck_assert_int_eq(check(json_pack("{s:s, s:i}", "typename", "my::Thing", "anything", 1)), 0);
	/* A Blob object needs a blob. */
	ck_assert_int_eq(check(json_pack("{s:s, s:o}", "typename", "Blob", "buffer_", blob(3))), 0);
	ck_assert_int_eq(
	    check(json_pack("{s:s, s:o}", "typename", "Blob", "buffer_", dataframe(1, 1))), -EINVAL);
	ck_assert_int_eq(types_validate(NULL, NULL, 0), -EINVAL); /* no buffer for the message */
}
END_TEST

Suite *
types_suite(void)
{
	Suite *s = suite_create("types");
	TCase *tc = tcase_create("types");

	tcase_add_test(tc, test_item_sizes);
	tcase_add_test(tc, test_tensor);
	tcase_add_test(tc, test_dataframe);
	tcase_add_test(tc, test_sequence_scalar);
	tcase_add_test(tc, test_graph);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	return s;
}
