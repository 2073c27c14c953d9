/*
 * cluster_i: the member's state, shared by cluster.c (joining, the lease,
 * the publish queue) and cluster_watch.c (the mirror). Every field is
 * guarded by cluster.lock unless its comment says otherwise.
 */
#ifndef VFS_CLUSTER_I_H
#define VFS_CLUSTER_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "catalog_remote.h"
#include "cluster.h"
#include "etcd.h"
#include "hmap.h"
#include "peer_auth.h"
#include "peer_pool.h"
#include "peer_server.h"

#define CLUSTER_PREFIX_MAX 320
#define CLUSTER_BACKOFF_MIN_MS 200
#define CLUSTER_BACKOFF_MAX_MS 5000

/* Work for etcd, in order. */
enum cluster_op_kind {
	CLUSTER_OP_PUBLISH,   /* put objects/ keys, then create names/ keys */
	CLUSTER_OP_UNPUBLISH, /* delete objects/o<id> */
	CLUSTER_OP_UNNAME,    /* delete names/<name> while it names o<id> */
};

struct cluster_op {
	enum cluster_op_kind kind;
	uint64_t id;
	char *name;		    /* UNNAME */
	struct catalog_export *exp; /* PUBLISH: the records, copied at queueing */
	size_t nexp;
	struct cluster_op *next;
};

/* A publish of this member's, and how it stands. */
struct cluster_pub {
	uint64_t id;
	int state; /* 0 done, -EINPROGRESS queued, else the -errno it failed with */
	char msg[160];
};

struct cluster {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* work queued, a kick, or stop */
	char *etcd_urls, *name, *listen, *node, *key_file;
	char prefix[CLUSTER_PREFIX_MAX]; /* "/vineyardfs/<name>/" */
	size_t prefix_len;
	unsigned ttl;
	int publish_all;
	uint64_t memory;
	char started[48];
	catalog_t *catalog; /* set once by cluster_start */
	unsigned instance;  /* the catalog's */
	etcd_t *etcd;	    /* thread safe on its own */
	atomic_int stop;
	pthread_t member_thread, watch_thread;
	int threads; /* started */

	/* The member thread's. */
	int joined;
	int64_t lease;
	int reassert;	 /* join again found the lease gone: publish all again */
	int scan;	 /* publish-all: look for objects not published (at a join) */
	uint64_t *fresh; /* publish-all: objects sealed or named since (cluster_kick) */
	size_t nfresh, fresh_cap;
	int reachable; /* etcd answered the last call */
	int said_down; /* the unreachable state was logged */
	char last_error[160];
	int64_t joined_ns, last_contact_ns;
	struct cluster_op *head, *tail;
	unsigned queued;
	struct hmap pubs; /* id -> struct cluster_pub */
	uint64_t publishes, unpublishes, name_conflicts, rejoins;

	/* The peer protocol's transfers (cluster_peer.c), any thread. */
	atomic_uint_fast64_t fetches, fetch_bytes, fetch_errors, fetch_ns;
	atomic_uint_fast64_t served, served_bytes, serve_errors;

	/* The watch thread's. */
	int64_t revision; /* last seen */
	uint32_t gen;	  /* of the mirror's last full list */
	unsigned lists;	  /* full lists made (reconnections, compactions) */
	json_t *members;  /* instance (text) -> member JSON + "live" */
	int watching;	  /* a watch is open */
	/* The keys of the watch response under way, copied, for the
	 * database (catalog_remote_save at its last event). */
	struct meta_mirror_kv *batch;
	size_t nbatch, batch_cap;
	int batch_lost; /* a key could not be copied */

	/* --prefetch (cluster_prefetch.c): other members' named objects to
	 * fetch, oldest first, and what came of it. */
	int prefetch;		/* set at create */
	pthread_cond_t pf_cond; /* a name queued, or stop */
	pthread_t pf_thread;
	int pf_started;
	uint64_t *pf;
	size_t npf, pf_cap;
	uint64_t prefetch_blobs, prefetch_bytes, prefetch_skips, prefetch_errors;

	/* The bytes (cluster_peer.c); set at start, before the threads. */
	struct peer_key key;
	peer_server_t *peer; /* NULL: no --listen or no key */
	peer_pool_t *pool;   /* kept connections of the fetches; NULL: no key */
};

/* cluster.c: a member's own published object found in etcd at a list
 * (after a restart): remember it, or unpublish it if it is gone here. */
void cluster_adopt(cluster_t *cl, uint64_t id);
/* Record whether etcd answered (for the status, and one log line per
 * change). */
void cluster_contact(cluster_t *cl, int rc, const char *what);
/* Sleep up to ms, or until stop. */
void cluster_nap(cluster_t *cl, unsigned ms);

/* cluster_peer.c: serve this member's blobs (--listen) and give the
 * catalog its fetch hook, both with the cluster key; 0 or -errno (a bad
 * key file). Stop before the catalog goes. */
int cluster_peer_start(cluster_t *cl);
void cluster_peer_stop(cluster_t *cl);

/* cluster_prefetch.c: queue other member's object id for a prefetch
 * (the watch thread, when its name appears; a no-op without --prefetch);
 * start the thread that fetches (after the peer's start), stop it (before
 * the peer's stop). */
void cluster_prefetch_queue(cluster_t *cl, uint64_t id);
int cluster_prefetch_start(cluster_t *cl);
void cluster_prefetch_stop(cluster_t *cl);

/* cluster_watch.c: the watch thread. */
void *cluster_watch_main(void *arg);

#endif
