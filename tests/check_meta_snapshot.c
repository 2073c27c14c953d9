/*
 * check_meta_snapshot: the SQL of snapshots (core/meta_snapshot.c): a
 * backup trimmed to sealed objects, its blobs listed and their checksums
 * recorded, read back, installed as a store's database (no snapshot
 * tables, nothing spilled, no spill directory); databases that are no
 * snapshot refused; the objects of a state database counted.
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

#define INST(i) ((uint64_t)(i) << ID_INSTANCE_SHIFT)
#define TIME(t) ((uint64_t)(t) << ID_TIME_SHIFT)

static const struct meta_blob sealed_blob = {
	.id = ID_BLOB_BIT | INST(4095) | TIME(0xffffffff) | 0xffff, /* negative in SQLite */
	.size = 5000,
	.sealed = 1,
	.mode = 0644,
	.spilled = 1,
	.has_crc = 1,
	.crc32c = 0xdeadbeef,
};
static const struct meta_blob open_blob = {
	.id = ID_BLOB_BIT | INST(5) | TIME(2000) | 3,
	.size = 7,
	.mode = 0600,
};
static const struct meta_blob other_blob = {
	.id = ID_BLOB_BIT | INST(5) | TIME(2001) | 4,
	.size = 0,
	.sealed = 1,
	.mode = 0600,
};
static const struct meta_object sealed_obj = {
	.id = INST(5) | TIME(1000) | 9,
	.typename = "Blob",
	.fields = "{}",
	.nbytes = 5000,
	.sealed = 1,
	.mode = 0644,
};
static const struct meta_object open_obj = {
	.id = INST(5) | TIME(1000) | 10,
	.typename = "Blob",
	.fields = "{}",
	.nbytes = 7,
	.mode = 0600,
};

static char *dir, *dbpath, *copy, *installed;
static meta_t *m;

static void
setup(void)
{
	dir = test_mkdtemp("metasnap");
	ck_assert_int_ge(asprintf(&dbpath, "%s/meta.db", dir), 0);
	ck_assert_int_ge(asprintf(&copy, "%s/copy.db", dir), 0);
	ck_assert_int_ge(asprintf(&installed, "%s/installed.db", dir), 0);
	m = NULL;
	ck_assert_int_eq(meta_open(dbpath, &m), 0);
}

static void
teardown(void)
{
	meta_close(m);
	test_rmtree(dir);
	free(dbpath);
	free(copy);
	free(installed);
	free(dir);
}

/* A sealed Blob object "a" over sealed_blob, an unsealed one "u" over
 * open_blob (being written), other_blob with no object, a spill
 * directory remembered. */
static void
populate(void)
{
	ck_assert_int_eq(meta_begin(m), 0);
	ck_assert_int_eq(meta_blob_put(m, &sealed_blob), 0);
	ck_assert_int_eq(meta_blob_put(m, &open_blob), 0);
	ck_assert_int_eq(meta_blob_put(m, &other_blob), 0);
	ck_assert_int_eq(meta_object_put(m, &sealed_obj), 0);
	ck_assert_int_eq(meta_object_put(m, &open_obj), 0);
	ck_assert_int_eq(meta_member_put(m, sealed_obj.id, "buffer_", sealed_blob.id), 0);
	ck_assert_int_eq(meta_member_put(m, open_obj.id, "buffer_", open_blob.id), 0);
	ck_assert_int_eq(meta_name_put(m, "a", sealed_obj.id), 0);
	ck_assert_int_eq(meta_name_put(m, "u", open_obj.id), 0);
	ck_assert_int_eq(meta_config_set(m, "spill_dir", "/somewhere"), 0);
	ck_assert_int_eq(meta_commit(m), 0);
}

#define MAXB 8

struct listed {
	struct meta_snap_blob v[MAXB];
	size_t n;
	size_t stop_at; /* > 0: fail the nth call with -ECANCELED */
};

static int
on_blob(void *arg, const struct meta_snap_blob *b)
{
	struct listed *l = arg;

	ck_assert_uint_lt(l->n, MAXB);
	l->v[l->n++] = *b;
	return l->stop_at > 0 && l->n >= l->stop_at ? -ECANCELED : 0;
}

static const struct meta_snap_blob *
listed_find(const struct listed *l, uint64_t id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return &l->v[i];
	return NULL;
}

/* The snapshot database of populate(), its checksums recorded, closed. */
static void
make_snapshot(void)
{
	struct meta_snap_info info = { .format = 7, .created_ns = 42, .objects = 1, .names = 1, .blobs = 2 };
	struct meta_snap_blob sums[2] = {
		{ .id = sealed_blob.id, .size = sealed_blob.size, .crc32c = 0x01234567 },
		{ .id = other_blob.id, .size = other_blob.size, .crc32c = 0 },
	};
	uint64_t objects = 0, names = 0, blobs = 0;
	struct listed l = { .n = 0 };
	meta_snap_t *s = NULL;
	char err[512];

	populate();
	ck_assert_int_eq(meta_backup(m, copy), 0);
	ck_assert_int_eq(meta_snap_open(copy, META_SNAP_WRITE, &s, err, sizeof err), 0);
	ck_assert_msg(meta_snap_trim(s, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(meta_snap_count(s, &objects, &names, &blobs, err, sizeof err), 0);
	ck_assert_uint_eq(objects, 1);
	ck_assert_uint_eq(names, 1);
	ck_assert_uint_eq(blobs, 2);
	blobs = 0;
	ck_assert_int_eq(meta_snap_count(s, NULL, NULL, &blobs, err, sizeof err), 0);
	ck_assert_uint_eq(blobs, 2);
	/* Listed before their checksums are recorded: none has one. */
	ck_assert_int_eq(meta_snap_blobs(s, on_blob, &l, err, sizeof err), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_ptr_nonnull(listed_find(&l, sealed_blob.id));
	ck_assert_uint_eq(listed_find(&l, sealed_blob.id)->size, sealed_blob.size);
	ck_assert_int_eq(listed_find(&l, sealed_blob.id)->has_crc, 0);
	ck_assert_ptr_nonnull(listed_find(&l, other_blob.id));
	ck_assert_msg(meta_snap_record(s, sums, 2, &info, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(meta_snap_close(s, err, sizeof err), 0);
}

START_TEST(test_snapshot_roundtrip)
{
	struct listed l = { .n = 0 };
	meta_snap_t *s = NULL;
	uint64_t format = 0;
	char err[512];

	make_snapshot();
	ck_assert_int_eq(meta_snap_open(copy, 0, &s, err, sizeof err), 0);
	ck_assert_int_eq(meta_snap_format(s, &format, err, sizeof err), 0);
	ck_assert_uint_eq(format, 7);
	ck_assert_int_eq(meta_snap_blobs(s, on_blob, &l, err, sizeof err), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_int_eq(listed_find(&l, sealed_blob.id)->has_crc, 1);
	ck_assert_uint_eq(listed_find(&l, sealed_blob.id)->crc32c, 0x01234567);
	ck_assert_int_eq(listed_find(&l, other_blob.id)->has_crc, 1);
	/* Read-only: it is not written by mistake. */
	ck_assert_int_eq(meta_snap_trim(s, err, sizeof err), -EROFS);
	ck_assert_int_eq(meta_snap_close(s, err, sizeof err), 0);
}
END_TEST

struct seen {
	int blobs, spilled, objects, names;
};

static int
seen_blob(void *arg, const struct meta_blob *b)
{
	struct seen *s = arg;

	ck_assert(b->id == sealed_blob.id || b->id == other_blob.id);
	s->blobs++;
	s->spilled += b->spilled;
	return 0;
}

static int
seen_object(void *arg, const struct meta_object *o)
{
	((struct seen *)arg)->objects++;
	ck_assert_uint_eq(o->id, sealed_obj.id);
	return 0;
}

static int
seen_name(void *arg, const char *name, uint64_t object_id)
{
	((struct seen *)arg)->names++;
	ck_assert_str_eq(name, "a");
	ck_assert_uint_eq(object_id, sealed_obj.id);
	return 0;
}

START_TEST(test_snapshot_install)
{
	struct meta_load_ops ops = { .blob = seen_blob, .object = seen_object, .name = seen_name };
	struct seen seen = { 0 };
	meta_snap_t *s = NULL;
	meta_t *m2 = NULL;
	sqlite3_stmt *st;
	sqlite3 *db;
	char err[512], *v = NULL;

	make_snapshot();
	ck_assert_int_eq(meta_snap_open(copy, 0, &s, err, sizeof err), 0);
	ck_assert_msg(meta_snap_install(s, installed, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(meta_snap_close(s, err, sizeof err), 0);

	/* No table of the snapshot's left, a rollback journal. */
	ck_assert_int_eq(sqlite3_open(installed, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
			     "SELECT count(*) FROM sqlite_master WHERE name LIKE 'snapshot%'", -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);

	/* A store's database: sealed rows only, in memory, no spill dir. */
	ck_assert_int_eq(meta_open(installed, &m2), 0);
	ck_assert_int_eq(meta_schema_version(m2), schema_migration_count);
	ck_assert_int_eq(meta_load(m2, &ops, &seen), 0);
	ck_assert_int_eq(seen.blobs, 2);
	ck_assert_int_eq(seen.spilled, 0);
	ck_assert_int_eq(seen.objects, 1);
	ck_assert_int_eq(seen.names, 1);
	ck_assert_int_eq(meta_config_get(m2, "spill_dir", &v), -ENOENT);
	meta_close(m2);
}
END_TEST

START_TEST(test_not_a_snapshot)
{
	struct listed l = { .n = 0 };
	meta_snap_t *s = NULL;
	uint64_t format = 0;
	char err[512], empty[PATH_MAX];

	/* A store's database copied but never made a snapshot. */
	populate();
	ck_assert_int_eq(meta_backup(m, copy), 0);
	ck_assert_int_eq(meta_snap_open(copy, 0, &s, err, sizeof err), 0);
	ck_assert_int_eq(meta_snap_format(s, &format, err, sizeof err), -EINVAL);
	ck_assert_msg(strstr(err, "not a vineyardfs snapshot") != NULL, "%s", err);
	ck_assert_int_eq(meta_snap_blobs(s, on_blob, &l, err, sizeof err), -EINVAL);
	ck_assert_msg(strstr(err, copy) != NULL, "%s", err);
	ck_assert_uint_eq(l.n, 0);
	meta_snap_close(s, NULL, 0);

	/* An empty file. */
	test_write_file(dir, "empty.db", NULL, 0);
	snprintf(empty, sizeof empty, "%s/empty.db", dir);
	ck_assert_int_eq(meta_snap_open(empty, 0, &s, err, sizeof err), 0);
	ck_assert_int_eq(meta_snap_format(s, &format, err, sizeof err), -EINVAL);
	meta_snap_close(s, NULL, 0);

	/* Nothing there. */
	snprintf(empty, sizeof empty, "%s/none.db", dir);
	ck_assert_int_eq(meta_snap_open(empty, 0, &s, err, sizeof err), -ENOENT);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_blobs_stop)
{
	struct listed l = { .n = 0, .stop_at = 1 };
	meta_snap_t *s = NULL;
	char err[512];

	make_snapshot();
	ck_assert_int_eq(meta_snap_open(copy, 0, &s, err, sizeof err), 0);
	ck_assert_int_eq(meta_snap_blobs(s, on_blob, &l, err, sizeof err), -ECANCELED);
	ck_assert_uint_eq(l.n, 1);
	meta_snap_close(s, NULL, 0);
}
END_TEST

START_TEST(test_state_objects)
{
	char err[512], path[PATH_MAX];
	uint64_t n = 99;

	/* Empty, then two objects (sealed or not, both count). */
	meta_close(m);
	m = NULL;
	ck_assert_int_eq(meta_snap_state_objects(dbpath, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(meta_open(dbpath, &m), 0);
	populate();
	meta_close(m);
	m = NULL;
	ck_assert_int_eq(meta_snap_state_objects(dbpath, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 2);
	/* Its write-ahead log is checkpointed away. */
	snprintf(path, sizeof path, "%s-wal", dbpath);
	ck_assert(!test_exists(path));

	/* A database with no tables yet, and a file SQLite cannot read. */
	test_write_file(dir, "empty.db", NULL, 0);
	snprintf(path, sizeof path, "%s/empty.db", dir);
	n = 99;
	ck_assert_int_eq(meta_snap_state_objects(path, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 0);
	test_write_file(dir, "junk.db", "this is no database, not at all; it is just text", 48);
	snprintf(path, sizeof path, "%s/junk.db", dir);
	n = 99;
	ck_assert_int_eq(meta_snap_state_objects(path, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(meta_open(dbpath, &m), 0);
}
END_TEST

Suite *
meta_snapshot_suite(void)
{
	Suite *s = suite_create("meta_snapshot");
	TCase *tc = tcase_create("meta_snapshot");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_snapshot_roundtrip);
	tcase_add_test(tc, test_snapshot_install);
	tcase_add_test(tc, test_not_a_snapshot);
	tcase_add_test(tc, test_blobs_stop);
	tcase_add_test(tc, test_state_objects);
	suite_add_tcase(s, tc);
	return s;
}
