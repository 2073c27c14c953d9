/*
 * check_snapshot: snapshots of a catalog over a backing directory, written
 * to a disk directory (/tmp), and restores into fresh state dirs: every
 * object, name, owner, mode and byte comes back; a second snapshot copies
 * only new blobs and removes the files of deleted ones; injected ENOSPC,
 * EIO and failed fsyncs (and a real ENOSPC) fail the snapshot with its
 * reason, leave no temp file and the previous snapshot restorable; a short
 * write is carried on; a corrupt, truncated or missing blob file fails the
 * restore, naming the blob, and leaves the state dir as it was.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/catalog.h"
#include "core/crc32c.h"
#include "core/id.h"
#include "core/request.h"
#include "core/snapshot.h"
#include "tests/check_core.h"

#define MIB (1024 * 1024)
#define INSTANCE 9

static char disk_root[PATH_MAX];
static char *state, *backing, *snapdir;
static struct catalog_config cfg;
static catalog_t *cat;

/* The snapshots go to a disk, as they would in use (O_DIRECT there). */
static void
root_setup(void)
{
	test_root_setup();
	strcpy(disk_root, "/tmp/vineyardfs-check-snapshot.XXXXXX");
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

/* A new, unique directory path under the disk root (not created). */
static char *
disk_path(const char *tag)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s.XXXXXX", disk_root, tag), 0);
	ck_assert_ptr_nonnull(mkdtemp(p));
	ck_assert_int_eq(rmdir(p), 0);
	return p;
}

static void
snap_setup(void)
{
	state = test_mkdtemp("state");
	backing = test_mkdtemp("mem");
	snapdir = disk_path("snap");
	memset(&cfg, 0, sizeof cfg);
	cfg.state_dir = state;
	cfg.backing_dir = backing;
	cfg.memory_limit = 256 * MIB;
	cfg.instance_id = INSTANCE;
	cat = NULL;
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	snapshot_set_faults(NULL);
}

static void
snap_teardown(void)
{
	snapshot_set_faults(NULL);
	catalog_close(cat);
	free(state);
	free(backing);
	free(snapdir);
}

/* A sealed Blob object names/<name> of len pattern bytes; its blob id. */
static uint64_t
put(catalog_t *c, const char *name, size_t len, unsigned seed, uid_t uid, mode_t mode, uint64_t *oid)
{
	unsigned char *data = test_pattern(len, seed);
	struct catalog_attr a;
	uint64_t bid;
	int fd = -1;

	ck_assert_int_eq(catalog_create_blob_object(c, name, uid, uid, mode, &a, &bid, &fd), 0);
	if (len > 0)
		ck_assert_int_eq(pwrite(fd, data, len, 0), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	catalog_release(c, bid, 1);
	free(data);
	if (oid != NULL)
		*oid = ino_id(a.ino);
	return bid;
}

/* A Tensor of float64 over blob bid (rows of 8 bytes), named name. */
static uint64_t
tensor(catalog_t *c, uint64_t bid, size_t rows, const char *name)
{
	char ids[ID_STR_LEN + 1], err[256];
	json_t *fields, *members;
	uint64_t oid;
	int rc;

	id_format(bid, ids);
	fields = json_pack("{s:s, s:[I]}", "value_type_", "float64", "shape_", (json_int_t)rows);
	members = json_pack("{s:s}", "buffer_", ids);
	rc = catalog_create_object(
	    c, "Tensor", fields, members, name, 1000, 1000, 0640, &oid, err, sizeof err);
	ck_assert_msg(rc == 0, "create Tensor: %s", err);
	json_decref(fields);
	json_decref(members);
	return oid;
}

/* The first set of objects: Blob objects of several sizes (empty, a few
 * bytes, across chunk boundaries with an unaligned tail), owners and
 * modes, a Tensor, a second name, an unnamed object, and a blob being
 * written (not in any snapshot). */
static void
populate(catalog_t *c, int *unsealed_fd, uint64_t *unsealed_bid)
{
	struct catalog_attr a;
	uint64_t bid, oid;

	put(c, "empty", 0, 1, 1000, 0644, NULL);
	put(c, "small", 15, 2, 1001, 0600, NULL);
	put(c, "big", 5 * MIB + 3, 3, 1002, 0640, NULL);
	put(c, "root-owned", 4096, 4, 0, 0444, &oid);
	ck_assert_int_eq(catalog_name_add(c, oid, "alias", 0), 0);
	bid = put(c, "td", 3 * MIB + 24, 10, 1000, 0640, NULL);
	tensor(c, bid, (3 * MIB + 24) / 8, "t");
	bid = put(c, "raw", 64 * 8, 5, 1000, 0644, NULL);
	tensor(c, bid, 64, NULL);
	ck_assert_int_eq(
	    catalog_create_blob_object(c, "writing", 1000, 1000, 0644, &a, unsealed_bid, unsealed_fd), 0);
	ck_assert_int_eq(pwrite(*unsealed_fd, "partial", 7, 0), 7);
}

/* ---- a text dump of everything a user sees, sorted ---- */

struct lines {
	char **v;
	size_t n;
};

static void add_line(struct lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add_line(struct lines *l, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&s, fmt, ap), 0);
	va_end(ap);
	l->v = realloc(l->v, (l->n + 1) * sizeof *l->v);
	ck_assert_ptr_nonnull(l->v);
	l->v[l->n++] = s;
}

struct dump_ctx {
	catalog_t *c;
	struct lines *l;
	const char *dir;
};

static int
dump_entry(void *arg, const char *name, const struct catalog_attr *a)
{
	struct dump_ctx *d = arg;

	add_line(d->l, "%s/%s ino=%016llx mode=%o uid=%u gid=%u size=%llu nlink=%u sealed=%d mtime=%lld",
	    d->dir, name, (unsigned long long)a->ino, (unsigned)a->mode, (unsigned)a->uid, (unsigned)a->gid,
	    (unsigned long long)a->size, a->nlink, a->sealed, (long long)a->mtime_ns);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every name, object (with its meta.json) and blob (with the CRC of its
 * bytes) of c, one sorted text. Caller frees. */
static char *
dump(catalog_t *c)
{
	struct lines l = { NULL, 0 };
	struct dump_ctx d = { c, &l, "names" };
	size_t i, n, len, total = 1;
	char *out;

	ck_assert_int_eq(catalog_list(c, INO_NAMES, dump_entry, &d), 0);
	d.dir = "objects";
	ck_assert_int_eq(catalog_list(c, INO_OBJECTS, dump_entry, &d), 0);
	d.dir = "blobs";
	ck_assert_int_eq(catalog_list(c, INO_BLOBS, dump_entry, &d), 0);
	n = l.n;
	for (i = 0; i < n; i++) {
		char kind[16], ids[ID_STR_LEN + 1];
		uint64_t id;

		if (sscanf(l.v[i], "%15[a-z]/%17s", kind, ids) != 2 || id_parse(ids, &id) != 0)
			continue;
		if (strcmp(kind, "objects") == 0) {
			char *text;

			ck_assert_int_eq(
			    catalog_read_generated(c, ino_of(id, INO_VIEW_META), &text, &len), 0);
			add_line(&l, "%s meta.json %.*s", ids, (int)len, text);
			free(text);
		} else if (strcmp(kind, "blobs") == 0) {
			unsigned char buf[65536];
			uint32_t crc = 0;
			uint64_t size = 0;
			ssize_t got;
			int fd;

			ck_assert_int_eq(catalog_blob_fd(c, id, 0, &fd), 0);
			while ((got = read(fd, buf, sizeof buf)) > 0) {
				crc = crc32c_update(crc, buf, (size_t)got);
				size += (uint64_t)got;
			}
			ck_assert_int_eq(got, 0);
			close(fd);
			add_line(&l, "%s bytes=%llu crc=%08x", ids, (unsigned long long)size, crc);
		}
	}
	qsort(l.v, l.n, sizeof *l.v, cmp_str);
	for (i = 0; i < l.n; i++)
		total += strlen(l.v[i]) + 1;
	out = malloc(total);
	ck_assert_ptr_nonnull(out);
	out[0] = '\0';
	for (i = 0; i < l.n; i++) {
		strcat(out, l.v[i]);
		strcat(out, "\n");
		free(l.v[i]);
	}
	free(l.v);
	return out;
}

/* ---- helpers ---- */

static void
snapshot_ok(const char *dir, struct snapshot_result *r)
{
	char err[1024];
	int rc = snapshot_create(cat, dir, r, err, sizeof err);

	ck_assert_msg(rc == 0, "snapshot_create: %s", err);
}

/* Restore dir into new state and backing dirs, open the catalog there
 * and return its dump (NULL with *rc and err when the restore failed). */
static char *
restore_dump(const char *dir, int *rc, char *err, size_t errlen, char **st_out, char **mem_out)
{
	struct catalog_config c2 = cfg;
	struct snapshot_result r;
	catalog_t *cat2 = NULL;
	char *st = test_mkdtemp("rstate"), *mem = test_mkdtemp("rmem"), *text = NULL;

	c2.state_dir = st;
	c2.backing_dir = mem;
	*rc = snapshot_restore(&c2, dir, &r, err, errlen);
	if (*rc == 0) {
		ck_assert_int_eq(catalog_open(&c2, &cat2), 0);
		text = dump(cat2);
		catalog_close(cat2);
	}
	if (st_out != NULL)
		*st_out = st;
	else
		free(st);
	if (mem_out != NULL)
		*mem_out = mem;
	else
		free(mem);
	return text;
}

static void
restores_to(const char *dir, const char *want)
{
	char err[1024], *got;
	int rc;

	got = restore_dump(dir, &rc, err, sizeof err, NULL, NULL);
	ck_assert_msg(rc == 0, "snapshot_restore: %s", err);
	ck_assert_str_eq(got, want);
	free(got);
}

/* Entries of path whose names start with prefix. */
static unsigned
count_prefixed(const char *path, const char *prefix)
{
	struct dirent *de;
	unsigned n = 0;
	DIR *d = opendir(path);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static unsigned
blob_files(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/blobs", dir);
	return count_prefixed(path, "b");
}

/* No temp file of a snapshot in dir or dir/blobs. */
static void
no_temps(const char *dir)
{
	char path[PATH_MAX];

	ck_assert_uint_eq(count_prefixed(dir, ".tmp-"), 0);
	snprintf(path, sizeof path, "%s/blobs", dir);
	ck_assert_uint_eq(count_prefixed(path, ".tmp-"), 0);
}

/* Is dir empty (but for . and ..)? */
static int
is_empty(const char *dir)
{
	return count_prefixed(dir, "") == 2;
}

/* ---- tests ---- */

START_TEST(test_roundtrip)
{
	struct snapshot_result r;
	struct snapshot_progress p;
	char *want, path[PATH_MAX];
	uint64_t wbid;
	int wfd;

	populate(cat, &wfd, &wbid);
	snapshot_ok(snapdir, &r);
	/* 9 objects and 9 names, less the one being written. */
	ck_assert_uint_eq(r.objects, 8);
	ck_assert_uint_eq(r.names, 8);
	ck_assert_uint_eq(r.blobs, 6);
	ck_assert_uint_eq(r.blobs_copied, 6);
	ck_assert_uint_eq(r.blobs_skipped, 0);
	ck_assert_uint_eq(r.bytes, 0 + 15 + 5 * MIB + 3 + 4096 + 3 * MIB + 24 + 512);
	ck_assert_uint_eq(r.bytes_copied, r.bytes);
	ck_assert_uint_eq(blob_files(snapdir), 6);
	no_temps(snapdir);
	snprintf(path, sizeof path, "%s/meta.db", snapdir);
	ck_assert(test_exists(path));
	snapshot_progress(&p);
	ck_assert_int_eq(p.running, 0);
	ck_assert_uint_eq(p.bytes_done, r.bytes);
	ck_assert_uint_eq(p.bytes_total, r.bytes);

	/* What the snapshot holds: everything but the blob being written. */
	ck_assert_int_eq(close(wfd), 0);
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, "writing", 0), 0);
	catalog_release(cat, wbid, 1);
	want = dump(cat);
	ck_assert_ptr_nonnull(strstr(want, "names/alias "));
	ck_assert_ptr_null(strstr(want, "names/writing "));
	restores_to(snapdir, want);
	free(want);
}
END_TEST

START_TEST(test_incremental)
{
	struct snapshot_result r;
	uint64_t wbid, oid;
	char *want;
	int wfd;

	populate(cat, &wfd, &wbid);
	close(wfd);
	catalog_release(cat, wbid, 1); /* sealed now: in the next snapshot */
	snapshot_ok(snapdir, &r);
	ck_assert_uint_eq(r.blobs_copied, 7);

	/* Nothing new: nothing copied. */
	snapshot_ok(snapdir, &r);
	ck_assert_uint_eq(r.blobs_copied, 0);
	ck_assert_uint_eq(r.bytes_copied, 0);
	ck_assert_uint_eq(r.blobs_skipped, 7);
	ck_assert_uint_eq(r.blobs_removed, 0);

	/* One more object, one deleted: one blob copied, one file removed. */
	put(cat, "new", 3 * MIB, 6, 1000, 0644, NULL);
	put(cat, "gone", 1000, 7, 1000, 0644, &oid);
	snapshot_ok(snapdir, &r);
	ck_assert_uint_eq(r.blobs_copied, 2);
	ck_assert_int_eq(catalog_delete_object(cat, oid, 0, CATALOG_DELETE_DEEP), 0);
	snapshot_ok(snapdir, &r);
	ck_assert_uint_eq(r.blobs, 8);
	ck_assert_uint_eq(r.blobs_copied, 0);
	ck_assert_uint_eq(r.blobs_skipped, 8);
	ck_assert_uint_eq(r.blobs_removed, 1);
	ck_assert_uint_eq(blob_files(snapdir), 8);
	no_temps(snapdir);
	want = dump(cat);
	restores_to(snapdir, want);
	free(want);

	/* A blob file lost from the directory is copied again. */
	{
		char path[PATH_MAX + 260], dir[PATH_MAX];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof dir, "%s/blobs", snapdir);
		ck_assert_ptr_nonnull(d = opendir(dir));
		while ((de = readdir(d)) != NULL && de->d_name[0] != 'b')
			;
		ck_assert_ptr_nonnull(de);
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		closedir(d);
		ck_assert_int_eq(unlink(path), 0);
	}
	snapshot_ok(snapdir, &r);
	ck_assert_uint_eq(r.blobs_copied, 1);
	ck_assert_uint_eq(blob_files(snapdir), 8);
}
END_TEST

/* A failed snapshot: its errno and message, no temp files, and the
 * previous snapshot (want) still restores. */
static void
fails_with(const struct uring_faults *f, int want_rc, const char *want_msg, const char *want)
{
	struct snapshot_result r;
	struct snapshot_progress p0, p1;
	char err[1024];
	int rc;

	snapshot_progress(&p0);
	snapshot_set_faults(f);
	rc = snapshot_create(cat, snapdir, &r, err, sizeof err);
	snapshot_set_faults(NULL);
	ck_assert_msg(rc == want_rc, "snapshot_create gave %d (%s), expected %d", rc, err, want_rc);
	ck_assert_msg(strstr(err, want_msg) != NULL, "'%s' lacks '%s'", err, want_msg);
	snapshot_progress(&p1);
	ck_assert_int_eq(p1.running, 0);
	ck_assert_uint_eq(p1.failed, p0.failed + 1);
	no_temps(snapdir);
	restores_to(snapdir, want);
}

START_TEST(test_faults)
{
	struct uring_faults f;
	struct snapshot_result r;
	uint64_t wbid;
	char *before, *after;
	int wfd;

	populate(cat, &wfd, &wbid);
	close(wfd);
	catalog_release(cat, wbid, 1);
	snapshot_ok(snapdir, &r);
	before = dump(cat);
	/* Two new blobs of 3 chunks each to copy. */
	put(cat, "b1", 2 * MIB + 1, 8, 1000, 0644, NULL);
	put(cat, "b2", 2 * MIB + 5, 9, 1000, 0644, NULL);

	memset(&f, 0, sizeof f);
	f.fail_write_at = 1;
	f.err = ENOSPC;
	fails_with(&f, -ENOSPC, "No space left on device", before);
	memset(&f, 0, sizeof f);
	f.fail_write_at = 5; /* in the second blob (written from its mapping: no reads) */
	f.err = EIO;
	fails_with(&f, -EIO, "Input/output error", before);
	memset(&f, 0, sizeof f);
	f.fail_fsync_at = 1; /* the first blob's */
	f.err = EIO;
	fails_with(&f, -EIO, "fsync of blob", before);
	memset(&f, 0, sizeof f);
	f.fail_fsync_at = 4; /* 2 blobs, blobs/, then the new meta.db's */
	f.err = EIO;
	fails_with(&f, -EIO, ".tmp-meta.db", before);

	/* A short write is carried on: the snapshot is whole. */
	memset(&f, 0, sizeof f);
	f.short_write_at = 2;
	snapshot_set_faults(&f);
	snapshot_ok(snapdir, &r);
	snapshot_set_faults(NULL);
	ck_assert_uint_eq(r.blobs_skipped, 7);
	after = dump(cat);
	restores_to(snapdir, after);
	no_temps(snapdir);
	free(before);
	free(after);
}
END_TEST

/* A real ENOSPC: the snapshot directory on a 1 MiB tmpfs. */
START_TEST(test_real_enospc)
{
	struct snapshot_result r;
	char err[1024];
	int rc;

	if (geteuid() != 0)
		return; /* mounting needs root */
	ck_assert_int_eq(mkdir(snapdir, 0700), 0);
	ck_assert_int_eq(mount("vfs-check", snapdir, "tmpfs", 0, "size=1m"), 0);
	put(cat, "small", 1000, 1, 1000, 0644, NULL);
	snapshot_ok(snapdir, &r);
	put(cat, "large", 3 * MIB, 2, 1000, 0644, NULL);
	rc = snapshot_create(cat, snapdir, &r, err, sizeof err);
	ck_assert_msg(rc == -ENOSPC, "%d: %s", rc, err);
	no_temps(snapdir);
	ck_assert_uint_eq(blob_files(snapdir), 1);
	umount2(snapdir, MNT_DETACH);
}
END_TEST

/* Change one byte at offset off of file path. */
static void
flip_byte(const char *path, off_t off)
{
	unsigned char c;
	int fd = open(path, O_RDWR);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, off), 1);
	c ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

/* The restore fails with rc, err naming ids, and leaves nothing. */
static void
restore_fails(int want_rc, const char *ids)
{
	char err[1024], *st, *mem, path[PATH_MAX];
	int rc;

	ck_assert_ptr_null(restore_dump(snapdir, &rc, err, sizeof err, &st, &mem));
	ck_assert_msg(rc == want_rc, "restore gave %d (%s), expected %d", rc, err, want_rc);
	ck_assert_msg(strstr(err, ids) != NULL, "'%s' does not name %s", err, ids);
	ck_assert(is_empty(mem));
	snprintf(path, sizeof path, "%s/meta.db", st);
	ck_assert(!test_exists(path));
	ck_assert(is_empty(st));
	free(st);
	free(mem);
}

START_TEST(test_corrupt)
{
	struct snapshot_result r;
	char path[PATH_MAX], ids[ID_STR_LEN + 1], ids2[ID_STR_LEN + 1];
	uint64_t bid, bid2;

	put(cat, "a", 100, 1, 1000, 0644, NULL);
	bid = put(cat, "b", 2 * MIB, 2, 1000, 0644, NULL);
	bid2 = put(cat, "c", 300, 3, 1000, 0644, NULL);
	snapshot_ok(snapdir, &r);
	id_format(bid, ids);
	id_format(bid2, ids2);
	snprintf(path, sizeof path, "%s/blobs/%s", snapdir, ids);

	flip_byte(path, MIB + 7);
	restore_fails(-EIO, ids);
	flip_byte(path, MIB + 7);
	ck_assert_int_eq(truncate(path, MIB), 0);
	restore_fails(-EIO, ids);
	ck_assert_int_eq(unlink(path), 0);
	restore_fails(-ENOENT, ids);

	/* The next snapshot mends it; then a bad blob with the store's own
	 * tmpfs (mounted by the restore, unmounted by its failure). */
	snapshot_ok(snapdir, &r);
	ck_assert_uint_eq(r.blobs_copied, 1);
	if (geteuid() == 0) {
		struct catalog_config c2 = cfg;
		char err[1024], mem[PATH_MAX + 8];
		char *st = test_mkdtemp("rstate");
		int rc;

		c2.state_dir = st;
		c2.backing_dir = NULL;
		snprintf(path, sizeof path, "%s/blobs/%s", snapdir, ids2);
		flip_byte(path, 299);
		rc = snapshot_restore(&c2, snapdir, &r, err, sizeof err);
		ck_assert_msg(rc == -EIO && strstr(err, ids2) != NULL, "%d: %s", rc, err);
		ck_assert(is_empty(st));
		snprintf(mem, sizeof mem, "%s/mem", st);
		ck_assert(!test_exists(mem));
		flip_byte(path, 299);
		free(st);
	}
}
END_TEST

START_TEST(test_refusals)
{
	struct snapshot_result r;
	char err[1024], path[PATH_MAX];
	uint64_t n;
	int fd, rc;

	put(cat, "a", 100, 1, 1000, 0644, NULL);
	snapshot_ok(snapdir, &r);

	/* A state dir with objects is not restored into (and its daemon is
	 * not running: the state dir's lock sees to it). */
	catalog_close(cat);
	cat = NULL;
	rc = snapshot_restore(&cfg, snapdir, &r, err, sizeof err);
	ck_assert_msg(rc == -ENOTEMPTY && strstr(err, "already holds 1 object") != NULL, "%d: %s", rc, err);
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	ck_assert_int_eq(catalog_name_ready(cat, "a", &n), 0);

	/* Relative paths, directories holding other things, no snapshot. */
	ck_assert_int_eq(snapshot_create(cat, "rel/dir", &r, err, sizeof err), -EINVAL);
	snprintf(path, sizeof path, "%s/other", snapdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	rc = snapshot_create(cat, snapdir, &r, err, sizeof err);
	ck_assert_msg(rc == -ENOTEMPTY && strstr(err, "other") != NULL, "%d: %s", rc, err);
	ck_assert_int_eq(rmdir(path), 0);
	rc = snapshot_restore(&cfg, backing, &r, err, sizeof err);
	ck_assert_msg(rc == -ENOENT && strstr(err, "no snapshot there") != NULL, "%d: %s", rc, err);
	{
		char *other = test_mkdtemp("notsnap");

		test_write_file(other, "meta.db", NULL, 0);
		rc = snapshot_restore(&cfg, other, &r, err, sizeof err);
		ck_assert_msg(
		    rc == -EINVAL && strstr(err, "not a vineyardfs snapshot") != NULL, "%d: %s", rc, err);
		free(other);
	}

	/* One writer per directory. */
	fd = open(snapdir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	rc = snapshot_create(cat, snapdir, &r, err, sizeof err);
	ck_assert_msg(rc == -EBUSY, "%d: %s", rc, err);
	close(fd);
	snapshot_ok(snapdir, &r);
}
END_TEST

/* The control request: root only, absolute paths, the counts. */
START_TEST(test_request)
{
	struct request_wait w;
	char req[PATH_MAX + 64], *reply;
	json_t *j;
	size_t len;

	memset(&w, 0, sizeof w);
	put(cat, "a", 100, 1, 1000, 0644, NULL);
	snprintf(req, sizeof req, "{\"op\":\"snapshot\",\"dir\":\"%s\"}", snapdir);
	reply = request_handle(cat, 1000, 1000, req, strlen(req), &len, &w);
	ck_assert_ptr_nonnull(strstr(reply, "\"error\":\"EPERM\""));
	free(reply);
	ck_assert(!test_exists(snapdir));
	reply = request_handle(cat, 0, 0, "{\"op\":\"snapshot\",\"dir\":\"x\"}", 27, &len, &w);
	ck_assert_ptr_nonnull(strstr(reply, "\"error\":\"EINVAL\""));
	free(reply);
	reply = request_handle(cat, 0, 0, req, strlen(req), &len, &w);
	ck_assert_ptr_nonnull(j = json_loads(reply, 0, NULL));
	ck_assert_msg(json_is_true(json_object_get(j, "ok")), "%s", reply);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "objects")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "bytes_copied")), 100);
	json_decref(j);
	free(reply);
}
END_TEST

Suite *
snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("snapshot");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
	tcase_add_checked_fixture(tc, snap_setup, snap_teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_incremental);
	tcase_add_test(tc, test_faults);
	tcase_add_test(tc, test_real_enospc);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_request);
	suite_add_tcase(s, tc);
	return s;
}
