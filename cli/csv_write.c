/*
 * csv_write: columns to CSV text (see csv.h): a DataFrame's Tensors, or a
 * table's Arrow arrays batch by batch. The writer formats each value into
 * a 1 MiB buffer written in one piece, floats in the shortest form that
 * reads back to the same value, times by csv_time_format.
 */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/csv.h"
#include "cli/csv_i.h"
#include "cli/progress.h"
#include "core/util.h"

#define OUT_CHUNK (1 << 20)
#define VALUE_MAX CSV_VALUE_MAX

enum vtype { V_I8, V_I16, V_I32, V_I64, V_U8, V_U16, V_U32, V_U64, V_F32, V_F64, V_BOOL };

static const struct {
	const char *name;
	size_t size;
} vtypes[] = {
	[V_I8] = { "int8", 1 },
	[V_I16] = { "int16", 2 },
	[V_I32] = { "int32", 4 },
	[V_I64] = { "int64", 8 },
	[V_U8] = { "uint8", 1 },
	[V_U16] = { "uint16", 2 },
	[V_U32] = { "uint32", 4 },
	[V_U64] = { "uint64", 8 },
	[V_F32] = { "float32", 4 },
	[V_F64] = { "float64", 8 },
	[V_BOOL] = { "bool", 1 },
};

#define NVTYPES (sizeof vtypes / sizeof vtypes[0])

struct writer {
	int fd; /* when f is NULL */
	FILE *f;
	char *buf; /* OUT_CHUNK bytes, len of them used */
	size_t len;
	struct progress *p;
	uint64_t done; /* column bytes formatted before the current row */
	char *err;
	size_t errlen;
};

/* A column resolved for the row loop. */
struct wcol {
	enum vtype type;
	const unsigned char *data;
};

/* The index in vtypes of a value type, NVTYPES if none. */
static size_t
vtype_of(const char *value_type)
{
	size_t i;

	for (i = 0; value_type != NULL && i < NVTYPES; i++)
		if (strcmp(value_type, vtypes[i].name) == 0)
			return i;
	return NVTYPES;
}

static int
flush(struct writer *w)
{
	size_t off = 0;
	ssize_t n;

	while (off < w->len) {
		errno = 0;
		if (w->f != NULL)
			n = (ssize_t)fwrite(w->buf + off, 1, w->len - off, w->f);
		else if ((n = write(w->fd, w->buf + off, w->len - off)) < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* fwrite need not set errno; write(2) returning 0 is odd. */
			int e = n < 0 || errno != 0 ? errno : EIO;

			return util_fail(w->err, w->errlen, -e, "writing: %s", strerror(e));
		}
		off += (size_t)n;
	}
	w->len = 0;
	if (w->p != NULL)
		progress_update(w->p, w->done);
	return 0;
}

static int
put(struct writer *w, const char *s, size_t n)
{
	size_t k;
	int rc;

	while (n > 0) {
		if (w->len == OUT_CHUNK && (rc = flush(w)) != 0)
			return rc;
		k = n < OUT_CHUNK - w->len ? n : OUT_CHUNK - w->len;
		memcpy(w->buf + w->len, s, k);
		w->len += k;
		s += k;
		n -= k;
	}
	return 0;
}

/* Text as a field: quoted when it holds what would end one, when it is
 * empty and would read as null or make a blank line (force), or when a
 * reader would take its start for a byte order mark. */
static int
put_text(struct writer *w, const char *s, size_t n, int force)
{
	const char *q, *e = s + n;
	size_t i;
	int rc, plain = !(force && n == 0) && !(n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0);

	for (i = 0; plain && i < n; i++)
		plain = s[i] != ',' && s[i] != '"' && s[i] != '\r' && s[i] != '\n';
	if (plain)
		return put(w, s, n);
	if ((rc = put(w, "\"", 1)) != 0)
		return rc;
	while ((q = memchr(s, '"', (size_t)(e - s))) != NULL) {
		if ((rc = put(w, s, (size_t)(q - s + 1))) != 0 || (rc = put(w, "\"", 1)) != 0)
			return rc;
		s = q + 1;
	}
	if ((rc = put(w, s, (size_t)(e - s))) != 0)
		return rc;
	return put(w, "\"", 1);
}

/* A name as a field (an empty one quoted when alone, or the header would
 * be a blank line). */
static int
put_name(struct writer *w, const char *name, int alone)
{
	return put_text(w, name, strlen(name), alone);
}

static size_t
format_u64(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static size_t
format_i64(char *out, int64_t v)
{
	if (v >= 0)
		return format_u64(out, (uint64_t)v);
	out[0] = '-';
	/* Negated as unsigned: INT64_MIN has no positive int64. */
	return 1 + format_u64(out + 1, -(uint64_t)v);
}

/* The shortest %.15g, %.16g or %.17g (%.6g to %.9g if single) that
 * parses back to v; then ".0" if it reads as an integer, so that the
 * column comes back as floats. NaN is the empty field. */
static size_t
format_real(char *out, double v, int single)
{
	double tiny;
	int prec, n = 0;

	if (isnan(v))
		return 0;
	if (isinf(v)) {
		memcpy(out, v > 0 ? "inf" : "-inf", v > 0 ? 3 : 4);
		return v > 0 ? 3 : 4;
	}
	/* Subnormals have few digits to give: "5e-324", as Python has it. */
	tiny = single ? FLT_MIN : DBL_MIN;
	prec = v > -tiny && v < tiny ? 1 : single ? 6 : 15;
	for (; prec <= (single ? 9 : 17); prec++) {
		n = snprintf(out, VALUE_MAX, "%.*g", prec, v);
		if (single ? strtof(out, NULL) == (float)v : strtod(out, NULL) == v)
			break;
	}
	if (strpbrk(out, ".e") == NULL) {
		memcpy(out + n, ".0", 3);
		n += 2;
	}
	return (size_t)n;
}

/* Value i of column c, formatted into out; its length. */
static size_t
format_value(char *out, const struct wcol *c, uint64_t i)
{
	const unsigned char *p = c->data + i * vtypes[c->type].size;
	union {
		int8_t i8;
		int16_t i16;
		int32_t i32;
		int64_t i64;
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;
		float f32;
		double f64;
	} v;

	/* Copied out: a column of a mapped blob need not be aligned. */
	memcpy(&v, p, vtypes[c->type].size);
	switch (c->type) {
	case V_I8: return format_i64(out, v.i8);
	case V_I16: return format_i64(out, v.i16);
	case V_I32: return format_i64(out, v.i32);
	case V_I64: return format_i64(out, v.i64);
	case V_U8: return format_u64(out, v.u8);
	case V_U16: return format_u64(out, v.u16);
	case V_U32: return format_u64(out, v.u32);
	case V_U64: return format_u64(out, v.u64);
	case V_F32: return format_real(out, v.f32, 1);
	case V_F64: return format_real(out, v.f64, 0);
	case V_BOOL: memcpy(out, v.u8 ? "True" : "False", v.u8 ? 4 : 5); return v.u8 ? 4 : 5;
	}
	return 0;
}

static int
csv_write(struct writer *w, const struct csv_column *cols, size_t ncols, uint64_t nrows)
{
	char shown[CSV_SHOW_MAX + 4];
	struct wcol *wc = NULL;
	uint64_t row, rowbytes = 0;
	size_t i, k, n;
	int rc = 0;

	if (ncols == 0)
		return util_fail(w->err, w->errlen, -EINVAL, "no columns: an empty table has no CSV form");
	if ((wc = calloc(ncols, sizeof *wc)) == NULL || (w->buf = malloc(OUT_CHUNK)) == NULL) {
		rc = util_fail(w->err, w->errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < ncols; i++) {
		if ((k = vtype_of(cols[i].value_type)) == NVTYPES) {
			rc = util_fail(w->err, w->errlen, -EINVAL,
			    "column '%s': value type '%s' has no CSV form", csv_show(shown, cols[i].name),
			    cols[i].value_type != NULL ? cols[i].value_type : "(none)");
			goto out;
		}
		wc[i].type = (enum vtype)k;
		wc[i].data = cols[i].data;
		rowbytes += vtypes[k].size;
	}
	for (i = 0; i < ncols; i++)
		if ((i > 0 && (rc = put(w, ",", 1)) != 0) ||
		    (rc = put_name(w, cols[i].name, ncols == 1)) != 0)
			goto out;
	if ((rc = put(w, "\n", 1)) != 0)
		goto out;
	for (row = 0; row < nrows; row++) {
		w->done = row * rowbytes;
		for (i = 0; i < ncols; i++) {
			/* Room for a comma, a value and the line's end. */
			if (OUT_CHUNK - w->len < 1 + VALUE_MAX + 1 && (rc = flush(w)) != 0)
				goto out;
			if (i > 0)
				w->buf[w->len++] = ',';
			n = format_value(w->buf + w->len, &wc[i], row);
			/* An empty line would be skipped as blank. */
			if (n == 0 && ncols == 1) {
				memcpy(w->buf + w->len, "\"\"", 2);
				n = 2;
			}
			w->len += n;
		}
		w->buf[w->len++] = '\n';
	}
	w->done = nrows * rowbytes;
	if ((rc = flush(w)) != 0)
		goto out;
	if (w->f != NULL && fflush(w->f) != 0)
		rc = util_fail(w->err, w->errlen, -errno, "writing: %s", strerror(errno));
out:
	free(wc);
	free(w->buf);
	return rc;
}

int
csv_write_fd(int fd, const struct csv_column *cols, size_t ncols, uint64_t nrows, struct progress *p,
    char *err, size_t errlen)
{
	struct writer w = { .fd = fd, .p = p, .err = err, .errlen = errlen };

	return csv_write(&w, cols, ncols, nrows);
}

int
csv_write_file(FILE *f, const struct csv_column *cols, size_t ncols, uint64_t nrows, struct progress *p,
    char *err, size_t errlen)
{
	struct writer w = { .fd = -1, .f = f, .p = p, .err = err, .errlen = errlen };

	return csv_write(&w, cols, ncols, nrows);
}

/* The width-bit little-endian integer at p, sign-extended when signed
 * (uint64 past INT64_MAX wraps; callers format those themselves). */
static int64_t
int_at(const unsigned char *p, unsigned width, int is_signed)
{
	uint64_t u = 0;

	memcpy(&u, p, width / 8);
	if (is_signed && width < 64 && (u >> (width - 1) & 1))
		u |= ~0ULL << width;
	return (int64_t)u;
}

/* Does array a have the buffers its rows need? Mapped blobs come from
 * trees someone else made: never read past them. */
static int
array_fits(const struct csv_array *a, uint64_t rows)
{
	const struct arrow_value_type *v = &a->type.value;
	uint64_t slots = a->offset + rows, need;

	if (a->offset > UINT64_MAX / 2 || rows > UINT64_MAX / 16)
		return 0;
	if (a->null_count > 0 && (a->validity == NULL || a->validity_size < (slots + 7) / 8))
		return 0;
	if (a->type.dictionary)
		need = slots * (a->type.index_width / 8);
	else if (v->kind == ARROW_BOOL)
		need = (slots + 7) / 8;
	else if (v->kind == ARROW_STRING || v->kind == ARROW_BINARY)
		need = (slots + 1) * (v->width / 8);
	else
		need = slots * arrow_value_size(v);
	return (rows == 0 || a->values != NULL) && a->values_size >= need &&
	       (!a->type.dictionary || a->dictionary != NULL);
}

/* Slot i of a (its offset included) as a field. */
static int
put_slot(struct writer *w, const struct csv_array *a, uint64_t i, int alone)
{
	const struct arrow_value_type *v = &a->type.value;
	char out[VALUE_MAX];
	int64_t o0, o1, k;
	uint64_t u;
	size_t n = 0;
	float f;
	double d;

	if (a->null_count > 0 && !(a->validity[i / 8] >> (i % 8) & 1))
		return alone ? put(w, "\"\"", 2) : 0;
	if (a->type.dictionary) {
		const struct csv_array *dict = a->dictionary;

		k = int_at(a->values + i * (a->type.index_width / 8), a->type.index_width, 1);
		if (k < 0 || (uint64_t)k >= dict->length)
			return util_fail(w->err, w->errlen, -EINVAL,
			    "column '%s': index %lld past its dictionary", a->name, (long long)k);
		return put_slot(w, dict, dict->offset + (uint64_t)k, alone);
	}
	switch (v->kind) {
	case ARROW_INT:
	case ARROW_DURATION: n = format_i64(out, int_at(a->values + i * (v->width / 8), v->width, 1)); break;
	case ARROW_UINT:
		u = v->width == 64 ? 0 : (uint64_t)int_at(a->values + i * (v->width / 8), v->width, 0);
		if (v->width == 64)
			memcpy(&u, a->values + i * 8, 8);
		n = format_u64(out, u);
		break;
	case ARROW_FLOAT:
		if (v->width == 32) {
			memcpy(&f, a->values + i * 4, 4);
			n = format_real(out, f, 1);
		} else {
			memcpy(&d, a->values + i * 8, 8);
			n = format_real(out, d, 0);
		}
		/* NaN is no null here, but CSV has one empty field for both. */
		if (n == 0 && alone)
			return put(w, "\"\"", 2);
		break;
	case ARROW_BOOL:
		n = a->values[i / 8] >> (i % 8) & 1 ? 4 : 5;
		memcpy(out, n == 4 ? "True" : "False", n);
		break;
	case ARROW_TIMESTAMP:
		n = csv_time_format(out, int_at(a->values + i * 8, 64, 1), v->unit, v->tz[0] != '\0');
		break;
	case ARROW_DATE:
		k = int_at(a->values + i * (v->width / 8), v->width, 1);
		if (v->width == 64)
			k = k / 86400000 - (k % 86400000 < 0);
		n = csv_time_format(out, k, ARROW_UNIT_DAY, 0);
		break;
	case ARROW_STRING:
	case ARROW_BINARY:
		o0 = int_at(a->values + i * (v->width / 8), v->width, 1);
		o1 = int_at(a->values + (i + 1) * (v->width / 8), v->width, 1);
		if (o0 < 0 || o1 < o0 || (uint64_t)o1 > a->data_size)
			return util_fail(w->err, w->errlen, -EINVAL,
			    "column '%s': offsets %lld..%lld at slot %llu outside its %zu bytes", a->name,
			    (long long)o0, (long long)o1, (unsigned long long)i, a->data_size);
		return put_text(w, (const char *)a->data + o0, (size_t)(o1 - o0), 1);
	}
	return put(w, out, n);
}

static int
csv_write_arrays(struct writer *w, const char *const *names, size_t ncols, const struct csv_array *batches,
    size_t nbatches)
{
	char shown[CSV_SHOW_MAX + 4];
	uint64_t row, rows, done = 0;
	size_t b, i;
	int rc = 0;

	if (ncols == 0)
		return util_fail(w->err, w->errlen, -EINVAL, "no columns: an empty table has no CSV form");
	if ((w->buf = malloc(OUT_CHUNK)) == NULL)
		return util_fail(w->err, w->errlen, -ENOMEM, "out of memory");
	for (b = 0; b < nbatches; b++)
		for (i = 0; i < ncols; i++)
			if (!array_fits(&batches[b * ncols + i], batches[b * ncols].length) ||
			    (batches[b * ncols + i].type.dictionary &&
				!array_fits(batches[b * ncols + i].dictionary,
				    batches[b * ncols + i].dictionary->length))) {
				rc = util_fail(w->err, w->errlen, -EINVAL,
				    "batch %zu, column '%s': buffers too small for its rows", b,
				    csv_show(shown, names[i]));
				goto out;
			}
	for (i = 0; i < ncols; i++)
		if ((i > 0 && (rc = put(w, ",", 1)) != 0) || (rc = put_name(w, names[i], ncols == 1)) != 0)
			goto out;
	if ((rc = put(w, "\n", 1)) != 0)
		goto out;
	for (b = 0; b < nbatches; b++) {
		const struct csv_array *cols = &batches[b * ncols];

		rows = cols[0].length;
		for (row = 0; row < rows; row++) {
			w->done = done + row;
			for (i = 0; i < ncols; i++)
				if ((i > 0 && (rc = put(w, ",", 1)) != 0) ||
				    (rc = put_slot(w, &cols[i], cols[i].offset + row, ncols == 1)) != 0)
					goto out;
			if ((rc = put(w, "\n", 1)) != 0)
				goto out;
		}
		done += rows;
	}
	w->done = done;
	if ((rc = flush(w)) != 0)
		goto out;
	if (w->f != NULL && fflush(w->f) != 0)
		rc = util_fail(w->err, w->errlen, -errno, "writing: %s", strerror(errno));
out:
	free(w->buf);
	return rc;
}

int
csv_write_arrays_fd(int fd, const char *const *names, size_t ncols, const struct csv_array *batches,
    size_t nbatches, struct progress *p, char *err, size_t errlen)
{
	struct writer w = { .fd = fd, .p = p, .err = err, .errlen = errlen };

	return csv_write_arrays(&w, names, ncols, batches, nbatches);
}

int
csv_write_arrays_file(FILE *f, const char *const *names, size_t ncols, const struct csv_array *batches,
    size_t nbatches, struct progress *p, char *err, size_t errlen)
{
	struct writer w = { .fd = -1, .f = f, .p = p, .err = err, .errlen = errlen };

	return csv_write_arrays(&w, names, ncols, batches, nbatches);
}
