/*
 * check_spill_files: the spill directory's files without a catalog
 * (core/spill.c): a blob's bytes written out with their CRC and read back
 * into a new store file, a corrupt spill file refused (EIO, no store file
 * left), one store per directory, and what a crash mid-spill leaves
 * cleaned up.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/id.h"
#include "core/spill.h"
#include "core/store.h"
#include "core/uring.h"
#include "tests/check_core.h"

#define LEN (3 * 1024 * 1024 + 123) /* not a whole number of pages */

static char *dir, *mem;
static spill_t *sp;
static store_t *st;

static void
setup(void)
{
	dir = test_mkdtemp("spill");
	mem = test_mkdtemp("mem");
	ck_assert_int_eq(spill_open(dir, &sp), 0);
	ck_assert_int_eq(store_open(mem, 1u << 30, 0, &st), 0);
}

static void
teardown(void)
{
	spill_close(sp);
	store_close(st);
	test_rmtree(dir);
	test_rmtree(mem);
	free(dir);
	free(mem);
}

/* A store file of blob id holding LEN pattern bytes; its fd, read-only. */
static int
make_blob(uint64_t id, unsigned char **bytes)
{
	int fd;

	*bytes = test_pattern(LEN, id);
	ck_assert_int_eq(store_blob_create(st, id, &fd), 0);
	ck_assert_int_eq(pwrite(fd, *bytes, LEN, 0), LEN);
	close(fd);
	ck_assert_int_eq(store_blob_open(st, id, O_RDONLY, &fd), 0);
	return fd;
}

/* Write blob id out in a batch of its own; 0 or -errno. */
static int
write_out(uint64_t id, int src, uint32_t *crc)
{
	struct spill_batch b;
	char err[256];
	void *map = NULL;
	int rc;

	ck_assert_int_eq(spill_batch_begin(sp, &b, err, sizeof err), 0);
	rc = spill_write(&b, id, src, LEN, &map, crc, err, sizeof err);
	ck_assert_int_eq(spill_batch_end(&b, err, sizeof err), 0);
	uring_unmap(map, LEN);
	return rc;
}

START_TEST(test_write_and_read_back)
{
	uint64_t id = (ID_BLOB_BIT | 1), size = 0;
	unsigned char *bytes, *back = malloc(LEN);
	char err[256];
	uint32_t crc = 0;
	int fd = make_blob(id, &bytes);

	ck_assert_int_eq(write_out(id, fd, &crc), 0);
	close(fd);
	ck_assert_uint_eq(crc, crc32c_update(0, bytes, LEN));
	ck_assert_int_eq(spill_file_check(sp, id, LEN), 0);
	ck_assert_int_eq(spill_file_check(sp, id, LEN + 1), -EIO);
	/* Back into a new store file, the stale one replaced. */
	ck_assert_int_eq(spill_read(sp, st, id, LEN, 1, crc, err, sizeof err), 0);
	ck_assert_int_eq(store_blob_size(st, id, &size), 0);
	ck_assert_uint_eq(size, LEN);
	ck_assert_int_eq(store_blob_open(st, id, O_RDONLY, &fd), 0);
	ck_assert_int_eq(pread(fd, back, LEN, 0), LEN);
	close(fd);
	ck_assert_int_eq(memcmp(back, bytes, LEN), 0);
	/* Its fd reads the same bytes. */
	ck_assert_int_eq(spill_file_open(sp, id, &fd), 0);
	close(fd);
	spill_file_remove(sp, id);
	ck_assert_int_eq(spill_file_check(sp, id, LEN), -ENOENT);
	ck_assert_int_eq(spill_read(sp, st, id, LEN, 1, crc, err, sizeof err), -ENOENT);
	free(bytes);
	free(back);
}
END_TEST

START_TEST(test_crc_mismatch_is_eio)
{
	uint64_t id = (ID_BLOB_BIT | 2), size;
	unsigned char *bytes, flip = 0;
	char err[256] = "", name[ID_STR_LEN + 1], path[4096];
	uint32_t crc = 0;
	int fd = make_blob(id, &bytes);

	ck_assert_int_eq(write_out(id, fd, &crc), 0);
	close(fd);
	ck_assert_int_eq(store_blob_remove(st, id), 0);
	/* A recorded CRC that does not match: EIO, and no store file. */
	ck_assert_int_eq(spill_read(sp, st, id, LEN, 1, crc ^ 1, err, sizeof err), -EIO);
	ck_assert_ptr_nonnull(strstr(err, "corrupt"));
	ck_assert_int_eq(store_blob_size(st, id, &size), -ENOENT);
	/* A byte changed on disk: the same. */
	id_format(id, name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	ck_assert_int_ge(fd = open(path, O_RDWR), 0);
	ck_assert_int_eq(pread(fd, &flip, 1, LEN / 2), 1);
	flip ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &flip, 1, LEN / 2), 1);
	close(fd);
	ck_assert_int_eq(spill_read(sp, st, id, LEN, 1, crc, err, sizeof err), -EIO);
	ck_assert_int_eq(store_blob_size(st, id, &size), -ENOENT);
	/* Without a recorded CRC the bytes come back as they are. */
	ck_assert_int_eq(spill_read(sp, st, id, LEN, 0, 0, err, sizeof err), 0);
	free(bytes);
}
END_TEST

START_TEST(test_write_fault_leaves_nothing)
{
	uint64_t id = (ID_BLOB_BIT | 3);
	struct uring_faults f = { .fail_write_at = 1, .err = EIO };
	unsigned char *bytes;
	uint32_t crc;
	int fd = make_blob(id, &bytes);

	spill_set_faults(sp, &f);
	ck_assert_int_eq(write_out(id, fd, &crc), -EIO);
	ck_assert_int_eq(spill_file_check(sp, id, LEN), -ENOENT);
	/* Armed once: the next write goes through. */
	ck_assert_int_eq(write_out(id, fd, &crc), 0);
	close(fd);
	free(bytes);
}
END_TEST

static int
owned_odd(void *arg, uint64_t id)
{
	(void)arg;
	return (int)(id & 1);
}

START_TEST(test_one_store_and_clean)
{
	uint64_t even = (ID_BLOB_BIT | 4), odd = (ID_BLOB_BIT | 5);
	char name[ID_STR_LEN + 1], tmp[ID_STR_LEN + 16];
	spill_t *other = NULL;

	ck_assert_int_eq(spill_open(dir, &other), -EBUSY);
	id_format(even, name);
	test_write_file(dir, name, NULL, 10);
	snprintf(tmp, sizeof tmp, ".tmp-%s", name);
	test_write_file(dir, tmp, NULL, 10);
	id_format(odd, name);
	test_write_file(dir, name, NULL, 10);
	test_write_file(dir, "notes.txt", NULL, 10);
	/* The temp file and the file nothing owns go; the rest stays. */
	ck_assert_int_eq(spill_clean(sp, owned_odd, NULL), 2);
	ck_assert_int_eq(spill_file_check(sp, odd, 10), 0);
	ck_assert_int_eq(spill_file_check(sp, even, 10), -ENOENT);
	ck_assert_str_eq(spill_dir(sp), dir);
}
END_TEST

Suite *
spill_files_suite(void)
{
	Suite *s = suite_create("spill_files");
	TCase *tc = tcase_create("spill_files");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_write_and_read_back);
	tcase_add_test(tc, test_crc_mismatch_is_eio);
	tcase_add_test(tc, test_write_fault_leaves_nothing);
	tcase_add_test(tc, test_one_store_and_clean);
	suite_add_tcase(s, tc);
	return s;
}
