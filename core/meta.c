/*
 * meta: SQLite persistence of the catalog. Statements are prepared once at
 * open; every function maps SQLite failures to -errno and logs the SQLite
 * message, so a caller never sees a generic failure. Snapshots' databases
 * are meta_snapshot.c's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "meta_i.h"
#include "schema/schema.h"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_CONFIG_GET,
	ST_CONFIG_SET,
	ST_BLOB_PUT,
	ST_BLOB_DELETE,
	ST_OBJECT_PUT,
	ST_OBJECT_DELETE,
	ST_MEMBERS_DELETE,
	ST_NAMES_DELETE_OBJECT,
	ST_MEMBER_PUT,
	ST_NAME_PUT,
	ST_NAME_DELETE,
	ST_LOAD_BLOBS,
	ST_LOAD_OBJECTS,
	ST_LOAD_MEMBERS,
	ST_LOAD_NAMES,
	ST_MAX_ID,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_CONFIG_GET] = "SELECT value FROM config WHERE key = ?1",
	[ST_CONFIG_SET] = "INSERT OR REPLACE INTO config (key, value) VALUES (?1, ?2)",
	[ST_BLOB_PUT] = "INSERT OR REPLACE INTO blobs (id, size, sealed, uid, gid, mode,"
			" ctime_ns, mtime_ns, spilled, crc32c, pinned, atime_ns, btime_ns) VALUES (?1,"
			" ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_BLOB_DELETE] = "DELETE FROM blobs WHERE id = ?1",
	[ST_OBJECT_PUT] = "INSERT INTO objects (id, typename, fields, nbytes, sealed,"
			  " signature, uid, gid, mode, ctime_ns, mtime_ns, atime_ns, btime_ns) VALUES"
			  " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
			  " ON CONFLICT (id) DO UPDATE SET typename = ?2, fields = ?3,"
			  " nbytes = ?4, sealed = ?5, signature = ?6, uid = ?7, gid = ?8,"
			  " mode = ?9, ctime_ns = ?10, mtime_ns = ?11, atime_ns = ?12, btime_ns = ?13",
	[ST_OBJECT_DELETE] = "DELETE FROM objects WHERE id = ?1",
	[ST_MEMBERS_DELETE] = "DELETE FROM members WHERE object_id = ?1",
	[ST_NAMES_DELETE_OBJECT] = "DELETE FROM names WHERE object_id = ?1",
	[ST_MEMBER_PUT] = "INSERT OR REPLACE INTO members (object_id, name, member_id)"
			  " VALUES (?1, ?2, ?3)",
	[ST_NAME_PUT] = "INSERT OR REPLACE INTO names (name, object_id) VALUES (?1, ?2)",
	[ST_NAME_DELETE] = "DELETE FROM names WHERE name = ?1",
	[ST_LOAD_BLOBS] = "SELECT id, size, sealed, uid, gid, mode, ctime_ns, mtime_ns, spilled,"
			  " crc32c, pinned, coalesce(atime_ns, mtime_ns), coalesce(btime_ns, ctime_ns)"
			  " FROM blobs",
	[ST_LOAD_OBJECTS] = "SELECT id, typename, fields, nbytes, sealed, signature, uid, gid,"
			    " mode, ctime_ns, mtime_ns, coalesce(atime_ns, mtime_ns),"
			    " coalesce(btime_ns, ctime_ns) FROM objects",
	[ST_LOAD_MEMBERS] = "SELECT object_id, name, member_id FROM members",
	[ST_LOAD_NAMES] = "SELECT name, object_id FROM names",
	[ST_MAX_ID] = "SELECT MAX(id & 0x0FFFFFFFFFFFFFFF) FROM"
		      " (SELECT id FROM blobs UNION ALL SELECT id FROM objects)"
		      " WHERE ((id >> 48) & 4095) = ?1",
};

struct meta {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
};

int
meta_sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM: return -EROFS;
	case SQLITE_CANTOPEN: return -ENOENT;
	case SQLITE_CONSTRAINT: return -EEXIST;
	case SQLITE_TOOBIG: return -E2BIG;
	default: return -EIO;
	}
}

int
meta_sql_fail(sqlite3 *db, int rc, const char *what)
{
	log_error("metadata database: %s: %s", what, db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return meta_sql_errno(rc);
}

sqlite3 *
meta_sql_db(meta_t *m)
{
	return m->db;
}

/* Map an SQLite result code to -errno, logging what SQLite said. */
static int
db_error(meta_t *m, int rc, const char *what)
{
	return meta_sql_fail(m->db, rc, what);
}

/* Run a statement that returns no rows, then reset it. */
static int
step_done(meta_t *m, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return db_error(m, rc, what);
	return 0;
}

static int
exec_sql(meta_t *m, const char *sql, const char *what)
{
	char *err = NULL;
	int rc = sqlite3_exec(m->db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		log_error("metadata database: %s: %s", what, err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		return db_error(m, rc, what);
	}
	return 0;
}

int
meta_schema_version(meta_t *m)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(m->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Apply the migrations past user_version, each in its own transaction. */
static int
migrate(meta_t *m)
{
	int v = meta_schema_version(m), rc;
	char pragma[64];

	if (v < 0)
		return -EIO;
	if (v > schema_migration_count) {
		log_error("metadata database has schema version %d, newer than this "
			  "vineyardfs knows (%d); refusing to touch it",
		    v, schema_migration_count);
		return -EPROTO;
	}
	for (; v < schema_migration_count; v++) {
		if ((rc = exec_sql(m, "BEGIN IMMEDIATE", "begin migration")) != 0)
			return rc;
		rc = exec_sql(m, schema_migrations[v], "apply migration");
		if (rc == 0) {
			snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
			rc = exec_sql(m, pragma, "record schema version");
		}
		if (rc != 0) {
			exec_sql(m, "ROLLBACK", "roll back migration");
			return rc;
		}
		if ((rc = exec_sql(m, "COMMIT", "commit migration")) != 0)
			return rc;
		log_info("metadata database migrated to schema version %d", v + 1);
	}
	return 0;
}

int
meta_open(const char *path, meta_t **out)
{
	meta_t *m = calloc(1, sizeof *m);
	int rc, i;

	if (m == NULL)
		return -ENOMEM;
	rc = sqlite3_open_v2(
	    path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = db_error(m, rc, path);
		goto fail;
	}
	sqlite3_busy_timeout(m->db, 5000);
	if ((rc = exec_sql(m,
		 "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL;"
		 " PRAGMA synchronous = NORMAL;"
		 " PRAGMA foreign_keys = ON;",
		 "set pragmas")) != 0)
		goto fail;
	if ((rc = migrate(m)) != 0)
		goto fail;
	for (i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(m->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &m->st[i], NULL);
		if (rc != SQLITE_OK) {
			rc = db_error(m, rc, stmt_sql[i]);
			goto fail;
		}
	}
	*out = m;
	return 0;
fail:
	meta_close(m);
	return rc;
}

void
meta_close(meta_t *m)
{
	int i;

	if (m == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(m->st[i]);
	if (m->db != NULL && sqlite3_close(m->db) != SQLITE_OK)
		log_warn("metadata database did not close cleanly: %s", sqlite3_errmsg(m->db));
	free(m);
}

int
meta_begin(meta_t *m)
{
	return step_done(m, m->st[ST_BEGIN], "begin");
}

int
meta_commit(meta_t *m)
{
	int rc = step_done(m, m->st[ST_COMMIT], "commit");

	if (rc != 0)
		meta_rollback(m);
	return rc;
}

void
meta_rollback(meta_t *m)
{
	if (!sqlite3_get_autocommit(m->db))
		step_done(m, m->st[ST_ROLLBACK], "rollback");
}

int
meta_config_get(meta_t *m, const char *key, char **value)
{
	sqlite3_stmt *s = m->st[ST_CONFIG_GET];
	int rc;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*value = strdup((const char *)sqlite3_column_text(s, 0));
		rc = *value ? 0 : -ENOMEM;
	} else if (rc == SQLITE_DONE)
		rc = -ENOENT;
	else
		rc = db_error(m, rc, "get config");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int
meta_config_set(meta_t *m, const char *key, const char *value)
{
	sqlite3_stmt *s = m->st[ST_CONFIG_SET];

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	return step_done(m, s, "set config");
}

int
meta_blob_put(meta_t *m, const struct meta_blob *b)
{
	sqlite3_stmt *s = m->st[ST_BLOB_PUT];

	sqlite3_bind_int64(s, 1, (sqlite3_int64)b->id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)b->size);
	sqlite3_bind_int(s, 3, b->sealed);
	sqlite3_bind_int64(s, 4, b->uid);
	sqlite3_bind_int64(s, 5, b->gid);
	sqlite3_bind_int64(s, 6, b->mode);
	sqlite3_bind_int64(s, 7, b->ctime_ns);
	sqlite3_bind_int64(s, 8, b->mtime_ns);
	sqlite3_bind_int(s, 9, b->spilled);
	if (b->has_crc)
		sqlite3_bind_int64(s, 10, b->crc32c);
	else
		sqlite3_bind_null(s, 10);
	sqlite3_bind_int(s, 11, b->pinned);
	sqlite3_bind_int64(s, 12, b->atime_ns);
	sqlite3_bind_int64(s, 13, b->btime_ns);
	return step_done(m, s, "store blob");
}

static int
delete_by_id(meta_t *m, enum stmt_id st, uint64_t id, const char *what)
{
	sqlite3_bind_int64(m->st[st], 1, (sqlite3_int64)id);
	return step_done(m, m->st[st], what);
}

int
meta_blob_delete(meta_t *m, uint64_t id)
{
	return delete_by_id(m, ST_BLOB_DELETE, id, "delete blob");
}

int
meta_object_put(meta_t *m, const struct meta_object *o)
{
	sqlite3_stmt *s = m->st[ST_OBJECT_PUT];

	sqlite3_bind_int64(s, 1, (sqlite3_int64)o->id);
	sqlite3_bind_text(s, 2, o->typename, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, o->fields, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)o->nbytes);
	sqlite3_bind_int(s, 5, o->sealed);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)o->signature);
	sqlite3_bind_int64(s, 7, o->uid);
	sqlite3_bind_int64(s, 8, o->gid);
	sqlite3_bind_int64(s, 9, o->mode);
	sqlite3_bind_int64(s, 10, o->ctime_ns);
	sqlite3_bind_int64(s, 11, o->mtime_ns);
	sqlite3_bind_int64(s, 12, o->atime_ns);
	sqlite3_bind_int64(s, 13, o->btime_ns);
	return step_done(m, s, "store object");
}

int
meta_object_delete(meta_t *m, uint64_t id)
{
	int rc;

	if ((rc = delete_by_id(m, ST_NAMES_DELETE_OBJECT, id, "delete object names")) != 0)
		return rc;
	if ((rc = delete_by_id(m, ST_MEMBERS_DELETE, id, "delete object members")) != 0)
		return rc;
	return delete_by_id(m, ST_OBJECT_DELETE, id, "delete object");
}

int
meta_member_put(meta_t *m, uint64_t object_id, const char *name, uint64_t member_id)
{
	sqlite3_stmt *s = m->st[ST_MEMBER_PUT];

	sqlite3_bind_int64(s, 1, (sqlite3_int64)object_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)member_id);
	return step_done(m, s, "store member");
}

int
meta_name_put(meta_t *m, const char *name, uint64_t object_id)
{
	sqlite3_stmt *s = m->st[ST_NAME_PUT];

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)object_id);
	return step_done(m, s, "store name");
}

int
meta_name_delete(meta_t *m, const char *name)
{
	sqlite3_stmt *s = m->st[ST_NAME_DELETE];

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return step_done(m, s, "delete name");
}

/* Step a query to its end, calling row for each row. */
static int
load_rows(meta_t *m, enum stmt_id st,
    int (*row)(meta_t *, sqlite3_stmt *, const struct meta_load_ops *, void *),
    const struct meta_load_ops *ops, void *arg)
{
	sqlite3_stmt *s = m->st[st];
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int err = row(m, s, ops, arg);

		if (err != 0) {
			sqlite3_reset(s);
			return err;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : db_error(m, rc, "load");
}

static int
row_blob(meta_t *m, sqlite3_stmt *s, const struct meta_load_ops *ops, void *arg)
{
	struct meta_blob b = {
		.id = (uint64_t)sqlite3_column_int64(s, 0),
		.size = (uint64_t)sqlite3_column_int64(s, 1),
		.sealed = sqlite3_column_int(s, 2),
		.uid = (uint32_t)sqlite3_column_int64(s, 3),
		.gid = (uint32_t)sqlite3_column_int64(s, 4),
		.mode = (uint32_t)sqlite3_column_int64(s, 5),
		.ctime_ns = sqlite3_column_int64(s, 6),
		.mtime_ns = sqlite3_column_int64(s, 7),
		.spilled = sqlite3_column_int(s, 8),
		.has_crc = sqlite3_column_type(s, 9) != SQLITE_NULL,
		.crc32c = (uint32_t)sqlite3_column_int64(s, 9),
		.pinned = sqlite3_column_int(s, 10),
		.atime_ns = sqlite3_column_int64(s, 11),
		.btime_ns = sqlite3_column_int64(s, 12),
	};

	(void)m;
	return ops->blob ? ops->blob(arg, &b) : 0;
}

static int
row_object(meta_t *m, sqlite3_stmt *s, const struct meta_load_ops *ops, void *arg)
{
	struct meta_object o = {
		.id = (uint64_t)sqlite3_column_int64(s, 0),
		.typename = (const char *)sqlite3_column_text(s, 1),
		.fields = (const char *)sqlite3_column_text(s, 2),
		.nbytes = (uint64_t)sqlite3_column_int64(s, 3),
		.sealed = sqlite3_column_int(s, 4),
		.signature = (uint64_t)sqlite3_column_int64(s, 5),
		.uid = (uint32_t)sqlite3_column_int64(s, 6),
		.gid = (uint32_t)sqlite3_column_int64(s, 7),
		.mode = (uint32_t)sqlite3_column_int64(s, 8),
		.ctime_ns = sqlite3_column_int64(s, 9),
		.mtime_ns = sqlite3_column_int64(s, 10),
		.atime_ns = sqlite3_column_int64(s, 11),
		.btime_ns = sqlite3_column_int64(s, 12),
	};

	(void)m;
	return ops->object ? ops->object(arg, &o) : 0;
}

static int
row_member(meta_t *m, sqlite3_stmt *s, const struct meta_load_ops *ops, void *arg)
{
	(void)m;
	if (ops->member == NULL)
		return 0;
	return ops->member(arg, (uint64_t)sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
	    (uint64_t)sqlite3_column_int64(s, 2));
}

static int
row_name(meta_t *m, sqlite3_stmt *s, const struct meta_load_ops *ops, void *arg)
{
	(void)m;
	if (ops->name == NULL)
		return 0;
	return ops->name(arg, (const char *)sqlite3_column_text(s, 0), (uint64_t)sqlite3_column_int64(s, 1));
}

int
meta_load(meta_t *m, const struct meta_load_ops *ops, void *arg)
{
	int rc;

	if ((rc = load_rows(m, ST_LOAD_BLOBS, row_blob, ops, arg)) != 0)
		return rc;
	if ((rc = load_rows(m, ST_LOAD_OBJECTS, row_object, ops, arg)) != 0)
		return rc;
	if ((rc = load_rows(m, ST_LOAD_MEMBERS, row_member, ops, arg)) != 0)
		return rc;
	return load_rows(m, ST_LOAD_NAMES, row_name, ops, arg);
}

int
meta_max_id(meta_t *m, unsigned instance, uint64_t *out)
{
	sqlite3_stmt *s = m->st[ST_MAX_ID];
	int rc;

	sqlite3_bind_int64(s, 1, instance);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(s, 0);
		rc = 0;
	} else
		rc = db_error(m, rc, "max id");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}
