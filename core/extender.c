/*
 * extender: see extender.h. A request is parsed whole first (no etcd), then
 * the cluster's keys it needs are read: the member keys (one range), and
 * per required name its name key and its object's key.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "etcd.h"
#include "extender.h"
#include "hmap.h"
#include "id.h"
#include "log.h"
#include "util.h"
#include "vec.h"

#define NAME_MAX_LEN 255
#define INSTANCES 4096 /* id.h: 12 instance bits */

struct extender {
	etcd_t *etcd;
	char prefix[256]; /* /vineyardfs/<cluster>/ */
	enum extender_filter filter;
};

/* A field of a Go type: the exact name, else the first whose name differs
 * only in case (as encoding/json decodes). */
static json_t *
go_field(const json_t *o, const char *name)
{
	const char *key;
	json_t *v;

	if ((v = json_object_get(o, name)) != NULL)
		return v;
	json_object_foreach ((json_t *)o, key, v)
		if (strcasecmp(key, name) == 0)
			return v;
	return NULL;
}

/* Append a copy of s (len bytes) to v; with once, not if it is there. */
static int
push(char ***v, size_t *n, size_t *cap, const char *s, size_t len, int once)
{
	size_t i;

	for (i = 0; once && i < *n; i++)
		if (strlen((*v)[i]) == len && memcmp((*v)[i], s, len) == 0)
			return 0;
	if (VEC_PUSH_ROOM(*v, *n, *cap) != 0 || ((*v)[*n] = strndup(s, len)) == NULL)
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* The names in an annotation "a, b,c": a name is a published name (no
 * '/', 1 to 255 bytes); others cannot name anything and are left out. */
static int
required_add(struct extender_args *a, const char *list)
{
	const char *p = list, *end;
	int rc;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		for (end = p; *end != '\0' && *end != ','; end++)
			;
		{
			const char *e = end;

			while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (e > p && (size_t)(e - p) <= NAME_MAX_LEN &&
			    memchr(p, '/', (size_t)(e - p)) == NULL &&
			    (rc = push(
				 &a->required, &a->nrequired, &a->required_cap, p, (size_t)(e - p), 1)) != 0)
				return rc;
		}
		p = end;
	}
	return 0;
}

void
extender_args_free(struct extender_args *a)
{
	size_t i;

	for (i = 0; i < a->nrequired; i++)
		free(a->required[i]);
	for (i = 0; i < a->nnodes; i++)
		free(a->nodes[i]);
	free(a->required);
	free(a->nodes);
	json_decref(a->doc);
	memset(a, 0, sizeof *a);
}

static int
parse_pod(const json_t *pod, struct extender_args *a, char *err, size_t errlen)
{
	static const char *const keys[] = { EXTENDER_ANNOTATION, EXTENDER_V6D_ANNOTATION };
	const json_t *meta, *ann, *v;
	const char *name, *ns;
	size_t i;
	int rc;

	if (!json_is_object(pod))
		return util_fail(err, errlen, -EINVAL, "no Pod object in the request");
	meta = json_object_get(pod, "metadata");
	if (meta != NULL && !json_is_object(meta))
		return util_fail(err, errlen, -EINVAL, "the Pod's metadata is not an object");
	name = json_string_value(json_object_get(meta, "name"));
	ns = json_string_value(json_object_get(meta, "namespace"));
	snprintf(a->pod, sizeof a->pod, "%s/%s", ns ? ns : "default", name ? name : "(no name)");
	ann = json_object_get(meta, "annotations");
	if (ann == NULL || json_is_null(ann))
		return 0;
	if (!json_is_object(ann))
		return util_fail(err, errlen, -EINVAL, "the Pod's annotations are not an object");
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if ((v = json_object_get(ann, keys[i])) == NULL)
			continue;
		if (!json_is_string(v))
			return util_fail(err, errlen, -EINVAL, "annotation %s is not a string", keys[i]);
		if ((rc = required_add(a, json_string_value(v))) != 0)
			return rc;
	}
	return 0;
}

static int
parse_nodes(const json_t *doc, struct extender_args *a, char *err, size_t errlen)
{
	json_t *names = go_field(doc, "NodeNames"), *list = go_field(doc, "Nodes"), *items, *v;
	size_t i;
	int rc;

	if (names != NULL && !json_is_null(names)) {
		if (!json_is_array(names))
			return util_fail(err, errlen, -EINVAL, "NodeNames is not an array");
		json_array_foreach (names, i, v) {
			if (!json_is_string(v) || json_string_length(v) == 0)
				return util_fail(
				    err, errlen, -EINVAL, "NodeNames[%zu] is not a node name", i);
			if ((rc = push(&a->nodes, &a->nnodes, &a->nodes_cap, json_string_value(v),
				 json_string_length(v), 0)) != 0)
				return rc;
		}
		return 0;
	}
	if (list == NULL || json_is_null(list))
		return util_fail(err, errlen, -EINVAL, "neither NodeNames nor Nodes in the request");
	items = json_object_get(list, "items");
	if (!json_is_object(list) || (items != NULL && !json_is_null(items) && !json_is_array(items)))
		return util_fail(err, errlen, -EINVAL, "Nodes is not a NodeList");
	a->node_list = list;
	json_array_foreach (items, i, v) {
		const json_t *name = json_object_get(json_object_get(v, "metadata"), "name");

		if (!json_is_string(name) || json_string_length(name) == 0)
			return util_fail(err, errlen, -EINVAL, "Nodes.items[%zu] has no metadata.name", i);
		if ((rc = push(&a->nodes, &a->nnodes, &a->nodes_cap, json_string_value(name),
			 json_string_length(name), 0)) != 0)
			return rc;
	}
	return 0;
}

int
extender_args_parse(const char *body, size_t len, struct extender_args *a, char *err, size_t errlen)
{
	json_error_t jerr;
	int rc;

	memset(a, 0, sizeof *a);
	if (len > EXTENDER_MAX_BODY)
		return util_fail(err, errlen, -EINVAL, "the body is over %u bytes", EXTENDER_MAX_BODY);
	if ((a->doc = json_loadb(body, len, 0, &jerr)) == NULL)
		return util_fail(err, errlen, -EINVAL, "not JSON: %s at line %d, column %d", jerr.text,
		    jerr.line, jerr.column);
	if (!json_is_object(a->doc))
		rc = util_fail(err, errlen, -EINVAL, "the body is not an ExtenderArgs object");
	else if ((rc = parse_pod(go_field(a->doc, "Pod"), a, err, errlen)) == 0)
		rc = parse_nodes(a->doc, a, err, errlen);
	if (rc == -ENOMEM)
		util_fail(err, errlen, rc, "out of memory");
	if (rc != 0)
		extender_args_free(a);
	return rc;
}

int
extender_create(const char *etcd, const char *cluster, enum extender_filter filter, extender_t **out)
{
	struct extender *x;
	int rc;

	if (cluster == NULL || *cluster == '\0' || strchr(cluster, '/') != NULL || strlen(cluster) > 200)
		return -EINVAL;
	if ((x = calloc(1, sizeof *x)) == NULL)
		return -ENOMEM;
	snprintf(x->prefix, sizeof x->prefix, "/vineyardfs/%s/", cluster);
	x->filter = filter;
	if ((rc = etcd_open(etcd, 2000, &x->etcd)) != 0) {
		free(x);
		return rc;
	}
	*out = x;
	return 0;
}

void
extender_destroy(extender_t *x)
{
	if (x == NULL)
		return;
	etcd_close(x->etcd);
	free(x);
}

/* What etcd says: the node of each live member, and the bytes each
 * instance holds of the required objects. */
struct holdings {
	char *node[INSTANCES]; /* NULL: no live member */
	uint64_t bytes[INSTANCES];
	uint64_t total;
	struct hmap seen; /* blob ids counted */
};

static void
holdings_free(struct holdings *h)
{
	unsigned i;

	for (i = 0; i < INSTANCES; i++)
		free(h->node[i]);
	hmap_destroy(&h->seen);
}

static int
read_members(extender_t *x, struct holdings *h)
{
	char key[300];
	struct etcd_range r;
	size_t i;
	int rc;

	snprintf(key, sizeof key, "%smembers/", x->prefix);
	if ((rc = etcd_get(x->etcd, key, strlen(key), 1, 0, &r)) != 0)
		return rc;
	for (i = 0; i < r.n; i++) {
		json_t *v = json_loadb(r.kvs[i].value, r.kvs[i].value_len, 0, NULL);
		json_int_t inst = json_integer_value(json_object_get(v, "instance"));
		const char *node = json_string_value(json_object_get(v, "node"));

		if (node != NULL && inst >= 0 && inst < INSTANCES && h->node[inst] == NULL)
			h->node[inst] = strdup(node);
		json_decref(v);
	}
	etcd_range_free(&r);
	return 0;
}

/* One value of key, NUL-terminated (caller frees), or NULL: absent. */
static int
read_one(extender_t *x, const char *key, char **value)
{
	struct etcd_range r;
	int rc;

	*value = NULL;
	if ((rc = etcd_get(x->etcd, key, strlen(key), 0, 1, &r)) != 0)
		return rc;
	if (r.n > 0)
		*value = strndup(r.kvs[0].value, r.kvs[0].value_len);
	etcd_range_free(&r);
	return r.n > 0 && *value == NULL ? -ENOMEM : 0;
}

/* Count the blobs of the object named name. */
static int
read_object(extender_t *x, const char *name, struct holdings *h)
{
	char key[600], *value;
	const char *oid, *bid;
	json_t *doc, *blobs, *info;
	int rc;

	snprintf(key, sizeof key, "%snames/%s", x->prefix, name);
	if ((rc = read_one(x, key, &value)) != 0 || value == NULL)
		return rc; /* not published: nothing */
	doc = json_loads(value, JSON_DECODE_ANY, NULL);
	free(value);
	oid = json_string_value(doc);
	if (oid == NULL || strlen(oid) > 32) {
		json_decref(doc);
		return 0;
	}
	snprintf(key, sizeof key, "%sobjects/%s", x->prefix, oid);
	json_decref(doc);
	if ((rc = read_one(x, key, &value)) != 0 || value == NULL)
		return rc;
	doc = json_loads(value, 0, NULL);
	free(value);
	blobs = json_object_get(doc, "blobs");
	json_object_foreach (blobs, bid, info) {
		uint64_t id, size = (uint64_t)json_integer_value(json_object_get(info, "size"));

		if (id_parse(bid, &id) != 0 || !id_is_blob(id) || hmap_find(&h->seen, id) != NULL)
			continue;
		if ((rc = hmap_insert(&h->seen, id, (void *)1)) != 0)
			break;
		h->bytes[id_instance(id)] += size;
		h->total += size;
	}
	json_decref(doc);
	return rc;
}

/* The bytes of the required objects held on node. */
static uint64_t
held_on(const struct holdings *h, const char *node)
{
	uint64_t sum = 0;
	unsigned i;

	for (i = 0; i < INSTANCES; i++)
		if (h->bytes[i] > 0 && h->node[i] != NULL && strcmp(h->node[i], node) == 0)
			sum += h->bytes[i];
	return sum;
}

static int
live_on(const struct holdings *h, const char *node)
{
	unsigned i;

	for (i = 0; i < INSTANCES; i++)
		if (h->node[i] != NULL && strcmp(h->node[i], node) == 0)
			return 1;
	return 0;
}

static json_t *
prioritize(const struct extender_args *a, const struct holdings *h)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; list != NULL && i < a->nnodes; i++) {
		uint64_t held = held_on(h, a->nodes[i]);
		/* Rounded to the nearest: 0.95 of the bytes is 10, 0.04 is 0. */
		int score =
		    h->total == 0 ? 0 : (int)((held * 2 * EXTENDER_MAX_PRIORITY + h->total) / (2 * h->total));

		json_array_append_new(list, json_pack("{s:s, s:i}", "Host", a->nodes[i], "Score", score));
	}
	return list;
}

static json_t *
filter(extender_t *x, const struct extender_args *a, const struct holdings *h, const char *error)
{
	json_t *names = json_array(), *items = json_array(), *failed = json_object(), *r;
	json_t *src = json_object_get(a->node_list, "items");
	size_t i;

	for (i = 0; i < a->nnodes; i++) {
		int keep = error == NULL && (x->filter == EXTENDER_FILTER_ALL || live_on(h, a->nodes[i]));

		if (keep) {
			json_array_append_new(names, json_string(a->nodes[i]));
			if (a->node_list != NULL)
				json_array_append(items, json_array_get(src, i));
		} else if (error == NULL)
			json_object_set_new(
			    failed, a->nodes[i], json_string("no live vineyardfs member on this node"));
	}
	r = json_pack("{s:o, s:o, s:o, s:{}, s:s}", "Nodes", json_null(), "NodeNames", json_null(),
	    "FailedNodes", failed, "FailedAndUnresolvableNodes", "Error", error != NULL ? error : "");
	if (r != NULL && error == NULL) {
		if (a->node_list != NULL) {
			json_t *list = json_copy(a->node_list); /* its other fields, shallow */

			json_object_set(list, "items", items);
			json_object_set_new(r, "Nodes", list);
		} else
			json_object_set(r, "NodeNames", names);
	}
	json_decref(names);
	json_decref(items);
	return r;
}

static unsigned
text(char **reply, size_t *len, unsigned status, const char *msg)
{
	if (asprintf(reply, "%s\n", msg) < 0) {
		*reply = NULL;
		*len = 0;
		return 500;
	}
	*len = strlen(*reply);
	return status;
}

unsigned
extender_handle(extender_t *x, const char *verb, const char *body, size_t len, char **reply, size_t *replylen)
{
	struct extender_args a;
	struct holdings *h = NULL;
	char err[512], etcd_err[300] = "";
	json_t *out = NULL;
	unsigned status;
	size_t i;
	int rc = 0, is_filter = strcmp(verb, "filter") == 0;

	*reply = NULL;
	*replylen = 0;
	if (!is_filter && strcmp(verb, "prioritize") != 0)
		return text(
		    reply, replylen, 404, "no such verb: this extender answers filter and prioritize");
	if (extender_args_parse(body, len, &a, err, sizeof err) != 0) {
		log_warn("scheduler extender: %s: a bad request: %s", verb, err);
		return text(reply, replylen, 400, err);
	}
	if ((h = calloc(1, sizeof *h)) == NULL) {
		extender_args_free(&a);
		return text(reply, replylen, 500, "out of memory");
	}
	hmap_init(&h->seen);
	rc = read_members(x, h);
	for (i = 0; rc == 0 && !is_filter && i < a.nrequired; i++)
		rc = read_object(x, a.required[i], h);
	if (rc != 0) {
		snprintf(etcd_err, sizeof etcd_err, "cannot read the cluster's keys in etcd (%s): %s",
		    etcd_endpoint(x->etcd), strerror(-rc));
		log_warn("scheduler extender: %s of pod %s: %s", verb, a.pod, etcd_err);
	}
	if (is_filter)
		out = filter(x, &a, h, rc != 0 ? etcd_err : NULL);
	else if (rc == 0)
		out = prioritize(&a, h);
	if (!is_filter && rc != 0)
		status = text(reply, replylen, 503, etcd_err);
	else if (out == NULL || (*reply = json_dumps(out, JSON_COMPACT)) == NULL)
		status = text(reply, replylen, 500, "out of memory");
	else {
		*replylen = strlen(*reply);
		status = 200;
		log_debug("scheduler extender: %s of pod %s (%zu objects, %zu nodes): %s", verb, a.pod,
		    a.nrequired, a.nnodes, *reply);
	}
	json_decref(out);
	holdings_free(h);
	free(h);
	extender_args_free(&a);
	return status;
}
