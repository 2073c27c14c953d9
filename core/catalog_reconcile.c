/*
 * catalog_reconcile: make the catalog and the store agree at start-up. Metadata is
 * the source of truth for what exists, the files are the data:
 *  - a sealed blob whose file is present with its recorded size comes back;
 *  - an unsealed blob (its writer died with the daemon) is discarded: such
 *    blobs never reach the database, so they show as blob files it does not
 *    know; a database from an older daemon may still list some, and those
 *    are discarded with the objects built on them;
 *  - a sealed blob whose file is missing or has the wrong size is dropped
 *    with its objects (the tmpfs is lost at reboot), unless it was spilled
 *    and its spill file is there with the right size (catalog_spill.h): then it
 *    stays on disk until opened;
 *  - a spill file that the metadata records but that is missing or has the
 *    wrong size is forgotten when the blob is in memory (spilled again
 *    later if need be);
 *  - objects whose members are gone are dropped, except the members of
 *    another instance than the object's (a global object's: other
 *    members' records, which the mirror shows from the database at the
 *    open, or once etcd lists them, or never again if their owner
 *    deleted them; catalog_objects.c);
 *  - a fetched copy of another member's blob (catalog_fetch.c) is kept,
 *    resident, when the mirror shows that blob (catalog_mirror.c: the
 *    store is still a member of its cluster) and the copy has its size
 *    and CRC-32C (the published one, else the one it was fetched with),
 *    read whole here once; else it is removed, so that no copy holds
 *    memory that nothing accounts for;
 *  - other files the metadata does not know (orphans) are removed.
 * All metadata changes are one transaction; one log line gives the counts.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog_i.h"
#include "crc32c.h"
#include "log.h"
#include "vec.h"

#define CRC_CHUNK (1u << 20)

struct scan {
	catalog_t *c;
	struct hmap present; /* blob id -> (void *)1 */
	char **orphans;	     /* files to remove */
	size_t norphans, orphans_cap;
	size_t unsealed; /* of which blob files: writers that did not finish */
	size_t copies;	 /* of which other members' blobs no mirror shows */
	int err;
};

static int
scan_file(void *arg, const char *name, uint64_t id)
{
	struct scan *s = arg;
	struct cblob *b = id != 0 ? catalog_blob_find(s->c, id) : NULL;

	if (b != NULL)
		return hmap_insert(&s->present, id, b);
	if (id != 0 && id_instance(id) == s->c->instance)
		s->unsealed++;
	else if (id != 0)
		s->copies++;
	if (VEC_PUSH_ROOM(s->orphans, s->norphans, s->orphans_cap) != 0 ||
	    (s->orphans[s->norphans] = strdup(name)) == NULL)
		return -ENOMEM;
	s->norphans++;
	return 0;
}

/* A growing list of ids. */
struct ids {
	uint64_t *v;
	size_t n, cap;
	int err;
};

static void
ids_push(struct ids *l, uint64_t id)
{
	if (VEC_PUSH_ROOM(l->v, l->n, l->cap) != 0) {
		l->err = -ENOMEM;
		return;
	}
	l->v[l->n++] = id;
}

/* Blobs to drop, by id: dropping one may free others (an object holding
 * two bad blobs takes both with it), so each is looked up again. Blobs in
 * memory whose recorded spill file is bad: unspill. Fetched copies of
 * remote blobs that do not check out: their files go. */
struct pick {
	struct ids ids;
	struct ids unspill;
	struct ids bad_copies;
	size_t copies; /* kept */
	struct scan *s;
};

/* Is the store's file of remote blob b a whole copy of it: its size,
 * and its published CRC-32C? 0, or -errno with a log line saying why it
 * goes. */
static int
check_copy(catalog_t *c, const struct cblob *b)
{
	char ids[ID_STR_LEN + 1], *buf = NULL;
	uint64_t size, left;
	uint32_t crc = 0;
	ssize_t n;
	int fd = -1, rc;

	id_format(b->id, ids);
	if (!b->has_crc) {
		log_warn("removing the fetched copy of blob %s: no CRC-32C to check it against (published "
			 "none, and the daemon that fetched it did not stop cleanly)",
		    ids);
		return -ENODATA;
	}
	if ((rc = store_blob_size(c->store, b->id, &size)) != 0)
		return rc;
	if (size != b->size) {
		log_warn("removing the fetched copy of blob %s: %llu bytes, published %llu", ids,
		    (unsigned long long)size, (unsigned long long)b->size);
		return -EIO;
	}
	if ((rc = store_blob_open(c->store, b->id, O_RDONLY, &fd)) != 0)
		return rc;
	if ((buf = malloc(CRC_CHUNK)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (left = size; left > 0; left -= (uint64_t)n) {
		if ((n = read(fd, buf, left < CRC_CHUNK ? left : CRC_CHUNK)) <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		crc = crc32c_update(crc, buf, (size_t)n);
	}
	if (crc != b->crc32c) {
		log_warn(
		    "removing the fetched copy of blob %s: CRC-32C %08x, %08x expected", ids, crc, b->crc32c);
		rc = -EIO;
	}
out:
	if (rc != 0 && rc != -EIO)
		log_warn("removing the fetched copy of blob %s: %s", ids, strerror(-rc));
	free(buf);
	close(fd);
	return rc;
}

static void
pick_blob(void *value, void *arg)
{
	struct pick *p = arg;
	struct cblob *b = value;
	uint64_t size;

	int in_memory, on_disk;

	if (b->deleted)
		return;
	if (b->remote) {
		if (hmap_find(&p->s->present, b->id) == NULL)
			return; /* never fetched: its owner has the bytes */
		if (check_copy(p->s->c, b) == 0) {
			catalog_blob_resident(p->s->c, b, 1);
			p->copies++;
		} else
			ids_push(&p->bad_copies, b->id);
		return;
	}
	if (!b->sealed) {
		ids_push(&p->ids, b->id);
		return;
	}
	in_memory = hmap_find(&p->s->present, b->id) != NULL &&
		    store_blob_size(p->s->c->store, b->id, &size) == 0 && size == b->size;
	on_disk = b->spilled && catalog_spill_file_check(p->s->c, b) == 0;
	if (in_memory)
		catalog_blob_resident(p->s->c, b, 1);
	if (b->spilled && !on_disk && in_memory)
		ids_push(&p->unspill, b->id);
	if (!in_memory && !on_disk)
		ids_push(&p->ids, b->id);
}

/* Objects with a member that is gone, by id. */
struct dangling {
	struct ids ids;
	catalog_t *c;
};

static void
pick_dangling(void *value, void *arg)
{
	struct dangling *d = arg;
	struct cobject *o = value;
	unsigned i;

	if (o->remote)
		return; /* the mirror's: etcd settles what it holds */
	for (i = 0; i < o->nmembers; i++) {
		uint64_t id = o->members[i].id;

		if (id_instance(id) != id_instance(o->id))
			continue; /* a global object's: not ours to find */
		if (id_is_blob(id) ? catalog_blob_find(d->c, id) == NULL
				   : catalog_object_find(d->c, id) == NULL) {
			ids_push(&d->ids, o->id);
			return;
		}
	}
}

/* Delete blob id with its owner; other holders are left dangling and are
 * dropped after. Deleting the owner may free the blob: look it up again. */
static int
drop_blob(catalog_t *c, uint64_t id)
{
	struct cblob *b;
	int rc;

	while ((b = catalog_blob_find(c, id)) != NULL && !b->deleted) {
		if (b->owner == NULL)
			return catalog_blob_delete(c, b);
		if ((rc = catalog_object_delete(c, b->owner, NULL, 0)) != 0)
			return rc;
	}
	return 0;
}

int
catalog_reconcile(catalog_t *c)
{
	struct scan s = { .c = c };
	struct pick p = { .s = &s };
	struct dangling d = { .c = c };
	size_t i, unsealed = 0, missing = 0, objects_before = c->objects.count - c->nremote_objects;
	int rc;

	hmap_init(&s.present);
	if ((rc = store_scan(c->store, scan_file, &s)) != 0)
		goto out;
	hmap_foreach(&c->blobs, pick_blob, &p);
	if ((rc = p.ids.err) != 0 || (rc = p.unspill.err) != 0 || (rc = p.bad_copies.err) != 0)
		goto out;
	for (i = 0; i < p.bad_copies.n; i++)
		store_blob_remove(c->store, p.bad_copies.v[i]);
	if ((rc = catalog_tx_begin(c)) != 0)
		goto out;
	for (i = 0; i < p.unspill.n; i++) {
		struct cblob *b = catalog_blob_find(c, p.unspill.v[i]);
		char ids[ID_STR_LEN + 1];

		id_format(b->id, ids);
		log_warn("the spill file of blob %s is missing or has the wrong size; the blob is in memory, "
			 "so only the spill file is forgotten",
		    ids);
		b->spilled = 0;
		c->spilled_bytes -= b->size;
		if ((rc = catalog_blob_put(c, b)) != 0)
			goto fail_tx;
	}
	for (i = 0; i < p.ids.n; i++) {
		struct cblob *b = catalog_blob_find(c, p.ids.v[i]);
		char ids[ID_STR_LEN + 1];

		if (b == NULL || b->deleted)
			continue; /* went with an object dropped for another blob */
		id_format(b->id, ids);
		if (!b->sealed) {
			unsealed++;
			log_info("discarding unsealed blob %s (its writer did not finish)", ids);
		} else {
			missing++;
			log_error("sealed blob %s is missing or has the wrong size in %s%s; dropping "
				  "it and its objects",
			    ids, store_dir(c->store), b->spilled ? " and in the spill directory" : "");
		}
		if ((rc = drop_blob(c, b->id)) != 0)
			goto fail_tx;
	}
	/* Dropping an object can leave its parents dangling: repeat. */
	do {
		d.ids.n = 0;
		hmap_foreach(&c->objects, pick_dangling, &d);
		if ((rc = d.ids.err) != 0)
			goto fail_tx;
		for (i = 0; i < d.ids.n; i++) {
			struct cobject *o = catalog_object_find(c, d.ids.v[i]);
			char ids[ID_STR_LEN + 1];

			if (o == NULL)
				continue;
			id_format(o->id, ids);
			log_error("object %s has a member that no longer exists; dropping it", ids);
			if ((rc = catalog_object_delete(c, o, NULL, 0)) != 0)
				goto fail_tx;
		}
	} while (d.ids.n > 0);
	if ((rc = catalog_tx_commit(c)) != 0)
		goto out;
	for (i = 0; i < s.norphans; i++) {
		uint64_t id;

		if (id_parse(s.orphans[i], &id) == 0 && id_instance(id) != c->instance)
			log_info("removing %s, a fetched copy of a blob no mirror shows", s.orphans[i]);
		else if (id_parse(s.orphans[i], &id) == 0)
			log_info("discarding unsealed blob %s (its writer did not finish)", s.orphans[i]);
		else
			log_info("removing %s/%s: not a blob file", store_dir(c->store), s.orphans[i]);
		store_remove_name(c->store, s.orphans[i]);
	}
	log_info("reconciled: %llu sealed blobs kept, %zu unsealed discarded, %zu missing dropped, "
		 "%zu orphan files removed, %llu objects (%zu dropped), %zu fetched copies kept, %zu "
		 "removed",
	    (unsigned long long)c->nsealed, unsealed + s.unsealed, missing,
	    s.norphans - s.unsealed - s.copies, (unsigned long long)(c->objects.count - c->nremote_objects),
	    objects_before - (c->objects.count - c->nremote_objects), p.copies, p.bad_copies.n + s.copies);
	c->deletes = 0;
	goto out;
fail_tx:
	catalog_tx_rollback(c);
out:
	for (i = 0; i < s.norphans; i++)
		free(s.orphans[i]);
	free(s.orphans);
	free(p.ids.v);
	free(p.unspill.v);
	free(p.bad_copies.v);
	free(d.ids.v);
	hmap_destroy(&s.present);
	return rc;
}
