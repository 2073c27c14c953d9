/*
 * check_durable: files made by core/durable.c, from a tmpfs file (mapped),
 * a disk file (O_DIRECT) and memory, into a disk directory (O_DIRECT) or a
 * tmpfs one (read into a mapping), and from a socket into tmpfs (received
 * into a mapping): the bytes and the CRC-32C are the
 * source's; the final name appears only once its file is complete;
 * failures injected through struct uring_faults (write, read, fsync of the
 * file and of the directory), a real ENOSPC, a checksum that does not
 * match and an aborted copy leave neither the temp file nor the final one.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/durable.h"
#include "core/uring.h"
#include "tests/check_core.h"

#define MIB (1024 * 1024)
#define TMP ".tmp-"
#define NAME "b0123456789abcdef"

static char disk_root[PATH_MAX];
static char *shm_dir, *disk_dir;
static int shm_fd, disk_fd;
static struct uring *u;

static void
root_setup(void)
{
	test_root_setup();
	strcpy(disk_root, "/tmp/vineyardfs-check-durable.XXXXXX");
	if (mkdtemp(disk_root) == NULL) {
		perror("mkdtemp /tmp");
		abort();
	}
}

static void
root_teardown(void)
{
	test_rmtree(disk_root);
	test_root_teardown();
}

static void
setup(void)
{
	shm_dir = test_mkdtemp("durable");
	ck_assert_int_ge(asprintf(&disk_dir, "%s/durable.XXXXXX", disk_root), 0);
	ck_assert_ptr_nonnull(mkdtemp(disk_dir));
	ck_assert_int_ge(shm_fd = open(shm_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0);
	ck_assert_int_ge(disk_fd = open(disk_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0);
	ck_assert_int_eq(uring_open(&u, 0), 0);
}

static void
teardown(void)
{
	uring_close(u);
	close(shm_fd);
	close(disk_fd);
	test_rmtree(disk_dir);
	free(disk_dir);
	free(shm_dir);
}

/* Entries of dir (but . and ..). */
static unsigned
entries(const char *dir)
{
	struct dirent *de;
	unsigned n = 0;
	DIR *d = opendir(dir);

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Does dir/name hold exactly data[0..len)? */
static void
assert_file(const char *dir, const char *name, const unsigned char *data, size_t len)
{
	char path[PATH_MAX];
	unsigned char *got = malloc(len + 1);
	size_t off = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	ck_assert_int_ge(fd = open(path, O_RDONLY | O_CLOEXEC), 0);
	while ((n = read(fd, got + off, len + 1 - off)) > 0)
		off += (size_t)n;
	close(fd);
	ck_assert_uint_eq(off, len);
	ck_assert_msg(memcmp(got, data, len) == 0, "%s differs from the source", path);
	free(got);
}

static int
exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return test_exists(path);
}

/* A durable copy of NAME into dirfd/dir with flags, from src. */
static struct durable
job(int dirfd, const char *dir, unsigned flags, struct durable_src src, uint64_t size)
{
	struct durable d = { .u = u,
		.dirfd = dirfd,
		.dir = dir,
		.name = NAME,
		.tmp = TMP,
		.flags = flags,
		.src = src,
		.size = size };

	return d;
}

/* A file "src" of len pattern bytes in dir, open to read (O_DIRECT where
 * allowed with direct); *data its bytes, the caller's. */
static int
src_file(const char *dir, int dirfd, size_t len, int direct, unsigned char **data)
{
	int fd;

	*data = test_pattern(len, len + 1);
	test_write_file(dir, "src", *data, len);
	if (direct)
		ck_assert_int_eq(durable_open_src(dirfd, "src", &fd), 0);
	else
		ck_assert_int_ge(fd = openat(dirfd, "src", O_RDONLY | O_CLOEXEC), 0);
	return fd;
}

/* No temp file and no final file in dir. */
static void
assert_nothing(const char *dir)
{
	ck_assert_msg(!exists(dir, TMP NAME), "%s/" TMP NAME " left", dir);
	ck_assert_msg(!exists(dir, NAME), "%s/" NAME " left", dir);
}

static const size_t sizes[] = { 0, 1, 4095, 4096, MIB + 7, 5 * MIB + 3 };

/* Every kind of source into both kinds of destination, every size. */
START_TEST(test_copies)
{
	unsigned char *data;
	void *map;
	char err[512];
	size_t i;
	int src;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t len = sizes[i];
		uint32_t ref;
		struct durable d;

		/* The store's tmpfs (mapped, written from) to a disk, O_DIRECT. */
		src = src_file(shm_dir, shm_fd, len, 0, &data);
		ref = test_crc32c_ref(data, len);
		d = job(disk_fd, disk_dir, DURABLE_DIRECT,
		    (struct durable_src){ .kind = DURABLE_SRC_FD, .fd = src }, len);
		ck_assert_msg(durable_copy(&d, err, sizeof err) == 0, "%zu bytes: %s", len, err);
		ck_assert_uint_eq(d.crc, ref);
		ck_assert_int_eq(d.fd, -1);
		assert_file(disk_dir, NAME, data, len);
		ck_assert_uint_eq(entries(disk_dir), 1);

		/* Memory (a mapping of it) to a disk. */
		ck_assert_int_eq(uring_map_src(src, len, &map, err, sizeof err), 0);
		d = job(disk_fd, disk_dir, DURABLE_DIRECT,
		    (struct durable_src){ .kind = DURABLE_SRC_MEM, .mem = map }, len);
		ck_assert_msg(durable_copy(&d, err, sizeof err) == 0, "%zu bytes: %s", len, err);
		ck_assert_uint_eq(d.crc, ref);
		assert_file(disk_dir, NAME, data, len);
		uring_unmap(map, len);
		close(src);
		free(data);
		ck_assert_int_eq(unlinkat(disk_fd, NAME, 0), 0);

		/* A disk (O_DIRECT) to a disk, and to the store's tmpfs through
		 * a mapping, the checksum verified. */
		src = src_file(disk_dir, disk_fd, len, 1, &data);
		d = job(disk_fd, disk_dir, DURABLE_DIRECT,
		    (struct durable_src){ .kind = DURABLE_SRC_FD, .fd = src }, len);
		ck_assert_msg(durable_copy(&d, err, sizeof err) == 0, "%zu bytes: %s", len, err);
		ck_assert_uint_eq(d.crc, ref);
		assert_file(disk_dir, NAME, data, len);
		d = job(shm_fd, shm_dir, DURABLE_MAPPED | DURABLE_VERIFY,
		    (struct durable_src){ .kind = DURABLE_SRC_FD, .fd = src }, len);
		d.want = ref;
		ck_assert_msg(durable_copy(&d, err, sizeof err) == 0, "%zu bytes: %s", len, err);
		ck_assert_int_eq(d.mismatch, 0);
		assert_file(shm_dir, NAME, data, len);
		close(src);
		free(data);
		ck_assert_int_eq(unlinkat(disk_fd, NAME, 0), 0);
		ck_assert_int_eq(unlinkat(disk_fd, "src", 0), 0);
		ck_assert_int_eq(unlinkat(shm_fd, NAME, 0), 0);
		ck_assert_int_eq(unlinkat(shm_fd, "src", 0), 0);
	}
}
END_TEST

/* A failure injected into a copy from the store's tmpfs to a disk. */
static void
fails_with(const struct uring_faults *f, int want_rc, const char *want_msg)
{
	unsigned char *data;
	struct durable d;
	char err[512] = "";
	int src, rc;

	src = src_file(shm_dir, shm_fd, 3 * MIB + 5, 0, &data);
	d = job(disk_fd, disk_dir, DURABLE_DIRECT, (struct durable_src){ .kind = DURABLE_SRC_FD, .fd = src },
	    3 * MIB + 5);
	uring_set_faults(u, f);
	rc = durable_copy(&d, err, sizeof err);
	ck_assert_uint_eq(uring_faults_injected(u), 1);
	uring_set_faults(u, NULL);
	ck_assert_msg(rc == want_rc, "durable_copy gave %d (%s), expected %d", rc, err, want_rc);
	ck_assert_msg(strstr(err, want_msg) != NULL, "'%s' lacks '%s'", err, want_msg);
	ck_assert_int_eq(d.fd, -1);
	assert_nothing(disk_dir);
	ck_assert_uint_eq(entries(disk_dir), 0);
	close(src);
	free(data);
}

START_TEST(test_faults)
{
	struct uring_faults f;
	unsigned char *data;
	struct durable d;
	char err[512];
	int src;

	memset(&f, 0, sizeof f);
	f.fail_write_at = 2;
	f.err = ENOSPC;
	fails_with(&f, -ENOSPC, "No space left on device");
	memset(&f, 0, sizeof f);
	f.fail_write_at = 4; /* the last chunk */
	f.err = EIO;
	fails_with(&f, -EIO, "copying " NAME " to");
	memset(&f, 0, sizeof f);
	f.fail_fsync_at = 1; /* the file's */
	f.err = EIO;
	fails_with(&f, -EIO, "fsync of " NAME);
	memset(&f, 0, sizeof f);
	f.fail_fsync_at = 2; /* the directory's, after the rename */
	f.err = EIO;
	fails_with(&f, -EIO, "fsync of");

	/* A read failing, from a disk into the store's tmpfs. */
	src = src_file(disk_dir, disk_fd, 3 * MIB + 5, 1, &data);
	d = job(shm_fd, shm_dir, DURABLE_MAPPED, (struct durable_src){ .kind = DURABLE_SRC_FD, .fd = src },
	    3 * MIB + 5);
	memset(&f, 0, sizeof f);
	f.fail_read_at = 3;
	f.err = EIO;
	uring_set_faults(u, &f);
	ck_assert_int_eq(durable_copy(&d, err, sizeof err), -EIO);
	uring_set_faults(u, NULL);
	assert_nothing(shm_dir);

	/* Short transfers are carried on: the file is whole. */
	memset(&f, 0, sizeof f);
	f.short_read_at = 1;
	uring_set_faults(u, &f);
	ck_assert_msg(durable_copy(&d, err, sizeof err) == 0, "%s", err);
	uring_set_faults(u, NULL);
	assert_file(shm_dir, NAME, data, 3 * MIB + 5);
	close(src);
	free(data);
	ck_assert_int_eq(unlinkat(disk_fd, "src", 0), 0);
	src = src_file(shm_dir, shm_fd, 3 * MIB + 5, 0, &data);
	d = job(disk_fd, disk_dir, DURABLE_DIRECT, (struct durable_src){ .kind = DURABLE_SRC_FD, .fd = src },
	    3 * MIB + 5);
	memset(&f, 0, sizeof f);
	f.short_write_at = 2;
	uring_set_faults(u, &f);
	ck_assert_msg(durable_copy(&d, err, sizeof err) == 0, "%s", err);
	uring_set_faults(u, NULL);
	assert_file(disk_dir, NAME, data, 3 * MIB + 5);
	ck_assert(!exists(disk_dir, TMP NAME));
	close(src);
	free(data);
}
END_TEST

/* A checksum that does not match: -EIO, the CRC found, nothing left. */
START_TEST(test_mismatch)
{
	unsigned char *data;
	struct durable d;
	char err[512];
	int src;

	src = src_file(disk_dir, disk_fd, MIB + 3, 1, &data);
	d = job(shm_fd, shm_dir, DURABLE_MAPPED | DURABLE_NOSYNC | DURABLE_VERIFY,
	    (struct durable_src){ .kind = DURABLE_SRC_FD, .fd = src }, MIB + 3);
	d.want = test_crc32c_ref(data, MIB + 3) ^ 1;
	ck_assert_int_eq(durable_copy(&d, err, sizeof err), -EIO);
	ck_assert_int_eq(d.mismatch, 1);
	ck_assert_uint_eq(d.crc, d.want ^ 1);
	ck_assert_msg(strstr(err, "CRC-32C") != NULL, "%s", err);
	assert_nothing(shm_dir);
	close(src);
	free(data);
}
END_TEST

/* A batch: the final names appear only at durable_place, whole. */
START_TEST(test_batch)
{
	unsigned char *data;
	struct durable d, e;
	char err[512];
	struct stat st;
	int src;

	src = src_file(shm_dir, shm_fd, 2 * MIB + 1, 0, &data);
	d = job(disk_fd, disk_dir, DURABLE_DIRECT, (struct durable_src){ .kind = DURABLE_SRC_FD, .fd = src },
	    2 * MIB + 1);
	ck_assert_msg(durable_write(&d, err, sizeof err) == 0, "%s", err);
	ck_assert_int_ge(d.fd, 0);
	ck_assert(exists(disk_dir, TMP NAME));
	ck_assert(!exists(disk_dir, NAME));
	e = d;
	e.name = "b0000000000000001";
	ck_assert_msg(durable_write(&e, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(entries(disk_dir), 2);
	durable_abort(&e);
	ck_assert_int_eq(e.fd, -1);
	ck_assert_uint_eq(entries(disk_dir), 1);
	ck_assert_msg(durable_place(&d, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(d.fd, -1);
	ck_assert(!exists(disk_dir, TMP NAME));
	ck_assert_int_eq(fstatat(disk_fd, NAME, &st, 0), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 2 * MIB + 1);
	ck_assert_int_eq(durable_sync_dir(u, disk_fd, disk_dir, err, sizeof err), 0);
	assert_file(disk_dir, NAME, data, 2 * MIB + 1);
	/* Nothing written: nothing placed. */
	ck_assert_int_eq(durable_place(&e, err, sizeof err), -EBADF);
	close(src);
	free(data);
}
END_TEST

/* A real ENOSPC, with and without the blocks allocated first. */
START_TEST(test_real_enospc)
{
	char err[512], small[PATH_MAX];
	unsigned char *data;
	struct durable d;
	int src, fd;

	if (geteuid() != 0)
		return; /* mounting needs root */
	snprintf(small, sizeof small, "%s/small", shm_dir);
	ck_assert_int_eq(mkdir(small, 0700), 0);
	ck_assert_int_eq(mount("vfs-check", small, "tmpfs", 0, "size=1m"), 0);
	ck_assert_int_ge(fd = open(small, O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0);
	src = src_file(disk_dir, disk_fd, 3 * MIB, 1, &data);
	d = job(fd, small, 0, (struct durable_src){ .kind = DURABLE_SRC_FD, .fd = src }, 3 * MIB);
	ck_assert_int_eq(durable_copy(&d, err, sizeof err), -ENOSPC);
	assert_nothing(small);
	d.flags = DURABLE_MAPPED;
	ck_assert_int_eq(durable_copy(&d, err, sizeof err), -ENOSPC);
	assert_nothing(small);
	ck_assert_uint_eq(entries(small), 0);
	close(fd);
	close(src);
	free(data);
	umount2(small, MNT_DETACH);
}
END_TEST

struct sender {
	int fd; /* closed when done */
	const unsigned char *data;
	size_t len;
};

static void *
send_run(void *arg)
{
	struct sender *s = arg;
	size_t off = 0;
	ssize_t n;

	while (off < s->len && (n = send(s->fd, s->data + off, s->len - off, MSG_NOSIGNAL)) > 0)
		off += (size_t)n;
	close(s->fd);
	return NULL;
}

/* len bytes of data to come on a fresh socket (sent of them do) into
 * dirfd/dir: durable_copy's result. */
static int
from_socket(int dirfd, const char *dir, const unsigned char *data, size_t len, size_t sent, unsigned flags)
{
	struct sender snd = { .data = data, .len = sent };
	char err[512];
	struct durable d;
	pthread_t t;
	int sv[2], rc;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	snd.fd = sv[1];
	ck_assert_int_eq(pthread_create(&t, NULL, send_run, &snd), 0);
	d = job(dirfd, dir, flags, (struct durable_src){ .kind = DURABLE_SRC_SOCKET, .fd = sv[0] }, len);
	d.u = NULL; /* not used: no fsync, no file source */
	d.want = test_crc32c_ref(data, len);
	rc = durable_copy(&d, err, sizeof err);
	close(sv[0]); /* a sender still at it fails */
	pthread_join(t, NULL);
	ck_assert_int_eq(d.fd, -1);
	if (rc == 0)
		ck_assert_uint_eq(d.crc, d.want);
	return rc;
}

/* Bytes from a socket into the store's tmpfs: whole, cut short, with no
 * room for them; and never into a destination that is not mapped. */
START_TEST(test_socket)
{
	const unsigned flags = DURABLE_MAPPED | DURABLE_NOSYNC | DURABLE_VERIFY;
	size_t i, len;
	unsigned char *data;
	char small[PATH_MAX];
	int fd;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		len = sizes[i];
		data = test_pattern(len, len + 3);
		ck_assert_int_eq(from_socket(shm_fd, shm_dir, data, len, len, flags), 0);
		assert_file(shm_dir, NAME, data, len);
		ck_assert_uint_eq(entries(shm_dir), 1);
		ck_assert_int_eq(unlinkat(shm_fd, NAME, 0), 0);
		if (len > 0) {
			ck_assert_int_eq(
			    from_socket(shm_fd, shm_dir, data, len, len / 2, flags), -ECONNRESET);
			assert_nothing(shm_dir);
		}
		free(data);
	}
	data = test_pattern(3 * MIB, 1);
	ck_assert_int_eq(from_socket(shm_fd, shm_dir, data, MIB, MIB, DURABLE_NOSYNC), -EINVAL);
	assert_nothing(shm_dir);
	if (geteuid() == 0) { /* mounting needs root */
		snprintf(small, sizeof small, "%s/small", shm_dir);
		ck_assert_int_eq(mkdir(small, 0700), 0);
		ck_assert_int_eq(mount("vfs-check", small, "tmpfs", 0, "size=1m"), 0);
		ck_assert_int_ge(fd = open(small, O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0);
		ck_assert_int_eq(from_socket(fd, small, data, 3 * MIB, 3 * MIB, flags), -ENOSPC);
		ck_assert_uint_eq(entries(small), 0);
		close(fd);
		umount2(small, MNT_DETACH);
	}
	free(data);
}
END_TEST

/* A file written by other means, made durable under its name. */
START_TEST(test_rename)
{
	struct uring_faults f;
	char err[512];

	test_write_file(disk_dir, "tmp-db", "data", 4);
	ck_assert_int_eq(durable_rename(u, disk_fd, disk_dir, "tmp-db", "final.db", err, sizeof err), 0);
	ck_assert(!exists(disk_dir, "tmp-db"));
	assert_file(disk_dir, "final.db", (const unsigned char *)"data", 4);

	memset(&f, 0, sizeof f);
	f.fail_fsync_at = 1;
	f.err = EIO;
	test_write_file(disk_dir, "tmp-db", "new", 3);
	uring_set_faults(u, &f);
	ck_assert_int_eq(durable_rename(u, disk_fd, disk_dir, "tmp-db", "final.db", err, sizeof err), -EIO);
	uring_set_faults(u, NULL);
	ck_assert_msg(strstr(err, "tmp-db") != NULL, "%s", err);
	ck_assert(!exists(disk_dir, "tmp-db"));
	assert_file(disk_dir, "final.db", (const unsigned char *)"data", 4);
	ck_assert_int_eq(
	    durable_rename(u, disk_fd, disk_dir, "tmp-db", "final.db", err, sizeof err), -ENOENT);
}
END_TEST

Suite *
durable_suite(void)
{
	Suite *s = suite_create("durable");
	TCase *tc = tcase_create("durable");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_copies);
	tcase_add_test(tc, test_faults);
	tcase_add_test(tc, test_mismatch);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_real_enospc);
	tcase_add_test(tc, test_socket);
	tcase_add_test(tc, test_rename);
	suite_add_tcase(s, tc);
	return s;
}
