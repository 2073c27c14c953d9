/*
 * arrow: Arrow tables read from a mount (vfs_get_table). The table's
 * metadata tree (meta.json) says where every buffer is: a raw blob, or a
 * BufferView (a range of one, as in packed tables, whose buffers all lie
 * in the one ipc_ blob). Each blob is mapped once, read-only, and the
 * arrays point into the mappings; the table owns them until
 * vfs_table_free. The daemon checked the layout's rules at create
 * (vineyardfs(7)); here each range is checked against its mapping only, so
 * that a wrong tree cannot make a reader run off a map.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/arrow_type.h"
#include "core/types_i.h"
#include "include/vineyardfs.h"
#include "lib/lib_i.h"

/* The public mirror has the values of core's enums. */
_Static_assert((int)VFS_ARROW_DURATION == (int)ARROW_DURATION, "enum vfs_arrow_kind");
_Static_assert((int)VFS_ARROW_UNIT_DAY == (int)ARROW_UNIT_DAY, "enum vfs_arrow_unit");
_Static_assert(sizeof((struct vfs_arrow_type *)0)->tz == ARROW_TZ_MAX, "tz");
_Static_assert(sizeof((struct vfs_arrow_type *)0)->text == ARROW_TYPE_STR_MAX, "text");

#define NS "vineyard::"

/* t as the public type; 0, or -EINVAL. */
static int
public_type(const struct arrow_type *t, struct vfs_arrow_type *out)
{
	memset(out, 0, sizeof *out);
	out->kind = (enum vfs_arrow_kind)t->value.kind;
	out->width = t->value.width;
	out->unit = (enum vfs_arrow_unit)t->value.unit;
	memcpy(out->tz, t->value.tz, sizeof out->tz);
	out->dictionary = t->dictionary;
	out->index_width = t->index_width;
	out->ordered = t->ordered;
	return arrow_type_format(t, out->text, sizeof out->text) == 0 ? 0 : -EINVAL;
}

/* Blob id's bytes, mapped once per table. */
static int
map_blob(vfs_t *v, struct vfs_table *t, const char *id, const struct vfs_map **out)
{
	struct vfs_map *maps;
	char(*ids)[VFS_ID_SIZE];
	size_t i;
	int rc;

	if (id == NULL || strlen(id) != VFS_ID_SIZE - 1)
		return lib_fail(v, -EPROTO, "a buffer without a blob id");
	for (i = 0; i < t->nmaps; i++)
		if (strcmp(t->map_ids[i], id) == 0) {
			*out = &t->maps[i];
			return 0;
		}
	if ((maps = realloc(t->maps, (t->nmaps + 1) * sizeof *maps)) == NULL)
		return lib_fail(v, -ENOMEM, "out of memory");
	t->maps = maps;
	if ((ids = realloc(t->map_ids, (t->nmaps + 1) * sizeof *ids)) == NULL)
		return lib_fail(v, -ENOMEM, "out of memory");
	t->map_ids = ids;
	if ((rc = vfs_map(v, id, NULL, &t->maps[t->nmaps])) != 0)
		return rc;
	memcpy(t->map_ids[t->nmaps], id, VFS_ID_SIZE);
	*out = &t->maps[t->nmaps++];
	return 0;
}

/* Buffer member name of tree (a blob, or a BufferView into one): where its
 * bytes are mapped. An empty buffer is NULL. */
static int
buffer(vfs_t *v, struct vfs_table *t, const json_t *tree, const char *name, const void **p, uint64_t *size)
{
	const json_t *m = json_object_get(tree, name), *blob = m;
	const struct vfs_map *map = NULL;
	uint64_t off = 0;
	int rc;

	*p = NULL;
	*size = 0;
	if (!json_is_object(m))
		return lib_fail(v, -EPROTO, "member %s is missing", name);
	if (strcmp(types_get_str(m, "typename") ? types_get_str(m, "typename") : "", NS "BufferView") == 0) {
		blob = json_object_get(m, "buffer_");
		if (types_get_count(m, "offset_", &off) != 0 || types_get_count(m, "size_", size) != 0)
			return lib_fail(v, -EPROTO, "%s: a BufferView without offset_ and size_", name);
	} else if (types_get_count(m, "nbytes", size) != 0)
		return lib_fail(v, -EPROTO, "%s: a blob without nbytes", name);
	if (*size == 0)
		return 0;
	if ((rc = map_blob(v, t, types_get_str(blob, "id"), &map)) != 0)
		return rc;
	if (off > map->size || *size > map->size - off)
		return lib_fail(v, -EPROTO, "%s: bytes %llu..%llu are past the %zu of its blob", name,
		    (unsigned long long)off, (unsigned long long)(off + *size), map->size);
	*p = (const uint8_t *)map->data + off;
	return 0;
}

static void
array_free(struct vfs_arrow_array *a)
{
	if (a != NULL && a->dictionary != NULL) {
		array_free(a->dictionary);
		free(a->dictionary);
		a->dictionary = NULL;
	}
}

/* An array's tree into *a, its buffers mapped. */
static int
get_array(vfs_t *v, struct vfs_table *t, const json_t *tree, struct vfs_arrow_array *a, int depth)
{
	const char *tn = types_get_str(tree, "typename"), *dt = types_get_str(tree, "data_type_");
	const json_t *ind;
	struct arrow_type type;
	const void *p;
	int rc;

	memset(a, 0, sizeof *a);
	if (depth > 4)
		return lib_fail(v, -EPROTO, "dictionaries nest too deep");
	if ((rc = arrow_typename_parse(tn, &type)) == -ENOENT ||
	    (rc != 0 && (dt == NULL || arrow_type_parse(dt, &type) != 0)))
		return lib_fail(v, -EPROTO, "%s is not an Arrow array", tn ? tn : "(no typename)");
	if (public_type(&type, &a->type) != 0 || types_get_count(tree, "length_", &a->length) != 0 ||
	    types_get_count(tree, "null_count_", &a->null_count) != 0 ||
	    types_get_count(tree, "offset_", &a->offset) != 0)
		return lib_fail(v, -EPROTO, "%s: no length_, null_count_, offset_", tn);
	if (type.dictionary) {
		ind = json_object_get(tree, "indices_");
		if ((rc = buffer(v, t, ind, "buffer_", &a->values, &a->values_size)) != 0 ||
		    (rc = buffer(v, t, ind, "null_bitmap_", &p, &a->validity_size)) != 0 ||
		    types_get_count(ind, "offset_", &a->offset) != 0)
			return rc != 0 ? rc : lib_fail(v, -EPROTO, "indices_ without offset_");
		a->validity = a->null_count > 0 ? p : NULL;
		if ((a->dictionary = malloc(sizeof *a->dictionary)) == NULL)
			return lib_fail(v, -ENOMEM, "out of memory");
		return get_array(v, t, json_object_get(tree, "dictionary_"), a->dictionary, depth + 1);
	}
	if ((rc = buffer(v, t, tree, "null_bitmap_", &p, &a->validity_size)) != 0)
		return rc;
	a->validity = a->null_count > 0 ? p : NULL;
	if (type.value.kind == ARROW_STRING || type.value.kind == ARROW_BINARY) {
		if ((rc = buffer(v, t, tree, "buffer_offsets_", &a->offsets, &a->offsets_size)) != 0 ||
		    (rc = buffer(v, t, tree, "buffer_data_", &p, &a->data_size)) != 0)
			return rc;
		a->data = p;
		if (a->offsets_size < (a->offset + a->length + 1) * (type.value.width / 8))
			return lib_fail(v, -EPROTO, "%s: offsets too short", tn);
		return 0;
	}
	if ((rc = buffer(v, t, tree, "buffer_", &a->values, &a->values_size)) != 0)
		return rc;
	if (a->values_size < (type.value.kind == ARROW_BOOL
				     ? (a->offset + a->length + 7) / 8
				     : (a->offset + a->length) * (type.value.width / 8)))
		return lib_fail(v, -EPROTO, "%s: buffer_ too short", tn);
	return 0;
}

/* fields_ of a SchemaProxy: an array or its JSON text. */
static int
get_fields(vfs_t *v, struct vfs_table *t, const json_t *schema)
{
	json_t *fields = json_object_get(schema, "fields_"), *f;
	struct arrow_type type;
	size_t i;
	int rc = 0;

	if (json_is_string(fields))
		fields = json_loads(json_string_value(fields), 0, NULL);
	else
		json_incref(fields);
	if (!json_is_array(fields)) {
		rc = lib_fail(v, -EPROTO, "schema_ has no fields_");
		goto out;
	}
	if ((t->fields = calloc(json_array_size(fields) + 1, sizeof *t->fields)) == NULL) {
		rc = lib_fail(v, -ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach (fields, i, f) {
		struct vfs_arrow_field *out = &t->fields[t->nfields];

		if (types_get_str(f, "name") == NULL ||
		    arrow_type_parse(types_get_str(f, "type"), &type) != 0 ||
		    public_type(&type, &out->type) != 0) {
			rc = lib_fail(v, -EPROTO, "schema_: field %zu is not a name and a type", i);
			goto out;
		}
		if ((out->name = strdup(types_get_str(f, "name"))) == NULL) {
			rc = lib_fail(v, -ENOMEM, "out of memory");
			goto out;
		}
		out->nullable = json_is_true(json_object_get(f, "nullable"));
		t->nfields++;
	}
out:
	json_decref(fields);
	return rc;
}

/* RecordBatch tree into batch b, the table's fields known. */
static int
get_batch(vfs_t *v, struct vfs_table *t, const json_t *tree, struct vfs_arrow_batch *b)
{
	char name[48];
	size_t i;
	int rc;

	if (types_get_count(tree, "row_num_", &b->rows) != 0)
		return lib_fail(v, -EPROTO, "a RecordBatch without row_num_");
	if ((b->columns = calloc(t->nfields + 1, sizeof *b->columns)) == NULL)
		return lib_fail(v, -ENOMEM, "out of memory");
	for (i = 0; i < t->nfields; i++) {
		snprintf(name, sizeof name, "__columns_-%zu", i);
		if ((rc = get_array(v, t, json_object_get(tree, name), &b->columns[i], 0)) != 0)
			return rc;
		if (b->columns[i].length != b->rows)
			return lib_fail(v, -EPROTO, "%s: %llu slots in %llu rows", name,
			    (unsigned long long)b->columns[i].length, (unsigned long long)b->rows);
	}
	t->rows += b->rows;
	return 0;
}

int
vfs_get_table(vfs_t *v, const char *ref, struct vfs_table *t)
{
	json_t *meta = NULL;
	const char *tn;
	char name[48];
	uint64_t n, i;
	int rc;

	memset(t, 0, sizeof *t);
	if ((rc = lib_meta_tree(v, ref, &meta)) != 0)
		return rc;
	tn = types_get_str(meta, "typename");
	if (tn == NULL || (strcmp(tn, NS "Table") != 0 && strcmp(tn, NS "RecordBatch") != 0)) {
		rc = lib_fail(v, -EINVAL, "%s is a %s, not a " NS "Table or RecordBatch", ref, tn ? tn : "?");
		goto out;
	}
	if ((rc = get_fields(v, t, json_object_get(meta, "schema_"))) != 0)
		goto out;
	if (strcmp(tn, NS "RecordBatch") == 0) {
		t->nbatches = 1;
		if ((t->batches = calloc(1, sizeof *t->batches)) == NULL)
			rc = lib_fail(v, -ENOMEM, "out of memory");
		else
			rc = get_batch(v, t, meta, &t->batches[0]);
		goto out;
	}
	if (types_get_count(meta, "batch_num_", &n) != 0 || n > 1000000) {
		rc = lib_fail(v, -EPROTO, "%s: batch_num_ is not a count", ref);
		goto out;
	}
	if ((t->batches = calloc(n + 1, sizeof *t->batches)) == NULL) {
		rc = lib_fail(v, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(name, sizeof name, "partitions_-%llu", (unsigned long long)i);
		t->nbatches++;
		rc = get_batch(v, t, json_object_get(meta, name), &t->batches[i]);
	}
out:
	json_decref(meta);
	if (rc != 0)
		vfs_table_free(t);
	return rc;
}

void
vfs_table_free(struct vfs_table *t)
{
	size_t i, j;

	for (i = 0; i < t->nbatches; i++) {
		for (j = 0; t->batches[i].columns != NULL && j < t->nfields; j++)
			array_free(&t->batches[i].columns[j]);
		free(t->batches[i].columns);
	}
	free(t->batches);
	for (i = 0; i < t->nfields; i++)
		free(t->fields[i].name);
	free(t->fields);
	for (i = 0; i < t->nmaps; i++)
		vfs_unmap(&t->maps[i]);
	free(t->maps);
	free(t->map_ids);
	memset(t, 0, sizeof *t);
}

int
vfs_arrow_valid(const struct vfs_arrow_array *a, uint64_t i)
{
	uint64_t bit = a->offset + i;

	return a->validity == NULL || (a->validity[bit >> 3] >> (bit & 7) & 1);
}

const char *
vfs_arrow_string(const struct vfs_arrow_array *a, uint64_t i, size_t *len)
{
	uint64_t k = a->offset + i, from, to;

	if (a->type.width == 64) {
		const int64_t *o = a->offsets;

		from = (uint64_t)o[k];
		to = (uint64_t)o[k + 1];
	} else {
		const int32_t *o = a->offsets;

		from = (uint64_t)(uint32_t)o[k];
		to = (uint64_t)(uint32_t)o[k + 1];
	}
	*len = (size_t)(to - from);
	return a->data != NULL ? (const char *)a->data + from : "";
}
