/*
 * check_vec: vec_reserve makes room by doubling, keeps what was there,
 * and refuses sizes that overflow without touching the array.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/vec.h"
#include "tests/check_core.h"

START_TEST(test_push)
{
	uint64_t *a = NULL;
	size_t n = 0, cap = 0, i, grows = 0, last = 0;

	for (i = 0; i < 10000; i++) {
		ck_assert_int_eq(VEC_PUSH_ROOM(a, n, cap), 0);
		ck_assert_uint_gt(cap, n);
		if (cap != last)
			grows++;
		last = cap;
		a[n++] = i * 3;
	}
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(a[i], i * 3);
	ck_assert_uint_le(grows, 12); /* 8, 16, ..., 16384: doubling, not one at a time */
	free(a);
}
END_TEST

START_TEST(test_reserve_many)
{
	char *s = NULL;
	size_t cap = 0;

	ck_assert_int_eq(vec_reserve(&s, &cap, 0, 1), 0);
	ck_assert_ptr_null(s); /* nothing asked, nothing allocated */
	ck_assert_int_eq(vec_reserve(&s, &cap, 100, 1), 0);
	ck_assert_uint_eq(cap, 128);
	s[99] = 'x';
	ck_assert_int_eq(vec_reserve(&s, &cap, 128, 1), 0);
	ck_assert_uint_eq(cap, 128); /* enough already */
	ck_assert_int_eq(vec_reserve(&s, &cap, 129, 1), 0);
	ck_assert_uint_eq(cap, 256);
	ck_assert_int_eq(s[99], 'x');
	free(s);
}
END_TEST

START_TEST(test_overflow)
{
	uint64_t *a = NULL;
	size_t cap = 0, n = 0;

	ck_assert_int_eq(VEC_PUSH_ROOM(a, n, cap), 0);
	a[0] = 7;
	ck_assert_int_eq(vec_reserve(&a, &cap, SIZE_MAX / 4, sizeof *a), -ENOMEM);
	ck_assert_int_eq(vec_reserve(&a, &cap, SIZE_MAX, 1), -ENOMEM);
	ck_assert_uint_eq(cap, VEC_FIRST_CAP);
	ck_assert_uint_eq(a[0], 7);
	free(a);
}
END_TEST

Suite *
vec_suite(void)
{
	Suite *s = suite_create("vec");
	TCase *tc = tcase_create("vec");

	tcase_add_test(tc, test_push);
	tcase_add_test(tc, test_reserve_many);
	tcase_add_test(tc, test_overflow);
	suite_add_tcase(s, tc);
	return s;
}
