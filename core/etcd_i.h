/*
 * etcd_i: what the etcd client's files share: the handle's body, and the
 * request plumbing and JSON forms of etcd.c.
 */
#ifndef VFS_ETCD_I_H
#define VFS_ETCD_I_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "etcd.h"

#define ETCD_REPLY_MAX (64u << 20) /* more is not etcd talking */

struct etcd {
	char **urls; /* without a trailing '/' */
	size_t nurls;
	atomic_size_t cur; /* the endpoint to try first */
	long timeout_ms;
	CURLSH *share;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
};

/* An answer being received. */
struct etcd_buf {
	char *data;
	size_t len;
	int too_big; /* over ETCD_REPLY_MAX */
};

/* libcurl's write callback into a struct etcd_buf. */
size_t etcd_collect(char *ptr, size_t size, size_t n, void *arg);
/* POST body (a JSON object; reference taken) to path; the answer, when
 * HTTP 200, in *reply (new reference). */
int etcd_post(etcd_t *e, const char *path, json_t *body, json_t **reply);
/* A handle set up for one POST of body to path on endpoint i (url: a
 * buffer of ulen bytes it is formatted into); caller cleans up. */
CURL *etcd_easy(
    etcd_t *e, size_t i, const char *path, const char *body, struct curl_slist *hdr, char *url, size_t ulen);
/* -errno for a libcurl failure. */
int etcd_curl_errno(CURLcode cc);
/* base64 of n bytes as a new JSON string. */
json_t *etcd_b64_json(const void *data, size_t n);
/* {"key": k}, plus "range_end" for a prefix. */
json_t *etcd_key_json(const void *key, size_t klen, int prefix);
/* An int64 as the gateway writes it (a string), and back; absent is 0. */
json_t *etcd_int_json(int64_t v);
int64_t etcd_int_of(const json_t *obj, const char *name);
/* A key-value of an answer, decoded; free with etcd_kv_free. */
int etcd_kv_from_json(const json_t *j, struct etcd_kv *kv);

#endif
