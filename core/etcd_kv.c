/*
 * etcd_kv: keys, values, transactions, compaction and leases over the
 * gateway (see etcd.h).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "etcd.h"
#include "etcd_i.h"
#include "log.h"

/* ---- the key-value API ---- */

static int
range_from_json(const json_t *reply, struct etcd_range *out)
{
	const json_t *kvs = json_object_get(reply, "kvs");
	size_t i;
	int rc;

	memset(out, 0, sizeof *out);
	out->revision = etcd_int_of(json_object_get(reply, "header"), "revision");
	out->more = json_is_true(json_object_get(reply, "more"));
	if (kvs == NULL)
		return 0;
	if (!json_is_array(kvs) || (out->kvs = calloc(json_array_size(kvs) + 1, sizeof *out->kvs)) == NULL)
		return json_is_array(kvs) ? -ENOMEM : -EIO;
	for (i = 0; i < json_array_size(kvs); i++) {
		if ((rc = etcd_kv_from_json(json_array_get(kvs, i), &out->kvs[i])) != 0) {
			etcd_range_free(out);
			return rc;
		}
		out->n++;
	}
	return 0;
}

void
etcd_range_free(struct etcd_range *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		etcd_kv_free(&r->kvs[i]);
	free(r->kvs);
	memset(r, 0, sizeof *r);
}

int
etcd_get(etcd_t *e, const void *key, size_t klen, int prefix, int64_t limit, struct etcd_range *out)
{
	json_t *req = etcd_key_json(key, klen, prefix), *reply;
	int rc;

	memset(out, 0, sizeof *out);
	if (req == NULL)
		return -ENOMEM;
	if (limit > 0)
		json_object_set_new(req, "limit", etcd_int_json(limit));
	if ((rc = etcd_post(e, "/v3/kv/range", req, &reply)) != 0)
		return rc;
	rc = range_from_json(reply, out);
	json_decref(reply);
	return rc;
}

int
etcd_put(
    etcd_t *e, const void *key, size_t klen, const void *value, size_t vlen, int64_t lease, int64_t *revision)
{
	json_t *req = etcd_key_json(key, klen, 0), *reply;
	int rc;

	if (req == NULL || json_object_set_new(req, "value", etcd_b64_json(value, vlen)) != 0) {
		json_decref(req);
		return -ENOMEM;
	}
	if (lease != 0)
		json_object_set_new(req, "lease", etcd_int_json(lease));
	if ((rc = etcd_post(e, "/v3/kv/put", req, &reply)) != 0)
		return rc;
	if (revision != NULL)
		*revision = etcd_int_of(json_object_get(reply, "header"), "revision");
	json_decref(reply);
	return 0;
}

int
etcd_delete(etcd_t *e, const void *key, size_t klen, int prefix, int64_t *deleted)
{
	json_t *req = etcd_key_json(key, klen, prefix), *reply;
	int rc;

	if (req == NULL)
		return -ENOMEM;
	if ((rc = etcd_post(e, "/v3/kv/deleterange", req, &reply)) != 0)
		return rc;
	if (deleted != NULL)
		*deleted = etcd_int_of(reply, "deleted");
	json_decref(reply);
	return 0;
}

/* A txn: if compare holds, success, else failure; *succeeded and the
 * answer (new reference, may be NULL). Takes the references. */
static int
txn(etcd_t *e, json_t *compare, json_t *success, json_t *failure, int *succeeded, json_t **answer)
{
	json_t *req = json_object(), *reply;
	int rc;

	if (req == NULL || compare == NULL || success == NULL ||
	    json_object_set_new(req, "compare", json_pack("[o]", compare)) != 0 ||
	    json_object_set_new(req, "success", json_pack("[o]", success)) != 0 ||
	    (failure != NULL && json_object_set_new(req, "failure", json_pack("[o]", failure)) != 0)) {
		json_decref(req);
		return -ENOMEM;
	}
	if ((rc = etcd_post(e, "/v3/kv/txn", req, &reply)) != 0)
		return rc;
	*succeeded = json_is_true(json_object_get(reply, "succeeded")); /* absent: false */
	if (answer != NULL)
		*answer = reply;
	else
		json_decref(reply);
	return 0;
}

int
etcd_create(etcd_t *e, const void *key, size_t klen, const void *value, size_t vlen, int64_t lease,
    struct etcd_kv *existing)
{
	json_t *put = etcd_key_json(key, klen, 0), *reply = NULL, *kvs;
	int ok = 0, rc;

	if (existing != NULL)
		memset(existing, 0, sizeof *existing);
	if (put == NULL || json_object_set_new(put, "value", etcd_b64_json(value, vlen)) != 0) {
		json_decref(put);
		return -ENOMEM;
	}
	if (lease != 0)
		json_object_set_new(put, "lease", etcd_int_json(lease));
	rc = txn(e,
	    json_pack("{s:o,s:s,s:s,s:s}", "key", etcd_b64_json(key, klen), "target", "CREATE", "result",
		"EQUAL", "create_revision", "0"),
	    json_pack("{s:o}", "request_put", put),
	    json_pack("{s:o}", "request_range", etcd_key_json(key, klen, 0)), &ok, &reply);
	if (rc != 0)
		return rc;
	if (!ok) {
		rc = -EEXIST;
		/* responses[0].response_range.kvs[0]: what is there now. */
		kvs = json_object_get(
		    json_object_get(json_array_get(json_object_get(reply, "responses"), 0), "response_range"),
		    "kvs");
		if (existing != NULL && json_array_size(kvs) > 0 &&
		    etcd_kv_from_json(json_array_get(kvs, 0), existing) != 0)
			memset(existing, 0, sizeof *existing);
	}
	json_decref(reply);
	return rc;
}

int
etcd_delete_if(etcd_t *e, const void *key, size_t klen, int64_t mod_revision)
{
	json_t *cmp = json_pack("{s:o,s:s,s:s,s:o}", "key", etcd_b64_json(key, klen), "target", "MOD",
	    "result", "EQUAL", "mod_revision", etcd_int_json(mod_revision));
	int ok = 0, rc;

	rc = txn(
	    e, cmp, json_pack("{s:o}", "request_delete_range", etcd_key_json(key, klen, 0)), NULL, &ok, NULL);
	if (rc != 0)
		return rc;
	return ok ? 0 : -ESTALE;
}

int
etcd_compact(etcd_t *e, int64_t revision)
{
	json_t *reply;
	int rc = etcd_post(e, "/v3/kv/compaction",
	    json_pack("{s:o,s:b}", "revision", etcd_int_json(revision), "physical", 1), &reply);

	json_decref(reply);
	return rc;
}

/* ---- leases ---- */

int
etcd_lease_grant(etcd_t *e, int64_t ttl, int64_t *id)
{
	json_t *reply;
	int rc = etcd_post(e, "/v3/lease/grant", json_pack("{s:o}", "TTL", etcd_int_json(ttl)), &reply);

	if (rc != 0)
		return rc;
	*id = etcd_int_of(reply, "ID");
	json_decref(reply);
	if (*id == 0) {
		log_error("etcd: a lease grant without an ID");
		return -EIO;
	}
	return 0;
}

int
etcd_lease_keepalive(etcd_t *e, int64_t id, int64_t *ttl)
{
	json_t *reply, *result;
	int rc = etcd_post(e, "/v3/lease/keepalive", json_pack("{s:o}", "ID", etcd_int_json(id)), &reply);

	if (rc != 0)
		return rc;
	/* The gateway streams keepalives: one {"result": ...} per request. An
	 * expired or unknown lease answers without a TTL. */
	result = json_object_get(reply, "result");
	if (result == NULL)
		result = reply;
	rc = json_object_get(result, "TTL") == NULL || etcd_int_of(result, "TTL") <= 0 ? -ENOENT : 0;
	if (rc == 0 && ttl != NULL)
		*ttl = etcd_int_of(result, "TTL");
	json_decref(reply);
	return rc;
}

int
etcd_lease_revoke(etcd_t *e, int64_t id)
{
	json_t *reply;
	int rc = etcd_post(e, "/v3/lease/revoke", json_pack("{s:o}", "ID", etcd_int_json(id)), &reply);

	json_decref(reply);
	return rc;
}
