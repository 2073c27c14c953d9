/*
 * catalog_spill_pass: which blobs leave memory (see catalog_spill.h): a
 * pass drops fetched copies of other members' blobs (catalog_cache.c),
 * then evicts the least recently used blobs that can go until memory use
 * is under a target; spilling ahead gives them spill files before they
 * must go. An eviction holds and flags its victims under the catalog
 * lock, writes those without a spill file through spill.c without it,
 * then records them (meta) and frees their memory (mem.c) under it again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog_spill_i.h"
#include "log.h"
#include "uring.h"
#include "util.h"
#include "vec.h"

#define AHEAD_BATCH (64u << 20)			   /* bytes written ahead per look, at most */
#define AHEAD_BACKOFF_NS (5 * INT64_C(1000000000)) /* after a failure (a full disk) */

void
catalog_spill_victims_add(struct victims *l, const struct cblob *b)
{
	if (VEC_PUSH_ROOM(l->v, l->n, l->cap) != 0) {
		l->err = -ENOMEM;
		return;
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	l->v[l->n].id = b->id;
	l->v[l->n].size = b->size;
	l->v[l->n].used_ns = b->used_ns;
	l->v[l->n].fd = -1;
	l->n++;
}

/* A fetched copy of another member's blob is never spilled: it is
 * dropped (catalog_cache.c). */
int
catalog_spill_evictable(const struct cblob *b)
{
	return b->sealed && b->resident && !b->remote && !b->deleted && !b->pinned && b->opens == 0 &&
	       !b->loading && !b->spilling && b->size > 0;
}

static int
aheadable(const struct cblob *b)
{
	return b->sealed && b->resident && !b->remote && !b->spilled && !b->deleted && !b->pinned &&
	       !b->loading && !b->spilling && b->size > 0;
}

/* Catalog lock held: hold and flag the victims l->v[from..], open their
 * files; the ones that cannot be are taken out of the list. */
static void
victims_take(catalog_t *c, struct victims *l, size_t from)
{
	size_t i, keep = from;

	for (i = from; i < l->n; i++) {
		struct victim *v = &l->v[i];
		struct cblob *b = catalog_blob_find(c, v->id);

		if (b == NULL || !(l->keep ? aheadable(b) : catalog_spill_evictable(b)))
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

/* Without the catalog lock: write the victims that need it in one batch
 * (its ring taken at the first), then make their renames durable. */
static void
victims_write(catalog_t *c, struct victims *l)
{
	struct spill_batch batch;
	char err[256];
	size_t i;
	int rc = 0, begun = 0;

	for (i = 0; i < l->n; i++) {
		struct victim *v = &l->v[i];

		if (!v->write)
			continue;
		if (!begun && (rc = spill_batch_begin(c->spill->files, &batch, err, sizeof err)) == 0)
			begun = 1;
		if (!begun) {
			snprintf(v->err, sizeof v->err, "%s", err);
			continue;
		}
		if (spill_write(&batch, v->id, v->fd, v->size, &v->map, &v->crc, v->err, sizeof v->err) == 0)
			v->written = 1;
	}
	if (begun && spill_batch_end(&batch, err, sizeof err) != 0)
		for (i = 0; i < l->n; i++)
			if (l->v[i].written) {
				l->v[i].written = 0;
				snprintf(l->v[i].err, sizeof l->v[i].err, "%s", err);
			}
}

/* Catalog lock held: record the written victims as spilled (one
 * transaction), free the memory of every victim nothing opened meanwhile,
 * let go of them. Returns the bytes freed; *count the blobs. */
static uint64_t
victims_finish(catalog_t *c, struct victims *l, double seconds, uint64_t *count)
{
	struct cspill *sp = c->spill;
	uint64_t freed = 0, wrote = 0;
	size_t i;
	int rc = 0, any = 0;

	for (i = 0; i < l->n; i++)
		any |= l->v[i].written;
	if (any && (rc = catalog_tx_begin(c)) == 0) {
		for (i = 0; rc == 0 && i < l->n; i++) {
			struct victim *v = &l->v[i];
			struct cblob *b = catalog_blob_find(c, v->id);

			if (!v->written || b->deleted)
				continue;
			b->spilled = b->has_crc = 1;
			b->crc32c = v->crc;
			rc = catalog_blob_put(c, b);
		}
		rc = rc == 0 ? catalog_tx_commit(c) : (catalog_tx_rollback(c), rc);
	}
	for (i = 0; i < l->n; i++) {
		struct victim *v = &l->v[i];
		struct cblob *b = catalog_blob_find(c, v->id);
		char ids[ID_STR_LEN + 1];

		id_format(v->id, ids);
		b->spilling = 0;
		b->opens--;
		if (v->written && (rc != 0 || b->deleted)) {
			if (!b->deleted) /* the record failed: as if never written */
				b->spilled = b->has_crc = 0;
			catalog_spill_file_remove(c, v->id);
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
		catalog_blob_maybe_free(c, b);
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
catalog_spill_evict_list(catalog_t *c, struct victims *l, uint64_t *count, uint64_t *bytes)
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

static void
collect_evictable(void *value, void *arg)
{
	struct cblob *b = value;

	if (catalog_spill_evictable(b))
		catalog_spill_victims_add(arg, b);
}

static int
by_use(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	return x->used_ns < y->used_ns ? -1 : x->used_ns > y->used_ns;
}

/* From all (sorted, oldest first), starting at *i, the next blobs into
 * batch (emptied first) until they hold want bytes or all is done. */
static void
take_oldest(const struct victims *all, size_t *i, uint64_t want, struct victims *batch)
{
	uint64_t sum = 0;

	batch->n = 0;
	for (; *i < all->n && sum < want; (*i)++) {
		catalog_spill_victims_add(
		    batch, &(struct cblob){ .id = all->v[*i].id, .size = all->v[*i].size });
		sum += all->v[*i].size;
	}
}

/* Evict the least recently used blobs until the store uses at most target
 * bytes or nothing more can go. Returns the blobs evicted. */
uint64_t
catalog_spill_pass(catalog_t *c, uint64_t target)
{
	struct victims all = { 0 }, batch = { 0 };
	uint64_t count = 0, bytes = 0, used;
	size_t i;

	pthread_mutex_lock(&c->spill->pass_lock);
	pthread_mutex_lock(&c->lock);
	used = mem_used(c->mem);
	if (used <= target)
		goto out;
	/* Fetched copies first: dropping them writes nothing. */
	if (catalog_cache_drop(c, used - target) > 0 && (used = mem_used(c->mem)) <= target)
		goto out;
	hmap_foreach(&c->blobs, collect_evictable, &all);
	if (all.err != 0 || all.n == 0)
		goto out;
	qsort(all.v, all.n, sizeof *all.v, by_use);
	/* In batches of the bytes still wanted, oldest first; memory use is
	 * looked at again after each (writers come and go). */
	for (i = 0; i < all.n && used > target;) {
		take_oldest(&all, &i, used - target, &batch);
		if (batch.err != 0)
			break;
		catalog_spill_evict_list(c, &batch, &count, &bytes);
		used = mem_used(c->mem);
	}
out:
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&c->spill->pass_lock);
	free(all.v);
	free(batch.v);
	return count;
}

int
catalog_spill_make_room(catalog_t *c, uint64_t need)
{
	uint64_t limit = c->cfg.memory_limit, used;

	if (c->spill == NULL || need > limit)
		return -ENOSPC;
	catalog_spill_pass(c, limit - need < c->spill->low ? limit - need : c->spill->low);
	used = mem_used(c->mem);
	if (used + need > limit)
		return -ENOSPC;
	mem_wait_released(c->mem, need);
	return 0;
}

int
catalog_spill_pass_now(catalog_t *c, uint64_t target)
{
	return c->spill != NULL ? (int)catalog_spill_pass(c, target) : -ENOTSUP;
}

struct ahead {
	struct victims *l;
	uint64_t clean; /* in memory with a spill file: evicted without a write */
};

static void
collect_ahead(void *value, void *arg)
{
	struct ahead *k = arg;
	struct cblob *b = value;

	if (aheadable(b))
		catalog_spill_victims_add(k->l, b);
	else if (b->sealed && b->resident && b->spilled && !b->deleted && !b->pinned)
		k->clean += b->size;
}

/* Spill ahead: while the bytes in memory without a spill file are above
 * the low-water mark, give the least recently used blobs one (at most
 * AHEAD_BATCH bytes a call). They stay in memory; a pass evicts them
 * later without writing. Returns the blobs written. */
uint64_t
catalog_spill_write_ahead(catalog_t *c)
{
	struct cspill *sp = c->spill;
	struct victims all = { .keep = 1 }, batch = { .keep = 1 };
	struct ahead k = { .l = &all };
	uint64_t evicted = 0, freed = 0, used, want, before, errors, written;
	size_t i = 0;

	pthread_mutex_lock(&sp->pass_lock);
	pthread_mutex_lock(&c->lock);
	before = sp->spills;
	errors = sp->spill_errors;
	if (util_now_ns() < sp->ahead_after_ns)
		goto out;
	used = mem_used(c->mem);
	hmap_foreach(&c->blobs, collect_ahead, &k);
	if (all.err != 0 || all.n == 0 || used <= sp->low + k.clean)
		goto out;
	want = used - sp->low - k.clean;
	if (want > AHEAD_BATCH)
		want = AHEAD_BATCH;
	qsort(all.v, all.n, sizeof *all.v, by_use);
	take_oldest(&all, &i, want, &batch);
	if (batch.err == 0)
		catalog_spill_evict_list(c, &batch, &evicted, &freed); /* none: batch.keep */
	/* Failed (logged): not again at every look, only when it is needed. */
	if (sp->spill_errors != errors)
		sp->ahead_after_ns = util_now_ns() + AHEAD_BACKOFF_NS;
out:
	written = sp->spills - before;
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&sp->pass_lock);
	free(all.v);
	free(batch.v);
	return written;
}

int
catalog_spill_ahead_now(catalog_t *c)
{
	return c->spill != NULL ? (int)catalog_spill_write_ahead(c) : -ENOTSUP;
}
