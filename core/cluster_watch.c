/*
 * cluster_watch: the mirror (cluster.h). The watch thread lists every key
 * under P at one revision, hands it to the catalog (catalog_remote.h) in
 * the order members, objects, names, sweeps what the list no longer
 * shows, and then watches P from the list's revision + 1, applying each
 * event as it comes. A watch that ends (etcd gone, a compaction past its
 * revision) is followed by a new list, after a backoff while etcd does
 * not answer. Also the member's status (cluster_status), which reads
 * both threads' state.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_cache.h"
#include "cluster_i.h"
#include "id.h"
#include "log.h"
#include "util.h"

enum key_kind {
	KEY_OTHER,
	KEY_MEMBER,
	KEY_OBJECT,
	KEY_NAME,
};

/* The kind of key k (under our prefix) and its last segment, copied to
 * rest (NUL-terminated). */
static enum key_kind
key_parse(cluster_t *cl, const char *k, size_t klen, char *rest, size_t restlen)
{
	static const struct {
		const char *dir;
		enum key_kind kind;
	} dirs[] = { { "members/", KEY_MEMBER }, { "objects/", KEY_OBJECT }, { "names/", KEY_NAME } };
	size_t i, n;

	if (klen <= cl->prefix_len || memcmp(k, cl->prefix, cl->prefix_len) != 0)
		return KEY_OTHER;
	k += cl->prefix_len;
	klen -= cl->prefix_len;
	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		n = strlen(dirs[i].dir);
		if (klen > n && memcmp(k, dirs[i].dir, n) == 0 && klen - n < restlen &&
		    memchr(k + n, '\0', klen - n) == NULL) {
			memcpy(rest, k + n, klen - n);
			rest[klen - n] = '\0';
			return dirs[i].kind;
		}
	}
	return KEY_OTHER;
}

/* A member key came or went. */
static void
member_event(cluster_t *cl, const char *inst, const struct etcd_kv *kv, int live, uint32_t gen)
{
	json_t *m = live ? json_loadb(kv->value, kv->value_len, 0, NULL) : NULL;
	char *node, *end;
	unsigned long n = strtoul(inst, &end, 10);

	if (*end != '\0' || n > ID_INSTANCE_MAX) {
		json_decref(m);
		return;
	}
	pthread_mutex_lock(&cl->lock);
	if (live && json_is_object(m)) {
		json_object_set_new(m, "live", json_true());
		json_object_set(cl->members, inst, m);
	} else if (json_object_get(cl->members, inst) != NULL)
		json_object_set_new(json_object_get(cl->members, inst), "live", json_false());
	node = json_string_value(json_object_get(json_object_get(cl->members, inst), "node"))
		   ? strdup(json_string_value(json_object_get(json_object_get(cl->members, inst), "node")))
		   : NULL;
	pthread_mutex_unlock(&cl->lock);
	/* Lock order: the catalog's hooks take ours under theirs. */
	catalog_remote_member_set(cl->catalog, (unsigned)n, node, live, gen);
	free(node);
	json_decref(m);
}

/* One key's value as it is now (put) or its deletion. */
static void
apply(cluster_t *cl, const struct etcd_kv *kv, int put, uint32_t gen)
{
	char rest[CATALOG_NAME_MAX + 1];
	uint64_t id;
	json_t *v;
	int rc = 0;

	switch (key_parse(cl, kv->key, kv->key_len, rest, sizeof rest)) {
	case KEY_MEMBER: member_event(cl, rest, kv, put, gen); return;
	case KEY_OBJECT:
		if (id_parse(rest, &id) != 0 || id_is_blob(id))
			return;
		if (!put) {
			catalog_remote_object_delete(cl->catalog, id);
			return;
		}
		if ((v = json_loadb(kv->value, kv->value_len, 0, NULL)) != NULL &&
		    json_integer_value(json_object_get(v, "owner")) == (json_int_t)cl->instance &&
		    id_instance(id) == cl->instance)
			cluster_adopt(cl, id);
		json_decref(v);
		rc = catalog_remote_object_put(cl->catalog, kv->value, kv->value_len, gen);
		break;
	case KEY_NAME:
		if (!put) {
			catalog_remote_name_delete(cl->catalog, rest);
			return;
		}
		v = json_loadb(kv->value, kv->value_len, JSON_DECODE_ANY, NULL);
		if (json_is_string(v) && id_parse(json_string_value(v), &id) == 0 && !id_is_blob(id))
			rc = catalog_remote_name_put(cl->catalog, rest, id, gen);
		else
			rc = -EINVAL;
		json_decref(v);
		break;
	case KEY_OTHER: return;
	}
	if (rc != 0)
		log_warn(
		    "cluster %s: %.*s: not mirrored: %s", cl->name, (int)kv->key_len, kv->key, strerror(-rc));
}

static int
on_event(void *arg, const struct etcd_event *ev)
{
	cluster_t *cl = arg;

	apply(cl, &ev->kv, ev->type == ETCD_PUT, cl->gen);
	pthread_mutex_lock(&cl->lock);
	if (ev->revision > cl->revision)
		cl->revision = ev->revision;
	pthread_mutex_unlock(&cl->lock);
	return 0;
}

/* A full list, applied members first, then objects, then names (a name's
 * object before the name); then what it did not show goes. */
static int
relist(cluster_t *cl, int64_t *revision)
{
	static const enum key_kind order[] = { KEY_MEMBER, KEY_OBJECT, KEY_NAME };
	char rest[CATALOG_NAME_MAX + 1];
	struct etcd_range r = { 0 };
	size_t i, k;
	int rc;

	if ((rc = etcd_get(cl->etcd, cl->prefix, cl->prefix_len, 1, 0, &r)) != 0)
		return rc;
	pthread_mutex_lock(&cl->lock);
	cl->gen++;
	cl->lists++;
	json_object_clear(cl->members);
	pthread_mutex_unlock(&cl->lock);
	for (k = 0; k < sizeof order / sizeof order[0]; k++)
		for (i = 0; i < r.n; i++)
			if (key_parse(cl, r.kvs[i].key, r.kvs[i].key_len, rest, sizeof rest) == order[k])
				apply(cl, &r.kvs[i], 1, cl->gen);
	catalog_remote_sweep(cl->catalog, cl->gen);
	pthread_mutex_lock(&cl->lock);
	cl->revision = r.revision;
	pthread_mutex_unlock(&cl->lock);
	*revision = r.revision;
	log_debug("cluster %s: listed %zu keys at revision %lld", cl->name, r.n, (long long)r.revision);
	etcd_range_free(&r);
	return 0;
}

void *
cluster_watch_main(void *arg)
{
	cluster_t *cl = arg;
	unsigned backoff = CLUSTER_BACKOFF_MIN_MS;
	int64_t revision = 0, compacted = 0;
	int rc;

	while (!atomic_load(&cl->stop)) {
		if ((rc = relist(cl, &revision)) != 0) {
			cluster_contact(cl, rc, "list");
			cluster_nap(cl, backoff);
			backoff = backoff * 2 > CLUSTER_BACKOFF_MAX_MS ? CLUSTER_BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		cluster_contact(cl, 0, "list");
		backoff = CLUSTER_BACKOFF_MIN_MS;
		pthread_mutex_lock(&cl->lock);
		cl->watching = 1;
		pthread_mutex_unlock(&cl->lock);
		rc = etcd_watch(cl->etcd, cl->prefix, cl->prefix_len, 1, revision + 1, on_event, cl,
		    &cl->stop, &compacted);
		pthread_mutex_lock(&cl->lock);
		cl->watching = 0;
		pthread_mutex_unlock(&cl->lock);
		if (rc == -ECANCELED)
			log_info("cluster %s: etcd compacted past revision %lld: listing again", cl->name,
			    (long long)revision);
		else if (rc != 0) {
			cluster_contact(cl, rc, "watch");
			cluster_nap(cl, backoff);
		}
	}
	return NULL;
}

json_t *
cluster_status(cluster_t *cl)
{
	struct catalog_remote_stats rs = { 0 };
	json_t *st, *members;

	if (cl->catalog != NULL)
		catalog_remote_stats(cl->catalog, &rs);
	pthread_mutex_lock(&cl->lock);
	members = json_deep_copy(cl->members);
	st = json_pack("{s:s, s:s, s:i, s:s, s:s, s:i, s:b, s:b, s:b, s:I, s:I, s:f, s:i, s:I, s:I, s:I, "
		       "s:I, s:s, s:o, s:{s:I, s:I, s:I, s:I}}",
	    "cluster", cl->name, "node", cl->node, "instance", (int)cl->instance, "peer", cl->listen, "etcd",
	    cl->etcd_urls, "ttl", (int)cl->ttl, "reachable", cl->reachable, "joined", cl->joined, "watching",
	    cl->watching, "revision", (json_int_t)cl->revision, "lists", (json_int_t)cl->lists,
	    "seconds_since_contact",
	    cl->last_contact_ns > 0 ? (double)(util_now_ns() - cl->last_contact_ns) / 1e9 : -1.0, "queued",
	    (int)cl->queued, "published", (json_int_t)cl->pubs.count, "publishes", (json_int_t)cl->publishes,
	    "name_conflicts", (json_int_t)cl->name_conflicts, "rejoins", (json_int_t)cl->rejoins,
	    "last_error", cl->last_error, "members", members != NULL ? members : json_object(), "mirror",
	    "objects", (json_int_t)rs.objects, "blobs", (json_int_t)rs.blobs, "names", (json_int_t)rs.names,
	    "pending_names", (json_int_t)rs.pending_names);
	pthread_mutex_unlock(&cl->lock);
	if (st != NULL && cl->catalog != NULL) {
		struct catalog_cache_stats cs;

		catalog_cache_stats(cl->catalog, &cs);
		json_object_set_new(st, "cache",
		    json_pack("{s:I, s:I, s:I, s:I}", "copies", (json_int_t)cs.copies, "copy_bytes",
			(json_int_t)cs.copy_bytes, "drops", (json_int_t)cs.drops, "drop_bytes",
			(json_int_t)cs.drop_bytes));
	}
	if (st != NULL)
		json_object_set_new(st, "peer",
		    json_pack("{s:I, s:I, s:I, s:f, s:I, s:I, s:I}", "fetches",
			(json_int_t)atomic_load(&cl->fetches), "fetch_bytes",
			(json_int_t)atomic_load(&cl->fetch_bytes), "fetch_errors",
			(json_int_t)atomic_load(&cl->fetch_errors), "fetch_seconds",
			(double)atomic_load(&cl->fetch_ns) / 1e9, "served",
			(json_int_t)atomic_load(&cl->served), "served_bytes",
			(json_int_t)atomic_load(&cl->served_bytes), "serve_errors",
			(json_int_t)atomic_load(&cl->serve_errors)));
	return st;
}
