/*
 * catalog_fetch: bringing a remote blob's bytes into this member's store.
 * The catalog does not know how bytes travel: the daemon gives it a fetch
 * function (catalog_set_fetch; the peer protocol's client), and the open of
 * a remote blob calls it once, however many opens wait (catalog_load_begin
 * and _end, shared with the spill's reload), after making room as a reload
 * does. The fetched file is the blob's cached copy from then on, checked
 * against the published CRC-32C before anyone reads it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_i.h"
#include "catalog_remote.h"
#include "log.h"
#include "util.h"

void
catalog_set_fetch(catalog_t *c, catalog_fetch_fn fetch, void *arg)
{
	pthread_mutex_lock(&c->lock);
	c->fetch = fetch;
	c->fetch_arg = arg;
	pthread_mutex_unlock(&c->lock);
}

/* What the open of a remote blob answers for a failed fetch. */
static int
fetch_errno(int rc)
{
	switch (rc) {
	case -ENOENT: return -ESTALE; /* published, but its owner has it no more */
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -ETIMEDOUT:
	case -EHOSTDOWN: return -EHOSTUNREACH;
	case -ENOSPC:
	case -EACCES:
	case -ENOMEM: return rc;
	default: return -EIO;
	}
}

int
catalog_remote_open(catalog_t *c, struct cblob *b)
{
	catalog_fetch_fn fetch = c->fetch;
	char ids[ID_STR_LEN + 1], err[256] = "";
	const char *node;
	uint32_t crc = 0;
	int rc;

	if (b->resident)
		return 0; /* fetched before: the cached copy */
	if (!catalog_remote_owner_live(c, b->id, &node))
		return -EHOSTDOWN;
	if (fetch == NULL)
		return -EREMOTE;
	if ((rc = catalog_load_begin(c, b)) != 1)
		goto out;
	id_format(b->id, ids);
	pthread_mutex_unlock(&c->lock);
	/* Room first, spilling others if need be, as a reload does. */
	if ((rc = catalog_room(c, b->size)) == 0)
		rc = fetch(c->fetch_arg, b->id, b->size, store_dirfd(c->store), store_dir(c->store), ids,
		    &crc, err, sizeof err);
	pthread_mutex_lock(&c->lock);
	catalog_load_end(c, b);
	if (rc != 0) {
		log_error("cannot fetch blob %s from %s: %s", ids, node != NULL ? node : "its owner",
		    err[0] != '\0' ? err : strerror(-rc));
		rc = fetch_errno(rc);
		goto out;
	}
	if (b->deleted) {
		store_blob_remove(c->store, b->id);
		rc = -ENOENT;
		goto out;
	}
	if (b->has_crc && b->crc32c != crc) {
		log_error("blob %s came from %s with CRC-32C %08x, published %08x", ids,
		    node != NULL ? node : "its owner", crc, b->crc32c);
		store_blob_remove(c->store, b->id);
		rc = -EIO;
		goto out;
	}
	b->crc32c = crc;
	b->has_crc = 1;
	catalog_blob_resident(c, b, 1);
	b->used_ns = util_now_ns();
out:
	b->opens--;
	if (rc != 0)
		catalog_blob_maybe_free(c, b);
	return rc;
}
