/*
 * etcd_watch: a watch is one long POST whose answer is a stream of JSON
 * lines, one per batch of events; it ends when the caller's callback or
 * stop flag says so, when etcd cancels it (a compaction), or when the
 * connection fails (see etcd.h).
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

/* ---- watch ---- */

struct watch {
	etcd_watch_fn fn;
	void *arg;
	const atomic_int *stop;
	struct etcd_buf line; /* what came since the last newline */
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
		w->compacted = etcd_int_of(result, "compact_revision");
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
		if ((rc = etcd_kv_from_json(json_object_get(ev, "kv"), &e.kv)) != 0)
			break;
		/* The header's revision is the store's when it answered. */
		e.revision = e.kv.mod_revision;
		e.last = i + 1 == json_array_size(events);
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

	if (etcd_collect(ptr, size, n, &w->line) != add) {
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
	json_t *create = etcd_key_json(key, klen, prefix), *req = NULL;
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
		json_object_set_new(create, "start_revision", etcd_int_json(start));
	req = json_pack("{s:o}", "create_request", create); /* takes create */
	create = NULL;
	if (req == NULL || (text = json_dumps(req, JSON_COMPACT)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* One endpoint: the one that answered last. A failed watch is
	 * reported; the caller re-reads and watches again, maybe elsewhere. */
	if ((h = etcd_easy(e, atomic_load(&e->cur) % e->nurls, "/v3/watch", text, hdr, url, sizeof url)) ==
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
		rc = etcd_curl_errno(cc) == -EIO ? -ECONNRESET : etcd_curl_errno(cc);
		log_warn("etcd: watch on %s ended: %s", url, curl_easy_strerror(cc));
	}
out:
	json_decref(create);
	json_decref(req);
	free(text);
	free(w.line.data);
	curl_slist_free_all(hdr);
	return rc;
}
