/*
 * catalog_snapshot: the part of a snapshot (snapshot.c) that needs the
 * catalog's lock: a copy of the database and a descriptor on the bytes of
 * every sealed blob, taken together so that they agree. The lock is held
 * only for that; the blobs are copied after, through the descriptors (an
 * open descriptor keeps a blob's bytes even when it is deleted meanwhile).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog_i.h"
#include "log.h"
#include "snapshot.h"

/* The one place a snapshot reaches a sealed blob's bytes: a read-only fd
 * on them, wherever the blob lives (its file in the store, else its spill
 * file). */
static int
blob_data_open(catalog_t *c, const struct cblob *b, int *fd)
{
	return b->resident ? store_blob_open(c->store, b->id, O_RDONLY, fd)
			   : catalog_spill_file_open(c, b, fd);
}

struct collect {
	catalog_t *c;
	catalog_snap_need_fn need;
	void *arg;
	struct catalog_snap_blob *v;
	size_t n;
	int rc;
};

static void
collect_blob(void *value, void *arg)
{
	struct collect *k = arg;
	struct cblob *b = value;
	struct catalog_snap_blob *s;
	char ids[ID_STR_LEN + 1];

	if (k->rc != 0 || !b->sealed || b->deleted || b->remote) /* remote: not in meta either */
		return;
	s = &k->v[k->n];
	s->id = b->id;
	s->size = b->size;
	s->fd = -1;
	s->on_disk = !b->resident;
	s->has_crc = b->has_crc;
	s->crc32c = b->crc32c;
	if (k->need == NULL || k->need(k->arg, b->id, b->size)) {
		if ((k->rc = blob_data_open(k->c, b, &s->fd)) != 0) {
			id_format(b->id, ids);
			log_error("snapshot: cannot open the data of blob %s: %s", ids, strerror(-k->rc));
			return;
		}
	}
	k->n++;
}

int
catalog_snapshot(catalog_t *c, const char *db_path, catalog_snap_need_fn need, void *arg,
    struct catalog_snap_blob **blobs, size_t *n)
{
	struct collect k = { .c = c, .need = need, .arg = arg };
	size_t i;
	int rc;

	*blobs = NULL;
	*n = 0;
	/* The catalog lock, then the metadata lock: a seal marks its blob
	 * sealed under the first and its rows are written under the second
	 * (by the sealer, or by the flush below), so with both held and the
	 * queue flushed memory agrees with the database. */
	pthread_mutex_lock(&c->lock);
	pthread_mutex_lock(&c->meta_lock);
	catalog_seal_flush(c); /* every sealed blob's rows, the sealer's queue too */
	k.v = calloc(c->blobs.count + 1, sizeof *k.v);
	if (k.v == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = meta_backup(c->meta, db_path)) != 0)
		goto out;
	hmap_foreach(&c->blobs, collect_blob, &k);
	rc = k.rc;
out:
	pthread_mutex_unlock(&c->meta_lock);
	pthread_mutex_unlock(&c->lock);
	if (rc != 0) {
		for (i = 0; i < k.n; i++)
			if (k.v[i].fd >= 0)
				close(k.v[i].fd);
		free(k.v);
		return rc;
	}
	*blobs = k.v;
	*n = k.n;
	return 0;
}
