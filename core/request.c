/*
 * request: see request.h. Each operation checks the types of its
 * arguments before calling the catalog, and every path ends in a reply.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "id.h"
#include "object.h"
#include "request.h"

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
	default: return "EIO";
	}
}

static json_t *
failure(int err, const char *message)
{
	return json_pack("{s:b, s:i, s:s, s:s}", "ok", 0, "errno", err, "error", errno_name(err), "message",
	    message);
}

static json_t *
op_create(catalog_t *c, uid_t uid, gid_t gid, const json_t *req)
{
	const json_t *typename = json_object_get(req, "typename"), *fields = json_object_get(req, "fields"),
		     *members = json_object_get(req, "members"), *name = json_object_get(req, "name"),
		     *mode = json_object_get(req, "mode");
	char err[512], ids[ID_STR_LEN + 1];
	json_int_t m = 0644;
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
	return json_pack("{s:b, s:s}", "ok", 1, "id", ids);
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

	if (name == NULL || *name == '\0' || strlen(name) > CATALOG_NAME_MAX || strchr(name, '/') != NULL)
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
	w->pending = 1;
	return NULL;
}

static char *
dump(json_t *reply, size_t *replylen)
{
	char *out = object_dump_line(reply, JSON_COMPACT | JSON_ENSURE_ASCII, replylen);

	json_decref(reply);
	return out;
}

int
request_wait_poll(catalog_t *c, const struct request_wait *w, int timed_out, char **reply,
    size_t *replylen)
{
	json_t *r = wait_ready(c, w->name);

	if (r == NULL && !timed_out)
		return 0;
	if (r == NULL)
		r = failure(ETIMEDOUT, "wait: no sealed object by that name in time");
	*reply = r != NULL ? dump(r, replylen) : NULL;
	return 1;
}

char *
request_handle(catalog_t *c, uid_t uid, gid_t gid, const char *req, size_t len, size_t *replylen,
    struct request_wait *w)
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
		snprintf(msg, sizeof msg, "not JSON: %s at line %d, column %d", jerr.text, jerr.line, jerr.column);
		reply = failure(EINVAL, msg);
	} else if (!json_is_object(doc) || (op = json_string_value(json_object_get(doc, "op"))) == NULL)
		reply = failure(EINVAL, "a request is a JSON object with a string \"op\"");
	else if (strcmp(op, "create") == 0)
		reply = op_create(c, uid, gid, doc);
	else if (strcmp(op, "delete") == 0)
		reply = op_delete(c, uid, doc);
	else if (strcmp(op, "name") == 0)
		reply = op_name(c, uid, doc);
	else if (strcmp(op, "unname") == 0)
		reply = op_unname(c, uid, doc);
	else if (strcmp(op, "wait") == 0)
		reply = op_wait(c, doc, w);
	else {
		snprintf(msg, sizeof msg, "unknown op \"%.64s\" (known: create, delete, name, unname, wait)",
		    op);
		reply = failure(ENOSYS, msg);
	}
	json_decref(doc);
	if (reply == NULL)
		return NULL; /* a pending wait */
	return dump(reply, replylen);
}
