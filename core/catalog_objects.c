/*
 * catalog_objects: composite objects, made from metadata that refers to
 * existing sealed blobs and objects (Vineyard's CreateMetaData). The whole
 * tree, members expanded, must pass its type's rules (types.c) before
 * anything is written; the object, its members and its name are then one
 * transaction, and the object is sealed from birth.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_i.h"
#include "object.h"
#include "types.h"
#include "util.h"

#define TYPENAME_MAX 128

static int
member_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= CATALOG_NAME_MAX && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0 && strcmp(name, "meta.json") != 0;
}

/* Resolve the members of a request into o (not yet in the index): each
 * must exist, be sealed and be the caller's (or the caller root). */
static int
resolve_members(catalog_t *c, struct cobject *o, const json_t *members, uid_t uid, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (members == NULL)
		return 0;
	if (!json_is_object(members))
		return util_fail(err, errlen, -EINVAL, "members must be an object of name: id");
	json_object_foreach((json_t *)members, key, v) {
		const char *ids = json_string_value(v);
		struct cmember *m;
		uint64_t id, nbytes, owner;
		int sealed;

		if (!member_name_ok(key))
			return util_fail(err, errlen, -EINVAL, "bad member name \"%s\"", key);
		if (ids == NULL || id_parse(ids, &id) != 0)
			return util_fail(err, errlen, -EINVAL, "member %s: \"%s\" is not an id (o… or b…)", key,
			    ids ? ids : "(not a string)");
		if (id_is_blob(id)) {
			struct cblob *b = cat_blob_find(c, id);

			if (b == NULL || b->deleted)
				return util_fail(err, errlen, -EINVAL, "member %s: no blob %s", key, ids);
			sealed = b->sealed;
			nbytes = b->size;
			owner = b->uid;
		} else {
			struct cobject *sub = cat_object_find(c, id);

			if (sub == NULL)
				return util_fail(err, errlen, -EINVAL, "member %s: no object %s", key, ids);
			sealed = sub->sealed;
			nbytes = sub->nbytes;
			owner = sub->uid;
		}
		if (!sealed)
			return util_fail(err, errlen, -EINVAL, "member %s: %s is not sealed yet", key, ids);
		if (uid != 0 && owner != uid)
			return util_fail(err, errlen, -EACCES, "member %s: %s belongs to uid %llu", key, ids,
			    (unsigned long long)owner);
		if ((m = realloc(o->members, (o->nmembers + 1) * sizeof *m)) == NULL)
			return -ENOMEM;
		o->members = m;
		if ((m[o->nmembers].name = strdup(key)) == NULL)
			return -ENOMEM;
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
	json_object_foreach((json_t *)fields, key, v) {
		if ((rc = object_field_name_check(key)) != 0)
			return util_fail(err, errlen, -EINVAL, "field \"%s\" is %s", key,
			    rc == -EPERM ? "reserved" : "not a valid field name");
	}
	o->fields = object_fields_dump(fields);
	if (json_object_size(fields) > 0 && o->fields == NULL)
		return -ENOMEM;
	return 0;
}

/* Persist o (sealed), its members and name in one transaction. */
static int
persist(catalog_t *c, const struct cobject *o, const char *name)
{
	unsigned i;
	int rc;

	if ((rc = cat_tx_begin(c)) != 0)
		return rc;
	if ((rc = cat_object_put(c, o)) != 0)
		goto fail;
	for (i = 0; i < o->nmembers; i++)
		if ((rc = meta_member_put(c->meta, o->id, o->members[i].name, o->members[i].id)) != 0)
			goto fail;
	if (name != NULL && (rc = meta_name_put(c->meta, name, o->id)) != 0)
		goto fail;
	return cat_tx_commit(c);
fail:
	cat_tx_rollback(c);
	return rc;
}

int
catalog_create_object(catalog_t *c, const char *typename, const json_t *fields, const json_t *members,
    const char *name, uid_t uid, gid_t gid, mode_t mode, uint64_t *id, char *err, size_t errlen)
{
	struct cobject *o = calloc(1, sizeof *o);
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
	if (name != NULL && (rc = cat_name_check(name)) != 0) {
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
	o->ctime_ns = o->mtime_ns = util_now_ns();
	o->sealed = 1;
	if ((rc = take_fields(o, fields, err, errlen)) != 0)
		goto out;
	pthread_mutex_lock(&c->lock);
	if ((rc = resolve_members(c, o, members, uid, err, errlen)) != 0)
		goto unlock;
	if (name != NULL && cat_name_find(c, name) != NULL) {
		rc = util_fail(err, errlen, -EEXIST, "name \"%s\" is taken", name);
		goto unlock;
	}
	/* The rules of the type, on the whole tree as it would be. */
	if ((tree = cat_object_tree(c, o, 0)) == NULL) {
		rc = -ENOMEM;
		goto unlock;
	}
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
	for (i = 0; i < nmembers; i++)
		if (rc == 0)
			rc = cat_attach_member(c, o, resolved[i].name, resolved[i].id);
	for (i = 0; i < nmembers; i++)
		free(resolved[i].name);
	free(resolved);
	if (rc == 0 && (rc = hmap_insert(&c->objects, o->id, o)) == 0 && name != NULL)
		rc = cat_attach_name(c, name, o);
	if (rc != 0) {
		/* Out of memory after the commit: the database has the object,
		 * the index will at the next start. */
		util_fail(err, errlen, rc, "out of memory while indexing the new object");
		pthread_mutex_unlock(&c->lock);
		json_decref(tree);
		return rc;
	}
	c->creates++;
	*id = o->id;
	if (name != NULL)
		cat_names_changed(c);
	o = NULL;
unlock:
	pthread_mutex_unlock(&c->lock);
out:
	json_decref(tree);
	if (o != NULL)
		cat_object_free(o);
	return rc;
}

/* May uid change object o? Its owner and root may. */
static int
may_change(const struct cobject *o, uid_t uid)
{
	return uid == 0 || o->uid == uid;
}

int
catalog_delete_object(catalog_t *c, uint64_t id, uid_t uid)
{
	struct cobject *o;
	int rc;

	if (id_is_blob(id))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	if ((o = cat_object_find(c, id)) == NULL)
		rc = -ENOENT;
	else if (!may_change(o, uid))
		rc = -EACCES;
	else
		rc = cat_object_remove(c, o, 0);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
catalog_name_add(catalog_t *c, uint64_t id, const char *name, uid_t uid)
{
	struct cobject *o;
	int rc = 0;

	if ((rc = cat_name_check(name)) != 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	if (id_is_blob(id) || (o = cat_object_find(c, id)) == NULL)
		rc = -ENOENT;
	else if (!may_change(o, uid))
		rc = -EACCES;
	else if (cat_name_find(c, name) != NULL)
		rc = -EEXIST;
	else if (o->sealed) { /* an unsealed object's names are written at its seal */
		if ((rc = cat_tx_begin(c)) == 0) {
			if ((rc = meta_name_put(c->meta, name, o->id)) != 0)
				cat_tx_rollback(c);
			else
				rc = cat_tx_commit(c);
		}
	}
	if (rc == 0)
		rc = cat_attach_name(c, name, o);
	if (rc == 0 && c->cfg.inval_entry != NULL)
		c->cfg.inval_entry(c->cfg.hook_arg, CATALOG_INO_NAMES, name); /* a cached negative entry */
	if (rc == 0)
		cat_names_changed(c);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
catalog_name_remove(catalog_t *c, const char *name, uid_t uid)
{
	struct cname *n;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if ((n = cat_name_find(c, name)) == NULL)
		rc = -ENOENT;
	else if (!may_change(n->obj, uid))
		rc = -EACCES;
	else if (n->obj->sealed && (rc = cat_tx_begin(c)) == 0) {
		if ((rc = meta_name_delete(c->meta, name)) != 0)
			cat_tx_rollback(c);
		else
			rc = cat_tx_commit(c);
	}
	if (rc == 0) {
		cat_name_forget(c, n);
		if (c->cfg.inval_entry != NULL)
			c->cfg.inval_entry(c->cfg.hook_arg, CATALOG_INO_NAMES, name);
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
	if ((n = cat_name_find(c, name)) == NULL)
		rc = -ENOENT;
	else if (!n->obj->sealed)
		rc = -EAGAIN;
	else
		*id = n->obj->id;
	pthread_mutex_unlock(&c->lock);
	return rc;
}
