/*
 * snapshot: see snapshot.h for the directory's format. A snapshot is taken
 * in three parts: under the catalog lock, a copy of the database and a
 * descriptor on every blob to copy (catalog_snapshot); then, without the
 * lock, the blob copies (durable.c: all to temp files, then each fsynced
 * and renamed, then blobs/ fsynced once), the table of checksums written
 * into the copied database (meta_snap_*), which is fsynced and renamed
 * over meta.db; last, the blob files no longer referenced are removed.
 * The directory is flock(2)ed meanwhile. The restore is
 * snapshot_restore.c; the helpers both use are shared through
 * snapshot_i.h.
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
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "durable.h"
#include "id.h"
#include "log.h"
#include "meta.h"
#include "snapshot.h"
#include "snapshot_i.h"
#include "util.h"

#define TMP_PREFIX ".tmp-"    /* a snapshot's files being written */
#define TMP_DB ".tmp-meta.db" /* and its database (with -journal...) */

/* The progress of this process's snapshot; guarded by prog_lock. */
static pthread_mutex_t prog_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot_progress prog;
static struct uring_faults faults; /* tests */
static int have_faults;

void
snapshot_progress(struct snapshot_progress *p)
{
	pthread_mutex_lock(&prog_lock);
	*p = prog;
	pthread_mutex_unlock(&prog_lock);
}

void
snapshot_set_faults(const struct uring_faults *f)
{
	pthread_mutex_lock(&prog_lock);
	have_faults = f != NULL;
	memset(&faults, 0, sizeof faults);
	if (f != NULL)
		faults = *f;
	pthread_mutex_unlock(&prog_lock);
}

/* A ring for one snapshot or restore, with the test faults if any. */
int
snap_ring_open(struct uring **u, char *err, size_t errlen)
{
	int rc = uring_open(u, 0);

	if (rc != 0)
		return util_fail(err, errlen, rc, "cannot set up io_uring: %s", strerror(-rc));
	pthread_mutex_lock(&prog_lock);
	if (have_faults)
		uring_set_faults(*u, &faults);
	pthread_mutex_unlock(&prog_lock);
	return 0;
}

/* ---- files ---- */

/* Remove every entry of dirfd whose name starts with prefix. */
void
snap_remove_prefixed(int dirfd, const char *prefix)
{
	int fd = dup(dirfd);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d); /* the offset is shared with the fd dup'ed */
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			unlinkat(dirfd, de->d_name, 0);
	closedir(d);
}

/* A blob file's name ("b" + 16 hex digits), or 0 for any other name. */
static uint64_t
blob_file_id(const char *name)
{
	uint64_t id;

	return id_parse(name, &id) == 0 && id_is_blob(id) ? id : 0;
}

/* ---- create ---- */

/* A blob of the previous snapshot: its recorded size and checksum. */
struct prev {
	uint64_t id;
	uint64_t size;
	uint32_t crc;
	int present; /* its file is there with that size */
};

/* A blob of the snapshot being taken. */
struct item {
	struct catalog_snap_blob b;
	uint32_t crc;
	int in_db; /* listed by the copied database */
	int dst;   /* its temp file, copied, until it is fsynced and renamed */
};

struct snap {
	catalog_t *c;
	const char *dir;
	char blobs_dir[PATH_MAX]; /* dir/blobs */
	int dirfd, blobsfd;
	struct prev *prev;
	size_t nprev, capprev;
	struct item *items;
	size_t nitems;
	meta_snap_t *db; /* the copied database, TMP_DB */
	struct uring *u;
	int tmp_db; /* TMP_DB exists */
	struct snapshot_result *res;
	char *err;
	size_t errlen;
};

static int
cmp_prev(const void *a, const void *b)
{
	uint64_t x = ((const struct prev *)a)->id, y = ((const struct prev *)b)->id;

	return x < y ? -1 : x > y;
}

static int
cmp_item(const void *a, const void *b)
{
	uint64_t x = ((const struct item *)a)->b.id, y = ((const struct item *)b)->b.id;

	return x < y ? -1 : x > y;
}

static struct prev *
prev_find(const struct snap *s, uint64_t id)
{
	struct prev key = { .id = id };

	return s->nprev > 0 ? bsearch(&key, s->prev, s->nprev, sizeof key, cmp_prev) : NULL;
}

static struct item *
item_find(const struct snap *s, uint64_t id)
{
	struct item key = { .b.id = id };

	return s->nitems > 0 ? bsearch(&key, s->items, s->nitems, sizeof key, cmp_item) : NULL;
}

/* Is dir fit for a snapshot: empty, or holding what a snapshot leaves? */
static int
check_dir(struct snap *s)
{
	int fd = dup(s->dirfd), rc = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return util_fail(s->err, s->errlen, rc, "%s: %s", s->dir, strerror(-rc));
	}
	rewinddir(d); /* the offset is shared with the fd dup'ed */
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, SNAPSHOT_DB) == 0 || strcmp(de->d_name, SNAPSHOT_BLOBS) == 0 ||
		    strncmp(de->d_name, TMP_DB, strlen(TMP_DB)) == 0)
			continue;
		rc = util_fail(s->err, s->errlen, -ENOTEMPTY,
		    "%s holds %s, which is no part of a snapshot: give a new or empty directory, or one "
		    "holding a snapshot",
		    s->dir, de->d_name);
		break;
	}
	closedir(d);
	return rc;
}

/* meta_snap_blobs of the previous snapshot: its blobs with checksums. */
static int
prev_add(void *arg, const struct meta_snap_blob *b)
{
	struct snap *s = arg;
	char ids[ID_STR_LEN + 1];
	struct stat sb;
	struct prev *p;

	if (!b->has_crc)
		return 0; /* copied again */
	if (s->nprev == s->capprev) {
		size_t cap = s->capprev ? 2 * s->capprev : 256;

		if ((p = realloc(s->prev, cap * sizeof *p)) == NULL)
			return util_fail(s->err, s->errlen, -ENOMEM, "out of memory");
		s->prev = p;
		s->capprev = cap;
	}
	p = &s->prev[s->nprev++];
	p->id = b->id;
	p->size = b->size;
	p->crc = b->crc32c;
	id_format(p->id, ids);
	p->present =
	    fstatat(s->blobsfd, ids, &sb, 0) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == p->size;
	return 0;
}

/* The blobs table of the snapshot in dir, if there is one. */
static int
load_prev(struct snap *s)
{
	char path[PATH_MAX];
	meta_snap_t *db = NULL;
	struct stat sb;
	int rc;

	if (fstatat(s->dirfd, SNAPSHOT_DB, &sb, 0) != 0)
		return errno == ENOENT ? 0
				       : util_fail(s->err, s->errlen, -errno, "%s/%s: %s", s->dir,
					     SNAPSHOT_DB, strerror(errno));
	snprintf(path, sizeof path, "%s/%s", s->dir, SNAPSHOT_DB);
	if ((rc = meta_snap_open(path, 0, &db, s->err, s->errlen)) != 0)
		return rc;
	rc = meta_snap_blobs(db, prev_add, s, s->err, s->errlen);
	/* bsearch wants them in unsigned order. */
	if (rc == 0 && s->nprev > 1)
		qsort(s->prev, s->nprev, sizeof *s->prev, cmp_prev);
	meta_snap_close(db, NULL, 0);
	return rc;
}

/* catalog_snapshot's question: must this blob be copied? */
static int
need_copy(void *arg, uint64_t id, uint64_t size)
{
	struct prev *p = prev_find(arg, id);

	return p == NULL || !p->present || p->size != size;
}

/* meta_snap_blobs of the copied database: each blob is the catalog's. */
static int
match_blob(void *arg, const struct meta_snap_blob *b)
{
	struct snap *s = arg;
	char ids[ID_STR_LEN + 1];
	struct item *it;

	/* Both were taken under the same locks: they agree. */
	if ((it = item_find(s, b->id)) == NULL || it->b.size != b->size) {
		id_format(b->id, ids);
		return util_fail(s->err, s->errlen, -EIO,
		    "blob %s: the database and the catalog disagree (%s)", ids,
		    it == NULL ? "not in the catalog" : "sizes differ");
	}
	it->in_db = 1;
	return 0;
}

/* Trim the copied database to sealed objects and match its blobs with
 * the catalog's list; the totals into res. */
static int
prepare_db(struct snap *s)
{
	char path[PATH_MAX];
	struct item *it;
	size_t i;
	int rc;

	snprintf(path, sizeof path, "%s/%s", s->dir, TMP_DB);
	if ((rc = meta_snap_open(path, META_SNAP_WRITE, &s->db, s->err, s->errlen)) != 0 ||
	    (rc = meta_snap_trim(s->db, s->err, s->errlen)) != 0 ||
	    (rc = meta_snap_count(s->db, &s->res->objects, &s->res->names, NULL, s->err, s->errlen)) != 0)
		return rc;
	if (s->nitems > 1)
		qsort(s->items, s->nitems, sizeof *s->items, cmp_item);
	if ((rc = meta_snap_blobs(s->db, match_blob, s, s->err, s->errlen)) != 0)
		return rc;
	for (i = 0; i < s->nitems; i++) {
		it = &s->items[i];
		if (!it->in_db) {
			/* Sealed in memory while its seal failed to commit: it
			 * is being discarded. */
			if (it->b.fd >= 0)
				close(it->b.fd);
			it->b.fd = -1;
			continue;
		}
		s->res->blobs++;
		s->res->bytes += it->b.size;
	}
	return 0;
}

/* The durable copy of a blob into blobs/ (its names into ids and what):
 * straight from the store's tmpfs file, or from its spill file, whose
 * bytes must be those it was spilled with (a spill file gone bad is not
 * carried into the snapshot). */
static struct durable
blob_copy(struct snap *s, struct item *it, char ids[ID_STR_LEN + 1], char what[ID_STR_LEN + 8])
{
	struct durable d = {
		.u = s->u,
		.dirfd = s->blobsfd,
		.dir = s->blobs_dir,
		.name = ids,
		.tmp = TMP_PREFIX,
		.what = what,
		.flags = DURABLE_DIRECT | (it->b.has_crc ? DURABLE_VERIFY : 0),
		.src = { .kind = DURABLE_SRC_FD, .fd = it->b.fd },
		.size = it->b.size,
		.want = it->b.crc32c,
		.fd = it->dst,
	};

	id_format(it->b.id, ids);
	snprintf(what, ID_STR_LEN + 8, "blob %s", ids);
	return d;
}

/* Copy one blob to its temp file in blobs/, left open in it->dst. */
static int
copy_blob(struct snap *s, struct item *it)
{
	char ids[ID_STR_LEN + 1], what[ID_STR_LEN + 8];
	struct durable d = blob_copy(s, it, ids, what);
	int rc = durable_write(&d, s->err, s->errlen);

	if (rc != 0 && d.mismatch)
		return util_fail(s->err, s->errlen, -EIO,
		    "blob %s read back with CRC-32C %08x, recorded %08x when it was spilled: its %s is corrupt",
		    ids, d.crc, it->b.crc32c, it->b.on_disk ? "spill file" : "copy in memory");
	it->dst = d.fd;
	it->crc = d.crc;
	return rc;
}

/* Make a copied blob durable under its name: fsync, rename. */
static int
place_blob(struct snap *s, struct item *it)
{
	char ids[ID_STR_LEN + 1], what[ID_STR_LEN + 8];
	struct durable d = blob_copy(s, it, ids, what);

	it->dst = -1; /* durable_place closes it */
	return durable_place(&d, s->err, s->errlen);
}

static void
progress_add(uint64_t bytes)
{
	pthread_mutex_lock(&prog_lock);
	prog.bytes_done += bytes;
	prog.blobs_done++;
	pthread_mutex_unlock(&prog_lock);
}

/* Copy what is not in the directory yet (the others keep their
 * checksums), all to temp files first, then fsync and rename them: the
 * fsyncs in a row share the file system's journal commits. */
static int
copy_blobs(struct snap *s)
{
	uint64_t total = 0, count = 0;
	struct prev *p;
	size_t i;
	int rc;

	for (i = 0; i < s->nitems; i++)
		if (s->items[i].in_db && s->items[i].b.fd >= 0) {
			total += s->items[i].b.size;
			count++;
		}
	pthread_mutex_lock(&prog_lock);
	prog.bytes_total = total;
	prog.blobs_total = count;
	pthread_mutex_unlock(&prog_lock);
	for (i = 0; i < s->nitems; i++) {
		struct item *it = &s->items[i];

		if (!it->in_db)
			continue;
		if (it->b.fd < 0) {
			/* need_copy said no: same id, same size, file there. */
			p = prev_find(s, it->b.id);
			it->crc = p->crc;
			s->res->blobs_skipped++;
			s->res->bytes_skipped += it->b.size;
			continue;
		}
		if ((rc = copy_blob(s, it)) != 0)
			return rc;
		close(it->b.fd);
		it->b.fd = -1;
		s->res->blobs_copied++;
		s->res->bytes_copied += it->b.size;
		progress_add(it->b.size);
	}
	for (i = 0; i < s->nitems; i++)
		if (s->items[i].dst >= 0 && (rc = place_blob(s, &s->items[i])) != 0)
			return rc;
	return durable_sync_dir(s->u, s->blobsfd, s->blobs_dir, s->err, s->errlen);
}

/* The checksum table and the info, then meta.db in place, durably. */
static int
finish_db(struct snap *s)
{
	struct meta_snap_info info = {
		.format = SNAPSHOT_FORMAT,
		.created_ns = util_now_ns(),
		.objects = s->res->objects,
		.names = s->res->names,
		.blobs = s->res->blobs,
		.bytes = s->res->bytes,
	};
	struct meta_snap_blob *v = calloc(s->nitems + 1, sizeof *v);
	size_t i, n = 0;
	int rc;

	if (v == NULL)
		return util_fail(s->err, s->errlen, -ENOMEM, "out of memory");
	for (i = 0; i < s->nitems; i++)
		if (s->items[i].in_db) {
			v[n].id = s->items[i].b.id;
			v[n].size = s->items[i].b.size;
			v[n++].crc32c = s->items[i].crc;
		}
	rc = meta_snap_record(s->db, v, n, &info, s->err, s->errlen);
	free(v);
	if (rc != 0)
		return rc;
	rc = meta_snap_close(s->db, s->err, s->errlen);
	s->db = NULL;
	if (rc != 0)
		return rc;
	if ((rc = durable_rename(s->u, s->dirfd, s->dir, TMP_DB, SNAPSHOT_DB, s->err, s->errlen)) != 0)
		return rc;
	s->tmp_db = 0;
	return 0;
}

/* Remove the blob files the new meta.db does not reference. */
static void
collect_garbage(struct snap *s)
{
	int fd = dup(s->blobsfd);
	struct dirent *de;
	struct item *it;
	uint64_t id;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		log_warn("snapshot %s: cannot list %s to remove unused blobs: %s", s->dir, SNAPSHOT_BLOBS,
		    strerror(errno));
		return;
	}
	rewinddir(d); /* the offset is shared with the fd dup'ed */
	while ((de = readdir(d)) != NULL) {
		if ((id = blob_file_id(de->d_name)) == 0 || ((it = item_find(s, id)) != NULL && it->in_db))
			continue;
		if (unlinkat(s->blobsfd, de->d_name, 0) == 0)
			s->res->blobs_removed++;
		else
			log_warn("snapshot %s: cannot remove %s/%s: %s", s->dir, SNAPSHOT_BLOBS, de->d_name,
			    strerror(errno));
	}
	closedir(d);
	if (s->res->blobs_removed > 0 && fsync(s->blobsfd) != 0)
		log_warn("snapshot %s: fsync of %s: %s", s->dir, SNAPSHOT_BLOBS, strerror(errno));
}

/* Many blobs are held open at once: allow as many descriptors as the
 * hard limit does. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
snap_run(struct snap *s)
{
	char path[PATH_MAX];
	int rc;

	if ((rc = util_mkdirs(s->dir, 0700)) != 0)
		return util_fail(s->err, s->errlen, rc, "cannot create %s: %s", s->dir, strerror(-rc));
	if ((s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return util_fail(s->err, s->errlen, -errno, "%s: %s", s->dir, strerror(errno));
	if (flock(s->dirfd, LOCK_EX | LOCK_NB) != 0)
		return util_fail(s->err, s->errlen, errno == EWOULDBLOCK ? -EBUSY : -errno,
		    "%s: another process is writing a snapshot there", s->dir);
	if ((rc = check_dir(s)) != 0)
		return rc;
	/* What a snapshot that crashed left. */
	snap_remove_prefixed(s->dirfd, TMP_DB);
	snprintf(s->blobs_dir, sizeof s->blobs_dir, "%s/%s", s->dir, SNAPSHOT_BLOBS);
	if (mkdirat(s->dirfd, SNAPSHOT_BLOBS, 0700) != 0 && errno != EEXIST)
		return util_fail(
		    s->err, s->errlen, -errno, "%s/%s: %s", s->dir, SNAPSHOT_BLOBS, strerror(errno));
	if ((s->blobsfd = openat(s->dirfd, SNAPSHOT_BLOBS, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return util_fail(
		    s->err, s->errlen, -errno, "%s/%s: %s", s->dir, SNAPSHOT_BLOBS, strerror(errno));
	snap_remove_prefixed(s->blobsfd, TMP_PREFIX);
	if ((rc = load_prev(s)) != 0)
		return rc;
	if ((rc = snap_ring_open(&s->u, s->err, s->errlen)) != 0)
		return rc;
	raise_nofile();
	snprintf(path, sizeof path, "%s/%s", s->dir, TMP_DB);
	s->tmp_db = 1;
	{
		struct catalog_snap_blob *v;
		size_t i, n;

		rc = catalog_snapshot(s->c, path, need_copy, s, &v, &n);
		if (rc != 0)
			return util_fail(s->err, s->errlen, rc,
			    "copying the database and opening the blobs: %s%s", strerror(-rc),
			    rc == -EMFILE ? " (too many blobs to hold open: raise ulimit -n)" : "");
		s->items = calloc(n + 1, sizeof *s->items);
		if (s->items == NULL) {
			for (i = 0; i < n; i++)
				if (v[i].fd >= 0)
					close(v[i].fd);
			free(v);
			return util_fail(s->err, s->errlen, -ENOMEM, "out of memory");
		}
		for (i = 0; i < n; i++) {
			s->items[i].b = v[i];
			s->items[i].dst = -1;
		}
		s->nitems = n;
		free(v);
	}
	if ((rc = prepare_db(s)) != 0 || (rc = copy_blobs(s)) != 0 || (rc = finish_db(s)) != 0)
		return rc;
	collect_garbage(s);
	return 0;
}

int
snapshot_create(catalog_t *c, const char *dir, struct snapshot_result *res, char *err, size_t errlen)
{
	struct snap s = {
		.c = c, .dir = dir, .dirfd = -1, .blobsfd = -1, .res = res, .err = err, .errlen = errlen
	};
	int64_t start = util_mono_ns();
	size_t i;
	int rc;

	memset(res, 0, sizeof *res);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (dir[0] != '/')
		return util_fail(
		    err, errlen, -EINVAL, "the snapshot directory must be an absolute path, not %s", dir);
	pthread_mutex_lock(&prog_lock);
	if (prog.running) {
		pthread_mutex_unlock(&prog_lock);
		return util_fail(err, errlen, -EBUSY, "a snapshot is being taken already; one at a time");
	}
	prog.running = 1;
	prog.bytes_done = prog.bytes_total = prog.blobs_done = prog.blobs_total = 0;
	pthread_mutex_unlock(&prog_lock);

	log_info("snapshot into %s: starting", dir);
	rc = snap_run(&s);

	meta_snap_close(s.db, NULL, 0);
	for (i = 0; i < s.nitems; i++) {
		if (s.items[i].b.fd >= 0)
			close(s.items[i].b.fd);
		if (s.items[i].dst >= 0)
			close(s.items[i].dst);
	}
	if (rc != 0) {
		if (s.blobsfd >= 0)
			snap_remove_prefixed(s.blobsfd, TMP_PREFIX);
		if (s.tmp_db && s.dirfd >= 0)
			snap_remove_prefixed(s.dirfd, TMP_DB);
	}
	free(s.items);
	free(s.prev);
	uring_close(s.u);
	if (s.blobsfd >= 0)
		close(s.blobsfd);
	if (s.dirfd >= 0)
		close(s.dirfd); /* and its flock */
	res->elapsed_ns = util_mono_ns() - start;
	if (rc == 0)
		log_info(
		    "snapshot into %s: %llu objects, %llu names, %llu blobs; %llu bytes copied, %llu already "
		    "there, %llu unused blob files removed, in %.2f s",
		    dir, (unsigned long long)res->objects, (unsigned long long)res->names,
		    (unsigned long long)res->blobs, (unsigned long long)res->bytes_copied,
		    (unsigned long long)res->bytes_skipped, (unsigned long long)res->blobs_removed,
		    (double)res->elapsed_ns / 1e9);
	else
		log_error("snapshot into %s failed: %s (the previous snapshot there, if any, is intact)", dir,
		    err != NULL ? err : strerror(-rc));
	pthread_mutex_lock(&prog_lock);
	prog.running = 0;
	if (rc == 0)
		prog.created++;
	else
		prog.failed++;
	pthread_mutex_unlock(&prog_lock);
	return rc;
}
