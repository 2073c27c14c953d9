/*
 * etcd: the v3 JSON gateway client (see etcd.h). Each call builds one JSON
 * request, posts it with libcurl to the current endpoint (the next ones on
 * a connection failure), and turns the answer back into C values. The
 * easy handles share one connection cache, so that calls from any thread
 * reuse open connections.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "etcd.h"
#include "log.h"

#define ETCD_REPLY_MAX (64u << 20) /* more is not etcd talking */

struct etcd {
	char **urls; /* without a trailing '/' */
	size_t nurls;
	atomic_size_t cur; /* the endpoint to try first */
	long timeout_ms;
	CURLSH *share;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
	etcd_t *e = arg;

	(void)h;
	(void)access;
	pthread_mutex_lock(&e->share_lock[data]);
}

static void
share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	etcd_t *e = arg;

	(void)h;
	pthread_mutex_unlock(&e->share_lock[data]);
}

int
etcd_open(const char *endpoints, long timeout_ms, etcd_t **out)
{
	etcd_t *e;
	char *list, *tok, *save = NULL;
	int i, rc = 0;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		log_error("etcd: libcurl: %s", curl_easy_strerror(curl_init_rc));
		return -EIO;
	}
	if ((e = calloc(1, sizeof *e)) == NULL || (list = strdup(endpoints)) == NULL) {
		free(e);
		return -ENOMEM;
	}
	for (tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char **urls = realloc(e->urls, (e->nurls + 1) * sizeof *urls);
		size_t len = strlen(tok);

		if (urls == NULL) {
			rc = -ENOMEM;
			break;
		}
		e->urls = urls;
		while (len > 0 && tok[len - 1] == '/')
			len--;
		if (len == 0 || (strncmp(tok, "http://", 7) != 0 && strncmp(tok, "https://", 8) != 0)) {
			log_error("etcd: endpoint '%s' is not an http:// or https:// URL", tok);
			rc = -EINVAL;
			break;
		}
		if ((e->urls[e->nurls] = strndup(tok, len)) == NULL) {
			rc = -ENOMEM;
			break;
		}
		e->nurls++;
	}
	free(list);
	if (rc == 0 && e->nurls == 0) {
		log_error("etcd: no endpoint given");
		rc = -EINVAL;
	}
	e->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&e->share_lock[i], NULL);
	if (rc == 0 && (e->share = curl_share_init()) == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		curl_share_setopt(e->share, CURLSHOPT_LOCKFUNC, share_lock);
		curl_share_setopt(e->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
		curl_share_setopt(e->share, CURLSHOPT_USERDATA, e);
		curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
		curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	}
	if (rc != 0) {
		etcd_close(e);
		return rc;
	}
	*out = e;
	return 0;
}

void
etcd_close(etcd_t *e)
{
	size_t i;

	if (e == NULL)
		return;
	if (e->share != NULL)
		curl_share_cleanup(e->share);
	for (i = 0; i < (size_t)CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&e->share_lock[i]);
	for (i = 0; i < e->nurls; i++)
		free(e->urls[i]);
	free(e->urls);
	free(e);
}

const char *
etcd_endpoint(etcd_t *e)
{
	return e->urls[atomic_load(&e->cur) % e->nurls];
}

/* ---- base64 and numbers, as the gateway writes them ---- */

/* base64 of n bytes as a new JSON string. */
static json_t *
b64_json(const void *data, size_t n)
{
	char *buf = malloc(4 * ((n + 2) / 3) + 1);
	json_t *s;

	if (buf == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)buf, data, (int)n);
	s = json_string(buf);
	free(buf);
	return s;
}

/* Decode base64 text into a new NUL-terminated buffer; -EIO if it is not. */
static int
b64_decode(const char *text, char **out, size_t *len)
{
	size_t n = strlen(text), pad = 0;
	unsigned char *buf;
	int got;

	if (n % 4 != 0)
		return -EIO;
	if ((buf = malloc(n / 4 * 3 + 1)) == NULL)
		return -ENOMEM;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (n > 0 && text[n - 1] == '=')
		pad = n > 1 && text[n - 2] == '=' ? 2 : 1;
	if ((got = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n)) < 0 || (size_t)got < pad) {
		free(buf);
		return -EIO;
	}
	*len = (size_t)got - pad;
	buf[*len] = '\0';
	*out = (char *)buf;
	return 0;
}

/* An int64 the gateway wrote as a string (or, leniently, a number);
 * absent means 0, as the gateway leaves zero values out. */
static int64_t
int_of(const json_t *obj, const char *name)
{
	const json_t *v = json_object_get(obj, name);

	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_string(v))
		return (int64_t)strtoll(json_string_value(v), NULL, 10);
	return 0;
}

static json_t *
int_json(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRId64, v);
	return json_string(buf);
}

/* The end of the range of keys that start with prefix: the prefix with its
 * last byte below 0xff incremented; "\0" (every key) when there is none. */
static json_t *
range_end_json(const void *key, size_t klen)
{
	unsigned char *end = malloc(klen + 1);
	size_t n = klen;
	json_t *s;

	if (end == NULL)
		return NULL;
	memcpy(end, key, klen);
	while (n > 0 && end[n - 1] == 0xff)
		n--;
	if (n == 0) {
		end[0] = 0;
		n = 1;
	} else
		end[n - 1]++;
	s = b64_json(end, n);
	free(end);
	return s;
}

/* {"key": k} plus "range_end" for a prefix. etcd wants a key: every key
 * is the range from "\0" to "\0". */
static json_t *
key_json(const void *key, size_t klen, int prefix)
{
	json_t *req = json_object();

	if (prefix && klen == 0) {
		if (req != NULL && (json_object_set_new(req, "key", b64_json("", 1)) != 0 ||
				       json_object_set_new(req, "range_end", b64_json("", 1)) != 0)) {
			json_decref(req);
			return NULL;
		}
		return req;
	}

	if (req == NULL || json_object_set_new(req, "key", b64_json(key, klen)) != 0 ||
	    (prefix && json_object_set_new(req, "range_end", range_end_json(key, klen)) != 0)) {
		json_decref(req);
		return NULL;
	}
	return req;
}

void
etcd_kv_free(struct etcd_kv *kv)
{
	if (kv == NULL)
		return;
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof *kv);
}

static int
kv_from_json(const json_t *j, struct etcd_kv *kv)
{
	const char *key = json_string_value(json_object_get(j, "key"));
	const char *value = json_string_value(json_object_get(j, "value"));
	int rc;

	memset(kv, 0, sizeof *kv);
	if (key == NULL) {
		log_error("etcd: a key-value without a key");
		return -EIO;
	}
	if ((rc = b64_decode(key, &kv->key, &kv->key_len)) != 0 ||
	    (rc = b64_decode(value != NULL ? value : "", &kv->value, &kv->value_len)) != 0) {
		if (rc == -EIO)
			log_error("etcd: a key or value that is not base64");
		etcd_kv_free(kv);
		return rc;
	}
	kv->create_revision = int_of(j, "create_revision");
	kv->mod_revision = int_of(j, "mod_revision");
	kv->version = int_of(j, "version");
	kv->lease = int_of(j, "lease");
	return 0;
}

/* ---- requests ---- */

struct buf {
	char *data;
	size_t len;
	int too_big;
};

static size_t
collect(char *ptr, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;
	char *data;

	if (b->len + add > ETCD_REPLY_MAX) {
		b->too_big = 1;
		return 0;
	}
	if ((data = realloc(b->data, b->len + add + 1)) == NULL)
		return 0;
	memcpy(data + b->len, ptr, add);
	b->data = data;
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

/* What etcd's error answer means. */
static int
etcd_errno(long http, const json_t *reply)
{
	const char *msg = json_string_value(json_object_get(reply, "message"));
	int64_t code = int_of(reply, "code");

	if (msg == NULL)
		msg = json_string_value(json_object_get(reply, "error"));
	if (msg == NULL)
		msg = "(no message)";
	if (strstr(msg, "too large") != NULL)
		return -E2BIG;
	if (strstr(msg, "lease not found") != NULL)
		return -ENOENT;
	switch (code) {
	case 3: return -EINVAL;	   /* InvalidArgument */
	case 4: return -ETIMEDOUT; /* DeadlineExceeded */
	case 5: return -ENOENT;	   /* NotFound */
	case 6: return -EEXIST;	   /* AlreadyExists */
	case 7: return -EACCES;	   /* PermissionDenied */
	case 8: return -ENOSPC;	   /* ResourceExhausted */
	case 11: return -ERANGE;   /* OutOfRange: a compacted revision */
	case 14: return -EAGAIN;   /* Unavailable */
	case 16: return -EACCES;   /* Unauthenticated */
	default: return http == 404 ? -ENOENT : -EIO;
	}
}

/* Is a failure of this endpoint one that another endpoint may not have? */
static int
endpoint_failed(CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
	       cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR ||
	       cc == CURLE_SEND_ERROR;
}

static int
curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST: return -ECONNREFUSED;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	default: return -EIO;
	}
}

/* A handle set up for one POST of body to path on endpoint i. */
static CURL *
easy_for(
    etcd_t *e, size_t i, const char *path, const char *body, struct curl_slist *hdr, char *url, size_t ulen)
{
	CURL *h = curl_easy_init();

	if (h == NULL)
		return NULL;
	snprintf(url, ulen, "%s%s", e->urls[i], path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_SHARE, e->share);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, e->timeout_ms);
	return h;
}

/* POST body (a JSON object; reference taken) to path; the answer, when
 * HTTP 200, in *reply (new reference). */
static int
post(etcd_t *e, const char *path, json_t *body, json_t **reply)
{
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	size_t first = atomic_load(&e->cur), k;
	CURLcode cc = CURLE_OK;
	int rc = -ECONNREFUSED;
	char url[1024];

	json_decref(body);
	*reply = NULL;
	if (hdr == NULL || text == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (k = 0; k < e->nurls; k++) {
		size_t i = (first + k) % e->nurls;
		struct buf b = { 0 };
		json_error_t jerr;
		long http = 0;
		json_t *j;
		CURL *h;

		if ((h = easy_for(e, i, path, text, hdr, url, sizeof url)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, e->timeout_ms);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
		cc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
		curl_easy_cleanup(h);
		if (cc != CURLE_OK) {
			free(b.data);
			rc = b.too_big ? -EIO : curl_errno(cc);
			if (b.too_big)
				log_error("etcd: %s: an answer of more than %u bytes", url, ETCD_REPLY_MAX);
			if (endpoint_failed(cc))
				continue;
			log_error("etcd: %s: %s", url, curl_easy_strerror(cc));
			goto out;
		}
		atomic_store(&e->cur, i);
		j = json_loadb(b.data != NULL ? b.data : "", b.len, 0, &jerr);
		free(b.data);
		if (j == NULL || !json_is_object(j)) {
			log_error("etcd: %s: HTTP %ld and an answer that is not a JSON object", url, http);
			json_decref(j);
			rc = -EIO;
			goto out;
		}
		if (http != 200) {
			const char *msg = json_string_value(json_object_get(j, "message"));

			rc = etcd_errno(http, j);
			if (rc != -ENOENT) /* an expired lease is news, not a fault */
				log_error(
				    "etcd: %s: HTTP %ld: %s", url, http, msg != NULL ? msg : "(no message)");
			json_decref(j);
			goto out;
		}
		*reply = j;
		rc = 0;
		goto out;
	}
	log_warn("etcd: no endpoint answered (last: %s: %s)", url, curl_easy_strerror(cc));
out:
	free(text);
	curl_slist_free_all(hdr);
	return rc;
}

/* ---- the key-value API ---- */

static int
range_from_json(const json_t *reply, struct etcd_range *out)
{
	const json_t *kvs = json_object_get(reply, "kvs");
	size_t i;
	int rc;

	memset(out, 0, sizeof *out);
	out->revision = int_of(json_object_get(reply, "header"), "revision");
	out->more = json_is_true(json_object_get(reply, "more"));
	if (kvs == NULL)
		return 0;
	if (!json_is_array(kvs) || (out->kvs = calloc(json_array_size(kvs) + 1, sizeof *out->kvs)) == NULL)
		return json_is_array(kvs) ? -ENOMEM : -EIO;
	for (i = 0; i < json_array_size(kvs); i++) {
		if ((rc = kv_from_json(json_array_get(kvs, i), &out->kvs[i])) != 0) {
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
	json_t *req = key_json(key, klen, prefix), *reply;
	int rc;

	memset(out, 0, sizeof *out);
	if (req == NULL)
		return -ENOMEM;
	if (limit > 0)
		json_object_set_new(req, "limit", int_json(limit));
	if ((rc = post(e, "/v3/kv/range", req, &reply)) != 0)
		return rc;
	rc = range_from_json(reply, out);
	json_decref(reply);
	return rc;
}

int
etcd_put(
    etcd_t *e, const void *key, size_t klen, const void *value, size_t vlen, int64_t lease, int64_t *revision)
{
	json_t *req = key_json(key, klen, 0), *reply;
	int rc;

	if (req == NULL || json_object_set_new(req, "value", b64_json(value, vlen)) != 0) {
		json_decref(req);
		return -ENOMEM;
	}
	if (lease != 0)
		json_object_set_new(req, "lease", int_json(lease));
	if ((rc = post(e, "/v3/kv/put", req, &reply)) != 0)
		return rc;
	if (revision != NULL)
		*revision = int_of(json_object_get(reply, "header"), "revision");
	json_decref(reply);
	return 0;
}

int
etcd_delete(etcd_t *e, const void *key, size_t klen, int prefix, int64_t *deleted)
{
	json_t *req = key_json(key, klen, prefix), *reply;
	int rc;

	if (req == NULL)
		return -ENOMEM;
	if ((rc = post(e, "/v3/kv/deleterange", req, &reply)) != 0)
		return rc;
	if (deleted != NULL)
		*deleted = int_of(reply, "deleted");
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
	if ((rc = post(e, "/v3/kv/txn", req, &reply)) != 0)
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
	json_t *put = key_json(key, klen, 0), *reply = NULL, *kvs;
	int ok = 0, rc;

	if (existing != NULL)
		memset(existing, 0, sizeof *existing);
	if (put == NULL || json_object_set_new(put, "value", b64_json(value, vlen)) != 0) {
		json_decref(put);
		return -ENOMEM;
	}
	if (lease != 0)
		json_object_set_new(put, "lease", int_json(lease));
	rc = txn(e,
	    json_pack("{s:o,s:s,s:s,s:s}", "key", b64_json(key, klen), "target", "CREATE", "result", "EQUAL",
		"create_revision", "0"),
	    json_pack("{s:o}", "request_put", put),
	    json_pack("{s:o}", "request_range", key_json(key, klen, 0)), &ok, &reply);
	if (rc != 0)
		return rc;
	if (!ok) {
		rc = -EEXIST;
		/* responses[0].response_range.kvs[0]: what is there now. */
		kvs = json_object_get(
		    json_object_get(json_array_get(json_object_get(reply, "responses"), 0), "response_range"),
		    "kvs");
		if (existing != NULL && json_array_size(kvs) > 0 &&
		    kv_from_json(json_array_get(kvs, 0), existing) != 0)
			memset(existing, 0, sizeof *existing);
	}
	json_decref(reply);
	return rc;
}

int
etcd_delete_if(etcd_t *e, const void *key, size_t klen, int64_t mod_revision)
{
	json_t *cmp = json_pack("{s:o,s:s,s:s,s:o}", "key", b64_json(key, klen), "target", "MOD", "result",
	    "EQUAL", "mod_revision", int_json(mod_revision));
	int ok = 0, rc;

	rc = txn(e, cmp, json_pack("{s:o}", "request_delete_range", key_json(key, klen, 0)), NULL, &ok, NULL);
	if (rc != 0)
		return rc;
	return ok ? 0 : -ESTALE;
}

int
etcd_compact(etcd_t *e, int64_t revision)
{
	json_t *reply;
	int rc = post(e, "/v3/kv/compaction",
	    json_pack("{s:o,s:b}", "revision", int_json(revision), "physical", 1), &reply);

	json_decref(reply);
	return rc;
}

/* ---- leases ---- */

int
etcd_lease_grant(etcd_t *e, int64_t ttl, int64_t *id)
{
	json_t *reply;
	int rc = post(e, "/v3/lease/grant", json_pack("{s:o}", "TTL", int_json(ttl)), &reply);

	if (rc != 0)
		return rc;
	*id = int_of(reply, "ID");
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
	int rc = post(e, "/v3/lease/keepalive", json_pack("{s:o}", "ID", int_json(id)), &reply);

	if (rc != 0)
		return rc;
	/* The gateway streams keepalives: one {"result": ...} per request. An
	 * expired or unknown lease answers without a TTL. */
	result = json_object_get(reply, "result");
	if (result == NULL)
		result = reply;
	rc = json_object_get(result, "TTL") == NULL || int_of(result, "TTL") <= 0 ? -ENOENT : 0;
	if (rc == 0 && ttl != NULL)
		*ttl = int_of(result, "TTL");
	json_decref(reply);
	return rc;
}

int
etcd_lease_revoke(etcd_t *e, int64_t id)
{
	json_t *reply;
	int rc = post(e, "/v3/lease/revoke", json_pack("{s:o}", "ID", int_json(id)), &reply);

	json_decref(reply);
	return rc;
}

/* ---- watch ---- */

struct watch {
	etcd_watch_fn fn;
	void *arg;
	const atomic_int *stop;
	struct buf line; /* what came since the last newline */
	int created;
	int rc;		   /* the callback's, or ours: ends the transfer */
	int64_t compacted; /* canceled by a compaction at this revision */
};

/* One line of the stream: {"result": {...}} or {"error": ...}. */
static int
watch_line(struct watch *w, const char *text, size_t len)
{
	json_t *j, *result, *events;
	json_error_t jerr;
	size_t i;
	int rc = 0;

	if ((j = json_loadb(text, len, 0, &jerr)) == NULL) {
		log_error("etcd: watch: a line that is not JSON: %s", jerr.text);
		return -EIO;
	}
	if ((result = json_object_get(j, "result")) == NULL) {
		const json_t *err = json_object_get(j, "error");

		log_error("etcd: watch: %s", json_is_string(err) ? json_string_value(err)
					     : json_string_value(json_object_get(err, "message")) != NULL
						 ? json_string_value(json_object_get(err, "message"))
						 : "an answer without a result");
		json_decref(j);
		return -EIO;
	}
	if (json_is_true(json_object_get(result, "created")))
		w->created = 1;
	if (json_is_true(json_object_get(result, "canceled"))) {
		w->compacted = int_of(result, "compact_revision");
		json_decref(j);
		return w->compacted > 0 ? -ECANCELED : -EIO;
	}
	events = json_object_get(result, "events");
	for (i = 0; rc == 0 && i < json_array_size(events); i++) {
		const json_t *ev = json_array_get(events, i);
		const char *type = json_string_value(json_object_get(ev, "type"));
		struct etcd_event e = { 0 };

		/* A PUT has no "type": zero values are left out. */
		e.type = type != NULL && strcmp(type, "DELETE") == 0 ? ETCD_DELETE : ETCD_PUT;
		if ((rc = kv_from_json(json_object_get(ev, "kv"), &e.kv)) != 0)
			break;
		/* The header's revision is the store's when it answered. */
		e.revision = e.kv.mod_revision;
		rc = w->fn(w->arg, &e);
		etcd_kv_free(&e.kv);
	}
	json_decref(j);
	return rc;
}

static size_t
watch_data(char *ptr, size_t size, size_t n, void *arg)
{
	struct watch *w = arg;
	size_t add = size * n;
	char *nl;

	if (collect(ptr, size, n, &w->line) != add) {
		w->rc = -ENOMEM;
		return 0;
	}
	while ((nl = memchr(w->line.data, '\n', w->line.len)) != NULL) {
		size_t len = (size_t)(nl - w->line.data);

		if (len > 0 && (w->rc = watch_line(w, w->line.data, len)) != 0)
			return 0;
		memmove(w->line.data, nl + 1, w->line.len - len - 1);
		w->line.len -= len + 1;
	}
	return add;
}

static int
watch_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct watch *w = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return w->stop != NULL && atomic_load(w->stop) ? 1 : 0;
}

int
etcd_watch(etcd_t *e, const void *key, size_t klen, int prefix, int64_t start, etcd_watch_fn fn, void *arg,
    const atomic_int *stop, int64_t *compacted)
{
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	json_t *create = key_json(key, klen, prefix);
	struct watch w = { .fn = fn, .arg = arg, .stop = stop };
	char url[1024], *text = NULL;
	CURLcode cc;
	CURL *h;
	int rc;

	if (hdr == NULL || create == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (start > 0)
		json_object_set_new(create, "start_revision", int_json(start));
	if ((text = json_dumps(json_pack("{s:o}", "create_request", create), JSON_COMPACT)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	create = NULL;
	/* One endpoint: the one that answered last. A failed watch is
	 * reported; the caller re-reads and watches again, maybe elsewhere. */
	if ((h = easy_for(e, atomic_load(&e->cur) % e->nurls, "/v3/watch", text, hdr, url, sizeof url)) ==
	    NULL) {
		rc = -ENOMEM;
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, watch_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &w);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, watch_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &w);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
	cc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	if (w.rc == -ECANCELED && compacted != NULL)
		*compacted = w.compacted;
	if (w.rc != 0)
		rc = w.rc;
	else if (cc == CURLE_ABORTED_BY_CALLBACK || cc == CURLE_OK)
		rc = cc == CURLE_OK ? -ECONNRESET : 0; /* the server ended it, or we stopped */
	else {
		rc = curl_errno(cc) == -EIO ? -ECONNRESET : curl_errno(cc);
		log_warn("etcd: watch on %s ended: %s", url, curl_easy_strerror(cc));
	}
out:
	json_decref(create);
	free(text);
	free(w.line.data);
	curl_slist_free_all(hdr);
	return rc;
}
