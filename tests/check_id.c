/*
 * check_id: id allocation, layout, formatting and parsing.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/id.h"
#include "core/ino.h"
#include "tests/check_core.h"

START_TEST(test_ids_unique_and_typed)
{
	struct id_gen g;
	uint64_t prev = 0, id;
	int i;

	id_gen_init(&g, 17, 0);
	for (i = 0; i < 200000; i++) {
		id = (i & 1) ? id_next_blob(&g) : id_next_object(&g);
		ck_assert_int_eq(id_is_blob(id), i & 1);
		ck_assert_uint_eq(id_instance(id), 17);
		ck_assert_uint_eq(id & INO_VIEW_MASK, 0);
		/* Payloads strictly increase, even past 65 536 ids a second. */
		ck_assert_uint_gt(id & ~ID_BLOB_BIT, prev);
		prev = id & ~ID_BLOB_BIT;
	}
}
END_TEST

START_TEST(test_resume_after_last)
{
	struct id_gen g;
	uint64_t last, id;

	/* An id from far in the future (clock went back): the next is larger. */
	last = (UINT64_C(5) << ID_INSTANCE_SHIFT) | (UINT64_C(0xfffffff0) << ID_TIME_SHIFT) | 0x1234;
	id_gen_init(&g, 5, last);
	id = id_next_object(&g);
	ck_assert_uint_gt(id, last);
	id = id_next_blob(&g);
	ck_assert_uint_gt(id & ~ID_BLOB_BIT, last);
}
END_TEST

START_TEST(test_format_parse)
{
	struct id_gen g;
	char buf[ID_STR_LEN + 1];
	uint64_t o, b, back;

	id_gen_init(&g, 4095, 0);
	o = id_next_object(&g);
	b = id_next_blob(&g);
	id_format(o, buf);
	ck_assert_int_eq(buf[0], 'o');
	ck_assert_uint_eq(strlen(buf), ID_STR_LEN);
	ck_assert_int_eq(id_parse(buf, &back), 0);
	ck_assert_uint_eq(back, o);
	id_format(b, buf);
	ck_assert_int_eq(buf[0], 'b');
	ck_assert_int_eq(buf[1], '8');
	ck_assert_int_eq(id_parse(buf, &back), 0);
	ck_assert_uint_eq(back, b);
	ck_assert_int_eq(id_parse("o123", &back), -EINVAL);
	ck_assert_int_eq(id_parse("x0000000000000001", &back), -EINVAL);
	ck_assert_int_eq(id_parse("o000000000000000G", &back), -EINVAL);
	ck_assert_int_eq(id_parse("oABCDEF0000000001", &back), -EINVAL); /* upper case */
	/* An object prefix on a blob id, and view bits in an object id. */
	ck_assert_int_eq(id_parse("o8000000000000001", &back), -EINVAL);
	ck_assert_int_eq(id_parse("b0000000000000001", &back), -EINVAL);
	ck_assert_int_eq(id_parse("o1000000000000001", &back), -EINVAL);
	ck_assert_int_eq(id_parse(NULL, &back), -EINVAL);
}
END_TEST

START_TEST(test_views)
{
	uint64_t o = (UINT64_C(3) << ID_INSTANCE_SHIFT) | (UINT64_C(1000) << ID_TIME_SHIFT) | 7;
	enum ino_view v;

	for (v = INO_VIEW_OBJECT; v <= INO_VIEW_MEMBER_LINK; v++) {
		uint64_t ino = ino_of(o, v);

		ck_assert_uint_eq(ino_id(ino), o);
		ck_assert_int_eq(ino_view(ino), v);
		ck_assert(!id_is_blob(ino));
	}
	ck_assert_uint_ne(ino_of(o, INO_VIEW_DATA), ino_of(o, INO_VIEW_META));
}
END_TEST

Suite *
id_suite(void)
{
	Suite *s = suite_create("id");
	TCase *tc = tcase_create("id");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_ids_unique_and_typed);
	tcase_add_test(tc, test_resume_after_last);
	tcase_add_test(tc, test_format_parse);
	tcase_add_test(tc, test_views);
	suite_add_tcase(s, tc);
	return s;
}
