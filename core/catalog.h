/*
 * catalog: the in-memory index of blobs, objects and names, written through
 * to the metadata database (meta) and backed by blob files (store). Every
 * operation the filesystem offers on objects is one catalog call, taken
 * under the catalog's one lock; the FUSE layer only translates.
 *
 * Lifetimes: a blob or object removed while files are open on it leaves the
 * database and the store at once (its file is unlinked), but its in-memory
 * record stays, marked deleted, until the last handle is released; then the
 * blob_freed hook runs and its memory returns to the system.
 *
 * Inode numbers (ino.h): the catalog answers the root, objects/, blobs/
 * and names/, and every object and blob (their ids, with ino.h's views);
 * the other entries of the root are the fs layer's.
 */
#ifndef VFS_CATALOG_H
#define VFS_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "ino.h"
#include "mem.h"

typedef struct catalog catalog_t;

/* The fixed directories the catalog answers for: the root (its times),
 * objects/, blobs/ and names/ (ino.h); .vineyardfs/ and streams/ are the
 * fs layer's. */
#define CATALOG_LAST_DIR INO_NAMES

#define CATALOG_NAME_MAX 255

struct catalog_config {
	const char *state_dir;	 /* meta.db lives here */
	const char *backing_dir; /* NULL: a tmpfs mounted at state_dir/mem */
	uint64_t memory_limit;	 /* bytes */
	int instance_id;	 /* -1: remembered, or chosen at first start */
	/* Spill (catalog_spill.h): sealed blobs leave memory for spill_dir when the
	 * store passes spill_high percent of memory_limit, down to spill_low.
	 * NULL: the directory remembered from an earlier start, if any. */
	const char *spill_dir;
	unsigned spill_high, spill_low; /* percent; 0: 80 and 60 */
	/* Above the low-water mark, give the least recently used blobs spill
	 * files ahead of need (they stay in memory), so that spilling down to
	 * it needs no writes: room is made at once (catalog_spill.h). */
	int spill_ahead;
	int huge_pages; /* the store's tmpfs gives blobs huge pages (store.h) */
	/* The cluster this store is a member of (--cluster with --etcd): its
	 * mirror, persisted, is shown from the open on (catalog_remote.h).
	 * NULL: none, and a persisted mirror is dropped. */
	const char *cluster;
	/* Hooks, called with the catalog lock held; they must not call back. */
	void *hook_arg;
	void (*blob_freed)(void *arg, uint64_t blob_id);
	/* The kernel's view of parent/name went stale. */
	void (*inval_entry)(void *arg, uint64_t parent_ino, const char *name);
	/* The kernel's copy of ino's attributes went stale. For an inode
	 * that is gone, the hook must drop it before the request that removed
	 * it is answered: the kernel holds that request's directory locked,
	 * so the entry's own invalidation (inval_entry) may come only after,
	 * and meanwhile a stat must ask and get ENOENT, not cached attrs. */
	void (*inval_attr)(void *arg, uint64_t ino);
	/* A name may have come to name a sealed object (an object was sealed,
	 * or a name was bound): waiters should look again. id: the local
	 * object that was sealed or named, 0 for another member's record (a
	 * member publishing everything publishes id). May be called with the
	 * catalog lock held: the hook must not call the catalog. */
	void (*names_changed)(void *arg, uint64_t id);
	/* A local object was deleted, or lost a name (unlink, unname, rename,
	 * with its object): a cluster member unpublishes it (cluster.h).
	 * Not called for other members' records. */
	void (*object_deleted)(void *arg, uint64_t id);
	void (*name_dropped)(void *arg, const char *name, uint64_t id);
	/* Without the lock, once: the catalog is loaded and reconciled and the
	 * spill thread not started yet (a restarted daemon counts the opens
	 * the kernel still holds before anything can be evicted). */
	void (*opened)(void *arg, catalog_t *c);
};

/* Bring a remote blob's bytes (size, from its owner: the instance in its
 * id) into the store's directory dirfd (path dir, for messages) as file
 * name, complete or not at all; *crc their CRC-32C. Called without the
 * catalog lock. 0 or -errno with a message in err. */
typedef int (*catalog_fetch_fn)(void *arg, uint64_t blob_id, uint64_t size, int dirfd, const char *dir,
    const char *name, uint32_t *crc, char *err, size_t errlen);
/* The cluster's fetch: how the open of a remote blob gets its bytes. */
void catalog_set_fetch(catalog_t *c, catalog_fetch_fn fetch, void *arg);

/* What stat(2) shows of an inode. */
struct catalog_attr {
	uint64_t ino;
	mode_t mode; /* with the S_IF* type bits */
	uid_t uid;
	gid_t gid;
	uint64_t size;
	uint32_t nlink;
	int64_t atime_ns;
	int64_t mtime_ns;
	int64_t ctime_ns;
	/* The kernel may cache it for long: immutable, or changed only
	 * through this mount or with an invalidation. */
	int sealed;
};

/* What catalog_setattr changes; CATALOG_KEEP: unchanged (a time may be
 * before 1970, so no other negative value means it). */
struct catalog_set {
	int64_t size;
	int64_t mode;
	int64_t uid, gid;
	int64_t atime_ns, mtime_ns;
};
#define CATALOG_KEEP INT64_MIN
#define CATALOG_SET_NONE                                                                           \
	{                                                                                          \
		CATALOG_KEEP, CATALOG_KEEP, CATALOG_KEEP, CATALOG_KEEP, CATALOG_KEEP, CATALOG_KEEP \
	}

struct catalog_stats {
	unsigned instance_id;
	uint64_t memory_limit;
	uint64_t memory_used;
	uint64_t objects;
	uint64_t blobs;
	uint64_t blobs_sealed;
	uint64_t blobs_unsealed;
	uint64_t names;
	uint64_t creates;
	uint64_t seals;
	uint64_t seal_commits; /* transactions of deferred seals (several a commit) */
	uint64_t seals_queued; /* deferred seals not committed yet */
	uint64_t discards;
	uint64_t deletes;
	uint64_t opens;
	/* Where sealed bytes are (catalog_spill.h). */
	uint64_t bytes_sealed;	  /* all sealed blobs */
	uint64_t bytes_resident;  /* of which in memory */
	uint64_t bytes_spilled;	  /* of which with a copy in the spill dir */
	uint64_t bytes_pinned;	  /* of which pinned */
	uint64_t bytes_releasing; /* evicted, their memory not yet given back */
	int spill_enabled;
	const char *spill_dir;		/* the catalog's; valid while it is open */
	uint64_t spill_high, spill_low; /* bytes */
	uint64_t spills, spill_bytes;	/* blobs written out, and bytes */
	uint64_t evictions;		/* blobs dropped from memory */
	uint64_t reloads, reload_bytes;
	uint64_t spill_errors, reload_errors;
	double spill_seconds, reload_seconds; /* spent copying */
};

/* One directory entry of a listing. */
typedef int (*catalog_list_fn)(void *arg, const char *name, const struct catalog_attr *attr);

/* Open the metadata and the store, load and reconcile. */
int catalog_open(const struct catalog_config *cfg, catalog_t **out);
/* Close; blob files and the tmpfs stay for the next daemon. */
void catalog_close(catalog_t *c);

/* Attributes of any inode the catalog owns (not the control files). */
int catalog_getattr(catalog_t *c, uint64_t ino, struct catalog_attr *attr);
/* Look name up in directory parent. */
int catalog_lookup(catalog_t *c, uint64_t parent, const char *name, struct catalog_attr *attr);
/* List a directory (not "." and ".."), calling fn per entry; a non-zero
 * return from fn stops the listing and is returned. */
int catalog_list(catalog_t *c, uint64_t dir, catalog_list_fn fn, void *arg);
/* Target of a symlink inode; caller frees. */
int catalog_readlink(catalog_t *c, uint64_t ino, char **target);
/* The contents of a generated file (meta.json); caller frees. */
int catalog_read_generated(catalog_t *c, uint64_t ino, char **text, size_t *len);
/* Does ino name a blob's bytes (a data file)? Sets *blob_id. */
int catalog_data_blob(catalog_t *c, uint64_t ino, uint64_t *blob_id);

/* Create names/<name>: a Blob object with a new, unsealed, open-for-writing
 * blob. *fd: a read-write fd on the blob file (caller closes); *blob_id. */
int catalog_create_blob_object(catalog_t *c, const char *name, uid_t uid, gid_t gid, mode_t mode,
    struct catalog_attr *attr, uint64_t *blob_id, int *fd);
/* A new unsealed blob that no object holds yet (a stream's chunk), open
 * for writing by the caller: write it with catalog_write, seal it with
 * catalog_release(c, id, 1), or drop it with catalog_blob_discard. *fd is
 * read-write on its file (caller closes). Unsealed, it does not survive a
 * restart. */
int catalog_blob_create(catalog_t *c, uid_t uid, gid_t gid, mode_t mode, uint64_t *blob_id, int *fd);
/* Let go of a blob made by catalog_blob_create: deleted (logged with why)
 * unless sealed and held by an object. */
void catalog_blob_discard(catalog_t *c, uint64_t blob_id, const char *why);
/* Create a composite object, sealed from birth: typename, fields (a JSON
 * object or NULL), members (a JSON object of member name -> "o…"/"b…" id,
 * or NULL), optionally a name, owned by uid/gid with mode. Members must
 * exist, be sealed and belong to uid (unless uid is 0; another member's
 * published records belong to all: the object is then global), and the whole tree
 * must pass its type's rules (types.h). 0 and *id, or -errno (EINVAL,
 * EACCES, EEXIST, ...) with a message in err. */
int catalog_create_object(catalog_t *c, const char *typename, const json_t *fields, const json_t *members,
    const char *name, uid_t uid, gid_t gid, mode_t mode, uint64_t *id, char *err, size_t errlen);
/* Is object id global (catalog_objects.c): 1 when a member of its tree is
 * another member's of the cluster, 0 when not, -ENOENT. A global object
 * made here is published at once (request.c's create). */
int catalog_object_global(catalog_t *c, uint64_t id);
/* Delete object id as uid (its owner or root, else EACCES), with its
 * names; EBUSY while another object holds it. With CATALOG_DELETE_DEEP,
 * also each member object it leaves held by no object and without a name,
 * recursively (Vineyard's DelData with deep); members with a name or
 * another holder stay. Blobs go when no object holds them. One
 * transaction: all of it or nothing. */
int catalog_delete_object(catalog_t *c, uint64_t id, uid_t uid, unsigned flags);
#define CATALOG_DELETE_DEEP 1u
/* Is name fit for names/ (and streams/)? 0, -EINVAL (empty, a '/', "."
 * or "..") or -ENAMETOOLONG. */
int catalog_name_check(const char *name);
/* Give object id one more name (EEXIST if taken), or take a name away
 * (the object stays, reachable in objects/), as its owner or root. */
int catalog_name_add(catalog_t *c, uint64_t id, const char *name, uid_t uid);
int catalog_name_remove(catalog_t *c, const char *name, uid_t uid);
/* Does name name a sealed object? 0 and *id; -ENOENT without such a name;
 * -EAGAIN while its object is still being written. */
int catalog_name_ready(catalog_t *c, const char *name, uint64_t *id);
/* Open the data of ino; writable opens fail with EPERM on sealed data. A
 * spilled blob is made resident first (once, under the one lock), and *fd
 * is opened on its file (caller closes): whoever serves the bytes, the
 * daemon or the kernel through passthrough, has the file it needs. Pair
 * with catalog_release. */
int catalog_open_data(catalog_t *c, uint64_t ino, int writable, uint64_t *blob_id, int *fd);
/* A new fd on a blob's file (caller closes). */
int catalog_blob_fd(catalog_t *c, uint64_t blob_id, int writable, int *fd);
/* Count an open of sealed blob_id made before this catalog; 0 or -ENOENT. Pair with catalog_release. */
int catalog_hold(catalog_t *c, uint64_t blob_id);
/* Drop an open of blob_id; the last writer's release seals the blob (or
 * discards it when a write was cut short by the memory limit). */
void catalog_release(catalog_t *c, uint64_t blob_id, int writable);
/* As catalog_release, but a seal it starts is committed by the sealer's
 * thread, batched with others: the blob is immutable at once and shows
 * as sealed (xattr, waits, meta.json) once its rows are committed. For
 * the kernel's RELEASE, which nobody waits for. */
void catalog_release_deferred(catalog_t *c, uint64_t blob_id, int writable);
/* Wait until every deferred seal is committed (or discarded). */
void catalog_seal_wait(catalog_t *c);
/* A write the daemon serves itself (fallback mode): pwrite with limit
 * accounting; bytes written or -errno. */
ssize_t catalog_write(catalog_t *c, uint64_t blob_id, int fd, const void *buf, size_t size, off_t off);
/* fallocate(2) on an unsealed blob (mode 0 or FALLOC_FL_KEEP_SIZE):
 * reserves its memory now, counted against the limit (ENOSPC, and then
 * the blob is discarded at its release, as after a write cut short). fd
 * may be -1. EPERM when sealed. */
int catalog_fallocate(catalog_t *c, uint64_t blob_id, int fd, int mode, off_t off, off_t len);
/* Is there memory for bytes more, now (dropping fetched copies of other
 * members' blobs, then spilling others on a store that spills, to make
 * room)? 0 or -ENOSPC. Nothing is reserved: for writers that
 * do not want pages reserved (and zeroed) ahead, such as streams. */
int catalog_room(catalog_t *c, uint64_t bytes);
/* Does the kernel enforce the memory limit (a tmpfs of the store's own)?
 * Else the catalog counts what it writes and reserves. */
int catalog_kernel_limited(const catalog_t *c);
/* Change size (EPERM when sealed), mode, owner and times: times are
 * metadata, set at any time (the kernel checks who may); a time set before
 * the seal is kept through it. ctime moves to now. Of the fixed
 * directories only the times change (kept in memory), the rest is EPERM.
 * fd: a writable fd on the blob, or -1. */
int catalog_setattr(
    catalog_t *c, uint64_t ino, int fd, const struct catalog_set *set, struct catalog_attr *attr);
/* Unlink parent/name as uid. In names/: remove a name, and its object,
 * deep, when no other name remains (EBUSY if another object holds it).
 * In an object's directory (rm -r at work): nothing is deleted yet; the
 * entry is hidden and the object marked as being removed until the rmdir
 * of its directory deletes it, or a restart brings it back whole. Only
 * root, and the owner when the object's mode lets the owner write, may
 * (else EACCES); EBUSY, hiding nothing, while another object holds it.
 * Elsewhere: EPERM. */
int catalog_unlink(catalog_t *c, uint64_t parent, const char *name, uid_t uid);
/* Rename names/<name> to names/<newname>, replacing (and, if it was the
 * last name of its object, deleting) what newname named, unless flags has
 * CATALOG_RENAME_NOREPLACE (then EEXIST). Anything else: EPERM. */
int catalog_rename(
    catalog_t *c, uint64_t parent, const char *name, uint64_t newparent, const char *newname, unsigned flags);
#define CATALOG_RENAME_NOREPLACE 1u
/* Remove the object directory objects/<name>, although not empty: delete
 * the object deep, with its names; EBUSY while another object holds it. */
int catalog_rmdir(catalog_t *c, uint64_t parent, const char *name);

/* Extended attributes (user.vineyard.*). list: NUL-separated names. */
int catalog_xattr_list(catalog_t *c, uint64_t ino, char **names, size_t *len);
int catalog_xattr_get(catalog_t *c, uint64_t ino, const char *name, char **value, size_t *len);
/* flags: XATTR_CREATE / XATTR_REPLACE as in setxattr(2). */
int catalog_xattr_set(catalog_t *c, uint64_t ino, const char *name, const char *value, size_t len, int flags);
int catalog_xattr_remove(catalog_t *c, uint64_t ino, const char *name);

void catalog_stats(catalog_t *c, struct catalog_stats *st);
/* The catalog's memory budget (tests hold its releaser); the catalog's. */
mem_t *catalog_mem(catalog_t *c);

#endif
