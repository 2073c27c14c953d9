/*
 * object: objects made over sealed blobs (vfs_create and the put helpers,
 * a control request each), found by name or id (the names/ entry's or
 * objects/ directory's user.vineyard.id), read as meta.json, listed,
 * named, deleted and published.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/types.h"
#include "include/vineyardfs.h"
#include "lib/lib_i.h"

int
vfs_create(vfs_t *v, const char *typename, const char *fields_json, const struct vfs_member *members,
    size_t nmembers, const char *name, char id[VFS_ID_SIZE])
{
	json_t *fields = NULL, *ms = json_object(), *reply = NULL;
	json_error_t jerr;
	size_t i;
	int rc;

	if (ms == NULL)
		return lib_fail(v, -ENOMEM, "out of memory");
	if (fields_json != NULL &&
	    ((fields = json_loads(fields_json, 0, &jerr)) == NULL || !json_is_object(fields))) {
		json_decref(ms);
		json_decref(fields);
		return lib_fail(v, -EINVAL, "fields must be a JSON object: %s", jerr.text);
	}
	for (i = 0; i < nmembers; i++) {
		if (members[i].name == NULL || members[i].id == NULL ||
		    json_object_set_new(ms, members[i].name, json_string(members[i].id)) != 0) {
			json_decref(ms);
			json_decref(fields);
			return lib_fail(v, -EINVAL, "member %zu: a name and an id are needed", i);
		}
	}
	rc = lib_ask_json(v,
	    json_pack("{s:s, s:s, s:o*, s:o, s:s?}", "op", "create", "typename", typename ? typename : "",
		"fields", fields, "members", ms, "name", name),
	    &reply);
	return rc != 0 ? rc : lib_reply_id(v, reply, id);
}

int
vfs_put_blob(vfs_t *v, const void *data, size_t size, const char *name, char id[VFS_ID_SIZE])
{
	char bid[VFS_ID_SIZE];
	const struct vfs_member m = { "buffer_", bid };
	vfs_blob_t *b;
	void *p;
	int rc;

	if (name != NULL && (rc = lib_check_name(v, name)) != 0)
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
		return lib_fail(v, -EINVAL, "unknown value type \"%s\"", value_type ? value_type : "(null)");
	if (ndim > VFS_DIMS_MAX)
		return lib_fail(v, -EINVAL, "%zu dimensions, at most %d", ndim, VFS_DIMS_MAX);
	if ((dims = json_array()) == NULL)
		return lib_fail(v, -ENOMEM, "out of memory");
	for (i = 0; i < ndim; i++) {
		if (shape[i] != 0 && count > SIZE_MAX / item / shape[i]) {
			json_decref(dims);
			return lib_fail(v, -EOVERFLOW, "the shape is too large");
		}
		count *= shape[i];
		json_array_append_new(dims, json_integer((json_int_t)shape[i]));
	}
	f = json_pack("{s:s, s:o}", "value_type_", value_type, "shape_", dims);
	fields = f != NULL ? json_dumps(f, JSON_COMPACT) : NULL;
	json_decref(f);
	if (fields == NULL)
		return lib_fail(v, -ENOMEM, "out of memory");
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
		return lib_fail(v, -EINVAL, "an object name or id is needed");
	if (lib_is_id(ref, 'o')) {
		if ((rc = lib_path(v, path, "objects", ref)) != 0)
			return rc;
		if (stat(path, &st) == 0) {
			memcpy(id, ref, VFS_ID_SIZE);
			return 0;
		}
	}
	if ((rc = lib_check_name(v, ref)) != 0 || (rc = lib_path(v, path, "names", ref)) != 0)
		return rc;
	/* A Blob object's name is its bytes, a composite's a link to its
	 * directory: both carry the object's id. */
	if ((n = getxattr(path, "user.vineyard.id", id, VFS_ID_SIZE - 1)) != VFS_ID_SIZE - 1) {
		if (n < 0 && (errno == ENOENT || errno == ENODATA))
			return lib_fail(v, -ENOENT, "%s: no such object or name", ref);
		return lib_fail(
		    v, n < 0 ? -errno : -EPROTO, "%s: %s", path, n < 0 ? strerror(errno) : "bad id");
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
	if ((rc = lib_path(v, path, "objects", rel)) != 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return lib_fail(v, -errno, "%s: %s", path, strerror(errno));
	rc = lib_read_all(v, fd, SIZE_MAX, path, json);
	close(fd);
	return rc;
}

int
lib_meta_tree(vfs_t *v, const char *ref, json_t **meta)
{
	json_error_t jerr;
	char *text;
	int rc;

	if ((rc = vfs_meta(v, ref, &text)) != 0)
		return rc;
	*meta = json_loads(text, 0, &jerr);
	free(text);
	return *meta != NULL ? 0 : lib_fail(v, -EPROTO, "%s: meta.json is not JSON: %s", ref, jerr.text);
}

int
vfs_list(vfs_t *v, int (*fn)(void *arg, const char *name, const char *id), void *arg)
{
	char path[PATH_MAX], id[VFS_ID_SIZE];
	struct dirent *de;
	DIR *d;
	int rc;

	if ((rc = lib_path(v, path, "names", NULL)) != 0)
		return rc;
	if ((d = opendir(path)) == NULL)
		return lib_fail(v, -errno, "%s: %s", path, strerror(errno));
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
	return lib_ask_json(v, json_pack("{s:s, s:s}", "op", "delete", "id", id), NULL);
}

int
vfs_name(vfs_t *v, const char *ref, const char *name)
{
	char id[VFS_ID_SIZE];
	int rc;

	if ((rc = vfs_resolve(v, ref, id)) != 0 || (rc = lib_check_name(v, name)) != 0)
		return rc;
	return lib_ask_json(v, json_pack("{s:s, s:s, s:s}", "op", "name", "id", id, "name", name), NULL);
}

int
vfs_unname(vfs_t *v, const char *name)
{
	int rc;

	if ((rc = lib_check_name(v, name)) != 0)
		return rc;
	return lib_ask_json(v, json_pack("{s:s, s:s}", "op", "unname", "name", name), NULL);
}

int
vfs_publish(vfs_t *v, const char *ref, long timeout_ms)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	char id[VFS_ID_SIZE];
	json_t *reply = NULL;
	long waited = 0;
	int rc;

	if ((rc = vfs_resolve(v, ref, id)) != 0)
		return rc;
	rc = lib_ask_json(v, json_pack("{s:s, s:s}", "op", "publish", "id", id), &reply);
	/* A name just written is sealed by the release after its close: wait
	 * for that, as long as for etcd (at least a moment), then again. */
	if (rc == -EAGAIN && (rc = vfs_wait(v, ref, timeout_ms > 1000 ? timeout_ms : 1000, id)) == 0)
		rc = lib_ask_json(v, json_pack("{s:s, s:s}", "op", "publish", "id", id), &reply);
	if (rc != 0)
		return rc;
	/* The daemon answers at once; etcd's answer comes to publish_status. */
	for (;;) {
		const char *state = json_string_value(json_object_get(reply, "state"));

		if (state != NULL && strcmp(state, "published") == 0)
			rc = 0;
		else
			rc = -EINPROGRESS;
		json_decref(reply);
		reply = NULL;
		if (rc == 0 || waited >= timeout_ms)
			return rc;
		nanosleep(&tick, NULL);
		waited += 20;
		if ((rc = lib_ask_json(
			 v, json_pack("{s:s, s:s}", "op", "publish_status", "id", id), &reply)) != 0)
			return rc;
	}
}
