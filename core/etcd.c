/*
 * etcd: the v3 JSON gateway client (see etcd.h): the handle, and the one
 * way a request goes out. Each call builds one JSON request, posts it with
 * libcurl to the current endpoint (the next ones on a connection failure),
 * and gets the answer back as JSON; etcd_kv.c and etcd_watch.c turn that
 * into C values. The easy handles share one connection cache, so that
 * calls from any thread reuse open connections.
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
#include "etcd_i.h"
#include "log.h"
#include "util.h"

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
json_t *
etcd_b64_json(const void *data, size_t n)
{
	char *buf = util_base64(data, n);
	json_t *s = buf != NULL ? json_string(buf) : NULL;

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
int64_t
etcd_int_of(const json_t *obj, const char *name)
{
	const json_t *v = json_object_get(obj, name);

	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_string(v))
		return (int64_t)strtoll(json_string_value(v), NULL, 10);
	return 0;
}

json_t *
etcd_int_json(int64_t v)
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
	s = etcd_b64_json(end, n);
	free(end);
	return s;
}

/* {"key": k} plus "range_end" for a prefix. etcd wants a key: every key
 * is the range from "\0" to "\0". */
json_t *
etcd_key_json(const void *key, size_t klen, int prefix)
{
	json_t *req = json_object();

	if (prefix && klen == 0) {
		if (req != NULL && (json_object_set_new(req, "key", etcd_b64_json("", 1)) != 0 ||
				       json_object_set_new(req, "range_end", etcd_b64_json("", 1)) != 0)) {
			json_decref(req);
			return NULL;
		}
		return req;
	}

	if (req == NULL || json_object_set_new(req, "key", etcd_b64_json(key, klen)) != 0 ||
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

int
etcd_kv_from_json(const json_t *j, struct etcd_kv *kv)
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
	kv->create_revision = etcd_int_of(j, "create_revision");
	kv->mod_revision = etcd_int_of(j, "mod_revision");
	kv->version = etcd_int_of(j, "version");
	kv->lease = etcd_int_of(j, "lease");
	return 0;
}

/* ---- requests ---- */

size_t
etcd_collect(char *ptr, size_t size, size_t n, void *arg)
{
	struct etcd_buf *b = arg;
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
	int64_t code = etcd_int_of(reply, "code");

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

int
etcd_curl_errno(CURLcode cc)
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
CURL *
etcd_easy(
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
int
etcd_post(etcd_t *e, const char *path, json_t *body, json_t **reply)
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
		struct etcd_buf b = { 0 };
		json_error_t jerr;
		long http = 0;
		json_t *j;
		CURL *h;

		if ((h = etcd_easy(e, i, path, text, hdr, url, sizeof url)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, e->timeout_ms);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, etcd_collect);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
		cc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
		curl_easy_cleanup(h);
		if (cc != CURLE_OK) {
			free(b.data);
			rc = b.too_big ? -EIO : etcd_curl_errno(cc);
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
	/* Debug only: callers retry while etcd is away and say so once. */
	log_debug("etcd: no endpoint answered (last: %s: %s)", url, curl_easy_strerror(cc));
out:
	free(text);
	curl_slist_free_all(hdr);
	return rc;
}
