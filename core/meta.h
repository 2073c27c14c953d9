/*
 * meta: the SQLite metadata database, the source of truth for what exists:
 * blobs, objects (typename, JSON fields, owner, mode, times), members and
 * names. One connection, prepared statements kept for its life, WAL with
 * synchronous=NORMAL (a committed transaction survives a process crash).
 * The connection holds the database in exclusive locking mode: the daemon is
 * its only user (the state-dir lock sees to it), so transactions skip
 * SQLite's file locking. Callers serialize access (the catalog lock).
 */
#ifndef VFS_META_H
#define VFS_META_H

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

/* Copy the database as committed into a new database file at path
 * (SQLite's online backup, in one step), with no transaction open on m;
 * the copy keeps the journal mode of m in its header. 0 or -errno. */
int meta_backup(meta_t *m, const char *path);

#endif
