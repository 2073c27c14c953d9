/*
 * spill_pass: what to spill and when (see spill.h): a pass evicts the
 * least recently used blobs that can go until memory use is under a
 * target; spilling ahead gives them spill files before they must go.
 * The copies and the eviction itself are spill.c's (spill_evict_list).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "catalog_i.h"
#include "spill.h"
#include "spill_i.h"
#include "util.h"

#define AHEAD_BATCH (64u << 20)			   /* bytes written ahead per look, at most */
#define AHEAD_BACKOFF_NS (5 * INT64_C(1000000000)) /* after a failure (a full disk) */

static void
collect_evictable(void *value, void *arg)
{
	struct cblob *b = value;

	if (spill_evictable(b))
		spill_victims_add(arg, b);
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
		spill_victims_add(batch, &(struct cblob){ .id = all->v[*i].id, .size = all->v[*i].size });
		sum += all->v[*i].size;
	}
}

/* Evict the least recently used blobs until the store uses at most target
 * bytes or nothing more can go. Returns the blobs evicted. */
uint64_t
spill_pass(catalog_t *c, uint64_t target)
{
	struct victims all = { 0 }, batch = { 0 };
	uint64_t count = 0, bytes = 0, used;
	size_t i;

	pthread_mutex_lock(&c->spill->pass_lock);
	pthread_mutex_lock(&c->lock);
	used = mem_used(c->mem);
	if (used <= target)
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
		spill_evict_list(c, &batch, &count, &bytes);
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
spill_make_room(catalog_t *c, uint64_t need)
{
	uint64_t limit = c->cfg.memory_limit, used;

	if (c->spill == NULL || need > limit)
		return -ENOSPC;
	spill_pass(c, limit - need < c->spill->low ? limit - need : c->spill->low);
	used = mem_used(c->mem);
	if (used + need > limit)
		return -ENOSPC;
	mem_wait_released(c->mem, need);
	return 0;
}

int
spill_pass_now(catalog_t *c, uint64_t target)
{
	return c->spill != NULL ? (int)spill_pass(c, target) : -ENOTSUP;
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

	if (spill_aheadable(b))
		spill_victims_add(k->l, b);
	else if (b->sealed && b->resident && b->spilled && !b->deleted && !b->pinned)
		k->clean += b->size;
}

/* Spill ahead: while the bytes in memory without a spill file are above
 * the low-water mark, give the least recently used blobs one (at most
 * AHEAD_BATCH bytes a call). They stay in memory; a pass evicts them
 * later without writing. Returns the blobs written. */
uint64_t
spill_write_ahead(catalog_t *c)
{
	struct spill *sp = c->spill;
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
		spill_evict_list(c, &batch, &evicted, &freed); /* none: batch.keep */
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
spill_ahead_now(catalog_t *c)
{
	return c->spill != NULL ? (int)spill_write_ahead(c) : -ENOTSUP;
}
