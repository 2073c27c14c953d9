/*
 * check_core: runs the unit suites of the core modules (no FUSE mount) in
 * one runner, and holds the scratch-directory helpers the suites share.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/check_core.h"

/* Under /dev/shm: the store and catalog suites want their files on tmpfs. */
#define TEST_ROOT_TEMPLATE "/dev/shm/vineyardfs-check.XXXXXX"

static char test_root[PATH_MAX];
static unsigned test_seq;

void
test_root_setup(void)
{
	strcpy(test_root, TEST_ROOT_TEMPLATE);
	if (mkdtemp(test_root) == NULL) {
		perror("mkdtemp " TEST_ROOT_TEMPLATE);
		abort();
	}
}

void
test_root_teardown(void)
{
	if (test_root[0] != '\0')
		test_rmtree(test_root);
	test_root[0] = '\0';
}

char *
test_mkdtemp(const char *tag)
{
	char *p;

	ck_assert_msg(test_root[0] != '\0', "the tcase lacks the test_root fixture");
	ck_assert_int_ge(asprintf(&p, "%s/%s.%u.XXXXXX", test_root, tag, test_seq++), 0);
	ck_assert_ptr_nonnull(mkdtemp(p));
	return p;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
test_rmtree(const char *path)
{
	size_t n = strlen(path);
	char line[2 * PATH_MAX], mnt[PATH_MAX];
	int again = 1;

	/* Mounts nest: detach the ones below path until none is left. */
	while (again) {
		FILE *f = fopen("/proc/self/mounts", "r");

		again = 0;
		if (f == NULL)
			break;
		while (fgets(line, sizeof line, f) != NULL) {
			if (sscanf(line, "%*s %4095s", mnt) != 1)
				continue;
			if (strncmp(mnt, path, n) == 0 && (mnt[n] == '\0' || mnt[n] == '/') &&
			    umount2(mnt, MNT_DETACH) == 0)
				again = 1;
		}
		fclose(f);
	}
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
test_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

void
test_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	char *zeros = NULL;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	if (data == NULL)
		data = zeros = calloc(1, len + 1);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	free(zeros);
}

void
test_freed_add(struct test_freed *f, uint64_t id)
{
	if (f->n < TEST_FREED_MAX)
		f->ids[f->n] = id;
	f->n++;
}

int
test_was_freed(const struct test_freed *f, uint64_t id)
{
	unsigned i, n = 0;

	for (i = 0; i < f->n && i < TEST_FREED_MAX; i++)
		n += f->ids[i] == id;
	return n;
}

/* len bytes of a pattern that differs per seed and never repeats a chunk
 * (xorshift); one byte more is allocated. Caller frees. */
int
test_xattr_is(catalog_t *c, uint64_t ino, const char *name, const char *want)
{
	char *v = NULL;
	size_t len;
	int same;

	if (catalog_xattr_get(c, ino, name, &v, &len) != 0)
		return 0;
	same = len == strlen(want) && memcmp(v, want, len) == 0;
	free(v);
	return same;
}

void
test_catalog_open(struct test_catalog *t, const char *tag, uint64_t limit, unsigned instance)
{
	struct catalog_config cfg = { 0 };
	char name[64];

	snprintf(name, sizeof name, "%sstate", tag);
	t->state = test_mkdtemp(name);
	snprintf(name, sizeof name, "%smem", tag);
	t->backing = test_mkdtemp(name);
	cfg.state_dir = t->state;
	cfg.backing_dir = t->backing;
	cfg.memory_limit = limit;
	cfg.instance_id = instance;
	ck_assert_int_eq(catalog_open(&cfg, &t->cat), 0);
}

void
test_catalog_close(struct test_catalog *t)
{
	catalog_close(t->cat);
	test_rmtree(t->state);
	test_rmtree(t->backing);
	free(t->state);
	free(t->backing);
	t->cat = NULL;
}

int
main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int failed;

	srunner_add_suite(sr, hmap_suite());
	srunner_add_suite(sr, id_suite());
	srunner_add_suite(sr, object_suite());
	srunner_add_suite(sr, meta_suite());
	srunner_add_suite(sr, metrics_suite());
	srunner_add_suite(sr, mem_suite());
	srunner_add_suite(sr, meta_snapshot_suite());
	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, catalog_suite());
	srunner_add_suite(sr, catalog_cache_suite());
	srunner_add_suite(sr, catalog_mirror_suite());
	srunner_add_suite(sr, catalog_remote_suite());
	srunner_add_suite(sr, stream_suite());
	srunner_add_suite(sr, types_suite());
	srunner_add_suite(sr, arrow_ipc_suite());
	srunner_add_suite(sr, arrow_ctl_suite());
	srunner_add_suite(sr, crc32c_suite());
	srunner_add_suite(sr, uring_suite());
	srunner_add_suite(sr, durable_suite());
	srunner_add_suite(sr, snapshot_suite());
	srunner_add_suite(sr, spill_files_suite());
	srunner_add_suite(sr, spill_suite());
	srunner_add_suite(sr, vec_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
