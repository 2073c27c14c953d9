/*
 * catalog_names: names and their removal: the rules a name obeys, a name
 * dropped from its object, unlink (of a name, or of a blob or object
 * file) and rename within names/. Creating and sealing are in
 * catalog_data.c, deleting objects in catalog_objects.c.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_i.h"
#include "log.h"
#include "util.h"

void
catalog_name_forget(catalog_t *c, struct cname *n)
{
	struct cobject *o = n->obj;
	unsigned i;

	for (i = 0; i < o->nnames; i++) {
		if (o->names[i] == n->name) {
			o->names[i] = o->names[--o->nnames];
			break;
		}
	}
	hmap_remove(&c->names, hmap_str_hash(n->name), n);
	catalog_name_dropped(c, n->name, o);
	free(n->name);
	free(n);
	catalog_dir_changed(c, INO_NAMES);
}

int
catalog_name_check(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || strchr(name, '/') != NULL)
		return -EINVAL;
	if (n > CATALOG_NAME_MAX)
		return -ENAMETOOLONG;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	return 0;
}

int
catalog_unlink(catalog_t *c, uint64_t parent, const char *name, uid_t uid)
{
	struct cobject *o;
	struct cname *n;
	int rc;

	pthread_mutex_lock(&c->lock);
	if (parent > CATALOG_LAST_DIR && !id_is_blob(parent) && ino_view(parent) == INO_VIEW_OBJECT) {
		/* An entry of an object's directory: rm -r at work. */
		rc = (o = catalog_object_find(c, parent)) == NULL ? -ENOENT
		     : o->remote				  ? -EREMOTE
								  : catalog_entry_unlink(o, name, uid);
		goto out;
	}
	if (parent != INO_NAMES) {
		rc = -EPERM;
		goto out;
	}
	if ((n = catalog_name_find(c, name)) == NULL) {
		rc = -ENOENT;
		goto out;
	}
	o = n->obj;
	if (o->remote) {
		rc = -EREMOTE; /* another member's name: its owner unnames it */
		goto out;
	}
	/* The last name takes the object with it (and frees o), unless another
	 * object holds it as a member. */
	if (o->nnames == 1) {
		rc = catalog_object_remove(c, o, name, CATALOG_DELETE_DEEP);
		goto out;
	}
	if ((rc = catalog_tx_begin(c)) != 0)
		goto out;
	if ((rc = meta_name_delete(c->meta, name)) != 0) {
		catalog_tx_rollback(c);
		goto out;
	}
	if ((rc = catalog_tx_commit(c)) == 0)
		catalog_name_forget(c, n);
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Give name n the text newname, in the index and in its object's list. */
static int
rename_memory(catalog_t *c, struct cname *n, const char *newname)
{
	char *text = strdup(newname);
	struct cobject *o = n->obj;
	unsigned i;

	if (text == NULL)
		return -ENOMEM;
	hmap_remove(&c->names, hmap_str_hash(n->name), n);
	for (i = 0; i < o->nnames; i++)
		if (o->names[i] == n->name)
			o->names[i] = text;
	free(n->name);
	n->name = text;
	catalog_dir_changed(c, INO_NAMES);
	/* Out of memory here leaves the name out of the index until the
	 * next start (the database has it already). */
	return hmap_insert(&c->names, hmap_str_hash(text), n);
}

/* A rename changes the renamed file's ctime, as on tmpfs; inside the
 * caller's transaction. A Blob object's blob is the same file. */
static int
renamed(catalog_t *c, struct cobject *o)
{
	struct cblob *b = catalog_object_data_blob(c, o);
	int rc;

	o->ctime_ns = util_now_ns();
	if (b != NULL)
		b->ctime_ns = o->ctime_ns;
	if ((rc = catalog_object_put(c, o)) == 0 && b != NULL)
		rc = catalog_blob_put(c, b);
	return rc;
}

int
catalog_rename(
    catalog_t *c, uint64_t parent, const char *name, uint64_t newparent, const char *newname, unsigned flags)
{
	struct cname *n, *old;
	struct cobject *gone = NULL;
	int rc;

	if (parent != INO_NAMES || newparent != INO_NAMES)
		return -EPERM; /* only names can move, and only within names/ */
	if (flags & ~CATALOG_RENAME_NOREPLACE)
		return -EINVAL;
	if ((rc = catalog_name_check(newname)) != 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	if ((n = catalog_name_find(c, name)) == NULL) {
		rc = -ENOENT;
		goto out;
	}
	old = catalog_name_find(c, newname);
	if (n->obj->remote || (old != NULL && old->obj->remote)) {
		rc = -EREMOTE;
		goto out;
	}
	if (old != NULL && (flags & CATALOG_RENAME_NOREPLACE)) {
		rc = -EEXIST;
		goto out;
	}
	if (old == n || (old != NULL && old->obj == n->obj)) {
		rc = 0; /* two names of one object: rename(2) does nothing */
		goto out;
	}
	if (old != NULL && old->obj->nnames == 1) {
		gone = old->obj;
		if (gone->parents > 0) {
			rc = -EBUSY;
			goto out;
		}
	}
	if ((rc = catalog_tx_begin(c)) != 0)
		goto out;
	/* A name in the way goes, and its object with it if it was the last. */
	if (old != NULL) {
		rc = gone != NULL ? catalog_object_delete(c, gone, newname, CATALOG_DELETE_DEEP)
				  : meta_name_delete(c->meta, newname);
	}
	if (rc == 0 && n->obj->sealed && (rc = meta_name_delete(c->meta, name)) == 0)
		rc = meta_name_put(c->meta, newname, n->obj->id);
	if (rc == 0)
		rc = renamed(c, n->obj);
	if (rc != 0) {
		catalog_tx_rollback(c);
		goto out;
	}
	if ((rc = catalog_tx_commit(c)) != 0)
		goto out;
	if (old != NULL && gone == NULL)
		catalog_name_forget(c, old);
	catalog_name_dropped(c, name, n->obj);
	if ((rc = rename_memory(c, n, newname)) == 0)
		catalog_names_changed(c, n->obj->id);
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}
