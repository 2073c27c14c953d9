/*
 * catalog_data: creating, opening and changing blobs (sealing is in
 * catalog_seal.c, names, unlink and rename in catalog_names.c, deletes in
 * catalog_objects.c, writes and the memory they take in catalog_mem.c).
 * Unsealed blobs and objects live only in memory (and their tmpfs files):
 * a restart discards them anyway, so writing them to SQLite would buy
 * nothing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_i.h"
#include "log.h"
#include "object.h"
#include "util.h"

void
catalog_blob_to_meta(const struct cblob *b, struct meta_blob *mb)
{
	mb->id = b->id;
	mb->size = b->size;
	mb->sealed = b->sealed;
	mb->uid = b->uid;
	mb->gid = b->gid;
	mb->mode = b->mode;
	mb->ctime_ns = b->ctime_ns;
	mb->btime_ns = b->btime_ns;
	mb->mtime_ns = b->mtime_ns;
	mb->atime_ns = b->atime_ns;
	mb->spilled = b->spilled;
	mb->has_crc = b->has_crc;
	mb->crc32c = b->crc32c;
	mb->pinned = b->pinned;
}

void
catalog_object_to_meta(const struct cobject *o, struct meta_object *mo)
{
	mo->id = o->id;
	mo->typename = o->typename;
	mo->fields = o->fields != NULL ? o->fields : "{}";
	mo->nbytes = o->nbytes;
	mo->sealed = o->sealed;
	mo->signature = o->signature;
	mo->uid = o->uid;
	mo->gid = o->gid;
	mo->mode = o->mode;
	mo->ctime_ns = o->ctime_ns;
	mo->btime_ns = o->btime_ns;
	mo->mtime_ns = o->mtime_ns;
	mo->atime_ns = o->atime_ns;
}

int
catalog_blob_put(catalog_t *c, const struct cblob *b)
{
	struct meta_blob mb;

	if (!b->sealed)
		return 0; /* memory only until sealed */
	catalog_blob_to_meta(b, &mb);
	return meta_blob_put(c->meta, &mb);
}

int
catalog_object_put(catalog_t *c, const struct cobject *o)
{
	struct meta_object mo;

	if (!o->sealed)
		return 0; /* memory only until sealed */
	catalog_object_to_meta(o, &mo);
	return meta_object_put(c->meta, &mo);
}

void
catalog_blob_maybe_free(catalog_t *c, struct cblob *b)
{
	if (!b->deleted || b->opens > 0)
		return;
	if (b->ghost_ino != 0)
		hmap_remove(&c->ghosts, b->ghost_ino, b);
	if (c->cfg.blob_freed != NULL)
		c->cfg.blob_freed(c->cfg.hook_arg, b->id);
	hmap_remove(&c->blobs, b->id, b);
	free(b);
}

int
catalog_tx_begin(catalog_t *c)
{
	int rc;

	pthread_mutex_lock(&c->meta_lock);
	/* Seals started before this transaction are written before it: a
	 * rename or delete never lands ahead of the rows it changes. */
	catalog_seal_flush(c);
	if ((rc = meta_begin(c->meta)) != 0) {
		pthread_mutex_unlock(&c->meta_lock);
		return rc;
	}
	c->unlinks.open = 1;
	return 0;
}

/* Remove file of blob id (its spill file if spill), now or, inside a
 * transaction, once it has ended. */
static void
unlink_later(catalog_t *c, uint64_t id, int spill)
{
	if (c->unlinks.open && VEC_PUSH_ROOM(c->unlinks.v, c->unlinks.n, c->unlinks.cap) == 0) {
		c->unlinks.v[c->unlinks.n].id = id;
		c->unlinks.v[c->unlinks.n++].spill = spill;
	} else if (spill)
		catalog_spill_file_remove(c, id);
	else
		store_blob_remove(c->store, id);
}

/* The transaction has ended: remove the files of the blobs it deleted.
 * After a rollback too, since memory has forgotten them (as the database
 * has not: the next start reports them missing and drops them). */
static void
tx_end(catalog_t *c)
{
	size_t i;

	c->unlinks.open = 0;
	for (i = 0; i < c->unlinks.n; i++)
		unlink_later(c, c->unlinks.v[i].id, c->unlinks.v[i].spill);
	c->unlinks.n = 0;
	pthread_mutex_unlock(&c->meta_lock);
}

int
catalog_tx_commit(catalog_t *c)
{
	int rc = meta_commit(c->meta); /* rolls back itself on failure */

	tx_end(c);
	return rc;
}

void
catalog_tx_rollback(catalog_t *c)
{
	meta_rollback(c->meta);
	tx_end(c);
}

int
catalog_blob_delete(catalog_t *c, struct cblob *b)
{
	int rc = meta_blob_delete(c->meta, b->id);

	if (rc == 0)
		catalog_blob_forget(c, b);
	return rc;
}

void
catalog_blob_forget(catalog_t *c, struct cblob *b)
{
	unlink_later(c, b->id, 0);
	if (b->sealed) {
		c->nsealed--;
		c->blob_bytes -= b->size;
		catalog_blob_resident(c, b, 0);
		if (b->pinned)
			c->pinned_bytes -= b->size;
		if (b->spilled) {
			c->spilled_bytes -= b->size;
			unlink_later(c, b->id, 1);
		}
	} else {
		c->nunsealed--;
		catalog_blob_reserve(c, b, 0);
	}
	b->deleted = 1;
	b->owner = NULL;
	/* Still open as names/<n>: fstat answers nlink 0 until the release.
	 * Without memory for that, fstat says ENOENT, as it used to. */
	if (b->ghost_ino != 0 && (b->opens == 0 || hmap_insert(&c->ghosts, b->ghost_ino, b) != 0))
		b->ghost_ino = 0;
	catalog_dir_changed(c, INO_BLOBS);
	if (c->cfg.inval_attr != NULL) {
		c->cfg.inval_attr(c->cfg.hook_arg, b->id);
		if (b->ghost_ino != 0) /* fstat of names/<n> asks again: nlink 0 */
			c->cfg.inval_attr(c->cfg.hook_arg, b->ghost_ino);
	}
	if (c->cfg.inval_entry != NULL) {
		char name[ID_STR_LEN + 1];

		id_format(b->id, name);
		c->cfg.inval_entry(c->cfg.hook_arg, INO_BLOBS, name);
	}
	catalog_blob_maybe_free(c, b);
}

int
catalog_create_blob_object(catalog_t *c, const char *name, uid_t uid, gid_t gid, mode_t mode,
    struct catalog_attr *attr, uint64_t *blob_id, int *fd)
{
	struct cblob *b = NULL;
	struct cobject *o = NULL;
	int64_t now = util_now_ns();
	int rc;

	if ((rc = catalog_name_check(name)) != 0)
		return rc;
	*fd = -1;
	pthread_mutex_lock(&c->lock);
	if (catalog_name_find(c, name) != NULL) {
		rc = -EEXIST;
		goto out;
	}
	b = calloc(1, sizeof *b);
	o = calloc(1, sizeof *o);
	if (b == NULL || o == NULL || (o->typename = strdup(OBJECT_TYPE_BLOB)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	b->id = id_next_blob(&c->gen);
	b->uid = o->uid = uid;
	b->gid = o->gid = gid;
	b->mode = o->mode = mode & 07777;
	b->atime_ns = b->ctime_ns = b->mtime_ns = b->btime_ns = now;
	o->atime_ns = o->ctime_ns = o->mtime_ns = o->btime_ns = now;
	o->id = id_next_object(&c->gen);
	o->signature = o->id;
	if ((rc = store_blob_create(c->store, b->id, fd)) != 0)
		goto out;
	if ((rc = hmap_insert(&c->blobs, b->id, b)) != 0)
		goto out;
	if ((rc = hmap_insert(&c->objects, o->id, o)) != 0) {
		hmap_remove(&c->blobs, b->id, b);
		goto out;
	}
	if ((rc = catalog_attach_member(c, o, OBJECT_BLOB_MEMBER, b->id)) != 0 ||
	    (rc = catalog_attach_name(c, name, o)) != 0) {
		struct cname *n = catalog_name_find(c, name);

		if (n != NULL && n->obj == o)
			catalog_name_forget(c, n);
		hmap_remove(&c->objects, o->id, o);
		hmap_remove(&c->blobs, b->id, b);
		goto out;
	}
	b->opens = b->writers = 1;
	c->nunsealed++;
	c->creates++;
	c->opens++;
	catalog_dir_changed(c, INO_OBJECTS);
	catalog_dir_changed(c, INO_BLOBS);
	*blob_id = b->id;
	rc = 0;
	{
		struct catalog_attr a;

		memset(&a, 0, sizeof a);
		a.ino = ino_of(o->id, INO_VIEW_DATA);
		a.mode = S_IFREG | o->mode;
		a.uid = uid;
		a.gid = gid;
		a.nlink = 1;
		a.atime_ns = a.mtime_ns = a.ctime_ns = now;
		*attr = a;
	}
	b = NULL;
	o = NULL;
out:
	if (rc != 0 && *fd >= 0) {
		store_blob_remove(c->store, b->id);
		close(*fd);
		*fd = -1;
	}
	pthread_mutex_unlock(&c->lock);
	if (o != NULL)
		catalog_object_free(o);
	free(b);
	return rc;
}

/* The blob whose bytes ino shows, or NULL. */
static struct cblob *
data_blob_of(catalog_t *c, uint64_t ino)
{
	struct cobject *o;
	struct cblob *b;

	if (id_is_blob(ino))
		return (b = catalog_blob_find(c, ino)) != NULL && !b->deleted ? b : NULL;
	if (ino_view(ino) != INO_VIEW_DATA || (o = catalog_object_find(c, ino_id(ino))) == NULL)
		return NULL;
	return catalog_object_data_blob(c, o);
}

int
catalog_open_data(catalog_t *c, uint64_t ino, int writable, uint64_t *blob_id, int *fd)
{
	struct cblob *b;
	int rc;

	pthread_mutex_lock(&c->lock);
	if ((b = data_blob_of(c, ino)) == NULL) {
		rc = -ENOENT;
		goto out;
	}
	if (writable && b->sealed) {
		rc = -EPERM;
		goto out;
	}
	/* Another member's: its bytes come here first (catalog_remote_open). */
	if (b->remote && (rc = catalog_remote_open(c, b)) != 0)
		goto out;
	/* A spilled blob comes back into memory before the open completes. */
	if (b->sealed && (rc = catalog_spill_ensure_resident(c, b)) != 0)
		goto out;
	if ((rc = store_blob_open(c->store, b->id, writable ? O_RDWR : O_RDONLY, fd)) != 0)
		goto out;
	b->used_ns = util_now_ns();
	b->opens++;
	if (writable)
		b->writers++;
	c->opens++;
	*blob_id = b->id;
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
catalog_blob_fd(catalog_t *c, uint64_t blob_id, int writable, int *fd)
{
	struct cblob *b;
	int rc;

	pthread_mutex_lock(&c->lock);
	if ((b = catalog_blob_find(c, blob_id)) == NULL || b->deleted)
		rc = -ENOENT;
	else if (writable && b->sealed)
		rc = -EPERM;
	else if (b->remote && (rc = catalog_remote_open(c, b)) != 0)
		;
	else if ((rc = b->sealed ? catalog_spill_ensure_resident(c, b) : 0) == 0)
		rc = store_blob_open(c->store, b->id, writable ? O_RDWR : O_RDONLY, fd);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void
catalog_blob_discard_locked(catalog_t *c, struct cblob *b, const char *why)
{
	char ids[ID_STR_LEN + 1];
	int rc;

	id_format(b->id, ids);
	log_warn("blob %s discarded: %s", ids, why);
	if ((rc = catalog_tx_begin(c)) != 0)
		return;
	if (b->owner != NULL)
		rc = catalog_object_delete(c, b->owner, NULL, 0); /* unsealed: no members of its own */
	else
		rc = catalog_blob_delete(c, b);
	if (rc == 0 && !b->deleted)
		rc = catalog_blob_delete(c, b);
	if (rc == 0)
		rc = catalog_tx_commit(c);
	else
		catalog_tx_rollback(c);
	c->discards++;
}

int
catalog_blob_create(catalog_t *c, uid_t uid, gid_t gid, mode_t mode, uint64_t *blob_id, int *fd)
{
	struct cblob *b = calloc(1, sizeof *b);
	int rc;

	*fd = -1;
	if (b == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&c->lock);
	b->id = id_next_blob(&c->gen);
	b->uid = uid;
	b->gid = gid;
	b->mode = mode & 07777;
	b->atime_ns = b->ctime_ns = b->mtime_ns = b->btime_ns = util_now_ns();
	if ((rc = store_blob_create(c->store, b->id, fd)) == 0 &&
	    (rc = hmap_insert(&c->blobs, b->id, b)) != 0) {
		store_blob_remove(c->store, b->id);
		close(*fd);
		*fd = -1;
	}
	if (rc == 0) {
		b->opens = b->writers = 1;
		c->nunsealed++;
		c->creates++;
		catalog_dir_changed(c, INO_BLOBS);
		*blob_id = b->id;
		b = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	free(b);
	return rc;
}

void
catalog_blob_discard(catalog_t *c, uint64_t blob_id, const char *why)
{
	struct cblob *b;

	pthread_mutex_lock(&c->lock);
	if ((b = catalog_blob_find(c, blob_id)) != NULL) {
		if (!b->deleted && b->refs == 0)
			catalog_blob_discard_locked(c, b, why);
		if (b->writers > 0)
			b->writers--;
		if (b->opens > 0)
			b->opens--;
		catalog_blob_maybe_free(c, b);
	}
	pthread_mutex_unlock(&c->lock);
}

int
catalog_hold(catalog_t *c, uint64_t blob_id)
{
	struct cblob *b;
	int rc = -ENOENT;

	/* Not resident (spilled) is fine: the count only has to pair with
	 * the release to come. Not an open of ours: c->opens stays. Another
	 * member's blob too: a kept copy open in the kernel must not be
	 * dropped by the cache meanwhile (catalog_cache.c). */
	pthread_mutex_lock(&c->lock);
	if ((b = catalog_blob_find(c, blob_id)) != NULL && b->sealed && !b->deleted) {
		b->opens++;
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Set the times asked for on the file of an unsealed blob, where they are
 * kept until the seal (catalog_blob_stat). */
static int
file_times(catalog_t *c, const struct cblob *b, const struct catalog_set *set)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };

	if (set->atime_ns != CATALOG_KEEP)
		ts[0] = util_ns_ts(set->atime_ns);
	if (set->mtime_ns != CATALOG_KEEP)
		ts[1] = util_ns_ts(set->mtime_ns);
	return store_blob_set_times(c->store, b->id, ts);
}

/* Apply the owner, mode and times of set to one record's fields. */
#define SET_FIELDS(r, set, now)                                    \
	do {                                                       \
		if ((set)->mode != CATALOG_KEEP)                   \
			(r)->mode = (uint32_t)(set)->mode & 07777; \
		if ((set)->uid != CATALOG_KEEP)                    \
			(r)->uid = (uint32_t)(set)->uid;           \
		if ((set)->gid != CATALOG_KEEP)                    \
			(r)->gid = (uint32_t)(set)->gid;           \
		if ((set)->atime_ns != CATALOG_KEEP)               \
			(r)->atime_ns = (set)->atime_ns;           \
		if ((set)->mtime_ns != CATALOG_KEEP)               \
			(r)->mtime_ns = (set)->mtime_ns;           \
		(r)->ctime_ns = (now);                             \
	} while (0)

int
catalog_setattr(catalog_t *c, uint64_t ino, int fd, const struct catalog_set *set, struct catalog_attr *attr)
{
	struct cobject *o = NULL;
	struct cblob *b = NULL;
	int64_t now = util_now_ns();
	int rc = 0, own_fd = -1;

	/* The fixed directories: only their times change (rsync sets them). */
	if (ino >= INO_ROOT && ino <= CATALOG_LAST_DIR) {
		if (set->size != CATALOG_KEEP || set->mode != CATALOG_KEEP || set->uid != CATALOG_KEEP ||
		    set->gid != CATALOG_KEEP)
			return -EPERM;
		if ((rc = catalog_dir_set_times(c, ino, set->atime_ns, set->mtime_ns)) == 0)
			rc = catalog_getattr(c, ino, attr);
		return rc;
	}
	pthread_mutex_lock(&c->lock);
	if (id_is_blob(ino))
		b = data_blob_of(c, ino);
	else if ((o = catalog_object_find(c, ino_id(ino))) != NULL)
		b = ino_view(ino) == INO_VIEW_DATA ? catalog_object_data_blob(c, o) : NULL;
	if (b == NULL && o == NULL) {
		rc = -ENOENT;
		goto out;
	}
	if ((b != NULL && b->remote) || (o != NULL && o->remote)) {
		rc = -EREMOTE; /* another member's: its owner changes it */
		goto out;
	}
	if (set->size != CATALOG_KEEP) {
		/* Only data has a size to change, and only until the seal. */
		if (b == NULL)
			rc = ino_view(ino) == INO_VIEW_OBJECT ? -EISDIR : -EPERM;
		else if (b->sealed)
			rc = -EPERM;
		else if ((rc = catalog_blob_reserve(c, b, (uint64_t)set->size)) == 0 && fd < 0)
			rc = store_blob_open(c->store, b->id, O_RDWR, &own_fd);
		if (rc == 0 && ftruncate(fd >= 0 ? fd : own_fd, set->size) != 0)
			rc = -errno;
		if (rc != 0)
			goto out;
	}
	/* Ownership, mode and times belong to the object; a Blob object and
	 * its blob are one file under several names: they change together. */
	if (o == NULL && b->owner != NULL && catalog_object_data_blob(c, b->owner) == b)
		o = b->owner;
	if (b == NULL)
		b = catalog_object_data_blob(c, o);
	if (b != NULL && !b->sealed && (set->atime_ns != CATALOG_KEEP || set->mtime_ns != CATALOG_KEEP) &&
	    (rc = file_times(c, b, set)) != 0)
		goto out;
	if ((rc = catalog_tx_begin(c)) != 0)
		goto out;
	if (b != NULL)
		SET_FIELDS(b, set, now);
	if (o != NULL)
		SET_FIELDS(o, set, now);
	/* Unsealed records are written at their seal. */
	if ((b != NULL && (rc = catalog_blob_put(c, b)) != 0) ||
	    (o != NULL && (rc = catalog_object_put(c, o)) != 0)) {
		catalog_tx_rollback(c);
		goto out;
	}
	rc = catalog_tx_commit(c);
out:
	if (own_fd >= 0)
		close(own_fd);
	pthread_mutex_unlock(&c->lock);
	if (rc == 0)
		rc = catalog_getattr(c, ino, attr);
	return rc;
}
