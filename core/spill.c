/*
 * spill: sealed blobs out of memory to a spill directory and back (see
 * spill.h for the model). The residency flags of struct cblob are guarded
 * by the catalog lock like the rest of it; the copies run without it,
 * while the blobs concerned are held (opens) and flagged (spilling,
 * loading) so that nothing frees or reuses them meanwhile.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog_i.h"
#include "log.h"
#include "spill.h"
#include "spill_i.h"
#include "uring.h"
#include "util.h"

#define SPILL_HIGH 80 /* default marks, percent of the memory limit */
#define SPILL_LOW 60
#define SPILL_TICK_MS 50 /* the thread looks at memory use this often */
#define TMP_PREFIX ".tmp-"
#define LOCK_FILE ".vineyardfs-spill.lock" /* one store per spill directory */

/* ---- rings ---- */

static int
ring_get(struct spill *sp, struct uring **out)
{
	struct uring *u = NULL;
	int rc = 0;

	pthread_mutex_lock(&sp->lock);
	if (sp->nrings > 0)
		u = sp->rings[--sp->nrings];
	pthread_mutex_unlock(&sp->lock);
	if (u == NULL && (rc = uring_open(&u, 0)) != 0) {
		log_error("spill: cannot set up io_uring: %s", strerror(-rc));
		return rc;
	}
	pthread_mutex_lock(&sp->lock);
	if (sp->faults_armed) {
		uring_set_faults(u, &sp->faults);
		sp->faults_armed = 0;
	}
	pthread_mutex_unlock(&sp->lock);
	*out = u;
	return 0;
}

static void
ring_put(struct spill *sp, struct uring *u)
{
	uring_set_faults(u, NULL);
	pthread_mutex_lock(&sp->lock);
	if (sp->nrings < SPILL_RINGS) {
		sp->rings[sp->nrings++] = u;
		u = NULL;
	}
	pthread_mutex_unlock(&sp->lock);
	uring_close(u);
}

/* ---- files ---- */

static void
file_names(uint64_t id, char name[ID_STR_LEN + 1], char tmp[ID_STR_LEN + sizeof TMP_PREFIX])
{
	id_format(id, name);
	if (tmp != NULL)
		snprintf(tmp, ID_STR_LEN + sizeof TMP_PREFIX, TMP_PREFIX "%s", name);
}

int
spill_file_check(catalog_t *c, const struct cblob *b)
{
	char name[ID_STR_LEN + 1];
	struct stat st;

	if (c->spill == NULL)
		return -ENOENT;
	file_names(b->id, name, NULL);
	if (fstatat(c->spill->dirfd, name, &st, 0) != 0)
		return -errno;
	return (uint64_t)st.st_size == b->size ? 0 : -EIO;
}

int
spill_file_open(catalog_t *c, const struct cblob *b, int *fd)
{
	char name[ID_STR_LEN + 1];

	if (c->spill == NULL || !b->spilled)
		return -ENOENT;
	file_names(b->id, name, NULL);
	*fd = openat(c->spill->dirfd, name, O_RDONLY | O_CLOEXEC | (c->spill->direct ? O_DIRECT : 0));
	return *fd >= 0 ? 0 : -errno;
}

void
spill_file_remove(catalog_t *c, uint64_t id)
{
	char name[ID_STR_LEN + 1];

	if (c->spill == NULL)
		return;
	file_names(id, name, NULL);
	if (unlinkat(c->spill->dirfd, name, 0) != 0 && errno != ENOENT)
		log_warn("cannot remove spill file %s/%s: %s", c->spill->dir, name, strerror(errno));
}

/* Copy size bytes from src to a new spill file of blob id, durable but for
 * the directory's fsync: temp file, fsync, rename. The copy is written
 * from a mapping of src, left in *map for the caller to unmap (or to hand
 * to mem_release). 0 or -errno with err. */
static int
write_out(struct spill *sp, struct uring *u, int src, void **map, uint64_t id, uint64_t size, uint32_t *crc,
    char *err, size_t errlen)
{
	char name[ID_STR_LEN + 1], tmp[ID_STR_LEN + sizeof TMP_PREFIX];
	int fd, rc;

	file_names(id, name, tmp);
	fd = openat(
	    sp->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (sp->direct ? O_DIRECT : 0), 0600);
	if (fd < 0)
		return util_fail(
		    err, errlen, -errno, "cannot create %s/%s: %s", sp->dir, tmp, strerror(errno));
	/* The blocks first: a full disk says so now, and O_DIRECT writes into
	 * allocated extents go faster (ext4 here: about 15 %). */
	if (size > 0 && fallocate(fd, 0, 0, (off_t)size) != 0 && errno != EOPNOTSUPP)
		rc = util_fail(
		    err, errlen, -errno, "cannot allocate %s/%s: %s", sp->dir, tmp, strerror(errno));
	else if ((rc = uring_map_src(src, size, map, err, errlen)) == 0)
		rc = uring_write_mem(u, *map, fd, size, crc, err, errlen);
	if (rc == 0 && (rc = uring_fsync(u, fd)) != 0)
		util_fail(err, errlen, rc, "fsync of %s/%s: %s", sp->dir, tmp, strerror(-rc));
	close(fd);
	if (rc == 0 && renameat(sp->dirfd, tmp, sp->dirfd, name) != 0)
		rc = util_fail(err, errlen, -errno, "rename of %s/%s: %s", sp->dir, tmp, strerror(errno));
	if (rc != 0)
		unlinkat(sp->dirfd, tmp, 0);
	return rc;
}

/* ---- writing out and evicting ---- */

void
spill_victims_add(struct victims *l, const struct cblob *b)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct victim *v = realloc(l->v, cap * sizeof *v);

		if (v == NULL) {
			l->err = -ENOMEM;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	l->v[l->n].id = b->id;
	l->v[l->n].size = b->size;
	l->v[l->n].used_ns = b->used_ns;
	l->v[l->n].fd = -1;
	l->n++;
}

int
spill_evictable(const struct cblob *b)
{
	return b->sealed && b->resident && !b->deleted && !b->pinned && b->opens == 0 && !b->loading &&
	       !b->spilling && b->size > 0;
}

int
spill_aheadable(const struct cblob *b)
{
	return b->sealed && b->resident && !b->spilled && !b->deleted && !b->pinned && !b->loading &&
	       !b->spilling && b->size > 0;
}

/* Catalog lock held: hold and flag the victims l->v[from..], open their
 * files; the ones that cannot be are taken out of the list. */
static void
victims_take(catalog_t *c, struct victims *l, size_t from)
{
	size_t i, keep = from;

	for (i = from; i < l->n; i++) {
		struct victim *v = &l->v[i];
		struct cblob *b = cat_blob_find(c, v->id);

		if (b == NULL || !(l->keep ? spill_aheadable(b) : spill_evictable(b)))
			continue;
		v->write = !b->spilled;
		if (v->write && store_blob_open(c->store, b->id, O_RDONLY, &v->fd) != 0)
			continue;
		b->spilling = 1;
		b->opens++;
		l->v[keep++] = *v;
	}
	l->n = keep;
}

/* Without the catalog lock: write the victims that need it, then make
 * their renames durable. */
static void
victims_write(catalog_t *c, struct victims *l)
{
	struct spill *sp = c->spill;
	struct uring *u = NULL;
	size_t i, written = 0;
	int rc = 0;

	for (i = 0; i < l->n; i++) {
		struct victim *v = &l->v[i];

		if (!v->write)
			continue;
		if (u == NULL && (rc = ring_get(sp, &u)) != 0) {
			util_fail(v->err, sizeof v->err, rc, "no io_uring: %s", strerror(-rc));
			continue;
		}
		if (write_out(sp, u, v->fd, &v->map, v->id, v->size, &v->crc, v->err, sizeof v->err) == 0) {
			v->written = 1;
			written++;
		}
	}
	if (u != NULL)
		ring_put(sp, u);
	if (written > 0 && fsync(sp->dirfd) != 0) {
		int err = errno;

		for (i = 0; i < l->n; i++)
			if (l->v[i].written) {
				l->v[i].written = 0;
				util_fail(l->v[i].err, sizeof l->v[i].err, -err, "fsync of %s: %s", sp->dir,
				    strerror(err));
			}
	}
}

/* Catalog lock held: record the written victims as spilled (one
 * transaction), free the memory of every victim nothing opened meanwhile,
 * let go of them. Returns the bytes freed; *count the blobs. */
static uint64_t
victims_finish(catalog_t *c, struct victims *l, double seconds, uint64_t *count)
{
	struct spill *sp = c->spill;
	uint64_t freed = 0, wrote = 0;
	size_t i;
	int rc = 0, any = 0;

	for (i = 0; i < l->n; i++)
		any |= l->v[i].written;
	if (any && (rc = cat_tx_begin(c)) == 0) {
		for (i = 0; rc == 0 && i < l->n; i++) {
			struct victim *v = &l->v[i];
			struct cblob *b = cat_blob_find(c, v->id);

			if (!v->written || b->deleted)
				continue;
			b->spilled = b->has_crc = 1;
			b->crc32c = v->crc;
			rc = cat_blob_put(c, b);
		}
		rc = rc == 0 ? cat_tx_commit(c) : (cat_tx_rollback(c), rc);
	}
	for (i = 0; i < l->n; i++) {
		struct victim *v = &l->v[i];
		struct cblob *b = cat_blob_find(c, v->id);
		char ids[ID_STR_LEN + 1];

		id_format(v->id, ids);
		b->spilling = 0;
		b->opens--;
		if (v->written && (rc != 0 || b->deleted)) {
			if (!b->deleted) /* the record failed: as if never written */
				b->spilled = b->has_crc = 0;
			spill_file_remove(c, v->id);
			v->written = 0;
			if (rc != 0)
				util_fail(v->err, sizeof v->err, rc, "its record could not be written: %s",
				    strerror(-rc));
		}
		if (v->write && !v->written && !b->deleted) {
			sp->spill_errors++;
			log_error("cannot spill blob %s (%llu bytes); it stays in memory: %s", ids,
			    (unsigned long long)v->size, v->err);
		}
		if (v->written) {
			c->spilled_bytes += v->size;
			sp->spills++;
			sp->spill_bytes += v->size;
			wrote += v->size;
		}
		if (!l->keep && !b->deleted && b->spilled && b->resident && b->opens == 0 && !b->pinned) {
			store_blob_remove(c->store, b->id);
			b->resident = 0;
			/* Its pages go with v->fd and v->map, in the background. */
			v->freed = mem_evicted(c->mem, v->size);
			sp->evictions++;
			freed += v->size;
			(*count)++;
			if (c->cfg.blob_freed != NULL) /* e.g. its passthrough registration */
				c->cfg.blob_freed(c->cfg.hook_arg, b->id);
		}
		cat_blob_maybe_free(c, b);
	}
	if (wrote > 0)
		sp->spill_seconds += seconds;
	return freed;
}

/* Let go of the victims' files and mappings: those evicted in the
 * background (mem_release), the others here. */
static void
victims_close(catalog_t *c, struct victims *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct victim *v = &l->v[i];

		if (v->freed) {
			mem_release(c->mem, v->fd, v->map, v->size);
			continue;
		}
		uring_unmap(v->map, v->size);
		if (v->fd >= 0)
			close(v->fd);
	}
	l->n = 0;
}

/* Write out and evict the victims in l (catalog lock held, dropped while
 * copying); the blobs evicted counted in *count, bytes in *bytes. */
void
spill_evict_list(catalog_t *c, struct victims *l, uint64_t *count, uint64_t *bytes)
{
	int64_t t0 = util_now_ns();
	uint64_t freed;

	victims_take(c, l, 0);
	pthread_mutex_unlock(&c->lock);
	victims_write(c, l);
	pthread_mutex_lock(&c->lock);
	freed = victims_finish(c, l, (double)(util_now_ns() - t0) / 1e9, count);
	*bytes += freed;
	pthread_mutex_unlock(&c->lock);
	victims_close(c, l);
	pthread_mutex_lock(&c->lock);
}

/* ---- reloading ---- */

/* Copy blob id back from its spill file into a new store file. */
static int
load(catalog_t *c, uint64_t id, uint64_t size, int has_crc, uint32_t want)
{
	struct spill *sp = c->spill;
	char name[ID_STR_LEN + 1], err[256] = "";
	struct uring *u = NULL;
	uint64_t limit = c->cfg.memory_limit;
	uint32_t crc = 0;
	int src = -1, dst = -1, rc;

	file_names(id, name, NULL);
	if (size > limit) {
		log_error("cannot reload blob %s: its %llu bytes are more than the memory limit", name,
		    (unsigned long long)size);
		return -ENOSPC;
	}
	if (catalog_room(c, size) != 0) {
		log_error("cannot reload blob %s (%llu bytes): %llu of %llu bytes of memory in use and "
			  "nothing more can be spilled (open or pinned)",
		    name, (unsigned long long)size, (unsigned long long)mem_used(c->mem),
		    (unsigned long long)limit);
		return -ENOSPC;
	}
	src = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC | (sp->direct ? O_DIRECT : 0));
	if (src < 0) {
		rc = util_fail(
		    err, sizeof err, -errno, "cannot open %s/%s: %s", sp->dir, name, strerror(errno));
		goto out;
	}
	store_blob_remove(c->store, id); /* a stale copy from a crash mid-reload */
	if ((rc = store_blob_create(c->store, id, &dst)) != 0) {
		util_fail(err, sizeof err, rc, "cannot create its store file: %s", strerror(-rc));
		goto out;
	}
	/* No fallocate first: room was checked above, and reserving would
	 * zero every page before the copy writes it (a fifth of the reload's
	 * time). A copy cut short by ENOSPC all the same is undone below. */
	if ((rc = ring_get(sp, &u)) != 0) {
		util_fail(err, sizeof err, rc, "no io_uring: %s", strerror(-rc));
		goto out;
	}
	rc = uring_copy_mapped(u, src, dst, size, &crc, err, sizeof err);
	ring_put(sp, u);
	if (rc == 0 && has_crc && crc != want)
		rc = util_fail(err, sizeof err, -EIO, "%s/%s is corrupt: CRC-32C %08x, recorded %08x",
		    sp->dir, name, crc, want);
out:
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	if (rc != 0) {
		if (dst >= 0)
			store_blob_remove(c->store, id);
		log_error("cannot reload blob %s (%llu bytes); it stays on disk: %s", name,
		    (unsigned long long)size, err);
	}
	return rc;
}

int
spill_ensure_resident(catalog_t *c, struct cblob *b)
{
	struct spill *sp = c->spill;
	int64_t t0;
	int rc;

	if (b->resident)
		return 0;
	if (sp == NULL || !b->spilled) {
		char ids[ID_STR_LEN + 1];

		id_format(b->id, ids);
		log_error("blob %s is neither in memory nor spilled", ids);
		return -EIO;
	}
	b->opens++; /* alive while the lock is dropped */
	while (b->loading)
		pthread_cond_wait(&c->load_cond, &c->lock);
	if (b->resident || b->deleted) {
		rc = b->deleted ? -ENOENT : 0;
		goto out;
	}
	b->loading = 1;
	pthread_mutex_unlock(&c->lock);
	t0 = util_now_ns();
	rc = load(c, b->id, b->size, b->has_crc, b->crc32c);
	pthread_mutex_lock(&c->lock);
	b->loading = 0;
	pthread_cond_broadcast(&c->load_cond);
	if (rc != 0) {
		sp->reload_errors++;
		goto out;
	}
	sp->reloads++;
	sp->reload_bytes += b->size;
	sp->reload_seconds += (double)(util_now_ns() - t0) / 1e9;
	if (b->deleted) {
		store_blob_remove(c->store, b->id);
		rc = -ENOENT;
	} else {
		cat_blob_resident(c, b, 1);
		b->used_ns = util_now_ns(); /* wanted now: the last to go again */
	}
out:
	b->opens--;
	if (rc == 0)
		spill_kick(c);
	else
		cat_blob_maybe_free(c, b); /* callers do not touch b after an error */
	return rc;
}

/* ---- the thread ---- */

static void *
spill_thread(void *arg)
{
	catalog_t *c = arg;
	struct spill *sp = c->spill;
	uint64_t used;

	pthread_mutex_lock(&sp->lock);
	while (!sp->stop) {
		if (!sp->kicked) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += SPILL_TICK_MS * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&sp->cond, &sp->lock, &ts);
		}
		sp->kicked = 0;
		if (sp->stop)
			break;
		pthread_mutex_unlock(&sp->lock);
		used = mem_used(c->mem);
		if (used > sp->high)
			spill_pass(c, sp->low);
		else if (sp->ahead && used > sp->low)
			spill_write_ahead(c);
		pthread_mutex_lock(&sp->lock);
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

void
spill_kick(catalog_t *c)
{
	struct spill *sp = c->spill;

	if (sp == NULL)
		return;
	pthread_mutex_lock(&sp->lock);
	sp->kicked = 1;
	pthread_cond_signal(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
}

/* ---- set-up ---- */

/* Does O_DIRECT work for files in dirfd? */
static int
direct_works(int dirfd)
{
	static const char probe[] = TMP_PREFIX "probe";
	int fd = openat(dirfd, probe, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);

	if (fd < 0)
		return 0;
	close(fd);
	unlinkat(dirfd, probe, 0);
	return 1;
}

struct any {
	int n;
};

static void
any_spilled(void *value, void *arg)
{
	const struct cblob *b = value;

	((struct any *)arg)->n += b->spilled && !b->deleted;
}

int
spill_open(catalog_t *c)
{
	const char *want = c->cfg.spill_dir;
	char *remembered = NULL, real[PATH_MAX];
	struct spill *sp = NULL;
	struct any spilled = { 0 };
	unsigned high = c->cfg.spill_high ? c->cfg.spill_high : SPILL_HIGH;
	unsigned low = c->cfg.spill_low ? c->cfg.spill_low : SPILL_LOW;
	pthread_condattr_t ca;
	int rc;

	if ((rc = meta_config_get(c->meta, "spill_dir", &remembered)) != 0 && rc != -ENOENT)
		return rc;
	hmap_foreach(&c->blobs, any_spilled, &spilled);
	if (want == NULL && remembered == NULL)
		return 0;
	if (high > 100 || low >= high) {
		log_error("spill marks: the low-water mark (%u%%) must be under the high-water mark (%u%%), "
			  "which is at most 100%%",
		    low, high);
		rc = -EINVAL;
		goto out;
	}
	if (want != NULL) {
		if ((rc = util_mkdirs(want, 0700)) != 0 || realpath(want, real) == NULL) {
			rc = rc != 0 ? rc : -errno;
			log_error("spill directory %s: %s", want, strerror(-rc));
			goto out;
		}
		if (remembered != NULL && strcmp(remembered, real) != 0 && spilled.n > 0) {
			log_error(
			    "%d blobs are spilled in %s: start with --spill-dir %s (or move its files to %s "
			    "and then start with --spill-dir %s)",
			    spilled.n, remembered, remembered, real, remembered);
			rc = -EINVAL;
			goto out;
		}
	} else
		snprintf(real, sizeof real, "%s", remembered);
	if ((sp = calloc(1, sizeof *sp)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(sp->dir, sizeof sp->dir, "%s", real);
	if ((sp->dirfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = -errno;
		log_error("cannot open the spill directory %s: %s", sp->dir, strerror(errno));
		free(sp);
		goto out;
	}
	/* Two stores in one spill directory would remove each other's files. */
	if ((sp->lockfd = openat(sp->dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(sp->lockfd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_error("spill directory %s: %s", sp->dir,
		    rc == -EBUSY ? "in use by another vineyardfs store" : strerror(-rc));
		if (sp->lockfd >= 0)
			close(sp->lockfd);
		close(sp->dirfd);
		free(sp);
		goto out;
	}
	sp->direct = direct_works(sp->dirfd);
	sp->high = c->cfg.memory_limit / 100 * high;
	sp->low = c->cfg.memory_limit / 100 * low;
	sp->ahead = c->cfg.spill_ahead;
	pthread_mutex_init(&sp->pass_lock, NULL);
	pthread_mutex_init(&sp->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sp->cond, &ca);
	pthread_condattr_destroy(&ca);
	c->spill = sp;
	if (remembered == NULL || strcmp(remembered, sp->dir) != 0)
		rc = meta_config_set(c->meta, "spill_dir", sp->dir);
	log_info("spill directory %s%s (%s): spill above %u%% of memory (%llu bytes), down to %u%%%s",
	    sp->dir, want == NULL ? ", remembered" : "", sp->direct ? "O_DIRECT" : "buffered", high,
	    (unsigned long long)sp->high, low, sp->ahead ? ", spill files written ahead above it" : "");
out:
	free(remembered);
	return rc;
}

int
spill_start(catalog_t *c)
{
	struct spill *sp = c->spill;
	struct dirent *e;
	unsigned removed = 0;
	DIR *d;
	int fd, rc;

	if (sp == NULL)
		return 0;
	/* Files no spilled blob owns: temp files of a spill cut short, or
	 * copies whose record never committed. Other names are not ours. */
	if ((fd = openat(sp->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(fd)) == NULL) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		log_error("cannot read the spill directory %s: %s", sp->dir, strerror(-rc));
		return rc;
	}
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		struct cblob *b;
		uint64_t id;

		if (strncmp(n, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 && strlen(n) > strlen(TMP_PREFIX)) {
			if (unlinkat(sp->dirfd, n, 0) == 0)
				removed++;
			continue;
		}
		if (id_parse(n, &id) != 0 || !id_is_blob(id))
			continue;
		b = cat_blob_find(c, id);
		if ((b == NULL || !b->spilled || b->deleted) && unlinkat(sp->dirfd, n, 0) == 0)
			removed++;
	}
	closedir(d);
	if (removed > 0)
		log_info("spill directory %s: removed %u files no spilled blob owns", sp->dir, removed);
	if ((rc = pthread_create(&sp->thread, NULL, spill_thread, c)) != 0) {
		log_error("cannot start the spill thread: %s", strerror(rc));
		return -rc;
	}
	sp->running = 1;
	return mem_release_start(c->mem);
}

void
spill_close(catalog_t *c)
{
	struct spill *sp = c->spill;

	if (sp == NULL)
		return;
	if (sp->running) {
		pthread_mutex_lock(&sp->lock);
		sp->stop = 1;
		pthread_cond_signal(&sp->cond);
		pthread_mutex_unlock(&sp->lock);
		pthread_join(sp->thread, NULL);
	}
	mem_release_stop(c->mem);
	while (sp->nrings > 0)
		uring_close(sp->rings[--sp->nrings]);
	close(sp->lockfd);
	close(sp->dirfd);
	pthread_mutex_destroy(&sp->pass_lock);
	pthread_mutex_destroy(&sp->lock);
	pthread_cond_destroy(&sp->cond);
	free(sp);
	c->spill = NULL;
}

void
spill_set_faults(catalog_t *c, const struct uring_faults *f)
{
	struct spill *sp = c->spill;

	if (sp == NULL)
		return;
	pthread_mutex_lock(&sp->lock);
	sp->faults_armed = f != NULL;
	if (f != NULL)
		sp->faults = *f;
	pthread_mutex_unlock(&sp->lock);
}

void
spill_stats(catalog_t *c, struct catalog_stats *st)
{
	struct spill *sp = c->spill;

	if (sp == NULL)
		return;
	st->spill_enabled = 1;
	st->spill_dir = sp->dir;
	st->spill_high = sp->high;
	st->spill_low = sp->low;
	st->spills = sp->spills;
	st->spill_bytes = sp->spill_bytes;
	st->evictions = sp->evictions;
	st->reloads = sp->reloads;
	st->reload_bytes = sp->reload_bytes;
	st->spill_errors = sp->spill_errors;
	st->reload_errors = sp->reload_errors;
	st->spill_seconds = sp->spill_seconds;
	st->reload_seconds = sp->reload_seconds;
}

const char *
spill_where(const struct cblob *b)
{
	if (!b->sealed || !b->spilled)
		return "memory";
	return b->resident ? "memory,disk" : "disk";
}
