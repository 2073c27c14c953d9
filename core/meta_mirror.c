/*
 * meta_mirror: the cluster mirror's table (schema/004-mirror.sql), etcd's
 * keys under the cluster prefix with their values, and the two config rows
 * that say whose it is and how current (mirror_cluster, mirror_revision);
 * beside it the CRC-32C of the fetched copies in the store (mirror_copies).
 * Writes run inside the caller's transaction, a batch at a time (a full
 * list, or one watch response), so their statements are prepared per
 * batch: a prepare costs microseconds, a batch a commit. A value that
 * did not change is not written again, and a full list deletes only the
 * keys it no longer shows: the meta lock is held for what changed.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "meta_i.h"

#define CFG_CLUSTER "mirror_cluster"
#define CFG_REVISION "mirror_revision"

static int
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **s)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, s, NULL);

	return rc == SQLITE_OK ? 0 : meta_sql_fail(db, rc, sql);
}

/* Run s (no rows), reset it for the next binding. */
static int
run(sqlite3 *db, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : meta_sql_fail(db, rc, what);
}

int
meta_mirror_write(
    meta_t *m, const char *cluster, const struct meta_mirror_kv *v, size_t n, int replace, int64_t revision)
{
	sqlite3 *db = meta_sql_db(m);
	sqlite3_stmt *put = NULL, *del = NULL, *cfg = NULL, *seen = NULL;
	char rev[24];
	size_t i;
	int rc;

	/* A value that did not change is not written again: a list after a
	 * lost connection mostly finds the table as it was. */
	if ((rc = prepare(db,
		 "INSERT INTO mirror (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET"
		 " value = excluded.value WHERE value IS NOT excluded.value",
		 &put)) != 0 ||
	    (rc = prepare(db, "DELETE FROM mirror WHERE key = ?1", &del)) != 0 ||
	    (rc = prepare(db, "INSERT OR REPLACE INTO config (key, value) VALUES (?1, ?2)", &cfg)) != 0)
		goto out;
	/* A full list: the keys it shows, so that the others go after. */
	if (replace &&
	    ((rc = sqlite3_exec(db,
		  "CREATE TEMP TABLE IF NOT EXISTS mirror_listed (key TEXT PRIMARY KEY) WITHOUT ROWID;"
		  " DELETE FROM mirror_listed",
		  NULL, NULL, NULL)) != SQLITE_OK ||
		(rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO mirror_listed (key) VALUES (?1)", -1,
		     &seen, NULL)) != SQLITE_OK)) {
		rc = meta_sql_fail(db, rc, "list the mirror's keys");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (v[i].value != NULL) {
			sqlite3_bind_text(put, 1, v[i].key, -1, SQLITE_STATIC);
			sqlite3_bind_blob64(put, 2, v[i].len > 0 ? v[i].value : "", v[i].len, SQLITE_STATIC);
			rc = run(db, put, "store a mirror key");
			if (rc == 0 && seen != NULL) {
				sqlite3_bind_text(seen, 1, v[i].key, -1, SQLITE_STATIC);
				rc = run(db, seen, "list a mirror key");
			}
		} else {
			sqlite3_bind_text(del, 1, v[i].key, -1, SQLITE_STATIC);
			rc = run(db, del, "delete a mirror key");
		}
		if (rc != 0)
			goto out;
	}
	if (replace && (rc = sqlite3_exec(db,
			    "DELETE FROM mirror WHERE key NOT IN (SELECT key FROM mirror_listed);"
			    " DELETE FROM mirror_listed",
			    NULL, NULL, NULL)) != SQLITE_OK) {
		rc = meta_sql_fail(db, rc, "drop the keys a list no longer shows");
		goto out;
	}
	snprintf(rev, sizeof rev, "%" PRId64, revision);
	sqlite3_bind_text(cfg, 1, CFG_CLUSTER, -1, SQLITE_STATIC);
	sqlite3_bind_text(cfg, 2, cluster, -1, SQLITE_STATIC);
	if ((rc = run(db, cfg, "record the mirror's cluster")) != 0)
		goto out;
	sqlite3_bind_text(cfg, 1, CFG_REVISION, -1, SQLITE_STATIC);
	sqlite3_bind_text(cfg, 2, rev, -1, SQLITE_STATIC);
	rc = run(db, cfg, "record the mirror's revision");
out:
	sqlite3_finalize(put);
	sqlite3_finalize(del);
	sqlite3_finalize(cfg);
	sqlite3_finalize(seen);
	return rc;
}

int
meta_mirror_info(meta_t *m, char **cluster, int64_t *revision)
{
	char *rev = NULL;
	int rc;

	*cluster = NULL;
	*revision = 0;
	if ((rc = meta_config_get(m, CFG_CLUSTER, cluster)) != 0)
		return rc;
	if ((rc = meta_config_get(m, CFG_REVISION, &rev)) == 0)
		*revision = strtoll(rev, NULL, 10);
	free(rev);
	return rc == -ENOENT ? 0 : rc;
}

int
meta_mirror_load(meta_t *m, int (*fn)(void *arg, const char *key, const void *value, size_t len), void *arg)
{
	sqlite3 *db = meta_sql_db(m);
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prepare(db, "SELECT key, value FROM mirror ORDER BY key", &s)) != 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const void *value = sqlite3_column_blob(s, 1);
		size_t len = (size_t)sqlite3_column_bytes(s, 1);

		if ((rc = fn(
			 arg, (const char *)sqlite3_column_text(s, 0), value != NULL ? value : "", len)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : meta_sql_fail(db, rc, "read the mirror");
out:
	sqlite3_finalize(s);
	return rc;
}

int
meta_mirror_clear(meta_t *m, uint64_t *n)
{
	sqlite3 *db = meta_sql_db(m);
	int rc = sqlite3_exec(db, "DELETE FROM mirror", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return meta_sql_fail(db, rc, "empty the mirror");
	if (n != NULL)
		*n = (uint64_t)sqlite3_changes64(db);
	rc = sqlite3_exec(db,
	    "DELETE FROM mirror_copies; DELETE FROM config WHERE key IN ('" CFG_CLUSTER "', '" CFG_REVISION
	    "')",
	    NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : meta_sql_fail(db, rc, "forget the mirror's cluster");
}

int
meta_mirror_copies_write(meta_t *m, const struct meta_mirror_copy *v, size_t n)
{
	sqlite3 *db = meta_sql_db(m);
	sqlite3_stmt *put = NULL;
	size_t i;
	int rc;

	if ((rc = sqlite3_exec(db, "DELETE FROM mirror_copies", NULL, NULL, NULL)) != SQLITE_OK)
		return meta_sql_fail(db, rc, "empty the fetched copies");
	if ((rc = prepare(db, "INSERT INTO mirror_copies (id, size, crc32c) VALUES (?1, ?2, ?3)", &put)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		sqlite3_bind_int64(put, 1, (sqlite3_int64)v[i].id);
		sqlite3_bind_int64(put, 2, (sqlite3_int64)v[i].size);
		sqlite3_bind_int64(put, 3, v[i].crc32c);
		rc = run(db, put, "record a fetched copy");
	}
	sqlite3_finalize(put);
	return rc;
}

int
meta_mirror_copies_load(meta_t *m, int (*fn)(void *arg, const struct meta_mirror_copy *cp), void *arg)
{
	sqlite3 *db = meta_sql_db(m);
	struct meta_mirror_copy cp;
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prepare(db, "SELECT id, size, crc32c FROM mirror_copies", &s)) != 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cp.id = (uint64_t)sqlite3_column_int64(s, 0);
		cp.size = (uint64_t)sqlite3_column_int64(s, 1);
		cp.crc32c = (uint32_t)sqlite3_column_int64(s, 2);
		if ((rc = fn(arg, &cp)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : meta_sql_fail(db, rc, "read the fetched copies");
out:
	sqlite3_finalize(s);
	return rc;
}
