/*
 * catalog_xattr: an object's metadata as user.vineyard.* extended
 * attributes. The fixed fields (object.c's object_keys, one table with
 * the names users may not set) are read-only (state: live, or removing
 * while rm -r empties its directory); user fields may be set and removed
 * while the object is unsealed, and are validated by object.c. Another
 * member's records (catalog_remote.h) answer every read, their location
 * "remote:<node>" (",unavailable" while the owner is no live member), and
 * refuse every change with EREMOTE. A global object's location counts its
 * remote blobs not fetched here as "remote".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "catalog_i.h"
#include "object.h"
#include "vec.h"

#define PREFIX "user.vineyard."
#define PREFIX_LEN (sizeof PREFIX - 1)

/* Growable NUL-separated list of names. */
struct namebuf {
	char *buf;
	size_t len, cap; /* cap: bytes allocated (vec) */
	int err;
};

static void
nb_add(struct namebuf *nb, const char *field)
{
	size_t n = PREFIX_LEN + strlen(field) + 1;

	if (nb->err)
		return;
	if ((nb->err = vec_reserve(&nb->buf, &nb->cap, nb->len + n, 1)) != 0)
		return;
	memcpy(nb->buf + nb->len, PREFIX, PREFIX_LEN);
	memcpy(nb->buf + nb->len + PREFIX_LEN, field, n - PREFIX_LEN);
	nb->len += n;
}

/* The fixed names of an object (OBJECT_KEY_OBJECT) or a blob, from object.c's one table. */
static void
nb_add_fixed(struct namebuf *nb, unsigned flag)
{
	size_t i;

	for (i = 0; object_keys[i].name != NULL; i++)
		if (object_keys[i].flags & flag)
			nb_add(nb, object_keys[i].name);
}

/* Where b's bytes are (catalog_spill.h): "memory", "disk" or both. */
static const char *
where(const struct cblob *b)
{
	if (!b->sealed || !b->spilled)
		return "memory";
	return b->resident ? "memory,disk" : "disk";
}

/* Where the blobs of o's tree are: counts of those in memory, on disk
 * only, and (a global object's) on another member only, not fetched. */
static void
tree_location(catalog_t *c, const struct cobject *o, int depth, unsigned *in, unsigned *out, unsigned *away)
{
	unsigned i;

	for (i = 0; i < o->nmembers && depth < CATALOG_TREE_DEPTH; i++) {
		uint64_t id = o->members[i].id;
		struct cblob *b;
		struct cobject *m;

		if (id_is_blob(id)) {
			if ((b = catalog_blob_find(c, id)) != NULL)
				*(b->resident || !b->sealed ? in : b->remote ? away : out) += 1;
		} else if ((m = catalog_object_find(c, id)) != NULL)
			tree_location(c, m, depth + 1, in, out, away);
	}
}

/* The object whose xattrs ino shows (directory and data views), or NULL. */
static struct cobject *
xattr_object(catalog_t *c, uint64_t ino)
{
	enum ino_view v;

	if (id_is_blob(ino) || ino <= CATALOG_LAST_DIR)
		return NULL;
	v = ino_view(ino);
	if (v != INO_VIEW_OBJECT && v != INO_VIEW_DATA)
		return NULL;
	return catalog_object_find(c, ino_id(ino));
}

int
catalog_xattr_list(catalog_t *c, uint64_t ino, char **names, size_t *len)
{
	struct namebuf nb = { 0 };
	struct cobject *o;
	struct cblob *b;
	unsigned i;

	pthread_mutex_lock(&c->lock);
	if ((o = xattr_object(c, ino)) != NULL) {
		json_t *fields = object_fields_load(o->fields), *v;
		const char *key;
		char mname[CATALOG_NAME_MAX + 16];

		nb_add_fixed(&nb, OBJECT_KEY_OBJECT);
		for (i = 0; i < o->nmembers; i++) {
			snprintf(mname, sizeof mname, "member.%s", o->members[i].name);
			nb_add(&nb, mname);
		}
		json_object_foreach (fields, key, v)
			nb_add(&nb, key);
		json_decref(fields);
	} else if (id_is_blob(ino) && (b = catalog_blob_find(c, ino)) != NULL) {
		nb_add_fixed(&nb, OBJECT_KEY_BLOB);
	}
	pthread_mutex_unlock(&c->lock);
	if (nb.err) {
		free(nb.buf);
		return nb.err;
	}
	*names = nb.buf;
	*len = nb.len;
	return 0;
}

static char *
dup_text(const char *s, size_t *len)
{
	*len = strlen(s);
	return strdup(s);
}

static char *
fmt_u64(uint64_t v, size_t *len)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
	return dup_text(buf, len);
}

static char *
fmt_time(int64_t ns, size_t *len)
{
	char buf[48];

	object_format_time(ns, buf, sizeof buf);
	return dup_text(buf, len);
}

static char *
fmt_id(uint64_t id, size_t *len)
{
	char buf[ID_STR_LEN + 1];

	id_format(id, buf);
	return dup_text(buf, len);
}

static int
object_get(catalog_t *c, struct cobject *o, const char *field, char **value, size_t *len)
{
	struct cblob *data = catalog_object_data_blob(c, o);
	unsigned i;

	if (strcmp(field, "typename") == 0)
		*value = dup_text(o->typename, len);
	else if (strcmp(field, "id") == 0)
		*value = fmt_id(o->id, len);
	else if (strcmp(field, "signature") == 0)
		*value = fmt_u64(o->signature, len);
	else if (strcmp(field, "nbytes") == 0)
		*value = fmt_u64(!o->sealed && data != NULL ? catalog_blob_size(c, data) : o->nbytes, len);
	else if (strcmp(field, "instance_id") == 0)
		*value = fmt_u64(id_instance(o->id), len);
	else if (strcmp(field, "global") == 0)
		*value = dup_text(catalog_object_is_global(c, o) ? "true" : "false", len);
	else if (strcmp(field, "ctime") == 0)
		*value = fmt_time(o->btime_ns, len); /* Vineyard's: creation */
	else if (strcmp(field, "sealed") == 0)
		*value = dup_text(catalog_object_sealed(o) ? "true" : "false", len);
	else if (strcmp(field, "state") == 0)
		*value = dup_text(o->removing ? "removing" : "live", len);
	else if (strcmp(field, "location") == 0) {
		unsigned in = 0, out = 0, away = 0;

		/* A Blob object: where its bytes are; others: where their blobs are;
		 * another member's: "remote:<node>" (catalog_remote.c). */
		if (o->remote) {
			if ((*value = catalog_remote_location(c, o->id)) != NULL)
				*len = strlen(*value);
		} else if (data != NULL)
			*value = dup_text(where(data), len);
		else {
			char loc[32];

			/* A global object's blobs that are only on their owners
			 * (not fetched here yet) say "remote". */
			tree_location(c, o, 0, &in, &out, &away);
			snprintf(loc, sizeof loc, "%s%s%s",
			    in > 0 || (out == 0 && away == 0) ? ",memory" : "", out > 0 ? ",disk" : "",
			    away > 0 ? ",remote" : "");
			*value = dup_text(loc + 1, len);
		}
	} else if (strncmp(field, "member.", 7) == 0) {
		for (i = 0; i < o->nmembers; i++)
			if (strcmp(o->members[i].name, field + 7) == 0)
				break;
		if (i == o->nmembers)
			return -ENODATA;
		*value = fmt_id(o->members[i].id, len);
	} else {
		json_t *fields = object_fields_load(o->fields), *v = json_object_get(fields, field);

		*value = v != NULL ? object_field_value_format(v, len) : NULL;
		json_decref(fields);
		if (v == NULL)
			return -ENODATA;
	}
	return *value != NULL ? 0 : -ENOMEM;
}

static int
blob_get(catalog_t *c, struct cblob *b, const char *field, char **value, size_t *len)
{
	if (strcmp(field, "typename") == 0)
		*value = dup_text(OBJECT_TYPE_BLOB, len);
	else if (strcmp(field, "id") == 0)
		*value = fmt_id(b->id, len);
	else if (strcmp(field, "nbytes") == 0)
		*value = fmt_u64(catalog_blob_size(c, b), len);
	else if (strcmp(field, "instance_id") == 0)
		*value = fmt_u64(id_instance(b->id), len);
	else if (strcmp(field, "ctime") == 0)
		*value = fmt_time(b->btime_ns, len);
	else if (strcmp(field, "sealed") == 0)
		*value = dup_text(catalog_blob_sealed(b) ? "true" : "false", len);
	else if (strcmp(field, "location") == 0 && b->remote) {
		if ((*value = catalog_remote_location(c, b->id)) != NULL)
			*len = strlen(*value);
	} else if (strcmp(field, "location") == 0)
		*value = dup_text(where(b), len);
	else if (strcmp(field, "pinned") == 0)
		*value = dup_text(b->pinned ? "true" : "false", len);
	else
		return -ENODATA;
	return *value != NULL ? 0 : -ENOMEM;
}

int
catalog_xattr_get(catalog_t *c, uint64_t ino, const char *name, char **value, size_t *len)
{
	struct cobject *o;
	struct cblob *b;
	int rc = -ENODATA;

	if (strncmp(name, PREFIX, PREFIX_LEN) != 0)
		return -ENODATA;
	pthread_mutex_lock(&c->lock);
	if ((o = xattr_object(c, ino)) != NULL)
		rc = object_get(c, o, name + PREFIX_LEN, value, len);
	else if (id_is_blob(ino) && (b = catalog_blob_find(c, ino)) != NULL)
		rc = blob_get(c, b, name + PREFIX_LEN, value, len);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Set (value != NULL) or remove a user field. */
static int
change_field(catalog_t *c, uint64_t ino, const char *name, const char *value, size_t len, int flags)
{
	const char *field = name + PREFIX_LEN;
	json_t *fields = NULL, *v = NULL;
	struct cobject *o;
	char *text = NULL, *old;
	unsigned i;
	int rc;

	if (strncmp(name, PREFIX, PREFIX_LEN) != 0)
		return -ENOTSUP;
	if ((rc = object_field_name_check(field)) != 0)
		return rc;
	if (value != NULL && (v = object_field_value_parse(value, len, &rc)) == NULL)
		return rc;
	pthread_mutex_lock(&c->lock);
	if ((o = xattr_object(c, ino)) == NULL) {
		rc = id_is_blob(ino) ? -EPERM : -ENOTSUP;
		goto out;
	}
	if (o->remote) {
		rc = -EREMOTE;
		goto out;
	}
	if (o->sealed) {
		rc = -EPERM;
		goto out;
	}
	/* A member's name is taken in the metadata tree. */
	for (i = 0; i < o->nmembers; i++) {
		if (strcmp(o->members[i].name, field) == 0) {
			rc = -EPERM;
			goto out;
		}
	}
	fields = object_fields_load(o->fields);
	if (value == NULL || (flags & XATTR_REPLACE)) {
		if (json_object_get(fields, field) == NULL) {
			rc = -ENODATA;
			goto out;
		}
	}
	if ((flags & XATTR_CREATE) && json_object_get(fields, field) != NULL) {
		rc = -EEXIST;
		goto out;
	}
	if (value == NULL)
		json_object_del(fields, field);
	else
		json_object_set(fields, field, v);
	text = object_fields_dump(fields);
	if (json_object_size(fields) > 0 && text == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	old = o->fields;
	o->fields = text;
	if ((rc = catalog_object_put(c, o)) != 0) {
		o->fields = old;
		goto out;
	}
	free(old);
	text = NULL;
out:
	pthread_mutex_unlock(&c->lock);
	free(text);
	json_decref(fields);
	json_decref(v);
	return rc;
}

int
catalog_xattr_set(catalog_t *c, uint64_t ino, const char *name, const char *value, size_t len, int flags)
{
	return change_field(c, ino, name, value, len, flags);
}

int
catalog_xattr_remove(catalog_t *c, uint64_t ino, const char *name)
{
	return change_field(c, ino, name, NULL, 0, 0);
}
