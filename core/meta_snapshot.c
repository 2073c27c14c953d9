/*
 * meta_snapshot: the SQL of snapshots and restores (see meta.h): a
 * snapshot's database is the store's schema plus snapshot_blobs and
 * snapshot_info, so that a migration of the schema is written in
 * schema/ and here, never in core/snapshot*.c. Each meta_snap_t is a
 * connection of its own, used by one snapshot or restore at a time; the
 * store's live connection is only read, by meta_backup, under the
 * catalog's locks.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "id.h"
#include "meta_i.h"
#include "util.h"

struct meta_snap {
	sqlite3 *db;
	char path[PATH_MAX]; /* for messages */
};

/* ---- the store's database, copied ---- */

int
meta_backup(meta_t *m, const char *path)
{
	sqlite3_backup *b;
	sqlite3 *dst = NULL;
	int rc;

	rc = sqlite3_open_v2(
	    path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = meta_sql_fail(dst, rc, path);
		goto out;
	}
	/* All pages in one step: the source is not released half copied. */
	if ((b = sqlite3_backup_init(dst, "main", meta_sql_db(m), "main")) == NULL) {
		rc = meta_sql_fail(dst, sqlite3_errcode(dst), "start the backup");
		goto out;
	}
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	rc = rc == SQLITE_DONE ? 0 : meta_sql_fail(dst, rc, "back up");
out:
	if (dst != NULL && sqlite3_close(dst) != SQLITE_OK && rc == 0)
		rc = meta_sql_fail(dst, sqlite3_errcode(dst), "close the backup");
	return rc;
}

/* ---- helpers ---- */

/* Open path with flags (SQLITE_OPEN_*); *db the caller's. */
static int
db_open(const char *path, int flags, sqlite3 **db, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(*db, 5000);
		return 0;
	}
	rc = util_fail(err, errlen, meta_sql_errno(rc), "%s: %s", path,
	    *db != NULL ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
	sqlite3_close(*db);
	*db = NULL;
	return rc;
}

/* Run sql; 0, or -errno with "what: why" in err. */
static int
exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc == SQLITE_OK)
		return 0;
	rc = util_fail(
	    err, errlen, meta_sql_errno(rc), "%s: %s", what, msg != NULL ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc;
}

/* The one integer a query returns. */
static int
count(sqlite3 *db, const char *sql, uint64_t *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		rc = util_fail(err, errlen, meta_sql_errno(rc), "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* Close db; 0 or -errno with "close path: why". */
static int
db_close(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	int rc = sqlite3_close(db);

	return rc == SQLITE_OK
		   ? 0
		   : util_fail(err, errlen, meta_sql_errno(rc), "close %s: %s", path, sqlite3_errstr(rc));
}

/* ---- a snapshot's database ---- */

int
meta_snap_open(const char *path, unsigned flags, meta_snap_t **out, char *err, size_t errlen)
{
	meta_snap_t *s = calloc(1, sizeof *s);
	int rc;

	*out = NULL;
	if (s == NULL)
		return util_fail(err, errlen, -ENOMEM, "out of memory");
	snprintf(s->path, sizeof s->path, "%s", path);
	rc = db_open(path, (flags & META_SNAP_WRITE) ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, &s->db,
	    err, errlen);
	if (rc != 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
meta_snap_close(meta_snap_t *s, char *err, size_t errlen)
{
	int rc;

	if (s == NULL)
		return 0;
	rc = db_close(s->db, s->path, err, errlen);
	free(s);
	return rc;
}

int
meta_snap_trim(meta_snap_t *s, char *err, size_t errlen)
{
	/* The copy has the store's WAL header: a plain rollback-journal
	 * database instead, written without syncs (fsynced once, whole). */
	return exec(s->db,
	    "PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF;"
	    " BEGIN;"
	    " DELETE FROM names WHERE object_id IN (SELECT id FROM objects WHERE sealed = 0);"
	    " DELETE FROM members WHERE object_id IN (SELECT id FROM objects WHERE sealed = 0);"
	    " DELETE FROM objects WHERE sealed = 0;"
	    " DELETE FROM blobs WHERE sealed = 0;"
	    " DELETE FROM mirror;" /* the cluster's, not the store's: etcd has it */
	    " DELETE FROM mirror_copies;"
	    " DELETE FROM config WHERE key IN ('mirror_cluster', 'mirror_revision');"
	    " CREATE TABLE snapshot_blobs (id INTEGER PRIMARY KEY, size INTEGER NOT NULL,"
	    "  crc32c INTEGER NOT NULL);"
	    " CREATE TABLE snapshot_info (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	    " COMMIT;",
	    "trim the copied database", err, errlen);
}

int
meta_snap_count(meta_snap_t *s, uint64_t *objects, uint64_t *names, uint64_t *blobs, char *err, size_t errlen)
{
	int rc = 0;

	if ((objects != NULL &&
		(rc = count(s->db, "SELECT count(*) FROM objects", objects, err, errlen)) != 0) ||
	    (names != NULL && (rc = count(s->db, "SELECT count(*) FROM names", names, err, errlen)) != 0))
		return rc;
	return blobs != NULL ? count(s->db, "SELECT count(*) FROM blobs", blobs, err, errlen) : 0;
}

int
meta_snap_blobs(
    meta_snap_t *s, int (*fn)(void *arg, const struct meta_snap_blob *b), void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
		"SELECT b.id, b.size, s.size, s.crc32c FROM blobs b LEFT JOIN snapshot_blobs s ON s.id = b.id",
		-1, &st, NULL) != SQLITE_OK)
		return util_fail(err, errlen, -EINVAL, "%s is not a vineyardfs snapshot: %s", s->path,
		    sqlite3_errmsg(s->db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct meta_snap_blob b = {
			.id = (uint64_t)sqlite3_column_int64(st, 0),
			.size = (uint64_t)sqlite3_column_int64(st, 1),
			.crc32c = (uint32_t)sqlite3_column_int64(st, 3),
		};

		b.has_crc = sqlite3_column_type(st, 2) != SQLITE_NULL &&
			    (uint64_t)sqlite3_column_int64(st, 2) == b.size;
		if ((rc = fn(arg, &b)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE
		 ? 0
		 : util_fail(err, errlen, meta_sql_errno(rc), "%s: %s", s->path, sqlite3_errmsg(s->db));
out:
	sqlite3_finalize(st);
	return rc;
}

/* Insert one (key, value) of snapshot_info with st. */
static int
put_info(meta_snap_t *s, sqlite3_stmt *st, const char *key, uint64_t value, char *err, size_t errlen)
{
	char num[32];
	int rc;

	snprintf(num, sizeof num, "%llu", (unsigned long long)value);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, num, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE
		   ? 0
		   : util_fail(err, errlen, meta_sql_errno(rc), "snapshot_info: %s", sqlite3_errmsg(s->db));
}

int
meta_snap_record(meta_snap_t *s, const struct meta_snap_blob *v, size_t n, const struct meta_snap_info *info,
    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc;

	if ((rc = exec(s->db, "BEGIN", "begin", err, errlen)) != 0)
		return rc;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO snapshot_blobs (id, size, crc32c) VALUES (?1, ?2, ?3)", -1,
		&st, NULL) != SQLITE_OK) {
		rc = util_fail(err, errlen, -EIO, "snapshot_blobs: %s", sqlite3_errmsg(s->db));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)v[i].id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)v[i].size);
		sqlite3_bind_int64(st, 3, v[i].crc32c);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			char ids[ID_STR_LEN + 1];

			id_format(v[i].id, ids);
			rc = util_fail(err, errlen, meta_sql_errno(rc), "record blob %s: %s", ids,
			    sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, "INSERT INTO snapshot_info (key, value) VALUES (?1, ?2)", -1, &st,
		NULL) != SQLITE_OK) {
		st = NULL;
		rc = util_fail(err, errlen, -EIO, "snapshot_info: %s", sqlite3_errmsg(s->db));
		goto fail;
	}
	if ((rc = put_info(s, st, "format", info->format, err, errlen)) != 0 ||
	    (rc = put_info(s, st, "created_ns", (uint64_t)info->created_ns, err, errlen)) != 0 ||
	    (rc = put_info(s, st, "objects", info->objects, err, errlen)) != 0 ||
	    (rc = put_info(s, st, "names", info->names, err, errlen)) != 0 ||
	    (rc = put_info(s, st, "blobs", info->blobs, err, errlen)) != 0 ||
	    (rc = put_info(s, st, "bytes", info->bytes, err, errlen)) != 0)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = exec(s->db, "COMMIT", "commit", err, errlen)) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_finalize(st);
	exec(s->db, "ROLLBACK", "rollback", NULL, 0);
	return rc;
}

int
meta_snap_format(meta_snap_t *s, uint64_t *format, char *err, size_t errlen)
{
	if (count(s->db, "SELECT value FROM snapshot_info WHERE key = 'format'", format, NULL, 0) != 0)
		return util_fail(err, errlen, -EINVAL, "%s is not a vineyardfs snapshot (%s)", s->path,
		    sqlite3_errmsg(s->db));
	return 0;
}

int
meta_snap_install(meta_snap_t *s, const char *path, char *err, size_t errlen)
{
	sqlite3_backup *bk;
	sqlite3 *db = NULL;
	uint64_t n = 0;
	int rc;

	if ((rc = db_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db, err, errlen)) != 0)
		return rc;
	if ((bk = sqlite3_backup_init(db, "main", s->db, "main")) == NULL) {
		rc = util_fail(err, errlen, -EIO, "copy %s: %s", s->path, sqlite3_errmsg(db));
		goto out;
	}
	rc = sqlite3_backup_step(bk, -1);
	sqlite3_backup_finish(bk);
	if (rc != SQLITE_DONE) {
		rc = util_fail(err, errlen, meta_sql_errno(rc), "copy %s: %s", s->path, sqlite3_errstr(rc));
		goto out;
	}
	if ((rc = exec(db,
		 "PRAGMA journal_mode = DELETE; DROP TABLE snapshot_blobs; DROP TABLE snapshot_info;",
		 "drop the snapshot's tables", err, errlen)) != 0)
		goto out;
	/* Every blob is in memory now, none in a spill directory (a column
	 * of the schemas that have spill). */
	if ((rc = count(db, "SELECT count(*) FROM pragma_table_info('blobs') WHERE name = 'spilled'", &n, err,
		 errlen)) != 0 ||
	    (n > 0 &&
		(rc = exec(db, "UPDATE blobs SET spilled = 0", "mark blobs in memory", err, errlen)) != 0))
		goto out;
	/* Nor does the restored store own the spill directory the snapshotted
	 * one remembered (that store may still be using it). */
	if ((rc = exec(db, "DELETE FROM config WHERE key = 'spill_dir'", "forget the spill directory", err,
		 errlen)) != 0)
		goto out;
	rc = db_close(db, path, err, errlen);
	db = NULL;
out:
	if (db != NULL)
		sqlite3_close(db);
	return rc;
}

int
meta_snap_state_objects(const char *path, uint64_t *n, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int rc;

	*n = 0;
	/* Read-write: closing checkpoints the write-ahead log and removes it. */
	if ((rc = db_open(path, SQLITE_OPEN_READWRITE, &db, err, errlen)) != 0)
		return rc;
	/* A database made before any migration has no objects table. */
	if (count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'objects'", n, NULL, 0) != 0)
		*n = 0;
	else if (*n > 0)
		rc = count(db, "SELECT count(*) FROM objects", n, err, errlen);
	sqlite3_close(db);
	return rc;
}
