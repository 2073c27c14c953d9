/*
 * catalog_spill_ops: the control operations on where an object's blobs
 * live (pin, unpin, evict, load), on every blob of the object's tree, as
 * its owner or root. See catalog_spill.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_cache.h"
#include "catalog_remote.h"
#include "catalog_spill_i.h"

/* The blobs of a blob or object id and of its members, recursively, as
 * uid may act on them. */
struct tree {
	struct victims blobs;
	struct hmap seen;
	unsigned remote; /* a global object's members of other instances, skipped */
};

/* A member of a global object that is another member's (or was: its
 * owner deleted it) is not ours to pin, spill or load: it is skipped, and
 * an evict drops this node's copies of it (catalog_cache_evict). */
static int
skip_foreign(catalog_t *c, struct tree *t, uint64_t id, int depth, int rc)
{
	if (depth == 0 || id_instance(id) == c->instance)
		return rc;
	t->remote++;
	return 0;
}

static int
tree_add(catalog_t *c, struct tree *t, uint64_t id, int depth)
{
	struct cobject *o;
	struct cblob *b;
	unsigned i;
	int rc;

	if (hmap_find(&t->seen, id) != NULL)
		return 0;
	if ((rc = hmap_insert(&t->seen, id, (void *)1)) != 0)
		return rc;
	if (id_is_blob(id)) {
		if ((b = catalog_blob_find(c, id)) == NULL || b->deleted)
			return skip_foreign(c, t, id, depth, -ENOENT);
		if (b->remote) /* its bytes are its owner's */
			return skip_foreign(c, t, id, depth, -EREMOTE);
		catalog_spill_victims_add(&t->blobs, b);
		return t->blobs.err;
	}
	if ((o = catalog_object_find(c, id)) == NULL)
		return skip_foreign(c, t, id, depth, -ENOENT);
	if (o->remote)
		return skip_foreign(c, t, id, depth, -EREMOTE);
	if (depth > CATALOG_TREE_DEPTH)
		return -ELOOP;
	for (i = 0; i < o->nmembers; i++)
		if ((rc = tree_add(c, t, o->members[i].id, depth + 1)) != 0)
			return rc;
	return 0;
}

/* Catalog lock held: the blobs of id into t, or -errno. */
static int
tree_of(catalog_t *c, uint64_t id, uid_t uid, struct tree *t)
{
	uint32_t owner;
	struct cobject *o;
	struct cblob *b;

	memset(t, 0, sizeof *t);
	hmap_init(&t->seen);
	if (id_is_blob(id)) {
		if ((b = catalog_blob_find(c, id)) == NULL || b->deleted)
			return -ENOENT;
		owner = b->uid;
	} else {
		if ((o = catalog_object_find(c, id)) == NULL)
			return -ENOENT;
		owner = o->uid;
	}
	if (uid != 0 && uid != owner)
		return -EACCES;
	return tree_add(c, t, id, 0);
}

static void
tree_free(struct tree *t)
{
	free(t->blobs.v);
	hmap_destroy(&t->seen);
}

int
catalog_spill_pin(catalog_t *c, uint64_t id, uid_t uid, int pin, uint64_t *blobs, uint64_t *bytes)
{
	struct tree t;
	size_t i;
	int rc;

	*blobs = *bytes = 0;
	pthread_mutex_lock(&c->lock);
	if ((rc = tree_of(c, id, uid, &t)) != 0 || (rc = catalog_tx_begin(c)) != 0)
		goto out;
	for (i = 0; rc == 0 && i < t.blobs.n; i++) {
		struct cblob *b = catalog_blob_find(c, t.blobs.v[i].id);

		if (!b->sealed || b->pinned == (pin != 0))
			continue;
		b->pinned = pin != 0;
		t.blobs.v[i].write = 1; /* changed */
		rc = catalog_blob_put(c, b);
	}
	rc = rc == 0 ? catalog_tx_commit(c) : (catalog_tx_rollback(c), rc);
	for (i = 0; i < t.blobs.n; i++) {
		struct cblob *b = catalog_blob_find(c, t.blobs.v[i].id);

		if (!t.blobs.v[i].write)
			continue;
		if (rc != 0) /* the transaction rolled back: so does memory */
			b->pinned = pin == 0;
		else {
			c->pinned_bytes = pin ? c->pinned_bytes + b->size : c->pinned_bytes - b->size;
			(*blobs)++;
			*bytes += b->size;
		}
	}
	/* Pinned means in memory. */
	for (i = 0; rc == 0 && pin && i < t.blobs.n; i++) {
		struct cblob *b = catalog_blob_find(c, t.blobs.v[i].id);

		if (b != NULL && b->sealed && !b->deleted)
			rc = catalog_spill_ensure_resident(c, b);
	}
out:
	pthread_mutex_unlock(&c->lock);
	tree_free(&t);
	return rc;
}

int
catalog_spill_evict(catalog_t *c, uint64_t id, uid_t uid, uint64_t *blobs, uint64_t *bytes)
{
	struct tree t;
	size_t i, busy = 0, candidates = 0;
	int rc;

	*blobs = *bytes = 0;
	/* Another member's: what can go is this node's copy of its bytes. */
	if (catalog_remote_is(c, id, NULL))
		return catalog_cache_evict(c, id, blobs, bytes);
	/* Without a spill directory, what a global object has here to drop
	 * are the copies of its other members. */
	if (c->spill == NULL)
		return catalog_object_global(c, id) == 1 ? catalog_cache_evict(c, id, blobs, bytes)
							 : -ENOTSUP;
	pthread_mutex_lock(&c->spill->pass_lock);
	pthread_mutex_lock(&c->lock);
	if ((rc = tree_of(c, id, uid, &t)) != 0)
		goto out;
	for (i = 0; i < t.blobs.n; i++) {
		struct cblob *b = catalog_blob_find(c, t.blobs.v[i].id);

		if (!b->sealed || !b->resident || b->size == 0)
			continue;
		candidates++;
		busy += !catalog_spill_evictable(b);
	}
	catalog_spill_evict_list(c, &t.blobs, blobs, bytes);
	if (*blobs == 0 && busy > 0)
		rc = -EBUSY; /* open, pinned or being loaded */
	else if (*blobs < candidates - busy)
		rc = -EIO; /* the write-out failed: logged */
out:
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&c->spill->pass_lock);
	if (t.remote > 0 && (rc == 0 || rc == -EBUSY)) {
		/* A global object: this node's copies of its other members. */
		uint64_t nb = 0, nbytes = 0;
		int crc = catalog_cache_evict(c, id, &nb, &nbytes);

		*blobs += nb;
		*bytes += nbytes;
		if (rc == -EBUSY && nb > 0)
			rc = 0;
		else if (rc == 0 && crc == -EBUSY && *blobs == 0)
			rc = -EBUSY;
	}
	tree_free(&t);
	return rc;
}

int
catalog_spill_load(catalog_t *c, uint64_t id, uid_t uid, uint64_t *blobs, uint64_t *bytes)
{
	struct tree t;
	size_t i;
	int rc;

	*blobs = *bytes = 0;
	pthread_mutex_lock(&c->lock);
	if ((rc = tree_of(c, id, uid, &t)) != 0)
		goto out;
	for (i = 0; rc == 0 && i < t.blobs.n; i++) {
		struct cblob *b = catalog_blob_find(c, t.blobs.v[i].id);

		if (b == NULL || !b->sealed || b->deleted || b->resident)
			continue;
		if ((rc = catalog_spill_ensure_resident(c, b)) == 0) {
			(*blobs)++;
			*bytes += b->size;
		}
	}
out:
	pthread_mutex_unlock(&c->lock);
	tree_free(&t);
	return rc;
}
