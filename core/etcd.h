/*
 * etcd: a client of etcd's v3 API through its JSON gateway (etcd 3.4, the
 * "/v3/" prefix), over libcurl, with jansson: the shared state of a
 * cluster (members, published objects and names). Keys and values are
 * bytes (the gateway carries them base64); revisions and lease ids are
 * int64 (the gateway prints them as strings). Zero values are left out of
 * the gateway's answers, and this module puts them back.
 *
 * One handle per daemon, safe to use from several threads at once: each
 * call is one HTTP request (a watch, one long one) on connections shared
 * between calls. Several endpoints may be given: a call that cannot reach
 * one tries the next, and later calls start from the one that answered.
 *
 * Errors: -ECONNREFUSED when no endpoint answers, -ETIMEDOUT, -E2BIG for a
 * request over etcd's limit (1.5 MiB by default), -ENOENT for an unknown or
 * expired lease, -EIO for an answer that is not what etcd's API says, with
 * a log line that says why.
 */
#ifndef VFS_ETCD_H
#define VFS_ETCD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct etcd etcd_t;

struct etcd_kv {
	char *key; /* NUL-terminated copies; the lengths count bytes */
	size_t key_len;
	char *value;
	size_t value_len;
	int64_t create_revision, mod_revision, version, lease;
};

/* What a range (get) found, at one revision of the store. */
struct etcd_range {
	struct etcd_kv *kvs; /* sorted by key */
	size_t n;
	int64_t revision; /* of the store when read: watch from revision + 1 */
	int more;	  /* a limit cut it short */
};

enum etcd_event_type {
	ETCD_PUT,
	ETCD_DELETE,
};

struct etcd_event {
	enum etcd_event_type type;
	struct etcd_kv kv; /* a DELETE has only the key and mod_revision */
	int64_t revision;  /* of the change (for a DELETE, of the deletion) */
	int last;	   /* the last event of its response: a batch ends */
};

/* Called for each event of a watch, in order; non-zero stops the watch,
 * and etcd_watch returns it. */
typedef int (*etcd_watch_fn)(void *arg, const struct etcd_event *ev);

/* Open a client of endpoints ("http://127.0.0.1:2379[,http://...]");
 * timeout_ms bounds each call but a watch. No request is sent yet. */
int etcd_open(const char *endpoints, long timeout_ms, etcd_t **out);
void etcd_close(etcd_t *e);
/* The endpoint that answered last (for messages). */
const char *etcd_endpoint(etcd_t *e);

/* Read key, or with prefix every key that starts with it; limit 0: all.
 * Free with etcd_range_free. */
int etcd_get(etcd_t *e, const void *key, size_t klen, int prefix, int64_t limit, struct etcd_range *out);
void etcd_range_free(struct etcd_range *r);
/* Put key = value, attached to lease (0: none); *revision (may be NULL)
 * is the store's revision after it. */
int etcd_put(etcd_t *e, const void *key, size_t klen, const void *value, size_t vlen, int64_t lease,
    int64_t *revision);
/* Create key = value only if key does not exist: 0, or -EEXIST and, if
 * existing is not NULL, what is there (free with etcd_kv_free). */
int etcd_create(etcd_t *e, const void *key, size_t klen, const void *value, size_t vlen, int64_t lease,
    struct etcd_kv *existing);
/* Delete key (with prefix: every key under it); *deleted (may be NULL)
 * counts them. */
int etcd_delete(etcd_t *e, const void *key, size_t klen, int prefix, int64_t *deleted);
/* Delete key only if its mod_revision is still mod_revision: 0, or
 * -ESTALE when it changed or went. */
int etcd_delete_if(etcd_t *e, const void *key, size_t klen, int64_t mod_revision);
/* Drop the history before revision (a watch from before it is canceled). */
int etcd_compact(etcd_t *e, int64_t revision);
void etcd_kv_free(struct etcd_kv *kv);

/* A lease of ttl seconds; keys put with it go when it expires. */
int etcd_lease_grant(etcd_t *e, int64_t ttl, int64_t *id);
/* Renew lease id; *ttl (may be NULL) is its time left. -ENOENT once it
 * expired or was revoked. */
int etcd_lease_keepalive(etcd_t *e, int64_t id, int64_t *ttl);
int etcd_lease_revoke(etcd_t *e, int64_t id);

/* Watch key (with prefix: every key under it) from revision start (0: from
 * now), calling fn for each event, until fn returns non-zero (returned),
 * *stop becomes true (within a second; 0 is returned), or the connection
 * fails (-errno). -ECANCELED when etcd compacted past start: *compacted is
 * the oldest revision left; re-read with etcd_get and watch from its
 * revision + 1. */
int etcd_watch(etcd_t *e, const void *key, size_t klen, int prefix, int64_t start, etcd_watch_fn fn,
    void *arg, const atomic_int *stop, int64_t *compacted);

#endif
