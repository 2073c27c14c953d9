/*
 * catalog_mirror: the mirror of the cluster (catalog_remote.h) in the
 * metadata database, and the one way an etcd key becomes a remote record,
 * whether it comes from etcd (cluster_watch.c) or from the database at
 * the open. The database's copy is written in batches (a full list, a
 * watch response), each one transaction under the meta lock alone, so
 * that requests holding the catalog lock never wait on it; it is read
 * once, at catalog_open, before the store is reconciled (its fetched
 * copies are the mirror's blobs) and before the mount serves anything.
 * At the close, the CRC-32C of each fetched copy (computed as it came)
 * is recorded, for the next open to check the copy against when its
 * owner published none.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_i.h"
#include "catalog_remote.h"
#include "log.h"
#include "util.h"
#include "vec.h"

enum catalog_remote_key
catalog_remote_key_kind(const char *key, const char **rest)
{
	static const struct {
		const char *dir;
		enum catalog_remote_key kind;
	} dirs[] = { { "members/", CATALOG_REMOTE_MEMBER }, { "objects/", CATALOG_REMOTE_OBJECT },
		{ "names/", CATALOG_REMOTE_NAME } };
	size_t i, n;

	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		n = strlen(dirs[i].dir);
		if (strncmp(key, dirs[i].dir, n) == 0 && key[n] != '\0') {
			*rest = key + n;
			return dirs[i].kind;
		}
	}
	*rest = key;
	return CATALOG_REMOTE_OTHER;
}

static int
apply_member(catalog_t *c, const char *inst, const char *value, size_t len, int put, uint32_t gen, int live)
{
	json_t *m = put ? json_loadb(value, len, 0, NULL) : NULL;
	unsigned long n;
	char *end;
	int rc;

	n = strtoul(inst, &end, 10);
	if (*end != '\0' || n > ID_INSTANCE_MAX) {
		json_decref(m);
		return -EINVAL;
	}
	/* A member that went keeps its node name (NULL: unchanged). */
	rc = catalog_remote_member_set(
	    c, (unsigned)n, json_string_value(json_object_get(m, "node")), put && live, gen);
	json_decref(m);
	return rc;
}

int
catalog_remote_apply(
    catalog_t *c, const char *key, const char *value, size_t len, int put, uint32_t gen, int live)
{
	const char *rest;
	uint64_t id;
	json_t *v;
	int rc;

	switch (catalog_remote_key_kind(key, &rest)) {
	case CATALOG_REMOTE_MEMBER: return apply_member(c, rest, value, len, put, gen, live);
	case CATALOG_REMOTE_OBJECT:
		if (id_parse(rest, &id) != 0 || id_is_blob(id))
			return -EINVAL;
		if (!put) {
			rc = catalog_remote_object_delete(c, id);
			return rc == -ENOENT ? 0 : rc; /* never mirrored: ours, or a bad value */
		}
		return catalog_remote_object_put(c, value, len, gen);
	case CATALOG_REMOTE_NAME:
		if (!put)
			return catalog_remote_name_delete(c, rest);
		v = json_loadb(value, len, JSON_DECODE_ANY, NULL);
		if (json_is_string(v) && id_parse(json_string_value(v), &id) == 0 && !id_is_blob(id))
			rc = catalog_remote_name_put(c, rest, id, gen);
		else
			rc = -EINVAL;
		json_decref(v);
		return rc;
	case CATALOG_REMOTE_OTHER: break;
	}
	return 0;
}

/* End the transaction begun: committed when rc is 0, else rolled back;
 * returns how it went. */
static int
tx_end(catalog_t *c, int rc)
{
	if (rc != 0) {
		catalog_tx_rollback(c);
		return rc;
	}
	return catalog_tx_commit(c);
}

int
catalog_remote_save(catalog_t *c, const char *cluster, const struct meta_mirror_kv *kv, size_t n, int replace,
    int64_t revision)
{
	int64_t t0 = util_now_ns();
	int rc;

	if ((rc = catalog_tx_begin(c)) == 0)
		rc = tx_end(c, meta_mirror_write(c->meta, cluster, kv, n, replace, revision));
	if (rc != 0)
		log_warn("cluster %s: the mirror's copy in the database is behind (%zu keys at revision %lld "
			 "not written: %s); the next list writes it whole",
		    cluster, n, (long long)revision, strerror(-rc));
	else
		log_debug("cluster %s: mirror saved: %zu keys%s at revision %lld in %.3f ms", cluster, n,
		    replace ? " (all)" : "", (long long)revision, (double)(util_now_ns() - t0) / 1e6);
	return rc;
}

/* ---- at the open ---- */

struct load {
	catalog_t *c;
	enum catalog_remote_key kind; /* this pass's */
	size_t n, bad;
};

static int
load_key(void *arg, const char *key, const void *value, size_t len)
{
	struct load *l = arg;
	const char *rest;

	if (catalog_remote_key_kind(key, &rest) != l->kind)
		return 0;
	/* Generation 0: the first list (generation 1) sweeps what it lacks. */
	if (catalog_remote_apply(l->c, key, value, len, 1, 0, 0) != 0)
		l->bad++;
	else
		l->n++;
	return 0;
}

/* A copy's CRC as it came: what reconcile checks it against when its
 * owner published none. */
static int
load_copy(void *arg, const struct meta_mirror_copy *cp)
{
	catalog_t *c = arg;
	struct cblob *b = catalog_blob_find(c, cp->id);

	if (b != NULL && b->remote && !b->has_crc && b->size == cp->size) {
		b->has_crc = 1;
		b->crc32c = cp->crc32c;
	}
	return 0;
}

int
catalog_mirror_open(catalog_t *c)
{
	/* Members, then objects, then names (a name's object before it). */
	static const enum catalog_remote_key order[] = { CATALOG_REMOTE_MEMBER, CATALOG_REMOTE_OBJECT,
		CATALOG_REMOTE_NAME };
	struct load l = { .c = c };
	char *cluster = NULL;
	int64_t revision;
	uint64_t dropped = 0;
	size_t k;
	int rc;

	if ((rc = meta_mirror_info(c->meta, &cluster, &revision)) != 0)
		return rc == -ENOENT ? 0 : rc;
	if (c->cfg.cluster == NULL || strcmp(cluster, c->cfg.cluster) != 0) {
		/* Not a member of that cluster now: its mirror would only be
		 * stale, and its fetched copies go as orphans. */
		if ((rc = catalog_tx_begin(c)) != 0 ||
		    (rc = tx_end(c, meta_mirror_clear(c->meta, &dropped))) != 0)
			goto out;
		log_info("dropped the mirror of cluster %s (%llu keys): this store is %s%s", cluster,
		    (unsigned long long)dropped,
		    c->cfg.cluster != NULL ? "a member of cluster " : "in no cluster",
		    c->cfg.cluster != NULL ? c->cfg.cluster : "");
		goto out;
	}
	for (k = 0; k < sizeof order / sizeof order[0]; k++) {
		l.kind = order[k];
		if ((rc = meta_mirror_load(c->meta, load_key, &l)) != 0)
			goto out;
	}
	if ((rc = meta_mirror_copies_load(c->meta, load_copy, c)) != 0)
		goto out;
	log_info("cluster %s: the mirror as of etcd revision %lld: %llu objects, %llu names of other "
		 "members, unavailable until etcd lists them%s",
	    cluster, (long long)revision, (unsigned long long)c->nremote_objects,
	    (unsigned long long)c->nremote_names, l.bad > 0 ? " (some keys were not understood)" : "");
out:
	free(cluster);
	return rc;
}

/* ---- at the close ---- */

struct copies {
	struct meta_mirror_copy *v;
	size_t n, cap;
	int err;
};

static void
pick_copy(void *value, void *arg)
{
	struct copies *cs = arg;
	struct cblob *b = value;

	if (!b->remote || !b->resident || b->deleted || !b->has_crc || cs->err != 0)
		return;
	if ((cs->err = VEC_PUSH_ROOM(cs->v, cs->n, cs->cap)) == 0)
		cs->v[cs->n++] = (struct meta_mirror_copy){ b->id, b->size, b->crc32c };
}

void
catalog_mirror_close(catalog_t *c)
{
	struct copies cs = { 0 };
	int rc;

	if (c->meta == NULL)
		return;
	hmap_foreach(&c->blobs, pick_copy, &cs);
	if ((rc = cs.err) == 0 && (rc = catalog_tx_begin(c)) == 0)
		rc = tx_end(c, meta_mirror_copies_write(c->meta, cs.v, cs.n));
	if (rc != 0)
		log_warn("the CRC-32C of %zu fetched copies could not be recorded (%s): the next start "
			 "removes those whose owner published none",
		    cs.n, strerror(-rc));
	free(cs.v);
}
