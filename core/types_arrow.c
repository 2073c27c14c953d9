/*
 * types_arrow: the rules of Arrow's columnar layouts as v6d writes them
 * (the arrays, BufferView, SchemaProxy, RecordBatch, Table; vineyardfs(7)
 * has the layouts). Size rules read the tree; content rules (offsets,
 * UTF-8, null counts, dictionary indices) read the buffers' bytes through
 * the context's reader, one pass each, and are skipped for a blob whose
 * bytes are not here. Buffers are little-endian, as Arrow's IPC format and
 * every host vineyardfs runs on.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_type.h"
#include "types_i.h"

#define NS "vineyard::"
#define SLOTS_MAX ((uint64_t)1 << 56) /* offset_ + length_: x 8 bytes stays in 64 bits */
#define PARTS_MAX 1000000	      /* columns or batches of one object */
#define FIELDS_MAX 10000	      /* names are compared pairwise */

/* One buffer member resolved: a range of a blob, mapped when read. */
struct abuf {
	const char *blob;    /* the blob's id, borrowed from the tree */
	uint64_t off, size;  /* the range's bytes in the blob */
	const uint8_t *data; /* the range mapped, or NULL */
	const void *map;     /* the whole blob as the reader mapped it */
	uint64_t map_size;
};

/* An array's common fields, once checked. */
struct arr {
	struct arrow_type type;
	char tstr[ARROW_TYPE_STR_MAX]; /* the type string */
	uint64_t length, null_count, offset;
	const json_t *tree;
};

static size_t
push(struct types_ctx *c, const char *name)
{
	size_t len = strlen(c->path);

	snprintf(c->path + len, sizeof c->path - len, "%s%s", len ? "." : "", name);
	return len;
}

static int fail_at(struct types_ctx *c, const char *member, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A failure of member (of the tree at c->path). */
static int
fail_at(struct types_ctx *c, const char *member, const char *fmt, ...)
{
	char msg[256];
	size_t len = push(c, member);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	types_fail(c, "%s", msg);
	c->path[len] = '\0';
	return -EINVAL;
}

static int
is_typename(const json_t *tree, const char *name)
{
	const char *t = types_get_str(tree, "typename");

	return t != NULL && strcmp(t, name) == 0;
}

/* The range a buffer member names; the member's own rules passed. */
static void
resolve(const json_t *m, struct abuf *b)
{
	const json_t *inner = json_object_get(m, "buffer_");

	memset(b, 0, sizeof *b);
	if (types_is_raw_blob(m)) {
		b->blob = types_get_str(m, "id");
		types_get_count(m, "nbytes", &b->size);
		return;
	}
	b->blob = types_get_str(inner, "id");
	types_get_count(m, "offset_", &b->off);
	types_get_count(m, "size_", &b->size);
}

/* Buffer member name of tree: a raw blob or a BufferView into one. */
static int
get_buffer(struct types_ctx *c, const json_t *tree, const char *name, int depth, struct abuf *b)
{
	const json_t *m = json_object_get(tree, name);
	int rc;

	if (!json_is_object(m))
		return types_fail(c, "member %s is missing", name);
	if (!types_is_raw_blob(m) && !is_typename(m, NS "BufferView"))
		return types_fail(c, "%s is neither a blob nor a " NS "BufferView", name);
	if ((rc = types_member(c, tree, name, NULL, depth)) != 0)
		return rc;
	resolve(m, b);
	return 0;
}

/* Map b's bytes: 1 mapped, 0 not here (content rules skipped), or -EINVAL. */
static int
map_buffer(struct types_ctx *c, const char *member, struct abuf *b)
{
	const void *p;
	uint64_t n;
	int rc;

	if (c->reader == NULL || b->size == 0)
		return 0;
	if ((rc = c->reader->map(c->reader->arg, b->blob, &p, &n)) == -ENOENT)
		return 0;
	if (rc < 0)
		return fail_at(
		    c, member, "the bytes of blob %s could not be read (%s)", b->blob, strerror(-rc));
	if (n < b->off || n - b->off < b->size) {
		c->reader->unmap(c->reader->arg, p, n);
		return fail_at(c, member, "blob %s holds %llu bytes, fewer than its metadata says", b->blob,
		    (unsigned long long)n);
	}
	b->map = p;
	b->map_size = n;
	b->data = (const uint8_t *)p + b->off;
	return 1;
}

static void
unmap_buffer(struct types_ctx *c, struct abuf *b)
{
	if (b->map != NULL)
		c->reader->unmap(c->reader->arg, b->map, b->map_size);
	b->map = NULL;
	b->data = NULL;
}

static int
bit(const uint8_t *bits, uint64_t i)
{
	return bits[i >> 3] >> (i & 7) & 1;
}

/* 0 bits among bits [from, from + n), whole words where it can. */
static uint64_t
count_zeros(const uint8_t *bits, uint64_t from, uint64_t n)
{
	uint64_t ones = 0, i = from, end = from + n, w;

	for (; i < end && (i & 7) != 0; i++)
		ones += (uint64_t)bit(bits, i);
	for (; end - i >= 64; i += 64) {
		memcpy(&w, bits + (i >> 3), sizeof w);
		ones += (uint64_t)__builtin_popcountll(w);
	}
	for (; end - i >= 8; i += 8)
		ones += (uint64_t)__builtin_popcount(bits[i >> 3]);
	for (; i < end; i++)
		ones += (uint64_t)bit(bits, i);
	return n - ones;
}

/* Entry i of a little-endian signed integer buffer of width bits. */
static int64_t
read_int(const uint8_t *p, unsigned width, uint64_t i)
{
	int8_t i8;
	int16_t i16;
	int32_t i32;
	int64_t i64;

	switch (width) {
	case 8: memcpy(&i8, p + i, 1); return i8;
	case 16: memcpy(&i16, p + i * 2, 2); return i16;
	case 32: memcpy(&i32, p + i * 4, 4); return i32;
	default: memcpy(&i64, p + i * 8, 8); return i64;
	}
}

/* No byte with bit 7 set: ASCII, so UTF-8 however it is cut. */
static int
all_ascii(const uint8_t *s, uint64_t n)
{
	uint64_t i = 0, w, any = 0;

	for (; n - i >= 8; i += 8) {
		memcpy(&w, s + i, sizeof w);
		any |= w;
	}
	for (; i < n; i++)
		any |= s[i];
	return (any & 0x8080808080808080ull) == 0;
}

/* Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static int
utf8_valid(const uint8_t *s, uint64_t n)
{
	uint64_t i = 0;

	while (i < n) {
		uint8_t b = s[i];
		unsigned need, k;
		uint32_t cp;
		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			need = 1;
			cp = b & 0x1f;
		} else if (b >= 0xe0 && b <= 0xef) {
			need = 2;
			cp = b & 0x0f;
		} else if (b >= 0xf0 && b <= 0xf4) {
			need = 3;
			cp = b & 0x07;
		} else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* null_bitmap_: empty when there are no nulls, else covers every slot and
 * its 0 bits are the nulls. Left mapped in *bm (when read) for the caller. */
static int
check_bitmap(struct types_ctx *c, const struct arr *a, int depth, struct abuf *bm)
{
	uint64_t need = (a->offset + a->length + 7) / 8, zeros;
	int rc;

	if ((rc = get_buffer(c, a->tree, "null_bitmap_", depth, bm)) != 0)
		return rc;
	if (bm->size == 0) {
		if (a->null_count == 0)
			return 0;
		return fail_at(
		    c, "null_bitmap_", "empty, but null_count_ is %llu", (unsigned long long)a->null_count);
	}
	if (bm->size < need)
		return fail_at(c, "null_bitmap_", "%llu bytes; %llu slots need %llu",
		    (unsigned long long)bm->size, (unsigned long long)(a->offset + a->length),
		    (unsigned long long)need);
	if ((rc = map_buffer(c, "null_bitmap_", bm)) <= 0)
		return rc;
	zeros = count_zeros(bm->data, a->offset, a->length);
	if (zeros != a->null_count) {
		unmap_buffer(c, bm);
		return fail_at(c, "null_bitmap_", "%llu null slots (0 bits), but null_count_ is %llu",
		    (unsigned long long)zeros, (unsigned long long)a->null_count);
	}
	return 0;
}

/* Is slot i valid (no bitmap read: assume so)? */
static int
valid(const struct abuf *bm, uint64_t i)
{
	return bm->data == NULL || bit(bm->data, i);
}

/* A fixed-width buffer_ of (offset_ + length_) x size bytes, or bits. */
static int
check_values(struct types_ctx *c, const struct arr *a, int depth)
{
	uint64_t slots = a->offset + a->length, need;
	size_t size = arrow_value_size(&a->type.value);
	struct abuf b;
	int rc;

	need = a->type.value.kind == ARROW_BOOL ? (slots + 7) / 8 : slots * size;
	if ((rc = get_buffer(c, a->tree, "buffer_", depth, &b)) != 0)
		return rc;
	if (b.size < need)
		return fail_at(c, "buffer_", "%llu bytes; %llu slots of %s need %llu",
		    (unsigned long long)b.size, (unsigned long long)slots, a->tstr, (unsigned long long)need);
	return 0;
}

/* Offsets from slot offset_ to offset_ + length_ non-decreasing, within
 * buffer_data_; String values valid UTF-8 (null slots' bytes are not
 * values). */
static int
check_binary(struct types_ctx *c, const struct arr *a, const struct abuf *bm, int depth)
{
	unsigned w = a->type.value.width;
	uint64_t entries = a->offset + a->length + 1, need = entries * (w / 8), i;
	int utf8 = a->type.value.kind == ARROW_STRING;
	struct abuf off, data;
	int64_t prev, o;
	int rc;

	if ((rc = get_buffer(c, a->tree, "buffer_offsets_", depth, &off)) != 0 ||
	    (rc = get_buffer(c, a->tree, "buffer_data_", depth, &data)) != 0)
		return rc;
	if (off.size < need)
		return fail_at(c, "buffer_offsets_", "%llu bytes; %llu offsets of int%u need %llu",
		    (unsigned long long)off.size, (unsigned long long)entries, w, (unsigned long long)need);
	if ((rc = map_buffer(c, "buffer_offsets_", &off)) <= 0)
		return rc;
	if (utf8 && (rc = map_buffer(c, "buffer_data_", &data)) < 0)
		goto out;
	/* All ASCII (most text): every value is UTF-8, one quick pass. Nulls
	 * but no bitmap here: which bytes are values is unknown, skip. */
	if (data.data != NULL && ((a->null_count > 0 && bm->data == NULL) || all_ascii(data.data, data.size)))
		unmap_buffer(c, &data);
	rc = 0;
	prev = read_int(off.data, w, a->offset);
	if (prev < 0 || (uint64_t)prev > data.size) {
		rc = fail_at(c, "buffer_offsets_", "offset %lld at slot 0 is outside the %llu bytes of data",
		    (long long)prev, (unsigned long long)data.size);
		goto out;
	}
	for (i = 1; i <= a->length; i++, prev = o) {
		o = read_int(off.data, w, a->offset + i);
		if (o < prev) {
			rc = fail_at(c, "buffer_offsets_", "offset %lld decreases to %lld at slot %llu",
			    (long long)prev, (long long)o, (unsigned long long)i);
			goto out;
		}
		if ((uint64_t)o > data.size) {
			rc = fail_at(c, "buffer_offsets_",
			    "offset %lld at slot %llu is past the %llu bytes of data", (long long)o,
			    (unsigned long long)i, (unsigned long long)data.size);
			goto out;
		}
		if (data.data != NULL && valid(bm, a->offset + i - 1) &&
		    !utf8_valid(data.data + prev, (uint64_t)(o - prev))) {
			rc = fail_at(c, "buffer_data_", "the value at slot %llu is not valid UTF-8",
			    (unsigned long long)(i - 1));
			goto out;
		}
	}
out:
	unmap_buffer(c, &data);
	unmap_buffer(c, &off);
	return rc;
}

static int check_array(struct types_ctx *c, const json_t *tree, int depth, struct arr *a);

/* Array member name of tree, checked, into *a. */
static int
array_member(struct types_ctx *c, const json_t *tree, const char *name, int depth, struct arr *a)
{
	const json_t *m = json_object_get(tree, name);
	size_t len;
	int rc;

	if (!json_is_object(m))
		return types_fail(c, "member %s is missing", name);
	len = push(c, name);
	rc = check_array(c, m, depth + 1, a);
	c->path[len] = '\0';
	return rc;
}

/* indices_ (NumericArray<I>, the nulls) and dictionary_ (of type V); every
 * valid index in [0, the dictionary's length). */
static int
check_dictionary(struct types_ctx *c, const struct arr *a, int depth)
{
	struct arr ia, da;
	struct abuf ib, ibm;
	struct arrow_type v = { .value = a->type.value };
	char vstr[ARROW_TYPE_STR_MAX];
	uint64_t i;
	int64_t x;
	int rc;

	if ((rc = array_member(c, a->tree, "indices_", depth, &ia)) != 0 ||
	    (rc = array_member(c, a->tree, "dictionary_", depth, &da)) != 0)
		return rc;
	if (ia.type.dictionary || ia.type.value.kind != ARROW_INT ||
	    ia.type.value.width != a->type.index_width)
		return fail_at(c, "indices_", "type %s; data_type_ says int%u", ia.tstr, a->type.index_width);
	if (ia.length != a->length || ia.null_count != a->null_count)
		return fail_at(c, "indices_", "%llu slots, %llu null; the array has %llu, %llu null",
		    (unsigned long long)ia.length, (unsigned long long)ia.null_count,
		    (unsigned long long)a->length, (unsigned long long)a->null_count);
	if (arrow_type_format(&v, vstr, sizeof vstr) != 0 || strcmp(vstr, da.tstr) != 0)
		return fail_at(c, "dictionary_", "type %s; data_type_ says values=%s", da.tstr, vstr);
	/* The indices' rules passed: their buffers resolve without checks. */
	resolve(json_object_get(ia.tree, "buffer_"), &ib);
	resolve(json_object_get(ia.tree, "null_bitmap_"), &ibm);
	if ((rc = map_buffer(c, "indices_.buffer_", &ib)) <= 0)
		return rc;
	if (a->null_count > 0 && (rc = map_buffer(c, "indices_.null_bitmap_", &ibm)) <= 0)
		goto out; /* nulls, but not which: the rule is skipped */
	rc = 0;
	for (i = 0; i < ia.length; i++) {
		if (!valid(&ibm, ia.offset + i))
			continue;
		x = read_int(ib.data, ia.type.value.width, ia.offset + i);
		if (x < 0 || (uint64_t)x >= da.length) {
			rc = fail_at(c, "indices_",
			    "index %lld at slot %llu is outside the dictionary's %llu values", (long long)x,
			    (unsigned long long)i, (unsigned long long)da.length);
			goto out;
		}
	}
out:
	unmap_buffer(c, &ibm);
	unmap_buffer(c, &ib);
	return rc;
}

/* The typename names the type (data_type_ for a dictionary), the counts
 * fit, then the layout of the kind. */
static int
check_array(struct types_ctx *c, const json_t *tree, int depth, struct arr *a)
{
	const char *t = types_get_str(tree, "typename"), *dt = types_get_str(tree, "data_type_");
	int dict = t != NULL && strcmp(t, NS "DictionaryArray") == 0, rc;
	struct arrow_type named;
	char nstr[ARROW_TYPE_STR_MAX];
	struct abuf bm = { 0 };

	memset(a, 0, sizeof *a);
	a->tree = tree;
	if (depth > 64)
		return types_fail(c, "members nest too deep");
	if (!json_is_object(tree))
		return types_fail(c, "metadata is not a JSON object");
	rc = arrow_typename_parse(t, &named);
	if (rc == -ENOENT)
		return types_fail(c, "typename %s is not an Arrow array's", t ? t : "(missing)");
	if (rc != 0 && !dict)
		return types_fail(c, "typename %s names no Arrow type", t);
	if (types_get_count(tree, "length_", &a->length) != 0 ||
	    types_get_count(tree, "null_count_", &a->null_count) != 0 ||
	    types_get_count(tree, "offset_", &a->offset) != 0)
		return types_fail(c, "length_, null_count_ and offset_ must be counts");
	if (a->length > SLOTS_MAX || a->offset > SLOTS_MAX - a->length)
		return types_fail(c, "offset_ + length_ is too large");
	if (a->null_count > a->length)
		return types_fail(c, "null_count_ %llu exceeds length_ %llu",
		    (unsigned long long)a->null_count, (unsigned long long)a->length);
	if (dt == NULL && dict)
		return types_fail(c, "data_type_ is missing");
	if (dt != NULL && (arrow_type_parse(dt, &a->type) != 0 || a->type.dictionary != dict))
		return types_fail(
		    c, "data_type_ \"%.80s\" is not a%s type string", dt, dict ? " dictionary" : "n array");
	if (dt == NULL)
		a->type = named;
	if (arrow_type_format(&a->type, a->tstr, sizeof a->tstr) != 0)
		return types_fail(c, "data_type_ is too long");
	if (!dict && (arrow_type_format(&named, nstr, sizeof nstr) != 0 || strcmp(nstr, a->tstr) != 0))
		return types_fail(c, "data_type_ %s differs from the typename's %s", a->tstr, nstr);
	if (dict)
		return check_dictionary(c, a, depth);
	if ((rc = check_bitmap(c, a, depth, &bm)) != 0)
		return rc;
	if (a->type.value.kind == ARROW_STRING || a->type.value.kind == ARROW_BINARY)
		rc = check_binary(c, a, &bm, depth);
	else
		rc = check_values(c, a, depth);
	unmap_buffer(c, &bm);
	return rc;
}

/* offset_ (a multiple of 8) + size_ within the blob buffer_. */
static int
check_bufferview(struct types_ctx *c, const json_t *tree, int depth)
{
	const json_t *b;
	uint64_t off, size, nbytes;
	int rc;

	if (types_get_count(tree, "offset_", &off) != 0 || types_get_count(tree, "size_", &size) != 0)
		return types_fail(c, "offset_ and size_ must be counts");
	if (off % 8 != 0)
		return types_fail(c, "offset_ %llu is not a multiple of 8", (unsigned long long)off);
	if ((rc = types_member(c, tree, "buffer_", &b, depth)) != 0)
		return rc;
	if (!types_is_raw_blob(b) || types_get_count(b, "nbytes", &nbytes) != 0)
		return types_fail(c, "buffer_ is not a blob");
	if (off > nbytes || size > nbytes - off)
		return types_fail(c, "offset_ %llu + size_ %llu is past the %llu bytes of buffer_",
		    (unsigned long long)off, (unsigned long long)size, (unsigned long long)nbytes);
	return 0;
}

/* fields_ of a SchemaProxy (an array, or a string holding one): a new
 * reference in *out, the caller's to drop. */
static int
check_schema(struct types_ctx *c, const json_t *tree, json_t **out)
{
	json_t *fields = json_object_get(tree, "fields_"), *f;
	const char *textual = types_get_str(tree, "schema_textual_");
	struct arrow_type t;
	size_t i, j;

	*out = NULL;
	if (json_is_string(fields))
		fields = json_loads(json_string_value(fields), 0, NULL);
	else
		json_incref(fields);
	if (!json_is_array(fields) || json_array_size(fields) > FIELDS_MAX) {
		json_decref(fields);
		return types_fail(c, "fields_ is not an array of at most %d fields", FIELDS_MAX);
	}
	if (json_object_get(tree, "schema_textual_") != NULL && textual == NULL)
		goto bad_textual;
	json_array_foreach (fields, i, f) {
		const char *name = types_get_str(f, "name"), *type = types_get_str(f, "type");

		if (name == NULL || *name == '\0') {
			types_fail(c, "fields_[%zu] has no name", i);
			goto fail;
		}
		if (type == NULL || arrow_type_parse(type, &t) != 0) {
			types_fail(c, "fields_[%zu] (%s): type is not a type string", i, name);
			goto fail;
		}
		if (!json_is_boolean(json_object_get(f, "nullable"))) {
			types_fail(c, "fields_[%zu] (%s): nullable is not true or false", i, name);
			goto fail;
		}
		for (j = 0; j < i; j++)
			if (strcmp(types_get_str(json_array_get(fields, j), "name"), name) == 0) {
				types_fail(c, "field %s appears twice", name);
				goto fail;
			}
	}
	*out = fields;
	return 0;
bad_textual:
	types_fail(c, "schema_textual_ is not a string");
fail:
	json_decref(fields);
	return -EINVAL;
}

/* Member schema_ of tree, a SchemaProxy of n fields (the count in field
 * count_name): its fields_ into *fields. */
static int
schema_member(
    struct types_ctx *c, const json_t *tree, int depth, const char *count_name, uint64_t n, json_t **fields)
{
	const json_t *m = json_object_get(tree, "schema_");
	int rc;

	*fields = NULL;
	if (!json_is_object(m) || !is_typename(m, NS "SchemaProxy"))
		return types_fail(c, "schema_ is not a " NS "SchemaProxy");
	if ((rc = types_member(c, tree, "schema_", NULL, depth)) != 0 ||
	    (rc = check_schema(c, m, fields)) != 0)
		return rc;
	if (json_array_size(*fields) != n) {
		rc = types_fail(c, "%s %llu, but the schema has %zu fields", count_name,
		    (unsigned long long)n, json_array_size(*fields));
		json_decref(*fields);
		*fields = NULL;
	}
	return rc;
}

/* Columns __columns_-i of field i's type, row_num_ long; fields_ equal to
 * expect (a table's) when given. */
static int
check_batch(struct types_ctx *c, const json_t *tree, int depth, const json_t *expect, uint64_t *rows)
{
	uint64_t ncols, nrows, size, i;
	json_t *fields = NULL;
	struct arrow_type t;
	char name[48], fstr[ARROW_TYPE_STR_MAX];
	struct arr a;
	int rc;

	if (types_get_count(tree, "column_num_", &ncols) != 0 ||
	    types_get_count(tree, "row_num_", &nrows) != 0 ||
	    types_get_count(tree, "__columns_-size", &size) != 0)
		return types_fail(c, "column_num_, row_num_ and __columns_-size must be counts");
	if (ncols != size)
		return types_fail(c, "column_num_ %llu differs from __columns_-size %llu",
		    (unsigned long long)ncols, (unsigned long long)size);
	if ((rc = schema_member(c, tree, depth, "column_num_", ncols, &fields)) != 0)
		return rc;
	if (expect != NULL && !json_equal(fields, expect)) {
		rc = fail_at(c, "schema_", "fields_ differ from the table's");
		goto out;
	}
	for (i = 0; i < ncols; i++) {
		const json_t *f = json_array_get(fields, i);
		const char *fname = types_get_str(f, "name");

		snprintf(name, sizeof name, "__columns_-%llu", (unsigned long long)i);
		if ((rc = array_member(c, tree, name, depth, &a)) != 0)
			goto out;
		arrow_type_parse(types_get_str(f, "type"), &t);
		if (arrow_type_format(&t, fstr, sizeof fstr) != 0 || strcmp(fstr, a.tstr) != 0) {
			rc = fail_at(c, name, "type %s, but field %s is %s", a.tstr, fname, fstr);
			goto out;
		}
		if (a.length != nrows) {
			rc = fail_at(c, name, "length_ %llu, but row_num_ is %llu",
			    (unsigned long long)a.length, (unsigned long long)nrows);
			goto out;
		}
		if (a.null_count != 0 && !json_is_true(json_object_get(f, "nullable"))) {
			rc = fail_at(c, name, "%llu nulls in field %s, which is not nullable",
			    (unsigned long long)a.null_count, fname);
			goto out;
		}
	}
	if (rows != NULL)
		*rows = nrows;
out:
	json_decref(fields);
	return rc;
}

/* RecordBatches partitions_-i of the table's schema; rows summed. */
static int
check_table(struct types_ctx *c, const json_t *tree, int depth)
{
	uint64_t rows, ncols, nbatch, size, i, sum = 0, n;
	json_t *fields = NULL;
	const json_t *m;
	char name[48];
	size_t len;
	int rc;

	if (types_get_count(tree, "num_rows_", &rows) != 0 ||
	    types_get_count(tree, "num_columns_", &ncols) != 0 ||
	    types_get_count(tree, "batch_num_", &nbatch) != 0 ||
	    types_get_count(tree, "partitions_-size", &size) != 0)
		return types_fail(
		    c, "num_rows_, num_columns_, batch_num_ and partitions_-size must be counts");
	if (nbatch != size || nbatch > PARTS_MAX)
		return types_fail(c, "batch_num_ %llu differs from partitions_-size %llu or is too large",
		    (unsigned long long)nbatch, (unsigned long long)size);
	if ((rc = schema_member(c, tree, depth, "num_columns_", ncols, &fields)) != 0)
		return rc;
	for (i = 0; i < nbatch; i++) {
		snprintf(name, sizeof name, "partitions_-%llu", (unsigned long long)i);
		m = json_object_get(tree, name);
		if (!json_is_object(m) || !is_typename(m, NS "RecordBatch")) {
			rc = types_fail(c, "%s is not a " NS "RecordBatch", name);
			goto out;
		}
		len = push(c, name);
		rc = check_batch(c, m, depth + 1, fields, &n);
		c->path[len] = '\0';
		if (rc != 0)
			goto out;
		if (n > UINT64_MAX - sum) {
			rc = types_fail(c, "the batches' rows overflow");
			goto out;
		}
		sum += n;
	}
	if (sum != rows) {
		rc = types_fail(c, "num_rows_ %llu, but the batches hold %llu", (unsigned long long)rows,
		    (unsigned long long)sum);
		goto out;
	}
	if ((m = json_object_get(tree, "ipc_")) != NULL) {
		if (!types_is_raw_blob(m)) {
			rc = types_fail(c, "ipc_ is not a blob");
			goto out;
		}
		rc = types_member(c, tree, "ipc_", NULL, depth);
	}
out:
	json_decref(fields);
	return rc;
}

int
types_arrow_validate(struct types_ctx *c, const json_t *tree, int depth)
{
	const char *t = types_get_str(tree, "typename");
	struct arrow_type type;
	json_t *fields;
	struct arr a;
	int rc;

	if (strcmp(t, NS "BufferView") == 0)
		return check_bufferview(c, tree, depth);
	if (strcmp(t, NS "SchemaProxy") == 0) {
		rc = check_schema(c, tree, &fields);
		json_decref(fields);
		return rc;
	}
	if (strcmp(t, NS "RecordBatch") == 0)
		return check_batch(c, tree, depth, NULL, NULL);
	if (strcmp(t, NS "Table") == 0)
		return check_table(c, tree, depth);
	if (arrow_typename_parse(t, &type) == -ENOENT && strcmp(t, NS "DictionaryArray") != 0)
		return 0; /* another vineyard:: type: a user type here */
	return check_array(c, tree, depth, &a);
}
