/*
 * catalog_remote: the catalog's side of a cluster. Other members'
 * published objects, their blobs and names are mirrored here as records of
 * the catalog's own tables, marked remote, so that every listing, lookup,
 * stat, meta.json and xattr shows them without a word to etcd. The mirror
 * is also kept in the metadata database (catalog_mirror.c): each full
 * list of etcd replaces it there, each watch response updates it, one
 * transaction each (catalog_remote_save). catalog_open shows it again,
 * before the mount serves a request, every member not live (so
 * "remote:<node>,unavailable") until the first list after joining says
 * which are and sweeps what went meanwhile: a daemon started while etcd
 * is away shows the others' objects as they were when it last heard.
 * Fetched copies of their blobs found in the store at the open are kept
 * when their CRC-32C is the published one (or, the owner having published
 * none, the one they came with, recorded at the close), removed otherwise
 * (catalog_reconcile.c). A store opened for no cluster, or another one,
 * drops the mirror and the copies.
 *
 * Remote records are read-only here: every change (write, chmod, delete,
 * name, unname, rename, xattr set) fails with EREMOTE; opening their data
 * fails with EREMOTE while the owner is a live member and EHOSTDOWN when
 * it is not (the peer fetch replaces the first, catalog_data.c's
 * catalog_open_data). A remote object whose id or name is also local is
 * not mirrored: the local one stays (etcd settles names at publish).
 *
 * The other way, catalog_remote_export gives what this member publishes
 * of one of its objects: the objects/ values (cluster.h's key layout) of
 * the object and of its member objects, recursively, with their names.
 */
#ifndef VFS_CATALOG_REMOTE_H
#define VFS_CATALOG_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "meta.h"

/* Mirror the value of an objects/ key (JSON {"owner", "tree", "blobs"}):
 * the object and every object and blob of its tree, seen at generation
 * gen. Our own objects (owner = this instance) are skipped. 0, or -EINVAL
 * for a value that is not such a tree. */
int catalog_remote_object_put(catalog_t *c, const char *value, size_t len, uint32_t gen);
/* An objects/ key went: drop its remote record (its blobs go with the
 * last remote object holding them, its names with it). */
int catalog_remote_object_delete(catalog_t *c, uint64_t id);
/* names/<name> names remote object id (bound when the object comes, if
 * it has not yet). A local name of the same spelling wins. */
int catalog_remote_name_put(catalog_t *c, const char *name, uint64_t id, uint32_t gen);
int catalog_remote_name_delete(catalog_t *c, const char *name);
/* A member key came (live) or went (not live): node is its node name. */
int catalog_remote_member_set(catalog_t *c, unsigned instance, const char *node, int live, uint32_t gen);
/* After a full list at generation gen: drop remote objects and names it
 * did not show, and mark members it did not show gone. */
void catalog_remote_sweep(catalog_t *c, uint32_t gen);
/* Forget the whole mirror (the daemon leaves the cluster). */
void catalog_remote_clear(catalog_t *c);

/* What an etcd key under the cluster prefix is, from its part after the
 * prefix (key); *rest: its last segment (points into key). */
enum catalog_remote_key {
	CATALOG_REMOTE_OTHER,
	CATALOG_REMOTE_MEMBER, /* members/<instance> */
	CATALOG_REMOTE_OBJECT, /* objects/o<16 hex> */
	CATALOG_REMOTE_NAME,   /* names/<name> */
};
enum catalog_remote_key catalog_remote_key_kind(const char *key, const char **rest);
/* Mirror key (after the prefix) as now: its value (put) or gone; a
 * member key put counts as live only with live (not from the database).
 * 0, or the -errno of the ingest function it calls (a bad value). */
int catalog_remote_apply(
    catalog_t *c, const char *key, const char *value, size_t len, int put, uint32_t gen, int live);
/* Write keys through to the database, one transaction, without the
 * catalog lock (its meta lock only, as a seal's commit): with replace
 * (a full list) the persisted mirror becomes exactly these, else each is
 * put or deleted; cluster is whose, revision how current. 0 or -errno
 * (logged; the mirror in memory stands). */
int catalog_remote_save(catalog_t *c, const char *cluster, const struct meta_mirror_kv *kv, size_t n,
    int replace, int64_t revision);

/* What to publish of a local object (catalog_remote_export). */
struct catalog_export {
	uint64_t id;
	char *value; /* the objects/ value, NUL-terminated */
	size_t len;
	char **names; /* its names now */
	unsigned nnames;
};
/* The records to publish for local object id, the object first, then its
 * member objects (depth first). -ENOENT, -EREMOTE (not ours), -EAGAIN
 * (not sealed yet). Free with catalog_export_free. */
int catalog_remote_export(catalog_t *c, uint64_t id, struct catalog_export **out, size_t *n);
void catalog_export_free(struct catalog_export *v, size_t n);
/* Call fn for every sealed local object (publish-all); fn must not call
 * the catalog. */
void catalog_remote_local_objects(catalog_t *c, void (*fn)(void *arg, uint64_t id), void *arg);

/* What the mirror holds (the cluster status). */
struct catalog_remote_stats {
	uint64_t objects, blobs, names;
	uint64_t members, members_live;
	uint64_t pending_names; /* names waiting for their object */
};
void catalog_remote_stats(catalog_t *c, struct catalog_remote_stats *st);
/* Is id (an object or a blob) a remote record? 1 and *owner_live, or 0. */
int catalog_remote_is(catalog_t *c, uint64_t id, int *owner_live);

#endif
