/*
 * meta_i: what meta.c (the live database) shares with meta_snapshot.c (a
 * snapshot's database): SQLite's codes as -errno, and the live
 * connection for meta_backup.
 */
#ifndef VFS_META_I_H
#define VFS_META_I_H

#include <sqlite3.h>

#include "meta.h"

/* An SQLite result code as -errno. */
int meta_sql_errno(int rc);
/* Log what SQLite said about rc on db (NULL: its code alone) while doing
 * what; returns rc as -errno. */
int meta_sql_fail(sqlite3 *db, int rc, const char *what);
/* The connection of m (m keeps it). */
sqlite3 *meta_sql_db(meta_t *m);

#endif
