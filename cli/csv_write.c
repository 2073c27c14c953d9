/*
 * csv_write: columns to CSV text (see csv.h). The writer formats each
 * value into a 1 MiB buffer written in one piece, floats in the shortest
 * form that reads back to the same value.
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
#define VALUE_MAX 64 /* bytes a formatted value may take, with its NUL: 25 do */

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

/* A name as a field: quoted when it holds what would end one, when an
 * empty name would make the header a blank line, or when a reader would
 * take its start for a byte order mark. */
static int
put_name(struct writer *w, const char *name, int alone)
{
	const char *q;
	int rc;

	if (name[strcspn(name, ",\"\r\n")] == '\0' && !(alone && name[0] == '\0') &&
	    strncmp(name, "\xef\xbb\xbf", 3) != 0)
		return put(w, name, strlen(name));
	if ((rc = put(w, "\"", 1)) != 0)
		return rc;
	while ((q = strchr(name, '"')) != NULL) {
		if ((rc = put(w, name, (size_t)(q - name + 1))) != 0 || (rc = put(w, "\"", 1)) != 0)
			return rc;
		name = q + 1;
	}
	if ((rc = put(w, name, strlen(name))) != 0)
		return rc;
	return put(w, "\"", 1);
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
