/*
 * catalog_remote: other members' published objects as remote records of
 * the catalog (catalog_remote.h): the mirror, and what it shows (location,
 * stats). What this member publishes is catalog_export.c; how a remote
 * blob's bytes come is catalog_fetch.c; the mirror's keys in the database,
 * and the dispatch of a key to the functions here, catalog_mirror.c.
 * Every function here takes the
 * catalog lock; the records it makes
 * live in the catalog's own tables, marked remote, and are freed when
 * their key goes, when a re-list no longer shows them, or at close.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_i.h"
#include "catalog_remote.h"
#include "log.h"
#include "object.h"
#include "util.h"
#include "vec.h"

/* Mode of remote records: readable by all (the cluster published them),
 * writable by none. */
#define REMOTE_MODE 0444

/* Parse meta.json's "ctime" (object_format_time's form) back into ns. */
static int64_t
parse_time(const char *s)
{
	struct tm tm = { 0 };
	char frac[16] = "";
	int64_t ns = 0;
	size_t i;

	if (s == NULL || sscanf(s, "%d-%d-%dT%d:%d:%d.%9[0-9]Z", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, frac) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	for (i = 0; i < 9; i++)
		ns = ns * 10 + (i < strlen(frac) ? frac[i] - '0' : 0);
	return (int64_t)timegm(&tm) * 1000000000 + ns;
}

static void
inval_views(catalog_t *c, uint64_t id)
{
	static const enum ino_view views[] = { INO_VIEW_OBJECT, INO_VIEW_DATA, INO_VIEW_META,
		INO_VIEW_NAME_LINK, INO_VIEW_MEMBER_LINK };
	size_t v;

	if (c->cfg.inval_attr == NULL)
		return;
	for (v = 0; v < sizeof views / sizeof views[0]; v++)
		c->cfg.inval_attr(c->cfg.hook_arg, ino_of(id, views[v]));
}

static void
inval_entry(catalog_t *c, uint64_t dir, const char *name)
{
	if (c->cfg.inval_entry != NULL)
		c->cfg.inval_entry(c->cfg.hook_arg, dir, name);
}

/* Attach a member to remote o: counts only remote records (a remote
 * object never holds a local one back from deletion). */
static int
attach(catalog_t *c, struct cobject *o, const char *name, uint64_t id)
{
	struct cobject *sub;
	struct cblob *b;

	if (VEC_PUSH_ROOM(o->members, o->nmembers, o->members_cap) != 0)
		return -ENOMEM;
	if ((o->members[o->nmembers].name = strdup(name)) == NULL)
		return -ENOMEM;
	o->members[o->nmembers].id = id;
	o->members[o->nmembers].hidden = 0;
	o->nmembers++;
	if (id_is_blob(id) && (b = catalog_blob_find(c, id)) != NULL && b->remote) {
		b->refs++;
		if (b->owner == NULL)
			b->owner = o;
	} else if (!id_is_blob(id) && (sub = catalog_object_find(c, id)) != NULL && sub->remote)
		sub->parents++;
	return 0;
}

/* The remote blob record of a member tree, made if new. */
static int
ingest_blob(catalog_t *c, uint64_t id, const json_t *tree, const json_t *blobs, int64_t when)
{
	char ids[ID_STR_LEN + 1];
	const json_t *info;
	struct cblob *b;

	if (catalog_blob_find(c, id) != NULL)
		return 0;
	if ((b = calloc(1, sizeof *b)) == NULL)
		return -ENOMEM;
	id_format(id, ids);
	info = json_object_get(blobs, ids);
	b->id = id;
	b->remote = 1;
	b->sealed = 1;
	b->mode = REMOTE_MODE;
	b->size = (uint64_t)json_integer_value(json_object_get(tree, "nbytes"));
	if (json_is_integer(json_object_get(info, "size")))
		b->size = (uint64_t)json_integer_value(json_object_get(info, "size"));
	if (json_is_integer(json_object_get(info, "crc32c"))) {
		b->has_crc = 1;
		b->crc32c = (uint32_t)json_integer_value(json_object_get(info, "crc32c"));
	}
	b->atime_ns = b->mtime_ns = b->ctime_ns = b->btime_ns = when;
	if (hmap_insert(&c->blobs, id, b) != 0) {
		free(b);
		return -ENOMEM;
	}
	return 0;
}

static void bind_pending(catalog_t *c, struct cobject *o);

/* Mirror one object's tree (and its member trees) published by instance
 * owner; *out the record, or NULL when the id is local. */
static int
ingest(catalog_t *c, const json_t *tree, const json_t *blobs, unsigned owner, uint32_t gen, int depth,
    struct cobject **out)
{
	const char *ids = json_string_value(json_object_get(tree, "id"));
	const char *tn = json_string_value(json_object_get(tree, "typename"));
	json_t *fields = NULL, *v;
	struct cobject *o, *sub;
	const char *key;
	uint64_t id, mid;
	int fresh, rc = 0;
	char name[ID_STR_LEN + 1];

	*out = NULL;
	if (ids == NULL || tn == NULL || id_parse(ids, &id) != 0 || id_is_blob(id) ||
	    depth > CATALOG_TREE_DEPTH)
		return -EINVAL;
	if ((o = catalog_object_find(c, id)) != NULL && !o->remote)
		return 0; /* ours (or an instance id shared, refused at join) */
	if ((fresh = o == NULL)) {
		if ((o = calloc(1, sizeof *o)) == NULL || (o->typename = strdup(tn)) == NULL) {
			free(o);
			return -ENOMEM;
		}
		o->id = id;
		o->remote = 1;
		o->sealed = 1;
		o->mode = REMOTE_MODE;
		o->signature = (uint64_t)json_integer_value(json_object_get(tree, "signature"));
		o->nbytes = (uint64_t)json_integer_value(json_object_get(tree, "nbytes"));
		o->btime_ns = parse_time(json_string_value(json_object_get(tree, "ctime")));
		o->atime_ns = o->mtime_ns = o->ctime_ns = o->btime_ns;
		if ((fields = json_object()) == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	o->rgen = gen;
	/* Members are trees with an id and a typename; the rest are fields.
	 * A global object's member of another instance may come as its id
	 * alone ({"id": ...}, as catalog_object_tree shows a member the
	 * publisher's mirror did not show then). */
	json_object_foreach ((json_t *)tree, key, v) {
		const char *mids = json_string_value(json_object_get(v, "id"));
		int typed = json_is_string(json_object_get(v, "typename"));

		if (object_tree_key(key))
			continue;
		if (!json_is_object(v) || mids == NULL || id_parse(mids, &mid) != 0 ||
		    !(typed || (json_object_size(v) == 1 && id_instance(mid) != owner))) {
			if (fresh && json_object_set(fields, key, v) != 0)
				rc = -ENOMEM;
		} else if (id_instance(mid) != owner) {
			/* A global object's member, another instance's (ours
			 * included): its owner publishes it under its own key, and
			 * a copy of its tree must neither make a record of it here
			 * nor bring one back once its owner deleted it. */
			if (fresh)
				rc = attach(c, o, key, mid);
		} else if (id_is_blob(mid)) {
			if (fresh && (rc = ingest_blob(c, mid, v, blobs, o->btime_ns)) == 0)
				rc = attach(c, o, key, mid);
		} else if ((rc = ingest(c, v, blobs, owner, gen, depth + 1, &sub)) == 0 && fresh)
			rc = attach(c, o, key, mid);
		if (rc != 0)
			goto fail;
	}
	if (fresh) {
		o->fields = object_fields_dump(fields);
		json_decref(fields);
		fields = NULL;
		if (hmap_insert(&c->objects, id, o) != 0) {
			rc = -ENOMEM;
			goto fail;
		}
		c->nremote_objects++;
		id_format(id, name);
		inval_entry(c, INO_OBJECTS, name); /* a negative entry the kernel cached */
		catalog_dir_changed(c, INO_OBJECTS);
		bind_pending(c, o);
	}
	*out = o;
	return 0;
fail:
	json_decref(fields);
	if (fresh)
		catalog_object_free(o); /* its blobs stay, unheld, until the sweep of a re-list */
	return rc;
}

int
catalog_remote_object_put(catalog_t *c, const char *value, size_t len, uint32_t gen)
{
	json_t *doc = json_loadb(value, len, 0, NULL);
	const json_t *tree = json_object_get(doc, "tree");
	struct cobject *o;
	uint64_t id;
	unsigned owner;
	int rc;

	if (!json_is_object(tree)) {
		json_decref(doc);
		return -EINVAL;
	}
	if (json_integer_value(json_object_get(doc, "owner")) == (json_int_t)c->instance &&
	    json_is_integer(json_object_get(doc, "owner"))) {
		json_decref(doc);
		return 0;
	}
	/* The publisher: the member trees of its own are its to show here. */
	if (json_is_integer(json_object_get(doc, "owner")))
		owner = (unsigned)json_integer_value(json_object_get(doc, "owner"));
	else
		owner =
		    id_parse(json_string_value(json_object_get(tree, "id")), &id) == 0 ? id_instance(id) : 0;
	pthread_mutex_lock(&c->lock);
	rc = ingest(c, tree, json_object_get(doc, "blobs"), owner, gen, 0, &o);
	pthread_mutex_unlock(&c->lock);
	json_decref(doc);
	return rc;
}

/* Drop remote object o with its names; its blobs go with their last
 * remote holder. */
static void
drop_object(catalog_t *c, struct cobject *o)
{
	char name[ID_STR_LEN + 1];
	struct cobject *sub;
	struct cblob *b;
	unsigned i;

	while (o->nnames > 0) {
		struct cname *n = catalog_name_find(c, o->names[0]);

		inval_entry(c, INO_NAMES, n->name);
		catalog_name_forget(c, n);
		c->nremote_names--;
	}
	for (i = 0; i < o->nmembers; i++) {
		uint64_t id = o->members[i].id;

		if (id_is_blob(id) && (b = catalog_blob_find(c, id)) != NULL && b->remote) {
			if (b->owner == o)
				b->owner = NULL;
			if (b->refs > 0 && --b->refs == 0) {
				id_format(id, name);
				if (c->cfg.inval_attr != NULL)
					c->cfg.inval_attr(c->cfg.hook_arg, id);
				inval_entry(c, INO_BLOBS, name);
				/* A fetched copy goes with it; an open or a fetch
				 * under way keeps the record until it ends. */
				if (b->resident) {
					store_blob_remove(c->store, b->id);
					catalog_blob_resident(c, b, 0);
				}
				b->deleted = 1;
				catalog_blob_maybe_free(c, b);
			}
		} else if (!id_is_blob(id) && (sub = catalog_object_find(c, id)) != NULL && sub->remote &&
			   sub->parents > 0)
			sub->parents--;
	}
	id_format(o->id, name);
	inval_views(c, o->id);
	inval_entry(c, INO_OBJECTS, name);
	hmap_remove(&c->objects, o->id, o);
	catalog_object_free(o);
	c->nremote_objects--;
	catalog_dir_changed(c, INO_OBJECTS);
}

int
catalog_remote_object_delete(catalog_t *c, uint64_t id)
{
	struct cobject *o;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if ((o = catalog_object_find(c, id)) == NULL || !o->remote)
		rc = -ENOENT;
	else
		drop_object(c, o);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static void
pending_drop(catalog_t *c, size_t i)
{
	free(c->rpending[i].name);
	c->rpending[i] = c->rpending[--c->nrpending];
}

static int
bind_name(catalog_t *c, const char *name, struct cobject *o, uint32_t gen)
{
	struct cname *n;
	int rc;

	if ((rc = catalog_attach_name(c, name, o)) != 0)
		return rc;
	n = catalog_name_find(c, name);
	n->rgen = gen;
	c->nremote_names++;
	inval_entry(c, INO_NAMES, name);
	catalog_names_changed(c, 0);
	return 0;
}

/* Names that waited for o. */
static void
bind_pending(catalog_t *c, struct cobject *o)
{
	size_t i = 0;

	while (i < c->nrpending) {
		if (c->rpending[i].id != o->id) {
			i++;
			continue;
		}
		if (catalog_name_find(c, c->rpending[i].name) == NULL)
			bind_name(c, c->rpending[i].name, o, c->rpending[i].rgen);
		pending_drop(c, i);
	}
}

int
catalog_remote_name_put(catalog_t *c, const char *name, uint64_t id, uint32_t gen)
{
	struct cobject *o;
	struct cname *n;
	size_t i;
	int rc = 0;

	if ((rc = catalog_name_check(name)) != 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	if ((n = catalog_name_find(c, name)) != NULL) {
		if (!n->obj->remote) {
			log_debug("cluster: name %s is local here; the remote one is not shown", name);
			goto out;
		}
		if (n->obj->id == id) {
			n->rgen = gen;
			goto out;
		}
		inval_entry(c, INO_NAMES, name);
		catalog_name_forget(c, n);
		c->nremote_names--;
	}
	if ((o = catalog_object_find(c, id)) != NULL) {
		if (o->remote)
			rc = bind_name(c, name, o, gen);
		goto out;
	}
	for (i = 0; i < c->nrpending; i++)
		if (strcmp(c->rpending[i].name, name) == 0) {
			c->rpending[i].id = id;
			c->rpending[i].rgen = gen;
			goto out;
		}
	if ((rc = VEC_PUSH_ROOM(c->rpending, c->nrpending, c->rpending_cap)) != 0)
		goto out;
	if ((c->rpending[c->nrpending].name = strdup(name)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	c->rpending[c->nrpending].id = id;
	c->rpending[c->nrpending++].rgen = gen;
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
catalog_remote_name_delete(catalog_t *c, const char *name)
{
	struct cname *n;
	size_t i;

	pthread_mutex_lock(&c->lock);
	if ((n = catalog_name_find(c, name)) != NULL && n->obj->remote) {
		inval_entry(c, INO_NAMES, name);
		catalog_name_forget(c, n);
		c->nremote_names--;
	}
	for (i = 0; i < c->nrpending; i++)
		if (strcmp(c->rpending[i].name, name) == 0) {
			pending_drop(c, i);
			break;
		}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int
catalog_remote_member_set(catalog_t *c, unsigned instance, const char *node, int live, uint32_t gen)
{
	struct crmember *m;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if ((m = hmap_find(&c->rmembers, instance)) == NULL) {
		if ((m = calloc(1, sizeof *m)) == NULL || hmap_insert(&c->rmembers, instance, m) != 0) {
			free(m);
			rc = -ENOMEM;
			goto out;
		}
		m->instance = instance;
	}
	if (node != NULL && (m->node == NULL || strcmp(m->node, node) != 0)) {
		free(m->node);
		m->node = strdup(node);
	}
	m->live = live;
	m->rgen = gen;
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* ---- sweeping and clearing ---- */

struct sweep {
	catalog_t *c;
	uint32_t gen;
	int all;
	struct cobject **objs;
	size_t n, cap;
	char **names;
	size_t nn, ncap;
	int err;
};

static void
sweep_object(void *v, void *arg)
{
	struct sweep *s = arg;
	struct cobject *o = v;

	if (!o->remote || (!s->all && o->rgen == s->gen) || s->err)
		return;
	if ((s->err = VEC_PUSH_ROOM(s->objs, s->n, s->cap)) == 0)
		s->objs[s->n++] = o;
}

static void
sweep_name(void *v, void *arg)
{
	struct sweep *s = arg;
	struct cname *n = v;

	if (!n->obj->remote || (!s->all && n->rgen == s->gen) || s->err)
		return;
	if ((s->err = VEC_PUSH_ROOM(s->names, s->nn, s->ncap)) == 0)
		s->names[s->nn++] = n->name;
}

static void
sweep_member(void *v, void *arg)
{
	struct sweep *s = arg;
	struct crmember *m = v;

	if (s->all || m->rgen != s->gen)
		m->live = 0;
}

static void
sweep(catalog_t *c, uint32_t gen, int all)
{
	struct sweep s = { .c = c, .gen = gen, .all = all };
	size_t i;

	pthread_mutex_lock(&c->lock);
	hmap_foreach(&c->names, sweep_name, &s);
	for (i = 0; i < s.nn; i++) {
		struct cname *n = catalog_name_find(c, s.names[i]);

		inval_entry(c, INO_NAMES, n->name);
		catalog_name_forget(c, n);
		c->nremote_names--;
	}
	hmap_foreach(&c->objects, sweep_object, &s);
	/* Parents first would leave dangling counts only; any order works,
	 * since drop_object looks members up by id. */
	for (i = 0; i < s.n; i++)
		drop_object(c, s.objs[i]);
	for (i = 0; i < c->nrpending;)
		if (all || c->rpending[i].rgen != gen)
			pending_drop(c, i);
		else
			i++;
	hmap_foreach(&c->rmembers, sweep_member, &s);
	pthread_mutex_unlock(&c->lock);
	if (s.err)
		log_warn("cluster: mirror sweep: %s", strerror(-s.err));
	free(s.objs);
	free(s.names);
}

void
catalog_remote_sweep(catalog_t *c, uint32_t gen)
{
	sweep(c, gen, 0);
}

void
catalog_remote_clear(catalog_t *c)
{
	sweep(c, 0, 1);
}

static void
free_member(void *v, void *arg)
{
	struct crmember *m = v;

	(void)arg;
	free(m->node);
	free(m);
}

void
catalog_remote_free(catalog_t *c)
{
	size_t i;

	catalog_mirror_close(c); /* the copies stay in the store: their CRCs */
	hmap_foreach(&c->rmembers, free_member, NULL);
	hmap_destroy(&c->rmembers);
	for (i = 0; i < c->nrpending; i++)
		free(c->rpending[i].name);
	free(c->rpending);
}

/* ---- what the mirror shows ---- */

int
catalog_remote_owner_live(catalog_t *c, uint64_t id, const char **node)
{
	struct crmember *m = hmap_find(&c->rmembers, id_instance(id));

	*node = m != NULL ? m->node : NULL;
	return m != NULL && m->live;
}

char *
catalog_remote_location(catalog_t *c, uint64_t id)
{
	const char *node;
	int live = catalog_remote_owner_live(c, id, &node);
	char *s;
	int rc;

	if (node != NULL)
		rc = asprintf(&s, "remote:%s%s", node, live ? "" : ",unavailable");
	else
		rc = asprintf(&s, "remote:instance-%u%s", id_instance(id), live ? "" : ",unavailable");
	return rc < 0 ? NULL : s;
}

int
catalog_remote_is(catalog_t *c, uint64_t id, int *live)
{
	const char *node;
	struct cobject *o;
	struct cblob *b;
	int remote;

	pthread_mutex_lock(&c->lock);
	if (id_is_blob(id))
		remote = (b = catalog_blob_find(c, id)) != NULL && b->remote;
	else
		remote = (o = catalog_object_find(c, id)) != NULL && o->remote;
	if (remote && live != NULL)
		*live = catalog_remote_owner_live(c, id, &node);
	pthread_mutex_unlock(&c->lock);
	return remote;
}

static void
count_blob(void *v, void *arg)
{
	if (((struct cblob *)v)->remote)
		(*(uint64_t *)arg)++;
}

static void
count_member(void *v, void *arg)
{
	struct catalog_remote_stats *st = arg;

	st->members++;
	if (((struct crmember *)v)->live)
		st->members_live++;
}

void
catalog_remote_stats(catalog_t *c, struct catalog_remote_stats *st)
{
	memset(st, 0, sizeof *st);
	pthread_mutex_lock(&c->lock);
	st->objects = c->nremote_objects;
	st->names = c->nremote_names;
	st->pending_names = c->nrpending;
	hmap_foreach(&c->blobs, count_blob, &st->blobs);
	hmap_foreach(&c->rmembers, count_member, st);
	pthread_mutex_unlock(&c->lock);
}
