/*
 * check_hmap: the chained hash table: growth, duplicate keys, removal,
 * iteration, string hashing.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hmap.h"
#include "tests/check_core.h"

#define MANY 100000

/* Keys spread over all 64 bits, and plain small integers. */
static uint64_t
key_of(unsigned i)
{
	return (i & 1) ? (uint64_t)i * UINT64_C(0x9e3779b97f4a7c15) : (uint64_t)i;
}

static void *
val_of(unsigned i)
{
	return (void *)(uintptr_t)(i + 1);
}

START_TEST(test_many_keys)
{
	struct hmap h;
	unsigned i;

	hmap_init(&h);
	ck_assert_ptr_null(hmap_find(&h, 1));
	for (i = 0; i < MANY; i++)
		ck_assert_int_eq(hmap_insert(&h, key_of(i), val_of(i)), 0);
	ck_assert_uint_eq(h.count, MANY);
	/* It grew: load at most 1, buckets a power of two. */
	ck_assert_uint_ge(h.nbuckets, MANY);
	ck_assert_uint_eq(h.nbuckets & (h.nbuckets - 1), 0);
	for (i = 0; i < MANY; i++)
		ck_assert_ptr_eq(hmap_find(&h, key_of(i)), val_of(i));
	ck_assert_ptr_null(hmap_find(&h, key_of(MANY)));
	ck_assert_ptr_null(hmap_find(&h, key_of(MANY + 1)));
	/* Remove every third; the others stay. */
	for (i = 0; i < MANY; i += 3)
		ck_assert_int_eq(hmap_remove(&h, key_of(i), val_of(i)), 0);
	ck_assert_uint_eq(h.count, MANY - (MANY + 2) / 3);
	for (i = 0; i < MANY; i++) {
		if (i % 3 == 0)
			ck_assert_ptr_null(hmap_find(&h, key_of(i)));
		else
			ck_assert_ptr_eq(hmap_find(&h, key_of(i)), val_of(i));
	}
	for (i = 0; i < MANY; i++)
		if (i % 3 != 0)
			ck_assert_int_eq(hmap_remove(&h, key_of(i), val_of(i)), 0);
	ck_assert_uint_eq(h.count, 0);
	ck_assert_ptr_null(hmap_find(&h, key_of(1)));
	hmap_destroy(&h);
	ck_assert_uint_eq(h.count, 0);
	ck_assert_uint_eq(h.nbuckets, 0);
	ck_assert_ptr_null(h.buckets);
	/* Usable again after destroy. */
	ck_assert_int_eq(hmap_insert(&h, 7, val_of(7)), 0);
	ck_assert_ptr_eq(hmap_find(&h, 7), val_of(7));
	hmap_destroy(&h);
}
END_TEST

START_TEST(test_duplicates)
{
	int a, b, c, other;
	struct hmap h;
	struct hmap_node *pos = NULL;
	void *v;
	int seen_a = 0, seen_b = 0, seen_c = 0, n = 0;
	unsigned i;

	hmap_init(&h);
	/* Many other keys, so some share the buckets of key 42. */
	for (i = 0; i < 1000; i++)
		if (i != 42)
			ck_assert_int_eq(hmap_insert(&h, i, &other), 0);
	ck_assert_int_eq(hmap_insert(&h, 42, &a), 0);
	ck_assert_int_eq(hmap_insert(&h, 42, &b), 0);
	ck_assert_int_eq(hmap_insert(&h, 42, &c), 0);
	ck_assert_uint_eq(h.count, 1002);
	while ((v = hmap_find_next(&h, 42, &pos)) != NULL) {
		seen_a += v == &a;
		seen_b += v == &b;
		seen_c += v == &c;
		n++;
		ck_assert_int_lt(n, 10);
	}
	ck_assert_ptr_null(pos);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(seen_a, 1);
	ck_assert_int_eq(seen_b, 1);
	ck_assert_int_eq(seen_c, 1);
	/* Remove the middle one by value: the other two remain. */
	ck_assert_int_eq(hmap_remove(&h, 42, &b), 0);
	seen_a = seen_b = seen_c = n = 0;
	pos = NULL;
	while ((v = hmap_find_next(&h, 42, &pos)) != NULL) {
		seen_a += v == &a;
		seen_b += v == &b;
		seen_c += v == &c;
		n++;
		ck_assert_int_lt(n, 10);
	}
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(seen_a + seen_c, 2);
	ck_assert_int_eq(seen_b, 0);
	/* A key with no entry. */
	pos = NULL;
	ck_assert_ptr_null(hmap_find_next(&h, 5000, &pos));
	ck_assert_ptr_null(pos);
	hmap_destroy(&h);
}
END_TEST

START_TEST(test_remove_missing)
{
	int a, b;
	struct hmap h;

	hmap_init(&h);
	ck_assert_int_eq(hmap_remove(&h, 1, &a), -ENOENT); /* empty, no buckets */
	ck_assert_int_eq(hmap_insert(&h, 1, &a), 0);
	ck_assert_int_eq(hmap_remove(&h, 2, &a), -ENOENT); /* other key */
	ck_assert_int_eq(hmap_remove(&h, 1, &b), -ENOENT); /* other value */
	ck_assert_uint_eq(h.count, 1);
	ck_assert_ptr_eq(hmap_find(&h, 1), &a);
	ck_assert_int_eq(hmap_remove(&h, 1, &a), 0);
	ck_assert_int_eq(hmap_remove(&h, 1, &a), -ENOENT); /* twice */
	ck_assert_uint_eq(h.count, 0);
	hmap_destroy(&h);
}
END_TEST

static void
visit(void *value, void *arg)
{
	unsigned *hits = arg;

	hits[(uintptr_t)value - 1]++;
}

START_TEST(test_foreach)
{
	unsigned *hits = calloc(MANY, sizeof *hits);
	struct hmap h;
	unsigned i;

	ck_assert_ptr_nonnull(hits);
	hmap_init(&h);
	hmap_foreach(&h, visit, hits); /* empty: no call */
	for (i = 0; i < MANY; i++)
		ck_assert_uint_eq(hits[i], 0);
	for (i = 0; i < MANY; i++)
		ck_assert_int_eq(hmap_insert(&h, key_of(i) % 5000, val_of(i)), 0);
	hmap_foreach(&h, visit, hits);
	for (i = 0; i < MANY; i++)
		ck_assert_msg(hits[i] == 1, "value %u visited %u times", i, hits[i]);
	hmap_destroy(&h);
	free(hits);
}
END_TEST

START_TEST(test_str_hash)
{
	struct hmap seen;
	char buf[64];
	unsigned i;

	/* FNV-1a 64 reference values. */
	ck_assert_uint_eq(hmap_str_hash(""), UINT64_C(0xcbf29ce484222325));
	ck_assert_uint_eq(hmap_str_hash("a"), UINT64_C(0xaf63dc4c8601ec8c));
	ck_assert_uint_eq(hmap_str_hash("foobar"), UINT64_C(0x85944171f73967e8));
	ck_assert_uint_ne(hmap_str_hash("ab"), hmap_str_hash("ba"));
	ck_assert_uint_ne(hmap_str_hash("a"), hmap_str_hash("a "));
	ck_assert_uint_ne(hmap_str_hash("\xc3\xa9"), hmap_str_hash("\xc3\xa8"));
	ck_assert_uint_eq(hmap_str_hash("names/x"), hmap_str_hash("names/x"));
	/* Distinct names get distinct hashes. */
	hmap_init(&seen);
	for (i = 0; i < 20000; i++) {
		uint64_t k;

		snprintf(buf, sizeof buf, "%s%u", i & 1 ? "tensor-" : "name_", i);
		k = hmap_str_hash(buf);
		ck_assert_msg(hmap_find(&seen, k) == NULL, "\"%s\" collides", buf);
		ck_assert_int_eq(hmap_insert(&seen, k, val_of(i)), 0);
	}
	hmap_destroy(&seen);
}
END_TEST

Suite *
hmap_suite(void)
{
	Suite *s = suite_create("hmap");
	TCase *tc = tcase_create("hmap");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_many_keys);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_remove_missing);
	tcase_add_test(tc, test_foreach);
	tcase_add_test(tc, test_str_hash);
	suite_add_tcase(s, tc);
	return s;
}
