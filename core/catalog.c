/*
 * catalog: opening and closing the catalog (its records loaded from meta,
 * the store, the memory budget and the spill policy set up, the store
 * reconciled), the finders over its records, and its statistics. The
 * module is one over several files, sharing catalog_i.h: catalog_attr
 * (attributes, lookups, listings), catalog_data (blobs created, opened,
 * sealed), catalog_mem (writes and the memory limit), catalog_names
 * (names, unlink, rename), catalog_objects (composite objects, deletes),
 * catalog_xattr (extended attributes), catalog_snapshot (a snapshot's
 * consistent view), catalog_spill* (what to spill and when) and
 * catalog_reconcile (start-up recovery).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_i.h"
#include "log.h"
#include "object.h"
#include "util.h"
#include "vec.h"

#define META_DB "meta.db"
#define MEM_DIR "mem"

struct cblob *
catalog_blob_find(catalog_t *c, uint64_t id)
{
	return hmap_find(&c->blobs, id);
}

struct cobject *
catalog_object_find(catalog_t *c, uint64_t id)
{
	return hmap_find(&c->objects, id);
}

struct cname *
catalog_name_find(catalog_t *c, const char *name)
{
	struct hmap_node *pos = NULL;
	struct cname *n;
	uint64_t h = hmap_str_hash(name);

	while ((n = hmap_find_next(&c->names, h, &pos)) != NULL)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

struct cblob *
catalog_object_data_blob(catalog_t *c, const struct cobject *o)
{
	struct cblob *b;

	if (strcmp(o->typename, OBJECT_TYPE_BLOB) != 0 || o->nmembers != 1 || !id_is_blob(o->members[0].id))
		return NULL;
	b = catalog_blob_find(c, o->members[0].id);
	return b != NULL && !b->deleted ? b : NULL;
}

/* ---- loading ---- */

static int
load_blob(void *arg, const struct meta_blob *mb)
{
	catalog_t *c = arg;
	struct cblob *b = calloc(1, sizeof *b);

	if (b == NULL)
		return -ENOMEM;
	b->id = mb->id;
	b->size = mb->size;
	b->sealed = mb->sealed != 0;
	b->uid = mb->uid;
	b->gid = mb->gid;
	b->mode = mb->mode;
	b->ctime_ns = mb->ctime_ns;
	b->btime_ns = mb->btime_ns;
	b->mtime_ns = mb->mtime_ns;
	b->atime_ns = mb->atime_ns;
	b->used_ns = mb->mtime_ns;
	b->spilled = b->sealed && mb->spilled;
	b->has_crc = mb->has_crc;
	b->crc32c = mb->crc32c;
	b->pinned = b->sealed && mb->pinned;
	/* Residency: what reconcile finds in the store. */
	if (hmap_insert(&c->blobs, b->id, b) != 0) {
		free(b);
		return -ENOMEM;
	}
	if (b->sealed) {
		c->nsealed++;
		c->blob_bytes += b->size;
		if (b->pinned)
			c->pinned_bytes += b->size;
		if (b->spilled)
			c->spilled_bytes += b->size;
	} else
		c->nunsealed++;
	return 0;
}

static int
load_object(void *arg, const struct meta_object *mo)
{
	catalog_t *c = arg;
	struct cobject *o = calloc(1, sizeof *o);

	if (o == NULL)
		return -ENOMEM;
	o->id = mo->id;
	o->nbytes = mo->nbytes;
	o->signature = mo->signature;
	o->typename = strdup(mo->typename);
	o->fields = mo->fields != NULL && strcmp(mo->fields, "{}") != 0 ? strdup(mo->fields) : NULL;
	o->uid = mo->uid;
	o->gid = mo->gid;
	o->mode = mo->mode;
	o->ctime_ns = mo->ctime_ns;
	o->btime_ns = mo->btime_ns;
	o->mtime_ns = mo->mtime_ns;
	o->atime_ns = mo->atime_ns;
	o->sealed = mo->sealed != 0;
	if (o->typename == NULL || hmap_insert(&c->objects, o->id, o) != 0) {
		free(o->typename);
		free(o->fields);
		free(o);
		return -ENOMEM;
	}
	return 0;
}

int
catalog_attach_member(catalog_t *c, struct cobject *o, const char *name, uint64_t id)
{
	struct cobject *sub;
	struct cmember *m;
	struct cblob *b;

	if (VEC_PUSH_ROOM(o->members, o->nmembers, o->members_cap) != 0)
		return -ENOMEM;
	m = o->members;
	m[o->nmembers].name = strdup(name);
	if (m[o->nmembers].name == NULL)
		return -ENOMEM;
	m[o->nmembers].id = id;
	m[o->nmembers].hidden = 0;
	o->nmembers++;
	/* A local object (a global one) never holds a remote record back: its
	 * owner deletes it (catalog_objects.c). */
	if (id_is_blob(id) && (b = catalog_blob_find(c, id)) != NULL && b->remote == o->remote) {
		b->refs++;
		if (b->owner == NULL)
			b->owner = o;
	} else if (!id_is_blob(id) && (sub = catalog_object_find(c, id)) != NULL && sub->remote == o->remote)
		sub->parents++;
	return 0;
}

static int
load_member(void *arg, uint64_t object_id, const char *name, uint64_t member_id)
{
	catalog_t *c = arg;
	struct cobject *o = catalog_object_find(c, object_id);

	return o != NULL ? catalog_attach_member(c, o, name, member_id) : 0;
}

int
catalog_attach_name(catalog_t *c, const char *name, struct cobject *o)
{
	struct cname *n = calloc(1, sizeof *n);

	if (n == NULL || (n->name = strdup(name)) == NULL)
		goto nomem;
	if (VEC_PUSH_ROOM(o->names, o->nnames, o->names_cap) != 0)
		goto nomem;
	if (hmap_insert(&c->names, hmap_str_hash(name), n) != 0)
		goto nomem;
	n->obj = o;
	o->names[o->nnames++] = n->name;
	catalog_dir_changed(c, INO_NAMES);
	return 0;
nomem:
	if (n != NULL)
		free(n->name);
	free(n);
	return -ENOMEM;
}

static int
load_name(void *arg, const char *name, uint64_t object_id)
{
	catalog_t *c = arg;
	struct cobject *o = catalog_object_find(c, object_id);

	return o != NULL ? catalog_attach_name(c, name, o) : 0;
}

static int
choose_instance(catalog_t *c, int wanted)
{
	char *v = NULL, buf[16];
	int rc = meta_config_get(c->meta, "instance_id", &v);
	unsigned inst;

	if (rc != 0 && rc != -ENOENT)
		return rc;
	if (wanted >= 0) {
		inst = (unsigned)wanted;
		if (v != NULL && (unsigned)atoi(v) != inst)
			log_warn("instance id changes from %s to %u: ids of this store now come "
				 "from instance %u",
			    v, inst, inst);
	} else if (v != NULL)
		inst = (unsigned)atoi(v) & ID_INSTANCE_MAX;
	else {
		uint16_t r = 0;

		if (getrandom(&r, sizeof r, 0) != sizeof r)
			r = (uint16_t)getpid();
		inst = r & ID_INSTANCE_MAX;
		log_info("first start of this store: instance id %u", inst);
	}
	free(v);
	c->instance = inst;
	snprintf(buf, sizeof buf, "%u", inst);
	return meta_config_set(c->meta, "instance_id", buf);
}

int
catalog_open(const struct catalog_config *cfg, catalog_t **out)
{
	catalog_t *c = calloc(1, sizeof *c);
	static const struct meta_load_ops load_ops = {
		.blob = load_blob,
		.object = load_object,
		.member = load_member,
		.name = load_name,
	};
	char path[4096];
	uint64_t last = 0;
	int rc, i;

	if (c == NULL)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->meta_lock, NULL);
	pthread_cond_init(&c->load_cond, NULL);
	hmap_init(&c->blobs);
	hmap_init(&c->objects);
	hmap_init(&c->names);
	hmap_init(&c->ghosts);
	hmap_init(&c->rmembers);
	c->cfg = *cfg;
	for (i = 0; i <= CATALOG_LAST_DIR; i++) {
		atomic_init(&c->dir[i].atime_ns, util_now_ns());
		atomic_init(&c->dir[i].mtime_ns, atomic_load(&c->dir[i].atime_ns));
		atomic_init(&c->dir[i].ctime_ns, atomic_load(&c->dir[i].atime_ns));
	}
	if ((rc = util_mkdirs(cfg->state_dir, 0755)) != 0) {
		log_error("cannot create state dir %s: %s", cfg->state_dir, strerror(-rc));
		goto fail;
	}
	snprintf(path, sizeof path, "%s/%s", cfg->state_dir, META_DB);
	if ((rc = meta_open(path, &c->meta)) != 0)
		goto fail;
	if (cfg->backing_dir != NULL)
		rc = store_open(cfg->backing_dir, cfg->memory_limit, 0, &c->store);
	else {
		snprintf(path, sizeof path, "%s/%s", cfg->state_dir, MEM_DIR);
		rc = store_open(
		    path, cfg->memory_limit, STORE_MOUNT | (cfg->huge_pages ? STORE_HUGE : 0), &c->store);
	}
	if (rc != 0 || (rc = mem_create(cfg->memory_limit, c->store, &c->mem)) != 0)
		goto fail;
	if ((rc = choose_instance(c, cfg->instance_id)) != 0)
		goto fail;
	if ((rc = meta_max_id(c->meta, c->instance, &last)) != 0)
		goto fail;
	id_gen_init(&c->gen, c->instance, last);
	if ((rc = meta_load(c->meta, &load_ops, c)) != 0)
		goto fail;
	/* Before reconciling: the store's fetched copies are its blobs'. */
	if ((rc = catalog_mirror_open(c)) != 0)
		goto fail;
	if ((rc = catalog_spill_open(c)) != 0)
		goto fail;
	if ((rc = catalog_reconcile(c)) != 0)
		goto fail;
	if (cfg->opened != NULL)
		cfg->opened(cfg->hook_arg, c);
	if ((rc = catalog_spill_start(c)) != 0 || (rc = catalog_sealer_start(c)) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	catalog_close(c);
	return rc;
}

void
catalog_object_free(struct cobject *o)
{
	unsigned i;

	for (i = 0; i < o->nmembers; i++)
		free(o->members[i].name);
	free(o->members);
	free(o->names);
	free(o->typename);
	free(o->fields);
	free(o);
}

static void
free_blob(void *v, void *arg)
{
	(void)arg;
	free(v);
}

static void
free_object(void *v, void *arg)
{
	(void)arg;
	catalog_object_free(v);
}

static void
free_name(void *v, void *arg)
{
	struct cname *n = v;

	(void)arg;
	free(n->name);
	free(n);
}

void
catalog_close(catalog_t *c)
{
	if (c == NULL)
		return;
	catalog_sealer_stop(c); /* commits the seals still queued */
	catalog_spill_close(c);
	catalog_remote_free(c);
	hmap_foreach(&c->names, free_name, NULL);
	hmap_foreach(&c->objects, free_object, NULL);
	hmap_foreach(&c->blobs, free_blob, NULL);
	hmap_destroy(&c->names);
	hmap_destroy(&c->ghosts);
	hmap_destroy(&c->objects);
	hmap_destroy(&c->blobs);
	free(c->unlinks.v);
	meta_close(c->meta);
	mem_destroy(c->mem);
	store_close(c->store);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->meta_lock);
	pthread_cond_destroy(&c->load_cond);
	free(c);
}

int
catalog_data_blob(catalog_t *c, uint64_t ino, uint64_t *blob_id)
{
	struct cobject *o;
	struct cblob *b = NULL;

	pthread_mutex_lock(&c->lock);
	if (id_is_blob(ino))
		b = catalog_blob_find(c, ino);
	else if (ino_view(ino) == INO_VIEW_DATA && (o = catalog_object_find(c, ino_id(ino))) != NULL)
		b = catalog_object_data_blob(c, o);
	if (b != NULL)
		*blob_id = b->id;
	pthread_mutex_unlock(&c->lock);
	return b != NULL ? 0 : -ENOENT;
}

void
catalog_stats(catalog_t *c, struct catalog_stats *st)
{
	memset(st, 0, sizeof *st);
	pthread_mutex_lock(&c->lock);
	st->instance_id = c->instance;
	st->memory_limit = c->cfg.memory_limit;
	st->memory_used = mem_used_now(c->mem);
	st->bytes_sealed = c->blob_bytes;
	st->bytes_resident = mem_resident(c->mem);
	st->bytes_releasing = mem_releasing(c->mem);
	st->bytes_spilled = c->spilled_bytes;
	st->bytes_pinned = c->pinned_bytes;
	catalog_spill_stats(c, st);
	/* Local records only: the mirror counts its own (catalog_remote.h). */
	st->objects = c->objects.count - c->nremote_objects;
	st->blobs = c->nsealed + c->nunsealed;
	st->blobs_sealed = c->nsealed;
	st->blobs_unsealed = c->nunsealed;
	st->names = c->names.count - c->nremote_names;
	st->creates = c->creates;
	st->seals = c->seals;
	st->discards = c->discards;
	st->deletes = c->deletes;
	st->opens = c->opens;
	pthread_mutex_unlock(&c->lock);
	catalog_seal_stats(c, st);
}
