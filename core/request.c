/*
 * request: see request.h. Each operation checks the types of its
 * arguments before calling the catalog, and every path ends in a reply.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arrow_ctl.h"
#include "id.h"
#include "metrics.h"
#include "object.h"
#include "request.h"
#include "snapshot.h"
#include "catalog_spill.h"
#include "cluster.h"
#include "util.h"

static const char *
errno_name(int err)
{
	switch (err) {
	case EINVAL: return "EINVAL";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case EBUSY: return "EBUSY";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC";
	case E2BIG: return "E2BIG";
	case ENOSYS: return "ENOSYS";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ENOTDIR: return "ENOTDIR";
	case EROFS: return "EROFS";
	case ENOTSUP: return "ENOTSUP";
	case EREMOTE: return "EREMOTE";
	case EHOSTDOWN: return "EHOSTDOWN";
	case ENOTCONN: return "ENOTCONN";
	case EAGAIN: return "EAGAIN";
	case EINPROGRESS: return "EINPROGRESS";
	default: return "EIO";
	}
}

static json_t *
failure(int err, const char *message)
{
	return json_pack(
	    "{s:b, s:i, s:s, s:s}", "ok", 0, "errno", err, "error", errno_name(err), "message", message);
}

/* A global object (catalog_object_global) is published as it is made, so
 * that the members whose objects it holds see it: queued like publish,
 * with no wait on etcd. Its state goes into reply ("queued", or
 * "unpublished" with why when the queue refused it: the object stays, and
 * a publish request can try again). */
static void
publish_global(catalog_t *c, uint64_t id, cluster_t *cl, json_t *reply)
{
	char msg[200];
	int rc;

	if (catalog_object_global(c, id) != 1)
		return;
	json_object_set_new(reply, "global", json_true());
	/* No cluster: no remote records, so no global object made now; one
	 * from before a mount without --etcd stays local until the next. */
	if (cl == NULL)
		rc = -ENOTCONN;
	else if ((rc = cluster_publish(cl, id)) == 0) {
		json_object_set_new(reply, "state", json_string("queued"));
		return;
	}
	snprintf(msg, sizeof msg, "created, but its publish could not be queued: %s", strerror(-rc));
	json_object_set_new(reply, "state", json_string("unpublished"));
	json_object_set_new(reply, "message", json_string(msg));
}

static json_t *
op_create(catalog_t *c, uid_t uid, gid_t gid, const json_t *req, cluster_t *cl)
{
	const json_t *typename = json_object_get(req, "typename"), *fields = json_object_get(req, "fields"),
		     *members = json_object_get(req, "members"), *name = json_object_get(req, "name"),
		     *mode = json_object_get(req, "mode");
	char err[512], ids[ID_STR_LEN + 1];
	json_int_t m = 0644;
	json_t *reply;
	uint64_t id;
	int rc;

	/* null is as good as absent for the optional arguments. */
	fields = json_is_null(fields) ? NULL : fields;
	members = json_is_null(members) ? NULL : members;
	name = json_is_null(name) ? NULL : name;
	mode = json_is_null(mode) ? NULL : mode;

	if (!json_is_string(typename))
		return failure(EINVAL, "create: typename must be a string");
	if (fields != NULL && !json_is_object(fields))
		return failure(EINVAL, "create: fields must be an object");
	if (members != NULL && !json_is_object(members))
		return failure(EINVAL, "create: members must be an object of name: id");
	if (name != NULL && !json_is_string(name))
		return failure(EINVAL, "create: name must be a string");
	if (mode != NULL) {
		if (!json_is_integer(mode) || (m = json_integer_value(mode)) < 0 || m > 07777)
			return failure(EINVAL, "create: mode must be an integer from 0 to 07777");
	}
	rc = catalog_create_object(c, json_string_value(typename), fields, members, json_string_value(name),
	    uid, gid, (mode_t)m, &id, err, sizeof err);
	if (rc != 0)
		return failure(-rc, err[0] ? err : strerror(-rc));
	id_format(id, ids);
	if ((reply = json_pack("{s:b, s:s}", "ok", 1, "id", ids)) != NULL)
		publish_global(c, id, cl, reply);
	return reply;
}

/* The id at key of req, or -EINVAL with a failure reply in *reply. */
static int
id_arg(const json_t *req, const char *key, uint64_t *id, json_t **reply)
{
	const char *s = json_string_value(json_object_get(req, key));
	char msg[128];

	if (s != NULL && id_parse(s, id) == 0)
		return 0;
	snprintf(msg, sizeof msg, "%s must be an id (o… or b…)", key);
	*reply = failure(EINVAL, msg);
	return -EINVAL;
}

static json_t *
result(int rc)
{
	return rc == 0 ? json_pack("{s:b}", "ok", 1) : failure(-rc, strerror(-rc));
}

static json_t *
op_delete(catalog_t *c, uid_t uid, const json_t *req)
{
	const json_t *deep = json_object_get(req, "deep");
	json_t *reply;
	uint64_t id;

	if (id_arg(req, "id", &id, &reply) != 0)
		return reply;
	if (deep != NULL && !json_is_null(deep) && !json_is_boolean(deep))
		return failure(EINVAL, "delete: deep must be true or false");
	return result(catalog_delete_object(c, id, uid, json_is_false(deep) ? 0 : CATALOG_DELETE_DEEP));
}

static json_t *
op_name(catalog_t *c, uid_t uid, const json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	json_t *reply;
	uint64_t id;

	if (id_arg(req, "id", &id, &reply) != 0)
		return reply;
	if (name == NULL)
		return failure(EINVAL, "name: a string is needed");
	return result(catalog_name_add(c, id, name, uid));
}

static json_t *
op_unname(catalog_t *c, uid_t uid, const json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "name"));

	if (name == NULL)
		return failure(EINVAL, "unname: a string name is needed");
	return result(catalog_name_remove(c, name, uid));
}

/* The reply to a wait whose name is ready, or NULL. */
static json_t *
wait_ready(catalog_t *c, const char *name)
{
	char ids[ID_STR_LEN + 1];
	uint64_t id;

	if (catalog_name_ready(c, name, &id) != 0)
		return NULL;
	id_format(id, ids);
	return json_pack("{s:b, s:s}", "ok", 1, "id", ids);
}

static json_t *
op_wait(catalog_t *c, const json_t *req, struct request_wait *w)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	const json_t *timeout = json_object_get(req, "timeout_ms");
	json_t *reply;

	if (name == NULL || catalog_name_check(name) != 0)
		return failure(EINVAL, "wait: name must be a valid name (1 to 255 bytes, no '/')");
	if (timeout != NULL && !json_is_null(timeout) &&
	    (!json_is_integer(timeout) || json_integer_value(timeout) < 0))
		return failure(EINVAL, "wait: timeout_ms must be a non-negative integer or null");
	if ((reply = wait_ready(c, name)) != NULL)
		return reply;
	w->timeout_ms = json_is_integer(timeout) ? (long long)json_integer_value(timeout) : -1;
	if (w->timeout_ms == 0)
		return failure(ETIMEDOUT, "wait: no sealed object by that name");
	snprintf(w->name, sizeof w->name, "%s", name);
	w->kind = REQUEST_WAIT_NAME;
	w->pending = 1;
	return NULL;
}

/* The reply to a stream_next whose object, end or failure is there, or
 * NULL while it must wait. */
static json_t *
next_ready(streams_t *s, const char *name, unsigned index)
{
	char ids[ID_STR_LEN + 1], msg[256];
	struct stream_attr a;
	uint64_t id;
	int rc = streams_next(s, name, index, &id);

	if (rc == -EAGAIN)
		return NULL;
	if (rc == 1) {
		id_format(id, ids);
		return json_pack("{s:b, s:s, s:i}", "ok", 1, "id", ids, "index", (int)index);
	}
	if (rc == 0)
		return json_pack("{s:b, s:b}", "ok", 1, "end", 1);
	if (rc == -EIO && streams_lookup(s, name, 0, &a) == 0) {
		snprintf(msg, sizeof msg, "stream %s failed: %s", name, a.error);
		return failure(EIO, msg);
	}
	if (rc == -ENOTDIR)
		return failure(ENOTDIR, "stream_next: a byte stream; read its file");
	return failure(-rc, strerror(-rc));
}

/* A string name of req fit for names/ and streams/, or NULL. */
static const char *
name_arg(const json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "name"));

	return name != NULL && catalog_name_check(name) == 0 ? name : NULL;
}

static json_t *
op_stream(catalog_t *c, uid_t uid, gid_t gid, const char *op, const json_t *req, struct request_wait *w)
{
	const json_t *timeout = json_object_get(req, "timeout_ms"), *index = json_object_get(req, "index"),
		     *mode = json_object_get(req, "mode"), *error = json_object_get(req, "error");
	const char *name = name_arg(req);
	char ids[ID_STR_LEN + 1], msg[200];
	struct stream_attr a;
	json_t *reply;
	uint64_t id, ino;
	int rc;

	if (w->streams == NULL)
		return failure(ENOSYS, "streams are not available here");
	if (strcmp(op, "stream_open") == 0) {
		json_int_t m = json_is_integer(mode) ? json_integer_value(mode) : 0644;

		if (name == NULL)
			return failure(
			    EINVAL, "stream_open: name must be a valid name (1 to 255 bytes, no '/')");
		if (mode != NULL && !json_is_null(mode) && (!json_is_integer(mode) || m < 0 || m > 07777))
			return failure(EINVAL, "stream_open: mode must be an integer from 0 to 07777");
		if (w->producing != 0)
			return failure(EBUSY, "stream_open: this descriptor already produces a stream");
		if ((rc = streams_objects_open(w->streams, name, uid, gid, (mode_t)m, &ino)) != 0)
			return failure(-rc, rc == -ENOTDIR ? "stream_open: a byte stream has that name"
					    : rc == -EBUSY ? "stream_open: another producer has it open"
							   : strerror(-rc));
		w->producing = ino;
		return json_pack("{s:b}", "ok", 1);
	}
	if (strcmp(op, "stream_push") == 0) {
		if (w->producing == 0)
			return failure(EBADF, "stream_push: stream_open a stream on this descriptor first");
		if (id_arg(req, "id", &id, &reply) != 0)
			return reply;
		if ((rc = streams_push(w->streams, w->producing, uid, id)) < 0)
			return failure(
			    -rc, rc == -EAGAIN ? "stream_push: the object is not sealed yet" : strerror(-rc));
		return json_pack("{s:b, s:i}", "ok", 1, "index", rc);
	}
	if (strcmp(op, "stream_close") == 0) {
		if (w->producing == 0)
			return failure(EBADF, "stream_close: this descriptor produces no stream");
		if (error != NULL && !json_is_null(error) && !json_is_string(error))
			return failure(EINVAL, "stream_close: error must be a string");
		ino = w->producing;
		w->producing = 0;
		streams_close_write(w->streams, ino, json_string_value(error));
		if (streams_getattr(w->streams, ino, &a) != 0 || a.state != STREAM_COMPLETE)
			return json_string_value(error) != NULL
				   ? json_pack("{s:b}", "ok", 1)
				   : failure(EIO, "stream_close: the stream failed");
		id_format(a.object_id, ids);
		return json_pack("{s:b, s:s}", "ok", 1, "id", ids);
	}
	/* stream_next */
	if (name == NULL)
		return failure(EINVAL, "stream_next: name must be a valid name (1 to 255 bytes, no '/')");
	if (!json_is_integer(index) || json_integer_value(index) < 0 ||
	    json_integer_value(index) > STREAM_OBJECTS_MAX) {
		snprintf(msg, sizeof msg, "stream_next: index must be an integer from 0 to %u",
		    STREAM_OBJECTS_MAX);
		return failure(EINVAL, msg);
	}
	if (timeout != NULL && !json_is_null(timeout) &&
	    (!json_is_integer(timeout) || json_integer_value(timeout) < 0))
		return failure(EINVAL, "stream_next: timeout_ms must be a non-negative integer or null");
	(void)c;
	if ((reply = next_ready(w->streams, name, (unsigned)json_integer_value(index))) != NULL)
		return reply;
	w->timeout_ms = json_is_integer(timeout) ? (long long)json_integer_value(timeout) : -1;
	if (w->timeout_ms == 0)
		return failure(ETIMEDOUT, "stream_next: no object there yet");
	snprintf(w->name, sizeof w->name, "%s", name);
	w->index = (unsigned)json_integer_value(index);
	w->kind = REQUEST_WAIT_STREAM;
	w->pending = 1;
	return NULL;
}

/* A snapshot runs on the caller's thread until it is written (minutes
 * for a large store); the catalog lock is held only at its start. Root
 * only: the daemon writes dir with its own rights, and a snapshot holds
 * every user's objects. */
static json_t *
op_snapshot(catalog_t *c, uid_t uid, const json_t *req)
{
	const char *dir = json_string_value(json_object_get(req, "dir"));
	struct snapshot_result r;
	char err[1024];
	int rc;

	if (uid != 0)
		return failure(EPERM, "snapshot: only root may take a snapshot");
	if (dir == NULL || dir[0] != '/')
		return failure(EINVAL, "snapshot: dir must be an absolute path");
	if ((rc = snapshot_create(c, dir, &r, err, sizeof err)) != 0)
		return failure(-rc, err[0] ? err : strerror(-rc));
	return json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "ok", 1, "dir", dir,
	    "objects", (json_int_t)r.objects, "names", (json_int_t)r.names, "blobs", (json_int_t)r.blobs,
	    "blobs_copied", (json_int_t)r.blobs_copied, "blobs_skipped", (json_int_t)r.blobs_skipped,
	    "blobs_removed", (json_int_t)r.blobs_removed, "bytes", (json_int_t)r.bytes, "bytes_copied",
	    (json_int_t)r.bytes_copied, "bytes_skipped", (json_int_t)r.bytes_skipped, "seconds",
	    (double)r.elapsed_ns / 1e9);
}

/* pin, unpin, evict, load: where the blobs of an object live (catalog_spill.h). */
static json_t *
op_spill(catalog_t *c, uid_t uid, const char *op, const json_t *req)
{
	uint64_t id, blobs = 0, bytes = 0;
	json_t *reply;
	char msg[160];
	int rc;

	if (id_arg(req, "id", &id, &reply) != 0)
		return reply;
	if (strcmp(op, "pin") == 0 || strcmp(op, "unpin") == 0)
		rc = catalog_spill_pin(c, id, uid, op[0] == 'p', &blobs, &bytes);
	else if (strcmp(op, "evict") == 0)
		rc = catalog_spill_evict(c, id, uid, &blobs, &bytes);
	else
		rc = catalog_spill_load(c, id, uid, &blobs, &bytes);
	if (rc == -ENOTSUP)
		return failure(ENOTSUP, "evict: the store has no spill directory (mount --spill-dir)");
	if (rc == -EBUSY) {
		snprintf(msg, sizeof msg, "%s: its blobs are open, pinned or being loaded", op);
		return failure(EBUSY, msg);
	}
	if (rc != 0)
		return failure(-rc, strerror(-rc));
	return json_pack("{s:b, s:I, s:I}", "ok", 1, "blobs", (json_int_t)blobs, "bytes", (json_int_t)bytes);
}

/* The object a cluster request names: "id", or a sealed object's "name". */
static int
object_arg(catalog_t *c, const json_t *req, uint64_t *id, json_t **reply)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	int rc;

	if (name == NULL)
		return id_arg(req, "id", id, reply);
	if ((rc = catalog_name_ready(c, name, id)) != 0) {
		*reply = failure(-rc, rc == -EAGAIN ? "that name's object is not sealed yet" : strerror(-rc));
		return -1;
	}
	return 0;
}

/* publish, publish_status, cluster (cluster.h): the etcd work is the
 * cluster thread's; these only queue and read. */
static json_t *
op_cluster(catalog_t *c, uid_t uid, const char *op, const json_t *req, cluster_t *cl)
{
	struct catalog_attr a;
	char ids[ID_STR_LEN + 1], msg[200];
	json_t *reply;
	uint64_t id;
	int rc;

	if (cl == NULL)
		return failure(ENOTCONN, "this store is in no cluster (mounted without --etcd)");
	if (strcmp(op, "cluster") == 0)
		return json_pack("{s:b, s:o}", "ok", 1, "cluster", cluster_status(cl));
	if (object_arg(c, req, &id, &reply) != 0)
		return reply;
	id_format(id, ids);
	if (strcmp(op, "publish") == 0) {
		/* Its owner or root: publishing shows it to every member. */
		if ((rc = catalog_getattr(c, ino_of(id, INO_VIEW_OBJECT), &a)) != 0)
			return failure(-rc, strerror(-rc));
		if (uid != 0 && a.uid != uid)
			return failure(EACCES, "publish: only its owner or root may publish an object");
		if ((rc = cluster_publish(cl, id)) != 0)
			return failure(
			    -rc, rc == -EREMOTE ? "publish: another member's object" : strerror(-rc));
	}
	rc = cluster_publish_state(cl, id, msg, sizeof msg);
	if (rc != 0 && rc != -EINPROGRESS)
		return failure(-rc, msg[0] ? msg : strerror(-rc));
	return json_pack("{s:b, s:s, s:s}", "ok", 1, "id", ids, "state", rc == 0 ? "published" : "queued");
}

/* The Arrow IPC writer's layout (arrow_ctl.h): open to anyone, touches
 * nothing. */
static json_t *
op_arrow_layout(const json_t *req)
{
	char err[512];
	json_t *reply;
	int rc = arrow_ctl_layout(req, &reply, err, sizeof err);

	return rc == 0 ? reply : failure(-rc, err[0] ? err : strerror(-rc));
}

static char *
dump(json_t *reply, size_t *replylen)
{
	char *out = object_dump_line(reply, JSON_COMPACT | JSON_ENSURE_ASCII, replylen);

	json_decref(reply);
	return out;
}

int
request_wait_poll(catalog_t *c, const struct request_wait *w, int timed_out, char **reply, size_t *replylen)
{
	json_t *r = w->kind == REQUEST_WAIT_STREAM ? next_ready(w->streams, w->name, w->index)
						   : wait_ready(c, w->name);

	if (r == NULL && !timed_out)
		return 0;
	if (r == NULL)
		r = failure(ETIMEDOUT, w->kind == REQUEST_WAIT_STREAM
					   ? "stream_next: no object there in time"
					   : "wait: no sealed object by that name in time");
	*reply = r != NULL ? dump(r, replylen) : NULL;
	return 1;
}

/* The control operations, for their metrics; "" collects the requests
 * with no known op (bad JSON, unknown ops). */
static const char *const op_names[] = { "", "create", "delete", "name", "unname", "wait", "stream_open",
	"stream_push", "stream_close", "stream_next", "snapshot", "pin", "unpin", "evict", "load", "publish",
	"publish_status", "cluster", "arrow_layout" };
#define NOPS (sizeof op_names / sizeof op_names[0])
static struct metrics_hist op_hist[NOPS];
static atomic_uint_fast64_t op_errors[NOPS];

static unsigned
op_index(const json_t *doc)
{
	const char *op = json_string_value(json_object_get(doc, "op"));
	unsigned i;

	for (i = 1; op != NULL && i < NOPS; i++)
		if (strcmp(op, op_names[i]) == 0)
			return i;
	return 0;
}

void
request_metrics_write(FILE *f)
{
	unsigned i;

	metrics_family(f, "vineyardfs_ctl_request_duration_seconds", "histogram",
	    "Time to handle a request of .vineyardfs/ctl, by op (a wait: until it was parked or answered).");
	for (i = 0; i < NOPS; i++)
		if (atomic_load(&op_hist[i].count) > 0)
			metrics_hist_write(f, "vineyardfs_ctl_request_duration_seconds", "op",
			    i == 0 ? "unknown" : op_names[i], &op_hist[i]);
	metrics_family(f, "vineyardfs_ctl_errors_total", "counter",
	    "Requests of .vineyardfs/ctl answered with an error, by op.");
	for (i = 0; i < NOPS; i++)
		if (atomic_load(&op_hist[i].count) > 0)
			metrics_sample(f, "vineyardfs_ctl_errors_total", "op",
			    i == 0 ? "unknown" : op_names[i], (double)atomic_load(&op_errors[i]));
}

static json_t *handle(
    catalog_t *c, uid_t uid, gid_t gid, const char *req, size_t len, struct request_wait *w, json_t **docp);

char *
request_handle(
    catalog_t *c, uid_t uid, gid_t gid, const char *req, size_t len, size_t *replylen, struct request_wait *w)
{
	int64_t t0 = util_mono_ns();
	json_t *doc = NULL, *reply;
	unsigned k;

	reply = handle(c, uid, gid, req, len, w, &doc);
	k = op_index(doc);
	json_decref(doc);
	metrics_observe(&op_hist[k], (uint64_t)(util_mono_ns() - t0));
	if (reply == NULL)
		return NULL; /* a pending wait */
	if (!json_is_true(json_object_get(reply, "ok")))
		atomic_fetch_add_explicit(&op_errors[k], 1, memory_order_relaxed);
	return dump(reply, replylen);
}

/* The reply to one request (NULL: a pending wait); *docp the parsed
 * request, for the caller to free. */
static json_t *
handle(catalog_t *c, uid_t uid, gid_t gid, const char *req, size_t len, struct request_wait *w, json_t **docp)
{
	json_t *doc = NULL, *reply;
	json_error_t jerr;
	const char *op;
	char msg[300];

	w->pending = 0;
	if (len > REQUEST_MAX) {
		snprintf(msg, sizeof msg, "a request is at most %u bytes", REQUEST_MAX);
		reply = failure(E2BIG, msg);
	} else if ((doc = json_loadb(req, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(
		    msg, sizeof msg, "not JSON: %s at line %d, column %d", jerr.text, jerr.line, jerr.column);
		reply = failure(EINVAL, msg);
	} else if (!json_is_object(doc) || (op = json_string_value(json_object_get(doc, "op"))) == NULL)
		reply = failure(EINVAL, "a request is a JSON object with a string \"op\"");
	else if (strcmp(op, "create") == 0)
		reply = op_create(c, uid, gid, doc, w->cluster);
	else if (strcmp(op, "delete") == 0)
		reply = op_delete(c, uid, doc);
	else if (strcmp(op, "name") == 0)
		reply = op_name(c, uid, doc);
	else if (strcmp(op, "unname") == 0)
		reply = op_unname(c, uid, doc);
	else if (strcmp(op, "wait") == 0)
		reply = op_wait(c, doc, w);
	else if (strncmp(op, "stream_", 7) == 0 &&
		 (strcmp(op + 7, "open") == 0 || strcmp(op + 7, "push") == 0 ||
		     strcmp(op + 7, "close") == 0 || strcmp(op + 7, "next") == 0))
		reply = op_stream(c, uid, gid, op, doc, w);
	else if (strcmp(op, "snapshot") == 0)
		reply = op_snapshot(c, uid, doc);
	else if (strcmp(op, "pin") == 0 || strcmp(op, "unpin") == 0 || strcmp(op, "evict") == 0 ||
		 strcmp(op, "load") == 0)
		reply = op_spill(c, uid, op, doc);
	else if (strcmp(op, "publish") == 0 || strcmp(op, "publish_status") == 0 ||
		 strcmp(op, "cluster") == 0)
		reply = op_cluster(c, uid, op, doc, w->cluster);
	else if (strcmp(op, "arrow_layout") == 0)
		reply = op_arrow_layout(doc);
	else {
		snprintf(msg, sizeof msg,
		    "unknown op \"%.64s\" (known: create, delete, name, unname, wait, stream_open, stream_push, "
		    "stream_close, stream_next, snapshot, pin, unpin, evict, load, publish, "
		    "publish_status, cluster, arrow_layout)",
		    op);
		reply = failure(ENOSYS, msg);
	}
	*docp = doc;
	return reply;
}
