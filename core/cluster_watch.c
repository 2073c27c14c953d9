/*
 * cluster_watch: the mirror (cluster.h). The watch thread lists every key
 * under P at one revision, hands it to the catalog (catalog_remote.h) in
 * the order members, objects, names, sweeps what the list no longer
 * shows and writes the list to the database in place of the mirror kept
 * there (one transaction), and then watches P from the list's revision +
 * 1, applying each event as it comes and writing each watch response's
 * events to the database as one transaction. A watch that ends (etcd gone, a compaction past its
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
#include "vec.h"

/* The part of key k after our prefix (etcd's keys are NUL-terminated),
 * or NULL for a key not under it. */
static const char *
key_rel(cluster_t *cl, const char *k, size_t klen)
{
	if (klen <= cl->prefix_len || memcmp(k, cl->prefix, cl->prefix_len) != 0 ||
	    memchr(k, '\0', klen) != NULL)
		return NULL;
	return k + cl->prefix_len;
}

/* A member key came or went: the status's list of members. */
static void
member_event(cluster_t *cl, const char *inst, const struct etcd_kv *kv, int live)
{
	json_t *m = live ? json_loadb(kv->value, kv->value_len, 0, NULL) : NULL;

	pthread_mutex_lock(&cl->lock);
	if (live && json_is_object(m)) {
		json_object_set_new(m, "live", json_true());
		json_object_set(cl->members, inst, m);
	} else if (json_object_get(cl->members, inst) != NULL)
		json_object_set_new(json_object_get(cl->members, inst), "live", json_false());
	pthread_mutex_unlock(&cl->lock);
	json_decref(m);
}

/* One key's value as it is now (put) or its deletion, in the catalog's
 * mirror (catalog_remote_apply); the key after our prefix in *rel, NULL
 * for a key the mirror does not hold. */
static void
apply(cluster_t *cl, const struct etcd_kv *kv, int put, uint32_t gen, const char **relp)
{
	const char *rel = key_rel(cl, kv->key, kv->key_len), *rest;
	enum catalog_remote_key kind =
	    rel != NULL ? catalog_remote_key_kind(rel, &rest) : CATALOG_REMOTE_OTHER;
	uint64_t id;
	json_t *v;
	int rc;

	*relp = NULL;
	if (kind == CATALOG_REMOTE_OTHER || strlen(rest) > CATALOG_NAME_MAX)
		return;
	*relp = rel;
	if (kind == CATALOG_REMOTE_MEMBER)
		member_event(cl, rest, kv, put);
	else if (kind == CATALOG_REMOTE_OBJECT && put && id_parse(rest, &id) == 0 && !id_is_blob(id) &&
		 id_instance(id) == cl->instance) {
		/* Ours, put before a restart or just now. */
		v = json_loadb(kv->value, kv->value_len, 0, NULL);
		if (json_integer_value(json_object_get(v, "owner")) == (json_int_t)cl->instance)
			cluster_adopt(cl, id);
		json_decref(v);
	}
	/* Lock order: the catalog's hooks take ours under theirs. */
	if ((rc = catalog_remote_apply(cl->catalog, rel, kv->value, kv->value_len, put, gen, 1)) != 0) {
		log_warn(
		    "cluster %s: %.*s: not mirrored: %s", cl->name, (int)kv->key_len, kv->key, strerror(-rc));
		return;
	}
	if (kind == CATALOG_REMOTE_NAME && put && cl->prefetch) {
		v = json_loadb(kv->value, kv->value_len, JSON_DECODE_ANY, NULL);
		if (json_is_string(v) && id_parse(json_string_value(v), &id) == 0)
			cluster_prefetch_queue(cl, id);
		json_decref(v);
	}
}

/* Forget the keys of the watch response under way. */
static void
batch_reset(cluster_t *cl)
{
	size_t i;

	for (i = 0; i < cl->nbatch; i++) {
		free((char *)cl->batch[i].key);
		free((void *)cl->batch[i].value);
	}
	cl->nbatch = 0;
}

/* Keep a copy of key rel as now, for the database (one transaction per
 * watch response). */
static int
batch_add(cluster_t *cl, const char *rel, const struct etcd_kv *kv, int put)
{
	struct meta_mirror_kv *b;
	char *key, *value = NULL;

	if (VEC_PUSH_ROOM(cl->batch, cl->nbatch, cl->batch_cap) != 0 || (key = strdup(rel)) == NULL)
		return -ENOMEM;
	if (put && (value = malloc(kv->value_len + 1)) == NULL) {
		free(key);
		return -ENOMEM;
	}
	if (put) {
		memcpy(value, kv->value, kv->value_len);
		value[kv->value_len] = '\0';
	}
	b = &cl->batch[cl->nbatch++];
	b->key = key;
	b->value = value;
	b->len = put ? kv->value_len : 0;
	return 0;
}

static int
on_event(void *arg, const struct etcd_event *ev)
{
	cluster_t *cl = arg;
	const char *rel;
	int64_t revision;

	apply(cl, &ev->kv, ev->type == ETCD_PUT, cl->gen, &rel);
	pthread_mutex_lock(&cl->lock);
	if (ev->revision > cl->revision)
		cl->revision = ev->revision;
	revision = cl->revision;
	pthread_mutex_unlock(&cl->lock);
	if (rel != NULL && batch_add(cl, rel, &ev->kv, ev->type == ETCD_PUT) != 0)
		cl->batch_lost = 1;
	if (ev->last) {
		/* Lost keys: the database's copy stands at its last revision
		 * until the next list writes it whole. */
		if (cl->nbatch > 0 && !cl->batch_lost)
			catalog_remote_save(cl->catalog, cl->name, cl->batch, cl->nbatch, 0, revision);
		else if (cl->batch_lost)
			log_warn("cluster %s: out of memory: the mirror's copy in the database is behind",
			    cl->name);
		batch_reset(cl);
		cl->batch_lost = 0;
	}
	return 0;
}

/* A full list, applied members first, then objects, then names (a name's
 * object before the name); then what it did not show goes, in memory and
 * in the database (one transaction). */
static int
relist(cluster_t *cl, int64_t *revision)
{
	static const enum catalog_remote_key order[] = { CATALOG_REMOTE_MEMBER, CATALOG_REMOTE_OBJECT,
		CATALOG_REMOTE_NAME };
	struct meta_mirror_kv *save = NULL;
	struct etcd_range r = { 0 };
	const char *rel, *rest;
	size_t i, k, n = 0;
	int rc;

	if ((rc = etcd_get(cl->etcd, cl->prefix, cl->prefix_len, 1, 0, &r)) != 0)
		return rc;
	if (r.n > 0 && (save = calloc(r.n, sizeof *save)) == NULL) {
		etcd_range_free(&r);
		return -ENOMEM;
	}
	pthread_mutex_lock(&cl->lock);
	cl->gen++;
	cl->lists++;
	json_object_clear(cl->members);
	pthread_mutex_unlock(&cl->lock);
	for (k = 0; k < sizeof order / sizeof order[0]; k++)
		for (i = 0; i < r.n; i++)
			if ((rel = key_rel(cl, r.kvs[i].key, r.kvs[i].key_len)) != NULL &&
			    catalog_remote_key_kind(rel, &rest) == order[k]) {
				apply(cl, &r.kvs[i], 1, cl->gen, &rel);
				if (rel != NULL)
					save[n++] = (struct meta_mirror_kv){ rel, r.kvs[i].value,
						r.kvs[i].value_len };
			}
	catalog_remote_sweep(cl->catalog, cl->gen);
	catalog_remote_save(cl->catalog, cl->name, save, n, 1, r.revision);
	pthread_mutex_lock(&cl->lock);
	cl->revision = r.revision;
	pthread_mutex_unlock(&cl->lock);
	*revision = r.revision;
	log_debug("cluster %s: listed %zu keys at revision %lld", cl->name, r.n, (long long)r.revision);
	free(save);
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
		batch_reset(cl); /* a response cut short: the next list writes all */
		cl->batch_lost = 0;
	}
	free(cl->batch);
	cl->batch = NULL;
	cl->batch_cap = 0;
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
	if (st != NULL) {
		pthread_mutex_lock(&cl->lock);
		json_object_set_new(st, "prefetch",
		    json_pack("{s:b, s:I, s:I, s:I, s:I, s:I}", "on", cl->prefetch, "queued",
			(json_int_t)cl->npf, "blobs", (json_int_t)cl->prefetch_blobs, "bytes",
			(json_int_t)cl->prefetch_bytes, "skips", (json_int_t)cl->prefetch_skips, "errors",
			(json_int_t)cl->prefetch_errors));
		pthread_mutex_unlock(&cl->lock);
	}
	return st;
}
