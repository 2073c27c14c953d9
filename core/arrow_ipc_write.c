/*
 * arrow_ipc_write: arrow_ipc_layout, the IPC file writer's layout (see
 * arrow_ipc.h). Each message's metadata is padded so that its body starts
 * at a multiple of 64 from the file's start, and each body buffer and each
 * body's end are 64-aligned, so every buffer is where an mmap of the file
 * wants it. The Schema's fields carry an empty children vector, which
 * Arrow C++ insists on.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_ipc.h"
#include "arrow_ipc_i.h"
#include "util.h"
#include "flatbuf.h"

#define ROUND(x, a) (((x) + (a)-1) / (a) * (a))

static const int16_t time_units[] = {
	[ARROW_UNIT_SECOND] = 0,
	[ARROW_UNIT_MILLI] = 1,
	[ARROW_UNIT_MICRO] = 2,
	[ARROW_UNIT_NANO] = 3,
};

#define SCALAR(s, sz, v)                                          \
	{                                                         \
		.slot = (s), .size = (sz), .value = (uint64_t)(v) \
	}
#define OFFSET(s, p)                                              \
	{                                                         \
		.slot = (s), .size = 4, .offset = 1, .patch = (p) \
	}

/* The Int table of a width and signedness; returns its position. */
static size_t
int_table(struct fb_builder *b, unsigned width, int is_signed)
{
	struct fb_field f[] = { SCALAR(AIPC_INT_BITWIDTH, 4, width), SCALAR(AIPC_INT_SIGNED, 1, is_signed) };

	return fb_table(b, f, 2);
}

/* The Type union's table of v; its union tag in *tag. */
static size_t
type_table(struct fb_builder *b, const struct arrow_value_type *v, uint8_t *tag)
{
	size_t tz = 0, t;
	int16_t unit = v->unit >= ARROW_UNIT_SECOND && v->unit <= ARROW_UNIT_NANO ? time_units[v->unit] : 0;

	switch (v->kind) {
	case ARROW_INT:
	case ARROW_UINT: *tag = AIPC_TYPE_INT; return int_table(b, v->width, v->kind == ARROW_INT);
	case ARROW_FLOAT: {
		struct fb_field f[] = { SCALAR(AIPC_FLOAT_PRECISION, 2, v->width == 32 ? 1 : 2) };

		*tag = AIPC_TYPE_FLOAT;
		return fb_table(b, f, 1);
	}
	case ARROW_DATE: {
		struct fb_field f[] = { SCALAR(AIPC_DATE_UNIT, 2, v->width == 32 ? 0 : 1) };

		*tag = AIPC_TYPE_DATE;
		return fb_table(b, f, 1);
	}
	case ARROW_TIMESTAMP: {
		struct fb_field f[] = { SCALAR(AIPC_TS_UNIT, 2, unit), OFFSET(AIPC_TS_TIMEZONE, &tz) };

		*tag = AIPC_TYPE_TIMESTAMP;
		t = fb_table(b, f, v->tz[0] ? 2 : 1);
		if (v->tz[0])
			fb_patch(b, tz, fb_string(b, v->tz, strlen(v->tz)));
		return t;
	}
	case ARROW_DURATION: {
		struct fb_field f[] = { SCALAR(AIPC_DURATION_UNIT, 2, unit) };

		*tag = AIPC_TYPE_DURATION;
		return fb_table(b, f, 1);
	}
	case ARROW_BOOL: *tag = AIPC_TYPE_BOOL; break;
	case ARROW_STRING: *tag = v->width == 64 ? AIPC_TYPE_LARGE_UTF8 : AIPC_TYPE_UTF8; break;
	case ARROW_BINARY: *tag = v->width == 64 ? AIPC_TYPE_LARGE_BINARY : AIPC_TYPE_BINARY; break;
	}
	return fb_table(b, NULL, 0);
}

/* A Field table (id: its dictionary's id when dictionary-encoded). */
static size_t
field_table(struct fb_builder *b, const struct arrow_ipc_field *fd, int64_t id)
{
	size_t name, type, dict = 0, children, t, it;
	uint8_t tag = 0;
	struct fb_field f[] = {
		OFFSET(AIPC_FIELD_NAME, &name),
		SCALAR(AIPC_FIELD_NULLABLE, 1, fd->nullable != 0),
		SCALAR(AIPC_FIELD_TYPE_TYPE, 1, 0),
		OFFSET(AIPC_FIELD_TYPE, &type),
		OFFSET(AIPC_FIELD_CHILDREN, &children),
		OFFSET(AIPC_FIELD_DICTIONARY, &dict),
	};
	struct fb_builder probe = { 0 };

	/* The union's tag goes in the table, before the type is written:
	 * learn it from a throwaway build. */
	type_table(&probe, &fd->type.value, &tag);
	free(probe.buf);
	f[2].value = tag;
	t = fb_table(b, f, fd->type.dictionary ? 6 : 5);
	fb_patch(b, name, fb_string(b, fd->name, strlen(fd->name)));
	fb_patch(b, type, type_table(b, &fd->type.value, &tag));
	fb_patch(b, children, fb_vector(b, 0, 4, 4));
	if (fd->type.dictionary) {
		struct fb_field e[] = { SCALAR(AIPC_DICT_ID, 8, id), OFFSET(AIPC_DICT_INDEX_TYPE, &it),
			SCALAR(AIPC_DICT_ORDERED, 1, fd->type.ordered != 0) };

		fb_patch(b, dict, fb_table(b, e, 3));
		fb_patch(b, it, int_table(b, fd->type.index_width, 1));
	}
	return t;
}

static size_t
schema_table(struct fb_builder *b, const struct arrow_ipc_desc *d)
{
	size_t fields, t, v;
	struct fb_field f[] = { SCALAR(AIPC_SCHEMA_ENDIANNESS, 2, 0), OFFSET(AIPC_SCHEMA_FIELDS, &fields) };
	unsigned i;

	t = fb_table(b, f, 2);
	v = fb_vector(b, d->nfields, 4, 4);
	fb_patch(b, fields, v);
	for (i = 0; i < d->nfields; i++)
		fb_offset(b);
	for (i = 0; i < d->nfields; i++)
		fb_patch(b, v + 4 + 4 * i, field_table(b, &d->fields[i], (int64_t)i));
	return t;
}

static void
put64(struct fb_builder *b, uint64_t x)
{
	unsigned char le[8];
	unsigned i;

	for (i = 0; i < 8; i++)
		le[i] = (unsigned char)(x >> (8 * i));
	fb_bytes(b, le, 8);
}

/* A RecordBatch table of arrays a[0..n) whose body starts at body. */
static size_t
batch_table(struct fb_builder *b, uint64_t rows, const struct arrow_ipc_array *a, unsigned n, uint64_t body)
{
	size_t nodes, bufs, t;
	struct fb_field f[] = { SCALAR(AIPC_RB_LENGTH, 8, rows), OFFSET(AIPC_RB_NODES, &nodes),
		OFFSET(AIPC_RB_BUFFERS, &bufs) };
	unsigned i, j, nb = 0;

	t = fb_table(b, f, 3);
	fb_patch(b, nodes, fb_vector(b, n, AIPC_NODE_SIZE, 8));
	for (i = 0; i < n; i++) {
		put64(b, a[i].length);
		put64(b, a[i].null_count);
		nb += a[i].nbuffers;
	}
	fb_patch(b, bufs, fb_vector(b, nb, AIPC_BUFFER_SIZE, 8));
	for (i = 0; i < n; i++)
		for (j = 0; j < a[i].nbuffers; j++) {
			put64(b, a[i].buffers[j].offset - body);
			put64(b, a[i].buffers[j].size);
		}
	return t;
}

/* The layout being built. */
struct lay {
	struct arrow_ipc_layout *out;
	unsigned cap;
	uint64_t pos; /* the file's end so far */
};

/* Append a piece of the bytes at p; takes p (freed on failure). */
static int
piece(struct lay *l, unsigned char *p, size_t len)
{
	struct arrow_ipc_piece *np;

	if (p == NULL)
		return -ENOMEM;
	if (l->out->npieces == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		if ((np = realloc(l->out->pieces, l->cap * sizeof *np)) == NULL) {
			free(p);
			return -ENOMEM;
		}
		l->out->pieces = np;
	}
	l->out->pieces[l->out->npieces++] = (struct arrow_ipc_piece){ l->pos, len, p };
	l->pos += len;
	return 0;
}

/* Lay out the arrays' buffers from the 64-aligned body start; its length. */
static uint64_t
place(struct arrow_ipc_array *a, unsigned n, uint64_t body)
{
	uint64_t at = body;
	unsigned i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < a[i].nbuffers; j++) {
			a[i].buffers[j].offset = at;
			at = ROUND(at + a[i].buffers[j].size, ARROW_IPC_ALIGN);
		}
	return at - body;
}

/* One message: prefix (and lead, the file magic before the schema) +
 * metadata as a piece, then the body's room; its Block in *blk. */
static int
message(struct lay *l, const char *lead, uint8_t kind, struct arrow_ipc_array *a, unsigned n, uint64_t rows,
    int64_t dict_id, const struct arrow_ipc_desc *d, unsigned char blk[AIPC_BLOCK_SIZE])
{
	struct fb_builder b = { 0 }, out = { 0 };
	size_t header, data, root, leadlen = lead ? 8 : 0;
	uint64_t start = l->pos + leadlen, meta, body, body_len = 0;
	struct fb_field m[] = { SCALAR(AIPC_MSG_VERSION, 2, AIPC_V5), SCALAR(AIPC_MSG_HEADER_TYPE, 1, kind),
		OFFSET(AIPC_MSG_HEADER, &header), SCALAR(AIPC_MSG_BODY_LENGTH, 8, 0) };
	unsigned char pre[8];
	unsigned i;

	/* The body's offsets need the metadata's length, which does not
	 * depend on them (every field is written, even a 0): build once for
	 * the length, then again with the offsets. */
	meta = 0;
	body = 0;
	for (i = 0; i < 2; i++) {
		b.len = 0;
		root = fb_offset(&b);
		m[3].value = body_len;
		fb_patch(&b, root, fb_table(&b, m, 4));
		if (kind == AIPC_MSG_SCHEMA)
			fb_patch(&b, header, schema_table(&b, d));
		else if (kind == AIPC_MSG_RECORD_BATCH)
			fb_patch(&b, header, batch_table(&b, rows, a, n, body));
		else {
			/* isDelta written out (false), as pyarrow does. */
			struct fb_field db[] = { SCALAR(AIPC_DB_ID, 8, dict_id), OFFSET(AIPC_DB_DATA, &data),
				SCALAR(AIPC_DB_DELTA, 1, 0) };

			fb_patch(&b, header, fb_table(&b, db, 3));
			fb_patch(&b, data, batch_table(&b, rows, a, n, body));
		}
		if (b.oom)
			break;
		meta = ROUND(start + 8 + b.len, ARROW_IPC_ALIGN) - start - 8;
		body = start + 8 + meta;
		body_len = place(a, n, body);
	}
	if (b.oom) {
		free(b.buf);
		return -ENOMEM;
	}
	if (lead)
		fb_bytes(&out, lead, 8);
	for (i = 0; i < 8; i++)
		pre[i] = (unsigned char)((i < 4 ? AIPC_CONTINUATION : (uint32_t)meta) >> (8 * (i % 4)));
	fb_bytes(&out, pre, 8);
	fb_bytes(&out, b.buf, b.len);
	fb_bytes(&out, NULL, meta - b.len);
	free(b.buf);
	if (out.oom) {
		free(out.buf);
		return -ENOMEM;
	}
	if (piece(l, out.buf, out.len) != 0)
		return -ENOMEM;
	l->pos += body_len;
	memset(blk, 0, AIPC_BLOCK_SIZE);
	for (i = 0; i < 8; i++) {
		blk[i] = (unsigned char)(start >> (8 * i));
		blk[16 + i] = (unsigned char)(body_len >> (8 * i));
		if (i < 4)
			blk[8 + i] = (unsigned char)((8 + meta) >> (8 * i));
	}
	return 0;
}

/* Check d and give its dictionaries their ids; 0 or -EINVAL. */
static int
check(struct arrow_ipc_desc *d, char *err, size_t errlen)
{
	char what[96];
	unsigned i, j, ndict = 0;
	int rc;

	if (d->nfields == 0 || d->nfields > ARROW_IPC_MAX_FIELDS)
		return util_fail(
		    err, errlen, -EINVAL, "fields: %u, from 1 to %u", d->nfields, ARROW_IPC_MAX_FIELDS);
	if (d->nbatches > ARROW_IPC_MAX_BATCHES)
		return util_fail(
		    err, errlen, -EINVAL, "batches: %u, at most %u", d->nbatches, ARROW_IPC_MAX_BATCHES);
	for (i = 0; i < d->nfields; i++) {
		if (d->fields[i].name == NULL)
			return util_fail(err, errlen, -EINVAL, "field %u: no name", i);
		ndict += d->fields[i].type.dictionary != 0;
	}
	if (d->ndicts != ndict)
		return util_fail(
		    err, errlen, -EINVAL, "%u dictionaries for %u dictionary fields", d->ndicts, ndict);
	for (i = 0; i < d->ndicts; i++) {
		struct arrow_ipc_dict *x = &d->dicts[i];
		struct arrow_type vt;

		if (x->field >= d->nfields || !d->fields[x->field].type.dictionary)
			return util_fail(err, errlen, -EINVAL,
			    "dictionary %u: field %u is not a dictionary field", i, x->field);
		for (j = 0; j < i; j++)
			if (d->dicts[j].field == x->field)
				return util_fail(
				    err, errlen, -EINVAL, "dictionary %u: field %u has two", i, x->field);
		x->id = x->field;
		vt = d->fields[x->field].type;
		vt.dictionary = 0;
		snprintf(what, sizeof what, "dictionary of field %u", x->field);
		if ((rc = arrow_ipc_check_array(&vt, &x->values, what, err, errlen)) != 0)
			return rc;
	}
	for (i = 0; i < d->nbatches; i++)
		for (j = 0; j < d->nfields; j++) {
			struct arrow_ipc_array *a = &d->batches[i].columns[j];

			a->length = d->batches[i].rows;
			snprintf(what, sizeof what, "batch %u column %u", i, j);
			if ((rc = arrow_ipc_check_array(&d->fields[j].type, a, what, err, errlen)) != 0)
				return rc;
			if (!d->fields[j].nullable && a->null_count != 0)
				return util_fail(err, errlen, -EINVAL, "%s: nulls in non-nullable field %s",
				    what, d->fields[j].name);
		}
	return 0;
}

int
arrow_ipc_layout(struct arrow_ipc_desc *d, struct arrow_ipc_layout *out, char *err, size_t errlen)
{
	struct lay l = { out, 0, 0 };
	struct fb_builder f = { 0 }, tail = { 0 };
	unsigned char blk[AIPC_BLOCK_SIZE], *dblk = NULL, *bblk = NULL, trail[4];
	size_t root, schema, dicts, batches;
	unsigned i;
	int rc;

	memset(out, 0, sizeof *out);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((rc = check(d, err, errlen)) != 0)
		return rc;
	dblk = calloc(d->ndicts + 1, AIPC_BLOCK_SIZE);
	bblk = calloc(d->nbatches + 1, AIPC_BLOCK_SIZE);
	rc = -ENOMEM;
	if (dblk == NULL || bblk == NULL)
		goto out;
	if ((rc = message(&l, AIPC_MAGIC "\0\0", AIPC_MSG_SCHEMA, NULL, 0, 0, 0, d, blk)) != 0)
		goto out;
	for (i = 0; i < d->ndicts; i++)
		if ((rc = message(&l, NULL, AIPC_MSG_DICTIONARY, &d->dicts[i].values, 1,
			 d->dicts[i].values.length, d->dicts[i].id, d, dblk + AIPC_BLOCK_SIZE * i)) != 0)
			goto out;
	for (i = 0; i < d->nbatches; i++)
		if ((rc = message(&l, NULL, AIPC_MSG_RECORD_BATCH, d->batches[i].columns, d->nfields,
			 d->batches[i].rows, 0, d, bblk + AIPC_BLOCK_SIZE * i)) != 0)
			goto out;
	/* The footer, after the end-of-stream marker (which a stream reader
	 * reading the file from its start stops at). */
	{
		struct fb_field ff[] = { SCALAR(AIPC_FOOTER_VERSION, 2, AIPC_V5),
			OFFSET(AIPC_FOOTER_SCHEMA, &schema), OFFSET(AIPC_FOOTER_DICTIONARIES, &dicts),
			OFFSET(AIPC_FOOTER_BATCHES, &batches) };

		root = fb_offset(&f);
		fb_patch(&f, root, fb_table(&f, ff, 4));
		fb_patch(&f, schema, schema_table(&f, d));
		fb_patch(&f, dicts, fb_vector(&f, d->ndicts, AIPC_BLOCK_SIZE, 8));
		fb_bytes(&f, dblk, (size_t)AIPC_BLOCK_SIZE * d->ndicts);
		fb_patch(&f, batches, fb_vector(&f, d->nbatches, AIPC_BLOCK_SIZE, 8));
		fb_bytes(&f, bblk, (size_t)AIPC_BLOCK_SIZE * d->nbatches);
		fb_align(&f, 8);
	}
	fb_bytes(&tail, "\xff\xff\xff\xff\0\0\0\0", 8);
	fb_bytes(&tail, f.buf, f.len);
	for (i = 0; i < 4; i++)
		trail[i] = (unsigned char)(f.len >> (8 * i));
	fb_bytes(&tail, trail, 4);
	fb_bytes(&tail, AIPC_MAGIC, 6);
	if (f.oom || tail.oom)
		goto out;
	if ((rc = piece(&l, tail.buf, tail.len)) != 0) {
		tail.buf = NULL;
		goto out;
	}
	tail.buf = NULL;
	out->nbytes = l.pos;
	rc = 0;
out:
	if (rc != 0) {
		arrow_ipc_layout_free(out);
		if (rc == -ENOMEM && err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory laying out the file");
	}
	free(f.buf);
	free(tail.buf);
	free(dblk);
	free(bblk);
	return rc;
}
