/*
 * blob: a blob is written through the mount: born as a Blob object under a
 * hidden name in names/ (VFS_TMP_PREFIX "…", which listings skip), filled
 * through a shared mapping, sealed by its writer's close; its temporary
 * Blob object goes when the caller lets go of it (vfs_blob_free), the
 * blob living on in the objects made over it. Reading maps a blob file
 * read-only: the producer's pages, nothing copied.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <jansson.h>

#include "core/types.h"
#include "include/vineyardfs.h"
#include "lib/lib_i.h"

#define SEAL_TIMEOUT_MS 60000 /* the seal comes just after the close */

struct vfs_blob {
	char tmp[64]; /* its name in names/ */
	int fd;	      /* until sealed */
	void *data;
	size_t size;
	int sealed;
};

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

	if ((rc = lib_path(v, path, "names", tmp)) != 0)
		return rc;
	if ((n = getxattr(path, "user.vineyard.member.buffer_", id, VFS_ID_SIZE - 1)) != VFS_ID_SIZE - 1)
		return lib_fail(v, n < 0 ? -errno : -EPROTO, "%s: no blob id: %s", path,
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
		return lib_fail(v, -ENOMEM, "out of memory");
	b->fd = -1;
	tmp_name(v, b->tmp, sizeof b->tmp);
	if ((rc = lib_path(v, path, "names", b->tmp)) != 0)
		goto fail;
	if ((b->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		rc = lib_fail(v, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	/* Reserve the memory now: a store that runs out later would kill the
	 * writer of the mapping with SIGBUS instead of failing here. */
	if (size > 0 && fallocate(b->fd, 0, 0, (off_t)size) != 0) {
		if (errno != EOPNOTSUPP && errno != ENOSYS) {
			rc = lib_fail(v, -errno, "a blob of %zu bytes: %s", size, strerror(errno));
			goto fail;
		}
		if (ftruncate(b->fd, (off_t)size) != 0) { /* a daemon without fallocate */
			rc = lib_fail(v, -errno, "a blob of %zu bytes: %s", size, strerror(errno));
			goto fail;
		}
	}
	if (size > 0 &&
	    (b->data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0)) == MAP_FAILED) {
		b->data = NULL;
		rc = lib_fail(v, -errno, "mapping a blob of %zu bytes: %s", size, strerror(errno));
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
		return lib_fail(v, rc, "closing the blob: %s", strerror(-rc));
	/* The kernel's release after the close seals it. */
	if ((rc = vfs_wait(v, b->tmp, SEAL_TIMEOUT_MS, oid)) != 0)
		return rc == -ETIMEDOUT ? lib_fail(v, rc, "the blob was not sealed in time (discarded?)")
					: rc;
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
	if (lib_path(v, path, "names", b->tmp) == 0)
		unlink(path);
	free(b);
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
		if (!lib_is_id(ref, 'b'))
			return lib_fail(
			    v, -EINVAL, "\"%.64s\" is not a blob id (b…); give a member of an object", ref);
		rc = lib_path(v, path, "blobs", ref);
	} else {
		if (strstr(member, "..") != NULL || member[0] == '/')
			return lib_fail(v, -EINVAL, "bad member path \"%.64s\"", member);
		if ((rc = vfs_resolve(v, ref, id)) != 0)
			return rc;
		if (asprintf(&rel, "%s/%s", id, member) < 0)
			return lib_fail(v, -ENOMEM, "out of memory");
		rc = lib_path(v, path, "objects", rel);
		free(rel);
	}
	if (rc != 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return lib_fail(v, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0)
		rc = lib_fail(v, -errno, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = lib_fail(v, -EISDIR, "%s: not a blob", path);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	if (st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);

		if (p == MAP_FAILED) {
			rc = lib_fail(v, -errno, "mapping %s: %s", path, strerror(errno));
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
	size_t i;
	int rc;

	memset(t, 0, sizeof *t);
	if ((rc = lib_meta_tree(v, ref, &meta)) != 0)
		return rc;
	type = json_string_value(json_object_get(meta, "typename"));
	vt = json_string_value(json_object_get(meta, "value_type_"));
	if (type == NULL || strcmp(type, "Tensor") != 0) {
		rc = lib_fail(v, -EINVAL, "%s is a %s, not a Tensor", ref, type ? type : "?");
		json_decref(meta);
		return rc;
	}
	shape = shape_of(meta);
	if (vt == NULL || strlen(vt) >= sizeof t->value_type || !json_is_array(shape) ||
	    json_array_size(shape) > VFS_DIMS_MAX) {
		json_decref(shape);
		json_decref(meta);
		return lib_fail(v, -EPROTO, "%s: a Tensor without a usable value_type_ or shape_", ref);
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
		return lib_fail(v, -EPROTO, "%s: buffer_ holds %zu bytes, the shape needs %llu", ref,
		    t->map.size, (unsigned long long)(count * types_item_size(t->value_type)));
	}
	return 0;
}
