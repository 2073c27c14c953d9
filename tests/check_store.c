/*
 * check_store: blob files in a plain directory (under /dev/shm) and in a
 * dedicated tmpfs the store mounts itself (root only).
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
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "core/id.h"
#include "core/store.h"
#include "tests/check_core.h"

#define KIB 1024
#define MIB (1024 * 1024)

static char *dir;
static store_t *st;

static void
store_setup(void)
{
	dir = test_mkdtemp("store");
	st = NULL;
}

static void
store_teardown(void)
{
	store_close(st);
	/* The dedicated tmpfs outlives the store by design: unmount it. */
	umount2(dir, MNT_DETACH);
	test_rmtree(dir);
	free(dir);
}

static uint64_t
blob_id(unsigned n)
{
	return ID_BLOB_BIT | (UINT64_C(9) << ID_INSTANCE_SHIFT) | (UINT64_C(100) << ID_TIME_SHIFT) | n;
}

static void
path_of(uint64_t id, char *buf, size_t len)
{
	char name[ID_STR_LEN + 1];

	id_format(id, name);
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
fill(int fd, size_t len, int byte)
{
	char *buf = malloc(len);

	memset(buf, byte, len);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	free(buf);
}

START_TEST(test_blob_files)
{
	char sub[PATH_MAX], path[PATH_MAX], buf[16];
	uint64_t size = 1;
	struct stat sb;
	int fd = -1, fd2 = -1;

	/* The store creates its directory, nested. */
	snprintf(sub, sizeof sub, "%s/a/b", dir);
	ck_assert_int_eq(store_open(sub, MIB, 0, &st), 0);
	ck_assert_str_eq(store_dir(st), sub);
	ck_assert_int_eq(store_kernel_limited(st), 0);
	store_close(st);
	st = NULL;

	ck_assert_int_eq(store_open(dir, MIB, 0, &st), 0);
	ck_assert_int_eq(store_blob_create(st, blob_id(1), &fd), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	fill(fd, 1000, 'x');
	ck_assert_int_eq(close(fd), 0);
	path_of(blob_id(1), path, sizeof path);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	ck_assert_int_eq(store_blob_size(st, blob_id(1), &size), 0);
	ck_assert_uint_eq(size, 1000);
	/* A blob is created once. */
	fd = 123;
	ck_assert_int_eq(store_blob_create(st, blob_id(1), &fd), -EEXIST);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(store_blob_open(st, blob_id(1), O_RDONLY, &fd2), 0);
	ck_assert_int_eq(pread(fd2, buf, sizeof buf, 990), 10);
	ck_assert_int_eq(memcmp(buf, "xxxxxxxxxx", 10), 0);
	ck_assert_int_eq(store_blob_remove(st, blob_id(1)), 0);
	ck_assert(!test_exists(path));
	/* The open fd still reads the removed file. */
	ck_assert_int_eq(pread(fd2, buf, 4, 0), 4);
	ck_assert_int_eq(close(fd2), 0);
	ck_assert_int_eq(store_blob_size(st, blob_id(1), &size), -ENOENT);
	ck_assert_int_eq(store_blob_open(st, blob_id(1), O_RDONLY, &fd2), -ENOENT);
	ck_assert_int_eq(store_blob_remove(st, blob_id(1)), -ENOENT);
	/* An empty blob. */
	ck_assert_int_eq(store_blob_create(st, blob_id(2), &fd), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(store_blob_size(st, blob_id(2), &size), 0);
	ck_assert_uint_eq(size, 0);
}
END_TEST

#define MAXSEEN 16

struct seen {
	char *names[MAXSEEN];
	uint64_t ids[MAXSEEN];
	int n;
	int stop_at; /* > 0: return 99 from that call */
};

static int
on_file(void *arg, const char *name, uint64_t id)
{
	struct seen *s = arg;

	ck_assert_int_lt(s->n, MAXSEEN);
	s->names[s->n] = strdup(name);
	s->ids[s->n] = id;
	s->n++;
	return s->n == s->stop_at ? 99 : 0;
}

/* How often name was reported, and (last) with which id. */
static int
seen_count(const struct seen *s, const char *name, uint64_t *id)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->names[i], name) == 0) {
			n++;
			*id = s->ids[i];
		}
	}
	return n;
}

static void
seen_free(struct seen *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		free(s->names[i]);
	memset(s, 0, sizeof *s);
}

START_TEST(test_scan)
{
	char n1[ID_STR_LEN + 1], n2[ID_STR_LEN + 1], path[PATH_MAX];
	struct seen s = { 0 };
	uint64_t id;
	int fd;

	ck_assert_int_eq(store_open(dir, MIB, 0, &st), 0);
	ck_assert_int_eq(store_scan(st, on_file, &s), 0);
	ck_assert_int_eq(s.n, 0);
	ck_assert_int_eq(store_blob_create(st, blob_id(1), &fd), 0);
	close(fd);
	ck_assert_int_eq(store_blob_create(st, blob_id(2), &fd), 0);
	close(fd);
	id_format(blob_id(1), n1);
	id_format(blob_id(2), n2);
	test_write_file(dir, "junk", "j", 1);
	test_write_file(dir, "o0009000000640001", NULL, 0); /* an object id: not a blob */
	test_write_file(dir, "b0000000000000001", NULL, 0); /* bit 63 clear: not a blob id */
	test_write_file(dir, "b8000000000000001", NULL, 0); /* a blob id nobody knows */
	test_write_file(dir, "B8000000000000002", NULL, 0);
	ck_assert_int_eq(store_scan(st, on_file, &s), 0);
	ck_assert_int_eq(s.n, 7);
	ck_assert_int_eq(seen_count(&s, n1, &id), 1);
	ck_assert_uint_eq(id, blob_id(1));
	ck_assert_int_eq(seen_count(&s, n2, &id), 1);
	ck_assert_uint_eq(id, blob_id(2));
	ck_assert_int_eq(seen_count(&s, "b8000000000000001", &id), 1);
	ck_assert_uint_eq(id, ID_BLOB_BIT | 1);
	ck_assert_int_eq(seen_count(&s, "junk", &id), 1);
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(seen_count(&s, "o0009000000640001", &id), 1);
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(seen_count(&s, "b0000000000000001", &id), 1);
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(seen_count(&s, "B8000000000000002", &id), 1);
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(seen_count(&s, ".", &id) + seen_count(&s, "..", &id), 0);
	seen_free(&s);
	/* A non-zero return stops the scan and is passed on. */
	s.stop_at = 2;
	ck_assert_int_eq(store_scan(st, on_file, &s), 99);
	ck_assert_int_eq(s.n, 2);
	seen_free(&s);
	/* Orphans go by name. */
	ck_assert_int_eq(store_remove_name(st, "junk"), 0);
	snprintf(path, sizeof path, "%s/junk", dir);
	ck_assert(!test_exists(path));
	ck_assert_int_eq(store_remove_name(st, "junk"), -ENOENT);
	ck_assert_int_eq(store_scan(st, on_file, &s), 0);
	ck_assert_int_eq(s.n, 6);
	seen_free(&s);
}
END_TEST

START_TEST(test_no_tmpfs_usage)
{
	uint64_t used = 12345;
	int fd;

	ck_assert_int_eq(store_open(dir, 4 * KIB, 0, &st), 0);
	ck_assert_int_eq(store_usage(st, &used), -ENOTSUP);
	ck_assert_uint_eq(used, 12345);
	ck_assert_int_eq(store_kernel_limited(st), 0);
	/* Past the limit: nothing stops the writer here (the catalog counts). */
	ck_assert_int_eq(store_blob_create(st, blob_id(1), &fd), 0);
	fill(fd, 64 * KIB, 'a');
	close(fd);
	ck_assert_int_eq(store_full(st), 0);
}
END_TEST

/* Write up to len bytes in 64 KiB chunks; bytes written, errno in *err. */
static size_t
write_until(int fd, size_t len, int *err)
{
	static char chunk[64 * KIB];
	size_t done = 0;

	memset(chunk, 'z', sizeof chunk);
	*err = 0;
	while (done < len) {
		size_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
		ssize_t w = write(fd, chunk, n);

		if (w < 0) {
			*err = errno;
			break;
		}
		done += (size_t)w;
	}
	return done;
}

/* Does the mount at where show option opt in /proc/self/mounts? */
static int
mount_has(const char *where, const char *opt)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char line[2 * PATH_MAX], mnt[PATH_MAX], opts[1024];
	int found = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "%*s %4095s %*s %1023s", mnt, opts) == 2 && strcmp(mnt, where) == 0)
			found = strstr(opts, opt) != NULL;
	fclose(f);
	return found;
}

START_TEST(test_tmpfs_limit)
{
	long page = sysconf(_SC_PAGESIZE);
	char parent[PATH_MAX];
	struct stat sb, psb;
	struct statfs sf;
	struct statvfs sv;
	uint64_t used = 0;
	size_t done;
	int fd1, fd2, err;

	if (geteuid() != 0) {
		fprintf(stderr, "test_tmpfs_limit: not root, cannot mount a tmpfs: skipped\n");
		return;
	}
	ck_assert_int_eq(store_open(dir, MIB, 1, &st), 0);
	ck_assert_int_eq(store_kernel_limited(st), 1);
	/* A tmpfs of its own, limit plus one page. */
	ck_assert_int_eq(statfs(dir, &sf), 0);
	ck_assert(sf.f_type == TMPFS_MAGIC);
	snprintf(parent, sizeof parent, "%s/..", dir);
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_int_eq(stat(parent, &psb), 0);
	ck_assert(sb.st_dev != psb.st_dev);
	ck_assert_int_eq(statvfs(dir, &sv), 0);
	ck_assert_uint_eq((uint64_t)sv.f_blocks * sv.f_frsize, MIB + page);
	ck_assert_int_eq(store_usage(st, &used), 0);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(store_full(st), 0);

	/* Half the limit: counted, not full. */
	ck_assert_int_eq(store_blob_create(st, blob_id(1), &fd1), 0);
	done = write_until(fd1, 512 * KIB, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(done, 512 * KIB);
	ck_assert_int_eq(store_usage(st, &used), 0);
	ck_assert_uint_ge(used, 512 * KIB);
	ck_assert_uint_lt(used, 512 * KIB + 16 * page);
	ck_assert_int_eq(store_full(st), 0);

	/* Past the limit: the kernel says ENOSPC, and the store is full. */
	ck_assert_int_eq(store_blob_create(st, blob_id(2), &fd2), 0);
	done = write_until(fd2, MIB, &err);
	ck_assert_int_eq(err, ENOSPC);
	ck_assert_uint_le(done, 512 * KIB + page);
	ck_assert_uint_ge(done, 512 * KIB - 16 * page);
	ck_assert_int_eq(store_full(st), 1);
	ck_assert_int_eq(store_usage(st, &used), 0);
	ck_assert_uint_ge(used, MIB);
	ck_assert_uint_le(used, MIB + page);

	/* Freed once removed and closed. */
	ck_assert_int_eq(store_blob_remove(st, blob_id(2)), 0);
	ck_assert_int_eq(close(fd2), 0);
	ck_assert_int_eq(store_full(st), 0);
	ck_assert_int_eq(store_usage(st, &used), 0);
	ck_assert_uint_lt(used, 512 * KIB + 16 * page);
	ck_assert_int_eq(close(fd1), 0);

	/* A second open finds the tmpfs (and its data) and resizes it. */
	store_close(st);
	st = NULL;
	ck_assert_int_eq(store_open(dir, 2 * MIB, 1, &st), 0);
	ck_assert_int_eq(statvfs(dir, &sv), 0);
	ck_assert_uint_eq((uint64_t)sv.f_blocks * sv.f_frsize, 2 * MIB + page);
	ck_assert_int_eq(store_blob_size(st, blob_id(1), &used), 0);
	ck_assert_uint_eq(used, 512 * KIB);
	ck_assert_int_eq(store_usage(st, &used), 0);
	ck_assert_uint_ge(used, 512 * KIB);
	ck_assert_int_eq(store_full(st), 0);
	/* Only one tmpfs: the remount did not stack a second one. */
	{
		FILE *f = fopen("/proc/self/mounts", "r");
		char line[2 * PATH_MAX], mnt[PATH_MAX];
		int n = 0;

		ck_assert_ptr_nonnull(f);
		while (fgets(line, sizeof line, f) != NULL)
			if (sscanf(line, "%*s %4095s", mnt) == 1 && strcmp(mnt, dir) == 0)
				n++;
		fclose(f);
		ck_assert_int_eq(n, 1);
	}
	/* Huge pages only when asked, also on a later open of the same tmpfs. */
	ck_assert_int_eq(mount_has(dir, "huge=within_size"), 0);
	store_close(st);
	st = NULL;
	ck_assert_int_eq(store_open(dir, 2 * MIB, STORE_MOUNT | STORE_HUGE, &st), 0);
	ck_assert_int_eq(mount_has(dir, "huge=within_size"), 1);
	store_close(st);
	st = NULL;
	ck_assert_int_eq(store_open(dir, 2 * MIB, STORE_MOUNT, &st), 0);
	ck_assert_int_eq(mount_has(dir, "huge=within_size"), 0);
	ck_assert_int_eq(mount_has(dir, "huge=advise"), 1);
}
END_TEST

Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("directory");
	TCase *tt = tcase_create("tmpfs");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, test_blob_files);
	tcase_add_test(tc, test_scan);
	tcase_add_test(tc, test_no_tmpfs_usage);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tt, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tt, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tt, store_setup, store_teardown);
	tcase_add_test(tt, test_tmpfs_limit);
	suite_add_tcase(s, tt);
	return s;
}
