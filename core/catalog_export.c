/*
 * catalog_export: what this member publishes of its own objects (the
 * objects/ values of cluster.h's key layout, with their names), and the
 * list of sealed local objects that --publish-all publishes. Every
 * function takes the catalog lock and hands back copies. A global
 * object's remote members (catalog_objects.c) are in its "tree", expanded
 * as the mirror shows them, and their blobs in "blobs" (sizes, CRCs), but
 * are never exported as ours: their owners publish them, and a receiver
 * makes no record from such a copy (catalog_remote.c's ingest).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_i.h"
#include "catalog_remote.h"
#include "vec.h"

struct export
{
	struct catalog_export *v;
	size_t n, cap;
};

/* The blobs of o's tree: b<id> -> {"size", "crc32c" when known}. */
static void
tree_blobs(catalog_t *c, const struct cobject *o, json_t *blobs, int depth)
{
	char ids[ID_STR_LEN + 1];
	struct cobject *sub;
	struct cblob *b;
	unsigned i;

	for (i = 0; i < o->nmembers && depth < CATALOG_TREE_DEPTH; i++) {
		uint64_t id = o->members[i].id;

		if (id_is_blob(id) && (b = catalog_blob_find(c, id)) != NULL) {
			json_t *info = json_pack("{s:I}", "size", (json_int_t)b->size);

			if (info != NULL && b->has_crc)
				json_object_set_new(info, "crc32c", json_integer(b->crc32c));
			id_format(id, ids);
			json_object_set_new(blobs, ids, info);
		} else if (!id_is_blob(id) && (sub = catalog_object_find(c, id)) != NULL)
			tree_blobs(c, sub, blobs, depth + 1);
	}
}

static int
export_one(catalog_t *c, const struct cobject *o, struct export *x, int depth)
{
	struct catalog_export *e;
	json_t *doc, *blobs = json_object();
	struct cobject *sub;
	unsigned i;
	int rc;

	if (blobs == NULL)
		return -ENOMEM;
	tree_blobs(c, o, blobs, 0);
	doc = json_pack("{s:i, s:o, s:o}", "owner", (int)c->instance, "tree", catalog_object_tree(c, o, 0),
	    "blobs", blobs);
	if (doc == NULL || (rc = VEC_PUSH_ROOM(x->v, x->n, x->cap)) != 0) {
		json_decref(doc);
		return -ENOMEM;
	}
	e = &x->v[x->n];
	memset(e, 0, sizeof *e);
	e->id = o->id;
	e->value = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (e->value == NULL)
		return -ENOMEM;
	e->len = strlen(e->value);
	x->n++;
	if (o->nnames > 0 && (e->names = calloc(o->nnames, sizeof *e->names)) == NULL)
		return -ENOMEM;
	for (i = 0; i < o->nnames; i++) {
		if ((e->names[i] = strdup(o->names[i])) == NULL)
			return -ENOMEM;
		e->nnames++;
	}
	for (i = 0; i < o->nmembers && depth < CATALOG_TREE_DEPTH; i++) {
		uint64_t id = o->members[i].id;

		if (!id_is_blob(id) && (sub = catalog_object_find(c, id)) != NULL && !sub->remote &&
		    catalog_object_sealed(sub) && (rc = export_one(c, sub, x, depth + 1)) != 0)
			return rc;
	}
	return 0;
}

int
catalog_remote_export(catalog_t *c, uint64_t id, struct catalog_export **out, size_t *n)
{
	struct export x = { 0 };
	struct cobject *o;
	int rc;

	pthread_mutex_lock(&c->lock);
	if (id_is_blob(id) || (o = catalog_object_find(c, id)) == NULL)
		rc = -ENOENT;
	else if (o->remote)
		rc = -EREMOTE;
	else if (!catalog_object_sealed(o))
		rc = -EAGAIN;
	else
		rc = export_one(c, o, &x, 0);
	pthread_mutex_unlock(&c->lock);
	if (rc != 0) {
		catalog_export_free(x.v, x.n);
		return rc;
	}
	*out = x.v;
	*n = x.n;
	return 0;
}

void
catalog_export_free(struct catalog_export *v, size_t n)
{
	size_t i;
	unsigned k;

	for (i = 0; i < n; i++) {
		free(v[i].value);
		for (k = 0; k < v[i].nnames; k++)
			free(v[i].names[k]);
		free(v[i].names);
	}
	free(v);
}

struct local {
	void (*fn)(void *arg, uint64_t id);
	void *arg;
};

static void
local_object(void *v, void *arg)
{
	struct cobject *o = v;
	struct local *l = arg;

	if (!o->remote && catalog_object_sealed(o))
		l->fn(l->arg, o->id);
}

void
catalog_remote_local_objects(catalog_t *c, void (*fn)(void *arg, uint64_t id), void *arg)
{
	struct local l = { fn, arg };

	pthread_mutex_lock(&c->lock);
	hmap_foreach(&c->objects, local_object, &l);
	pthread_mutex_unlock(&c->lock);
}
