/*
 * catalog_attr: what the catalog shows of its records: attributes, the
 * fixed directories' times, lookups, listings, symlinks and the generated
 * meta.json, each under the catalog lock (the fixed directories' times
 * are atomics, read without it). A packed vineyard::Table's directory
 * also shows table.arrow, its ipc_ blob under a second name.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog_i.h"
#include "object.h"
#include "util.h"

/* Directory mode of an object: its file mode with x wherever r is. */
static mode_t
dir_mode(uint32_t mode)
{
	return (mode & 07777) | ((mode & 0444) >> 2);
}

/* The fixed directories are cached by the kernel: it drops its copy itself
 * after its own creates, unlinks and renames in them, and catalog_dir_changed
 * tells it of the rest. */
static void
fixed_dir_attr(catalog_t *c, uint64_t ino, struct catalog_attr *a)
{
	memset(a, 0, sizeof *a);
	a->ino = ino;
	a->atime_ns = atomic_load(&c->dir[ino].atime_ns);
	a->mtime_ns = atomic_load(&c->dir[ino].mtime_ns);
	a->ctime_ns = atomic_load(&c->dir[ino].ctime_ns);
	a->nlink = 2;
	a->sealed = 1;
	switch (ino) {
	case INO_OBJECTS:
	case INO_NAMES: a->mode = S_IFDIR | 01777; break;
	default: a->mode = S_IFDIR | 0555; break;
	}
	if (ino == INO_ROOT)
		a->mode = S_IFDIR | 0755;
}

/* Move a fixed directory's ctime (and mtime) to now: never backwards, even
 * when the clock is, so that each change shows. */
static int64_t
dir_touch(catalog_t *c, uint64_t ino, int mtime_too)
{
	int64_t now = util_now_ns(), was = atomic_load(&c->dir[ino].ctime_ns);

	if (now <= was)
		now = was + 1;
	atomic_store(&c->dir[ino].ctime_ns, now);
	if (mtime_too)
		atomic_store(&c->dir[ino].mtime_ns, now);
	return now;
}

void
catalog_dir_changed(catalog_t *c, uint64_t ino)
{
	dir_touch(c, ino, 1);
	if (c->cfg.inval_attr != NULL)
		c->cfg.inval_attr(c->cfg.hook_arg, ino);
}

int
catalog_dir_set_times(catalog_t *c, uint64_t ino, int64_t atime_ns, int64_t mtime_ns)
{
	if (ino < INO_ROOT || ino > CATALOG_LAST_DIR)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if (atime_ns != CATALOG_KEEP)
		atomic_store(&c->dir[ino].atime_ns, atime_ns);
	if (mtime_ns != CATALOG_KEEP)
		atomic_store(&c->dir[ino].mtime_ns, mtime_ns);
	dir_touch(c, ino, 0);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

uint64_t
catalog_blob_size(catalog_t *c, const struct cblob *b)
{
	struct catalog_attr a;

	catalog_blob_stat(c, b, &a);
	return a.size;
}

int
catalog_blob_stat(catalog_t *c, const struct cblob *b, struct catalog_attr *a)
{
	struct stat st;
	int rc;

	a->size = b->size;
	a->atime_ns = b->atime_ns;
	a->mtime_ns = b->mtime_ns;
	a->ctime_ns = b->ctime_ns;
	/* While written, the kernel moves the file's times on every write,
	 * ours or passed through, and utimensat sets them there too. */
	if (b->sealed || b->deleted)
		return 0;
	if ((rc = store_blob_stat(c->store, b->id, &st)) != 0)
		return rc;
	a->size = (uint64_t)st.st_size;
	a->atime_ns = util_ts_ns(&st.st_atim);
	a->mtime_ns = util_ts_ns(&st.st_mtim);
	if (util_ts_ns(&st.st_ctim) > a->ctime_ns)
		a->ctime_ns = util_ts_ns(&st.st_ctim);
	return 0;
}

static void
blob_attr(catalog_t *c, const struct cblob *b, struct catalog_attr *a)
{
	memset(a, 0, sizeof *a);
	a->ino = b->id;
	a->mode = S_IFREG | (b->mode & 07777);
	a->uid = b->uid;
	a->gid = b->gid;
	catalog_blob_stat(c, b, a);
	a->nlink = b->deleted ? 0 : 1;
	a->sealed = b->sealed;
}

json_t *
catalog_object_tree(catalog_t *c, const struct cobject *o, int depth)
{
	struct object_info info = {
		.id = o->id,
		.typename = o->typename,
		.signature = o->signature,
		.nbytes = o->nbytes,
		.instance_id = id_instance(o->id),
		.sealed = catalog_object_sealed(o),
		.global = catalog_object_is_global(c, o),
		.ctime_ns = o->btime_ns,
	};
	json_t *fields = object_fields_load(o->fields), *members = json_object(), *tree;
	unsigned i;

	for (i = 0; i < o->nmembers; i++) {
		const struct cmember *m = &o->members[i];
		struct cobject *sub;
		json_t *t = NULL;

		if (id_is_blob(m->id)) {
			struct cblob *b = catalog_blob_find(c, m->id);

			if (b != NULL)
				t = object_blob_meta(b->id, catalog_blob_size(c, b), id_instance(b->id),
				    catalog_blob_sealed(b));
		} else if ((sub = catalog_object_find(c, m->id)) != NULL && depth < CATALOG_TREE_DEPTH)
			t = catalog_object_tree(c, sub, depth + 1);
		if (t == NULL) {
			char ids[ID_STR_LEN + 1];

			id_format(m->id, ids);
			t = json_pack("{s:s}", "id", ids);
		}
		json_object_set_new(members, m->name, t);
	}
	if (!o->sealed) {
		struct cblob *b = catalog_object_data_blob(c, o);

		if (b != NULL)
			info.nbytes = catalog_blob_size(c, b);
	}
	tree = object_meta(&info, fields, members);
	json_decref(fields);
	return tree;
}

/* Render meta.json of o; caller frees. */
static char *
render_meta(catalog_t *c, const struct cobject *o, size_t *len)
{
	json_t *tree = catalog_object_tree(c, o, 0);
	char *text = object_dump_line(tree, JSON_INDENT(2) | JSON_PRESERVE_ORDER, len);

	json_decref(tree);
	return text;
}

static int
object_view_attr(catalog_t *c, struct cobject *o, enum ino_view view, struct catalog_attr *a)
{
	struct cblob *b;
	size_t len;
	char *text;

	memset(a, 0, sizeof *a);
	a->ino = ino_of(o->id, view);
	a->uid = o->uid;
	a->gid = o->gid;
	a->atime_ns = o->atime_ns;
	a->mtime_ns = o->mtime_ns;
	a->ctime_ns = o->ctime_ns;
	a->sealed = o->sealed;
	a->nlink = 1;
	switch (view) {
	case INO_VIEW_OBJECT:
		a->mode = S_IFDIR | dir_mode(o->mode);
		a->nlink = 2;
		return 0;
	case INO_VIEW_DATA:
		if ((b = catalog_object_data_blob(c, o)) == NULL)
			return -ENOENT;
		a->mode = S_IFREG | (o->mode & 07777);
		catalog_blob_stat(c, b, a);
		a->sealed = b->sealed;
		return 0;
	case INO_VIEW_META:
		a->mode = S_IFREG | (o->mode & 0444);
		if ((text = render_meta(c, o, &len)) == NULL)
			return -ENOMEM;
		free(text);
		a->size = len;
		return 0;
	case INO_VIEW_NAME_LINK:
	case INO_VIEW_MEMBER_LINK:
		a->mode = S_IFLNK | 0777;
		a->size = view == INO_VIEW_NAME_LINK ? strlen("../objects/") + ID_STR_LEN
						     : strlen("../") + ID_STR_LEN;
		a->sealed = 1;
		return 0;
	case INO_VIEW_STREAM: break; /* streams are stream.h's */
	}
	return -ENOENT;
}

static int
getattr_locked(catalog_t *c, uint64_t ino, struct catalog_attr *a)
{
	struct cobject *o;
	struct cblob *b;

	if (ino >= INO_ROOT && ino <= CATALOG_LAST_DIR) {
		fixed_dir_attr(c, ino, a);
		return 0;
	}
	if (id_is_blob(ino)) {
		if ((b = catalog_blob_find(c, ino)) == NULL)
			return -ENOENT;
		blob_attr(c, b, a);
		return 0;
	}
	if ((o = catalog_object_find(c, ino_id(ino))) != NULL)
		return object_view_attr(c, o, ino_view(ino), a);
	/* fstat of names/<n> after its unlink: the blob, with no links. */
	if ((b = hmap_find(&c->ghosts, ino)) != NULL) {
		blob_attr(c, b, a);
		a->ino = ino;
		return 0;
	}
	return -ENOENT;
}

int
catalog_getattr(catalog_t *c, uint64_t ino, struct catalog_attr *a)
{
	int rc;

	/* The fixed directories: no need to wait for the lock to answer the
	 * getattr the kernel sends after every create. */
	if (ino >= INO_ROOT && ino <= CATALOG_LAST_DIR) {
		fixed_dir_attr(c, ino, a);
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	rc = getattr_locked(c, ino, a);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* The names/ entry of an object: its bytes (Blob objects) or a symlink. */
static int
name_attr(catalog_t *c, struct cobject *o, struct catalog_attr *a)
{
	if (catalog_object_data_blob(c, o) != NULL)
		return object_view_attr(c, o, INO_VIEW_DATA, a);
	return object_view_attr(c, o, INO_VIEW_NAME_LINK, a);
}

static int
member_attr(catalog_t *c, const struct cmember *m, struct catalog_attr *a)
{
	struct cobject *sub;
	struct cblob *b;

	if (id_is_blob(m->id)) {
		if ((b = catalog_blob_find(c, m->id)) == NULL || b->deleted)
			return -ENOENT;
		blob_attr(c, b, a);
		return 0;
	}
	if ((sub = catalog_object_find(c, m->id)) == NULL)
		return -ENOENT;
	return object_view_attr(c, sub, INO_VIEW_MEMBER_LINK, a);
}

/* The Arrow view of a packed table (man vineyardfs.7): "table.arrow" is
 * its ipc_ blob, whose bytes are an Arrow IPC file. The entry is that
 * blob's inode, not a copy, so it opens by passthrough and stats without
 * a fetch as the blob does, and is as read-only as the sealed blob. A
 * member of that name, if any, wins; other objects have no view. Being an
 * entry of its own, it is unlinked on its own (view_hidden), whether or
 * not rm -r has unlinked ipc_ before it. */
const struct cmember *
catalog_arrow_view(const struct cobject *o)
{
	const struct cmember *ipc = NULL;
	unsigned i;

	if (o->view_hidden || o->typename == NULL || strcmp(o->typename, "vineyard::Table") != 0)
		return NULL;
	for (i = 0; i < o->nmembers; i++) {
		if (strcmp(o->members[i].name, CATALOG_ARROW_VIEW) == 0)
			return NULL;
		if (strcmp(o->members[i].name, "ipc_") == 0 && id_is_blob(o->members[i].id))
			ipc = &o->members[i];
	}
	return ipc;
}

static int
lookup_locked(catalog_t *c, uint64_t parent, const char *name, struct catalog_attr *a)
{
	const struct cmember *view;

	struct cobject *o;
	struct cblob *b;
	struct cname *n;
	uint64_t id;
	unsigned i;

	switch (parent) {
	case INO_ROOT:
		if (strcmp(name, "objects") == 0)
			id = INO_OBJECTS;
		else if (strcmp(name, "blobs") == 0)
			id = INO_BLOBS;
		else if (strcmp(name, "names") == 0)
			id = INO_NAMES;
		else /* the root's other entries are the fs layer's */
			return -ENOENT;
		fixed_dir_attr(c, id, a);
		return 0;
	case INO_OBJECTS:
		if (id_parse(name, &id) != 0 || id_is_blob(id) || (o = catalog_object_find(c, id)) == NULL)
			return -ENOENT;
		return object_view_attr(c, o, INO_VIEW_OBJECT, a);
	case INO_BLOBS:
		if (id_parse(name, &id) != 0 || !id_is_blob(id) || (b = catalog_blob_find(c, id)) == NULL ||
		    b->deleted)
			return -ENOENT;
		blob_attr(c, b, a);
		return 0;
	case INO_NAMES:
		if ((n = catalog_name_find(c, name)) == NULL)
			return -ENOENT;
		return name_attr(c, n->obj, a);
	}
	if (id_is_blob(parent) || ino_view(parent) != INO_VIEW_OBJECT ||
	    (o = catalog_object_find(c, parent)) == NULL)
		return -ENOTDIR;
	/* Entries unlinked while the object is being removed are gone. */
	if (strcmp(name, "meta.json") == 0)
		return o->meta_hidden ? -ENOENT : object_view_attr(c, o, INO_VIEW_META, a);
	for (i = 0; i < o->nmembers; i++)
		if (strcmp(o->members[i].name, name) == 0)
			return o->members[i].hidden ? -ENOENT : member_attr(c, &o->members[i], a);
	if (strcmp(name, CATALOG_ARROW_VIEW) == 0 && (view = catalog_arrow_view(o)) != NULL)
		return member_attr(c, view, a);
	return -ENOENT;
}

int
catalog_lookup(catalog_t *c, uint64_t parent, const char *name, struct catalog_attr *a)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = lookup_locked(c, parent, name, a);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* ---- listings ---- */

struct list_ctx {
	catalog_t *c;
	catalog_list_fn fn;
	void *arg;
	int rc;
};

static void
list_object(void *v, void *arg)
{
	struct list_ctx *lc = arg;
	struct cobject *o = v;
	struct catalog_attr a;
	char name[ID_STR_LEN + 1];

	if (lc->rc != 0 || object_view_attr(lc->c, o, INO_VIEW_OBJECT, &a) != 0)
		return;
	id_format(o->id, name);
	lc->rc = lc->fn(lc->arg, name, &a);
}

static void
list_blob(void *v, void *arg)
{
	struct list_ctx *lc = arg;
	struct cblob *b = v;
	struct catalog_attr a;
	char name[ID_STR_LEN + 1];

	if (lc->rc != 0 || b->deleted)
		return;
	blob_attr(lc->c, b, &a);
	id_format(b->id, name);
	lc->rc = lc->fn(lc->arg, name, &a);
}

static void
list_name(void *v, void *arg)
{
	struct list_ctx *lc = arg;
	struct cname *n = v;
	struct catalog_attr a;

	if (lc->rc != 0 || name_attr(lc->c, n->obj, &a) != 0)
		return;
	lc->rc = lc->fn(lc->arg, n->name, &a);
}

static int
list_locked(catalog_t *c, uint64_t dir, catalog_list_fn fn, void *arg)
{
	static const char *const top[] = { "objects", "blobs", "names" };
	struct list_ctx lc = { c, fn, arg, 0 };
	const struct cmember *view;
	struct catalog_attr a;
	struct cobject *o;
	unsigned i;
	int rc;

	switch (dir) {
	case INO_ROOT:
		for (i = 0; i < sizeof top / sizeof top[0]; i++) {
			fixed_dir_attr(c, INO_OBJECTS + i, &a);
			if ((rc = fn(arg, top[i], &a)) != 0)
				return rc;
		}
		return 0;
	case INO_OBJECTS: hmap_foreach(&c->objects, list_object, &lc); return lc.rc;
	case INO_BLOBS: hmap_foreach(&c->blobs, list_blob, &lc); return lc.rc;
	case INO_NAMES: hmap_foreach(&c->names, list_name, &lc); return lc.rc;
	}
	if (id_is_blob(dir) || ino_view(dir) != INO_VIEW_OBJECT || (o = catalog_object_find(c, dir)) == NULL)
		return -ENOTDIR;
	if (!o->meta_hidden &&
	    ((rc = object_view_attr(c, o, INO_VIEW_META, &a)) != 0 || (rc = fn(arg, "meta.json", &a)) != 0))
		return rc;
	for (i = 0; i < o->nmembers; i++) {
		if (o->members[i].hidden || member_attr(c, &o->members[i], &a) != 0)
			continue;
		if ((rc = fn(arg, o->members[i].name, &a)) != 0)
			return rc;
	}
	if ((view = catalog_arrow_view(o)) != NULL && member_attr(c, view, &a) == 0)
		return fn(arg, CATALOG_ARROW_VIEW, &a);
	return 0;
}

int
catalog_list(catalog_t *c, uint64_t dir, catalog_list_fn fn, void *arg)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = list_locked(c, dir, fn, arg);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
catalog_readlink(catalog_t *c, uint64_t ino, char **target)
{
	enum ino_view view = ino_view(ino);
	char ids[ID_STR_LEN + 1];
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (id_is_blob(ino) || (view != INO_VIEW_NAME_LINK && view != INO_VIEW_MEMBER_LINK))
		rc = -EINVAL;
	else if (catalog_object_find(c, ino_id(ino)) == NULL)
		rc = -ENOENT;
	pthread_mutex_unlock(&c->lock);
	if (rc != 0)
		return rc;
	id_format(ino_id(ino), ids);
	if (asprintf(target, "%s%s", view == INO_VIEW_NAME_LINK ? "../objects/" : "../", ids) < 0)
		return -ENOMEM;
	return 0;
}

int
catalog_read_generated(catalog_t *c, uint64_t ino, char **text, size_t *len)
{
	struct cobject *o;
	int rc = 0;

	if (id_is_blob(ino) || ino_view(ino) != INO_VIEW_META)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	if ((o = catalog_object_find(c, ino_id(ino))) == NULL)
		rc = -ENOENT;
	else if ((*text = render_meta(c, o, len)) == NULL)
		rc = -ENOMEM;
	pthread_mutex_unlock(&c->lock);
	return rc;
}
