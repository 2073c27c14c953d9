/*
 * catalog_cache: the fetched copies of other members' blobs are a cache.
 * A remote blob opened here is fetched once into the local store
 * (catalog_fetch.c) and served from there like a local blob; its owner
 * keeps the original, so the copy can go whenever memory is wanted: it
 * is dropped (its store file removed), never written to the spill
 * directory, and the next open fetches it again.
 *
 * Copies go before any local blob is spilled, the least recently used
 * first: dropping costs no write, and reading a copy back costs a
 * transfer from a member's memory, where a spilled blob costs a read
 * from disk. A copy that is open, mapped through an open file, pinned
 * by a load in flight or being fetched stays.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_cache.h"
#include "catalog_i.h"
#include "log.h"
#include "vec.h"

struct copy {
	uint64_t id, size;
	int64_t used_ns;
};

struct copies {
	struct copy *v;
	size_t n, cap;
	int err;
};

static int
droppable(const struct cblob *b)
{
	return b->remote && b->resident && !b->deleted && b->opens == 0 && !b->loading && !b->spilling;
}

static void
collect(void *value, void *arg)
{
	struct cblob *b = value;
	struct copies *l = arg;

	if (!droppable(b))
		return;
	if (VEC_PUSH_ROOM(l->v, l->n, l->cap) != 0) {
		l->err = -ENOMEM;
		return;
	}
	l->v[l->n++] = (struct copy){ b->id, b->size, b->used_ns };
}

static int
by_use(const void *a, const void *b)
{
	const struct copy *x = a, *y = b;

	return x->used_ns < y->used_ns ? -1 : x->used_ns > y->used_ns;
}

/* Catalog lock held: drop the copy of b (droppable). */
static void
drop(catalog_t *c, struct cblob *b)
{
	store_blob_remove(c->store, b->id);
	catalog_blob_resident(c, b, 0);
	c->cache_drops++;
	c->cache_drop_bytes += b->size;
	if (c->cfg.blob_freed != NULL) /* its passthrough registration */
		c->cfg.blob_freed(c->cfg.hook_arg, b->id);
}

uint64_t
catalog_cache_drop(catalog_t *c, uint64_t want)
{
	struct copies l = { 0 };
	uint64_t dropped = 0;
	size_t i;

	if (want == 0)
		return 0;
	hmap_foreach(&c->blobs, collect, &l);
	if (l.err != 0)
		log_warn("cannot list the fetched copies to drop: %s", strerror(-l.err));
	if (l.n > 1) /* none: l.v is NULL, which qsort may not be given */
		qsort(l.v, l.n, sizeof *l.v, by_use);
	for (i = 0; i < l.n && dropped < want; i++) {
		drop(c, catalog_blob_find(c, l.v[i].id));
		dropped += l.v[i].size;
	}
	if (dropped > 0)
		log_debug(
		    "dropped %zu fetched copies (%llu bytes) to make room", i, (unsigned long long)dropped);
	free(l.v);
	return dropped;
}

/* The remote blobs of id's tree that hold a copy now (resident 1), or
 * that hold none (0), into l. */
static int
tree_copies(catalog_t *c, uint64_t id, struct copies *l, int resident, int depth)
{
	struct cobject *o;
	struct cblob *b;
	unsigned i;
	int rc;

	if (id_is_blob(id)) {
		if ((b = catalog_blob_find(c, id)) == NULL || !b->remote || !b->resident != !resident ||
		    b->deleted)
			return 0;
		if (VEC_PUSH_ROOM(l->v, l->n, l->cap) != 0)
			return -ENOMEM;
		l->v[l->n++] = (struct copy){ b->id, b->size, b->used_ns };
		return 0;
	}
	if ((o = catalog_object_find(c, id)) == NULL || depth > CATALOG_TREE_DEPTH)
		return 0;
	for (i = 0; i < o->nmembers; i++)
		if ((rc = tree_copies(c, o->members[i].id, l, resident, depth + 1)) != 0)
			return rc;
	return 0;
}

int
catalog_cache_evict(catalog_t *c, uint64_t id, uint64_t *blobs, uint64_t *bytes)
{
	struct copies l = { 0 };
	size_t i, busy = 0;
	int rc;

	*blobs = *bytes = 0;
	pthread_mutex_lock(&c->lock);
	if ((rc = tree_copies(c, id, &l, 1, 0)) != 0)
		goto out;
	for (i = 0; i < l.n; i++) {
		struct cblob *b = catalog_blob_find(c, l.v[i].id);

		if (!droppable(b)) {
			busy++;
			continue;
		}
		drop(c, b);
		(*blobs)++;
		*bytes += b->size;
	}
	if (*blobs == 0 && busy > 0)
		rc = -EBUSY; /* open or being fetched */
out:
	pthread_mutex_unlock(&c->lock);
	free(l.v);
	return rc;
}

int
catalog_cache_prefetch(catalog_t *c, uint64_t id, uint64_t below, uint64_t *blobs, uint64_t *bytes)
{
	struct copies l = { 0 };
	struct cblob *b;
	size_t i;
	int rc;

	*blobs = *bytes = 0;
	pthread_mutex_lock(&c->lock);
	if ((rc = tree_copies(c, id, &l, 0, 0)) != 0)
		goto out;
	for (i = 0; i < l.n; i++) {
		/* Looked up again: the lock is let go during each fetch. */
		if ((b = catalog_blob_find(c, l.v[i].id)) == NULL || !b->remote || b->resident ||
		    b->deleted || !b->sealed)
			continue;
		if (mem_used(c->mem) + b->size > below) {
			rc = -ENOSPC; /* room only by dropping or spilling: not for a guess */
			break;
		}
		b->opens++; /* catalog_remote_open's, as an open's */
		if ((rc = catalog_remote_open(c, b)) != 0)
			break;
		(*blobs)++;
		*bytes += b->size;
	}
out:
	pthread_mutex_unlock(&c->lock);
	free(l.v);
	return rc;
}

static void
count(void *value, void *arg)
{
	struct cblob *b = value;
	struct catalog_cache_stats *st = arg;

	if (b->remote && b->resident && !b->deleted) {
		st->copies++;
		st->copy_bytes += b->size;
	}
}

void
catalog_cache_stats(catalog_t *c, struct catalog_cache_stats *st)
{
	memset(st, 0, sizeof *st);
	pthread_mutex_lock(&c->lock);
	hmap_foreach(&c->blobs, count, st);
	st->drops = c->cache_drops;
	st->drop_bytes = c->cache_drop_bytes;
	pthread_mutex_unlock(&c->lock);
}
