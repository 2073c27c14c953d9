/*
 * object: Vineyard's metadata model as JSON. Renders an object's metadata
 * tree (meta.json), validates user-settable fields and their values, and
 * formats fields as xattr values.
 */
#ifndef VFS_OBJECT_H
#define VFS_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define OBJECT_FIELD_NAME_MAX 64
#define OBJECT_FIELD_VALUE_MAX 4096
#define OBJECT_TYPE_BLOB "Blob"
#define OBJECT_BLOB_MEMBER "buffer_"

/* What an object's metadata tree is built from. */
struct object_info {
	uint64_t id;
	const char *typename;
	uint64_t signature;
	uint64_t nbytes;
	unsigned instance_id;
	int sealed;
	int global;	  /* a member of its tree is another instance's */
	int64_t ctime_ns; /* creation (Vineyard's "ctime"), not stat's */
};

/* A name user.vineyard.* keeps for itself; no field or member may take it. */
struct object_key {
	const char *name;
	unsigned flags;
#define OBJECT_KEY_TREE 0x1   /* at the top of every metadata tree (object_meta) */
#define OBJECT_KEY_OBJECT 0x2 /* a read-only xattr of every object */
#define OBJECT_KEY_BLOB 0x4   /* a read-only xattr of every raw blob */
};
/* The reserved keys, in listxattr's order, ending with a NULL name. */
extern const struct object_key object_keys[];

/* Is name a key every metadata tree has at its top (typename, id, ...)?
 * Neither a field nor a member may be named so. */
int object_tree_key(const char *name);
/* Is name a field a user may set (letters, _, digits and - after the first,
 * as v6d's "partitions_-size")? 0, -EINVAL (malformed), -EPERM (reserved). */
int object_field_name_check(const char *name);
/* Parse a field value as given to setxattr; new reference or NULL with
 * -EINVAL in *err (too long, NUL bytes, not UTF-8). */
json_t *object_field_value_parse(const char *value, size_t len, int *err);
/* Format a field value for getxattr: strings raw, others as compact JSON.
 * Caller frees. */
char *object_field_value_format(const json_t *v, size_t *len);
/* Parse a stored fields text ("{...}" or NULL) into a new object. */
json_t *object_fields_load(const char *text);
/* Serialize fields compactly and sorted; NULL for an empty object. Caller frees. */
char *object_fields_dump(const json_t *fields);
/* The metadata tree of a raw blob, as a member. New reference. */
json_t *object_blob_meta(uint64_t id, uint64_t nbytes, unsigned instance_id, int sealed);
/* The metadata tree of an object: info, then fields, then members (name ->
 * tree; references are stolen from members, which may be NULL). */
json_t *object_meta(const struct object_info *info, const json_t *fields, json_t *members);
/* v as JSON text (json_dumps flags) ending in a newline, as files and
 * shell readers expect; *len without the NUL. Caller frees; NULL when v
 * is NULL or out of memory. */
char *object_dump_line(const json_t *v, size_t flags, size_t *len);
/* ISO 8601 UTC with nanoseconds, into buf (at least 40 bytes). */
void object_format_time(int64_t ns, char *buf, size_t len);

#endif
