/*
 * cluster: a member's life (cluster.h): joining, the lease and its
 * keepalive, and the queue of publishes and unpublishes, worked in order
 * by the member thread. An operation leaves the queue only when etcd has
 * answered it (done, or refused for good: a name taken); while etcd is
 * away the thread naps with a growing backoff and logs the loss once.
 * The mirror, the other way, is cluster_watch.c's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster_i.h"
#include "id.h"
#include "log.h"
#include "object.h"
#include "util.h"
#include "vec.h"

/* Is errno rc etcd being away (worth a retry), not a refusal? */
static int
transient(int rc)
{
	return rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EIO || rc == -ENOMEM || rc == -EAGAIN ||
	       rc == -ECONNRESET || rc == -EHOSTUNREACH || rc == -ENETUNREACH;
}

void
cluster_contact(cluster_t *cl, int rc, const char *what)
{
	pthread_mutex_lock(&cl->lock);
	if (rc == 0 || !transient(rc)) {
		if (!cl->reachable && cl->said_down)
			log_info("cluster %s: etcd at %s answers again", cl->name, cl->etcd_urls);
		cl->reachable = 1;
		cl->said_down = 0;
		cl->last_contact_ns = util_now_ns();
	} else {
		snprintf(cl->last_error, sizeof cl->last_error, "%s: %s", what, strerror(-rc));
		if (!cl->said_down)
			log_warn("cluster %s: etcd at %s is unavailable (%s: %s): local work goes on, "
				 "publishes are queued, retrying",
			    cl->name, cl->etcd_urls, what, strerror(-rc));
		cl->reachable = 0;
		cl->said_down = 1;
	}
	pthread_mutex_unlock(&cl->lock);
}

/* Wait on cl->cond for ms at most, unless stopping or (idle) there is
 * work; cl->lock held. */
static void
wait_locked(cluster_t *cl, unsigned ms, int idle)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	if (atomic_load(&cl->stop))
		return;
	if (idle && (cl->head != NULL || cl->scan || cl->reassert || cl->nfresh > 0))
		return;
	pthread_cond_timedwait(&cl->cond, &cl->lock, &until);
}

void
cluster_nap(cluster_t *cl, unsigned ms)
{
	pthread_mutex_lock(&cl->lock);
	wait_locked(cl, ms, 0);
	pthread_mutex_unlock(&cl->lock);
}

static int
name_ok(const char *s)
{
	return s != NULL && *s != '\0' && strchr(s, '/') == NULL && strlen(s) < 200;
}

int
cluster_create(const struct cluster_config *cfg, cluster_t **out)
{
	char host[256] = "localhost";
	cluster_t *cl;

	if (cfg->etcd == NULL || !name_ok(cfg->name))
		return -EINVAL;
	if ((cl = calloc(1, sizeof *cl)) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&cl->lock, NULL);
	pthread_cond_init(&cl->cond, NULL);
	pthread_cond_init(&cl->pf_cond, NULL);
	hmap_init(&cl->pubs);
	if (gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "localhost");
	cl->etcd_urls = strdup(cfg->etcd);
	cl->name = strdup(cfg->name);
	cl->listen = strdup(cfg->listen != NULL ? cfg->listen : "");
	cl->node = strdup(cfg->node != NULL ? cfg->node : host);
	cl->key_file = cfg->key_file != NULL ? strdup(cfg->key_file) : NULL;
	cl->ttl = cfg->ttl > 0 ? cfg->ttl : CLUSTER_TTL;
	cl->publish_all = cfg->publish_all;
	cl->prefetch = cfg->prefetch;
	cl->memory = cfg->memory;
	cl->members = json_object();
	cl->prefix_len = (size_t)snprintf(cl->prefix, sizeof cl->prefix, "/vineyardfs/%s/", cfg->name);
	object_format_time(util_now_ns(), cl->started, sizeof cl->started);
	if (cl->etcd_urls == NULL || cl->name == NULL || cl->listen == NULL || cl->node == NULL ||
	    cl->members == NULL) {
		cluster_destroy(cl);
		return -ENOMEM;
	}
	*out = cl;
	return 0;
}

static void
op_free(struct cluster_op *op)
{
	if (op == NULL)
		return;
	catalog_export_free(op->exp, op->nexp);
	free(op->name);
	free(op);
}

/* Lock held. */
static void
enqueue(cluster_t *cl, struct cluster_op *op)
{
	op->next = NULL;
	if (cl->tail != NULL)
		cl->tail->next = op;
	else
		cl->head = op;
	cl->tail = op;
	cl->queued++;
	pthread_cond_broadcast(&cl->cond);
}

/* Lock held: the record of a publish of id, made if new. */
static struct cluster_pub *
pub_get(cluster_t *cl, uint64_t id, int make)
{
	struct cluster_pub *p = hmap_find(&cl->pubs, id);

	if (p != NULL || !make)
		return p;
	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	p->id = id;
	if (hmap_insert(&cl->pubs, id, p) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

/* Queue a publish of id: its records copied now. */
static int
queue_publish(cluster_t *cl, uint64_t id)
{
	struct cluster_op *op = calloc(1, sizeof *op);
	struct cluster_pub *p;
	size_t i;
	int rc;

	if (op == NULL)
		return -ENOMEM;
	op->kind = CLUSTER_OP_PUBLISH;
	op->id = id;
	if ((rc = catalog_remote_export(cl->catalog, id, &op->exp, &op->nexp)) != 0) {
		free(op);
		return rc;
	}
	pthread_mutex_lock(&cl->lock);
	/* Member objects count as published too: deleting one unpublishes it. */
	for (i = 0; i < op->nexp; i++) {
		if ((p = pub_get(cl, op->exp[i].id, 1)) == NULL) {
			rc = -ENOMEM;
			break;
		}
		p->state = -EINPROGRESS;
		p->msg[0] = '\0';
	}
	if (rc == 0)
		enqueue(cl, op);
	pthread_mutex_unlock(&cl->lock);
	if (rc != 0)
		op_free(op);
	return rc;
}

int
cluster_publish(cluster_t *cl, uint64_t id)
{
	if (cl->catalog == NULL)
		return -ENOTCONN;
	return queue_publish(cl, id);
}

int
cluster_publish_state(cluster_t *cl, uint64_t id, char *msg, size_t msglen)
{
	struct cluster_pub *p;
	int rc;

	pthread_mutex_lock(&cl->lock);
	if ((p = pub_get(cl, id, 0)) == NULL)
		rc = -ENOENT;
	else {
		rc = p->state;
		if (msg != NULL && msglen > 0)
			snprintf(msg, msglen, "%s", p->msg);
	}
	pthread_mutex_unlock(&cl->lock);
	return rc;
}

static void
queue_simple(cluster_t *cl, enum cluster_op_kind kind, uint64_t id, const char *name)
{
	struct cluster_op *op = calloc(1, sizeof *op);

	if (op == NULL || (name != NULL && (op->name = strdup(name)) == NULL)) {
		log_error("cluster %s: out of memory: an unpublish is lost", cl->name);
		op_free(op);
		return;
	}
	op->kind = kind;
	op->id = id;
	enqueue(cl, op);
}

void
cluster_object_deleted(cluster_t *cl, uint64_t id)
{
	struct cluster_pub *p;

	if (cl == NULL)
		return;
	pthread_mutex_lock(&cl->lock);
	if ((p = pub_get(cl, id, 0)) != NULL) {
		hmap_remove(&cl->pubs, id, p);
		free(p);
		queue_simple(cl, CLUSTER_OP_UNPUBLISH, id, NULL);
	}
	pthread_mutex_unlock(&cl->lock);
}

void
cluster_name_dropped(cluster_t *cl, const char *name, uint64_t id)
{
	if (cl == NULL)
		return;
	pthread_mutex_lock(&cl->lock);
	if (pub_get(cl, id, 0) != NULL)
		queue_simple(cl, CLUSTER_OP_UNNAME, id, name);
	pthread_mutex_unlock(&cl->lock);
}

void
cluster_kick(cluster_t *cl, uint64_t id)
{
	if (cl == NULL || !cl->publish_all || id == 0)
		return;
	pthread_mutex_lock(&cl->lock);
	if (VEC_PUSH_ROOM(cl->fresh, cl->nfresh, cl->fresh_cap) == 0)
		cl->fresh[cl->nfresh++] = id;
	else
		cl->scan = 1; /* out of memory: look at them all later */
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->lock);
}

void
cluster_adopt(cluster_t *cl, uint64_t id)
{
	struct catalog_export *v = NULL;
	size_t n = 0;
	int rc, known;

	pthread_mutex_lock(&cl->lock);
	known = pub_get(cl, id, 0) != NULL;
	pthread_mutex_unlock(&cl->lock);
	if (known)
		return; /* our own put coming back through the watch */
	rc = catalog_remote_export(cl->catalog, id, &v, &n);
	catalog_export_free(v, n);
	pthread_mutex_lock(&cl->lock);
	if (pub_get(cl, id, 0) == NULL) {
		if (rc == 0)
			pub_get(cl, id, 1); /* published before a restart: done */
		else if (rc == -ENOENT)	    /* deleted here meanwhile */
			queue_simple(cl, CLUSTER_OP_UNPUBLISH, id, NULL);
	}
	pthread_mutex_unlock(&cl->lock);
}

/* ---- the member thread ---- */

static int
key_of(cluster_t *cl, char *buf, size_t len, const char *dir, const char *rest)
{
	int n = snprintf(buf, len, "%s%s/%s", cl->prefix, dir, rest);

	return n > 0 && (size_t)n < len ? n : -ENAMETOOLONG;
}

/* Join: a lease, and our member key if no live member has our id. */
static int
join(cluster_t *cl)
{
	char key[CLUSTER_PREFIX_MAX + 32], inst[16];
	struct etcd_kv existing = { 0 };
	int64_t lease = 0;
	json_t *v;
	char *text;
	int rc, klen;

	snprintf(inst, sizeof inst, "%u", cl->instance);
	klen = key_of(cl, key, sizeof key, "members", inst);
	v = json_pack("{s:i, s:s, s:s, s:I, s:s, s:s}", "instance", (int)cl->instance, "node", cl->node,
	    "peer", cl->listen, "memory", (json_int_t)cl->memory, "version", PACKAGE_VERSION, "started",
	    cl->started);
	text = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(v);
	if (text == NULL)
		return -ENOMEM;
	if ((rc = etcd_lease_grant(cl->etcd, cl->ttl, &lease)) != 0)
		goto out;
	rc = etcd_create(cl->etcd, key, (size_t)klen, text, strlen(text), lease, &existing);
	if (rc == -EEXIST) {
		log_warn("cluster %s: instance id %u is a live member already (%.*s); waiting for it "
			 "to go (ids must be unique in a cluster: --instance-id)",
		    cl->name, cl->instance, (int)existing.value_len, existing.value);
		etcd_kv_free(&existing);
		etcd_lease_revoke(cl->etcd, lease);
		goto out;
	}
	if (rc != 0) {
		etcd_lease_revoke(cl->etcd, lease);
		goto out;
	}
	pthread_mutex_lock(&cl->lock);
	cl->lease = lease;
	cl->joined = 1;
	cl->joined_ns = util_now_ns();
	pthread_mutex_unlock(&cl->lock);
	log_info("cluster %s: joined as instance %u (node %s, peer %s) through %s", cl->name, cl->instance,
	    cl->node, cl->listen, etcd_endpoint(cl->etcd));
out:
	free(text);
	return rc;
}

/* Put one object's records, then create its names. */
static int
do_publish(cluster_t *cl, struct cluster_op *op)
{
	char key[CLUSTER_PREFIX_MAX + CATALOG_NAME_MAX + 16], ids[ID_STR_LEN + 1], want[ID_STR_LEN + 3];
	struct cluster_pub *p;
	size_t i;
	unsigned k;
	int rc = 0, klen, failed = 0;
	char msg[160] = "";

	for (i = 0; i < op->nexp; i++) {
		id_format(op->exp[i].id, ids);
		klen = key_of(cl, key, sizeof key, "objects", ids);
		if ((rc = etcd_put(cl->etcd, key, (size_t)klen, op->exp[i].value, op->exp[i].len, 0, NULL)) !=
		    0)
			return rc;
	}
	for (i = 0; i < op->nexp; i++) {
		id_format(op->exp[i].id, ids);
		snprintf(want, sizeof want, "\"%s\"", ids);
		for (k = 0; k < op->exp[i].nnames; k++) {
			struct etcd_kv have = { 0 };

			if ((klen = key_of(cl, key, sizeof key, "names", op->exp[i].names[k])) < 0)
				continue;
			rc = etcd_create(cl->etcd, key, (size_t)klen, want, strlen(want), 0, &have);
			if (rc == -EEXIST && (have.value_len != strlen(want) ||
						 memcmp(have.value, want, have.value_len) != 0)) {
				snprintf(msg, sizeof msg, "name %s is taken by %.*s", op->exp[i].names[k],
				    (int)have.value_len, have.value);
				log_warn("cluster %s: publish of %s: %s", cl->name, ids, msg);
				failed++;
			} else if (rc != 0 && rc != -EEXIST) {
				etcd_kv_free(&have);
				return rc;
			}
			etcd_kv_free(&have);
		}
	}
	pthread_mutex_lock(&cl->lock);
	cl->publishes++;
	cl->name_conflicts += (uint64_t)failed;
	for (i = 0; i < op->nexp; i++)
		if ((p = pub_get(cl, op->exp[i].id, 0)) != NULL && p->state == -EINPROGRESS) {
			p->state = failed && i == 0 ? -EEXIST : 0;
			snprintf(p->msg, sizeof p->msg, "%s", i == 0 ? msg : "");
		}
	pthread_mutex_unlock(&cl->lock);
	return 0;
}

static int
do_unname(cluster_t *cl, struct cluster_op *op)
{
	char key[CLUSTER_PREFIX_MAX + CATALOG_NAME_MAX + 16], ids[ID_STR_LEN + 1], want[ID_STR_LEN + 3];
	struct etcd_range r = { 0 };
	int rc, klen;

	if ((klen = key_of(cl, key, sizeof key, "names", op->name)) < 0)
		return 0;
	id_format(op->id, ids);
	snprintf(want, sizeof want, "\"%s\"", ids);
	if ((rc = etcd_get(cl->etcd, key, (size_t)klen, 0, 0, &r)) != 0)
		return rc;
	/* Only while it still names our object: another may have it now. */
	if (r.n == 1 && r.kvs[0].value_len == strlen(want) &&
	    memcmp(r.kvs[0].value, want, r.kvs[0].value_len) == 0) {
		rc = etcd_delete_if(cl->etcd, key, (size_t)klen, r.kvs[0].mod_revision);
		if (rc == -ESTALE)
			rc = 0;
	}
	etcd_range_free(&r);
	return rc;
}

static int
do_op(cluster_t *cl, struct cluster_op *op)
{
	char key[CLUSTER_PREFIX_MAX + 32], ids[ID_STR_LEN + 1];
	int klen;

	switch (op->kind) {
	case CLUSTER_OP_PUBLISH: return do_publish(cl, op);
	case CLUSTER_OP_UNNAME: return do_unname(cl, op);
	case CLUSTER_OP_UNPUBLISH:
		id_format(op->id, ids);
		klen = key_of(cl, key, sizeof key, "objects", ids);
		cl->unpublishes++;
		return etcd_delete(cl->etcd, key, (size_t)klen, 0, NULL);
	}
	return -EINVAL;
}

struct idlist {
	uint64_t *v;
	size_t n, cap;
};

static void
collect_id(void *arg, uint64_t id)
{
	struct idlist *l = arg;

	if (VEC_PUSH_ROOM(l->v, l->n, l->cap) == 0)
		l->v[l->n++] = id;
}

static void
collect_pub(void *value, void *arg)
{
	collect_id(arg, ((struct cluster_pub *)value)->id);
}

/* After a join that found the lease gone: publish again what we hold;
 * with publish-all, look for sealed objects not published yet. */
static void
republish(cluster_t *cl, int all_published, int scan)
{
	struct idlist l = { 0 };
	size_t i;

	pthread_mutex_lock(&cl->lock);
	if (all_published)
		hmap_foreach(&cl->pubs, collect_pub, &l);
	pthread_mutex_unlock(&cl->lock);
	if (scan)
		catalog_remote_local_objects(cl->catalog, collect_id, &l);
	for (i = 0; i < l.n; i++) {
		int known;

		pthread_mutex_lock(&cl->lock);
		known = pub_get(cl, l.v[i], 0) != NULL;
		pthread_mutex_unlock(&cl->lock);
		if (!all_published && known)
			continue;
		queue_publish(cl, l.v[i]); /* gone meanwhile: nothing to do */
	}
	if (all_published && l.n > 0)
		log_info("cluster %s: publishing again %zu objects", cl->name, l.n);
	free(l.v);
}

/* Publish-all: publish the objects sealed or named since (cluster_kick)
 * that are not published yet, once each; frees l. */
static void
publish_fresh(cluster_t *cl, struct idlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		int known;

		/* Known once queued: an id twice in the list goes once. */
		pthread_mutex_lock(&cl->lock);
		known = pub_get(cl, l->v[i], 0) != NULL;
		pthread_mutex_unlock(&cl->lock);
		if (!known)
			queue_publish(cl, l->v[i]); /* gone or not ours: nothing to do */
	}
	free(l->v);
}

static unsigned
grow(unsigned backoff)
{
	return backoff * 2 > CLUSTER_BACKOFF_MAX_MS ? CLUSTER_BACKOFF_MAX_MS : backoff * 2;
}

static void *
member_main(void *arg)
{
	cluster_t *cl = arg;
	unsigned backoff = CLUSTER_BACKOFF_MIN_MS, wait_ms;
	int64_t next_keepalive = 0, left_ms;
	int rc;

	while (!atomic_load(&cl->stop)) {
		struct cluster_op *op;
		struct idlist fresh;
		int scan, reassert;

		if (!cl->joined) {
			if ((rc = join(cl)) != 0) {
				cluster_contact(cl, rc == -EEXIST ? 0 : rc, "join");
				cluster_nap(cl, backoff);
				backoff = grow(backoff);
				continue;
			}
			cluster_contact(cl, 0, "join");
			backoff = CLUSTER_BACKOFF_MIN_MS;
			next_keepalive = util_mono_ns() + (int64_t)cl->ttl * 1000000000 / 3;
		}
		if (util_mono_ns() >= next_keepalive) {
			int64_t ttl = 0;

			rc = etcd_lease_keepalive(cl->etcd, cl->lease, &ttl);
			cluster_contact(cl, rc == -ENOENT ? 0 : rc, "keepalive");
			if (rc == -ENOENT) {
				/* etcd lost our lease: restarted empty, or we were cut off. */
				log_warn(
				    "cluster %s: our lease is gone (etcd restarted empty, or this member "
				    "was unreachable over %u s): joining again",
				    cl->name, cl->ttl);
				pthread_mutex_lock(&cl->lock);
				cl->joined = 0;
				cl->reassert = 1;
				cl->rejoins++;
				pthread_mutex_unlock(&cl->lock);
				continue;
			}
			/* Unreachable: try again soon, the lease may still live. */
			if (rc == 0)
				next_keepalive = util_mono_ns() + (int64_t)cl->ttl * 1000000000 / 3;
			else {
				next_keepalive = util_mono_ns() + (int64_t)backoff * 1000000;
				backoff = grow(backoff);
			}
		}
		pthread_mutex_lock(&cl->lock);
		scan = cl->scan;
		reassert = cl->reassert;
		cl->scan = cl->reassert = 0;
		fresh = (struct idlist){ cl->fresh, cl->nfresh, cl->fresh_cap };
		cl->fresh = NULL;
		cl->nfresh = cl->fresh_cap = 0;
		pthread_mutex_unlock(&cl->lock);
		if (reassert || scan)
			republish(cl, reassert, scan || (reassert && cl->publish_all));
		publish_fresh(cl, &fresh);
		/* The queue, in order, each until etcd answered. */
		pthread_mutex_lock(&cl->lock);
		op = cl->head;
		pthread_mutex_unlock(&cl->lock);
		if (op != NULL) {
			rc = do_op(cl, op);
			cluster_contact(cl, rc, "publish");
			if (transient(rc)) {
				cluster_nap(cl, backoff);
				backoff = grow(backoff);
				continue;
			}
			if (rc != 0)
				log_warn("cluster %s: an etcd request failed for good: %s", cl->name,
				    strerror(-rc));
			backoff = CLUSTER_BACKOFF_MIN_MS;
			pthread_mutex_lock(&cl->lock);
			cl->head = op->next;
			if (cl->head == NULL)
				cl->tail = NULL;
			cl->queued--;
			pthread_mutex_unlock(&cl->lock);
			op_free(op);
			continue;
		}
		left_ms = (next_keepalive - util_mono_ns()) / 1000000;
		wait_ms = left_ms < 1 ? 1 : (unsigned)left_ms;
		/* Checked and waited under one hold of the lock: a publish
		 * queued in between is not left for the next keepalive. */
		pthread_mutex_lock(&cl->lock);
		wait_locked(cl, wait_ms, 1);
		pthread_mutex_unlock(&cl->lock);
	}
	return NULL;
}

int
cluster_start(cluster_t *cl, catalog_t *c)
{
	struct catalog_stats st;
	int rc;

	catalog_stats(c, &st);
	cl->catalog = c;
	cl->instance = st.instance_id;
	if ((rc = etcd_open(cl->etcd_urls, 2000, &cl->etcd)) != 0)
		return rc;
	if ((rc = cluster_peer_start(cl)) != 0)
		return rc;
	if ((rc = cluster_prefetch_start(cl)) != 0)
		return rc;
	/* Publish-all starts by looking at what is there already. */
	cl->scan = cl->publish_all;
	if ((rc = -pthread_create(&cl->member_thread, NULL, member_main, cl)) != 0)
		return rc;
	if ((rc = -pthread_create(&cl->watch_thread, NULL, cluster_watch_main, cl)) != 0) {
		atomic_store(&cl->stop, 1);
		pthread_cond_broadcast(&cl->cond);
		pthread_join(cl->member_thread, NULL);
		return rc;
	}
	cl->threads = 1;
	log_info("cluster %s: member %s (instance %u), etcd %s%s%s", cl->name, cl->node, cl->instance,
	    cl->etcd_urls, cl->publish_all ? ", publishing every object" : "",
	    cl->prefetch ? ", prefetching others' named objects" : "");
	return 0;
}

static void
free_pub(void *v, void *arg)
{
	(void)arg;
	free(v);
}

void
cluster_destroy(cluster_t *cl)
{
	struct cluster_op *op, *next;

	if (cl == NULL)
		return;
	cluster_prefetch_stop(cl); /* its fetches use the peer's pool */
	cluster_peer_stop(cl);
	if (cl->threads) {
		pthread_mutex_lock(&cl->lock);
		atomic_store(&cl->stop, 1);
		pthread_cond_broadcast(&cl->cond);
		pthread_mutex_unlock(&cl->lock);
		pthread_join(cl->member_thread, NULL);
		pthread_join(cl->watch_thread, NULL);
	}
	if (cl->etcd != NULL && cl->joined && etcd_lease_revoke(cl->etcd, cl->lease) == 0)
		log_info("cluster %s: left (lease revoked)", cl->name);
	if (cl->queued > 0)
		log_warn("cluster %s: %u etcd requests still queued are dropped", cl->name, cl->queued);
	for (op = cl->head; op != NULL; op = next) {
		next = op->next;
		op_free(op);
	}
	etcd_close(cl->etcd);
	hmap_foreach(&cl->pubs, free_pub, NULL);
	hmap_destroy(&cl->pubs);
	free(cl->fresh);
	free(cl->pf);
	json_decref(cl->members);
	free(cl->etcd_urls);
	free(cl->name);
	free(cl->listen);
	free(cl->node);
	free(cl->key_file);
	pthread_mutex_destroy(&cl->lock);
	pthread_cond_destroy(&cl->cond);
	pthread_cond_destroy(&cl->pf_cond);
	free(cl);
}
