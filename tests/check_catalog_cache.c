/*
 * check_catalog_cache: fetched copies of other members' blobs are a
 * cache. Three remote blobs of 1 MiB under a limit of 2.5 MiB, fetched by
 * a hook that writes a pattern into the store: the third's open drops the
 * least recently used copy, an open copy is never dropped, a dropped one
 * is fetched again, and an evict drops copies (EBUSY while open).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/catalog.h"
#include "core/catalog_cache.h"
#include "core/catalog_remote.h"
#include "core/catalog_spill.h"
#include "core/id.h"
#include "core/ino.h"
#include "tests/check_core.h"

#define INSTANCE 1
#define OTHER 2
#define SIZE (1u << 20)

static struct test_catalog tcat;
static char *backing;
static catalog_t *cat;
static unsigned fetches;

static void
setup(void)
{
	test_catalog_open(&tcat, "c", 5 * SIZE / 2, INSTANCE);
	cat = tcat.cat;
	backing = tcat.backing;
	fetches = 0;
}

static void
teardown(void)
{
	test_catalog_close(&tcat);
}

/* The hook: SIZE bytes, each the low byte of the blob id, into dir/name. */
static int
fetch(void *arg, uint64_t blob_id, uint64_t size, int dirfd, const char *dir, const char *name, uint32_t *crc,
    char *err, size_t errlen)
{
	char *buf = malloc(size);
	int fd, rc = 0;

	(void)arg;
	(void)dir;
	(void)err;
	(void)errlen;
	fetches++;
	if (buf == NULL)
		return -ENOMEM;
	memset(buf, (int)(blob_id & 0xff), size);
	if ((fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
		rc = -errno;
	else {
		if (write(fd, buf, size) != (ssize_t)size)
			rc = -EIO;
		close(fd);
	}
	*crc = 0;
	free(buf);
	return rc;
}

/* A remote Blob object of SIZE bytes, mirrored: its blob id. */
static uint64_t
mirror_blob(struct id_gen *g, uint64_t *oid)
{
	char os[ID_STR_LEN + 1], bs[ID_STR_LEN + 1], *text;
	uint64_t bid;
	json_t *v;

	*oid = id_next_object(g);
	bid = id_next_blob(g);
	id_format(*oid, os);
	id_format(bid, bs);
	v = json_pack("{s:i, s:{s:s, s:s, s:I, s:I, s:i, s:b, s:s, s:b, s:{s:s, s:s, s:I, s:i, s:b}}, "
		      "s:{s:{s:I}}}",
	    "owner", OTHER, "tree", "typename", "Blob", "id", os, "signature", (json_int_t)5, "nbytes",
	    (json_int_t)SIZE, "instance_id", OTHER, "global", 0, "ctime", "2026-12-07T03:00:00.000000001Z",
	    "sealed", 1, "buffer_", "typename", "Blob", "id", bs, "nbytes", (json_int_t)SIZE, "instance_id",
	    OTHER, "sealed", 1, "blobs", bs, "size", (json_int_t)SIZE);
	text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
	ck_assert_int_eq(catalog_remote_object_put(cat, text, strlen(text), 1), 0);
	free(text);
	return bid;
}

static int
has_copy(uint64_t bid)
{
	char path[4096], ids[ID_STR_LEN + 1];

	id_format(bid, ids);
	snprintf(path, sizeof path, "%s/%s", backing, ids);
	return access(path, F_OK) == 0;
}

/* Open bid's data, check a byte, and keep the fd open (*fd) or not. */
static void
read_blob(uint64_t bid, int *keep)
{
	uint64_t got;
	char byte;
	int fd;

	ck_assert_int_eq(catalog_open_data(cat, bid, 0, &got, &fd), 0);
	ck_assert_int_eq(pread(fd, &byte, 1, SIZE - 1), 1);
	ck_assert_int_eq((unsigned char)byte, bid & 0xff);
	if (keep != NULL) {
		*keep = fd;
		return;
	}
	close(fd);
	catalog_release(cat, bid, 0);
}

START_TEST(test_drop_lru)
{
	struct catalog_cache_stats cs;
	struct id_gen g;
	uint64_t o[3], b[3];
	int i;

	id_gen_init(&g, OTHER, 0);
	for (i = 0; i < 3; i++)
		b[i] = mirror_blob(&g, &o[i]);
	ck_assert_int_eq(catalog_remote_member_set(cat, OTHER, "two", 1, 1), 0);
	catalog_set_fetch(cat, fetch, NULL);
	read_blob(b[0], NULL);
	read_blob(b[1], NULL);
	ck_assert_uint_eq(fetches, 2);
	ck_assert(has_copy(b[0]) && has_copy(b[1]));
	/* No room for a third: the oldest copy goes. */
	read_blob(b[2], NULL);
	ck_assert_uint_eq(fetches, 3);
	ck_assert(!has_copy(b[0]));
	ck_assert(has_copy(b[1]) && has_copy(b[2]));
	catalog_cache_stats(cat, &cs);
	ck_assert_uint_eq(cs.copies, 2);
	ck_assert_uint_eq(cs.copy_bytes, 2 * SIZE);
	ck_assert_uint_eq(cs.drops, 1);
	ck_assert_uint_eq(cs.drop_bytes, SIZE);
	/* Read again: fetched again (and b[1], now the oldest, goes). */
	read_blob(b[0], NULL);
	ck_assert_uint_eq(fetches, 4);
	ck_assert(!has_copy(b[1]));
	/* A copy read twice is not fetched twice. */
	read_blob(b[0], NULL);
	ck_assert_uint_eq(fetches, 4);
}
END_TEST

START_TEST(test_open_copy_stays)
{
	struct id_gen g;
	uint64_t o[3], b[3], blobs, bytes;
	int i, fd0, fd1;

	id_gen_init(&g, OTHER, 0);
	for (i = 0; i < 3; i++)
		b[i] = mirror_blob(&g, &o[i]);
	ck_assert_int_eq(catalog_remote_member_set(cat, OTHER, "two", 1, 1), 0);
	catalog_set_fetch(cat, fetch, NULL);
	read_blob(b[0], &fd0);
	read_blob(b[1], &fd1);
	/* Both open: nothing can go, so the third does not fit. */
	{
		uint64_t got;
		int fd;

		ck_assert_int_eq(catalog_open_data(cat, b[2], 0, &got, &fd), -ENOSPC);
	}
	ck_assert(has_copy(b[0]) && has_copy(b[1]) && !has_copy(b[2]));
	/* evict: busy while open, then the copy goes; an object's evict
	 * reaches its blob. */
	ck_assert_int_eq(catalog_spill_evict(cat, o[0], 1000, &blobs, &bytes), -EBUSY);
	close(fd0);
	catalog_release(cat, b[0], 0);
	ck_assert_int_eq(catalog_spill_evict(cat, o[0], 1000, &blobs, &bytes), 0);
	ck_assert_uint_eq(blobs, 1);
	ck_assert_uint_eq(bytes, SIZE);
	ck_assert(!has_copy(b[0]));
	read_blob(b[2], NULL);
	ck_assert(has_copy(b[1]) && has_copy(b[2]));
	close(fd1);
	catalog_release(cat, b[1], 0);
}
END_TEST

Suite *
catalog_cache_suite(void)
{
	Suite *s = suite_create("catalog_cache");
	TCase *tc = tcase_create("cache");

	tcase_add_unchecked_fixture(tc, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_drop_lru);
	tcase_add_test(tc, test_open_copy_stays);
	suite_add_tcase(s, tc);
	return s;
}
