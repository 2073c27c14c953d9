/*
 * meta: the SQLite metadata database, the source of truth for what exists:
 * blobs, objects (typename, JSON fields, owner, mode, times), members and
 * names. One connection, prepared statements kept for its life, WAL with
 * synchronous=NORMAL (a committed transaction survives a process crash).
 * The connection holds the database in exclusive locking mode: the daemon is
 * its only user (the state-dir lock sees to it), so transactions skip
 * SQLite's file locking. Callers serialize access (the catalog lock).
 * This header is the only contract that knows the schema: no file outside
 * core/meta*.c speaks SQL, so a migration is never repeated elsewhere. A
 * snapshot's database (meta_snap_*, core/meta_snapshot.c) is a copy with
 * a connection of its own; the cluster mirror's table (meta_mirror_*,
 * core/meta_mirror.c) shares this one.
 */
#ifndef VFS_META_H
#define VFS_META_H

#include <stddef.h>
#include <stdint.h>

typedef struct meta meta_t;

struct meta_blob {
	uint64_t id;
	uint64_t size;
	int sealed;
	uint32_t uid;
	uint32_t gid;
	uint32_t mode;
	int64_t ctime_ns; /* the last change of data or attributes */
	int64_t mtime_ns;
	int64_t atime_ns; /* as last set (reads do not move it) */
	int64_t btime_ns; /* creation */
	int spilled;	  /* a durable copy is in the spill directory */
	int has_crc;	  /* crc32c is known */
	uint32_t crc32c;  /* of the bytes */
	int pinned;	  /* never spilled */
};

struct meta_object {
	uint64_t id;
	const char *typename;
	const char *fields; /* JSON object text */
	uint64_t nbytes;
	int sealed;
	uint64_t signature;
	uint32_t uid;
	uint32_t gid;
	uint32_t mode;
	int64_t ctime_ns;
	int64_t mtime_ns;
	int64_t atime_ns;
	int64_t btime_ns;
};

/* Callbacks of meta_load; each returns 0 to go on or -errno to stop. */
struct meta_load_ops {
	int (*blob)(void *arg, const struct meta_blob *b);
	int (*object)(void *arg, const struct meta_object *o);
	int (*member)(void *arg, uint64_t object_id, const char *name, uint64_t member_id);
	int (*name)(void *arg, const char *name, uint64_t object_id);
};

/* Open (creating) the database at path and apply pending migrations. */
int meta_open(const char *path, meta_t **out);
void meta_close(meta_t *m);
/* Schema version in force (number of migrations applied). */
int meta_schema_version(meta_t *m);

int meta_begin(meta_t *m);
int meta_commit(meta_t *m);
void meta_rollback(meta_t *m);

/* Config values; get returns -ENOENT when unset, caller frees *value. */
int meta_config_get(meta_t *m, const char *key, char **value);
int meta_config_set(meta_t *m, const char *key, const char *value);

/* Insert or replace. */
int meta_blob_put(meta_t *m, const struct meta_blob *b);
int meta_blob_delete(meta_t *m, uint64_t id);
int meta_object_put(meta_t *m, const struct meta_object *o);
/* Deletes the object, its member rows and its names. */
int meta_object_delete(meta_t *m, uint64_t id);
int meta_member_put(meta_t *m, uint64_t object_id, const char *name, uint64_t member_id);
int meta_name_put(meta_t *m, const char *name, uint64_t object_id);
int meta_name_delete(meta_t *m, const char *name);

/* Stream every row to ops: blobs, then objects, members, names. */
int meta_load(meta_t *m, const struct meta_load_ops *ops, void *arg);
/* Largest id (blob or object, flag bits ignored) of an instance, 0 if none. */
int meta_max_id(meta_t *m, unsigned instance, uint64_t *out);

/*
 * The cluster mirror (core/meta_mirror.c): what etcd holds under the
 * cluster's prefix, by key relative to it ("objects/o…"), as the last
 * list and watch showed it, with the cluster it belongs to and the etcd
 * revision it is current to. Writes go inside the caller's transaction.
 */
struct meta_mirror_kv {
	const char *key;   /* NUL-terminated, relative to the prefix */
	const void *value; /* NULL: the key went */
	size_t len;
};
/* Write n keys: with replace, the mirror becomes exactly these (a full
 * list); else each is put or deleted. It now belongs to cluster and is
 * current to revision. */
int meta_mirror_write(
    meta_t *m, const char *cluster, const struct meta_mirror_kv *v, size_t n, int replace, int64_t revision);
/* The cluster the mirror belongs to (caller frees; -ENOENT: no mirror
 * was ever written, or it was cleared) and its revision. */
int meta_mirror_info(meta_t *m, char **cluster, int64_t *revision);
/* Call fn for every key, sorted; fn returns 0 to go on or -errno. */
int meta_mirror_load(
    meta_t *m, int (*fn)(void *arg, const char *key, const void *value, size_t len), void *arg);
/* Forget the mirror: its keys (*n, may be NULL: how many), its cluster
 * and revision, its copies. */
int meta_mirror_clear(meta_t *m, uint64_t *n);
/* A fetched copy of a remote blob, with the CRC-32C it came with. */
struct meta_mirror_copy {
	uint64_t id;
	uint64_t size;
	uint32_t crc32c;
};
/* The copies become exactly these (at close). */
int meta_mirror_copies_write(meta_t *m, const struct meta_mirror_copy *v, size_t n);
/* Call fn for every copy recorded; fn returns 0 to go on or -errno. */
int meta_mirror_copies_load(meta_t *m, int (*fn)(void *arg, const struct meta_mirror_copy *cp), void *arg);

/*
 * Snapshots (core/meta_snapshot.c, for core/snapshot*.c). A snapshot's
 * database is a copy of this one (meta_backup) trimmed to sealed objects,
 * with two tables of its own: snapshot_blobs (id, size, crc32c) for every
 * blob and snapshot_info (key, value): format, time, counts. These
 * functions give -errno with a message in err (errlen bytes; NULL: none),
 * and log nothing: the snapshot reports its failure once, whole.
 */

/* Copy the database as committed into a new database file at path
 * (SQLite's online backup, in one step), with no transaction open on m;
 * the copy keeps the journal mode of m in its header. 0 or -errno. */
int meta_backup(meta_t *m, const char *path);

typedef struct meta_snap meta_snap_t;

/* A blob of a snapshot's database. */
struct meta_snap_blob {
	uint64_t id;
	uint64_t size;
	int has_crc; /* snapshot_blobs has its checksum, of that size */
	uint32_t crc32c;
};

/* What a snapshot records about itself in snapshot_info. */
struct meta_snap_info {
	uint64_t format;
	int64_t created_ns;
	uint64_t objects, names, blobs, bytes;
};

/* Open the snapshot database at path: read-only, or (META_SNAP_WRITE) a
 * copy by meta_backup that is being made a snapshot. *out the caller's,
 * for meta_snap_close. */
int meta_snap_open(const char *path, unsigned flags, meta_snap_t **out, char *err, size_t errlen);
#define META_SNAP_WRITE 1u
/* Close (NULL: no-op); 0, or the -errno of a close that failed. */
int meta_snap_close(meta_snap_t *s, char *err, size_t errlen);
/* The copy becomes a snapshot's database: a rollback journal written
 * without syncs (the file is fsynced once, whole), the unsealed blobs and
 * objects (with their names and members) and the cluster mirror out,
 * the snapshot's tables in. */
int meta_snap_trim(meta_snap_t *s, char *err, size_t errlen);
/* Objects, names and blobs it holds (NULL: not counted). */
int meta_snap_count(
    meta_snap_t *s, uint64_t *objects, uint64_t *names, uint64_t *blobs, char *err, size_t errlen);
/* Call fn for every blob, with its checksum if recorded; fn returns 0 to
 * go on or -errno (its message in err) to stop. -EINVAL for a database
 * that is no snapshot. */
int meta_snap_blobs(meta_snap_t *s, int (*fn)(void *arg, const struct meta_snap_blob *b), void *arg,
    char *err, size_t errlen);
/* Record the checksums of n blobs and the info, in one transaction. */
int meta_snap_record(meta_snap_t *s, const struct meta_snap_blob *v, size_t n,
    const struct meta_snap_info *info, char *err, size_t errlen);
/* The snapshot's format; -EINVAL for a database that is no snapshot. */
int meta_snap_format(meta_snap_t *s, uint64_t *format, char *err, size_t errlen);
/* Restore: a copy of the snapshot at path as a store's database, less
 * the snapshot's tables; every blob in memory (none spilled) and no spill
 * directory remembered (the snapshotted store may still use it). Closed,
 * not fsynced: durability is the caller's. */
int meta_snap_install(meta_snap_t *s, const char *path, char *err, size_t errlen);
/* Restore: how many objects the store database at path (it exists)
 * holds, without migrating it; closing it checkpoints its write-ahead log
 * away. A database made before any migration, or one SQLite cannot read,
 * holds none. */
int meta_snap_state_objects(const char *path, uint64_t *n, char *err, size_t errlen);

#endif
