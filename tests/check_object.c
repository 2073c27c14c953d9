/*
 * check_object: field names and values as setxattr sees them, their
 * formatting for getxattr, and the metadata tree of meta.json.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/id.h"
#include "core/object.h"
#include "tests/check_core.h"

START_TEST(test_field_name_check)
{
	static const char *const valid[] = { "a", "_", "shape_", "A9", "x_1", "value_type_", "Z", "a-b",
		"__columns_-size" };
	static const char *const malformed[] = { "", "9a", "-a", "a.b", "a b", "\xc3\xa9", "a/b", "x$" };
	static const char *const reserved[] = {
		"typename",
		"id",
		"signature",
		"nbytes",
		"instance_id",
		"global",
		"ctime",
		"mtime",
		"sealed",
		"meta",
		"members",
		"member",
		"member.x",
		"member.buffer_",
		"state",
	};
	char name[OBJECT_FIELD_NAME_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof valid / sizeof valid[0]; i++)
		ck_assert_msg(object_field_name_check(valid[i]) == 0, "\"%s\" refused", valid[i]);
	for (i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
		ck_assert_msg(
		    object_field_name_check(malformed[i]) == -EINVAL, "\"%s\" not EINVAL", malformed[i]);
	for (i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		ck_assert_msg(
		    object_field_name_check(reserved[i]) == -EPERM, "\"%s\" not EPERM", reserved[i]);
	/* 64 characters is the limit. */
	memset(name, 'n', OBJECT_FIELD_NAME_MAX);
	name[OBJECT_FIELD_NAME_MAX] = '\0';
	ck_assert_int_eq(object_field_name_check(name), 0);
	name[OBJECT_FIELD_NAME_MAX] = 'n';
	name[OBJECT_FIELD_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(object_field_name_check(name), -EINVAL);
}
END_TEST

/* The keys every tree starts with: no member may take one. */
START_TEST(test_tree_keys)
{
	static const char *const keys[] = { "typename", "id", "signature", "nbytes", "instance_id", "global",
		"ctime", "sealed" };
	static const char *const others[] = { "mtime", "meta", "state", "buffer_", "x", "columns_", "" };
	struct object_info info = { .id = 1, .typename = "T", .signature = 2, .nbytes = 3, .sealed = 1 };
	json_t *tree = object_meta(&info, NULL, NULL);
	const char *key;
	json_t *v;
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		ck_assert_msg(object_tree_key(keys[i]), "\"%s\" is not a tree key", keys[i]);
	for (i = 0; i < sizeof others / sizeof others[0]; i++)
		ck_assert_msg(!object_tree_key(others[i]), "\"%s\" is a tree key", others[i]);
	/* The list is what object_meta writes. */
	ck_assert_uint_eq(json_object_size(tree), sizeof keys / sizeof keys[0]);
	json_object_foreach (tree, key, v)
		ck_assert_msg(object_tree_key(key), "object_meta writes \"%s\"", key);
	json_decref(tree);
}
END_TEST

/* One table of reserved keys: each is refused as a field name; every
 * tree key is an object xattr; a blob's tree (object_blob_meta) writes
 * only keys a blob also shows as xattrs. */
START_TEST(test_reserved_keys)
{
	json_t *blob = object_blob_meta(1, 2, 3, 1);
	const char *key;
	json_t *v;
	size_t i, nblob = 0;

	for (i = 0; object_keys[i].name != NULL; i++) {
		ck_assert_msg(object_field_name_check(object_keys[i].name) == -EPERM, "\"%s\" may be set",
		    object_keys[i].name);
		if (object_keys[i].flags & OBJECT_KEY_TREE)
			ck_assert(object_keys[i].flags & OBJECT_KEY_OBJECT);
		if (object_keys[i].flags & OBJECT_KEY_BLOB)
			nblob++;
	}
	ck_assert_uint_eq(nblob, 8); /* typename id nbytes instance_id ctime sealed location pinned */
	json_object_foreach (blob, key, v) {
		for (i = 0; object_keys[i].name != NULL; i++)
			if (strcmp(object_keys[i].name, key) == 0)
				break;
		ck_assert_msg(object_keys[i].name != NULL && (object_keys[i].flags & OBJECT_KEY_BLOB),
		    "a blob's tree has \"%s\", not a blob xattr", key);
	}
	json_decref(blob);
	ck_assert_int_eq(object_field_name_check("shape_"), 0);
}
END_TEST

/* Parse a NUL-terminated value; asserts success. */
static json_t *
parse_ok(const char *s)
{
	int err = 12345;
	json_t *v = object_field_value_parse(s, strlen(s), &err);

	ck_assert_msg(v != NULL, "\"%s\" refused", s);
	ck_assert_int_eq(err, 0);
	return v;
}

static void
parse_bad(const char *s, size_t len)
{
	int err = 0;
	json_t *v = object_field_value_parse(s, len, &err);

	ck_assert_msg(v == NULL, "a bad value (%zu bytes, first 0x%02x) was accepted", len,
	    len > 0 ? (unsigned char)s[0] : 0);
	ck_assert_int_eq(err, -EINVAL);
}

START_TEST(test_value_parse_json)
{
	json_t *v;

	v = parse_ok("42");
	ck_assert(json_is_integer(v));
	ck_assert_int_eq(json_integer_value(v), 42);
	json_decref(v);
	v = parse_ok("-1.5");
	ck_assert(json_is_real(v));
	ck_assert(json_real_value(v) == -1.5);
	json_decref(v);
	v = parse_ok("[1, 2, 3]");
	ck_assert(json_is_array(v));
	ck_assert_uint_eq(json_array_size(v), 3);
	ck_assert_int_eq(json_integer_value(json_array_get(v, 2)), 3);
	json_decref(v);
	v = parse_ok("{\"a\": {\"b\": [true]}}");
	ck_assert(json_is_object(v));
	ck_assert(json_is_true(json_array_get(json_object_get(json_object_get(v, "a"), "b"), 0)));
	json_decref(v);
	v = parse_ok("true");
	ck_assert(json_is_true(v));
	json_decref(v);
	v = parse_ok("null");
	ck_assert(json_is_null(v));
	json_decref(v);
	/* A JSON string is kept as the string it denotes. */
	v = parse_ok("\"quoted\"");
	ck_assert(json_is_string(v));
	ck_assert_str_eq(json_string_value(v), "quoted");
	json_decref(v);
	/* Only len bytes count. */
	{
		int err = 1;

		v = object_field_value_parse("12345", 2, &err);
		ck_assert_ptr_nonnull(v);
		ck_assert_int_eq(err, 0);
		ck_assert_int_eq(json_integer_value(v), 12);
		json_decref(v);
	}
}
END_TEST

START_TEST(test_value_parse_text)
{
	static const char *const texts[] = {
		"hello world",
		"[1, 2",
		"int64",
		"{a:1}",
		"1.5.5",
		"tru",
		" ",
		"",
	};
	json_t *v;
	size_t i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		v = parse_ok(texts[i]);
		ck_assert_msg(json_is_string(v), "\"%s\" is not kept as a string", texts[i]);
		ck_assert_str_eq(json_string_value(v), texts[i]);
		json_decref(v);
	}
}
END_TEST

START_TEST(test_value_parse_limits)
{
	char *big = malloc(OBJECT_FIELD_VALUE_MAX + 2);
	json_t *v;
	int err = 1;

	memset(big, 'a', OBJECT_FIELD_VALUE_MAX + 1);
	big[OBJECT_FIELD_VALUE_MAX + 1] = '\0';
	v = object_field_value_parse(big, OBJECT_FIELD_VALUE_MAX, &err);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(json_string_length(v), OBJECT_FIELD_VALUE_MAX);
	json_decref(v);
	parse_bad(big, OBJECT_FIELD_VALUE_MAX + 1);
	free(big);
	/* Embedded NUL, anywhere. */
	parse_bad("a\0b", 3);
	parse_bad("\0", 1);
	parse_bad("42\0", 3);
}
END_TEST

START_TEST(test_value_parse_utf8)
{
	static const char *const bad[] = {
		"\xc0\x80",				/* overlong NUL */
		"\xc1\xbf",				/* overlong U+007F */
		"\xe0\x80\xaf",				/* overlong '/' */
		"\xf0\x80\x80\xaf",			/* overlong '/' in 4 bytes */
		"\x80",					/* lone continuation */
		"ab\xbf",				/* lone continuation after ASCII */
		"\xed\xa0\x80",				/* surrogate U+D800 */
		"\xed\xbf\xbf",				/* surrogate U+DFFF */
		"\xf4\x90\x80\x80",			/* past U+10FFFF */
		"\xe2\x82",				/* truncated at the end */
		"\xe2\x28\xa1",				/* bad continuation */
		"\xff", "\xfe", "\xf8\x88\x80\x80\x80", /* 5-byte form */
		"\"\xc0\x80\"",				/* inside a JSON string */
	};
	static const char *const good[] = {
		"\xc3\xa9",				    /* é */
		"\xe2\x82\xac",				    /* € */
		"\xf0\x9f\x98\x80",			    /* U+1F600 */
		"\xe6\x97\xa5\xe6\x9c\xac", "\xef\xbf\xbf", /* U+FFFF */
		"\xf4\x8f\xbf\xbf",			    /* U+10FFFF */
		"\xc2\x80",				    /* U+0080, the smallest 2-byte */
		"x\xc3\xa9",				    /* ends with a 2-byte sequence */
	};
	size_t i;
	json_t *v;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		parse_bad(bad[i], strlen(bad[i]));
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = parse_ok(good[i]);
		ck_assert(json_is_string(v));
		ck_assert_str_eq(json_string_value(v), good[i]);
		json_decref(v);
	}
	v = parse_ok("[\"\xc3\xa9t\xc3\xa9\"]");
	ck_assert_str_eq(json_string_value(json_array_get(v, 0)), "\xc3\xa9t\xc3\xa9");
	json_decref(v);
}
END_TEST

static void
format_is(json_t *v, const char *want)
{
	size_t len = 99999;
	char *s = object_field_value_format(v, &len);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, want);
	ck_assert_uint_eq(len, strlen(want));
	free(s);
	json_decref(v);
}

START_TEST(test_value_format)
{
	int err;

	format_is(json_string("a b \"c\""), "a b \"c\""); /* raw, not quoted */
	format_is(json_string(""), "");
	format_is(json_string("\xc3\xa9"), "\xc3\xa9");
	format_is(json_integer(42), "42");
	format_is(json_integer(-7), "-7");
	format_is(json_real(1.5), "1.5");
	format_is(json_true(), "true");
	format_is(json_null(), "null");
	format_is(json_pack("[i,i,i]", 1, 2, 3), "[1,2,3]");
	format_is(json_pack("{s:i,s:[b,n]}", "b", 1, "a", 1), "{\"a\":[true,null],\"b\":1}");
	/* What setxattr stored is what getxattr shows, compacted. */
	format_is(object_field_value_parse("[1, 2,\n 3]", 10, &err), "[1,2,3]");
	format_is(object_field_value_parse("plain text", 10, &err), "plain text");
}
END_TEST

START_TEST(test_fields_load_dump)
{
	json_t *f;
	char *s;

	f = object_fields_load(NULL);
	ck_assert(json_is_object(f));
	ck_assert_uint_eq(json_object_size(f), 0);
	ck_assert_ptr_null(object_fields_dump(f));
	json_decref(f);
	f = object_fields_load("[1]"); /* not an object: empty */
	ck_assert(json_is_object(f));
	ck_assert_uint_eq(json_object_size(f), 0);
	json_decref(f);
	f = object_fields_load("{\"b\": 1, \"a\": \"x\"}");
	ck_assert_uint_eq(json_object_size(f), 2);
	s = object_fields_dump(f);
	ck_assert_str_eq(s, "{\"a\":\"x\",\"b\":1}");
	free(s);
	json_decref(f);
	ck_assert_ptr_null(object_fields_dump(NULL));
}
END_TEST

START_TEST(test_object_meta)
{
	uint64_t oid = (UINT64_C(7) << ID_INSTANCE_SHIFT) | (UINT64_C(1000) << ID_TIME_SHIFT) | 3;
	uint64_t bid = ID_BLOB_BIT | oid | 1;
	struct object_info info = {
		.id = oid,
		.typename = "Tensor",
		.signature = 123456789,
		.nbytes = 4096,
		.instance_id = 7,
		.sealed = 1,
		.ctime_ns = INT64_C(1577836800123456789),
	};
	char ids[ID_STR_LEN + 1], bids[ID_STR_LEN + 1];
	json_t *fields = json_pack("{s:[i,i], s:s, s:i}", "shape_", 2, 3, "value_type_", "float64", "nbytes",
	    1); /* a reserved key in fields must not win */
	json_t *members = json_object(), *m, *b;

	id_format(oid, ids);
	id_format(bid, bids);
	json_object_set_new(members, "buffer_", object_blob_meta(bid, 4096, 7, 1));
	m = object_meta(&info, fields, members); /* members is stolen */
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(json_string_value(json_object_get(m, "typename")), "Tensor");
	ck_assert_str_eq(json_string_value(json_object_get(m, "id")), ids);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "signature")), 123456789);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "nbytes")), 4096);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "instance_id")), 7);
	ck_assert(json_is_false(json_object_get(m, "global")));
	ck_assert(json_is_true(json_object_get(m, "sealed")));
	ck_assert_str_eq(json_string_value(json_object_get(m, "ctime")), "2020-01-01T00:00:00.123456789Z");
	ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(m, "shape_"), 1)), 3);
	ck_assert_str_eq(json_string_value(json_object_get(m, "value_type_")), "float64");
	b = json_object_get(m, "buffer_");
	ck_assert(json_is_object(b));
	ck_assert_str_eq(json_string_value(json_object_get(b, "typename")), OBJECT_TYPE_BLOB);
	ck_assert_str_eq(json_string_value(json_object_get(b, "id")), bids);
	ck_assert_int_eq(json_integer_value(json_object_get(b, "nbytes")), 4096);
	ck_assert_int_eq(json_integer_value(json_object_get(b, "instance_id")), 7);
	ck_assert(json_is_true(json_object_get(b, "sealed")));
	json_decref(m);
	json_decref(fields);

	/* No fields, no members, unsealed. */
	info.sealed = 0;
	info.typename = OBJECT_TYPE_BLOB;
	m = object_meta(&info, NULL, NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(json_string_value(json_object_get(m, "typename")), OBJECT_TYPE_BLOB);
	ck_assert(json_is_false(json_object_get(m, "sealed")));
	ck_assert_ptr_null(json_object_get(m, "buffer_"));
	ck_assert_uint_eq(json_object_size(m), 8);
	json_decref(m);
}
END_TEST

START_TEST(test_format_time)
{
	char buf[48];

	object_format_time(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000000000Z");
	object_format_time(1, buf, sizeof buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000000001Z");
	object_format_time(INT64_C(1577836800123456789), buf, sizeof buf);
	ck_assert_str_eq(buf, "2020-01-01T00:00:00.123456789Z");
	object_format_time(INT64_C(1700000000999999999), buf, sizeof buf);
	ck_assert_str_eq(buf, "2023-11-14T22:13:20.999999999Z");
}
END_TEST

Suite *
object_suite(void)
{
	Suite *s = suite_create("object");
	TCase *tc = tcase_create("object");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_field_name_check);
	tcase_add_test(tc, test_tree_keys);
	tcase_add_test(tc, test_reserved_keys);
	tcase_add_test(tc, test_value_parse_json);
	tcase_add_test(tc, test_value_parse_text);
	tcase_add_test(tc, test_value_parse_limits);
	tcase_add_test(tc, test_value_parse_utf8);
	tcase_add_test(tc, test_value_format);
	tcase_add_test(tc, test_fields_load_dump);
	tcase_add_test(tc, test_object_meta);
	tcase_add_test(tc, test_format_time);
	suite_add_tcase(s, tc);
	return s;
}
