/*
 * arrow_ipc_read: arrow_ipc_read, the IPC file reader (see arrow_ipc.h).
 * The footer is the index: its schema, then each block's message, whose
 * prefix, kind and body length must agree with the block; the Schema
 * message at the file's start must describe the footer's schema. Every
 * length and offset is checked against the image before use, and anything
 * the description cannot say (compression, big-endian, delta or
 * replacement dictionaries, nested or other types) is refused with why.
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

#define FAIL(...) util_fail(err, errlen, -EINVAL, __VA_ARGS__)

static const enum arrow_unit time_units[] = { ARROW_UNIT_SECOND, ARROW_UNIT_MILLI, ARROW_UNIT_MICRO,
	ARROW_UNIT_NANO };

/* Int table t (absent: int32 signed) into width and signedness. */
static int
int_type(const struct fb_buf *b, const struct fb_table *t, unsigned *width, int *is_signed)
{
	int32_t w = 32;
	uint8_t s = 1;

	if (t != NULL &&
	    (fb_i32(b, t, AIPC_INT_BITWIDTH, 0, &w) != 0 || fb_u8(b, t, AIPC_INT_SIGNED, 0, &s) != 0))
		return -EINVAL;
	if (w != 8 && w != 16 && w != 32 && w != 64)
		return -EINVAL;
	*width = (unsigned)w;
	*is_signed = s != 0;
	return 0;
}

/* The value type of a Field's Type union; 0 or -EINVAL with why. */
static int
value_type(const struct fb_buf *b, uint8_t tag, const struct fb_table *tt, struct arrow_value_type *v,
    const char *name, char *err, size_t errlen)
{
	int16_t u = 0;
	const char *tz;
	size_t tzlen;
	int rc, s;

	memset(v, 0, sizeof *v);
	switch (tag) {
	case AIPC_TYPE_INT:
		/* Only a dictionary's indexType may be absent (int32). */
		if (tt == NULL || int_type(b, tt, &v->width, &s) != 0)
			return FAIL("field %s: a bad Int type", name);
		v->kind = s ? ARROW_INT : ARROW_UINT;
		return 0;
	case AIPC_TYPE_FLOAT:
		if (tt == NULL || fb_i16(b, tt, AIPC_FLOAT_PRECISION, 0, &u) != 0 || (u != 1 && u != 2))
			return FAIL("field %s: floating point other than single or double", name);
		v->kind = ARROW_FLOAT;
		v->width = u == 1 ? 32 : 64;
		return 0;
	case AIPC_TYPE_BOOL: v->kind = ARROW_BOOL, v->width = 1; return 0;
	case AIPC_TYPE_UTF8: v->kind = ARROW_STRING, v->width = 32; return 0;
	case AIPC_TYPE_LARGE_UTF8: v->kind = ARROW_STRING, v->width = 64; return 0;
	case AIPC_TYPE_BINARY: v->kind = ARROW_BINARY, v->width = 32; return 0;
	case AIPC_TYPE_LARGE_BINARY: v->kind = ARROW_BINARY, v->width = 64; return 0;
	case AIPC_TYPE_DATE:
		if (tt != NULL && fb_i16(b, tt, AIPC_DATE_UNIT, 1, &u) != 0)
			return FAIL("field %s: a bad Date type", name);
		if (tt == NULL)
			u = 1;
		if (u != 0 && u != 1)
			return FAIL("field %s: date unit %d", name, u);
		v->kind = ARROW_DATE;
		v->width = u == 0 ? 32 : 64;
		v->unit = u == 0 ? ARROW_UNIT_DAY : ARROW_UNIT_MILLI;
		return 0;
	case AIPC_TYPE_TIMESTAMP:
	case AIPC_TYPE_DURATION:
		u = tag == AIPC_TYPE_DURATION ? 1 : 0;
		if (tt != NULL && fb_i16(b, tt, AIPC_TS_UNIT, u, &u) != 0)
			return FAIL("field %s: a bad time unit", name);
		if (u < 0 || u > 3)
			return FAIL("field %s: time unit %d", name, u);
		v->kind = tag == AIPC_TYPE_DURATION ? ARROW_DURATION : ARROW_TIMESTAMP;
		v->width = 64;
		v->unit = time_units[u];
		if (tag == AIPC_TYPE_TIMESTAMP && tt != NULL) {
			if ((rc = fb_str(b, tt, AIPC_TS_TIMEZONE, &tz, &tzlen)) < 0)
				return FAIL("field %s: a bad time zone", name);
			if (rc == 1) {
				if (tzlen >= ARROW_TZ_MAX || memchr(tz, '\0', tzlen) != NULL)
					return FAIL("field %s: time zone too long or with a NUL", name);
				memcpy(v->tz, tz, tzlen);
			}
		}
		return 0;
	default: return FAIL("field %s: type %u is not supported", name, tag);
	}
}

/* Field i of a Schema's fields vector at vec into f (name malloc'd). */
static int
field(const struct fb_buf *b, size_t vec, unsigned i, struct arrow_ipc_field *f, int64_t *id, char *err,
    size_t errlen)
{
	struct fb_table ft, tt, dt, it;
	const char *s = "";
	size_t len = 0, cpos;
	uint32_t nchildren;
	uint8_t nullable, tag, ordered;
	int16_t kind;
	int rc, has_type, has_dict, has_it;
	char name[64];

	if (fb_vec_table(b, vec, i, &ft) != 0 || fb_str(b, &ft, AIPC_FIELD_NAME, &s, &len) < 0)
		return FAIL("field %u: bad metadata", i);
	if (memchr(s, '\0', len) != NULL)
		return FAIL("field %u: a NUL in its name", i);
	snprintf(name, sizeof name, "%u (%.*s)", i, (int)(len < 40 ? len : 40), s);
	if (fb_u8(b, &ft, AIPC_FIELD_NULLABLE, 0, &nullable) != 0 ||
	    fb_u8(b, &ft, AIPC_FIELD_TYPE_TYPE, 0, &tag) != 0 ||
	    (has_type = fb_subtable(b, &ft, AIPC_FIELD_TYPE, &tt)) < 0 ||
	    (has_dict = fb_subtable(b, &ft, AIPC_FIELD_DICTIONARY, &dt)) < 0 ||
	    (rc = fb_vec(b, &ft, AIPC_FIELD_CHILDREN, 4, &cpos, &nchildren)) < 0)
		return FAIL("field %s: bad metadata", name);
	if (rc == 1 && nchildren > 0)
		return FAIL("field %s: nested types are not supported", name);
	memset(f, 0, sizeof *f);
	if ((rc = value_type(b, tag, has_type ? &tt : NULL, &f->type.value, name, err, errlen)) != 0)
		return rc;
	*id = -1;
	if (has_dict) {
		int is_signed;

		if (fb_i64(b, &dt, AIPC_DICT_ID, 0, id) != 0 ||
		    (has_it = fb_subtable(b, &dt, AIPC_DICT_INDEX_TYPE, &it)) < 0 ||
		    fb_u8(b, &dt, AIPC_DICT_ORDERED, 0, &ordered) != 0 ||
		    fb_i16(b, &dt, AIPC_DICT_KIND, 0, &kind) != 0 ||
		    int_type(b, has_it ? &it : NULL, &f->type.index_width, &is_signed) != 0)
			return FAIL("field %s: a bad dictionary encoding", name);
		if (!is_signed || kind != 0 || *id < 0)
			return FAIL("field %s: unsigned indices or an unknown dictionary kind", name);
		f->type.dictionary = 1;
		f->type.ordered = ordered != 0;
	}
	f->nullable = nullable != 0;
	if ((f->name = malloc(len + 1)) == NULL)
		return -ENOMEM;
	memcpy(f->name, s, len);
	f->name[len] = '\0';
	return 0;
}

/* A Schema table into fields (d->fields allocated) and dictionary ids. */
static int
schema(const struct fb_buf *b, const struct fb_table *t, struct arrow_ipc_desc *d, int64_t **ids, char *err,
    size_t errlen)
{
	int16_t endian;
	size_t vec;
	uint32_t n, i, j;
	int rc;

	if (fb_i16(b, t, AIPC_SCHEMA_ENDIANNESS, 0, &endian) != 0 ||
	    fb_vec(b, t, AIPC_SCHEMA_FIELDS, 4, &vec, &n) < 0)
		return FAIL("schema: bad metadata");
	if (endian != 0)
		return FAIL("schema: big-endian files are not supported");
	if (n == 0 || n > ARROW_IPC_MAX_FIELDS)
		return FAIL("schema: %u fields, from 1 to %u supported", n, ARROW_IPC_MAX_FIELDS);
	d->fields = calloc(n, sizeof *d->fields);
	*ids = calloc(n, sizeof **ids);
	if (d->fields == NULL || *ids == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if ((rc = field(b, vec, i, &d->fields[i], &(*ids)[i], err, errlen)) != 0)
			return rc;
		d->nfields = i + 1;
		for (j = 0; j < i; j++)
			if ((*ids)[i] >= 0 && (*ids)[j] == (*ids)[i])
				return FAIL("schema: fields %u and %u share dictionary %lld", j, i,
				    (long long)(*ids)[i]);
	}
	return 0;
}

/* A message (the block at blk) of kind: its header table, the buffer of
 * its metadata in *mb, its body's start and length. */
static int
message(const unsigned char *img, size_t size, const unsigned char *blk, uint8_t kind, const char *what,
    struct fb_buf *mb, struct fb_table *hdr, uint64_t *body, uint64_t *body_len, char *err, size_t errlen)
{
	uint64_t off = fb_load64(blk), blen = fb_load64(blk + 16);
	uint32_t mlen = fb_load32(blk + 8), len;
	struct fb_table m;
	int16_t version;
	uint8_t tag;
	int64_t bl;

	if (off % 8 != 0 || off > size || size - off < 8 || mlen < 8 || mlen > size - off)
		return FAIL(
		    "%s: block at %llu out of bounds or not 8-aligned", what, (unsigned long long)off);
	if (fb_load32(img + off) != AIPC_CONTINUATION)
		return FAIL("%s: no continuation marker (pre-0.15 format is not supported)", what);
	len = fb_load32(img + off + 4);
	if ((uint64_t)len + 8 != mlen)
		return FAIL("%s: the footer says %u bytes of metadata, the message %u", what, mlen, len + 8);
	*mb = (struct fb_buf){ img + off + 8, len };
	if (fb_root(mb, &m) != 0 || fb_i16(mb, &m, AIPC_MSG_VERSION, 0, &version) != 0 ||
	    fb_u8(mb, &m, AIPC_MSG_HEADER_TYPE, 0, &tag) != 0 ||
	    fb_i64(mb, &m, AIPC_MSG_BODY_LENGTH, 0, &bl) != 0 ||
	    fb_subtable(mb, &m, AIPC_MSG_HEADER, hdr) != 1)
		return FAIL("%s: bad message metadata", what);
	if (version < AIPC_V4 || version > AIPC_V5)
		return FAIL("%s: metadata version %d, V4 or V5 supported", what, version + 1);
	if (tag != kind)
		return FAIL("%s: a message of kind %u where the footer says %u", what, tag, kind);
	*body = off + mlen;
	if (bl < 0 || (uint64_t)bl != blen || blen > size - *body)
		return FAIL("%s: body of %lld bytes, the footer says %llu, the file has %llu", what,
		    (long long)bl, (unsigned long long)blen, (unsigned long long)(size - *body));
	*body_len = blen;
	return 0;
}

/* A RecordBatch table: n arrays of types t[] (d's fields, or one
 * dictionary's values) into a[], rows into *rows. */
static int
batch(const struct fb_buf *b, const struct fb_table *rb, uint64_t body, uint64_t body_len,
    const struct arrow_type *const *t, unsigned n, struct arrow_ipc_array *a, uint64_t *rows,
    const char *what, char *err, size_t errlen)
{
	struct fb_table ct;
	size_t npos, bpos, vpos;
	uint32_t nn, nb, nv, k = 0, i, j;
	int64_t length;
	int rc;

	if (fb_i64(b, rb, AIPC_RB_LENGTH, 0, &length) != 0 || length < 0 ||
	    fb_vec(b, rb, AIPC_RB_NODES, AIPC_NODE_SIZE, &npos, &nn) != 1 ||
	    fb_vec(b, rb, AIPC_RB_BUFFERS, AIPC_BUFFER_SIZE, &bpos, &nb) != 1 ||
	    (rc = fb_vec(b, rb, AIPC_RB_VARIADIC, 8, &vpos, &nv)) < 0)
		return FAIL("%s: bad record batch metadata", what);
	if (fb_subtable(b, rb, AIPC_RB_COMPRESSION, &ct) != 0)
		return FAIL("%s: compressed bodies are not supported", what);
	if (rc == 1 && nv > 0)
		return FAIL("%s: variadic buffers are not supported", what);
	if (nn != n)
		return FAIL("%s: %u field nodes for %u fields", what, nn, n);
	*rows = (uint64_t)length;
	for (i = 0; i < n; i++) {
		const unsigned char *node = b->base + npos + AIPC_NODE_SIZE * i;
		int64_t len = (int64_t)fb_load64(node), nulls = (int64_t)fb_load64(node + 8);
		char cwhat[128];

		if (len != length || nulls < 0)
			return FAIL("%s column %u: length %lld (batch %lld), null count %lld", what, i,
			    (long long)len, (long long)length, (long long)nulls);
		a[i].length = (uint64_t)len;
		a[i].null_count = (uint64_t)nulls;
		a[i].nbuffers = !t[i]->dictionary &&
					(t[i]->value.kind == ARROW_STRING || t[i]->value.kind == ARROW_BINARY)
				    ? 3
				    : 2;
		for (j = 0; j < a[i].nbuffers; j++, k++) {
			const unsigned char *bf = b->base + bpos + AIPC_BUFFER_SIZE * k;
			uint64_t o, l;

			if (k >= nb)
				return FAIL("%s: %u buffers, its fields need more", what, nb);
			o = fb_load64(bf);
			l = fb_load64(bf + 8);
			if (o > body_len || l > body_len - o)
				return FAIL(
				    "%s column %u buffer %u: [%llu, +%llu) outside the body of %llu bytes",
				    what, i, j, (unsigned long long)o, (unsigned long long)l,
				    (unsigned long long)body_len);
			if ((body + o) % 8 != 0)
				return FAIL("%s column %u buffer %u: not 8-aligned", what, i, j);
			a[i].buffers[j] = (struct arrow_ipc_buffer){ body + o, l };
		}
		snprintf(cwhat, sizeof cwhat, "%s column %u", what, i);
		if ((rc = arrow_ipc_check_array(t[i], &a[i], cwhat, err, errlen)) != 0)
			return rc;
	}
	if (k != nb)
		return FAIL("%s: %u buffers, its fields have %u", what, nb, k);
	return 0;
}

static int
same_fields(
    const struct arrow_ipc_desc *x, const struct arrow_ipc_desc *y, const int64_t *xi, const int64_t *yi)
{
	unsigned i;

	if (x->nfields != y->nfields)
		return 0;
	for (i = 0; i < x->nfields; i++) {
		const struct arrow_type *a = &x->fields[i].type, *b = &y->fields[i].type;

		if (strcmp(x->fields[i].name, y->fields[i].name) != 0 ||
		    x->fields[i].nullable != y->fields[i].nullable || xi[i] != yi[i] ||
		    a->value.kind != b->value.kind || a->value.width != b->value.width ||
		    a->value.unit != b->value.unit || strcmp(a->value.tz, b->value.tz) != 0 ||
		    a->dictionary != b->dictionary || a->index_width != b->index_width ||
		    a->ordered != b->ordered)
			return 0;
	}
	return 1;
}

/* The Schema message at offset 8 must describe the footer's schema (d's
 * fields, dictionary ids). Its metadata length is its own word: a bad one
 * fails in message(). */
static int
schema_message(const unsigned char *img, size_t size, const struct arrow_ipc_desc *d, const int64_t *ids,
    char *err, size_t errlen)
{
	struct arrow_ipc_desc first = { 0 };
	unsigned char blk[AIPC_BLOCK_SIZE] = { 8 };
	uint32_t mlen = fb_load32(img + 12) + 8;
	int64_t *first_ids = NULL;
	struct fb_buf mb;
	struct fb_table hdr;
	uint64_t body, blen;
	unsigned i;
	int rc;

	for (i = 0; i < 4; i++)
		blk[8 + i] = (unsigned char)(mlen >> (8 * i));
	if ((rc = message(img, size, blk, AIPC_MSG_SCHEMA, "schema message", &mb, &hdr, &body, &blen, err,
		 errlen)) == 0 &&
	    (rc = schema(&mb, &hdr, &first, &first_ids, err, errlen)) == 0 &&
	    !same_fields(d, &first, ids, first_ids))
		rc = FAIL("the footer's schema differs from the schema message's");
	arrow_ipc_desc_free(&first);
	free(first_ids);
	return rc;
}

/* The footer's dictionary blocks at pos (n of them) into d->dicts. */
static int
dictionaries(const unsigned char *img, size_t size, const struct fb_buf *fb, size_t pos, uint32_t n,
    struct arrow_ipc_desc *d, const int64_t *ids, char *err, size_t errlen)
{
	unsigned i, j, f, ndict = 0;
	char what[64];
	int rc;

	for (f = 0; f < d->nfields; f++)
		ndict += d->fields[f].type.dictionary != 0;
	if (n != ndict)
		return FAIL(
		    "%u dictionary batches for %u dictionary fields (deltas and replacements are not supported)",
		    n, ndict);
	if (n > 0 && (d->dicts = calloc(n, sizeof *d->dicts)) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct arrow_ipc_dict *x = &d->dicts[i];
		struct fb_buf mb;
		struct fb_table db, rb;
		struct arrow_type vt;
		const struct arrow_type *vtp = &vt;
		uint64_t body, blen, rows;
		uint8_t delta;

		snprintf(what, sizeof what, "dictionary batch %u", i);
		if ((rc = message(img, size, fb->base + pos + AIPC_BLOCK_SIZE * i, AIPC_MSG_DICTIONARY, what,
			 &mb, &db, &body, &blen, err, errlen)) != 0)
			return rc;
		if (fb_i64(&mb, &db, AIPC_DB_ID, 0, &x->id) != 0 ||
		    fb_u8(&mb, &db, AIPC_DB_DELTA, 0, &delta) != 0 ||
		    fb_subtable(&mb, &db, AIPC_DB_DATA, &rb) != 1)
			return FAIL("%s: bad metadata", what);
		if (delta)
			return FAIL("%s: delta dictionaries are not supported", what);
		for (f = 0; f < d->nfields && ids[f] != x->id; f++)
			;
		if (f == d->nfields)
			return FAIL("%s: id %lld names no field", what, (long long)x->id);
		for (j = 0; j < i; j++)
			if (d->dicts[j].id == x->id)
				return FAIL(
				    "%s: a second dictionary for id %lld (replacements are not supported)",
				    what, (long long)x->id);
		x->field = f;
		vt = d->fields[f].type;
		vt.dictionary = 0;
		if ((rc = batch(&mb, &rb, body, blen, &vtp, 1, &x->values, &rows, what, err, errlen)) != 0)
			return rc;
		d->ndicts = i + 1;
	}
	return 0;
}

int
arrow_ipc_read(const void *image, size_t size, struct arrow_ipc_desc *d, char *err, size_t errlen)
{
	const unsigned char *img = image;
	const struct arrow_type **types = NULL;
	int64_t *ids = NULL;
	struct fb_buf fb, mb;
	struct fb_table footer, st, hdr;
	size_t dpos = 0, bpos = 0;
	uint32_t flen, nd = 0, nb = 0, i;
	int16_t version;
	uint64_t body, blen;
	char what[64];
	int rc = -EINVAL;

	memset(d, 0, sizeof *d);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (size < 8 + 10 || memcmp(img, AIPC_MAGIC, 6) != 0 || memcmp(img + size - 6, AIPC_MAGIC, 6) != 0)
		return FAIL("not an Arrow IPC file (no ARROW1 magic at both ends)");
	flen = fb_load32(img + size - 10);
	if (flen < 4 || flen > size - 18)
		return FAIL("footer size %u does not fit the file of %zu bytes", flen, size);
	fb = (struct fb_buf){ img + size - 10 - flen, flen };
	if (fb_root(&fb, &footer) != 0 || fb_i16(&fb, &footer, AIPC_FOOTER_VERSION, 0, &version) != 0 ||
	    fb_subtable(&fb, &footer, AIPC_FOOTER_SCHEMA, &st) != 1 ||
	    fb_vec(&fb, &footer, AIPC_FOOTER_DICTIONARIES, AIPC_BLOCK_SIZE, &dpos, &nd) < 0 ||
	    fb_vec(&fb, &footer, AIPC_FOOTER_BATCHES, AIPC_BLOCK_SIZE, &bpos, &nb) < 0) {
		FAIL("footer: bad metadata");
		goto out;
	}
	if (nb > ARROW_IPC_MAX_BATCHES) {
		FAIL("footer: %u record batches, at most %u supported", nb, ARROW_IPC_MAX_BATCHES);
		goto out;
	}
	if ((rc = schema(&fb, &st, d, &ids, err, errlen)) != 0)
		goto out;
	/* Arrow JS writes no Schema message: its first block starts right
	 * after the magic. Otherwise there is one, and it must agree. */
	if (!((nd > 0 && fb_load64(fb.base + dpos) == 8) ||
		(nd == 0 && nb > 0 && fb_load64(fb.base + bpos) == 8)) &&
	    (rc = schema_message(img, size, d, ids, err, errlen)) != 0)
		goto out;
	if ((rc = dictionaries(img, size, &fb, dpos, nd, d, ids, err, errlen)) != 0)
		goto out;
	rc = -ENOMEM;
	if ((types = calloc(d->nfields, sizeof *types)) == NULL ||
	    (nb > 0 && (d->batches = calloc(nb, sizeof *d->batches)) == NULL))
		goto out;
	for (i = 0; i < d->nfields; i++)
		types[i] = &d->fields[i].type;
	for (i = 0; i < nb; i++) {
		rc = -ENOMEM;
		if ((d->batches[i].columns = calloc(d->nfields, sizeof *d->batches[i].columns)) == NULL)
			goto out;
		d->nbatches = i + 1;
		snprintf(what, sizeof what, "record batch %u", i);
		if ((rc = message(img, size, fb.base + bpos + AIPC_BLOCK_SIZE * i, AIPC_MSG_RECORD_BATCH,
			 what, &mb, &hdr, &body, &blen, err, errlen)) != 0 ||
		    (rc = batch(&mb, &hdr, body, blen, types, d->nfields, d->batches[i].columns,
			 &d->batches[i].rows, what, err, errlen)) != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc == -ENOMEM && err != NULL && errlen > 0)
		snprintf(err, errlen, "out of memory reading the file");
	if (rc != 0)
		arrow_ipc_desc_free(d);
	free(ids);
	free(types);
	return rc;
}
