/*
 * check_meta: the SQLite metadata database: migrations, round trips of
 * every record kind, replace and delete semantics, transactions, reopen.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/id.h"
#include "core/meta.h"
#include "schema/schema.h"
#include "tests/check_core.h"

#define MAXROWS 16

/* Everything meta_load reported, copied. */
struct loaded {
	struct meta_blob blobs[MAXROWS];
	size_t nblobs;
	struct meta_object objects[MAXROWS];
	size_t nobjects;
	struct {
		uint64_t object_id, member_id;
		char *name;
	} members[MAXROWS];
	size_t nmembers;
	struct {
		char *name;
		uint64_t object_id;
	} names[MAXROWS];
	size_t nnames;
	char order[4 * MAXROWS + 1]; /* 'b', 'o', 'm', 'n' in callback order */
	size_t norder;
	int stop_after; /* > 0: fail the nth callback with -ECANCELED */
};

static int
note(struct loaded *l, char kind)
{
	ck_assert_uint_lt(l->norder, sizeof l->order - 1);
	l->order[l->norder++] = kind;
	l->order[l->norder] = '\0';
	return l->stop_after > 0 && (int)l->norder >= l->stop_after ? -ECANCELED : 0;
}

static int
on_blob(void *arg, const struct meta_blob *b)
{
	struct loaded *l = arg;

	ck_assert_uint_lt(l->nblobs, MAXROWS);
	l->blobs[l->nblobs++] = *b;
	return note(l, 'b');
}

static int
on_object(void *arg, const struct meta_object *o)
{
	struct loaded *l = arg;
	struct meta_object *c;

	ck_assert_uint_lt(l->nobjects, MAXROWS);
	c = &l->objects[l->nobjects++];
	*c = *o;
	c->typename = strdup(o->typename);
	c->fields = o->fields != NULL ? strdup(o->fields) : NULL;
	return note(l, 'o');
}

static int
on_member(void *arg, uint64_t object_id, const char *name, uint64_t member_id)
{
	struct loaded *l = arg;

	ck_assert_uint_lt(l->nmembers, MAXROWS);
	l->members[l->nmembers].object_id = object_id;
	l->members[l->nmembers].member_id = member_id;
	l->members[l->nmembers].name = strdup(name);
	l->nmembers++;
	return note(l, 'm');
}

static int
on_name(void *arg, const char *name, uint64_t object_id)
{
	struct loaded *l = arg;

	ck_assert_uint_lt(l->nnames, MAXROWS);
	l->names[l->nnames].name = strdup(name);
	l->names[l->nnames].object_id = object_id;
	l->nnames++;
	return note(l, 'n');
}

static const struct meta_load_ops ops = { on_blob, on_object, on_member, on_name };

static void
loaded_free(struct loaded *l)
{
	size_t i;

	for (i = 0; i < l->nobjects; i++) {
		free((char *)l->objects[i].typename);
		free((char *)l->objects[i].fields);
	}
	for (i = 0; i < l->nmembers; i++)
		free(l->members[i].name);
	for (i = 0; i < l->nnames; i++)
		free(l->names[i].name);
	memset(l, 0, sizeof *l);
}

static void
load(meta_t *m, struct loaded *l)
{
	memset(l, 0, sizeof *l);
	ck_assert_int_eq(meta_load(m, &ops, l), 0);
}

static const struct meta_blob *
find_blob(const struct loaded *l, uint64_t id)
{
	size_t i;

	for (i = 0; i < l->nblobs; i++)
		if (l->blobs[i].id == id)
			return &l->blobs[i];
	return NULL;
}

static const struct meta_object *
find_object(const struct loaded *l, uint64_t id)
{
	size_t i;

	for (i = 0; i < l->nobjects; i++)
		if (l->objects[i].id == id)
			return &l->objects[i];
	return NULL;
}

/* The member id of object_id's member name, 0 when absent. */
static uint64_t
find_member(const struct loaded *l, uint64_t object_id, const char *name)
{
	size_t i;

	for (i = 0; i < l->nmembers; i++)
		if (l->members[i].object_id == object_id && strcmp(l->members[i].name, name) == 0)
			return l->members[i].member_id;
	return 0;
}

/* The object a name points to, 0 when absent. */
static uint64_t
find_name(const struct loaded *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->nnames; i++)
		if (strcmp(l->names[i].name, name) == 0)
			return l->names[i].object_id;
	return 0;
}

static void
blob_eq(const struct meta_blob *got, const struct meta_blob *want)
{
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(got->id, want->id);
	ck_assert_uint_eq(got->size, want->size);
	ck_assert_int_eq(got->sealed, want->sealed);
	ck_assert_uint_eq(got->uid, want->uid);
	ck_assert_uint_eq(got->gid, want->gid);
	ck_assert_uint_eq(got->mode, want->mode);
	ck_assert_int_eq(got->ctime_ns, want->ctime_ns);
	ck_assert_int_eq(got->mtime_ns, want->mtime_ns);
	ck_assert_int_eq(got->atime_ns, want->atime_ns);
	ck_assert_int_eq(got->btime_ns, want->btime_ns);
}

static void
object_eq(const struct meta_object *got, const struct meta_object *want)
{
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(got->id, want->id);
	ck_assert_str_eq(got->typename, want->typename);
	ck_assert_str_eq(got->fields, want->fields);
	ck_assert_uint_eq(got->nbytes, want->nbytes);
	ck_assert_int_eq(got->sealed, want->sealed);
	ck_assert_uint_eq(got->signature, want->signature);
	ck_assert_uint_eq(got->uid, want->uid);
	ck_assert_uint_eq(got->gid, want->gid);
	ck_assert_uint_eq(got->mode, want->mode);
	ck_assert_int_eq(got->ctime_ns, want->ctime_ns);
	ck_assert_int_eq(got->mtime_ns, want->mtime_ns);
	ck_assert_int_eq(got->atime_ns, want->atime_ns);
	ck_assert_int_eq(got->btime_ns, want->btime_ns);
}

#define INST(i) ((uint64_t)(i) << ID_INSTANCE_SHIFT)
#define TIME(t) ((uint64_t)(t) << ID_TIME_SHIFT)

/* A blob id with every high bit set: negative in SQLite. */
static const struct meta_blob blob1 = {
	.id = ID_BLOB_BIT | INST(4095) | TIME(0xffffffff) | 0xffff,
	.size = UINT64_C(1) << 40,
	.sealed = 1,
	.uid = 4000000000u,
	.gid = 100,
	.mode = 0640,
	.ctime_ns = INT64_C(1700000000123456789),
	.mtime_ns = INT64_C(1700000001987654321),
	.atime_ns = INT64_C(1800000001000000007),
	.btime_ns = INT64_C(1600000000000000009),
};
static const struct meta_blob blob2 = {
	.id = ID_BLOB_BIT | INST(5) | TIME(2000) | 3,
	.size = 0,
	.sealed = 0,
	.uid = 0,
	.gid = 0,
	.mode = 0600,
	.ctime_ns = 1,
	.mtime_ns = 2,
	.atime_ns = -3, /* before 1970 */
};
static const struct meta_object obj1 = {
	.id = INST(5) | TIME(1000) | 9,
	.typename = "Tensor",
	.fields = "{\"shape_\":[2,3],\"value_type_\":\"float64\"}",
	.nbytes = 48,
	.sealed = 1,
	.signature = UINT64_C(0xfedcba9876543210), /* bit 63 set */
	.uid = 1000,
	.gid = 1001,
	.mode = 0644,
	.ctime_ns = INT64_C(1600000000000000001),
	.mtime_ns = INT64_C(1600000000000000002),
	.atime_ns = INT64_C(1600000000000000003),
	.btime_ns = INT64_C(1500000000000000004),
};
static const struct meta_object obj2 = {
	.id = INST(6) | TIME(3000) | 1,
	.typename = "Blob",
	.fields = "{}",
	.nbytes = 0,
	.sealed = 0,
	.signature = 6,
	.uid = 0,
	.gid = 0,
	.mode = 0600,
	.ctime_ns = 10,
	.mtime_ns = 20,
};

static char *dir, *dbpath;
static meta_t *m;

static void
meta_setup(void)
{
	dir = test_mkdtemp("meta");
	ck_assert_int_ge(asprintf(&dbpath, "%s/meta.db", dir), 0);
	m = NULL;
	ck_assert_int_eq(meta_open(dbpath, &m), 0);
	ck_assert_ptr_nonnull(m);
}

static void
meta_teardown(void)
{
	meta_close(m);
	test_rmtree(dir);
	free(dbpath);
	free(dir);
}

/* Store blob1, blob2, obj1, obj2, their members and names, in one transaction. */
static void
put_all(void)
{
	ck_assert_int_eq(meta_begin(m), 0);
	ck_assert_int_eq(meta_blob_put(m, &blob1), 0);
	ck_assert_int_eq(meta_blob_put(m, &blob2), 0);
	ck_assert_int_eq(meta_object_put(m, &obj1), 0);
	ck_assert_int_eq(meta_object_put(m, &obj2), 0);
	ck_assert_int_eq(meta_member_put(m, obj1.id, "buffer_", blob1.id), 0);
	ck_assert_int_eq(meta_member_put(m, obj1.id, "sub", obj2.id), 0);
	ck_assert_int_eq(meta_member_put(m, obj2.id, "buffer_", blob2.id), 0);
	ck_assert_int_eq(meta_name_put(m, "alpha", obj1.id), 0);
	ck_assert_int_eq(meta_name_put(m, "beta", obj1.id), 0);
	ck_assert_int_eq(meta_name_put(m, "\xc3\xa9t\xc3\xa9 x", obj2.id), 0);
	ck_assert_int_eq(meta_commit(m), 0);
}

static void
check_all(const struct loaded *l)
{
	ck_assert_uint_eq(l->nblobs, 2);
	ck_assert_uint_eq(l->nobjects, 2);
	ck_assert_uint_eq(l->nmembers, 3);
	ck_assert_uint_eq(l->nnames, 3);
	blob_eq(find_blob(l, blob1.id), &blob1);
	blob_eq(find_blob(l, blob2.id), &blob2);
	object_eq(find_object(l, obj1.id), &obj1);
	object_eq(find_object(l, obj2.id), &obj2);
	ck_assert_uint_eq(find_member(l, obj1.id, "buffer_"), blob1.id);
	ck_assert_uint_eq(find_member(l, obj1.id, "sub"), obj2.id);
	ck_assert_uint_eq(find_member(l, obj2.id, "buffer_"), blob2.id);
	ck_assert_uint_eq(find_name(l, "alpha"), obj1.id);
	ck_assert_uint_eq(find_name(l, "beta"), obj1.id);
	ck_assert_uint_eq(find_name(l, "\xc3\xa9t\xc3\xa9 x"), obj2.id);
	/* Blobs, then objects, members, names. */
	ck_assert_str_eq(l->order, "bboommmnnn");
}

START_TEST(test_fresh_schema)
{
	struct loaded l;
	uint64_t max = 1;

	ck_assert_int_ge(schema_migration_count, 1);
	ck_assert_int_eq(meta_schema_version(m), schema_migration_count);
	load(m, &l);
	ck_assert_uint_eq(l.norder, 0);
	ck_assert_int_eq(meta_max_id(m, 0, &max), 0);
	ck_assert_uint_eq(max, 0);
	loaded_free(&l);
}
END_TEST

START_TEST(test_roundtrip)
{
	struct loaded l;

	put_all();
	load(m, &l);
	check_all(&l);
	loaded_free(&l);
}
END_TEST

START_TEST(test_load_stops)
{
	struct loaded l;

	put_all();
	memset(&l, 0, sizeof l);
	l.stop_after = 3; /* the first object */
	ck_assert_int_eq(meta_load(m, &ops, &l), -ECANCELED);
	ck_assert_str_eq(l.order, "bbo");
	loaded_free(&l);
	/* The statements were reset: a full load works afterwards. */
	load(m, &l);
	check_all(&l);
	loaded_free(&l);
}
END_TEST

START_TEST(test_replace)
{
	struct meta_blob b = blob1;
	struct meta_object o = obj1;
	struct loaded l;

	put_all();
	b.size = 77;
	b.sealed = 0;
	b.mode = 0400;
	ck_assert_int_eq(meta_blob_put(m, &b), 0);
	o.typename = "DataFrame";
	o.fields = "{\"columns_\":[\"a\"]}";
	o.nbytes = 1;
	o.sealed = 0;
	o.signature = 42;
	o.uid = 7;
	o.mode = 0600;
	ck_assert_int_eq(meta_object_put(m, &o), 0);
	ck_assert_int_eq(meta_member_put(m, obj1.id, "buffer_", blob2.id), 0);
	ck_assert_int_eq(meta_name_put(m, "alpha", obj2.id), 0);
	load(m, &l);
	ck_assert_uint_eq(l.nblobs, 2);
	ck_assert_uint_eq(l.nobjects, 2);
	ck_assert_uint_eq(l.nmembers, 3);
	ck_assert_uint_eq(l.nnames, 3);
	blob_eq(find_blob(&l, blob1.id), &b);
	object_eq(find_object(&l, obj1.id), &o);
	ck_assert_uint_eq(find_member(&l, obj1.id, "buffer_"), blob2.id);
	ck_assert_uint_eq(find_name(&l, "alpha"), obj2.id);
	/* Replacing an object keeps its members and names. */
	ck_assert_uint_eq(find_member(&l, obj1.id, "sub"), obj2.id);
	ck_assert_uint_eq(find_name(&l, "beta"), obj1.id);
	loaded_free(&l);
}
END_TEST

START_TEST(test_deletes)
{
	struct loaded l;

	put_all();
	ck_assert_int_eq(meta_begin(m), 0);
	ck_assert_int_eq(meta_object_delete(m, obj1.id), 0);
	ck_assert_int_eq(meta_commit(m), 0);
	load(m, &l);
	ck_assert_ptr_null(find_object(&l, obj1.id));
	ck_assert_uint_eq(l.nobjects, 1);
	ck_assert_uint_eq(find_member(&l, obj1.id, "buffer_"), 0);
	ck_assert_uint_eq(find_member(&l, obj1.id, "sub"), 0);
	ck_assert_uint_eq(l.nmembers, 1);
	ck_assert_uint_eq(find_name(&l, "alpha"), 0);
	ck_assert_uint_eq(find_name(&l, "beta"), 0);
	ck_assert_uint_eq(l.nnames, 1);
	/* Blob rows are the caller's to delete. */
	ck_assert_uint_eq(l.nblobs, 2);
	loaded_free(&l);
	/* Deleting what is not there is not an error. */
	ck_assert_int_eq(meta_object_delete(m, obj1.id), 0);
	ck_assert_int_eq(meta_blob_delete(m, blob1.id), 0);
	ck_assert_int_eq(meta_blob_delete(m, blob1.id), 0);
	ck_assert_int_eq(meta_name_delete(m, "\xc3\xa9t\xc3\xa9 x"), 0);
	ck_assert_int_eq(meta_name_delete(m, "nope"), 0);
	load(m, &l);
	ck_assert_uint_eq(l.nblobs, 1);
	ck_assert_ptr_nonnull(find_blob(&l, blob2.id));
	ck_assert_uint_eq(l.nnames, 0);
	ck_assert_uint_eq(l.nobjects, 1);
	loaded_free(&l);
	/* A name must point to an existing object (foreign keys are on). */
	ck_assert_int_lt(meta_name_put(m, "dangling", obj1.id), 0);
}
END_TEST

START_TEST(test_config)
{
	char *v = (char *)"untouched";

	ck_assert_int_eq(meta_config_get(m, "instance_id", &v), -ENOENT);
	ck_assert_str_eq(v, "untouched");
	ck_assert_int_eq(meta_config_set(m, "instance_id", "42"), 0);
	ck_assert_int_eq(meta_config_get(m, "instance_id", &v), 0);
	ck_assert_str_eq(v, "42");
	free(v);
	ck_assert_int_eq(meta_config_set(m, "instance_id", "43"), 0);
	ck_assert_int_eq(meta_config_set(m, "other", ""), 0);
	ck_assert_int_eq(meta_config_get(m, "instance_id", &v), 0);
	ck_assert_str_eq(v, "43");
	free(v);
	ck_assert_int_eq(meta_config_get(m, "other", &v), 0);
	ck_assert_str_eq(v, "");
	free(v);
	ck_assert_int_eq(meta_config_get(m, "Instance_id", &v), -ENOENT);
}
END_TEST

START_TEST(test_max_id)
{
	struct meta_object o = obj2;
	struct meta_blob b = blob2;
	uint64_t max = 1;

	ck_assert_int_eq(meta_max_id(m, 5, &max), 0);
	ck_assert_uint_eq(max, 0);
	put_all();
	/* Instance 5: blob2 (time 2000) is past obj1 (time 1000); flag dropped. */
	ck_assert_int_eq(meta_max_id(m, 5, &max), 0);
	ck_assert_uint_eq(max, blob2.id & ~ID_BLOB_BIT);
	ck_assert_int_eq(meta_max_id(m, 6, &max), 0);
	ck_assert_uint_eq(max, obj2.id);
	/* blob1: instance 4095 with bit 63 set, negative in SQLite. */
	ck_assert_int_eq(meta_max_id(m, 4095, &max), 0);
	ck_assert_uint_eq(max, blob1.id & ~ID_BLOB_BIT);
	ck_assert_int_eq(meta_max_id(m, 7, &max), 0);
	ck_assert_uint_eq(max, 0);
	/* A newer object on instance 5 wins over its blob. */
	o.id = INST(5) | TIME(2000) | 4;
	ck_assert_int_eq(meta_object_put(m, &o), 0);
	ck_assert_int_eq(meta_max_id(m, 5, &max), 0);
	ck_assert_uint_eq(max, o.id);
	b.id = ID_BLOB_BIT | INST(5) | TIME(2001) | 0;
	ck_assert_int_eq(meta_blob_put(m, &b), 0);
	ck_assert_int_eq(meta_max_id(m, 5, &max), 0);
	ck_assert_uint_eq(max, b.id & ~ID_BLOB_BIT);
	ck_assert_int_eq(meta_max_id(m, 6, &max), 0);
	ck_assert_uint_eq(max, obj2.id);
}
END_TEST

START_TEST(test_reopen)
{
	struct loaded l;
	char *v;

	put_all();
	ck_assert_int_eq(meta_config_set(m, "k", "v"), 0);
	meta_close(m);
	m = NULL;
	ck_assert_int_eq(meta_open(dbpath, &m), 0);
	ck_assert_int_eq(meta_schema_version(m), schema_migration_count);
	load(m, &l);
	check_all(&l);
	loaded_free(&l);
	ck_assert_int_eq(meta_config_get(m, "k", &v), 0);
	ck_assert_str_eq(v, "v");
	free(v);
}
END_TEST

/* Rows written before migration 003 have no atime: they show mtime; and
 * their ctime was the creation time, which btime takes. */
START_TEST(test_no_atime)
{
	struct loaded l;
	sqlite3 *db;

	put_all();
	meta_close(m);
	m = NULL;
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
			     "UPDATE blobs SET atime_ns = NULL, btime_ns = NULL;"
			     " UPDATE objects SET atime_ns = NULL, btime_ns = NULL",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
	ck_assert_int_eq(meta_open(dbpath, &m), 0);
	load(m, &l);
	ck_assert_int_eq(find_blob(&l, blob1.id)->atime_ns, blob1.mtime_ns);
	ck_assert_int_eq(find_blob(&l, blob2.id)->atime_ns, blob2.mtime_ns);
	ck_assert_int_eq(find_object(&l, obj1.id)->atime_ns, obj1.mtime_ns);
	ck_assert_int_eq(find_blob(&l, blob1.id)->btime_ns, blob1.ctime_ns);
	ck_assert_int_eq(find_object(&l, obj1.id)->btime_ns, obj1.ctime_ns);
	loaded_free(&l);
}
END_TEST

START_TEST(test_newer_schema)
{
	meta_t *m2 = (meta_t *)&m2;
	sqlite3 *db;
	sqlite3_stmt *st;
	char sql[64];

	put_all();
	meta_close(m);
	m = NULL;
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", schema_migration_count + 1);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
	ck_assert_int_eq(meta_open(dbpath, &m2), -EPROTO);
	ck_assert_ptr_eq(m2, (meta_t *)&m2);
	/* The database was left alone. */
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), schema_migration_count + 1);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM objects", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}
END_TEST

START_TEST(test_rollback)
{
	struct loaded l;
	uint64_t max = 1;
	char *v = NULL;

	meta_rollback(m); /* no transaction: harmless */
	ck_assert_int_eq(meta_begin(m), 0);
	ck_assert_int_eq(meta_blob_put(m, &blob1), 0);
	ck_assert_int_eq(meta_object_put(m, &obj1), 0);
	ck_assert_int_eq(meta_member_put(m, obj1.id, "buffer_", blob1.id), 0);
	ck_assert_int_eq(meta_name_put(m, "alpha", obj1.id), 0);
	ck_assert_int_eq(meta_config_set(m, "k", "v"), 0);
	meta_rollback(m);
	load(m, &l);
	ck_assert_uint_eq(l.norder, 0);
	loaded_free(&l);
	ck_assert_int_eq(meta_config_get(m, "k", &v), -ENOENT);
	ck_assert_int_eq(meta_max_id(m, 5, &max), 0);
	ck_assert_uint_eq(max, 0);
	/* And the connection is usable for the next transaction. */
	put_all();
	load(m, &l);
	check_all(&l);
	loaded_free(&l);
}
END_TEST

/* The mirror's keys, as "key=value;" in load order. */
static int
mirror_row(void *arg, const char *key, const void *value, size_t len)
{
	char *acc = arg;

	snprintf(acc + strlen(acc), 256 - strlen(acc), "%s=%.*s;", key, (int)len, (const char *)value);
	return 0;
}

START_TEST(test_mirror)
{
	struct meta_mirror_kv list[] = { { "objects/o1", "{\"a\":1}", 7 }, { "names/x", "\"o1\"", 4 },
		{ "members/2", "{}", 2 } };
	struct meta_mirror_kv delta[] = { { "names/x", NULL, 0 }, { "names/y", "\"o1\"", 4 } };
	struct meta_mirror_kv changed[] = { { "names/x", "\"o2\"", 4 } };
	char acc[256] = "", *cluster = NULL;
	int64_t rev = -1;
	uint64_t n = 0;

	/* None written yet. */
	ck_assert_int_eq(meta_mirror_info(m, &cluster, &rev), -ENOENT);
	ck_assert_int_eq(meta_begin(m), 0);
	ck_assert_int_eq(meta_mirror_write(m, "t", list, 3, 1, 10), 0);
	ck_assert_int_eq(meta_mirror_write(m, "t", delta, 2, 0, 11), 0);
	ck_assert_int_eq(meta_commit(m), 0);
	/* Survives a reopen, sorted by key. */
	meta_close(m);
	ck_assert_int_eq(meta_open(dbpath, &m), 0);
	ck_assert_int_eq(meta_mirror_load(m, mirror_row, acc), 0);
	ck_assert_str_eq(acc, "members/2={};names/y=\"o1\";objects/o1={\"a\":1};");
	ck_assert_int_eq(meta_mirror_info(m, &cluster, &rev), 0);
	ck_assert_str_eq(cluster, "t");
	ck_assert_int_eq(rev, 11);
	free(cluster);
	/* A full list replaces everything. */
	ck_assert_int_eq(meta_begin(m), 0);
	ck_assert_int_eq(meta_mirror_write(m, "t", list + 1, 1, 1, 12), 0);
	ck_assert_int_eq(meta_commit(m), 0);
	acc[0] = '\0';
	ck_assert_int_eq(meta_mirror_load(m, mirror_row, acc), 0);
	ck_assert_str_eq(acc, "names/x=\"o1\";");
	/* Again, one value changed: written. */
	ck_assert_int_eq(meta_begin(m), 0);
	ck_assert_int_eq(meta_mirror_write(m, "t", changed, 1, 1, 13), 0);
	ck_assert_int_eq(meta_commit(m), 0);
	acc[0] = '\0';
	ck_assert_int_eq(meta_mirror_load(m, mirror_row, acc), 0);
	ck_assert_str_eq(acc, "names/x=\"o2\";");
	/* Cleared: no keys, no cluster. */
	ck_assert_int_eq(meta_begin(m), 0);
	ck_assert_int_eq(meta_mirror_clear(m, &n), 0);
	ck_assert_int_eq(meta_commit(m), 0);
	ck_assert_uint_eq(n, 1);
	acc[0] = '\0';
	ck_assert_int_eq(meta_mirror_load(m, mirror_row, acc), 0);
	ck_assert_str_eq(acc, "");
	ck_assert_int_eq(meta_mirror_info(m, &cluster, &rev), -ENOENT);
}
END_TEST

Suite *
meta_suite(void)
{
	Suite *s = suite_create("meta");
	TCase *tc = tcase_create("meta");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tc, meta_setup, meta_teardown);
	tcase_add_test(tc, test_fresh_schema);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_load_stops);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_deletes);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_max_id);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_no_atime);
	tcase_add_test(tc, test_newer_schema);
	tcase_add_test(tc, test_rollback);
	tcase_add_test(tc, test_mirror);
	suite_add_tcase(s, tc);
	return s;
}
