/*
 * libvineyardfs: the C client of a vineyardfs mount. It speaks only to the
 * mount (files in names/, objects/, blobs/ and the control file
 * .vineyardfs/ctl), so a process needs nothing but the mount to produce and
 * consume objects. See libvineyardfs(3).
 *
 * Writing: vfs_blob_create gives a writable shared mapping of a new blob;
 * fill it, vfs_blob_seal it, build objects over sealed blobs with
 * vfs_create (or vfs_put_tensor / vfs_put_blob in one call), then
 * vfs_blob_free. Reading: vfs_map maps a blob read-only; the pages are the
 * producer's pages, nothing is copied. vfs_get_table reads an Arrow table
 * (vineyard::Table or RecordBatch) the same way: each blob mapped once,
 * every column's buffers pointers into the mappings.
 *
 * Every function returning int returns 0 (or a count) on success and
 * -errno on failure; vfs_error() then says why in words. A vfs_t is not
 * thread safe: use one per thread.
 */
#ifndef VINEYARDFS_H
#define VINEYARDFS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VFS_ID_SIZE 18	/* "o" or "b", 16 hex digits, NUL */
#define VFS_DIMS_MAX 32 /* dimensions of a Tensor */
/* Names in names/ that begin so are blobs a client is still building; the
 * daemon removes them at start-up (their client is gone), listings skip
 * them. The Python module's _TMP_PREFIX is the same. */
#define VFS_TMP_PREFIX ".vfs-tmp-"

typedef struct vfs vfs_t;
typedef struct vfs_blob vfs_blob_t;

/* A mapping of a sealed blob (vfs_map), or of a Tensor (vfs_get_tensor). */
struct vfs_map {
	const void *data; /* NULL when size is 0 */
	size_t size;
};

struct vfs_tensor {
	char value_type[16]; /* "float64", "int32", "bool", ... */
	size_t ndim;
	uint64_t shape[VFS_DIMS_MAX];
	struct vfs_map map; /* the buffer_ blob, C order */
};

/* Open the mount at path (NULL: $VINEYARDFS_MOUNT, else /vineyard);
 * -ENOTCONN/-ENOENT when it is not a vineyardfs mount. */
int vfs_open(const char *path, vfs_t **out);
void vfs_close(vfs_t *v);
/* Why the last call on v failed ("" if it did not). Valid until the next. */
const char *vfs_error(const vfs_t *v);
/* The mount point v speaks to. */
const char *vfs_mount_point(const vfs_t *v);

/* A new unsealed blob of size bytes, mapped writable at *data (NULL for 0
 * bytes). Free with vfs_blob_free. */
int vfs_blob_create(vfs_t *v, size_t size, vfs_blob_t **out, void **data);
/* Unmap, close and wait until the blob is sealed; its id ("b…") in id. */
int vfs_blob_seal(vfs_t *v, vfs_blob_t *b, char id[VFS_ID_SIZE]);
/* Let go of b: an unsealed blob is discarded; a sealed one lives on only
 * in the objects made over it since (else it is deleted). */
void vfs_blob_free(vfs_t *v, vfs_blob_t *b);

/* A member of a new object: name -> an object id "o…" or blob id "b…". */
struct vfs_member {
	const char *name;
	const char *id;
};

/* Create an object of typename with fields (a JSON object's text, or
 * NULL) and members, optionally named, mode 0644; its id in id. The
 * daemon checks the type's rules: -EINVAL with its message otherwise. */
int vfs_create(vfs_t *v, const char *typename, const char *fields_json, const struct vfs_member *members,
    size_t nmembers, const char *name, char id[VFS_ID_SIZE]);
/* A Blob object holding a copy of size bytes at data. */
int vfs_put_blob(vfs_t *v, const void *data, size_t size, const char *name, char id[VFS_ID_SIZE]);
/* A Tensor of value_type and shape over a copy of data (the product of
 * shape items of value_type, C order). */
int vfs_put_tensor(vfs_t *v, const char *value_type, size_t ndim, const uint64_t *shape, const void *data,
    const char *name, char id[VFS_ID_SIZE]);

/* The object id a name or an id ("o…") refers to. */
int vfs_resolve(vfs_t *v, const char *ref, char id[VFS_ID_SIZE]);
/* Block until name names a sealed object, for at most timeout_ms (< 0: no
 * limit); -ETIMEDOUT after it, -EINTR on a signal. */
int vfs_wait(vfs_t *v, const char *name, long timeout_ms, char id[VFS_ID_SIZE]);
/* The whole metadata tree of an object as JSON text; caller frees. */
int vfs_meta(vfs_t *v, const char *ref, char **json);
/* Map a blob read-only: ref is a blob id ("b…") with member NULL, or an
 * object (name or id) with the path of a blob member below it ("buffer_",
 * "column/buffer_"). Release with vfs_unmap. */
int vfs_map(vfs_t *v, const char *ref, const char *member, struct vfs_map *m);
void vfs_unmap(struct vfs_map *m);
/* Map a Tensor (by name or id): its type, shape and buffer_. Release with
 * vfs_unmap(&t->map). */
int vfs_get_tensor(vfs_t *v, const char *ref, struct vfs_tensor *t);

/* Arrow's logical types, as vineyardfs(7) lists them (the same values as
 * the daemon's core/arrow_type.h). */
enum vfs_arrow_kind {
	VFS_ARROW_INT,	     /* signed, width 8..64 */
	VFS_ARROW_UINT,	     /* unsigned, width 8..64 */
	VFS_ARROW_FLOAT,     /* width 32 (float) or 64 (double) */
	VFS_ARROW_BOOL,	     /* width 1: bit-packed, LSB first */
	VFS_ARROW_STRING,    /* UTF-8; width = bits of an offset, 32 or 64 */
	VFS_ARROW_BINARY,    /* bytes; width = bits of an offset, 32 or 64 */
	VFS_ARROW_TIMESTAMP, /* int64 since the epoch in unit, tz optional */
	VFS_ARROW_DATE,	     /* date32[day] (int32) or date64[ms] (int64) */
	VFS_ARROW_DURATION,  /* int64 in unit */
};

enum vfs_arrow_unit {
	VFS_ARROW_UNIT_NONE,
	VFS_ARROW_UNIT_SECOND,
	VFS_ARROW_UNIT_MILLI,
	VFS_ARROW_UNIT_MICRO,
	VFS_ARROW_UNIT_NANO,
	VFS_ARROW_UNIT_DAY,
};

struct vfs_arrow_type {
	enum vfs_arrow_kind kind; /* of the values (a dictionary's values) */
	unsigned width;		  /* bits of a value, or of an offset (string/binary) */
	enum vfs_arrow_unit unit;
	char tz[64];	      /* timestamps: the time zone, "" when naive */
	int dictionary;	      /* values are indices into a dictionary */
	unsigned index_width; /* dictionary: bits of a signed index */
	int ordered;	      /* dictionary: the categories are ordered */
	char text[160];	      /* pyarrow's type string: "timestamp[ns, tz=UTC]" */
};

/* One array (a column of one batch) in Arrow's layout. Slot i of the
 * array is entry offset + i of its buffers. The pointers point into the
 * table's mappings: valid until vfs_table_free. */
struct vfs_arrow_array {
	struct vfs_arrow_type type;
	uint64_t length, null_count, offset;
	const uint8_t *validity; /* bit (offset + i), LSB first, 1 = valid; NULL: no nulls */
	const void *values;	 /* fixed-width values, bool bits, or a dictionary's indices */
	const void *offsets;	 /* string/binary: length + 1 (from offset) int32/int64 offsets */
	const uint8_t *data;	 /* string/binary: the bytes the offsets point into */
	uint64_t validity_size, values_size, offsets_size, data_size; /* bytes */
	struct vfs_arrow_array *dictionary;			      /* dictionary arrays: the values */
};

struct vfs_arrow_field {
	char *name;
	struct vfs_arrow_type type;
	int nullable;
};

struct vfs_arrow_batch {
	uint64_t rows;
	struct vfs_arrow_array *columns; /* one per field */
};

struct vfs_table {
	size_t nfields;
	struct vfs_arrow_field *fields;
	uint64_t rows; /* of all batches */
	size_t nbatches;
	struct vfs_arrow_batch *batches;
	size_t nmaps; /* the blobs mapped, once each (private) */
	struct vfs_map *maps;
	char (*map_ids)[VFS_ID_SIZE];
};

/* Read an Arrow table (a vineyard::Table, or a vineyard::RecordBatch as a
 * table of one batch) by name or id: its schema and, per batch and
 * column, the array with its buffers mapped (BufferViews resolved); no
 * value is copied. Release with vfs_table_free. */
int vfs_get_table(vfs_t *v, const char *ref, struct vfs_table *t);
void vfs_table_free(struct vfs_table *t);
/* Is slot i of a valid (not null)? */
int vfs_arrow_valid(const struct vfs_arrow_array *a, uint64_t i);
/* Slot i of a string/binary array: its bytes (not NUL-terminated), its
 * length in *len. */
const char *vfs_arrow_string(const struct vfs_arrow_array *a, uint64_t i, size_t *len);

/* Call fn for each name and the object id it names, in no order; a
 * non-zero return from fn stops and is returned. */
int vfs_list(vfs_t *v, int (*fn)(void *arg, const char *name, const char *id), void *arg);
/* Delete an object (by name or id) with its names and the members no
 * other object holds; -EBUSY while another object holds it. */
int vfs_delete(vfs_t *v, const char *ref);
/* Give an object one more name; take a name away (the object stays). */
int vfs_name(vfs_t *v, const char *ref, const char *name);
int vfs_unname(vfs_t *v, const char *name);

/* Publish an object (by name or id) to the cluster the mount belongs to,
 * with its member objects and names (vineyardfs(8), CLUSTER); a name
 * whose object is still being written is waited for until sealed (as long
 * as timeout_ms, at least a second). The daemon
 * queues it at once; this call then waits up to timeout_ms (0: not at
 * all) for etcd's answer: 0 published, -EINPROGRESS still queued (etcd
 * away: it is published when etcd answers), -EEXIST a name of it is
 * another object's in the cluster, -ENOTCONN the mount is in no cluster,
 * -EREMOTE another member's object. */
int vfs_publish(vfs_t *v, const char *ref, long timeout_ms);

/* Object streams. The producer opens name (EBUSY while another
 * produces it), pushes objects by id (their index, or -errno) and closes
 * it: complete (its Sequence's id in id) or, with error, failed. Until
 * vfs_stream_close it holds a control file open; a producer that dies
 * fails the stream. */
typedef struct vfs_stream vfs_stream_t;
int vfs_stream_open(vfs_t *v, const char *name, vfs_stream_t **out);
int vfs_stream_push(vfs_t *v, vfs_stream_t *st, const char *id);
int vfs_stream_close(vfs_t *v, vfs_stream_t *st, const char *error, char id[VFS_ID_SIZE]);
/* Object index of stream name: 1 with its id, 0 after the last one of a
 * complete stream, -EIO once failed, -ETIMEDOUT after timeout_ms (< 0:
 * no limit) while the producer is slow, -EINTR on a signal. */
int vfs_stream_next(vfs_t *v, const char *name, unsigned index, long timeout_ms, char id[VFS_ID_SIZE]);

/* One raw control request (JSON text); the reply's text in *reply,
 * caller frees. The return is the reply's errno negated (0 when "ok"). */
int vfs_request(vfs_t *v, const char *request, char **reply);

#ifdef __cplusplus
}
#endif

#endif
