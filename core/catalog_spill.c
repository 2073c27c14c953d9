/*
 * catalog_spill: the spill policy's thread, its set-up and reloads (see
 * catalog_spill.h for the model; choosing and evicting blobs is
 * catalog_spill_pass.c's, the files spill.c's). The residency flags of
 * struct cblob are guarded by the catalog lock like the rest of it; the
 * copies run without it, while the blobs concerned are held (opens) and
 * flagged (spilling, loading) so that nothing frees or reuses them
 * meanwhile; concurrent reloads of one blob wait on catalog.load_cond.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_spill_i.h"
#include "log.h"
#include "uring.h"
#include "util.h"

#define SPILL_HIGH 80 /* default marks, percent of the memory limit */
#define SPILL_LOW 60
#define SPILL_TICK_MS 50 /* the thread looks at memory use this often */

/* ---- spill files of the catalog's blobs ---- */

int
catalog_spill_file_check(catalog_t *c, const struct cblob *b)
{
	return c->spill != NULL ? spill_file_check(c->spill->files, b->id, b->size) : -ENOENT;
}

int
catalog_spill_file_open(catalog_t *c, const struct cblob *b, int *fd)
{
	if (c->spill == NULL || !b->spilled)
		return -ENOENT;
	return spill_file_open(c->spill->files, b->id, fd);
}

void
catalog_spill_file_remove(catalog_t *c, uint64_t id)
{
	if (c->spill != NULL)
		spill_file_remove(c->spill->files, id);
}

/* ---- reloading ---- */

/* Copy blob id back from its spill file into a new store file, once there
 * is room for it. */
static int
load(catalog_t *c, uint64_t id, uint64_t size, int has_crc, uint32_t want)
{
	char name[ID_STR_LEN + 1], err[256] = "";
	uint64_t limit = c->cfg.memory_limit;
	int rc;

	id_format(id, name);
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
	rc = spill_read(c->spill->files, c->store, id, size, has_crc, want, err, sizeof err);
	if (rc != 0)
		log_error("cannot reload blob %s (%llu bytes); it stays on disk: %s", name,
		    (unsigned long long)size, err);
	return rc;
}

int
catalog_spill_ensure_resident(catalog_t *c, struct cblob *b)
{
	struct cspill *sp = c->spill;
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
	if ((rc = catalog_load_begin(c, b)) != 1)
		goto out;
	pthread_mutex_unlock(&c->lock);
	t0 = util_now_ns();
	rc = load(c, b->id, b->size, b->has_crc, b->crc32c);
	pthread_mutex_lock(&c->lock);
	catalog_load_end(c, b);
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
		catalog_blob_resident(c, b, 1);
		b->used_ns = util_now_ns(); /* wanted now: the last to go again */
	}
out:
	b->opens--;
	if (rc == 0)
		catalog_spill_kick(c);
	else
		catalog_blob_maybe_free(c, b); /* callers do not touch b after an error */
	return rc;
}

/* ---- the thread ---- */

static void *
spill_thread(void *arg)
{
	catalog_t *c = arg;
	struct cspill *sp = c->spill;
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
			catalog_spill_pass(c, sp->low);
		else if (sp->ahead && used > sp->low)
			catalog_spill_write_ahead(c);
		pthread_mutex_lock(&sp->lock);
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

void
catalog_spill_kick(catalog_t *c)
{
	struct cspill *sp = c->spill;

	if (sp == NULL)
		return;
	pthread_mutex_lock(&sp->lock);
	sp->kicked = 1;
	pthread_cond_signal(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
}

/* ---- set-up ---- */

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
catalog_spill_open(catalog_t *c)
{
	const char *want = c->cfg.spill_dir;
	char *remembered = NULL, real[PATH_MAX];
	struct cspill *sp = NULL;
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
	if ((rc = spill_open(real, &sp->files)) != 0) {
		free(sp);
		goto out;
	}
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
	if (remembered == NULL || strcmp(remembered, real) != 0)
		rc = meta_config_set(c->meta, "spill_dir", real);
	log_info("spill directory %s%s (%s): spill above %u%% of memory (%llu bytes), down to %u%%%s", real,
	    want == NULL ? ", remembered" : "", spill_direct(sp->files) ? "O_DIRECT" : "buffered", high,
	    (unsigned long long)sp->high, low, sp->ahead ? ", spill files written ahead above it" : "");
out:
	free(remembered);
	return rc;
}

/* Does blob id own its spill file (spill_clean)? */
static int
owns_spill_file(void *arg, uint64_t id)
{
	struct cblob *b = catalog_blob_find(arg, id);

	return b != NULL && b->spilled && !b->deleted;
}

int
catalog_spill_start(catalog_t *c)
{
	struct cspill *sp = c->spill;
	int rc;

	if (sp == NULL)
		return 0;
	/* Files no spilled blob owns: temp files of a spill cut short, or
	 * copies whose record never committed. */
	if ((rc = spill_clean(sp->files, owns_spill_file, c)) < 0)
		return rc;
	if (rc > 0)
		log_info(
		    "spill directory %s: removed %d files no spilled blob owns", spill_dir(sp->files), rc);
	if ((rc = pthread_create(&sp->thread, NULL, spill_thread, c)) != 0) {
		log_error("cannot start the spill thread: %s", strerror(rc));
		return -rc;
	}
	sp->running = 1;
	return mem_release_start(c->mem);
}

void
catalog_spill_close(catalog_t *c)
{
	struct cspill *sp = c->spill;

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
	spill_close(sp->files);
	pthread_mutex_destroy(&sp->pass_lock);
	pthread_mutex_destroy(&sp->lock);
	pthread_cond_destroy(&sp->cond);
	free(sp);
	c->spill = NULL;
}

void
catalog_spill_set_faults(catalog_t *c, const struct uring_faults *f)
{
	if (c->spill != NULL)
		spill_set_faults(c->spill->files, f);
}

void
catalog_spill_stats(catalog_t *c, struct catalog_stats *st)
{
	struct cspill *sp = c->spill;

	if (sp == NULL)
		return;
	st->spill_enabled = 1;
	st->spill_dir = spill_dir(sp->files);
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
