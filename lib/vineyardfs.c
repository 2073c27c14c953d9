/*
 * libvineyardfs: see include/vineyardfs.h. Everything goes through the
 * mount. This file holds the handle, the control file's requests and
 * replies (each request on a control file of its own, but a stream
 * producer's, which its open holds), waits, and object streams; blob.c
 * writes and maps blobs, object.c makes, finds and names objects.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "include/vineyardfs.h"
#include "lib/lib_i.h"

#define REPLY_MAX (1 << 20) /* a reply is one line of JSON, well below */

int
lib_fail(vfs_t *v, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->err, sizeof v->err, fmt, ap);
	va_end(ap);
	return rc;
}

/* mount/a[/b] into buf; -ENAMETOOLONG past PATH_MAX. */
int
lib_path(vfs_t *v, char *buf, const char *a, const char *b)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s%s%s", v->mount, a, b != NULL ? "/" : "", b != NULL ? b : "");

	if (n < 0 || n >= PATH_MAX)
		return lib_fail(v, -ENAMETOOLONG, "%s/%s: path too long", a, b != NULL ? b : "");
	return 0;
}

/* Is s an id of kind 'o' or 'b'? */
int
lib_is_id(const char *s, char kind)
{
	size_t i;

	if (s == NULL || s[0] != kind || strlen(s) != VFS_ID_SIZE - 1)
		return 0;
	for (i = 1; i < VFS_ID_SIZE - 1; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A name fit for names/ (the daemon checks again). */
int
lib_check_name(vfs_t *v, const char *name)
{
	if (name == NULL || *name == '\0' || strchr(name, '/') != NULL || strlen(name) > NAME_MAX)
		return lib_fail(
		    v, -EINVAL, "bad name \"%.64s\": 1 to %d bytes, no '/'", name ? name : "", NAME_MAX);
	return 0;
}

int
vfs_open(const char *path, vfs_t **out)
{
	char ctl[PATH_MAX];
	struct stat st;
	vfs_t *v;

	if (path == NULL)
		path = getenv("VINEYARDFS_MOUNT") != NULL ? getenv("VINEYARDFS_MOUNT") : "/vineyard";
	if ((v = calloc(1, sizeof *v)) == NULL || (v->mount = strdup(path)) == NULL) {
		free(v);
		return -ENOMEM;
	}
	if (getrandom(&v->salt, sizeof v->salt, 0) != (ssize_t)sizeof v->salt)
		v->salt = (uint32_t)getpid() * 2654435761u;
	if (lib_path(v, ctl, ".vineyardfs/ctl", NULL) != 0 || stat(ctl, &st) != 0 || !S_ISREG(st.st_mode)) {
		int rc = errno == ENOTCONN ? -ENOTCONN : -ENOENT;

		vfs_close(v);
		return rc;
	}
	*out = v;
	return 0;
}

void
vfs_close(vfs_t *v)
{
	if (v == NULL)
		return;
	free(v->mount);
	free(v);
}

const char *
vfs_error(const vfs_t *v)
{
	return v->err;
}

const char *
vfs_mount_point(const vfs_t *v)
{
	return v->mount;
}

/* Open the control file. */
static int
ctl_open(vfs_t *v)
{
	char path[PATH_MAX];
	int fd, rc;

	if ((rc = lib_path(v, path, ".vineyardfs/ctl", NULL)) != 0)
		return rc;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return lib_fail(
		    v, -errno, "%s: %s (is %s a vineyardfs mount?)", path, strerror(errno), v->mount);
	return fd;
}

/* Read fd to its end (at most max bytes) into a NUL-terminated buffer;
 * caller frees. what names it in messages. A signal ends the read (EINTR):
 * that is how a wait is interrupted. */
int
lib_read_all(vfs_t *v, int fd, size_t max, const char *what, char **out)
{
	size_t got = 0, cap = 0;
	char *buf = NULL, *nb;
	ssize_t n;

	for (;;) {
		if (got + 1 >= cap) {
			if (cap >= max) {
				free(buf);
				return lib_fail(v, -EFBIG, "%s: longer than %zu bytes", what, max);
			}
			if ((nb = realloc(buf, cap + 65536)) == NULL) {
				free(buf);
				return lib_fail(v, -ENOMEM, "%s: out of memory", what);
			}
			buf = nb;
			cap += 65536;
		}
		if ((n = read(fd, buf + got, cap - got - 1)) < 0) {
			free(buf);
			return lib_fail(v, -errno, "%s: %s", what, strerror(errno));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	return 0;
}

/* Send one request on the control file fd; the parsed reply in *reply
 * (optional) when it is ok, else its errno negated with its message in
 * v->err. */
static int
ask_on(vfs_t *v, int fd, const char *text, json_t **reply)
{
	char *buf = NULL;
	size_t len = strlen(text);
	json_error_t jerr;
	json_t *r = NULL;
	ssize_t n;
	int rc = 0;

	if ((n = write(fd, text, len)) != (ssize_t)len) {
		rc = lib_fail(v, n < 0 ? -errno : -EIO, "writing the request: %s",
		    n < 0 ? strerror(errno) : "short write");
		goto out;
	}
	if ((rc = lib_read_all(v, fd, REPLY_MAX, "reading the reply", &buf)) != 0)
		goto out;
	if ((r = json_loads(buf, 0, &jerr)) == NULL || !json_is_object(r)) {
		rc = lib_fail(v, -EPROTO, "unreadable reply: %.200s", buf);
		goto out;
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		json_int_t e = json_integer_value(json_object_get(r, "errno"));
		const char *msg = json_string_value(json_object_get(r, "message"));

		rc = lib_fail(v, e > 0 ? -(int)e : -EIO, "%s", msg != NULL ? msg : "refused");
		goto out;
	}
	v->err[0] = '\0';
	if (reply != NULL) {
		*reply = r;
		r = NULL;
	}
out:
	json_decref(r);
	free(buf);
	return rc;
}

/* One request on a control file of its own. */
static int
ask(vfs_t *v, const char *text, json_t **reply)
{
	int fd = ctl_open(v), rc;

	if (fd < 0)
		return fd;
	rc = ask_on(v, fd, text, reply);
	close(fd);
	return rc;
}

/* ask (on fd, or -1 for a control file of its own) with a request built
 * by the caller (taken). */
static int
ask_json_on(vfs_t *v, int fd, json_t *req, json_t **reply)
{
	char *text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	int rc;

	json_decref(req);
	if (text == NULL)
		return lib_fail(v, -ENOMEM, "out of memory");
	rc = fd >= 0 ? ask_on(v, fd, text, reply) : ask(v, text, reply);
	free(text);
	return rc;
}

int
lib_ask_json(vfs_t *v, json_t *req, json_t **reply)
{
	return ask_json_on(v, -1, req, reply);
}

/* The "id" of an ok reply into id. */
int
lib_reply_id(vfs_t *v, json_t *reply, char id[VFS_ID_SIZE])
{
	const char *s = json_string_value(json_object_get(reply, "id"));

	if (!lib_is_id(s, 'o')) {
		json_decref(reply);
		return lib_fail(v, -EPROTO, "the reply has no id");
	}
	memcpy(id, s, VFS_ID_SIZE);
	json_decref(reply);
	return 0;
}

int
vfs_request(vfs_t *v, const char *request, char **reply)
{
	json_t *r = NULL;
	int rc = ask(v, request, &r);

	*reply = NULL;
	if (rc == 0) {
		*reply = json_dumps(r, JSON_COMPACT);
		json_decref(r);
		if (*reply == NULL)
			return lib_fail(v, -ENOMEM, "out of memory");
	} else {
		json_t *f = json_pack("{s:b, s:i, s:s}", "ok", 0, "errno", -rc, "message", v->err);

		*reply = f != NULL ? json_dumps(f, JSON_COMPACT) : NULL;
		json_decref(f);
	}
	return rc;
}

int
vfs_wait(vfs_t *v, const char *name, long timeout_ms, char id[VFS_ID_SIZE])
{
	json_t *reply;
	int rc;

	if ((rc = lib_check_name(v, name)) != 0)
		return rc;
	if (timeout_ms >= 0)
		rc = lib_ask_json(v,
		    json_pack(
			"{s:s, s:s, s:I}", "op", "wait", "name", name, "timeout_ms", (json_int_t)timeout_ms),
		    &reply);
	else
		rc = lib_ask_json(v, json_pack("{s:s, s:s}", "op", "wait", "name", name), &reply);
	return rc != 0 ? rc : lib_reply_id(v, reply, id);
}

struct vfs_stream {
	int ctl; /* held open: closing it without stream_close fails the stream */
};

int
vfs_stream_open(vfs_t *v, const char *name, vfs_stream_t **out)
{
	vfs_stream_t *st;
	int rc;

	if ((rc = lib_check_name(v, name)) != 0)
		return rc;
	if ((st = malloc(sizeof *st)) == NULL)
		return lib_fail(v, -ENOMEM, "out of memory");
	if ((st->ctl = ctl_open(v)) < 0) {
		rc = st->ctl;
		free(st);
		return rc;
	}
	if ((rc = ask_json_on(
		 v, st->ctl, json_pack("{s:s, s:s}", "op", "stream_open", "name", name), NULL)) != 0) {
		close(st->ctl);
		free(st);
		return rc;
	}
	*out = st;
	return 0;
}

int
vfs_stream_push(vfs_t *v, vfs_stream_t *st, const char *id)
{
	json_t *reply;
	int rc;

	if (!lib_is_id(id, 'o'))
		return lib_fail(v, -EINVAL, "\"%.64s\" is not an object id", id ? id : "");
	if ((rc = ask_json_on(v, st->ctl, json_pack("{s:s, s:s}", "op", "stream_push", "id", id), &reply)) !=
	    0)
		return rc;
	rc = (int)json_integer_value(json_object_get(reply, "index"));
	json_decref(reply);
	return rc;
}

int
vfs_stream_close(vfs_t *v, vfs_stream_t *st, const char *error, char id[VFS_ID_SIZE])
{
	json_t *reply = NULL;
	const char *s;
	int rc;

	rc = ask_json_on(v, st->ctl, json_pack("{s:s, s:s?}", "op", "stream_close", "error", error), &reply);
	close(st->ctl);
	free(st);
	if (rc == 0 && id != NULL) {
		s = json_string_value(json_object_get(reply, "id"));
		snprintf(id, VFS_ID_SIZE, "%s", s != NULL ? s : "");
	}
	json_decref(reply);
	return rc;
}

int
vfs_stream_next(vfs_t *v, const char *name, unsigned index, long timeout_ms, char id[VFS_ID_SIZE])
{
	json_t *req, *reply;
	int rc;

	if ((rc = lib_check_name(v, name)) != 0)
		return rc;
	req = json_pack("{s:s, s:s, s:I}", "op", "stream_next", "name", name, "index", (json_int_t)index);
	if (req != NULL && timeout_ms >= 0)
		json_object_set_new(req, "timeout_ms", json_integer(timeout_ms));
	if ((rc = lib_ask_json(v, req, &reply)) != 0)
		return rc;
	if (json_is_true(json_object_get(reply, "end"))) {
		json_decref(reply);
		return 0;
	}
	return (rc = lib_reply_id(v, reply, id)) != 0 ? rc : 1;
}
