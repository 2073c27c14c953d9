/*
 * catalog_i: the catalog's records and internal functions, shared by the
 * catalog's files (catalog*.c) and by no other. Every field is guarded by
 * catalog.lock unless its comment says otherwise. Lock order: a spill
 * pass's lock, then catalog.lock, then catalog.meta_lock; mem.c's and
 * spill.c's own locks are taken last and never held while waiting.
 * Naming: the catalog's functions take catalog_, whether exported
 * (catalog.h, catalog_spill.h) or shared by its files only (here); its
 * records are struct cblob, cobject, cname; statics take no prefix.
 */
#ifndef VFS_CATALOG_I_H
#define VFS_CATALOG_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "catalog.h"
#include "hmap.h"
#include "id.h"
#include "mem.h"
#include "meta.h"
#include "store.h"
#include "vec.h"

#include <jansson.h>

struct cblob {
	uint64_t id;
	uint64_t size; /* at seal; unsealed blobs: see the file */
	uint32_t uid, gid, mode;
	/* Once sealed; while written the file's times count (catalog_blob_stat),
	 * with ctime_ns the last change the catalog made (chmod, ...). */
	int64_t atime_ns, mtime_ns, ctime_ns;
	int64_t btime_ns; /* creation */
	unsigned sealed : 1;
	/* Sealed in memory (immutable), its rows not yet committed: shown as
	 * unsealed (xattr, meta.json, waits), for a crash would lose it. */
	unsigned saving : 1;
	unsigned deleted : 1;	/* gone from meta and store; freed at opens == 0 */
	unsigned cut_short : 1; /* a daemon-served write hit the memory limit */
	unsigned opens;		/* open handles */
	unsigned writers;	/* of which writable */
	unsigned refs;		/* objects that hold it as a member */
	uint64_t held;		/* its reservation (mem_reserve): only without
				 * a tmpfs of our own */
	struct cobject *owner;	/* first object holding it (the Blob object) */
	uint64_t ghost_ino;	/* deleted while open: its key in catalog.ghosts */
	/* Where the bytes of a sealed blob are (catalog_spill.h): in the store's
	 * tmpfs (resident), in the spill directory (spilled: a durable copy,
	 * recorded in meta), or both; never neither. */
	unsigned resident : 1;
	unsigned spilled : 1;
	unsigned pinned : 1;   /* never spilled (meta) */
	unsigned has_crc : 1;  /* crc32c is known (meta) */
	unsigned loading : 1;  /* being copied back in: others wait on load_cond */
	unsigned spilling : 1; /* being copied out by a spill pass */
	uint32_t crc32c;       /* of the bytes, once spilled */
	/* Another member's, mirrored from etcd (catalog_remote.c): sealed, in
	 * none of the database's blob rows (the mirror's keys hold it,
	 * catalog_mirror.c); its bytes are on its owner, and in the store
	 * only as a fetched copy (resident). */
	unsigned remote : 1;
	int64_t used_ns; /* last open or release, for the LRU order */
};

struct cmember {
	char *name;
	uint64_t id;	     /* blob or object id */
	unsigned hidden : 1; /* unlinked from its object's directory (removing) */
};

struct cobject {
	uint64_t id;
	uint64_t nbytes;
	uint64_t signature;
	char *typename;
	char *fields; /* JSON object text, NULL when empty */
	uint32_t uid, gid, mode;
	int64_t atime_ns, mtime_ns, ctime_ns;
	int64_t btime_ns; /* creation */
	unsigned sealed : 1;
	unsigned saving : 1; /* as struct cblob's */
	/* Being removed entry by entry, as rm -r does: the entries unlinked so
	 * far are hidden until the rmdir deletes the object. Memory only: a
	 * restart brings the object back whole. */
	unsigned removing : 1;
	unsigned meta_hidden : 1; /* meta.json was unlinked (removing) */
	unsigned view_hidden : 1; /* its Arrow view was unlinked (removing) */
	/* Another member's, mirrored from etcd (catalog_remote.c): in none of
	 * the database's object rows (the mirror's keys hold it), read-only
	 * here; rgen is the mirror generation that last saw it (0: the
	 * database's copy, at the open). */
	unsigned remote : 1;
	uint32_t rgen;
	struct cmember *members;
	unsigned nmembers;
	size_t members_cap; /* vec.h */
	char **names;	    /* the names of this object (shared with struct cname) */
	unsigned nnames;
	size_t names_cap;
	unsigned parents; /* objects that hold it as a member */
};

struct cname {
	char *name;
	struct cobject *obj;
	uint32_t rgen; /* a remote object's name: the mirror generation that saw it */
};

/* A member of the cluster as the mirror knows it (catalog_remote.c). */
struct crmember {
	unsigned instance;
	char *node;
	int live; /* its member key exists */
	uint32_t rgen;
};

/* A remote name whose object is not mirrored yet. */
struct crname {
	char *name;
	uint64_t id;
	uint32_t rgen;
};

struct seal_job;

/* The sealer (catalog_seal.c): seals begun in memory whose rows are
 * committed by its thread, many to a transaction. */
struct csealer {
	pthread_mutex_t lock;			  /* guards this struct; taken last of all */
	pthread_cond_t cond;			  /* work for the thread, or stop */
	pthread_cond_t idle;			  /* queued fell to 0 */
	struct seal_job *pending, **pending_tail; /* rows not written yet */
	struct seal_job *written;		  /* committed (or failed): to complete */
	unsigned queued;			  /* pending + written + being completed */
	pthread_t thread;
	int running, stop;
	uint64_t commits; /* transactions of seals */
};

/* A blob file to remove once the transaction has ended. */
struct pending_unlink {
	uint64_t id;
	int spill; /* its spill file; else its memory file */
};

struct catalog {
	pthread_mutex_t lock;
	/* Serializes metadata transactions; taken after lock when both are
	 * held. A seal commits with only this one, so that other requests
	 * need not wait for SQLite. */
	pthread_mutex_t meta_lock;
	/* Files of blobs deleted by the transaction in progress, removed once
	 * it has ended: a kill in between leaves an orphan file (removed at
	 * the next start), not a sealed blob without its file. meta_lock. */
	struct {
		struct pending_unlink *v;
		size_t n, cap;
		int open; /* a transaction is in progress */
	} unlinks;
	struct csealer sealer;
	struct catalog_config cfg;
	meta_t *meta;
	store_t *store;
	mem_t *mem; /* the memory limit and usage; its own lock, taken last */
	struct id_gen gen;
	unsigned instance;
	struct hmap blobs;	  /* id -> struct cblob (deleted ones too, until freed) */
	struct hmap objects;	  /* id -> struct cobject */
	struct hmap names;	  /* hmap_str_hash(name) -> struct cname */
	uint64_t blob_bytes;	  /* sizes of live sealed blobs */
	uint64_t pinned_bytes;	  /* of which pinned */
	uint64_t spilled_bytes;	  /* of which with a copy in the spill dir */
	pthread_cond_t load_cond; /* a reload ended (struct cblob.loading) */
	struct cspill *spill;	  /* NULL: no spill directory */
	uint64_t nsealed, nunsealed;
	uint64_t creates, seals, discards, deletes, opens;
	/* Deleted blobs still open, by the inode of the Blob object's data
	 * file they were opened as (names/<n>): fstat of an unlinked file. */
	struct hmap ghosts;
	/* The mirror of the cluster (catalog_remote.c): the members by
	 * instance id (struct crmember), names whose object has not come yet,
	 * and how many of the tables' records are remote (stats count local
	 * ones only). */
	struct hmap rmembers;
	/* catalog_set_fetch; set once, before the mount serves (the mirror
	 * loaded at the open shows no owner live until the first list). */
	catalog_fetch_fn fetch;
	void *fetch_arg;
	struct crname *rpending;
	size_t nrpending, rpending_cap;
	uint64_t nremote_objects, nremote_names;
	/* Fetched copies dropped (catalog_cache.c). */
	uint64_t cache_drops, cache_drop_bytes;
	/* The fixed directories' times: daemon start, then each change of
	 * their entries (catalog_dir_changed) or a utimensat. Memory only; read
	 * without the lock. */
	struct {
		atomic_int_least64_t atime_ns, mtime_ns, ctime_ns;
	} dir[CATALOG_LAST_DIR + 1];
};

struct cblob *catalog_blob_find(catalog_t *c, uint64_t id);
struct cobject *catalog_object_find(catalog_t *c, uint64_t id);
struct cname *catalog_name_find(catalog_t *c, const char *name);
/* The blob holding a Blob object's bytes, or NULL. */
struct cblob *catalog_object_data_blob(catalog_t *c, const struct cobject *o);
/* The name of a packed table's Arrow view in its directory. */
#define CATALOG_ARROW_VIEW "table.arrow"
/* The member the Arrow view of o shows (its ipc_ blob: o is a packed
 * vineyard::Table without a member of the view's name), or NULL
 * (catalog_attr.c). */
const struct cmember *catalog_arrow_view(const struct cobject *o);
/* Delete an object, its names and the blobs no other object holds, in meta
 * (inside the caller's transaction) and in memory; with CATALOG_DELETE_DEEP
 * also, recursively, every member object it leaves held by no object and
 * without a name. A failure changes nothing in memory (the caller rolls
 * back). The kernel's entries for them are invalidated, except those it is
 * removing itself: the name being unlinked, or o's directory (with
 * CATALOG_DELETE_RMDIR). */
int catalog_object_delete(catalog_t *c, struct cobject *o, const char *unlinked, unsigned flags);
#define CATALOG_DELETE_RMDIR 0x100u /* beside the CATALOG_DELETE_* flags */
/* Remove a blob that no object holds: meta row, file; freed when unopened. */
int catalog_blob_delete(catalog_t *c, struct cblob *b);
/* The part of catalog_blob_delete after its row is gone (memory, file). */
void catalog_blob_forget(catalog_t *c, struct cblob *b);
/* Remove o as a user asked (rmdir, ctl delete, its last name): EBUSY
 * while another object holds it; its own transaction. flags: as for
 * catalog_object_delete. */
int catalog_object_remove(catalog_t *c, struct cobject *o, const char *unlinked, unsigned flags);
/* Unlink entry name of object directory o as uid: hide it and mark o
 * removing (see struct cobject); nothing is written. */
int catalog_entry_unlink(struct cobject *o, const char *name, uid_t uid);
/* Drop name n from the index and its object's list (memory only). */
void catalog_name_forget(catalog_t *c, struct cname *n);
/* Current size of a blob: recorded once sealed, its file's while written. */
uint64_t catalog_blob_size(catalog_t *c, const struct cblob *b);
/* Size and times of a blob as stat(2) shows them: recorded once sealed,
 * its file's while written (see struct cblob); -errno when that file is
 * gone (a->size etc. are then the recorded ones). */
int catalog_blob_stat(catalog_t *c, const struct cblob *b, struct catalog_attr *a);
/* Does b (o) show as sealed: sealed and its seal committed? */
static inline int
catalog_blob_sealed(const struct cblob *b)
{
	return b->sealed && !b->saving;
}
static inline int
catalog_object_sealed(const struct cobject *o)
{
	return o->sealed && !o->saving;
}
/* The entries of fixed directory ino changed: its times move to now, and
 * the kernel's copy of its attributes is dropped. */
void catalog_dir_changed(catalog_t *c, uint64_t ino);
/* utimensat on a fixed directory (the daemon forgets it at exit); the
 * catalog lock must not be held. */
int catalog_dir_set_times(catalog_t *c, uint64_t ino, int64_t atime_ns, int64_t mtime_ns);
/* Attach member name -> id to o in memory; blob members count a reference. */
int catalog_attach_member(catalog_t *c, struct cobject *o, const char *name, uint64_t id);
/* Record name -> o in memory. */
int catalog_attach_name(catalog_t *c, const char *name, struct cobject *o);
/* Free an object's memory (it must be out of every table). */
void catalog_object_free(struct cobject *o);
/* A metadata transaction: begin takes meta_lock, commit and rollback
 * release it; a failed commit has rolled back already: never follow a
 * commit with a rollback. */
int catalog_tx_begin(catalog_t *c);
int catalog_tx_commit(catalog_t *c);
void catalog_tx_rollback(catalog_t *c);
/* With meta_lock held: write and commit the seals queued for the sealer
 * (catalog_tx_begin does, so that every transaction follows the seals
 * begun before it); the sealer's thread completes them. */
void catalog_seal_flush(catalog_t *c);
/* Start and stop the sealer's thread; stopping completes its queue. */
int catalog_sealer_start(catalog_t *c);
void catalog_sealer_stop(catalog_t *c);
/* The sealer's counters into st. */
void catalog_seal_stats(catalog_t *c, struct catalog_stats *st);
/* Rows of a blob and an object as the metadata store takes them. */
void catalog_blob_to_meta(const struct cblob *b, struct meta_blob *mb);
void catalog_object_to_meta(const struct cobject *o, struct meta_object *mo);
/* Discard an unsealed blob and the objects built on it (logged with
 * why); the catalog lock held. */
void catalog_blob_discard_locked(catalog_t *c, struct cblob *b, const char *why);
/* Tell waiters that a name may have become ready (the names_changed
 * hook): id, the local object sealed or named, or 0 (another member's);
 * with or without the catalog lock. */
static inline void
catalog_names_changed(catalog_t *c, uint64_t id)
{
	if (c->cfg.names_changed != NULL)
		c->cfg.names_changed(c->cfg.hook_arg, id);
}
/* A local object lost a name, or went (the cluster unpublishes them);
 * remote records are the mirror's own business. */
static inline void
catalog_name_dropped(catalog_t *c, const char *name, const struct cobject *o)
{
	if (c->cfg.name_dropped != NULL && !o->remote)
		c->cfg.name_dropped(c->cfg.hook_arg, name, o->id);
}
static inline void
catalog_object_deleted(catalog_t *c, const struct cobject *o)
{
	if (c->cfg.object_deleted != NULL && !o->remote)
		c->cfg.object_deleted(c->cfg.hook_arg, o->id);
}
/* Write a record to meta (inside the caller's transaction). */
int catalog_blob_put(catalog_t *c, const struct cblob *b);
int catalog_object_put(catalog_t *c, const struct cobject *o);
/* The metadata tree of o, members expanded (up to CATALOG_TREE_DEPTH levels).
 * New reference. */
json_t *catalog_object_tree(catalog_t *c, const struct cobject *o, int depth);
#define CATALOG_TREE_DEPTH 64
/* catalog_objects.c: is o global, a member of its tree (at any depth) of
 * another instance than o? meta.json's "global" and user.vineyard.global. */
int catalog_object_is_global(catalog_t *c, const struct cobject *o);
/* catalog_remote.c: where a remote record's bytes are, as the location
 * xattr shows it ("remote:<node>", "remote:<node>,unavailable"); caller
 * frees. */
char *catalog_remote_location(catalog_t *c, uint64_t id);
/* Catalog lock held: is the owner of remote record id a live member? Its
 * node name in *node (NULL when the member was never seen). */
int catalog_remote_owner_live(catalog_t *c, uint64_t id, const char **node);
/* catalog_fetch.c. Catalog lock held: bring remote blob b's bytes here (the fetch hook,
 * catalog_set_fetch), once however many open it at the same time, so
 * that it opens as a local blob (a cache: the owner's is the original);
 * 0, or the errno of the open: -EHOSTDOWN when its owner is not a live
 * member, -EREMOTE without a fetch hook, else the hook's (-ESTALE: the
 * owner no longer has it; -EHOSTUNREACH: the owner did not answer; -EIO:
 * the transfer failed; -ENOSPC; -EACCES: the cluster key was refused). */
int catalog_remote_open(catalog_t *c, struct cblob *b);
/* catalog_cache.c. Catalog lock held: drop the least recently used
 * fetched copies of remote blobs not in use until want bytes went (or
 * none is left); the bytes dropped. */
uint64_t catalog_cache_drop(catalog_t *c, uint64_t want);
/* Record the fetched copies' CRCs (catalog_mirror_close) and free the
 * mirror's tables (catalog_close). */
void catalog_remote_free(catalog_t *c);
/* catalog_mirror.c, at catalog_open: show the mirror kept in the
 * database, every member not live, when this store is a member of its
 * cluster (cfg.cluster); else drop it. */
int catalog_mirror_open(catalog_t *c);
/* At close (catalog_remote_free): record the CRC-32C of the fetched
 * copies in the store. */
void catalog_mirror_close(catalog_t *c);
/* Start-up reconciliation of metadata with the store. */
int catalog_reconcile(catalog_t *c);
/* catalog_mem.c. Grow or shrink the reservation of unsealed b to size
 * bytes (mem_reserve): -ENOSPC past the memory limit; 0 and nothing
 * counted when the kernel enforces it. */
int catalog_blob_reserve(catalog_t *c, struct cblob *b, uint64_t size);
/* A sealed blob's bytes came into memory or left it (deleted; an
 * eviction counts them with mem_evicted instead): residency counts. */
void catalog_blob_resident(catalog_t *c, struct cblob *b, int resident);
/* Bringing a blob's bytes into memory (a reload, a fetch), once however
 * many want them: with the lock held, begin counts an open (b stays
 * alive while the caller drops the lock) and waits for a load under way;
 * 1: the caller loads, then calls catalog_load_end with the lock held;
 * 0: in memory now; -ENOENT: deleted. Either way the caller gives the
 * open back (b->opens--) when done with b. */
int catalog_load_begin(catalog_t *c, struct cblob *b);
void catalog_load_end(catalog_t *c, struct cblob *b);
/* Free a deleted blob once nothing holds it open (the blob_freed hook). */
void catalog_blob_maybe_free(catalog_t *c, struct cblob *b);

/* catalog_spill*.c: the spill policy (catalog_spill.h). At catalog_open,
 * after the metadata is loaded: choose the spill directory (the
 * configured one, else the remembered one) and open it. No directory:
 * spilling is off (0). -EINVAL when blobs are spilled in another
 * directory than the one configured. */
int catalog_spill_open(catalog_t *c);
/* After reconciliation: remove files of the spill directory that no
 * spilled blob owns (a crash mid-spill), start the spill thread. */
int catalog_spill_start(catalog_t *c);
/* Stop the thread and let go; spill files stay. */
void catalog_spill_close(catalog_t *c);
/* More bytes in memory: the thread looks at the high-water mark. */
void catalog_spill_kick(catalog_t *c);
/* Catalog lock held. Is b's spill file there with b's size? 0 or -errno. */
int catalog_spill_file_check(catalog_t *c, const struct cblob *b);
/* Catalog lock held. A read-only fd on b's spill file, for a copy that
 * needs no reload; caller closes. -ENOENT when b is not spilled. */
int catalog_spill_file_open(catalog_t *c, const struct cblob *b, int *fd);
/* Catalog lock held. Remove the spill file of blob id (it was deleted). */
void catalog_spill_file_remove(catalog_t *c, uint64_t id);
/* Catalog lock held (dropped and taken again while it copies): bring a
 * sealed blob back into memory if it is not. 0; -ENOENT if it was deleted
 * meanwhile; -ENOSPC without room; -EIO on a bad spill file. */
int catalog_spill_ensure_resident(catalog_t *c, struct cblob *b);
/* Without the catalog lock: spill until need more bytes fit under the
 * memory limit (a writer reserving them with fallocate). 0, or -ENOSPC
 * when they do not (no spill directory, the rest open or pinned). */
int catalog_spill_make_room(catalog_t *c, uint64_t need);
/* catalog_mem.c. Without the catalog lock: make need more bytes fit under
 * the limit, dropping fetched copies first (catalog_cache_drop), then
 * spilling (catalog_spill_make_room). 0 or -ENOSPC. */
int catalog_make_room(catalog_t *c, uint64_t need);
/* Catalog lock held: the spill part of catalog_stats. */
void catalog_spill_stats(catalog_t *c, struct catalog_stats *st);

#endif
