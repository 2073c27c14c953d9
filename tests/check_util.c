/*
 * check_util: size parsing and formatting, mkdir -p.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "tests/check_core.h"

#define SENTINEL UINT64_C(0xdeadbeefcafef00d)

START_TEST(test_parse_size_accepts)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{ "4G", UINT64_C(4) << 30 },
		{ "512M", UINT64_C(512) << 20 },
		{ "1.5g", UINT64_C(3) << 29 },
		{ "4096", 4096 },
		{ "1KiB", 1024 },
		{ "2MB", UINT64_C(2) << 20 },
		{ "0", 0 },
		{ "1k", 1024 },
		{ "3t", UINT64_C(3) << 40 },
		{ "2GiB", UINT64_C(2) << 30 },
		{ "0.5K", 512 },
	};
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint64_t v = SENTINEL;

		ck_assert_msg(util_parse_size(ok[i].s, &v) == 0, "\"%s\" rejected", ok[i].s);
		ck_assert_msg(v == ok[i].v, "\"%s\" gave %llu, expected %llu", ok[i].s, (unsigned long long)v,
		    (unsigned long long)ok[i].v);
	}
}
END_TEST

START_TEST(test_parse_size_rejects)
{
	static const char *const bad[] = {
		"",
		"-1",
		"4X",
		"G",
		"1.5.5",
		"4GG",
		"4Gx",
		"4iB",
		"1B",
		"nan",
		"inf",
		"16777216T", /* 2^64 bytes does not fit */
		"-0",
		"4 G",
		"MiB",
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v = SENTINEL;

		ck_assert_msg(util_parse_size(bad[i], &v) == -EINVAL, "\"%s\" accepted", bad[i]);
		ck_assert_msg(v == SENTINEL, "\"%s\" changed the output", bad[i]);
	}
	ck_assert_int_eq(util_parse_size(NULL, &(uint64_t){ 0 }), -EINVAL);
}
END_TEST

START_TEST(test_format_size)
{
	static const struct {
		uint64_t v;
		const char *s;
	} cases[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.0 KiB" }, { 1536, "1.5 KiB" },
		{ UINT64_C(512) << 20, "512.0 MiB" }, { UINT64_C(3) << 29, "1.5 GiB" },
		{ UINT64_C(5) << 40, "5.0 TiB" }, { UINT64_C(1) << 50, "1.0 PiB" },
		{ UINT64_MAX, "16384.0 PiB" }, /* no unit past PiB */
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		util_format_size(cases[i].v, buf, sizeof buf);
		ck_assert_str_eq(buf, cases[i].s);
	}
	/* A short buffer is truncated, still terminated. */
	memset(buf, 'x', sizeof buf);
	util_format_size(UINT64_C(3) << 29, buf, 4);
	ck_assert_str_eq(buf, "1.5");
}
END_TEST

static char *tmp;

static void
tmp_setup(void)
{
	tmp = test_mkdtemp("util");
}

static void
tmp_teardown(void)
{
	test_rmtree(tmp);
	free(tmp);
}

static int
is_dir(const char *path, mode_t *perm)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (perm != NULL)
		*perm = st.st_mode & 07777;
	return 1;
}

START_TEST(test_mkdirs_nested)
{
	char path[PATH_MAX], part[PATH_MAX];
	mode_t perm = 0;

	snprintf(path, sizeof path, "%s/a/b/c/d", tmp);
	ck_assert_int_eq(util_mkdirs(path, 0700), 0);
	ck_assert(is_dir(path, &perm));
	ck_assert_uint_eq(perm, 0700);
	snprintf(part, sizeof part, "%s/a/b", tmp);
	ck_assert(is_dir(part, &perm));
	ck_assert_uint_eq(perm, 0700);
	/* Existing: every component already there. */
	ck_assert_int_eq(util_mkdirs(path, 0700), 0);
	ck_assert_int_eq(util_mkdirs(part, 0755), 0);
	ck_assert(is_dir(path, NULL));
	/* Partly existing, and a trailing slash. */
	snprintf(path, sizeof path, "%s/a/b/x/y/", tmp);
	ck_assert_int_eq(util_mkdirs(path, 0750), 0);
	snprintf(path, sizeof path, "%s/a/b/x/y", tmp);
	ck_assert(is_dir(path, &perm));
	ck_assert_uint_eq(perm, 0750);
}
END_TEST

START_TEST(test_mkdirs_errors)
{
	char path[PATH_MAX], *longp;

	test_write_file(tmp, "file", "x", 1);
	/* A component that is a regular file. */
	snprintf(path, sizeof path, "%s/file/sub", tmp);
	ck_assert_int_eq(util_mkdirs(path, 0700), -ENOTDIR);
	/* A path longer than PATH_MAX. */
	longp = malloc(PATH_MAX + 10);
	memset(longp, 'a', PATH_MAX + 9);
	longp[PATH_MAX + 9] = '\0';
	ck_assert_int_eq(util_mkdirs(longp, 0700), -ENAMETOOLONG);
	free(longp);
}
END_TEST

START_TEST(test_mkdirs_over_file)
{
	char file[PATH_MAX];
	int rc;

	test_write_file(tmp, "file", "x", 1);
	snprintf(file, sizeof file, "%s/file", tmp);
	/* Like mkdir -p, an existing non-directory is an error: callers take 0
	 * to mean "the directory is there". */
	rc = util_mkdirs(file, 0700);
	ck_assert_msg(rc == -EEXIST || rc == -ENOTDIR, "util_mkdirs on a regular file returned %d", rc);
}
END_TEST

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("size");
	TCase *td = tcase_create("mkdirs");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_set_timeout(td, TEST_TIMEOUT);
	tcase_add_test(tc, test_parse_size_accepts);
	tcase_add_test(tc, test_parse_size_rejects);
	tcase_add_test(tc, test_format_size);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(td, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(td, tmp_setup, tmp_teardown);
	tcase_add_test(td, test_mkdirs_nested);
	tcase_add_test(td, test_mkdirs_errors);
	tcase_add_test(td, test_mkdirs_over_file);
	suite_add_tcase(s, td);
	return s;
}
