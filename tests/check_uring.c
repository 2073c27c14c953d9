/*
 * check_uring: copies through io_uring between a tmpfs (/dev/shm) and a
 * disk file system (/tmp, with O_DIRECT where it is allowed), checked byte
 * for byte and against a bit-at-a-time CRC; injected and real ENOSPC, EIO,
 * short transfers and short sources. io_uring must work: a kernel or
 * sandbox that refuses it fails the suite rather than skipping it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/uring.h"
#include "tests/check_core.h"

#define MIB (1024 * 1024)
#define CRC_UNSET 0xDEADBEEFu

static char disk_root[PATH_MAX];
static char *shm_dir;
static char *disk_dir;
static struct uring *u;

/* Like test_root_setup, on a disk: run in the runner, so a failed test
 * leaves nothing behind. */
static void
disk_root_setup(void)
{
	test_root_setup();
	strcpy(disk_root, "/tmp/vineyardfs-check-uring.XXXXXX");
	if (mkdtemp(disk_root) == NULL) {
		perror("mkdtemp /tmp");
		abort();
	}
}

static void
disk_root_teardown(void)
{
	test_rmtree(disk_root);
	test_root_teardown();
}

static void
uring_setup(void)
{
	int rc;

	shm_dir = test_mkdtemp("uring");
	ck_assert_int_ge(asprintf(&disk_dir, "%s/uring.XXXXXX", disk_root), 0);
	ck_assert_ptr_nonnull(mkdtemp(disk_dir));
	rc = uring_open(&u, 0);
	ck_assert_msg(rc == 0,
	    "uring_open: %s: io_uring must work on this machine "
	    "(kernel.io_uring_disabled, seccomp?)",
	    strerror(-rc));
}

static void
uring_teardown(void)
{
	uring_close(u);
	u = NULL;
	test_rmtree(disk_dir);
	free(disk_dir);
	free(shm_dir);
}

/* Open dir/name; with direct, O_DIRECT unless the file system says EINVAL. */
static int
open_file(const char *dir, const char *name, int flags, int direct)
{
	char path[PATH_MAX];
	int fd = -1;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (direct) {
		fd = open(path, flags | O_DIRECT | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EINVAL)
			fprintf(stderr, "check_uring: no O_DIRECT on %s, copying without\n", dir);
	}
	if (fd < 0)
		fd = open(path, flags | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

/* Assert that dir/name holds exactly data[0..len). */
static void
assert_file(const char *dir, const char *name, const unsigned char *data, size_t len)
{
	char path[PATH_MAX];
	unsigned char *got;
	struct stat st;
	ssize_t n;
	size_t off = 0;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, len);
	got = malloc(len + 1);
	while (off < len && (n = read(fd, got + off, len - off)) > 0)
		off += (size_t)n;
	ck_assert_uint_eq(off, len);
	ck_assert_msg(memcmp(got, data, len) == 0, "%s differs from the source", path);
	free(got);
	close(fd);
}

/* run_copy uses uring_copy_mapped (1: a mappable dst, not O_DIRECT) or
 * uring_copy_from_mapped (2: a mappable src). */
static int mapped;

/*
 * Copy size bytes from a src of src_len bytes in sdir to a dst in ddir that
 * held 5000 bytes of garbage (a shorter copy cuts them off); on success check the
 * bytes and the CRC. Returns uring_copy's result, its message in err.
 */
static int
run_copy(const char *sdir, int sdirect, const char *ddir, int ddirect, size_t size, size_t src_len, char *err,
    size_t errlen)
{
	unsigned char *data = test_pattern(src_len, src_len + size);
	unsigned char *junk = test_pattern(5000, 42);
	uint32_t crc = CRC_UNSET;
	int src, dst, rc;

	test_write_file(sdir, "src", data, src_len);
	test_write_file(ddir, "dst", junk, 5000);
	src = open_file(sdir, "src", O_RDONLY, sdirect);
	dst = open_file(ddir, "dst", O_RDWR, ddirect);
	err[0] = '\0';
	rc = (mapped == 1   ? uring_copy_mapped
	      : mapped == 2 ? uring_copy_from_mapped
			    : uring_copy)(u, src, dst, size, &crc, err, errlen);
	close(src);
	close(dst);
	if (rc == 0) {
		ck_assert_msg(err[0] == '\0', "success with a message: %s", err);
		assert_file(ddir, "dst", data, size);
		ck_assert_uint_eq(crc, test_crc32c_ref(data, size));
	} else {
		/* A failed copy reports no checksum. */
		ck_assert_uint_eq(crc, CRC_UNSET);
		ck_assert_msg(err[0] != '\0', "%s without a message", strerror(-rc));
	}
	free(data);
	free(junk);
	return rc;
}

static const size_t sizes[] = { 0, 1, 4095, 4096, MIB + 7, 37 * MIB };

static void
copy_all_sizes(const char *sdir, int sdirect, const char *ddir, int ddirect)
{
	char err[256];
	size_t i;
	int rc;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		rc = run_copy(sdir, sdirect, ddir, ddirect, sizes[i], sizes[i], err, sizeof err);
		ck_assert_msg(rc == 0, "copy of %zu bytes: %s", sizes[i], err);
	}
}

START_TEST(test_tmpfs_to_tmpfs)
{
	copy_all_sizes(shm_dir, 0, shm_dir, 0);
}
END_TEST

START_TEST(test_tmpfs_to_disk_direct)
{
	copy_all_sizes(shm_dir, 0, disk_dir, 1);
}
END_TEST

START_TEST(test_disk_direct_to_tmpfs)
{
	copy_all_sizes(disk_dir, 1, shm_dir, 0);
}
END_TEST

START_TEST(test_disk_to_disk)
{
	copy_all_sizes(disk_dir, 1, disk_dir, 0);
	copy_all_sizes(disk_dir, 0, disk_dir, 1);
}
END_TEST

START_TEST(test_no_crc_depth_one)
{
	unsigned char *data = test_pattern(3 * MIB + 1, 5);
	struct uring *u1 = NULL;
	char err[256] = "";
	int src, dst;

	ck_assert_int_eq(uring_open(&u1, URING_MAX_DEPTH + 1), -EINVAL);
	ck_assert_ptr_null(u1);
	ck_assert_int_eq(uring_open(&u1, 1), 0);
	test_write_file(shm_dir, "src", data, 3 * MIB + 1);
	src = open_file(shm_dir, "src", O_RDONLY, 0);
	dst = open_file(disk_dir, "dst", O_RDWR | O_CREAT | O_TRUNC, 1);
	ck_assert_msg(uring_copy(u1, src, dst, 3 * MIB + 1, NULL, err, sizeof err) == 0, "%s", err);
	close(src);
	close(dst);
	assert_file(disk_dir, "dst", data, 3 * MIB + 1);
	uring_close(u1);
	uring_close(NULL);
	free(data);
}
END_TEST

START_TEST(test_injected_enospc)
{
	struct uring_faults f = { .fail_write_at = 3, .err = ENOSPC };
	char err[256];

	uring_set_faults(u, &f);
	ck_assert_int_eq(
	    run_copy(shm_dir, 0, shm_dir, 0, 8 * MIB + 3, 8 * MIB + 3, err, sizeof err), -ENOSPC);
	ck_assert_uint_eq(uring_faults_injected(u), 1);
	ck_assert_msg(strstr(err, "write") != NULL && strstr(err, strerror(ENOSPC)) != NULL, "%s", err);
	/* The ring is whole after the error: the next copy succeeds. */
	uring_set_faults(u, NULL);
	ck_assert_msg(
	    run_copy(shm_dir, 0, shm_dir, 0, 8 * MIB + 3, 8 * MIB + 3, err, sizeof err) == 0, "%s", err);
}
END_TEST

START_TEST(test_injected_eio)
{
	struct uring_faults w = { .fail_write_at = 1, .err = EIO };
	struct uring_faults r = { .fail_read_at = 2, .err = EIO };
	char err[256];

	uring_set_faults(u, &w);
	ck_assert_int_eq(run_copy(shm_dir, 0, disk_dir, 1, 5 * MIB, 5 * MIB, err, sizeof err), -EIO);
	ck_assert_msg(strstr(err, "write of dst") != NULL && strstr(err, strerror(EIO)) != NULL, "%s", err);
	uring_set_faults(u, &r);
	ck_assert_int_eq(run_copy(disk_dir, 1, shm_dir, 0, 5 * MIB, 5 * MIB, err, sizeof err), -EIO);
	ck_assert_msg(strstr(err, "read of src") != NULL, "%s", err);
	ck_assert_uint_eq(uring_faults_injected(u), 1);
}
END_TEST

START_TEST(test_injected_short_transfers)
{
	static const unsigned at[] = { 1, 2, 9 };
	char err[256];
	size_t i, k;
	unsigned want;
	int direct;

	for (direct = 0; direct <= 1; direct++)
		for (i = 0; i < sizeof at / sizeof at[0]; i++)
			for (k = 0; k < 2; k++) {
				struct uring_faults f = { 0 };
				size_t size = k == 0 ? 8 * MIB + 3 * 4096 + 7 : 4095;

				f.short_write_at = at[i];
				f.short_read_at = at[i] + 1;
				uring_set_faults(u, &f);
				ck_assert_msg(
				    run_copy(direct ? disk_dir : shm_dir, direct, direct ? disk_dir : shm_dir,
					direct, size, size, err, sizeof err) == 0,
				    "short at %u, direct %d: %s", at[i], direct, err);
				/* A small copy has fewer requests than the later faults,
				 * and an O_DIRECT one cannot be cut below a block. */
				want = size > MIB || (at[i] == 1 && !direct);
				ck_assert_msg(uring_faults_injected(u) >= want,
				    "short at %u, direct %d, %zu bytes: nothing injected", at[i], direct,
				    size);
			}
}
END_TEST

START_TEST(test_short_source)
{
	char err[256];
	int direct;

	for (direct = 0; direct <= 1; direct++) {
		const char *dir = direct ? disk_dir : shm_dir;

		ck_assert_int_eq(run_copy(dir, direct, shm_dir, 0, 5000, 1000, err, sizeof err), -EIO);
		ck_assert_msg(strstr(err, "src ends") != NULL, "%s", err);
		ck_assert_int_eq(run_copy(dir, direct, shm_dir, 0, 3 * MIB, MIB + 5, err, sizeof err), -EIO);
		ck_assert_msg(strstr(err, "src ends") != NULL, "%s", err);
		ck_assert_int_eq(run_copy(dir, direct, shm_dir, 0, 1, 0, err, sizeof err), -EIO);
	}
	/* A src longer than size is fine: only size bytes are copied. */
	ck_assert_msg(run_copy(disk_dir, 1, disk_dir, 1, MIB + 9, 2 * MIB, err, sizeof err) == 0, "%s", err);
}
END_TEST

START_TEST(test_fsync)
{
	struct uring_faults f = { .fail_fsync_at = 2, .err = EIO };
	int fd;

	test_write_file(disk_dir, "f", "abc", 3);
	fd = open_file(disk_dir, "f", O_RDWR, 0);
	ck_assert_int_eq(uring_fsync(u, fd), 0);
	uring_set_faults(u, &f);
	ck_assert_int_eq(uring_fsync(u, fd), 0);
	ck_assert_int_eq(uring_fsync(u, fd), -EIO);
	ck_assert_int_eq(uring_fsync(u, fd), 0);
	close(fd);
	uring_set_faults(u, NULL);
	ck_assert_int_eq(uring_fsync(u, fd), -EBADF);
}
END_TEST

/* Into a mapping of a tmpfs dst, from O_DIRECT and buffered sources: every
 * size, read faults, short reads, a src that ends early, a full tmpfs. */
START_TEST(test_mapped)
{
	struct uring_faults eio = { .fail_read_at = 3, .err = EIO };
	struct uring_faults cut = { .short_read_at = 2 };
	char *small, err[256];

	mapped = 1;
	copy_all_sizes(disk_dir, 1, shm_dir, 0);
	copy_all_sizes(shm_dir, 0, shm_dir, 0);
	/* Over 128 chunks: the bitmap of chunks read spans three words. */
	ck_assert_msg(
	    run_copy(disk_dir, 1, shm_dir, 0, 129 * MIB + 3, 129 * MIB + 3, err, sizeof err) == 0, "%s", err);
	uring_set_faults(u, &eio);
	ck_assert_int_eq(run_copy(disk_dir, 1, shm_dir, 0, 5 * MIB, 5 * MIB, err, sizeof err), -EIO);
	ck_assert_msg(strstr(err, "read of src") != NULL, "%s", err);
	uring_set_faults(u, &cut);
	ck_assert_msg(
	    run_copy(disk_dir, 1, shm_dir, 0, 5 * MIB + 11, 5 * MIB + 11, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(uring_faults_injected(u), 1);
	uring_set_faults(u, NULL);
	ck_assert_int_eq(run_copy(disk_dir, 1, shm_dir, 0, 3 * MIB, MIB + 5, err, sizeof err), -EIO);
	ck_assert_msg(strstr(err, "src ends") != NULL, "%s", err);
	if (geteuid() == 0) {
		small = test_mkdtemp("uring-small");
		ck_assert_int_eq(mount("tmpfs", small, "tmpfs", 0, "size=1m"), 0);
		ck_assert_int_eq(run_copy(disk_dir, 1, small, 0, 3 * MIB, 3 * MIB, err, sizeof err), -ENOSPC);
		test_rmtree(small);
		free(small);
	}
	mapped = 0;
}
END_TEST

/* From a mapping of a tmpfs src, to O_DIRECT and buffered files: every
 * size, write faults, short writes, a src shorter than size. */
START_TEST(test_from_mapped)
{
	struct uring_faults eio = { .fail_write_at = 2, .err = EIO };
	struct uring_faults full = { .fail_write_at = 4, .err = ENOSPC };
	struct uring_faults cut = { .short_write_at = 2 };
	char err[256];

	mapped = 2;
	copy_all_sizes(shm_dir, 0, disk_dir, 1);
	copy_all_sizes(shm_dir, 0, shm_dir, 0);
	uring_set_faults(u, &eio);
	ck_assert_int_eq(run_copy(shm_dir, 0, disk_dir, 1, 5 * MIB, 5 * MIB, err, sizeof err), -EIO);
	ck_assert_msg(strstr(err, "write of dst") != NULL, "%s", err);
	uring_set_faults(u, &full);
	ck_assert_int_eq(run_copy(shm_dir, 0, disk_dir, 1, 5 * MIB, 5 * MIB, err, sizeof err), -ENOSPC);
	uring_set_faults(u, &cut);
	ck_assert_msg(
	    run_copy(shm_dir, 0, disk_dir, 1, 5 * MIB + 11, 5 * MIB + 11, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(uring_faults_injected(u), 1);
	uring_set_faults(u, NULL);
	ck_assert_int_eq(run_copy(shm_dir, 0, disk_dir, 1, 3 * MIB, MIB + 5, err, sizeof err), -EIO);
	ck_assert_msg(strstr(err, "src ends") != NULL, "%s", err);
	mapped = 0;
}
END_TEST

START_TEST(test_real_enospc)
{
	char *small, err[256];

	if (geteuid() != 0) {
		fprintf(stderr, "test_real_enospc: not root, cannot mount a tmpfs: skipped\n");
		return;
	}
	small = test_mkdtemp("uring-small");
	ck_assert_int_eq(mount("tmpfs", small, "tmpfs", 0, "size=1m"), 0);
	ck_assert_int_eq(run_copy(shm_dir, 0, small, 0, 0, 0, err, sizeof err), 0);
	ck_assert_int_eq(run_copy(shm_dir, 0, small, 0, 3 * MIB, 3 * MIB, err, sizeof err), -ENOSPC);
	ck_assert_msg(strstr(err, "write of dst") != NULL, "%s", err);
	test_rmtree(small);
	free(small);
}
END_TEST

Suite *
uring_suite(void)
{
	Suite *s = suite_create("uring");
	TCase *tc = tcase_create("copy");
	TCase *tf = tcase_create("faults");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, disk_root_setup, disk_root_teardown);
	tcase_add_checked_fixture(tc, uring_setup, uring_teardown);
	tcase_add_test(tc, test_tmpfs_to_tmpfs);
	tcase_add_test(tc, test_tmpfs_to_disk_direct);
	tcase_add_test(tc, test_disk_direct_to_tmpfs);
	tcase_add_test(tc, test_disk_to_disk);
	tcase_add_test(tc, test_no_crc_depth_one);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tf, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tf, disk_root_setup, disk_root_teardown);
	tcase_add_checked_fixture(tf, uring_setup, uring_teardown);
	tcase_add_test(tf, test_injected_enospc);
	tcase_add_test(tf, test_injected_eio);
	tcase_add_test(tf, test_injected_short_transfers);
	tcase_add_test(tf, test_short_source);
	tcase_add_test(tf, test_fsync);
	tcase_add_test(tf, test_real_enospc);
	tcase_add_test(tf, test_mapped);
	tcase_add_test(tf, test_from_mapped);
	suite_add_tcase(s, tf);
	return s;
}
