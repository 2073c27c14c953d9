/*
 * snapshot_i: what snapshot.c (create) shares with snapshot_restore.c:
 * io_uring set-up with the test faults, SQLite on a snapshot's database,
 * files by name in a directory.
 */
#ifndef VFS_SNAPSHOT_I_H
#define VFS_SNAPSHOT_I_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct uring;

/* A ring for one snapshot or restore, with the test faults if any. */
int snap_ring_open(struct uring **u, char *err, size_t errlen);

/* An SQLite result code as -errno. */
int snap_sql_errno(int rc);

/* Run sql; 0, or -errno with "what: why" in err. */
int snap_sql_exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen);

/* The one integer a query returns. */
int snap_sql_count(sqlite3 *db, const char *sql, uint64_t *out, char *err, size_t errlen);

/* Open the database at path with flags (SQLITE_OPEN_*); *db the caller's. */
int snap_sql_open(const char *path, int flags, sqlite3 **db, char *err, size_t errlen);

/* Open name in dirfd to read a copy: O_DIRECT where the file system takes it. */
int snap_open_src(int dirfd, const char *name, int *fd);

/* fsync the file at dirfd/name. */
int snap_fsync_at(struct uring *u, int dirfd, const char *name);

/* Remove every entry of dirfd whose name starts with prefix. */
void snap_remove_prefixed(int dirfd, const char *prefix);

#endif
