/*
 * table_put: packed vineyard::Tables (man vineyardfs.7) from CSV and from
 * Arrow IPC files, for vineyardfs put. Both end in one blob whose bytes
 * are a complete Arrow IPC file, the Table's member ipc_, and a tree of
 * objects whose every buffer is a BufferView into it at the offsets the
 * IPC metadata names: CSV columns are laid out by core's IPC writer
 * (arrow_ipc_layout) and written into the blob's mapping once; an .arrow
 * file is copied into the blob as it is, its buffers where the reader
 * found them. The tree is made bottom-up through the control file; a
 * failure deletes what was made.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "core/arrow_ipc.h"

/* The objects made so far, deleted if the table cannot be finished. */
struct made {
	char (*ids)[VFS_ID_SIZE];
	size_t n, cap;
};

/* Create typename with fields (stolen) and members; its id in id. */
static int
create(vfs_t *v, struct made *mk, const char *typename, json_t *fields, const struct vfs_member *ms, size_t n,
    const char *name, char id[VFS_ID_SIZE])
{
	char *text = fields != NULL ? json_dumps(fields, JSON_COMPACT) : NULL;
	int rc;

	json_decref(fields);
	if (text == NULL)
		return cli_fail("out of memory");
	if (mk->n == mk->cap) {
		size_t cap = mk->cap ? 2 * mk->cap : 64;
		void *ids = realloc(mk->ids, cap * sizeof *mk->ids);

		if (ids == NULL) {
			free(text);
			return cli_fail("out of memory");
		}
		mk->ids = ids;
		mk->cap = cap;
	}
	rc = vfs_create(v, typename, text, ms, n, name, id);
	free(text);
	if (rc != 0)
		return cli_lib_fail(v, typename, rc);
	memcpy(mk->ids[mk->n++], id, VFS_ID_SIZE);
	return 0;
}

/* A BufferView of buffer b of the blob. */
static int
view(vfs_t *v, struct made *mk, const char *blob, const struct arrow_ipc_buffer *b, char id[VFS_ID_SIZE])
{
	const struct vfs_member m = { "buffer_", blob };

	return create(v, mk, "vineyard::BufferView",
	    json_pack(
		"{s:I, s:I}", "offset_", (json_int_t)(b->size ? b->offset : 0), "size_", (json_int_t)b->size),
	    &m, 1, NULL, id);
}

/* An array of type t over a's buffers in the blob; dict: the id of a
 * dictionary column's values (made once per field). */
static int
array(vfs_t *v, struct made *mk, const char *blob, const struct arrow_type *t,
    const struct arrow_ipc_array *a, const char *dict, char id[VFS_ID_SIZE])
{
	static const char *const plain[] = { "null_bitmap_", "buffer_" };
	static const char *const text[] = { "null_bitmap_", "buffer_offsets_", "buffer_data_" };
	char ids[ARROW_IPC_MAX_BUFFERS][VFS_ID_SIZE], tn[ARROW_TYPE_STR_MAX], ts[ARROW_TYPE_STR_MAX];
	struct vfs_member ms[ARROW_IPC_MAX_BUFFERS];
	struct arrow_type it;
	unsigned i;
	int rc;

	if (t->dictionary) {
		char ind[VFS_ID_SIZE];

		/* The indices carry the nulls; the values are the field's. */
		memset(&it, 0, sizeof it);
		it.value.kind = ARROW_INT;
		it.value.width = t->index_width;
		if ((rc = array(v, mk, blob, &it, a, NULL, ind)) != 0)
			return rc;
		ms[0] = (struct vfs_member){ "indices_", ind };
		ms[1] = (struct vfs_member){ "dictionary_", dict };
		arrow_type_format(t, ts, sizeof ts);
		return create(v, mk, "vineyard::DictionaryArray",
		    json_pack("{s:I, s:I, s:i, s:s}", "length_", (json_int_t)a->length, "null_count_",
			(json_int_t)a->null_count, "offset_", 0, "data_type_", ts),
		    ms, 2, NULL, id);
	}
	for (i = 0; i < a->nbuffers; i++) {
		if ((rc = view(v, mk, blob, &a->buffers[i], ids[i])) != 0)
			return rc;
		ms[i] = (struct vfs_member){ a->nbuffers == 3 ? text[i] : plain[i], ids[i] };
	}
	if (arrow_typename(t, tn, sizeof tn) != 0 || arrow_type_format(t, ts, sizeof ts) != 0)
		return cli_fail("a type name too long");
	return create(v, mk, tn,
	    json_pack("{s:I, s:I, s:i, s:s}", "length_", (json_int_t)a->length, "null_count_",
		(json_int_t)a->null_count, "offset_", 0, "data_type_", ts),
	    ms, a->nbuffers, NULL, id);
}

/* The tree of a packed table over blob (an IPC file d describes), named
 * name; the Table's id in id. */
static int
tree(vfs_t *v, const struct arrow_ipc_desc *d, const char *blob, const char *name, char id[VFS_ID_SIZE])
{
	char schema[VFS_ID_SIZE], ts[ARROW_TYPE_STR_MAX], key[32];
	char(*dicts)[VFS_ID_SIZE] = calloc(d->nfields ? d->nfields : 1, VFS_ID_SIZE);
	char(*cols)[VFS_ID_SIZE] = calloc(d->nfields ? d->nfields : 1, VFS_ID_SIZE);
	char(*batches)[VFS_ID_SIZE] = calloc(d->nbatches ? d->nbatches : 1, VFS_ID_SIZE);
	struct vfs_member *ms = calloc(d->nfields + d->nbatches + 2, sizeof *ms);
	char(*keys)[32] = calloc(d->nfields + d->nbatches + 2, 32);
	json_t *fields = json_array(), *tf;
	struct made mk = { 0 };
	uint64_t rows = 0;
	unsigned i, b;
	size_t tl = 0;
	char *textual = NULL;
	int rc = 0;

	if (dicts == NULL || cols == NULL || batches == NULL || ms == NULL || keys == NULL ||
	    fields == NULL) {
		rc = cli_fail("out of memory");
		goto out;
	}
	for (i = 0; i < d->nfields; i++) {
		arrow_type_format(&d->fields[i].type, ts, sizeof ts);
		json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "name", d->fields[i].name, "type",
						  ts, "nullable", d->fields[i].nullable));
		tl += strlen(d->fields[i].name) + strlen(ts) + 3;
	}
	if ((textual = calloc(1, tl + 1)) == NULL) {
		rc = cli_fail("out of memory");
		goto out;
	}
	for (i = 0; i < d->nfields; i++) {
		arrow_type_format(&d->fields[i].type, ts, sizeof ts);
		sprintf(textual + strlen(textual), "%s%s: %s", i ? "\n" : "", d->fields[i].name, ts);
	}
	if ((rc = create(v, &mk, "vineyard::SchemaProxy",
		 json_pack("{s:O, s:s}", "fields_", fields, "schema_textual_", textual), NULL, 0, NULL,
		 schema)) != 0)
		goto out;
	for (i = 0; i < d->ndicts; i++) {
		const struct arrow_ipc_dict *dd = &d->dicts[i];
		struct arrow_type vt = { .value = d->fields[dd->field].type.value };

		if ((rc = array(v, &mk, blob, &vt, &dd->values, NULL, dicts[dd->field])) != 0)
			goto out;
	}
	for (b = 0; b < d->nbatches; b++) {
		ms[0] = (struct vfs_member){ "schema_", schema };
		for (i = 0; i < d->nfields; i++) {
			if ((rc = array(v, &mk, blob, &d->fields[i].type, &d->batches[b].columns[i], dicts[i],
				 cols[i])) != 0)
				goto out;
			snprintf(keys[i + 1], 32, "__columns_-%u", i);
			ms[i + 1] = (struct vfs_member){ keys[i + 1], cols[i] };
		}
		tf = json_pack("{s:i, s:I, s:i}", "column_num_", (int)d->nfields, "row_num_",
		    (json_int_t)d->batches[b].rows, "__columns_-size", (int)d->nfields);
		if ((rc = create(
			 v, &mk, "vineyard::RecordBatch", tf, ms, d->nfields + 1, NULL, batches[b])) != 0)
			goto out;
		rows += d->batches[b].rows;
	}
	ms[0] = (struct vfs_member){ "schema_", schema };
	ms[1] = (struct vfs_member){ "ipc_", blob };
	for (b = 0; b < d->nbatches; b++) {
		snprintf(keys[b + 2], 32, "partitions_-%u", b);
		ms[b + 2] = (struct vfs_member){ keys[b + 2], batches[b] };
	}
	snprintf(key, sizeof key, "%u", d->nbatches);
	rc = create(v, &mk, "vineyard::Table",
	    json_pack("{s:I, s:i, s:i, s:i}", "num_rows_", (json_int_t)rows, "num_columns_", (int)d->nfields,
		"batch_num_", (int)d->nbatches, "partitions_-size", (int)d->nbatches),
	    ms, d->nbatches + 2, name, id);
out:
	if (rc != 0) /* nothing half-made stays: the newest first, parents before members */
		while (mk.n > 0)
			vfs_delete(v, mk.ids[--mk.n]);
	free(mk.ids);
	json_decref(fields);
	free(textual);
	free(keys);
	free(ms);
	free(batches);
	free(cols);
	free(dicts);
	return rc;
}

/* Seal blob b, whose bytes are the IPC file d describes, and make the
 * table's tree over it. */
static int
seal(vfs_t *v, vfs_blob_t *b, const struct arrow_ipc_desc *d, const char *name, char id[VFS_ID_SIZE])
{
	char blob[VFS_ID_SIZE];
	int rc;

	if ((rc = vfs_blob_seal(v, b, blob)) != 0)
		return cli_lib_fail(v, "sealing the blob", rc);
	return tree(v, d, blob, name, id);
}

/* The description of t as one batch, its buffers' sizes set. */
static int
describe(const struct csv_table *t, struct arrow_ipc_desc *d, struct arrow_ipc_array *cols)
{
	size_t i;

	memset(d, 0, sizeof *d);
	if ((d->fields = calloc(t->ncols ? t->ncols : 1, sizeof *d->fields)) == NULL)
		return -ENOMEM;
	d->nfields = (unsigned)t->ncols;
	d->nbatches = 1;
	for (i = 0; i < t->ncols; i++) {
		const struct csv_array *a = &t->cols[i];
		struct arrow_ipc_array *c = &cols[i];
		int text = a->type.value.kind == ARROW_STRING || a->type.value.kind == ARROW_BINARY;

		d->fields[i].name = (char *)a->name;
		d->fields[i].type = a->type;
		d->fields[i].nullable = 1;
		c->length = a->length;
		c->null_count = a->null_count;
		c->nbuffers = text ? 3 : 2;
		c->buffers[0].size = a->null_count ? a->validity_size : 0;
		c->buffers[1].size = a->values_size;
		if (text)
			c->buffers[2].size = a->data_size;
	}
	return 0;
}

int
table_put_csv(vfs_t *v, const struct csv_table *t, const char *name, char id[VFS_ID_SIZE])
{
	struct arrow_ipc_array *cols = calloc(t->ncols ? t->ncols : 1, sizeof *cols);
	struct arrow_ipc_batch batch = { .rows = t->nrows, .columns = cols };
	struct arrow_ipc_layout l = { 0 };
	struct arrow_ipc_desc d = { 0 };
	char err[512];
	vfs_blob_t *b = NULL;
	unsigned char *data;
	void *map;
	size_t i, k;
	int rc;

	if (cols == NULL || describe(t, &d, cols) != 0) {
		rc = cli_fail("out of memory");
		goto out;
	}
	d.batches = &batch;
	if ((rc = arrow_ipc_layout(&d, &l, err, sizeof err)) != 0) {
		rc = cli_fail("laying out the Arrow file: %s", err);
		goto out;
	}
	if ((rc = vfs_blob_create(v, l.nbytes, &b, &map)) != 0) {
		rc = cli_lib_fail(v, "creating a blob", rc);
		goto out;
	}
	/* A new blob reads as zeros: the padding is there already. */
	data = map;
	for (k = 0; k < l.npieces; k++)
		memcpy(data + l.pieces[k].offset, l.pieces[k].data, l.pieces[k].len);
	for (i = 0; i < t->ncols; i++) {
		const struct csv_array *a = &t->cols[i];
		const unsigned char *src[3] = { a->validity, a->values, a->data };

		for (k = 0; k < cols[i].nbuffers; k++)
			if (cols[i].buffers[k].size > 0)
				memcpy(data + cols[i].buffers[k].offset, src[k], cols[i].buffers[k].size);
	}
	rc = seal(v, b, &d, name, id);
out:
	if (b != NULL)
		vfs_blob_free(v, b);
	arrow_ipc_layout_free(&l);
	free(d.fields);
	free(cols);
	return rc;
}

int
table_put_ipc(vfs_t *v, int src, const char *file, size_t size, const char *name, char id[VFS_ID_SIZE])
{
	struct arrow_ipc_desc d = { 0 };
	char err[512];
	vfs_blob_t *b = NULL;
	void *img = MAP_FAILED, *map;
	int rc;

	if (size == 0 || (img = mmap(NULL, size, PROT_READ, MAP_PRIVATE, src, 0)) == MAP_FAILED)
		return cli_fail("%s: %s", file, size == 0 ? "empty, not an Arrow file" : strerror(errno));
	if ((rc = arrow_ipc_read(img, size, &d, err, sizeof err)) != 0) {
		rc = cli_fail("%s: %s", file, err);
		goto out;
	}
	/* The file is an IPC file already: its bytes, once, as they are. */
	if ((rc = vfs_blob_create(v, size, &b, &map)) != 0) {
		rc = cli_lib_fail(v, "creating a blob", rc);
		goto out;
	}
	memcpy(map, img, size);
	rc = seal(v, b, &d, name, id);
out:
	if (b != NULL)
		vfs_blob_free(v, b);
	arrow_ipc_desc_free(&d);
	munmap(img, size);
	return rc;
}
