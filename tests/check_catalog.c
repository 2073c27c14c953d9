/*
 * check_catalog: the catalog over a backing directory (no mount): creating
 * and sealing Blob objects, lookups and listings, removal (deep, and entry
 * by entry as rm -r does), xattrs, blob lifetimes past deletion, restart
 * and crash recovery, the memory limit.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "core/catalog.h"
#include "core/id.h"
#include "core/meta.h"
#include "core/object.h"
#include "core/request.h"
#include "tests/check_core.h"

#define KIB 1024
#define MIB (1024 * 1024)
#define INSTANCE 7
#define X(f) "user.vineyard." f

/* What the hooks saw. */
struct hooks {
	struct test_freed freed;
	unsigned inval_entries;
	unsigned names_changed;
	struct {
		uint64_t parent;
		char name[CATALOG_NAME_MAX + 1];
	} entries[64];
};

static struct hooks hk;
static char *state, *backing;
static struct catalog_config cfg;
static catalog_t *cat;

static void
on_blob_freed(void *arg, uint64_t id)
{
	struct hooks *h = arg;

	ck_assert_ptr_eq(h, &hk);
	test_freed_add(&h->freed, id);
}

static void
on_names_changed(void *arg, uint64_t id)
{
	(void)id;
	((struct hooks *)arg)->names_changed++;
}

static void
on_inval_entry(void *arg, uint64_t parent, const char *name)
{
	struct hooks *h = arg;

	if (h->inval_entries < 64) {
		h->entries[h->inval_entries].parent = parent;
		snprintf(h->entries[h->inval_entries].name, sizeof h->entries[0].name, "%s", name);
	}
	h->inval_entries++;
}

static int
was_freed(uint64_t id)
{
	return test_was_freed(&hk.freed, id);
}

static int
entry_invalidated(uint64_t parent, const char *name)
{
	unsigned i;

	for (i = 0; i < hk.inval_entries && i < 64; i++)
		if (hk.entries[i].parent == parent && strcmp(hk.entries[i].name, name) == 0)
			return 1;
	return 0;
}

static void
cat_setup(void)
{
	memset(&hk, 0, sizeof hk);
	state = test_mkdtemp("state");
	backing = test_mkdtemp("mem");
	memset(&cfg, 0, sizeof cfg);
	cfg.state_dir = state;
	cfg.backing_dir = backing;
	cfg.memory_limit = 64 * MIB;
	cfg.instance_id = INSTANCE;
	cfg.hook_arg = &hk;
	cfg.blob_freed = on_blob_freed;
	cfg.inval_entry = on_inval_entry;
	cfg.names_changed = on_names_changed;
	cat = NULL;
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	ck_assert_ptr_nonnull(cat);
}

static void
cat_teardown(void)
{
	catalog_close(cat);
	test_rmtree(state);
	test_rmtree(backing);
	free(state);
	free(backing);
}

/* Close and reopen the catalog on the same directories. */
static void
reopen(void)
{
	catalog_close(cat);
	cat = NULL;
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
}

/* A new Blob object with data, still open for writing. */
struct made {
	struct catalog_attr attr; /* of names/<name> */
	uint64_t oid, bid;
	int fd;
};

static void
create(const char *name, const void *data, size_t len, uid_t uid, gid_t gid, mode_t mode, struct made *m)
{
	memset(m, 0, sizeof *m);
	m->fd = -1;
	ck_assert_int_eq(catalog_create_blob_object(cat, name, uid, gid, mode, &m->attr, &m->bid, &m->fd), 0);
	ck_assert_int_ge(m->fd, 0);
	ck_assert(id_is_blob(m->bid));
	ck_assert_int_eq(ino_view(m->attr.ino), INO_VIEW_DATA);
	m->oid = ino_id(m->attr.ino);
	ck_assert(!id_is_blob(m->oid));
	if (len > 0)
		ck_assert_int_eq(pwrite(m->fd, data, len, 0), (ssize_t)len);
}

/* A sealed Blob object: create, write, close, release. */
static void
make_sealed(const char *name, const void *data, size_t len, struct made *m)
{
	create(name, data, len, 1000, 1000, 0644, m);
	ck_assert_int_eq(close(m->fd), 0);
	m->fd = -1;
	catalog_release(cat, m->bid, 1);
}

static void
blob_path(uint64_t bid, char *buf, size_t len)
{
	char name[ID_STR_LEN + 1];

	id_format(bid, name);
	snprintf(buf, len, "%s/%s", backing, name);
}

/* getxattr as a string; asserts success. Caller frees. */
static char *
xget(uint64_t ino, const char *name)
{
	char *v = NULL, *s;
	size_t len = 0;
	int rc = catalog_xattr_get(cat, ino, name, &v, &len);

	ck_assert_msg(rc == 0, "getxattr %s: %d", name, rc);
	s = strndup(v, len);
	free(v);
	return s;
}

static void
xget_is(uint64_t ino, const char *name, const char *want)
{
	char *v = xget(ino, name);

	ck_assert_str_eq(v, want);
	free(v);
}

static int
xset(uint64_t ino, const char *name, const char *value, int flags)
{
	return catalog_xattr_set(cat, ino, name, value, strlen(value), flags);
}

static void
read_is(uint64_t ino, const void *data, size_t len)
{
	char *buf = malloc(len + 1);
	uint64_t bid = 0;
	int fd = -1;

	ck_assert_int_eq(catalog_open_data(cat, ino, 0, &bid, &fd), 0);
	ck_assert_int_eq(pread(fd, buf, len + 1, 0), (ssize_t)len);
	ck_assert_int_eq(memcmp(buf, data, len), 0);
	close(fd);
	catalog_release(cat, bid, 0);
	free(buf);
}

static const char DATA[] = "hello, vineyard";
#define DLEN (sizeof DATA - 1)

START_TEST(test_create_and_seal)
{
	struct catalog_attr a;
	struct catalog_stats s;
	struct made m;
	char path[PATH_MAX];

	create("alpha", DATA, DLEN, 1000, 1001, 0640, &m);
	ck_assert_uint_eq(m.attr.mode, S_IFREG | 0640);
	ck_assert_uint_eq(m.attr.uid, 1000);
	ck_assert_uint_eq(m.attr.gid, 1001);
	ck_assert_uint_eq(m.attr.nlink, 1);
	ck_assert_int_eq(m.attr.sealed, 0);
	ck_assert_uint_eq(id_instance(m.oid), INSTANCE);
	ck_assert_uint_eq(id_instance(m.bid), INSTANCE);
	blob_path(m.bid, path, sizeof path);
	ck_assert(test_exists(path));
	/* Unsealed: the size is the file's as it is written. */
	ck_assert_int_eq(catalog_getattr(cat, m.attr.ino, &a), 0);
	ck_assert_int_eq(a.sealed, 0);
	ck_assert_uint_eq(a.size, DLEN);
	xget_is(m.attr.ino, X("sealed"), "false");
	xget_is(m.attr.ino, X("nbytes"), "15");
	xget_is(m.bid, X("sealed"), "false");
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.instance_id, INSTANCE);
	ck_assert_uint_eq(s.creates, 1);
	ck_assert_uint_eq(s.objects, 1);
	ck_assert_uint_eq(s.blobs, 1);
	ck_assert_uint_eq(s.blobs_unsealed, 1);
	ck_assert_uint_eq(s.blobs_sealed, 0);
	ck_assert_uint_eq(s.names, 1);
	ck_assert_uint_eq(s.memory_used, 0);
	ck_assert_int_eq(close(m.fd), 0);
	catalog_release(cat, m.bid, 1);
	/* Sealed by the release of the only writer. */
	ck_assert_int_eq(catalog_getattr(cat, m.attr.ino, &a), 0);
	ck_assert_int_eq(a.sealed, 1);
	ck_assert_uint_eq(a.size, DLEN);
	ck_assert_uint_eq(a.mode, S_IFREG | 0640);
	ck_assert_int_eq(catalog_getattr(cat, m.bid, &a), 0);
	ck_assert_int_eq(a.sealed, 1);
	ck_assert_uint_eq(a.size, DLEN);
	ck_assert_int_eq(catalog_getattr(cat, m.oid, &a), 0);
	ck_assert_int_eq(a.sealed, 1);
	ck_assert_uint_eq(a.mode, S_IFDIR | 0750);
	xget_is(m.attr.ino, X("sealed"), "true");
	xget_is(m.oid, X("sealed"), "true");
	xget_is(m.bid, X("sealed"), "true");
	xget_is(m.oid, X("nbytes"), "15");
	xget_is(m.bid, X("nbytes"), "15");
	xget_is(m.oid, X("typename"), "Blob");
	xget_is(m.oid, X("global"), "false");
	xget_is(m.oid, X("instance_id"), "7");
	read_is(m.attr.ino, DATA, DLEN);
	read_is(m.bid, DATA, DLEN);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.seals, 1);
	ck_assert_uint_eq(s.blobs_sealed, 1);
	ck_assert_uint_eq(s.blobs_unsealed, 0);
	ck_assert_uint_eq(s.memory_used, DLEN);
	ck_assert_uint_eq(s.discards, 0);
	ck_assert_uint_eq(hk.freed.n, 0);
}
END_TEST

START_TEST(test_last_writer_seals)
{
	struct catalog_attr a;
	uint64_t bid = 0;
	struct made m;
	int fd = -1, rfd = -1;

	create("alpha", DATA, DLEN, 0, 0, 0600, &m);
	ck_assert_int_eq(catalog_open_data(cat, m.attr.ino, 1, &bid, &fd), 0);
	ck_assert_uint_eq(bid, m.bid);
	ck_assert_int_eq(catalog_open_data(cat, m.bid, 0, &bid, &rfd), 0);
	close(m.fd);
	catalog_release(cat, m.bid, 1);
	ck_assert_int_eq(catalog_getattr(cat, m.attr.ino, &a), 0);
	ck_assert_int_eq(a.sealed, 0); /* a writer remains */
	ck_assert_int_eq(pwrite(fd, "!", 1, DLEN), 1);
	close(fd);
	catalog_release(cat, m.bid, 1);
	ck_assert_int_eq(catalog_getattr(cat, m.attr.ino, &a), 0);
	ck_assert_int_eq(a.sealed, 1); /* readers do not hold the seal back */
	ck_assert_uint_eq(a.size, DLEN + 1);
	close(rfd);
	catalog_release(cat, m.bid, 0);
	ck_assert_uint_eq(hk.freed.n, 0);
}
END_TEST

START_TEST(test_sealed_is_read_only)
{
	struct catalog_set trunc = CATALOG_SET_NONE, touch = CATALOG_SET_NONE;
	struct catalog_attr a, before;
	uint64_t bid = 0;
	struct made m;
	char *born;
	int fd = -1;

	trunc.size = 0;
	touch.atime_ns = 678;
	touch.mtime_ns = -1500000001; /* before 1970 too */
	make_sealed("alpha", DATA, DLEN, &m);
	ck_assert_int_eq(catalog_open_data(cat, m.attr.ino, 1, &bid, &fd), -EPERM);
	ck_assert_int_eq(catalog_open_data(cat, m.bid, 1, &bid, &fd), -EPERM);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(catalog_setattr(cat, m.attr.ino, -1, &trunc, &a), -EPERM);
	ck_assert_int_eq(catalog_setattr(cat, m.bid, -1, &trunc, &a), -EPERM);
	/* Times are metadata: set after the seal, as root or the owner may
	 * (the kernel checks who), through every name of the data. */
	ck_assert_int_eq(catalog_getattr(cat, m.attr.ino, &before), 0);
	born = xget(m.oid, X("ctime"));
	ck_assert_int_eq(catalog_setattr(cat, m.attr.ino, -1, &touch, &a), 0);
	/* Vineyard's ctime is the creation time: it stays. */
	xget_is(m.oid, X("ctime"), born);
	free(born);
	ck_assert_int_eq(a.mtime_ns, -1500000001);
	ck_assert_int_eq(a.atime_ns, 678);
	ck_assert_int_ge(a.ctime_ns, before.ctime_ns);
	ck_assert_uint_eq(a.size, DLEN);
	ck_assert_int_eq(catalog_getattr(cat, m.bid, &a), 0);
	ck_assert_int_eq(a.mtime_ns, -1500000001);
	ck_assert_int_eq(a.atime_ns, 678);
	ck_assert_int_eq(catalog_open_data(cat, m.bid, 0, &bid, &fd), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	ck_assert_int_eq(catalog_write(cat, m.bid, fd, "x", 1, 0), -EPERM);
	close(fd);
	catalog_release(cat, bid, 0);
	/* Unknown inodes, and inodes that hold no data. */
	ck_assert_int_eq(catalog_open_data(cat, ID_BLOB_BIT | 12345, 0, &bid, &fd), -ENOENT);
	ck_assert_int_eq(catalog_open_data(cat, m.oid, 0, &bid, &fd), -ENOENT);
	ck_assert_int_eq(catalog_open_data(cat, ino_of(m.oid, INO_VIEW_META), 0, &bid, &fd), -ENOENT);
	read_is(m.attr.ino, DATA, DLEN);
}
END_TEST

START_TEST(test_lookups)
{
	char oname[ID_STR_LEN + 1], bname[ID_STR_LEN + 1], *text = NULL;
	struct catalog_attr a;
	uint64_t bid = 0;
	size_t len = 0;
	json_t *tree;
	struct made m;

	make_sealed("alpha", DATA, DLEN, &m);
	id_format(m.oid, oname);
	id_format(m.bid, bname);

	ck_assert_int_eq(catalog_lookup(cat, INO_ROOT, "objects", &a), 0);
	ck_assert_uint_eq(a.ino, INO_OBJECTS);
	ck_assert_uint_eq(a.mode, S_IFDIR | 01777);
	ck_assert_int_eq(catalog_lookup(cat, INO_ROOT, "blobs", &a), 0);
	ck_assert_uint_eq(a.ino, INO_BLOBS);
	ck_assert_uint_eq(a.mode, S_IFDIR | 0555);
	ck_assert_int_eq(catalog_lookup(cat, INO_ROOT, "names", &a), 0);
	ck_assert_uint_eq(a.ino, INO_NAMES);
	/* The root's other entries are the fs layer's (tests/check_fs.c). */
	ck_assert_int_eq(catalog_lookup(cat, INO_ROOT, ".vineyardfs", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_ROOT, "other", &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, INO_ROOT, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFDIR | 0755);

	/* names/alpha: the Blob object's bytes. */
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "alpha", &a), 0);
	ck_assert_uint_eq(a.ino, ino_of(m.oid, INO_VIEW_DATA));
	ck_assert_uint_eq(a.mode, S_IFREG | 0644);
	ck_assert_uint_eq(a.size, DLEN);
	ck_assert_uint_eq(a.uid, 1000);
	ck_assert_int_eq(a.sealed, 1);
	ck_assert_int_eq(catalog_data_blob(cat, a.ino, &bid), 0);
	ck_assert_uint_eq(bid, m.bid);
	/* objects/o…: the directory. */
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &a), 0);
	ck_assert_uint_eq(a.ino, m.oid);
	ck_assert_uint_eq(a.mode, S_IFDIR | 0755);
	ck_assert_uint_eq(a.nlink, 2);
	/* blobs/b…: the blob. */
	ck_assert_int_eq(catalog_lookup(cat, INO_BLOBS, bname, &a), 0);
	ck_assert_uint_eq(a.ino, m.bid);
	ck_assert_uint_eq(a.mode, S_IFREG | 0644);
	ck_assert_uint_eq(a.size, DLEN);
	ck_assert_uint_eq(a.nlink, 1);
	/* Inside objects/o…: meta.json and the member buffer_. */
	ck_assert_int_eq(catalog_lookup(cat, m.oid, "meta.json", &a), 0);
	ck_assert_uint_eq(a.ino, ino_of(m.oid, INO_VIEW_META));
	ck_assert_uint_eq(a.mode, S_IFREG | 0444);
	ck_assert_int_eq(catalog_read_generated(cat, a.ino, &text, &len), 0);
	ck_assert_uint_eq(a.size, len);
	ck_assert_uint_eq(strlen(text), len);
	tree = json_loadb(text, len, 0, NULL);
	free(text);
	ck_assert_ptr_nonnull(tree);
	ck_assert_str_eq(json_string_value(json_object_get(tree, "typename")), "Blob");
	ck_assert_str_eq(json_string_value(json_object_get(tree, "id")), oname);
	ck_assert_int_eq(json_integer_value(json_object_get(tree, "nbytes")), DLEN);
	ck_assert(json_is_true(json_object_get(tree, "sealed")));
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(tree, OBJECT_BLOB_MEMBER), "id")), bname);
	json_decref(tree);
	ck_assert_int_eq(catalog_lookup(cat, m.oid, OBJECT_BLOB_MEMBER, &a), 0);
	ck_assert_uint_eq(a.ino, m.bid);
	ck_assert_uint_eq(a.size, DLEN);
	xget_is(m.oid, X("member.buffer_"), bname);
	xget_is(m.oid, X("id"), oname);
	xget_is(m.bid, X("id"), bname);

	/* What is not there. */
	ck_assert_int_eq(catalog_lookup(cat, m.oid, "nope", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "beta", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, "junk", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, bname, &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_BLOBS, oname, &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, "o0007000000000001", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, m.bid, "x", &a), -ENOTDIR);
	ck_assert_int_eq(catalog_lookup(cat, m.attr.ino, "x", &a), -ENOTDIR);
	ck_assert_int_eq(catalog_getattr(cat, ino_of(m.oid | 0xfff0, INO_VIEW_OBJECT), &a), -ENOENT);
	ck_assert_int_eq(catalog_read_generated(cat, m.oid, &text, &len), -EINVAL);
	ck_assert_int_eq(catalog_readlink(cat, ino_of(m.oid, INO_VIEW_META), &text), -EINVAL);
}
END_TEST

#define MAXLIST 16

struct listing {
	char *names[MAXLIST];
	struct catalog_attr attrs[MAXLIST];
	int n;
	int stop_at;
};

static int
on_entry(void *arg, const char *name, const struct catalog_attr *attr)
{
	struct listing *l = arg;

	ck_assert_int_lt(l->n, MAXLIST);
	l->names[l->n] = strdup(name);
	l->attrs[l->n] = *attr;
	l->n++;
	return l->n == l->stop_at ? 77 : 0;
}

/* The attributes listed under name; asserts it was listed once. */
static const struct catalog_attr *
listed(const struct listing *l, const char *name)
{
	const struct catalog_attr *a = NULL;
	int i, n = 0;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->names[i], name) == 0) {
			a = &l->attrs[i];
			n++;
		}
	}
	ck_assert_msg(n == 1, "\"%s\" listed %d times", name, n);
	return a;
}

static void
list_free(struct listing *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		free(l->names[i]);
	memset(l, 0, sizeof *l);
}

static void
list(uint64_t dir, struct listing *l)
{
	list_free(l);
	ck_assert_int_eq(catalog_list(cat, dir, on_entry, l), 0);
}

START_TEST(test_listings)
{
	char oa[ID_STR_LEN + 1], ob[ID_STR_LEN + 1], ba[ID_STR_LEN + 1], bb[ID_STR_LEN + 1];
	struct listing l = { 0 };
	struct made a, b;

	make_sealed("alpha", DATA, DLEN, &a);
	make_sealed("beta", "xy", 2, &b);
	id_format(a.oid, oa);
	id_format(b.oid, ob);
	id_format(a.bid, ba);
	id_format(b.bid, bb);

	list(INO_ROOT, &l);
	ck_assert_int_eq(l.n, 3); /* streams/ and .vineyardfs/ are the fs layer's */
	ck_assert_uint_eq(listed(&l, "objects")->ino, INO_OBJECTS);
	ck_assert_uint_eq(listed(&l, "blobs")->ino, INO_BLOBS);
	ck_assert_uint_eq(listed(&l, "names")->ino, INO_NAMES);

	list(INO_NAMES, &l);
	ck_assert_int_eq(l.n, 2);
	ck_assert_uint_eq(listed(&l, "alpha")->ino, ino_of(a.oid, INO_VIEW_DATA));
	ck_assert_uint_eq(listed(&l, "alpha")->size, DLEN);
	ck_assert_uint_eq(listed(&l, "beta")->ino, ino_of(b.oid, INO_VIEW_DATA));
	ck_assert_uint_eq(listed(&l, "beta")->size, 2);

	list(INO_OBJECTS, &l);
	ck_assert_int_eq(l.n, 2);
	ck_assert_uint_eq(listed(&l, oa)->ino, a.oid);
	ck_assert(S_ISDIR(listed(&l, oa)->mode));
	ck_assert_uint_eq(listed(&l, ob)->ino, b.oid);

	list(INO_BLOBS, &l);
	ck_assert_int_eq(l.n, 2);
	ck_assert_uint_eq(listed(&l, ba)->ino, a.bid);
	ck_assert_uint_eq(listed(&l, bb)->ino, b.bid);
	ck_assert_uint_eq(listed(&l, bb)->size, 2);

	list(a.oid, &l);
	ck_assert_int_eq(l.n, 2);
	ck_assert_uint_eq(listed(&l, "meta.json")->ino, ino_of(a.oid, INO_VIEW_META));
	ck_assert_uint_eq(listed(&l, OBJECT_BLOB_MEMBER)->ino, a.bid);

	/* A non-zero return stops the listing. */
	list_free(&l);
	l.stop_at = 1;
	ck_assert_int_eq(catalog_list(cat, INO_NAMES, on_entry, &l), 77);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(catalog_list(cat, a.bid, on_entry, &l), -ENOTDIR);
	ck_assert_int_eq(catalog_list(cat, a.attr.ino, on_entry, &l), -ENOTDIR);
	ck_assert_int_eq(l.n, 1);
	list_free(&l);
}
END_TEST

START_TEST(test_bad_names)
{
	char longname[CATALOG_NAME_MAX + 2];
	struct catalog_attr a;
	struct catalog_stats s;
	uint64_t bid = 0;
	struct made m;
	int fd = -1;

	create("alpha", NULL, 0, 0, 0, 0644, &m);
	ck_assert_int_eq(catalog_create_blob_object(cat, "alpha", 0, 0, 0644, &a, &bid, &fd), -EEXIST);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(catalog_create_blob_object(cat, "", 0, 0, 0644, &a, &bid, &fd), -EINVAL);
	ck_assert_int_eq(catalog_create_blob_object(cat, "a/b", 0, 0, 0644, &a, &bid, &fd), -EINVAL);
	ck_assert_int_eq(catalog_create_blob_object(cat, "/", 0, 0, 0644, &a, &bid, &fd), -EINVAL);
	ck_assert_int_eq(catalog_create_blob_object(cat, "..", 0, 0, 0644, &a, &bid, &fd), -EINVAL);
	ck_assert_int_eq(catalog_create_blob_object(cat, ".", 0, 0, 0644, &a, &bid, &fd), -EINVAL);
	memset(longname, 'x', CATALOG_NAME_MAX + 1);
	longname[CATALOG_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(catalog_create_blob_object(cat, longname, 0, 0, 0644, &a, &bid, &fd), -ENAMETOOLONG);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, 1);
	ck_assert_uint_eq(s.blobs, 1);
	ck_assert_uint_eq(s.names, 1);
	ck_assert_uint_eq(s.creates, 1);
	/* Exactly 255 bytes is fine, and so are dots inside a name. */
	longname[CATALOG_NAME_MAX] = '\0';
	ck_assert_int_eq(catalog_create_blob_object(cat, longname, 0, 0, 0644, &a, &bid, &fd), 0);
	close(fd);
	catalog_release(cat, bid, 1);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, longname, &a), 0);
	ck_assert_int_eq(catalog_create_blob_object(cat, "...", 0, 0, 0644, &a, &bid, &fd), 0);
	close(fd);
	catalog_release(cat, bid, 1);
	/* The failed creates left no blob file behind. */
	{
		struct listing l = { 0 };

		list(INO_BLOBS, &l);
		ck_assert_int_eq(l.n, 3);
		list_free(&l);
	}
	close(m.fd);
	catalog_release(cat, m.bid, 1);
}
END_TEST

START_TEST(test_unlink)
{
	char oname[ID_STR_LEN + 1], bname[ID_STR_LEN + 1], path[PATH_MAX];
	struct catalog_attr a;
	struct catalog_stats s;
	struct made m, keep;

	make_sealed("alpha", DATA, DLEN, &m);
	make_sealed("keep", "k", 1, &keep);
	id_format(m.oid, oname);
	id_format(m.bid, bname);
	blob_path(m.bid, path, sizeof path);
	ck_assert(test_exists(path));
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, "alpha", 1000), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "alpha", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_BLOBS, bname, &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, m.oid, &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, m.attr.ino, &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, m.bid, &a), -ENOENT);
	ck_assert(!test_exists(path));
	ck_assert_uint_eq(hk.freed.n, 1);
	ck_assert_int_eq(was_freed(m.bid), 1);
	/* The kernel drops the entry it unlinks itself; an invalidation from
	 * the daemon would wait for the unlink to finish. The other views of
	 * the object are the daemon's to invalidate. */
	ck_assert(!entry_invalidated(INO_NAMES, "alpha"));
	ck_assert(entry_invalidated(INO_OBJECTS, oname));
	ck_assert(entry_invalidated(INO_BLOBS, bname));
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, 1);
	ck_assert_uint_eq(s.blobs, 1);
	ck_assert_uint_eq(s.names, 1);
	ck_assert_uint_eq(s.deletes, 1);
	ck_assert_uint_eq(s.memory_used, 1);
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, "alpha", 1000), -ENOENT);
	ck_assert_int_eq(catalog_unlink(cat, INO_OBJECTS, "keep", 1000), -EPERM);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "keep", &a), 0);
	/* Gone for good: not back after a restart. */
	reopen();
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "alpha", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "keep", &a), 0);
	/* The name is free again. */
	make_sealed("alpha", "new", 3, &m);
	read_is(m.attr.ino, "new", 3);
}
END_TEST

START_TEST(test_rmdir)
{
	char oname[ID_STR_LEN + 1], bname[ID_STR_LEN + 1], path[PATH_MAX];
	struct catalog_attr a;
	struct catalog_stats s;
	struct made m;

	make_sealed("alpha", DATA, DLEN, &m);
	id_format(m.oid, oname);
	id_format(m.bid, bname);
	blob_path(m.bid, path, sizeof path);
	ck_assert_int_eq(catalog_rmdir(cat, INO_ROOT, "objects"), -EPERM);
	ck_assert_int_eq(catalog_rmdir(cat, INO_NAMES, "alpha"), -ENOTDIR);
	ck_assert_int_eq(catalog_rmdir(cat, INO_OBJECTS, bname), -ENOENT);
	ck_assert_int_eq(catalog_rmdir(cat, INO_OBJECTS, "junk"), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "alpha", &a), 0);
	ck_assert_int_eq(catalog_rmdir(cat, INO_OBJECTS, oname), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "alpha", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_BLOBS, bname, &a), -ENOENT);
	ck_assert(!test_exists(path));
	ck_assert_int_eq(was_freed(m.bid), 1);
	/* The names go behind the kernel's back; the directory does not. */
	ck_assert(entry_invalidated(INO_NAMES, "alpha"));
	ck_assert(!entry_invalidated(INO_OBJECTS, oname));
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, 0);
	ck_assert_uint_eq(s.blobs, 0);
	ck_assert_uint_eq(s.names, 0);
	ck_assert_uint_eq(s.memory_used, 0);
	ck_assert_int_eq(catalog_rmdir(cat, INO_OBJECTS, oname), -ENOENT);
	reopen();
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "alpha", &a), -ENOENT);
}
END_TEST

START_TEST(test_rename)
{
	char bname[ID_STR_LEN + 1];
	struct catalog_attr a;
	struct catalog_stats s;
	struct made x, y, w;

	make_sealed("x", "xx", 2, &x);
	make_sealed("y", "yyy", 3, &y);
	id_format(y.bid, bname);
	ck_assert_int_eq(catalog_rename(cat, INO_NAMES, "nope", INO_NAMES, "z", 0), -ENOENT);
	ck_assert_int_eq(catalog_rename(cat, INO_NAMES, "x", INO_OBJECTS, "z", 0), -EPERM);
	ck_assert_int_eq(catalog_rename(cat, INO_NAMES, "x", INO_NAMES, "a/b", 0), -EINVAL);
	ck_assert_int_eq(
	    catalog_rename(cat, INO_NAMES, "x", INO_NAMES, "y", CATALOG_RENAME_NOREPLACE), -EEXIST);
	ck_assert_int_eq(catalog_rename(cat, INO_NAMES, "x", INO_NAMES, "x2", 0), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "x", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "x2", &a), 0);
	ck_assert_uint_eq(a.ino, x.attr.ino); /* same object, same inode */
	read_is(a.ino, "xx", 2);
	/* Over y: y's object had no other name and goes, blob and all. */
	ck_assert_int_eq(catalog_rename(cat, INO_NAMES, "x2", INO_NAMES, "y", 0), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "y", &a), 0);
	ck_assert_uint_eq(a.ino, x.attr.ino);
	ck_assert_int_eq(catalog_lookup(cat, INO_BLOBS, bname, &a), -ENOENT);
	ck_assert_int_eq(was_freed(y.bid), 1);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, 1);
	ck_assert_uint_eq(s.names, 1);
	/* An unsealed object can be renamed; it is sealed under its new name. */
	create("w", "w", 1, 1000, 1000, 0644, &w);
	ck_assert_int_eq(catalog_rename(cat, INO_NAMES, "w", INO_NAMES, "w2", 0), 0);
	ck_assert_int_eq(close(w.fd), 0);
	catalog_release(cat, w.bid, 1);
	reopen();
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "y", &a), 0);
	read_is(a.ino, "xx", 2);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "w2", &a), 0);
	read_is(a.ino, "w", 1);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "x2", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "w", &a), -ENOENT);
}
END_TEST

/* Create a Tensor of float64 with shape [rows] (or [r, c]) over blob bid. */
static int
tensor_on(uint64_t bid, json_t *shape, const char *name, uid_t uid, uint64_t *oid, char *err)
{
	char ids[ID_STR_LEN + 1];
	json_t *fields, *members;
	int rc;

	id_format(bid, ids);
	fields = json_pack("{s:s, s:o}", "value_type_", "float64", "shape_", shape);
	members = json_pack("{s:s}", "buffer_", ids);
	rc = catalog_create_object(cat, "Tensor", fields, members, name, uid, 1000, 0644, oid, err, 256);
	json_decref(fields);
	json_decref(members);
	return rc;
}

START_TEST(test_composite)
{
	char err[256], ids[ID_STR_LEN + 1], *target = NULL, *text = NULL;
	uint64_t t1, t2, df, none = 0;
	struct catalog_attr a;
	struct catalog_stats s;
	json_t *fields, *members;
	struct made raw, raw2, open_one;
	size_t len;

	static const char zeros[48];

	make_sealed("raw", zeros, 48, &raw);   /* 6 float64 */
	make_sealed("raw2", zeros, 16, &raw2); /* 2 float64 */
	ck_assert_int_eq(tensor_on(raw.bid, json_pack("[i,i]", 2, 3), "t", 1000, &t1, err), 0);
	ck_assert_str_eq(err, "");
	/* names/t is a link to the object directory, whose buffer_ is the blob. */
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "t", &a), 0);
	ck_assert(S_ISLNK(a.mode));
	ck_assert_int_eq(catalog_readlink(cat, a.ino, &target), 0);
	id_format(t1, ids);
	ck_assert_str_eq(target + strlen("../objects/"), ids);
	free(target);
	ck_assert_int_eq(catalog_lookup(cat, t1, "buffer_", &a), 0);
	ck_assert_uint_eq(a.ino, raw.bid);
	ck_assert_int_eq(catalog_read_generated(cat, ino_of(t1, INO_VIEW_META), &text, &len), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"value_type_\": \"float64\""));
	ck_assert_ptr_nonnull(strstr(text, "\"nbytes\": 48"));
	free(text);

	/* Rules of the type, members that are not there or not ours. */
	ck_assert_int_eq(tensor_on(raw.bid, json_pack("[i,i]", 2, 4), "bad", 1000, &none, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "needs 64"));
	ck_assert_int_eq(
	    tensor_on(UINT64_C(0x8000000000000001), json_pack("[i]", 1), NULL, 1000, &none, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "no blob"));
	create("open", "x", 1, 1000, 1000, 0644, &open_one);
	ck_assert_int_eq(tensor_on(open_one.bid, json_pack("[i]", 0), NULL, 1000, &none, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not sealed"));
	ck_assert_int_eq(close(open_one.fd), 0);
	catalog_release(cat, open_one.bid, 1);
	ck_assert_int_eq(tensor_on(raw2.bid, json_pack("[i]", 2), NULL, 2000, &none, err), -EACCES);
	ck_assert_int_eq(tensor_on(raw2.bid, json_pack("[i]", 2), "t", 1000, &none, err), -EEXIST);
	ck_assert_int_eq(tensor_on(raw2.bid, json_pack("[i]", 2), NULL, 0, &t2, err), 0); /* root may */
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, 5); /* raw, raw2, open, t, t2: nothing half-made */

	/* A DataFrame of two Tensor objects; its members cannot go first. */
	fields = json_pack("{s:[s]}", "columns_", "x");
	id_format(t2, ids);
	members = json_pack("{s:s}", "x", ids);
	ck_assert_int_eq(
	    catalog_create_object(cat, "DataFrame", fields, members, "df", 0, 0, 0644, &df, err, sizeof err),
	    0);
	json_decref(fields);
	json_decref(members);
	id_format(t2, ids);
	ck_assert_int_eq(catalog_rmdir(cat, INO_OBJECTS, ids), -EBUSY);
	ck_assert_int_eq(catalog_lookup(cat, df, "x", &a), 0);
	ck_assert(S_ISLNK(a.mode)); /* a sub-object member: a link to its directory */

	/* The Blob object that made raw's blob can go; the Tensor keeps it. */
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, "raw", 1000), 0);
	ck_assert_int_eq(was_freed(raw.bid), 0);
	ck_assert_int_eq(catalog_lookup(cat, t1, "buffer_", &a), 0);

	/* Everything, members and references, comes back after a restart. */
	reopen();
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "t", &a), 0);
	ck_assert_int_eq(catalog_lookup(cat, t1, "buffer_", &a), 0);
	ck_assert_uint_eq(a.ino, raw.bid);
	ck_assert_int_eq(catalog_rmdir(cat, INO_OBJECTS, ids), -EBUSY);
	id_format(df, ids);
	ck_assert_int_eq(catalog_rmdir(cat, INO_OBJECTS, ids), 0);
	/* Deep: t2, which df alone held and which had no name, went with it. */
	id_format(t2, ids);
	ck_assert_int_eq(catalog_rmdir(cat, INO_OBJECTS, ids), -ENOENT);
	/* The last holder of raw's blob goes: the blob goes with it. */
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, "t", 1000), 0);
	id_format(raw.bid, ids);
	ck_assert_int_eq(catalog_lookup(cat, INO_BLOBS, ids, &a), -ENOENT);
}
END_TEST

/* Handle req; the reply must be one JSON object line; returns it parsed. */
static json_t *
ask(const char *req, size_t len)
{
	struct request_wait w = { 0 };
	size_t rlen = 0;
	char *reply = request_handle(cat, 1000, 1000, req, len, &rlen, &w);
	json_t *doc;

	if (reply == NULL && w.pending)
		ck_assert_int_eq(request_wait_poll(cat, &w, 1, &reply, &rlen), 1);

	ck_assert_ptr_nonnull(reply);
	ck_assert_uint_eq(rlen, strlen(reply));
	ck_assert_int_eq(reply[rlen - 1], '\n');
	doc = json_loads(reply, 0, NULL);
	ck_assert_msg(json_is_object(doc), "reply is not a JSON object: %s", reply);
	ck_assert(json_is_boolean(json_object_get(doc, "ok")));
	free(reply);
	return doc;
}

static json_t *
ask_str(const char *req)
{
	return ask(req, strlen(req));
}

START_TEST(test_request)
{
	static const char good[] = "{\"op\":\"create\",\"typename\":\"Scalar\","
				   "\"fields\":{\"type_\":\"int8\",\"value_\":1},\"name\":\"s\"}";
	struct catalog_stats s;
	unsigned seed = 12345, i;
	char junk[256];
	json_t *r;
	size_t n;

	r = ask(good, strlen(good));
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_int_eq(json_string_value(json_object_get(r, "id"))[0], 'o');
	json_decref(r);
	r = ask(good, strlen(good)); /* the name is taken now */
	ck_assert(json_is_false(json_object_get(r, "ok")));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), EEXIST);
	ck_assert_str_eq(json_string_value(json_object_get(r, "error")), "EEXIST");
	json_decref(r);
	/* Every truncation of a good request, and random bytes: a JSON error
	 * each time, never a crash, never an object. */
	for (n = 0; n < strlen(good); n++) {
		r = ask(good, n);
		ck_assert(json_is_false(json_object_get(r, "ok")));
		json_decref(r);
	}
	for (i = 0; i < 2000; i++) {
		size_t len = (size_t)rand_r(&seed) % sizeof junk, k;

		for (k = 0; k < len; k++)
			junk[k] = (char)rand_r(&seed);
		r = ask(junk, len);
		ck_assert(json_is_false(json_object_get(r, "ok")));
		json_decref(r);
	}
	r = ask_str("{\"op\":\"create\",\"typename\":\"Tensor\",\"members\":[1]}");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), EINVAL);
	json_decref(r);
	r = ask_str("{\"op\":\"create\",\"typename\":\"X\",\"mode\":99999}");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), EINVAL);
	json_decref(r);
	r = ask_str("{\"op\":5}");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), EINVAL);
	json_decref(r);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, 1);
}
END_TEST

/* A wait for a name: pending until the name names a sealed object; the
 * names_changed hook fires at the seal and at each new name. */
START_TEST(test_request_wait)
{
	static const char req[] = "{\"op\":\"wait\",\"name\":\"w\"}";
	static const char req50[] = "{\"op\":\"wait\",\"name\":\"n2\",\"timeout_ms\":50}";
	struct request_wait w = { 0 };
	struct made m;
	size_t len = 0;
	char *reply = NULL, ids[ID_STR_LEN + 1], want[64];
	unsigned before;
	json_t *r;

	ck_assert_ptr_null(request_handle(cat, 1000, 1000, req, strlen(req), &len, &w));
	ck_assert_int_eq(w.pending, 1);
	ck_assert_str_eq(w.name, "w");
	ck_assert_int_eq(w.timeout_ms, -1);
	ck_assert_int_eq(request_wait_poll(cat, &w, 0, &reply, &len), 0);
	/* The name appears before the bytes are complete: still waiting. */
	before = hk.names_changed;
	create("w", "abc", 3, 1000, 1000, 0644, &m);
	ck_assert_int_eq(request_wait_poll(cat, &w, 0, &reply, &len), 0);
	ck_assert_int_eq(close(m.fd), 0);
	catalog_release(cat, m.bid, 1);
	ck_assert_uint_gt(hk.names_changed, before);
	ck_assert_int_eq(request_wait_poll(cat, &w, 0, &reply, &len), 1);
	id_format(m.oid, ids);
	snprintf(want, sizeof want, "{\"ok\":true,\"id\":\"%s\"}\n", ids);
	ck_assert_str_eq(reply, want);
	free(reply);
	/* Ready at once, a timeout, bad arguments. */
	r = ask_str(req);
	ck_assert_str_eq(json_string_value(json_object_get(r, "id")), ids);
	json_decref(r);
	r = ask_str("{\"op\":\"wait\",\"name\":\"nobody\",\"timeout_ms\":0}");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), ETIMEDOUT);
	json_decref(r);
	ck_assert_ptr_null(request_handle(cat, 0, 0, req50, strlen(req50), &len, &w));
	ck_assert_int_eq(w.timeout_ms, 50);
	ck_assert_int_eq(request_wait_poll(cat, &w, 1, &reply, &len), 1);
	ck_assert_ptr_nonnull(strstr(reply, "\"ETIMEDOUT\""));
	free(reply);
	r = ask_str("{\"op\":\"wait\",\"name\":\"a/b\"}");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), EINVAL);
	json_decref(r);
	r = ask_str("{\"op\":\"wait\",\"name\":\"w\",\"timeout_ms\":-1}");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), EINVAL);
	json_decref(r);
	/* A new name for an existing object fires the hook too. */
	before = hk.names_changed;
	ck_assert_int_eq(catalog_name_add(cat, m.oid, "w2", 1000), 0);
	ck_assert_uint_eq(hk.names_changed, before + 1);
}
END_TEST

START_TEST(test_names_and_delete)
{
	static const char zeros[16];
	char err[256], ids[ID_STR_LEN + 1], req[512];
	struct catalog_attr a;
	struct made raw;
	uint64_t t1;
	json_t *r;

	make_sealed("raw", zeros, 16, &raw);
	ck_assert_int_eq(tensor_on(raw.bid, json_pack("[i]", 2), "t", 1000, &t1, err), 0);
	id_format(t1, ids);
	/* One more name; then the first goes and the object stays. */
	ck_assert_int_eq(catalog_name_add(cat, t1, "alias", 1000), 0);
	ck_assert_int_eq(catalog_name_add(cat, t1, "alias", 1000), -EEXIST);
	ck_assert_int_eq(catalog_name_add(cat, t1, "a/b", 1000), -EINVAL);
	ck_assert_int_eq(catalog_name_add(cat, t1, "other", 2000), -EACCES);
	ck_assert_int_eq(catalog_name_add(cat, raw.bid, "blob", 1000), -ENOENT);
	ck_assert_int_eq(catalog_name_remove(cat, "t", 2000), -EACCES);
	ck_assert_int_eq(catalog_name_remove(cat, "t", 1000), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "t", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "alias", &a), 0);
	ck_assert_int_eq(catalog_name_remove(cat, "alias", 0), 0);	/* the last name, by root */
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, ids, &a), 0); /* still there */
	ck_assert_int_eq(catalog_name_add(cat, t1, "back", 1000), 0);
	reopen();
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "back", &a), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "alias", &a), -ENOENT);
	/* Delete: its owner or root, and not while held. */
	snprintf(req, sizeof req, "{\"op\":\"delete\",\"id\":\"%s\"}", ids);
	ck_assert_int_eq(catalog_delete_object(cat, t1, 2000, CATALOG_DELETE_DEEP), -EACCES);
	ck_assert_int_eq(catalog_delete_object(cat, raw.bid, 1000, CATALOG_DELETE_DEEP), -EINVAL);
	r = ask_str(req); /* as uid 1000, the owner */
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, ids, &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "back", &a), -ENOENT);
	r = ask_str(req);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), ENOENT);
	json_decref(r);
	r = ask_str("{\"op\":\"name\",\"id\":\"x\",\"name\":\"n\"}");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), EINVAL);
	json_decref(r);
	r = ask_str("{\"op\":\"unname\"}");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), EINVAL);
	json_decref(r);
}
END_TEST

/* id as text, in one of a few rotating buffers: several fit in one call. */
static const char *
idstr(uint64_t id)
{
	static char buf[8][ID_STR_LEN + 1];
	static unsigned next;
	char *b = buf[next++ % 8];

	id_format(id, b);
	return b;
}

/* catalog_create_object as uid 1000, mode 0644, taking fields and members. */
static int
make_object(const char *typename, json_t *fields, json_t *members, const char *name, uint64_t *id, char *err)
{
	int rc = catalog_create_object(cat, typename, fields, members, name, 1000, 1000, 0644, id, err, 256);

	json_decref(fields);
	json_decref(members);
	return rc;
}

/* An unnamed float64 Tensor of 2 items over a blob it alone holds: the
 * Blob object that wrote the blob (names/<tmp>) is removed after. */
static uint64_t
column(const char *tmp, uint64_t *bid)
{
	static const double two[2] = { 1.5, 2.5 };
	char err[256];
	struct made m;
	uint64_t t = 0;

	make_sealed(tmp, two, sizeof two, &m);
	ck_assert_int_eq(tensor_on(m.bid, json_pack("[i]", 2), NULL, 1000, &t, err), 0);
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, tmp, 1000), 0);
	ck_assert_int_eq(was_freed(m.bid), 0);
	*bid = m.bid;
	return t;
}

/* A DataFrame of columns x, y (y may be 0: x alone). */
static uint64_t
frame(uint64_t x, uint64_t y, const char *name)
{
	json_t *fields =
	    y != 0 ? json_pack("{s:[s,s]}", "columns_", "x", "y") : json_pack("{s:[s]}", "columns_", "x");
	json_t *members = y != 0 ? json_pack("{s:s, s:s}", "x", idstr(x), "y", idstr(y))
				 : json_pack("{s:s}", "x", idstr(x));
	char err[256];
	uint64_t df = 0;

	ck_assert_msg(make_object("DataFrame", fields, members, name, &df, err) == 0, "DataFrame: %s", err);
	return df;
}

static int
object_exists(uint64_t id)
{
	struct catalog_attr a;

	return catalog_lookup(cat, INO_OBJECTS, idstr(id), &a) == 0;
}

static int
blob_exists(uint64_t id)
{
	struct catalog_attr a;

	return catalog_lookup(cat, INO_BLOBS, idstr(id), &a) == 0;
}

static void
counts_are(uint64_t objects, uint64_t blobs, uint64_t names)
{
	struct catalog_stats s;

	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, objects);
	ck_assert_uint_eq(s.blobs, blobs);
	ck_assert_uint_eq(s.names, names);
}

/* Deleting an object takes the members it leaves unheld and unnamed, at
 * any depth, and their blobs; members held elsewhere or named stay. */
START_TEST(test_deep_delete)
{
	static const double two[2] = { 1.5, 2.5 };
	uint64_t b1, b2, b3, b4, t1, t2, t3, t4, df1, df2, seq = 0, twice = 0;
	char err[256], req[256];
	struct catalog_stats s0, s;
	json_t *r, *members;

	t1 = column("c1", &b1); /* df1's alone */
	t2 = column("c2", &b2); /* df1's and df2's */
	t3 = column("c3", &b3); /* df1's, and named */
	ck_assert_int_eq(catalog_name_add(cat, t3, "kept", 1000), 0);
	df1 = frame(t1, t2, NULL);
	df2 = frame(t2, 0, "df2");
	/* A Sequence over df1: three levels. */
	ck_assert_int_eq(make_object("Sequence", json_pack("{s:i}", "size_", 1),
			     json_pack("{s:s}", "__elements_-0", idstr(df1)), "seq", &seq, err),
	    0);
	/* A Tuple holding one Tensor twice. */
	t4 = column("c4", &b4);
	members = json_pack("{s:s, s:s}", "__elements_-0", idstr(t4), "__elements_-1", idstr(t4));
	ck_assert_int_eq(make_object("Tuple", json_pack("{s:i}", "size_", 2), members, NULL, &twice, err), 0);
	counts_are(8, 4, 3); /* t1-t4, df1, df2, seq, twice; b1-b4; kept, df2, seq */
	catalog_stats(cat, &s0);

	/* Held by seq: EBUSY, deep or not, and nothing goes. */
	ck_assert_int_eq(catalog_delete_object(cat, df1, 1000, CATALOG_DELETE_DEEP), -EBUSY);
	ck_assert_int_eq(catalog_delete_object(cat, df1, 1000, 0), -EBUSY);
	ck_assert_int_eq(catalog_rmdir(cat, INO_OBJECTS, idstr(t2)), -EBUSY);
	counts_are(8, 4, 3);

	/* rm names/seq: seq, df1 (seq held it, unnamed), t1 and its blob. */
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, "seq", 1000), 0);
	ck_assert(!object_exists(seq) && !object_exists(df1) && !object_exists(t1));
	ck_assert(!blob_exists(b1));
	ck_assert_int_eq(was_freed(b1), 1);
	ck_assert(entry_invalidated(INO_OBJECTS, idstr(df1)));
	ck_assert(entry_invalidated(INO_OBJECTS, idstr(t1)));
	ck_assert(entry_invalidated(INO_BLOBS, idstr(b1)));
	/* t2 (df2 holds it) and t3 (named) stay, with their bytes. */
	ck_assert(object_exists(t2) && object_exists(t3) && object_exists(df2));
	ck_assert_int_eq(was_freed(b2) + was_freed(b3), 0);
	read_is(b2, two, sizeof two);
	read_is(b3, two, sizeof two);
	counts_are(5, 3, 2);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.deletes, s0.deletes + 3);
	ck_assert_uint_eq(s.memory_used, s0.memory_used - sizeof two);

	/* A member held twice by one object goes once, after its last hold. */
	ck_assert_int_eq(catalog_delete_object(cat, twice, 1000, CATALOG_DELETE_DEEP), 0);
	ck_assert(!object_exists(twice) && !object_exists(t4) && !blob_exists(b4));
	ck_assert_int_eq(was_freed(b4), 1);
	counts_are(3, 2, 2);

	/* "deep": false deletes df2 alone; t2, held by nothing now, stays. */
	r = ask_str("{\"op\":\"delete\",\"id\":\"o0000000000000001\",\"deep\":\"no\"}");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), EINVAL);
	json_decref(r);
	snprintf(req, sizeof req, "{\"op\":\"delete\",\"id\":\"%s\",\"deep\":false}", idstr(df2));
	r = ask_str(req);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	ck_assert(!object_exists(df2) && object_exists(t2) && blob_exists(b2));
	counts_are(2, 2, 1);

	/* Committed: the same after a restart. */
	reopen();
	counts_are(2, 2, 1);
	ck_assert(!object_exists(seq) && !object_exists(df1) && !object_exists(t1) && !object_exists(df2));
	ck_assert(!object_exists(twice) && !object_exists(t4));
	ck_assert(!blob_exists(b1) && !blob_exists(b4));
	ck_assert(object_exists(t2) && object_exists(t3));
	read_is(b2, two, sizeof two);
	/* The default is deep; t2 is no one's member now. */
	snprintf(req, sizeof req, "{\"op\":\"delete\",\"id\":\"%s\"}", idstr(t2));
	r = ask_str(req);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	counts_are(1, 1, 1);
}
END_TEST

/* rm -r objects/<oid>: each unlink hides an entry and marks the object
 * being removed, in memory only; the rmdir deletes it deep. */
START_TEST(test_remove_entry_by_entry)
{
	static const double two[2] = { 1.5, 2.5 };
	uint64_t b1, b2, t1, t2, df1, df2, ro = 0, none = 0;
	struct catalog_attr a;
	struct listing l = { 0 };
	json_t *fields;
	char err[256];

	t1 = column("c1", &b1);
	t2 = column("c2", &b2);
	df1 = frame(t1, t2, "df1");
	df2 = frame(t2, 0, "df2");
	counts_are(4, 2, 2);
	xget_is(df1, X("state"), "live");

	/* Not the owner: EACCES. Held by another object: EBUSY at once. */
	ck_assert_int_eq(catalog_unlink(cat, df1, "meta.json", 2000), -EACCES);
	ck_assert_int_eq(catalog_unlink(cat, t2, "buffer_", 1000), -EBUSY);
	ck_assert_int_eq(catalog_unlink(cat, t2, "buffer_", 0), -EBUSY);
	ck_assert_int_eq(catalog_unlink(cat, df1, "nosuch", 1000), -ENOENT);
	ck_assert_int_eq(catalog_unlink(cat, b1, "x", 1000), -EPERM);
	ck_assert_int_eq(catalog_lookup(cat, t2, "buffer_", &a), 0);
	ck_assert_int_eq(catalog_lookup(cat, df1, "meta.json", &a), 0);
	xget_is(t2, X("state"), "live");
	xget_is(df1, X("state"), "live");

	/* rm -r objects/<df1>, up to the rmdir. */
	ck_assert_int_eq(catalog_unlink(cat, df1, "meta.json", 1000), 0);
	ck_assert_int_eq(catalog_unlink(cat, df1, "x", 1000), 0);
	ck_assert_int_eq(catalog_unlink(cat, df1, "x", 1000), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, df1, "meta.json", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, df1, "x", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, df1, "y", &a), 0);
	list(df1, &l);
	ck_assert_int_eq(l.n, 1);
	listed(&l, "y");
	xget_is(df1, X("state"), "removing");
	/* The kernel drops the entries it unlinks; nothing else changed. */
	ck_assert(!entry_invalidated(df1, "x"));
	/* Nothing is deleted yet: the data is whole and readable. */
	counts_are(4, 2, 2);
	ck_assert(object_exists(t1) && object_exists(df1));
	read_is(b1, two, sizeof two);
	/* No object may take it as a member now. */
	ck_assert_int_eq(make_object("Sequence", json_pack("{s:i}", "size_", 1),
			     json_pack("{s:s}", "__elements_-0", idstr(df1)), NULL, &none, err),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "being removed"));
	counts_are(4, 2, 2);

	/* A restart before the rmdir: back whole. */
	reopen();
	counts_are(4, 2, 2);
	ck_assert_int_eq(catalog_lookup(cat, df1, "meta.json", &a), 0);
	ck_assert_int_eq(catalog_lookup(cat, df1, "x", &a), 0);
	list(df1, &l);
	ck_assert_int_eq(l.n, 3);
	xget_is(df1, X("state"), "live");

	/* rm -r to the end (root may too): the rmdir deletes df1 and t1. */
	ck_assert_int_eq(catalog_unlink(cat, df1, "meta.json", 0), 0);
	ck_assert_int_eq(catalog_unlink(cat, df1, "x", 0), 0);
	ck_assert_int_eq(catalog_unlink(cat, df1, "y", 0), 0);
	list(df1, &l);
	ck_assert_int_eq(l.n, 0);
	counts_are(4, 2, 2);
	ck_assert_int_eq(catalog_rmdir(cat, INO_OBJECTS, idstr(df1)), 0);
	ck_assert(!object_exists(df1) && !object_exists(t1) && !blob_exists(b1));
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "df1", &a), -ENOENT);
	ck_assert_int_eq(was_freed(b1), 1);
	ck_assert(!entry_invalidated(INO_OBJECTS, idstr(df1))); /* the kernel's own rmdir */
	ck_assert(entry_invalidated(INO_OBJECTS, idstr(t1)));
	ck_assert(entry_invalidated(INO_NAMES, "df1"));
	ck_assert(object_exists(t2) && object_exists(df2));
	read_is(b2, two, sizeof two);
	counts_are(2, 1, 1);
	reopen();
	counts_are(2, 1, 1);
	ck_assert(!object_exists(df1) && !object_exists(t1) && object_exists(t2));

	/* An owner the mode does not let write: EACCES, as the kernel says. */
	fields = json_pack("{s:s, s:i}", "type_", "int8", "value_", 1);
	ck_assert_int_eq(
	    catalog_create_object(cat, "Scalar", fields, NULL, NULL, 1000, 1000, 0444, &ro, err, sizeof err),
	    0);
	json_decref(fields);
	ck_assert_int_eq(catalog_unlink(cat, ro, "meta.json", 1000), -EACCES);
	ck_assert_int_eq(catalog_unlink(cat, ro, "meta.json", 0), 0);
	list_free(&l);
}
END_TEST

/* Member names that would hide a key of the metadata tree are refused. */
START_TEST(test_member_names_hide_nothing)
{
	static const char *const keys[] = { "typename", "id", "signature", "nbytes", "instance_id", "global",
		"ctime", "sealed" };
	char err[256], *text = NULL;
	uint64_t b1, t1, id = 0;
	struct made open_one;
	json_t *tree, *fields, *members;
	size_t i, len;

	t1 = column("c1", &b1);
	counts_are(1, 1, 0);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		members = json_pack("{s:s}", keys[i], idstr(t1));
		ck_assert_int_eq(make_object("my::Thing", NULL, members, NULL, &id, err), -EINVAL);
		ck_assert_msg(strstr(err, "key of the metadata tree") != NULL, "%s: %s", keys[i], err);
	}
	/* A DataFrame column named id. */
	ck_assert_int_eq(make_object("DataFrame", json_pack("{s:[s]}", "columns_", "id"),
			     json_pack("{s:s}", "id", idstr(t1)), NULL, &id, err),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "\"id\""));
	/* A member named as one of the object's own fields. */
	members = json_pack("{s:s}", "w_", idstr(t1));
	fields = json_pack("{s:i}", "w_", 1);
	ck_assert_int_eq(make_object("my::Thing", fields, members, NULL, &id, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "field"));
	ck_assert_int_eq(make_object("DataFrame", json_pack("{s:[s]}", "columns_", "columns_"),
			     json_pack("{s:s}", "columns_", idstr(t1)), NULL, &id, err),
	    -EINVAL);
	counts_are(1, 1, 0);
	/* Other names are members, and meta.json keeps its own keys. */
	members = json_pack("{s:s}", "mtime", idstr(t1));
	ck_assert_int_eq(make_object("my::Thing", json_pack("{s:i}", "w_", 1), members, NULL, &id, err), 0);
	ck_assert_int_eq(catalog_read_generated(cat, ino_of(id, INO_VIEW_META), &text, &len), 0);
	tree = json_loadb(text, len, 0, NULL);
	free(text);
	ck_assert_str_eq(json_string_value(json_object_get(tree, "id")), idstr(id));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(tree, "mtime"), "id")), idstr(t1));
	ck_assert_int_eq(json_integer_value(json_object_get(tree, "w_")), 1);
	json_decref(tree);
	/* Through setxattr: no field named as a member, nor state. */
	create("open", "x", 1, 1000, 1000, 0644, &open_one);
	ck_assert_int_eq(xset(open_one.oid, X("buffer_"), "1", 0), -EPERM);
	ck_assert_int_eq(xset(open_one.oid, X("state"), "1", 0), -EPERM);
	xget_is(open_one.oid, X("state"), "live");
	ck_assert_int_eq(close(open_one.fd), 0);
	catalog_release(cat, open_one.bid, 1);
	xget_is(open_one.oid, X("member.buffer_"), idstr(open_one.bid));
}
END_TEST

/* Run sql on the metadata database while the catalog is closed. */
static void
meta_sql(const char *sql)
{
	char path[PATH_MAX];
	sqlite3 *db;

	catalog_close(cat);
	cat = NULL;
	snprintf(path, sizeof path, "%s/meta.db", state);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
}

/* A deep delete is one transaction: when its last row cannot go, nothing
 * goes, in the database or in memory. */
START_TEST(test_deep_delete_all_or_nothing)
{
	uint64_t b1, b2, t1, t2, df;
	char path[PATH_MAX];
	int pass;

	t1 = column("c1", &b1);
	t2 = column("c2", &b2);
	df = frame(t1, t2, "df");
	counts_are(3, 2, 1);
	/* Blob rows go after every object row: refuse them. */
	meta_sql(
	    "CREATE TRIGGER keep_blobs BEFORE DELETE ON blobs BEGIN SELECT RAISE(ABORT, 'injected'); END");
	ck_assert_int_lt(catalog_unlink(cat, INO_NAMES, "df", 1000), 0);
	for (pass = 0; pass < 2; pass++) {
		struct catalog_attr a;

		counts_are(3, 2, 1);
		ck_assert(object_exists(df) && object_exists(t1) && object_exists(t2));
		ck_assert(blob_exists(b1) && blob_exists(b2));
		ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "df", &a), 0);
		ck_assert_int_eq(was_freed(b1) + was_freed(b2), 0);
		blob_path(b1, path, sizeof path);
		ck_assert(test_exists(path));
		/* The holds were taken back: df still holds its columns. */
		ck_assert_int_eq(catalog_delete_object(cat, t1, 1000, CATALOG_DELETE_DEEP), -EBUSY);
		/* Nothing was committed either. */
		if (pass == 0)
			meta_sql("DROP TRIGGER keep_blobs");
	}
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, "df", 1000), 0);
	counts_are(0, 0, 0);
	reopen();
	counts_are(0, 0, 0);
	ck_assert(!test_exists(path));
}
END_TEST

/* Is name in a NUL-separated list? */
static int
in_list(const char *list, size_t len, const char *name)
{
	size_t off = 0;

	while (off < len) {
		if (strcmp(list + off, name) == 0)
			return 1;
		off += strlen(list + off) + 1;
	}
	return 0;
}

START_TEST(test_xattrs)
{
	char *v = NULL, *names = NULL;
	size_t len = 0;
	struct made m;
	json_t *tree;
	char *text;

	create("alpha", DATA, DLEN, 0, 0, 0644, &m);
	/* Set while unsealed, through either view of the object. */
	ck_assert_int_eq(xset(m.attr.ino, X("shape_"), "[2, 3]", 0), 0);
	xget_is(m.attr.ino, X("shape_"), "[2,3]");
	xget_is(m.oid, X("shape_"), "[2,3]");
	ck_assert_int_eq(xset(m.oid, X("comment"), "hello world", 0), 0);
	xget_is(m.attr.ino, X("comment"), "hello world");
	ck_assert_int_eq(xset(m.oid, X("shape_"), "[4]", XATTR_CREATE), -EEXIST);
	xget_is(m.oid, X("shape_"), "[2,3]");
	ck_assert_int_eq(xset(m.oid, X("missing"), "1", XATTR_REPLACE), -ENODATA);
	ck_assert_int_eq(xset(m.oid, X("shape_"), "[2, 3, 4]", XATTR_REPLACE), 0);
	xget_is(m.oid, X("shape_"), "[2,3,4]");
	ck_assert_int_eq(xset(m.oid, X("fresh"), "1", XATTR_CREATE), 0);
	/* Reserved, malformed, other namespaces, blobs. */
	ck_assert_int_eq(xset(m.oid, X("typename"), "Tensor", 0), -EPERM);
	ck_assert_int_eq(xset(m.oid, X("nbytes"), "1", 0), -EPERM);
	ck_assert_int_eq(xset(m.oid, X("member.buffer_"), "b8000000000000001", 0), -EPERM);
	ck_assert_int_eq(catalog_xattr_remove(cat, m.oid, X("sealed")), -EPERM);
	ck_assert_int_eq(xset(m.oid, X("-ab"), "1", 0), -EINVAL);
	ck_assert_int_eq(xset(m.oid, X(""), "1", 0), -EINVAL);
	ck_assert_int_eq(xset(m.oid, X("bad"), "\xc0\x80", 0), -EINVAL);
	ck_assert_int_eq(catalog_xattr_set(cat, m.oid, X("nul"), "a\0b", 3, 0), -EINVAL);
	ck_assert_int_eq(xset(m.oid, "trusted.x", "1", 0), -ENOTSUP);
	ck_assert_int_eq(xset(m.oid, "user.other", "1", 0), -ENOTSUP);
	ck_assert_int_eq(xset(m.bid, X("shape_"), "1", 0), -EPERM);
	ck_assert_int_eq(xset(ino_of(m.oid, INO_VIEW_META), X("shape_"), "1", 0), -ENOTSUP);
	ck_assert_int_eq(catalog_xattr_get(cat, m.oid, X("nosuch"), &v, &len), -ENODATA);
	ck_assert_int_eq(catalog_xattr_get(cat, m.oid, "user.other", &v, &len), -ENODATA);
	ck_assert_int_eq(catalog_xattr_get(cat, m.oid, X("member.nosuch"), &v, &len), -ENODATA);
	ck_assert_int_eq(catalog_xattr_get(cat, m.bid, X("shape_"), &v, &len), -ENODATA);
	/* Listing. */
	ck_assert_int_eq(catalog_xattr_list(cat, m.attr.ino, &names, &len), 0);
	ck_assert(in_list(names, len, X("typename")));
	ck_assert(in_list(names, len, X("sealed")));
	ck_assert(in_list(names, len, X("member.buffer_")));
	ck_assert(in_list(names, len, X("shape_")));
	ck_assert(in_list(names, len, X("comment")));
	ck_assert(in_list(names, len, X("fresh")));
	ck_assert(!in_list(names, len, X("missing")));
	free(names);
	ck_assert_int_eq(catalog_xattr_list(cat, m.bid, &names, &len), 0);
	ck_assert(in_list(names, len, X("nbytes")));
	ck_assert(!in_list(names, len, X("shape_")));
	free(names);
	/* Removal. */
	ck_assert_int_eq(catalog_xattr_remove(cat, m.oid, X("comment")), 0);
	ck_assert_int_eq(catalog_xattr_get(cat, m.oid, X("comment"), &v, &len), -ENODATA);
	ck_assert_int_eq(catalog_xattr_remove(cat, m.oid, X("comment")), -ENODATA);
	ck_assert_int_eq(catalog_xattr_list(cat, m.oid, &names, &len), 0);
	ck_assert(!in_list(names, len, X("comment")));
	free(names);
	/* Fields show in meta.json. */
	ck_assert_int_eq(catalog_read_generated(cat, ino_of(m.oid, INO_VIEW_META), &text, &len), 0);
	tree = json_loadb(text, len, 0, NULL);
	free(text);
	ck_assert_ptr_nonnull(tree);
	ck_assert_uint_eq(json_array_size(json_object_get(tree, "shape_")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(tree, "fresh")), 1);
	ck_assert_ptr_null(json_object_get(tree, "comment"));
	ck_assert(json_is_false(json_object_get(tree, "sealed")));
	json_decref(tree);
	/* Sealed: fields are frozen. */
	close(m.fd);
	catalog_release(cat, m.bid, 1);
	ck_assert_int_eq(xset(m.oid, X("shape_"), "[1]", 0), -EPERM);
	ck_assert_int_eq(xset(m.attr.ino, X("other"), "1", 0), -EPERM);
	ck_assert_int_eq(catalog_xattr_remove(cat, m.oid, X("shape_")), -EPERM);
	xget_is(m.oid, X("shape_"), "[2,3,4]");
	xget_is(m.oid, X("fresh"), "1");
}
END_TEST

START_TEST(test_open_blob_outlives_delete)
{
	char bname[ID_STR_LEN + 1], path[PATH_MAX], buf[DLEN + 1];
	struct catalog_attr a;
	struct catalog_stats s;
	uint64_t bid1 = 0, bid2 = 0;
	int fd1 = -1, fd2 = -1, fd3 = -1;
	struct made m;

	make_sealed("alpha", DATA, DLEN, &m);
	id_format(m.bid, bname);
	blob_path(m.bid, path, sizeof path);
	ck_assert_int_eq(catalog_open_data(cat, m.bid, 0, &bid1, &fd1), 0);
	ck_assert_int_eq(catalog_open_data(cat, m.attr.ino, 0, &bid2, &fd2), 0);
	ck_assert_uint_eq(bid1, m.bid);
	ck_assert_uint_eq(bid2, m.bid);
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, "alpha", 1000), 0);
	/* Gone from the namespace, the database and the store at once... */
	ck_assert_int_eq(catalog_lookup(cat, INO_BLOBS, bname, &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "alpha", &a), -ENOENT);
	ck_assert_int_eq(catalog_open_data(cat, m.bid, 0, &bid1, &fd3), -ENOENT);
	ck_assert(!test_exists(path));
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.blobs, 0);
	ck_assert_uint_eq(s.objects, 0);
	ck_assert_uint_eq(s.memory_used, 0);
	/* ...but its open files still read it, and it is not freed yet. */
	ck_assert_uint_eq(hk.freed.n, 0);
	ck_assert_int_eq(catalog_getattr(cat, m.bid, &a), 0);
	ck_assert_uint_eq(a.nlink, 0);
	ck_assert_uint_eq(a.size, DLEN);
	ck_assert_int_eq(pread(fd1, buf, sizeof buf, 0), (ssize_t)DLEN);
	ck_assert_int_eq(memcmp(buf, DATA, DLEN), 0);
	close(fd1);
	catalog_release(cat, m.bid, 0);
	ck_assert_uint_eq(hk.freed.n, 0);
	ck_assert_int_eq(pread(fd2, buf, sizeof buf, 0), (ssize_t)DLEN);
	ck_assert_int_eq(memcmp(buf, DATA, DLEN), 0);
	close(fd2);
	catalog_release(cat, m.bid, 0);
	/* The last release frees it, once. */
	ck_assert_uint_eq(hk.freed.n, 1);
	ck_assert_int_eq(was_freed(m.bid), 1);
	ck_assert_int_eq(catalog_getattr(cat, m.bid, &a), -ENOENT);
	catalog_release(cat, m.bid, 0); /* a stray release is harmless */
	ck_assert_uint_eq(hk.freed.n, 1);
}
END_TEST

START_TEST(test_writer_outlives_delete)
{
	char path[PATH_MAX];
	struct catalog_stats s;
	struct made m;

	/* Removed while still being written: never sealed, freed at release. */
	create("alpha", DATA, DLEN, 0, 0, 0644, &m);
	blob_path(m.bid, path, sizeof path);
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, "alpha", 1000), 0);
	ck_assert(!test_exists(path));
	ck_assert_uint_eq(hk.freed.n, 0);
	ck_assert_int_eq(catalog_write(cat, m.bid, m.fd, "x", 1, 0), -ENOENT);
	close(m.fd);
	catalog_release(cat, m.bid, 1);
	ck_assert_uint_eq(hk.freed.n, 1);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.seals, 0);
	ck_assert_uint_eq(s.blobs, 0);
	ck_assert_uint_eq(s.blobs_unsealed, 0);
}
END_TEST

START_TEST(test_restart)
{
	char oname[ID_STR_LEN + 1], *text1 = NULL, *text2 = NULL;
	struct catalog_set chown = CATALOG_SET_NONE;
	struct catalog_attr a, before;
	struct catalog_stats s;
	size_t len1 = 0, len2 = 0;
	struct made m, b, n;

	create("alpha", DATA, DLEN, 1000, 2000, 0640, &m);
	ck_assert_int_eq(xset(m.oid, X("shape_"), "[3, 5]", 0), 0);
	ck_assert_int_eq(xset(m.oid, X("note"), "hi there", 0), 0);
	close(m.fd);
	catalog_release(cat, m.bid, 1);
	/* chmod and chown after sealing are allowed, and persist. */
	chown.mode = 0604;
	chown.uid = 1001;
	ck_assert_int_eq(catalog_setattr(cat, m.attr.ino, -1, &chown, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFREG | 0604);
	ck_assert_uint_eq(a.uid, 1001);
	ck_assert_uint_eq(a.gid, 2000);
	make_sealed("beta", "0123456789", 10, &b);
	ck_assert_int_eq(catalog_getattr(cat, m.attr.ino, &before), 0);
	ck_assert_int_eq(catalog_read_generated(cat, ino_of(m.oid, INO_VIEW_META), &text1, &len1), 0);
	id_format(m.oid, oname);

	reopen();
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "alpha", &a), 0);
	ck_assert_uint_eq(a.ino, m.attr.ino);
	ck_assert_int_eq(a.sealed, 1);
	ck_assert_uint_eq(a.size, DLEN);
	ck_assert_uint_eq(a.mode, S_IFREG | 0604);
	ck_assert_uint_eq(a.uid, 1001);
	ck_assert_uint_eq(a.gid, 2000);
	ck_assert_int_eq(a.mtime_ns, before.mtime_ns);
	ck_assert_int_eq(a.ctime_ns, before.ctime_ns);
	ck_assert_int_eq(catalog_getattr(cat, m.bid, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFREG | 0604);
	ck_assert_uint_eq(a.uid, 1001);
	ck_assert_int_eq(a.sealed, 1);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFDIR | 0705);
	xget_is(m.oid, X("shape_"), "[3,5]");
	xget_is(m.attr.ino, X("note"), "hi there");
	xget_is(m.oid, X("sealed"), "true");
	read_is(m.attr.ino, DATA, DLEN);
	read_is(b.bid, "0123456789", 10);
	ck_assert_int_eq(catalog_read_generated(cat, ino_of(m.oid, INO_VIEW_META), &text2, &len2), 0);
	ck_assert_uint_eq(len2, len1);
	ck_assert_str_eq(text2, text1);
	free(text1);
	free(text2);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.instance_id, INSTANCE);
	ck_assert_uint_eq(s.objects, 2);
	ck_assert_uint_eq(s.blobs_sealed, 2);
	ck_assert_uint_eq(s.blobs_unsealed, 0);
	ck_assert_uint_eq(s.names, 2);
	ck_assert_uint_eq(s.memory_used, DLEN + 10);
	ck_assert_uint_eq(hk.freed.n, 0);
	/* Still sealed, still read-only. */
	{
		uint64_t bid;
		int fd = -1;

		ck_assert_int_eq(catalog_open_data(cat, m.attr.ino, 1, &bid, &fd), -EPERM);
	}
	/* New ids continue past the old ones. */
	make_sealed("gamma", "g", 1, &n);
	ck_assert_uint_gt(n.oid, b.oid);
	ck_assert_uint_gt(n.bid & ~ID_BLOB_BIT, b.bid & ~ID_BLOB_BIT);
	ck_assert_uint_gt(n.oid, b.bid & ~ID_BLOB_BIT);
	/* An instance id remembered by the store, when none is given. */
	cfg.instance_id = -1;
	reopen();
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.instance_id, INSTANCE);
	ck_assert_uint_eq(s.objects, 3);
}
END_TEST

/* Deferred seals (the mount's RELEASE): immutable at once, sealed once
 * committed; a rename or unlink that comes before the commit lands after
 * it in the database, and a close commits what is still queued. */
START_TEST(test_deferred_seal)
{
	char name[32], name2[32];
	struct catalog_stats s;
	struct catalog_attr a;
	struct made m[100];
	uint64_t bid;
	char *v;
	int i, fd = -1;

	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "d%d", i);
		create(name, name, strlen(name), 1000, 1000, 0644, &m[i]);
		ck_assert_int_eq(close(m[i].fd), 0);
		catalog_release_deferred(cat, m[i].bid, 1);
		/* Immutable at once, committed or not. */
		ck_assert_int_eq(catalog_open_data(cat, m[i].attr.ino, 1, &bid, &fd), -EPERM);
		/* Shown as sealed only once committed: "false" or "true". */
		v = xget(m[i].oid, X("sealed"));
		ck_assert_msg(strcmp(v, "true") == 0 || strcmp(v, "false") == 0, "sealed is %s", v);
		free(v);
		snprintf(name2, sizeof name2, "r%d", i);
		if (i % 3 == 0)
			ck_assert_int_eq(catalog_rename(cat, INO_NAMES, name, INO_NAMES, name2, 0), 0);
		else if (i % 3 == 1)
			ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, name, 0), 0);
	}
	catalog_seal_wait(cat);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.seals_queued, 0);
	ck_assert_uint_ge(s.seal_commits, 1);
	ck_assert_uint_eq(s.seals, 100);
	ck_assert_uint_eq(s.objects, 67); /* 33 unlinked */
	xget_is(m[2].oid, X("sealed"), "true");
	/* Queued seals left at the close are committed by it. */
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "late%d", i);
		create(name, name, strlen(name), 1000, 1000, 0644, &m[i]);
		ck_assert_int_eq(close(m[i].fd), 0);
		catalog_release_deferred(cat, m[i].bid, 1);
	}
	reopen();
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, 87);
	ck_assert_uint_eq(s.names, 87);
	ck_assert_uint_eq(s.blobs_unsealed, 0);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "d%d", i);
		snprintf(name2, sizeof name2, "r%d", i);
		if (i % 3 == 0) {
			ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, name, &a), -ENOENT);
			ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, name2, &a), 0);
			read_is(a.ino, name, strlen(name));
		} else if (i % 3 == 1) {
			ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, name, &a), -ENOENT);
		} else {
			ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, name, &a), 0);
			ck_assert_int_eq(a.sealed, 1);
			read_is(a.ino, name, strlen(name));
		}
	}
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "late%d", i);
		ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, name, &a), 0);
		read_is(a.ino, name, strlen(name));
	}
}
END_TEST

START_TEST(test_crash_discards_unsealed)
{
	char path[PATH_MAX], oname[ID_STR_LEN + 1];
	struct catalog_attr a;
	struct catalog_stats s;
	struct made keep, m;

	make_sealed("keep", DATA, DLEN, &keep);
	create("torn", DATA, DLEN, 0, 0, 0644, &m);
	ck_assert_int_eq(xset(m.oid, X("shape_"), "[1]", 0), 0);
	blob_path(m.bid, path, sizeof path);
	id_format(m.oid, oname);
	close(m.fd);
	/* The daemon dies: no release. */
	reopen();
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "torn", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, m.bid, &a), -ENOENT);
	ck_assert(!test_exists(path));
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, 1);
	ck_assert_uint_eq(s.blobs, 1);
	ck_assert_uint_eq(s.blobs_unsealed, 0);
	ck_assert_uint_eq(s.names, 1);
	read_is(keep.attr.ino, DATA, DLEN);
	/* And it stays gone. */
	reopen();
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "torn", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "keep", &a), 0);
	/* The name can be taken again. */
	make_sealed("torn", "t", 1, &m);
	read_is(m.attr.ino, "t", 1);
}
END_TEST

START_TEST(test_orphan_files_removed)
{
	char path[PATH_MAX], orphan[PATH_MAX], junk[PATH_MAX];
	struct made keep;

	make_sealed("keep", DATA, DLEN, &keep);
	blob_path(keep.bid, path, sizeof path);
	catalog_close(cat);
	cat = NULL;
	test_write_file(backing, "b8000000000000001", "orphan", 6);
	test_write_file(backing, "junk", "junk", 4);
	snprintf(orphan, sizeof orphan, "%s/b8000000000000001", backing);
	snprintf(junk, sizeof junk, "%s/junk", backing);
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	ck_assert(!test_exists(orphan));
	ck_assert(!test_exists(junk));
	ck_assert(test_exists(path));
	read_is(keep.attr.ino, DATA, DLEN);
}
END_TEST

START_TEST(test_missing_file_dropped)
{
	char path[PATH_MAX], oname[ID_STR_LEN + 1];
	struct catalog_attr a;
	struct catalog_stats s;
	struct made keep, m;

	make_sealed("keep", DATA, DLEN, &keep);
	make_sealed("lost", DATA, DLEN, &m);
	blob_path(m.bid, path, sizeof path);
	id_format(m.oid, oname);
	catalog_close(cat);
	cat = NULL;
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "lost", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, m.bid, &a), -ENOENT);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, 1);
	ck_assert_uint_eq(s.blobs, 1);
	ck_assert_uint_eq(s.memory_used, DLEN);
	read_is(keep.attr.ino, DATA, DLEN);
	reopen();
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "lost", &a), -ENOENT);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, 1);
}
END_TEST

START_TEST(test_truncated_file_dropped)
{
	char path[PATH_MAX], path2[PATH_MAX], oname[ID_STR_LEN + 1];
	struct catalog_attr a;
	struct catalog_stats s;
	struct made keep, m, g;

	make_sealed("keep", DATA, DLEN, &keep);
	make_sealed("short", DATA, DLEN, &m);
	make_sealed("long", DATA, DLEN, &g);
	blob_path(m.bid, path, sizeof path);
	blob_path(g.bid, path2, sizeof path2);
	id_format(m.oid, oname);
	catalog_close(cat);
	cat = NULL;
	ck_assert_int_eq(truncate(path, DLEN - 1), 0);
	ck_assert_int_eq(truncate(path2, DLEN + 1), 0); /* grown: wrong size too */
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "short", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, m.bid, &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "long", &a), -ENOENT);
	ck_assert(!test_exists(path));
	ck_assert(!test_exists(path2));
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.objects, 1);
	ck_assert_uint_eq(s.blobs, 1);
	ck_assert_uint_eq(s.memory_used, DLEN);
	read_is(keep.attr.ino, DATA, DLEN);
}
END_TEST

START_TEST(test_memory_limit)
{
	char *buf = calloc(1, 64 * KIB), path[PATH_MAX], oname[ID_STR_LEN + 1];
	struct catalog_set grow = CATALOG_SET_NONE;
	struct catalog_attr a;
	struct catalog_stats s;
	struct made small, big, raw;

	catalog_close(cat);
	cat = NULL;
	cfg.memory_limit = 64 * KIB;
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);

	make_sealed("small", buf, 16 * KIB, &small);
	/* 16 KiB sealed + 40 KiB fits; 16 + 80 does not. */
	create("big", NULL, 0, 0, 0, 0644, &big);
	blob_path(big.bid, path, sizeof path);
	id_format(big.oid, oname);
	ck_assert_int_eq(catalog_write(cat, big.bid, big.fd, buf, 40 * KIB, 0), 40 * KIB);
	ck_assert_int_eq(catalog_write(cat, big.bid, big.fd, buf, 40 * KIB, 40 * KIB), -ENOSPC);
	/* Overwriting inside what is there is fine. */
	ck_assert_int_eq(catalog_write(cat, big.bid, big.fd, buf, 4 * KIB, 0), 4 * KIB);
	grow.size = 100 * KIB;
	ck_assert_int_eq(catalog_setattr(cat, big.attr.ino, big.fd, &grow, &a), -ENOSPC);
	close(big.fd);
	catalog_release(cat, big.bid, 1);
	/* The blob that hit the limit is discarded, with its object and name. */
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "big", &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, big.bid, &a), -ENOENT);
	ck_assert(!test_exists(path));
	ck_assert_int_eq(was_freed(big.bid), 1);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.discards, 1);
	ck_assert_uint_eq(s.objects, 1);
	ck_assert_uint_eq(s.blobs_sealed, 1);
	ck_assert_uint_eq(s.blobs_unsealed, 0);
	ck_assert_uint_eq(s.memory_used, 16 * KIB);
	ck_assert_uint_eq(s.memory_limit, 64 * KIB);
	read_is(small.attr.ino, buf, 16 * KIB);

	/* Writes the daemon never saw (passthrough): caught at seal. */
	create("raw", buf, 60 * KIB, 0, 0, 0644, &raw);
	blob_path(raw.bid, path, sizeof path);
	close(raw.fd);
	catalog_release(cat, raw.bid, 1);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "raw", &a), -ENOENT);
	ck_assert(!test_exists(path));
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.discards, 2);
	ck_assert_uint_eq(s.memory_used, 16 * KIB);

	/* Exactly up to the limit seals. */
	create("fits", NULL, 0, 0, 0, 0644, &raw);
	ck_assert_int_eq(catalog_write(cat, raw.bid, raw.fd, buf, 48 * KIB, 0), 48 * KIB);
	close(raw.fd);
	catalog_release(cat, raw.bid, 1);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "fits", &a), 0);
	ck_assert_int_eq(a.sealed, 1);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.memory_used, 64 * KIB);
	ck_assert_uint_eq(s.discards, 2);
	free(buf);
}
END_TEST

START_TEST(test_memory_limit_counts_unsealed)
{
	char *buf = calloc(1, 64 * KIB);
	struct made a, b;
	ssize_t n;

	catalog_close(cat);
	cat = NULL;
	cfg.memory_limit = 64 * KIB;
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	/* The limit is on sealed + unsealed bytes: two writers share it. */
	create("a", NULL, 0, 0, 0, 0644, &a);
	create("b", NULL, 0, 0, 0, 0644, &b);
	ck_assert_int_eq(catalog_write(cat, a.bid, a.fd, buf, 40 * KIB, 0), 40 * KIB);
	n = catalog_write(cat, b.bid, b.fd, buf, 40 * KIB, 0);
	ck_assert_msg(n == -ENOSPC,
	    "a write taking sealed + unsealed bytes to 80 KiB of a 64 KiB limit returned %zd, not -ENOSPC",
	    n);
	close(a.fd);
	catalog_release(cat, a.bid, 1);
	close(b.fd);
	catalog_release(cat, b.bid, 1);
	free(buf);
}
END_TEST

START_TEST(test_seal_without_file)
{
	char path[PATH_MAX];
	struct catalog_attr a;
	struct catalog_stats s;
	struct made m;

	create("alpha", DATA, DLEN, 0, 0, 0644, &m);
	blob_path(m.bid, path, sizeof path);
	ck_assert_int_eq(unlink(path), 0); /* behind the catalog's back */
	close(m.fd);
	catalog_release(cat, m.bid, 1);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "alpha", &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, m.bid, &a), -ENOENT);
	ck_assert_int_eq(was_freed(m.bid), 1);
	catalog_stats(cat, &s);
	ck_assert_uint_eq(s.discards, 1);
	ck_assert_uint_eq(s.seals, 0);
	ck_assert_uint_eq(s.objects, 0);
	ck_assert_uint_eq(s.blobs, 0);
}
END_TEST

#define CID(n) (((uint64_t)INSTANCE << ID_INSTANCE_SHIFT) | (UINT64_C(1000) << ID_TIME_SHIFT) | (n))

static void
put_object(meta_t *m, uint64_t id, const char *typename)
{
	struct meta_object o = {
		.id = id,
		.typename = typename,
		.fields = "{}",
		.nbytes = 4,
		.sealed = 1,
		.signature = id,
		.mode = 0644,
		.ctime_ns = 1,
		.mtime_ns = 1,
	};

	ck_assert_int_eq(meta_object_put(m, &o), 0);
}

static void
put_blob(meta_t *m, uint64_t id, uint64_t size)
{
	struct meta_blob b = {
		.id = id, .size = size, .sealed = 1, .mode = 0644, .ctime_ns = 1, .mtime_ns = 1
	};

	ck_assert_int_eq(meta_blob_put(m, &b), 0);
}

/* Composite objects, as later object types will store them, written to the
 * database directly: reconciliation drops what lost a member, keeps the rest. */
START_TEST(test_composite_recovery)
{
	uint64_t ba = ID_BLOB_BIT | CID(1), bb = ID_BLOB_BIT | CID(2), bc = ID_BLOB_BIT | CID(3);
	uint64_t pair = CID(10), parent = CID(11), good = CID(12), orphan = CID(13), nowhere = CID(99);
	char dbpath[PATH_MAX], name[ID_STR_LEN + 1], *target = NULL;
	struct catalog_attr a;
	struct catalog_stats s;
	int round;
	meta_t *m;

	catalog_close(cat);
	cat = NULL;
	snprintf(dbpath, sizeof dbpath, "%s/meta.db", state);
	ck_assert_int_eq(meta_open(dbpath, &m), 0);
	ck_assert_int_eq(meta_begin(m), 0);
	put_blob(m, ba, 4); /* files missing */
	put_blob(m, bb, 4);
	put_blob(m, bc, 5); /* file present */
	put_object(m, pair, "Pair");
	put_object(m, parent, "Sequence");
	put_object(m, good, "Tensor");
	put_object(m, orphan, "Sequence");
	ck_assert_int_eq(meta_member_put(m, pair, "a", ba), 0);
	ck_assert_int_eq(meta_member_put(m, pair, "b", bb), 0);
	ck_assert_int_eq(meta_member_put(m, parent, "first", pair), 0);
	ck_assert_int_eq(meta_member_put(m, good, "buffer_", bc), 0);
	ck_assert_int_eq(meta_member_put(m, orphan, "x", nowhere), 0);
	ck_assert_int_eq(meta_name_put(m, "pair", pair), 0);
	ck_assert_int_eq(meta_name_put(m, "parent", parent), 0);
	ck_assert_int_eq(meta_name_put(m, "good", good), 0);
	ck_assert_int_eq(meta_name_put(m, "orphan", orphan), 0);
	ck_assert_int_eq(meta_commit(m), 0);
	meta_close(m);
	id_format(bc, name);
	test_write_file(backing, name, "hello", 5);

	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	for (round = 0; round < 2; round++) {
		ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "pair", &a), -ENOENT);
		ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "parent", &a), -ENOENT);
		ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "orphan", &a), -ENOENT);
		ck_assert_int_eq(catalog_getattr(cat, pair, &a), -ENOENT);
		ck_assert_int_eq(catalog_getattr(cat, parent, &a), -ENOENT);
		ck_assert_int_eq(catalog_getattr(cat, orphan, &a), -ENOENT);
		ck_assert_int_eq(catalog_getattr(cat, ba, &a), -ENOENT);
		ck_assert_int_eq(catalog_getattr(cat, bb, &a), -ENOENT);
		/* A composite's name is a symlink to its directory. */
		ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "good", &a), 0);
		ck_assert_uint_eq(a.ino, ino_of(good, INO_VIEW_NAME_LINK));
		ck_assert(S_ISLNK(a.mode));
		ck_assert_int_eq(catalog_readlink(cat, a.ino, &target), 0);
		ck_assert_str_eq(target, "../objects/o0007000003e8000c");
		free(target);
		ck_assert_int_eq(catalog_lookup(cat, good, "buffer_", &a), 0);
		ck_assert_uint_eq(a.ino, bc);
		ck_assert_uint_eq(a.size, 5);
		catalog_stats(cat, &s);
		ck_assert_uint_eq(s.objects, 1);
		ck_assert_uint_eq(s.blobs, 1);
		ck_assert_uint_eq(s.names, 1);
		reopen();
	}
}
END_TEST

Suite *
catalog_suite(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("catalog");
	TCase *tr = tcase_create("recovery");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tc, cat_setup, cat_teardown);
	tcase_add_test(tc, test_create_and_seal);
	tcase_add_test(tc, test_last_writer_seals);
	tcase_add_test(tc, test_sealed_is_read_only);
	tcase_add_test(tc, test_lookups);
	tcase_add_test(tc, test_listings);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_unlink);
	tcase_add_test(tc, test_rmdir);
	tcase_add_test(tc, test_rename);
	tcase_add_test(tc, test_composite);
	tcase_add_test(tc, test_request);
	tcase_add_test(tc, test_request_wait);
	tcase_add_test(tc, test_names_and_delete);
	tcase_add_test(tc, test_deep_delete);
	tcase_add_test(tc, test_remove_entry_by_entry);
	tcase_add_test(tc, test_member_names_hide_nothing);
	tcase_add_test(tc, test_xattrs);
	tcase_add_test(tc, test_open_blob_outlives_delete);
	tcase_add_test(tc, test_writer_outlives_delete);
	tcase_add_test(tc, test_memory_limit);
	tcase_add_test(tc, test_memory_limit_counts_unsealed);
	tcase_add_test(tc, test_seal_without_file);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tr, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tr, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tr, cat_setup, cat_teardown);
	tcase_add_test(tr, test_restart);
	tcase_add_test(tr, test_deferred_seal);
	tcase_add_test(tr, test_crash_discards_unsealed);
	tcase_add_test(tr, test_orphan_files_removed);
	tcase_add_test(tr, test_missing_file_dropped);
	tcase_add_test(tr, test_truncated_file_dropped);
	tcase_add_test(tr, test_composite_recovery);
	tcase_add_test(tr, test_deep_delete_all_or_nothing);
	suite_add_tcase(s, tr);
	return s;
}
