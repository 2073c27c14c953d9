/*
 * cluster: this store as a member of a cluster of stores sharing one
 * namespace of published objects through etcd (etcd.h). Keys, under
 * P = "/vineyardfs/<cluster>/":
 *
 *   P members/<instance id>  {"instance", "node", "peer", "memory",
 *                            "version", "started"}, with this member's
 *                            lease (ttl seconds, kept alive every ttl/3);
 *                            created only if absent: an instance id held
 *                            by a live member is not joined twice
 *   P objects/o<16 hex>      {"owner", "tree": meta.json's tree, "blobs":
 *                            {"b<16 hex>": {"size", "crc32c"}}}, no lease:
 *                            an object outlives its owner's lease, and is
 *                            then unavailable, not gone
 *   P names/<name>           "o<16 hex>" (a JSON string), created only if
 *                            absent: etcd settles a name taken twice
 *
 * Two threads, and no caller ever waits on etcd: the member thread joins
 * (retrying with backoff while etcd is away, logging once), keeps the
 * lease alive, and works the queue of publishes and unpublishes in order,
 * keeping each until etcd answered; the watch thread lists P, mirrors it
 * into the catalog (catalog_remote.h) and its database, and watches from
 * the list's revision + 1, listing again after a compaction or a lost
 * connection. The catalog shows the database's mirror from its open on,
 * before this member joins (catalog_open, cfg.cluster).
 * When the lease is found gone (etcd restarted empty, or this member cut
 * off longer than the ttl), the member joins again and re-publishes
 * every object it published, with their names.
 *
 * Publishing is local until asked: cluster_publish takes a copy of the
 * object's records (and its member objects', recursively) at once and
 * queues it; cluster_publish_state says when etcd took it, or why not
 * (EEXIST: a name is another object's). Deleting a published object, or
 * taking a name from it, unpublishes through the same queue.
 */
#ifndef VFS_CLUSTER_H
#define VFS_CLUSTER_H

#include <stdint.h>

#include <jansson.h>

#include "catalog.h"

typedef struct cluster cluster_t;

struct cluster_config {
	const char *etcd;     /* endpoints: "http://127.0.0.1:2379[,...]" */
	const char *name;     /* the cluster's name (a path segment of P) */
	const char *listen;   /* HOST:PORT of the peer listener, advertised */
	const char *node;     /* NULL: the host name */
	const char *key_file; /* the cluster key (the peer protocol's), recorded */
	unsigned ttl;	      /* of the lease, seconds; 0: CLUSTER_TTL */
	int publish_all;      /* every sealed object is published */
	int prefetch;	      /* fetch others' named objects as they appear */
	uint64_t memory;      /* the memory limit, advertised */
};
#define CLUSTER_TTL 10

/* A member (no thread yet): copies cfg. -EINVAL for a bad name. */
int cluster_create(const struct cluster_config *cfg, cluster_t **out);
/* Start both threads on catalog c (open; it outlives the cluster). */
int cluster_start(cluster_t *cl, catalog_t *c);
/* Stop the threads (within about a second), revoke the lease (one
 * bounded try, so that the others see this member gone at once), free. */
void cluster_destroy(cluster_t *cl);

/* Publish local object id (and its member objects): 0 once queued;
 * -ENOENT, -EREMOTE (another member's), -EAGAIN (not sealed yet). */
int cluster_publish(cluster_t *cl, uint64_t id);
/* Where a publish of id stands: 0 done (etcd has it), -EINPROGRESS
 * queued, -ENOENT never published, or the -errno it failed with and a
 * message in msg. */
int cluster_publish_state(cluster_t *cl, uint64_t id, char *msg, size_t msglen);

/* The catalog's hooks (catalog.h), any thread, catalog lock held: they
 * only queue. */
void cluster_object_deleted(cluster_t *cl, uint64_t id);
void cluster_name_dropped(cluster_t *cl, const char *name, uint64_t id);
/* Local object id was sealed or named (0: another member's record was):
 * publish-all publishes it, unless it is published already. Only takes
 * the cluster's lock: called from the catalog's hook, maybe under the
 * catalog lock. */
void cluster_kick(cluster_t *cl, uint64_t id);

/* What `vineyardfs cluster` and .vineyardfs/cluster show: this member,
 * etcd reachable or not, the last revision seen, the queue, the members,
 * the mirror. New reference. */
json_t *cluster_status(cluster_t *cl);

#endif
