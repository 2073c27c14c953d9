/*
 * catalog_objects: composite objects, made from metadata that refers to
 * existing sealed blobs and objects (Vineyard's CreateMetaData). The whole
 * tree, members expanded, must pass its type's rules (types.c) before
 * anything is written; the object, its members and its name are then one
 * transaction, and the object is sealed from birth. Rules on the bytes
 * (Arrow offsets, UTF-8, null counts) read the local sealed blobs, mapped
 * read-only from the store; a blob whose bytes are not here (spilled out,
 * another member's) skips them.
 *
 * Deleting, of any object: deep by default (Vineyard's DelData), so that
 * the parts an object was made of go with it when nothing else holds or
 * names them; all of it in one transaction. rm -r empties a directory
 * before it removes it: its unlinks only hide entries (memory only, see
 * struct cobject), and the rmdir deletes.
 *
 * Global objects (issue 13): a member may be another member's published
 * object or blob. The global object is this member's own, like any other
 * (its rows, its names, deleted here only); its member rows name ids of
 * other instances, which no local record holds back: their owner may
 * delete them at any time, and the member entry then dangles (meta.json
 * shows {"id": ...}, the entry is gone from the directory, its open
 * ENOENT) until the object goes. "global" is not stored: it is derived
 * from the member ids (catalog_object_global), the same on every member.
 * The price: after the store's instance id changed (catalog.c logs it),
 * an object made of members from before counts as global too, and its
 * create reply says its publish was queued (or why not).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_i.h"
#include "id.h"
#include "log.h"
#include "object.h"
#include "store.h"
#include "types.h"
#include "util.h"
#include "vec.h"

#define TYPENAME_MAX 128

/* Is key fit to name a member of an object with fields? A member takes
 * its key in the metadata tree, beside the tree's own keys and the fields:
 * none may be hidden. 0 or -EINVAL with a message in err. */
static int
member_name_check(const char *key, const json_t *fields, char *err, size_t errlen)
{
	size_t n = strlen(key);

	if (n == 0 || n > CATALOG_NAME_MAX || strchr(key, '/') != NULL || strcmp(key, ".") == 0 ||
	    strcmp(key, "..") == 0 || strcmp(key, "meta.json") == 0)
		return util_fail(err, errlen, -EINVAL, "bad member name \"%s\"", key);
	if (object_tree_key(key))
		return util_fail(err, errlen, -EINVAL,
		    "member name \"%s\" is a key of the metadata tree itself: meta.json would lose its %s",
		    key, key);
	if (json_object_get(fields, key) != NULL)
		return util_fail(err, errlen, -EINVAL,
		    "member name \"%s\" is also a field's: meta.json would lose the field", key);
	return 0;
}

/* Resolve the members of a request into o (not yet in the index): each
 * must exist, be sealed, not be being removed and be the caller's (or the
 * caller root), under a name that hides none of fields.
 *
 * A member may be another member's published object or blob (a remote
 * record of the mirror): o is then a global object (catalog_object_global).
 * Remote records are readable by all (mode 0444) and their uid is the
 * publisher's on another node, which may mean no one here: they pass
 * without the uid check. Their owner need not be live: o is metadata, and
 * the open of such a member answers EHOSTDOWN until its owner is back
 * (catalog_remote_open), as any remote open does; refusing would make a
 * create depend on a lease that may lapse a moment later anyway. A member
 * the mirror does not show (yet) is refused like a missing local one: the
 * type's rules need its tree. */
static int
resolve_members(catalog_t *c, struct cobject *o, const json_t *fields, const json_t *members, uid_t uid,
    char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (members == NULL)
		return 0;
	if (!json_is_object(members))
		return util_fail(err, errlen, -EINVAL, "members must be an object of name: id");
	json_object_foreach ((json_t *)members, key, v) {
		const char *ids = json_string_value(v);
		struct cmember *m;
		uint64_t id, nbytes, owner;
		int sealed, remote, rc;

		if ((rc = member_name_check(key, fields, err, errlen)) != 0)
			return rc;
		if (ids == NULL || id_parse(ids, &id) != 0)
			return util_fail(err, errlen, -EINVAL, "member %s: \"%s\" is not an id (o… or b…)",
			    key, ids ? ids : "(not a string)");
		if (id_is_blob(id)) {
			struct cblob *b = catalog_blob_find(c, id);

			if (b == NULL || b->deleted)
				return util_fail(err, errlen, -EINVAL, "member %s: no blob %s", key, ids);
			sealed = b->sealed;
			nbytes = b->size;
			owner = b->uid;
			remote = b->remote;
		} else {
			struct cobject *sub = catalog_object_find(c, id);

			if (sub == NULL)
				return util_fail(err, errlen, -EINVAL, "member %s: no object %s", key, ids);
			if (sub->removing)
				return util_fail(
				    err, errlen, -EINVAL, "member %s: %s is being removed", key, ids);
			sealed = sub->sealed;
			nbytes = sub->nbytes;
			owner = sub->uid;
			remote = sub->remote;
		}
		if (!sealed)
			return util_fail(err, errlen, -EINVAL, "member %s: %s is not sealed yet", key, ids);
		if (!remote && uid != 0 && owner != uid)
			return util_fail(err, errlen, -EACCES, "member %s: %s belongs to uid %llu", key, ids,
			    (unsigned long long)owner);
		if (VEC_PUSH_ROOM(o->members, o->nmembers, o->members_cap) != 0)
			return -ENOMEM;
		m = o->members;
		if ((m[o->nmembers].name = strdup(key)) == NULL)
			return -ENOMEM;
		m[o->nmembers].hidden = 0;
		m[o->nmembers++].id = id;
		o->nbytes += nbytes;
	}
	return 0;
}

/* Check the fields of a request and keep them as JSON text in o. */
static int
take_fields(struct cobject *o, const json_t *fields, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	int rc;

	if (fields == NULL)
		return 0;
	if (!json_is_object(fields))
		return util_fail(err, errlen, -EINVAL, "fields must be an object");
	json_object_foreach ((json_t *)fields, key, v) {
		if ((rc = object_field_name_check(key)) != 0)
			return util_fail(err, errlen, -EINVAL, "field \"%s\" is %s", key,
			    rc == -EPERM ? "reserved" : "not a valid field name");
	}
	o->fields = object_fields_dump(fields);
	if (json_object_size(fields) > 0 && o->fields == NULL)
		return -ENOMEM;
	return 0;
}

/* Does a member of o's tree, at any depth, belong to another instance
 * than inst? */
static int
tree_global(catalog_t *c, const struct cobject *o, unsigned inst, int depth)
{
	struct cobject *sub;
	unsigned i;

	for (i = 0; i < o->nmembers; i++) {
		uint64_t id = o->members[i].id;

		if (id_instance(id) != inst)
			return 1;
		if (!id_is_blob(id) && depth < CATALOG_TREE_DEPTH &&
		    (sub = catalog_object_find(c, id)) != NULL && tree_global(c, sub, inst, depth + 1))
			return 1;
	}
	return 0;
}

int
catalog_object_is_global(catalog_t *c, const struct cobject *o)
{
	return tree_global(c, o, id_instance(o->id), 0);
}

int
catalog_object_global(catalog_t *c, uint64_t id)
{
	struct cobject *o;
	int rc;

	pthread_mutex_lock(&c->lock);
	if (id_is_blob(id) || (o = catalog_object_find(c, id)) == NULL)
		rc = -ENOENT;
	else
		rc = catalog_object_is_global(c, o);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Persist o (sealed), its members and name in one transaction. */
static int
persist(catalog_t *c, const struct cobject *o, const char *name)
{
	unsigned i;
	int rc;

	if ((rc = catalog_tx_begin(c)) != 0)
		return rc;
	if ((rc = catalog_object_put(c, o)) != 0)
		goto fail;
	for (i = 0; i < o->nmembers; i++)
		if ((rc = meta_member_put(c->meta, o->id, o->members[i].name, o->members[i].id)) != 0)
			goto fail;
	if (name != NULL && (rc = meta_name_put(c->meta, name, o->id)) != 0)
		goto fail;
	return catalog_tx_commit(c);
fail:
	catalog_tx_rollback(c);
	return rc;
}

/* The validator's reader (types.h), used without the catalog lock: a
 * sealed blob resident in the store is held (opens, so that neither a
 * delete nor a spill frees its file meanwhile) and mapped read-only. Its
 * bytes cannot change (sealed), so the rules see what readers will. */
struct pins {
	catalog_t *c;
	uint64_t *ids; /* held: let go of by unpin */
	size_t n, cap;
};

static int
tree_map(void *arg, const char *blob_id, const void **data, uint64_t *size)
{
	static const char empty[1];
	struct pins *pins = arg;
	catalog_t *c = pins->c;
	struct cblob *b;
	uint64_t id;
	void *p;
	int fd, rc;

	if (id_parse(blob_id, &id) != 0)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if ((b = catalog_blob_find(c, id)) == NULL || !b->sealed || !b->resident || b->deleted) {
		pthread_mutex_unlock(&c->lock);
		return -ENOENT;
	}
	if (VEC_PUSH_ROOM(pins->ids, pins->n, pins->cap) != 0) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	b->opens++;
	pins->ids[pins->n++] = id;
	*size = b->size;
	pthread_mutex_unlock(&c->lock);
	if (*size == 0) {
		*data = empty;
		return 0;
	}
	if ((rc = store_blob_open(c->store, id, O_RDONLY, &fd)) != 0) {
		log_warn("blob %s: its content rules are skipped: %s", blob_id, strerror(-rc));
		return -ENOENT;
	}
	p = mmap(NULL, *size, PROT_READ, MAP_SHARED, fd, 0);
	rc = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (rc != 0) {
		log_warn("blob %s: cannot map it to check its content: %s", blob_id, strerror(-rc));
		return rc;
	}
	*data = p;
	return 0;
}

static void
tree_unmap(void *arg, const void *data, uint64_t size)
{
	(void)arg;
	if (size > 0)
		munmap((void *)data, size);
}

/* Let go of the blobs tree_map held. */
static void
unpin(struct pins *pins)
{
	size_t i;

	for (i = 0; i < pins->n; i++)
		catalog_release(pins->c, pins->ids[i], 0);
	free(pins->ids);
	pins->ids = NULL;
	pins->n = pins->cap = 0;
}

/* Forget o's resolved members, to resolve them again. */
static void
members_reset(struct cobject *o)
{
	unsigned i;

	for (i = 0; i < o->nmembers; i++)
		free(o->members[i].name);
	free(o->members);
	o->members = NULL;
	o->nmembers = 0;
	o->members_cap = 0;
	o->nbytes = 0;
}

/* Under the catalog lock: o's members resolved and its name free; *tree
 * (caller frees) the whole tree as it would be. */
static int
prepare(catalog_t *c, struct cobject *o, const json_t *fields, const json_t *members, const char *name,
    uid_t uid, json_t **tree, char *err, size_t errlen)
{
	int rc;

	members_reset(o);
	if ((rc = resolve_members(c, o, fields, members, uid, err, errlen)) != 0)
		return rc;
	if (name != NULL && catalog_name_find(c, name) != NULL)
		return util_fail(err, errlen, -EEXIST, "name \"%s\" is taken", name);
	if ((*tree = catalog_object_tree(c, o, 0)) == NULL)
		return -ENOMEM;
	return 0;
}

int
catalog_create_object(catalog_t *c, const char *typename, const json_t *fields, const json_t *members,
    const char *name, uid_t uid, gid_t gid, mode_t mode, uint64_t *id, char *err, size_t errlen)
{
	struct cobject *o = calloc(1, sizeof *o);
	struct pins pins = { .c = c };
	struct types_reader reader = { tree_map, tree_unmap, &pins };
	struct cmember *resolved;
	json_t *tree = NULL;
	unsigned i, nmembers;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (o == NULL)
		return -ENOMEM;
	if (typename == NULL || *typename == '\0' || strlen(typename) > TYPENAME_MAX) {
		rc = util_fail(err, errlen, -EINVAL, "typename must be 1 to %d characters", TYPENAME_MAX);
		goto out;
	}
	if (name != NULL && (rc = catalog_name_check(name)) != 0) {
		util_fail(err, errlen, rc, "bad name \"%.64s\"", name);
		goto out;
	}
	if ((o->typename = strdup(typename)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	o->uid = uid;
	o->gid = gid;
	o->mode = mode & 07777;
	o->atime_ns = o->ctime_ns = o->mtime_ns = o->btime_ns = util_now_ns();
	o->sealed = 1;
	if ((rc = take_fields(o, fields, err, errlen)) != 0)
		goto out;
	/* The rules of the type, on the whole tree as it would be. Those on
	 * the arrays' bytes (a 10 M-row string column takes 50 to 250 ms)
	 * run without the catalog lock, on blobs held meanwhile. */
	pthread_mutex_lock(&c->lock);
	rc = prepare(c, o, fields, members, name, uid, &tree, err, errlen);
	pthread_mutex_unlock(&c->lock);
	if (rc != 0)
		goto out;
	if (types_validate_bytes(tree, &reader, err, errlen) != 0)
		rc = -EINVAL;
	unpin(&pins);
	json_decref(tree);
	tree = NULL;
	if (rc != 0)
		goto out;
	/* Members may have gone, and the name been taken, meanwhile: again,
	 * with the rules that read no bytes (the bytes read are sealed). */
	pthread_mutex_lock(&c->lock);
	if ((rc = prepare(c, o, fields, members, name, uid, &tree, err, errlen)) != 0)
		goto unlock;
	if (types_validate(tree, err, errlen) != 0) {
		rc = -EINVAL;
		goto unlock;
	}
	o->id = id_next_object(&c->gen);
	o->signature = o->id;
	if ((rc = persist(c, o, name)) != 0) {
		util_fail(err, errlen, rc, "the metadata could not be written");
		goto unlock;
	}
	/* Into the index: attach the members again, which counts references. */
	resolved = o->members;
	nmembers = o->nmembers;
	o->members = NULL;
	o->nmembers = 0;
	o->members_cap = 0;
	for (i = 0; i < nmembers; i++)
		if (rc == 0)
			rc = catalog_attach_member(c, o, resolved[i].name, resolved[i].id);
	for (i = 0; i < nmembers; i++)
		free(resolved[i].name);
	free(resolved);
	if (rc == 0 && (rc = hmap_insert(&c->objects, o->id, o)) == 0 && name != NULL)
		rc = catalog_attach_name(c, name, o);
	if (rc != 0) {
		/* Out of memory after the commit: the database has the object,
		 * the index will at the next start. */
		util_fail(err, errlen, rc, "out of memory while indexing the new object");
		pthread_mutex_unlock(&c->lock);
		json_decref(tree);
		return rc;
	}
	c->creates++;
	catalog_dir_changed(c, INO_OBJECTS);
	if (name != NULL && c->cfg.inval_entry != NULL)
		c->cfg.inval_entry(c->cfg.hook_arg, INO_NAMES, name); /* a cached negative entry */
	*id = o->id;
	catalog_names_changed(c, o->id); /* sealed, maybe named */
	o = NULL;
unlock:
	pthread_mutex_unlock(&c->lock);
out:
	json_decref(tree);
	if (o != NULL)
		catalog_object_free(o);
	return rc;
}

/* ---- deleting ---- */

/* What one delete takes. objs[0] is the object asked for; with
 * CATALOG_DELETE_DEEP come the member objects it leaves held by no object
 * and without a name, then theirs; blobs are those no object holds any
 * more. Collecting lets go of each member's hold in memory as it walks, so
 * that a member held twice goes once, after its last holder; at and
 * at_member record how far the walk got, for doom_undo. */
struct doom {
	struct cobject **objs;
	size_t nobjs, objs_cap;
	struct cblob **blobs;
	size_t nblobs, blobs_cap;
	size_t at;	    /* the members of objs[< at] were let go of, */
	unsigned at_member; /* and the first at_member of objs[at] */
};

/* Room for one more object and one more blob; 0 or -ENOMEM. */
static int
doom_room(struct doom *d)
{
	int rc = VEC_PUSH_ROOM(d->objs, d->nobjs, d->objs_cap);

	return rc != 0 ? rc : VEC_PUSH_ROOM(d->blobs, d->nblobs, d->blobs_cap);
}

/* A holder of member id lets go of it (take 0) or takes it back (take 1):
 * blob refs, object parents. Returns the blob or object whose last holder
 * let go, else NULL. A remote member of a global object was never held
 * (catalog_attach_member): its owner deletes it, never we. */
static void *
hold(catalog_t *c, uint64_t id, int take, int *is_blob)
{
	unsigned *holders;
	void *held;

	if ((*is_blob = id_is_blob(id))) {
		struct cblob *b = catalog_blob_find(c, id);

		if (b == NULL || b->deleted || b->remote)
			return NULL;
		held = b;
		holders = &b->refs;
	} else {
		struct cobject *sub = catalog_object_find(c, id);

		if (sub == NULL || sub->remote)
			return NULL;
		held = sub;
		holders = &sub->parents;
	}
	if (take) {
		++*holders;
		return NULL;
	}
	return --*holders == 0 ? held : NULL;
}

/* Collect what deleting o takes into d (freed by the caller, and undone
 * with doom_undo unless it is applied). */
static int
doom_collect(catalog_t *c, struct cobject *o, unsigned flags, struct doom *d)
{
	int rc;

	memset(d, 0, sizeof *d);
	if ((rc = doom_room(d)) != 0)
		return rc;
	d->objs[d->nobjs++] = o;
	for (; d->at < d->nobjs; d->at++) {
		struct cobject *x = d->objs[d->at];

		for (d->at_member = 0; d->at_member < x->nmembers; d->at_member++) {
			int is_blob;
			void *freed;

			if ((rc = doom_room(d)) != 0)
				return rc;
			if ((freed = hold(c, x->members[d->at_member].id, 0, &is_blob)) == NULL)
				continue;
			if (is_blob)
				d->blobs[d->nblobs++] = freed;
			else if ((flags & CATALOG_DELETE_DEEP) && ((struct cobject *)freed)->nnames == 0)
				d->objs[d->nobjs++] = freed;
		}
	}
	d->at_member = 0;
	return 0;
}

/* Take back the holds doom_collect let go of. */
static void
doom_undo(catalog_t *c, struct doom *d)
{
	size_t i;
	unsigned k;
	int is_blob;

	for (i = 0; i < d->nobjs && i <= d->at; i++) {
		struct cobject *x = d->objs[i];
		unsigned n = i < d->at ? x->nmembers : d->at_member;

		for (k = 0; k < n; k++)
			hold(c, x->members[k].id, 1, &is_blob);
	}
}

/* Delete the rows, inside the caller's transaction. */
static int
doom_write(catalog_t *c, const struct doom *d)
{
	size_t i;
	int rc;

	for (i = 0; i < d->nobjs; i++)
		if ((rc = meta_object_delete(c->meta, d->objs[i]->id)) != 0)
			return rc;
	for (i = 0; i < d->nblobs; i++)
		if ((rc = meta_blob_delete(c->meta, d->blobs[i]->id)) != 0)
			return rc;
	return 0;
}

/* Delete in memory what doom_write deleted in meta. */
static void
doom_apply(catalog_t *c, struct doom *d, const char *unlinked, unsigned flags)
{
	char name[ID_STR_LEN + 1];
	size_t i;
	unsigned k;

	/* Blobs that stay forget the owners that go, before those are freed. */
	for (i = 0; i < d->nobjs; i++) {
		struct cobject *x = d->objs[i];

		for (k = 0; k < x->nmembers; k++) {
			struct cblob *b;

			if (!id_is_blob(x->members[k].id) ||
			    (b = catalog_blob_find(c, x->members[k].id)) == NULL || b->owner != x)
				continue;
			/* Open as names/<n>, it still answers fstat (catalog_blob_forget). */
			if (catalog_object_data_blob(c, x) == b)
				b->ghost_ino = ino_of(x->id, INO_VIEW_DATA);
			b->owner = NULL;
		}
	}
	for (i = 0; i < d->nblobs; i++)
		catalog_blob_forget(c, d->blobs[i]);
	for (i = 0; i < d->nobjs; i++) {
		struct cobject *x = d->objs[i];

		while (x->nnames > 0) {
			struct cname *n = catalog_name_find(c, x->names[0]);

			if (c->cfg.inval_entry != NULL &&
			    (unlinked == NULL || strcmp(n->name, unlinked) != 0))
				c->cfg.inval_entry(c->cfg.hook_arg, INO_NAMES, n->name);
			catalog_name_forget(c, n);
		}
		id_format(x->id, name);
		if (c->cfg.inval_attr != NULL) {
			/* The inodes the kernel may know of x: its directory,
			 * meta.json, and its names/ entry (the data of a Blob
			 * object, else a link; the entry being unlinked is the
			 * kernel's own business). */
			int blob = strcmp(x->typename, OBJECT_TYPE_BLOB) == 0;

			c->cfg.inval_attr(c->cfg.hook_arg, ino_of(x->id, INO_VIEW_OBJECT));
			c->cfg.inval_attr(c->cfg.hook_arg, ino_of(x->id, INO_VIEW_META));
			if (unlinked == NULL || i > 0)
				c->cfg.inval_attr(c->cfg.hook_arg,
				    ino_of(x->id, blob ? INO_VIEW_DATA : INO_VIEW_NAME_LINK));
		}
		if (c->cfg.inval_entry != NULL && !(i == 0 && (flags & CATALOG_DELETE_RMDIR)))
			c->cfg.inval_entry(c->cfg.hook_arg, INO_OBJECTS, name);
		catalog_object_deleted(c, x);
		hmap_remove(&c->objects, x->id, x);
		catalog_object_free(x);
		c->deletes++;
		catalog_dir_changed(c, INO_OBJECTS);
	}
}

int
catalog_object_delete(catalog_t *c, struct cobject *o, const char *unlinked, unsigned flags)
{
	struct doom d;
	int rc;

	if ((rc = doom_collect(c, o, flags, &d)) == 0 && (rc = doom_write(c, &d)) == 0)
		doom_apply(c, &d, unlinked, flags);
	else
		doom_undo(c, &d);
	free(d.objs);
	free(d.blobs);
	return rc;
}

int
catalog_object_remove(catalog_t *c, struct cobject *o, const char *unlinked, unsigned flags)
{
	int rc;

	if (o->parents > 0)
		return -EBUSY; /* a member of another object */
	if ((rc = catalog_tx_begin(c)) != 0)
		return rc;
	if ((rc = catalog_object_delete(c, o, unlinked, flags)) != 0) {
		catalog_tx_rollback(c);
		return rc;
	}
	return catalog_tx_commit(c);
}

/* May uid change object o? Its owner and root may. */
static int
may_change(const struct cobject *o, uid_t uid)
{
	return uid == 0 || o->uid == uid;
}

int
catalog_delete_object(catalog_t *c, uint64_t id, uid_t uid, unsigned flags)
{
	struct cobject *o;
	int rc;

	if (id_is_blob(id))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	if ((o = catalog_object_find(c, id)) == NULL)
		rc = -ENOENT;
	else if (o->remote)
		rc = -EREMOTE; /* another member's: deleted on its owner */
	else if (!may_change(o, uid))
		rc = -EACCES;
	else
		rc = catalog_object_remove(c, o, NULL, flags & CATALOG_DELETE_DEEP);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
catalog_rmdir(catalog_t *c, uint64_t parent, const char *name)
{
	struct cobject *o;
	uint64_t id;
	int rc;

	if (parent != INO_OBJECTS)
		return parent == INO_ROOT ? -EPERM : -ENOTDIR;
	if (id_parse(name, &id) != 0 || id_is_blob(id))
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if ((o = catalog_object_find(c, id)) == NULL)
		rc = -ENOENT;
	else if (o->remote)
		rc = -EREMOTE;
	else
		rc = catalog_object_remove(c, o, NULL, CATALOG_DELETE_DEEP | CATALOG_DELETE_RMDIR);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
catalog_entry_unlink(struct cobject *o, const char *name, uid_t uid)
{
	struct cmember *m = NULL;
	unsigned i;
	int view = 0;

	if (strcmp(name, "meta.json") == 0) {
		if (o->meta_hidden)
			return -ENOENT;
	} else {
		for (i = 0; i < o->nmembers && m == NULL; i++)
			if (strcmp(o->members[i].name, name) == 0)
				m = &o->members[i];
		/* The Arrow view is unlinked as members are: rm -r at work. */
		if (m == NULL && strcmp(name, CATALOG_ARROW_VIEW) == 0 && catalog_arrow_view(o) != NULL)
			view = 1;
		else if (m == NULL || m->hidden)
			return -ENOENT;
	}
	/* With default_permissions the kernel lets through those who may write
	 * the directory (its mode is the object's); of them, only the ones who
	 * may delete the object: root, and its owner when the mode lets the
	 * owner write. */
	if (uid != 0 && (o->uid != uid || !(o->mode & S_IWUSR)))
		return -EACCES;
	if (o->parents > 0)
		return -EBUSY; /* the rmdir to come would fail: hide nothing */
	o->removing = 1;
	if (m != NULL)
		m->hidden = 1;
	else if (view)
		o->view_hidden = 1;
	else
		o->meta_hidden = 1;
	return 0;
}

int
catalog_name_add(catalog_t *c, uint64_t id, const char *name, uid_t uid)
{
	struct cobject *o;
	int rc = 0;

	if ((rc = catalog_name_check(name)) != 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	if (id_is_blob(id) || (o = catalog_object_find(c, id)) == NULL)
		rc = -ENOENT;
	else if (o->remote)
		rc = -EREMOTE;
	else if (!may_change(o, uid))
		rc = -EACCES;
	else if (catalog_name_find(c, name) != NULL)
		rc = -EEXIST;
	else if (o->sealed) { /* an unsealed object's names are written at its seal */
		if ((rc = catalog_tx_begin(c)) == 0) {
			if ((rc = meta_name_put(c->meta, name, o->id)) != 0)
				catalog_tx_rollback(c);
			else
				rc = catalog_tx_commit(c);
		}
	}
	if (rc == 0)
		rc = catalog_attach_name(c, name, o);
	if (rc == 0 && c->cfg.inval_entry != NULL)
		c->cfg.inval_entry(c->cfg.hook_arg, INO_NAMES, name); /* a cached negative entry */
	if (rc == 0)
		catalog_names_changed(c, o->id);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
catalog_name_remove(catalog_t *c, const char *name, uid_t uid)
{
	struct cname *n;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if ((n = catalog_name_find(c, name)) == NULL)
		rc = -ENOENT;
	else if (n->obj->remote)
		rc = -EREMOTE;
	else if (!may_change(n->obj, uid))
		rc = -EACCES;
	else if (n->obj->sealed && (rc = catalog_tx_begin(c)) == 0) {
		if ((rc = meta_name_delete(c->meta, name)) != 0)
			catalog_tx_rollback(c);
		else
			rc = catalog_tx_commit(c);
	}
	if (rc == 0) {
		catalog_name_forget(c, n);
		if (c->cfg.inval_entry != NULL)
			c->cfg.inval_entry(c->cfg.hook_arg, INO_NAMES, name);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
catalog_name_ready(catalog_t *c, const char *name, uint64_t *id)
{
	struct cname *n;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if ((n = catalog_name_find(c, name)) == NULL)
		rc = -ENOENT;
	else if (!catalog_object_sealed(n->obj))
		rc = -EAGAIN; /* being written, or its seal being saved */
	else
		*id = n->obj->id;
	pthread_mutex_unlock(&c->lock);
	return rc;
}
