/*
 * libvineyardfs: see include/vineyardfs.h. Everything goes through the
 * mount: a blob is born as a Blob object under a hidden temporary name in
 * names/ (VFS_TMP_PREFIX "…", which listings skip), sealed by its writer's
 * close, and its temporary Blob object goes when the caller lets go of it;
 * objects are made and deleted through the control file.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <jansson.h>

#include "core/types.h"
#include "include/vineyardfs.h"

#define REPLY_MAX (1 << 20)   /* a reply is one line of JSON, well below */
#define SEAL_TIMEOUT_MS 60000 /* the seal comes just after the close */

struct vfs {
	char *mount;
	char err[512];
	unsigned seq; /* temporary names */
	uint32_t salt;
};

struct vfs_blob {
	char tmp[64]; /* its name in names/ */
	int fd;	      /* until sealed */
	void *data;
	size_t size;
	int sealed;
};

static int fail(vfs_t *v, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(vfs_t *v, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->err, sizeof v->err, fmt, ap);
	va_end(ap);
	return rc;
}

/* mount/a[/b] into buf; -ENAMETOOLONG past PATH_MAX. */
static int
path_of(vfs_t *v, char *buf, const char *a, const char *b)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s%s%s", v->mount, a, b != NULL ? "/" : "", b != NULL ? b : "");

	if (n < 0 || n >= PATH_MAX)
		return fail(v, -ENAMETOOLONG, "%s/%s: path too long", a, b != NULL ? b : "");
	return 0;
}

/* Is s an id of kind 'o' or 'b'? */
static int
is_id(const char *s, char kind)
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
static int
check_name(vfs_t *v, const char *name)
{
	if (name == NULL || *name == '\0' || strchr(name, '/') != NULL || strlen(name) > NAME_MAX)
		return fail(
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
	if (path_of(v, ctl, ".vineyardfs/ctl", NULL) != 0 || stat(ctl, &st) != 0 || !S_ISREG(st.st_mode)) {
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

	if ((rc = path_of(v, path, ".vineyardfs/ctl", NULL)) != 0)
		return rc;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return fail(v, -errno, "%s: %s (is %s a vineyardfs mount?)", path, strerror(errno), v->mount);
	return fd;
}

/* Read fd to its end (at most max bytes) into a NUL-terminated buffer;
 * caller frees. what names it in messages. A signal ends the read (EINTR):
 * that is how a wait is interrupted. */
static int
read_all(vfs_t *v, int fd, size_t max, const char *what, char **out)
{
	size_t got = 0, cap = 0;
	char *buf = NULL, *nb;
	ssize_t n;

	for (;;) {
		if (got + 1 >= cap) {
			if (cap >= max) {
				free(buf);
				return fail(v, -EFBIG, "%s: longer than %zu bytes", what, max);
			}
			if ((nb = realloc(buf, cap + 65536)) == NULL) {
				free(buf);
				return fail(v, -ENOMEM, "%s: out of memory", what);
			}
			buf = nb;
			cap += 65536;
		}
		if ((n = read(fd, buf + got, cap - got - 1)) < 0) {
			free(buf);
			return fail(v, -errno, "%s: %s", what, strerror(errno));
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
		rc = fail(v, n < 0 ? -errno : -EIO, "writing the request: %s",
		    n < 0 ? strerror(errno) : "short write");
		goto out;
	}
	if ((rc = read_all(v, fd, REPLY_MAX, "reading the reply", &buf)) != 0)
		goto out;
	if ((r = json_loads(buf, 0, &jerr)) == NULL || !json_is_object(r)) {
		rc = fail(v, -EPROTO, "unreadable reply: %.200s", buf);
		goto out;
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		json_int_t e = json_integer_value(json_object_get(r, "errno"));
		const char *msg = json_string_value(json_object_get(r, "message"));

		rc = fail(v, e > 0 ? -(int)e : -EIO, "%s", msg != NULL ? msg : "refused");
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
		return fail(v, -ENOMEM, "out of memory");
	rc = fd >= 0 ? ask_on(v, fd, text, reply) : ask(v, text, reply);
	free(text);
	return rc;
}

static int
ask_json(vfs_t *v, json_t *req, json_t **reply)
{
	return ask_json_on(v, -1, req, reply);
}

/* The "id" of an ok reply into id. */
static int
reply_id(vfs_t *v, json_t *reply, char id[VFS_ID_SIZE])
{
	const char *s = json_string_value(json_object_get(reply, "id"));

	if (!is_id(s, 'o')) {
		json_decref(reply);
		return fail(v, -EPROTO, "the reply has no id");
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
			return fail(v, -ENOMEM, "out of memory");
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

	if ((rc = check_name(v, name)) != 0)
		return rc;
	if (timeout_ms >= 0)
		rc = ask_json(v,
		    json_pack(
			"{s:s, s:s, s:I}", "op", "wait", "name", name, "timeout_ms", (json_int_t)timeout_ms),
		    &reply);
	else
		rc = ask_json(v, json_pack("{s:s, s:s}", "op", "wait", "name", name), &reply);
	return rc != 0 ? rc : reply_id(v, reply, id);
}

/* A fresh hidden name for a blob being written. */
static void
tmp_name(vfs_t *v, char *buf, size_t len)
{
	snprintf(buf, len, VFS_TMP_PREFIX "%d-%08x-%u", (int)getpid(), v->salt, v->seq++);
}

/* The blob id of the Blob object at names/tmp (sealed). */
static int
blob_id_of(vfs_t *v, const char *tmp, char id[VFS_ID_SIZE])
{
	char path[PATH_MAX];
	ssize_t n;
	int rc;

	if ((rc = path_of(v, path, "names", tmp)) != 0)
		return rc;
	if ((n = getxattr(path, "user.vineyard.member.buffer_", id, VFS_ID_SIZE - 1)) != VFS_ID_SIZE - 1)
		return fail(v, n < 0 ? -errno : -EPROTO, "%s: no blob id: %s", path,
		    n < 0 ? strerror(errno) : "bad length");
	id[VFS_ID_SIZE - 1] = '\0';
	return 0;
}

int
vfs_blob_create(vfs_t *v, size_t size, vfs_blob_t **out, void **data)
{
	char path[PATH_MAX];
	vfs_blob_t *b = calloc(1, sizeof *b);
	int rc;

	if (b == NULL)
		return fail(v, -ENOMEM, "out of memory");
	b->fd = -1;
	tmp_name(v, b->tmp, sizeof b->tmp);
	if ((rc = path_of(v, path, "names", b->tmp)) != 0)
		goto fail;
	if ((b->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		rc = fail(v, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	/* Reserve the memory now: a store that runs out later would kill the
	 * writer of the mapping with SIGBUS instead of failing here. */
	if (size > 0 && fallocate(b->fd, 0, 0, (off_t)size) != 0) {
		if (errno != EOPNOTSUPP && errno != ENOSYS) {
			rc = fail(v, -errno, "a blob of %zu bytes: %s", size, strerror(errno));
			goto fail;
		}
		if (ftruncate(b->fd, (off_t)size) != 0) { /* a daemon without fallocate */
			rc = fail(v, -errno, "a blob of %zu bytes: %s", size, strerror(errno));
			goto fail;
		}
	}
	if (size > 0 &&
	    (b->data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0)) == MAP_FAILED) {
		b->data = NULL;
		rc = fail(v, -errno, "mapping a blob of %zu bytes: %s", size, strerror(errno));
		goto fail;
	}
	b->size = size;
	*out = b;
	*data = b->data;
	return 0;
fail:
	vfs_blob_free(v, b);
	return rc;
}

int
vfs_blob_seal(vfs_t *v, vfs_blob_t *b, char id[VFS_ID_SIZE])
{
	char oid[VFS_ID_SIZE];
	int rc;

	if (b->sealed)
		return blob_id_of(v, b->tmp, id);
	if (b->data != NULL)
		munmap(b->data, b->size);
	b->data = NULL;
	rc = close(b->fd) != 0 ? -errno : 0;
	b->fd = -1;
	if (rc != 0)
		return fail(v, rc, "closing the blob: %s", strerror(-rc));
	/* The kernel's release after the close seals it. */
	if ((rc = vfs_wait(v, b->tmp, SEAL_TIMEOUT_MS, oid)) != 0)
		return rc == -ETIMEDOUT ? fail(v, rc, "the blob was not sealed in time (discarded?)") : rc;
	b->sealed = 1;
	return blob_id_of(v, b->tmp, id);
}

void
vfs_blob_free(vfs_t *v, vfs_blob_t *b)
{
	char path[PATH_MAX];

	if (b == NULL)
		return;
	if (b->data != NULL)
		munmap(b->data, b->size);
	if (b->fd >= 0)
		close(b->fd);
	/* Its Blob object goes; the blob stays in the objects made over it. */
	if (path_of(v, path, "names", b->tmp) == 0)
		unlink(path);
	free(b);
}

int
vfs_create(vfs_t *v, const char *typename, const char *fields_json, const struct vfs_member *members,
    size_t nmembers, const char *name, char id[VFS_ID_SIZE])
{
	json_t *fields = NULL, *ms = json_object(), *reply = NULL;
	json_error_t jerr;
	size_t i;
	int rc;

	if (ms == NULL)
		return fail(v, -ENOMEM, "out of memory");
	if (fields_json != NULL &&
	    ((fields = json_loads(fields_json, 0, &jerr)) == NULL || !json_is_object(fields))) {
		json_decref(ms);
		json_decref(fields);
		return fail(v, -EINVAL, "fields must be a JSON object: %s", jerr.text);
	}
	for (i = 0; i < nmembers; i++) {
		if (members[i].name == NULL || members[i].id == NULL ||
		    json_object_set_new(ms, members[i].name, json_string(members[i].id)) != 0) {
			json_decref(ms);
			json_decref(fields);
			return fail(v, -EINVAL, "member %zu: a name and an id are needed", i);
		}
	}
	rc = ask_json(v,
	    json_pack("{s:s, s:s, s:o*, s:o, s:s?}", "op", "create", "typename", typename ? typename : "",
		"fields", fields, "members", ms, "name", name),
	    &reply);
	return rc != 0 ? rc : reply_id(v, reply, id);
}

int
vfs_put_blob(vfs_t *v, const void *data, size_t size, const char *name, char id[VFS_ID_SIZE])
{
	char bid[VFS_ID_SIZE];
	const struct vfs_member m = { "buffer_", bid };
	vfs_blob_t *b;
	void *p;
	int rc;

	if (name != NULL && (rc = check_name(v, name)) != 0)
		return rc;
	if ((rc = vfs_blob_create(v, size, &b, &p)) != 0)
		return rc;
	if (size > 0)
		memcpy(p, data, size);
	if ((rc = vfs_blob_seal(v, b, bid)) == 0)
		rc = vfs_create(v, "Blob", NULL, &m, 1, name, id);
	vfs_blob_free(v, b);
	return rc;
}

int
vfs_put_tensor(vfs_t *v, const char *value_type, size_t ndim, const uint64_t *shape, const void *data,
    const char *name, char id[VFS_ID_SIZE])
{
	size_t item = value_type != NULL ? types_item_size(value_type) : 0, i;
	uint64_t count = 1;
	char bid[VFS_ID_SIZE], *fields;
	const struct vfs_member m = { "buffer_", bid };
	json_t *f, *dims;
	vfs_blob_t *b;
	void *p;
	int rc;

	if (item == 0)
		return fail(v, -EINVAL, "unknown value type \"%s\"", value_type ? value_type : "(null)");
	if (ndim > VFS_DIMS_MAX)
		return fail(v, -EINVAL, "%zu dimensions, at most %d", ndim, VFS_DIMS_MAX);
	if ((dims = json_array()) == NULL)
		return fail(v, -ENOMEM, "out of memory");
	for (i = 0; i < ndim; i++) {
		if (shape[i] != 0 && count > SIZE_MAX / item / shape[i]) {
			json_decref(dims);
			return fail(v, -EOVERFLOW, "the shape is too large");
		}
		count *= shape[i];
		json_array_append_new(dims, json_integer((json_int_t)shape[i]));
	}
	f = json_pack("{s:s, s:o}", "value_type_", value_type, "shape_", dims);
	fields = f != NULL ? json_dumps(f, JSON_COMPACT) : NULL;
	json_decref(f);
	if (fields == NULL)
		return fail(v, -ENOMEM, "out of memory");
	if ((rc = vfs_blob_create(v, count * item, &b, &p)) == 0) {
		if (count * item > 0)
			memcpy(p, data, count * item);
		if ((rc = vfs_blob_seal(v, b, bid)) == 0)
			rc = vfs_create(v, "Tensor", fields, &m, 1, name, id);
		vfs_blob_free(v, b);
	}
	free(fields);
	return rc;
}

int
vfs_resolve(vfs_t *v, const char *ref, char id[VFS_ID_SIZE])
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int rc;

	if (ref == NULL || *ref == '\0')
		return fail(v, -EINVAL, "an object name or id is needed");
	if (is_id(ref, 'o')) {
		if ((rc = path_of(v, path, "objects", ref)) != 0)
			return rc;
		if (stat(path, &st) == 0) {
			memcpy(id, ref, VFS_ID_SIZE);
			return 0;
		}
	}
	if ((rc = check_name(v, ref)) != 0 || (rc = path_of(v, path, "names", ref)) != 0)
		return rc;
	/* A Blob object's name is its bytes, a composite's a link to its
	 * directory: both carry the object's id. */
	if ((n = getxattr(path, "user.vineyard.id", id, VFS_ID_SIZE - 1)) != VFS_ID_SIZE - 1) {
		if (n < 0 && (errno == ENOENT || errno == ENODATA))
			return fail(v, -ENOENT, "%s: no such object or name", ref);
		return fail(v, n < 0 ? -errno : -EPROTO, "%s: %s", path, n < 0 ? strerror(errno) : "bad id");
	}
	id[VFS_ID_SIZE - 1] = '\0';
	return 0;
}

int
vfs_meta(vfs_t *v, const char *ref, char **json)
{
	char id[VFS_ID_SIZE], path[PATH_MAX], rel[VFS_ID_SIZE + 16];
	int fd, rc;

	if ((rc = vfs_resolve(v, ref, id)) != 0)
		return rc;
	snprintf(rel, sizeof rel, "%s/meta.json", id);
	if ((rc = path_of(v, path, "objects", rel)) != 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(v, -errno, "%s: %s", path, strerror(errno));
	rc = read_all(v, fd, SIZE_MAX, path, json);
	close(fd);
	return rc;
}

int
vfs_map(vfs_t *v, const char *ref, const char *member, struct vfs_map *m)
{
	char path[PATH_MAX], id[VFS_ID_SIZE], *rel = NULL;
	struct stat st;
	int fd, rc;

	m->data = NULL;
	m->size = 0;
	if (member == NULL) {
		if (!is_id(ref, 'b'))
			return fail(
			    v, -EINVAL, "\"%.64s\" is not a blob id (b…); give a member of an object", ref);
		rc = path_of(v, path, "blobs", ref);
	} else {
		if (strstr(member, "..") != NULL || member[0] == '/')
			return fail(v, -EINVAL, "bad member path \"%.64s\"", member);
		if ((rc = vfs_resolve(v, ref, id)) != 0)
			return rc;
		if (asprintf(&rel, "%s/%s", id, member) < 0)
			return fail(v, -ENOMEM, "out of memory");
		rc = path_of(v, path, "objects", rel);
		free(rel);
	}
	if (rc != 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(v, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0)
		rc = fail(v, -errno, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = fail(v, -EISDIR, "%s: not a blob", path);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	if (st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);

		if (p == MAP_FAILED) {
			rc = fail(v, -errno, "mapping %s: %s", path, strerror(errno));
			close(fd);
			return rc;
		}
		m->data = p;
		m->size = (size_t)st.st_size;
	}
	close(fd); /* the mapping keeps the blob */
	return 0;
}

void
vfs_unmap(struct vfs_map *m)
{
	if (m->data != NULL)
		munmap((void *)m->data, m->size);
	m->data = NULL;
	m->size = 0;
}

/* shape_ is an array, or (as Vineyard may write it) its JSON text. */
static json_t *
shape_of(const json_t *meta)
{
	const json_t *s = json_object_get(meta, "shape_");

	if (json_is_string(s))
		return json_loads(json_string_value(s), 0, NULL);
	return json_incref((json_t *)s);
}

int
vfs_get_tensor(vfs_t *v, const char *ref, struct vfs_tensor *t)
{
	json_t *meta, *shape, *d;
	const char *type, *vt;
	uint64_t count = 1;
	char *text;
	size_t i;
	int rc;

	memset(t, 0, sizeof *t);
	if ((rc = vfs_meta(v, ref, &text)) != 0)
		return rc;
	meta = json_loads(text, 0, NULL);
	free(text);
	type = json_string_value(json_object_get(meta, "typename"));
	vt = json_string_value(json_object_get(meta, "value_type_"));
	if (type == NULL || strcmp(type, "Tensor") != 0) {
		rc = fail(v, -EINVAL, "%s is a %s, not a Tensor", ref, type ? type : "?");
		json_decref(meta);
		return rc;
	}
	shape = shape_of(meta);
	if (vt == NULL || strlen(vt) >= sizeof t->value_type || !json_is_array(shape) ||
	    json_array_size(shape) > VFS_DIMS_MAX) {
		json_decref(shape);
		json_decref(meta);
		return fail(v, -EPROTO, "%s: a Tensor without a usable value_type_ or shape_", ref);
	}
	snprintf(t->value_type, sizeof t->value_type, "%s", vt);
	json_array_foreach (shape, i, d) {
		t->shape[i] = (uint64_t)json_integer_value(d);
		count *= t->shape[i];
	}
	t->ndim = json_array_size(shape);
	json_decref(shape);
	json_decref(meta);
	if ((rc = vfs_map(v, ref, "buffer_", &t->map)) != 0)
		return rc;
	if (t->map.size != count * types_item_size(t->value_type)) {
		vfs_unmap(&t->map);
		return fail(v, -EPROTO, "%s: buffer_ holds %zu bytes, the shape needs %llu", ref, t->map.size,
		    (unsigned long long)(count * types_item_size(t->value_type)));
	}
	return 0;
}

int
vfs_list(vfs_t *v, int (*fn)(void *arg, const char *name, const char *id), void *arg)
{
	char path[PATH_MAX], id[VFS_ID_SIZE];
	struct dirent *de;
	DIR *d;
	int rc;

	if ((rc = path_of(v, path, "names", NULL)) != 0)
		return rc;
	if ((d = opendir(path)) == NULL)
		return fail(v, -errno, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* ".", "..", temporaries */
		if (vfs_resolve(v, de->d_name, id) != 0)
			continue; /* gone meanwhile */
		if ((rc = fn(arg, de->d_name, id)) != 0)
			break;
	}
	closedir(d);
	return rc;
}

int
vfs_delete(vfs_t *v, const char *ref)
{
	char id[VFS_ID_SIZE];
	int rc;

	if ((rc = vfs_resolve(v, ref, id)) != 0)
		return rc;
	return ask_json(v, json_pack("{s:s, s:s}", "op", "delete", "id", id), NULL);
}

int
vfs_name(vfs_t *v, const char *ref, const char *name)
{
	char id[VFS_ID_SIZE];
	int rc;

	if ((rc = vfs_resolve(v, ref, id)) != 0 || (rc = check_name(v, name)) != 0)
		return rc;
	return ask_json(v, json_pack("{s:s, s:s, s:s}", "op", "name", "id", id, "name", name), NULL);
}

int
vfs_unname(vfs_t *v, const char *name)
{
	int rc;

	if ((rc = check_name(v, name)) != 0)
		return rc;
	return ask_json(v, json_pack("{s:s, s:s}", "op", "unname", "name", name), NULL);
}

struct vfs_stream {
	int ctl; /* held open: closing it without stream_close fails the stream */
};

int
vfs_stream_open(vfs_t *v, const char *name, vfs_stream_t **out)
{
	vfs_stream_t *st;
	int rc;

	if ((rc = check_name(v, name)) != 0)
		return rc;
	if ((st = malloc(sizeof *st)) == NULL)
		return fail(v, -ENOMEM, "out of memory");
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

	if (!is_id(id, 'o'))
		return fail(v, -EINVAL, "\"%.64s\" is not an object id", id ? id : "");
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

	if ((rc = check_name(v, name)) != 0)
		return rc;
	req = json_pack("{s:s, s:s, s:I}", "op", "stream_next", "name", name, "index", (json_int_t)index);
	if (req != NULL && timeout_ms >= 0)
		json_object_set_new(req, "timeout_ms", json_integer(timeout_ms));
	if ((rc = ask_json(v, req, &reply)) != 0)
		return rc;
	if (json_is_true(json_object_get(reply, "end"))) {
		json_decref(reply);
		return 0;
	}
	return (rc = reply_id(v, reply, id)) != 0 ? rc : 1;
}
