/*
 * csv_read: CSV text to columns (see csv.h). The reader is a
 * byte-at-a-time state machine over a 64 KiB window of the input: each
 * field is read into a fixed buffer, parsed at once and appended to its
 * column, so memory is the columns plus one field. A column's type only
 * widens as rows come (int64 to float64, in place: both are 8 bytes); a
 * bool column stays bool or the read fails, since no other type holds
 * both.
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
#include "core/vec.h"

#define IN_CHUNK (64 * 1024)

/* A column's type so far; NONE until its first row. */
enum kind { K_NONE, K_BOOL, K_INT, K_FLOAT };

struct col {
	char *name;
	enum kind kind;
	unsigned char *data;
	uint64_t cap; /* values data has room for */
};

struct reader {
	int fd; /* when f is NULL */
	FILE *f;
	unsigned char *buf; /* IN_CHUNK bytes, of which pos..len are unread */
	size_t pos, len;
	int eof;
	int rc; /* -errno of a failed read */
	uint64_t nread;
	struct progress *p;
	uint64_t line; /* of the next byte, from 1 */
	char *field;   /* CSV_FIELD_MAX + 1 bytes: the last field read, unquoted */
	size_t flen;
	int quoted;
	uint64_t fline; /* the line the field starts on */
	struct col *cols;
	size_t ncols;
	uint64_t nrows;
	char *err;
	size_t errlen;
};

/* What ended a field. */
enum end { END_COMMA, END_LINE, END_FILE };

/* Is s (n bytes) well-formed UTF-8, as JSON strings must be? */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			len = 2, cp = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			len = 3, cp = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			len = 4, cp = s[i] & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* Overlong forms, UTF-16 surrogates, past U+10FFFF. */
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += len;
	}
	return 1;
}

/* Read more input after the first keep bytes of the window; 1, 0 at the
 * end, or -errno (kept in r->rc, and the end from then on). */
static int
fill(struct reader *r, size_t keep)
{
	ssize_t n;

	if (r->eof)
		return r->rc;
	if (r->f != NULL) {
		errno = 0;
		n = (ssize_t)fread(r->buf + keep, 1, IN_CHUNK - keep, r->f);
		/* fread need not set errno. */
		if (n == 0 && ferror(r->f))
			errno = errno != 0 ? errno : EIO, n = -1;
	} else {
		do
			n = read(r->fd, r->buf + keep, IN_CHUNK - keep);
		while (n < 0 && errno == EINTR);
	}
	if (n <= 0) {
		r->eof = 1;
		if (n < 0)
			r->rc = util_fail(r->err, r->errlen, -errno, "reading: %s", strerror(errno));
		return r->rc;
	}
	if (keep == 0)
		r->pos = 0;
	r->len = keep + (size_t)n;
	r->nread += (uint64_t)n;
	if (r->p != NULL)
		progress_update(r->p, r->nread);
	return 1;
}

/* The next byte, or -1 at the end or after a failed read (r->rc). */
static inline int
next(struct reader *r)
{
	if (r->pos == r->len && fill(r, 0) <= 0)
		return -1;
	return r->buf[r->pos++];
}

static int
add(struct reader *r, int c)
{
	if (c == '\0')
		return util_fail(r->err, r->errlen, -EINVAL,
		    "line %" PRIu64 ": a NUL byte (is this a text file?)", r->line);
	if (r->flen == CSV_FIELD_MAX)
		return util_fail(r->err, r->errlen, -EINVAL,
		    "line %" PRIu64 ": a field longer than %d bytes (a stray quote?)", r->fline,
		    CSV_FIELD_MAX);
	r->field[r->flen++] = (char)c;
	return 0;
}

/* Read one field into r->field, unquoted; *end says what ended it. */
static int
read_field(struct reader *r, enum end *end)
{
	int c, rc;

	r->flen = 0;
	r->fline = r->line;
	r->quoted = 0;
	c = next(r);
	if (c == '"') {
		r->quoted = 1;
		for (;;) {
			if ((c = next(r)) == -1 && r->rc != 0)
				return r->rc;
			if (c == -1)
				return util_fail(r->err, r->errlen, -EINVAL,
				    "line %" PRIu64 ": a quoted field is still open at the end of the file",
				    r->fline);
			if (c == '"' && (c = next(r)) != '"')
				break;
			if (c == '\n')
				r->line++;
			if ((rc = add(r, c)) != 0)
				return rc;
		}
		if (c != ',' && c != '\n' && c != '\r' && c != -1)
			return util_fail(r->err, r->errlen, -EINVAL,
			    "line %" PRIu64
			    ": text after the closing quote of a field (a quote inside one is written \"\")",
			    r->line);
	} else {
		while (c != -1 && c != ',' && c != '\n' && c != '\r') {
			if ((rc = add(r, c)) != 0)
				return rc;
			c = next(r);
		}
	}
	r->field[r->flen] = '\0';
	switch (c) {
	case ',': *end = END_COMMA; break;
	case '\r':
		/* CRLF is one line end; a lone CR is one too. */
		if ((c = next(r)) != '\n' && c != -1)
			r->pos--;
		/* fall through */
	case '\n':
		r->line++;
		*end = END_LINE;
		break;
	default: *end = END_FILE;
	}
	return r->rc;
}

/* Does the field just read make a blank line, to be skipped? */
static int
blank(const struct reader *r, enum end end)
{
	return r->flen == 0 && !r->quoted && end != END_COMMA;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp((*(struct col *const *)a)->name, (*(struct col *const *)b)->name);
}

static int
read_header(struct reader *r)
{
	char shown[CSV_SHOW_MAX + 4];
	struct col **sorted;
	enum end end;
	size_t i, cap = 0;
	int rc;

	do {
		if ((rc = read_field(r, &end)) != 0)
			return rc;
	} while (blank(r, end) && end != END_FILE);
	if (blank(r, end))
		return util_fail(r->err, r->errlen, -EINVAL, "no header: the file is empty");
	for (;;) {
		if (r->ncols == CSV_COLUMNS_MAX)
			return util_fail(r->err, r->errlen, -EINVAL, "line %" PRIu64 ": more than %d columns",
			    r->fline, CSV_COLUMNS_MAX);
		if (VEC_PUSH_ROOM(r->cols, r->ncols, cap) != 0)
			return util_fail(r->err, r->errlen, -ENOMEM, "out of memory");
		memset(&r->cols[r->ncols], 0, sizeof r->cols[0]);
		if (r->flen == 0)
			return util_fail(r->err, r->errlen, -EINVAL,
			    "line %" PRIu64 ": column %zu of the header has no name", r->fline, r->ncols + 1);
		if (!utf8_ok((const unsigned char *)r->field, r->flen))
			return util_fail(r->err, r->errlen, -EINVAL,
			    "line %" PRIu64 ": column %zu of the header is not UTF-8", r->fline,
			    r->ncols + 1);
		if ((r->cols[r->ncols].name = strdup(r->field)) == NULL)
			return util_fail(r->err, r->errlen, -ENOMEM, "out of memory");
		r->ncols++;
		if (end != END_COMMA)
			break;
		if ((rc = read_field(r, &end)) != 0)
			return rc;
	}
	/* Sorted, equal names are neighbours: n log n even for wide tables. */
	if ((sorted = malloc(r->ncols * sizeof *sorted)) == NULL)
		return util_fail(r->err, r->errlen, -ENOMEM, "out of memory");
	for (i = 0; i < r->ncols; i++)
		sorted[i] = &r->cols[i];
	qsort(sorted, r->ncols, sizeof *sorted, by_name);
	for (i = 1; i < r->ncols; i++)
		if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
			rc = util_fail(r->err, r->errlen, -EINVAL, "the header names column '%s' twice",
			    csv_show(shown, sorted[i]->name));
			break;
		}
	free(sorted);
	return rc;
}

static size_t
kind_size(enum kind k)
{
	return k == K_BOOL ? 1 : 8;
}

/* The int64 values of rows 0..n of c become doubles. */
static void
to_float(struct col *c, uint64_t n)
{
	uint64_t i;
	int64_t v;
	double d;

	for (i = 0; i < n; i++) {
		memcpy(&v, c->data + 8 * i, 8);
		d = (double)v;
		memcpy(c->data + 8 * i, &d, 8);
	}
	c->kind = K_FLOAT;
}

/* Parse the field just read as row r->nrows of c. */
static int
store(struct reader *r, struct col *c)
{
	char sv[CSV_SHOW_MAX + 4], sn[CSV_SHOW_MAX + 4];
	char *s = r->field, *e = r->field + r->flen, *end;
	enum kind k;
	int64_t i = 0;
	double d = 0;
	int b = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	if (s == e)
		k = K_NONE, d = NAN;
	else if (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0)
		k = K_BOOL, b = (*s == 't' || *s == 'T');
	else {
		/* An int64 unless the column is float64 already, or the
		 * number does not fit: then as strtod rounds it. */
		errno = 0;
		if (c->kind != K_FLOAT && ((i = strtoll(s, &end, 10)), end == e) && errno == 0)
			k = K_INT;
		else if ((d = strtod(s, &end)), end == e)
			k = K_FLOAT;
		else
			return util_fail(r->err, r->errlen, -EINVAL,
			    "line %" PRIu64
			    ", column '%s': '%s' is not a number (DataFrame columns are numeric Tensors)",
			    r->fline, csv_show(sn, c->name), csv_show(sv, s));
	}
	if (c->kind == K_BOOL && k == K_NONE)
		return util_fail(r->err, r->errlen, -EINVAL,
		    "line %" PRIu64 ", column '%s': an empty field among bools (a bool Tensor has no NaN)",
		    r->fline, csv_show(sn, c->name));
	if (c->kind == K_BOOL && k != K_BOOL)
		return util_fail(r->err, r->errlen, -EINVAL,
		    "line %" PRIu64 ", column '%s': '%s' is a number among bools", r->fline,
		    csv_show(sn, c->name), csv_show(sv, s));
	if (c->kind != K_NONE && c->kind != K_BOOL && k == K_BOOL)
		return util_fail(r->err, r->errlen, -EINVAL,
		    "line %" PRIu64 ", column '%s': '%s' is a bool among numbers", r->fline,
		    csv_show(sn, c->name), csv_show(sv, s));
	if (c->kind == K_NONE)
		c->kind = k == K_NONE ? K_FLOAT : k;
	else if (c->kind == K_INT && k != K_INT)
		to_float(c, r->nrows);
	if (r->nrows == c->cap) {
		uint64_t cap = c->cap ? 2 * c->cap : 64;
		unsigned char *data = cap <= SIZE_MAX / 8 ? realloc(c->data, cap * kind_size(c->kind)) : NULL;

		if (data == NULL)
			return util_fail(r->err, r->errlen, -ENOMEM,
			    "out of memory at line %" PRIu64 " (%" PRIu64 " rows)", r->fline, r->nrows);
		c->data = data;
		c->cap = cap;
	}
	if (c->kind == K_BOOL)
		c->data[r->nrows] = (unsigned char)b;
	else if (c->kind == K_INT)
		memcpy(c->data + 8 * r->nrows, &i, 8);
	else
		memcpy(c->data + 8 * r->nrows, &d, 8);
	return 0;
}

static int
read_rows(struct reader *r)
{
	uint64_t line = 0;
	enum end end;
	size_t col = 0, n;
	int rc;

	for (;;) {
		if ((rc = read_field(r, &end)) != 0)
			return rc;
		if (col == 0 && blank(r, end)) {
			if (end == END_FILE)
				return 0;
			continue;
		}
		if (col == 0)
			line = r->fline;
		if (col == r->ncols) {
			/* Count the rest, for the message. */
			for (n = col + 1; end == END_COMMA; n++)
				if ((rc = read_field(r, &end)) != 0)
					return rc;
			return util_fail(r->err, r->errlen, -EINVAL,
			    "line %" PRIu64 ": %zu fields, the header has %zu", line, n, r->ncols);
		}
		if ((rc = store(r, &r->cols[col])) != 0)
			return rc;
		col++;
		if (end == END_COMMA)
			continue;
		if (col < r->ncols)
			return util_fail(r->err, r->errlen, -EINVAL,
			    "line %" PRIu64 ": %zu field%s, the header has %zu", line, col,
			    col == 1 ? "" : "s", r->ncols);
		r->nrows++;
		col = 0;
		if (end == END_FILE)
			return 0;
	}
}

static void
free_cols(struct col *cols, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(cols[i].name);
		free(cols[i].data);
	}
	free(cols);
}

static int
csv_read(struct reader *r, struct csv_table *t)
{
	static const char *const types[] = { [K_BOOL] = "bool", [K_INT] = "int64", [K_FLOAT] = "float64" };
	size_t i;
	int rc = 0;

	memset(t, 0, sizeof *t);
	r->line = 1;
	r->buf = malloc(IN_CHUNK);
	r->field = malloc(CSV_FIELD_MAX + 1);
	if (r->buf == NULL || r->field == NULL) {
		rc = util_fail(r->err, r->errlen, -ENOMEM, "out of memory");
		goto out;
	}
	/* A byte order mark is three bytes; a pipe may give fewer at once. */
	while (r->len < 3 && (rc = fill(r, r->len)) != 0)
		if (rc < 0)
			goto out;
	if (r->len >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0)
		r->pos = 3;
	if ((rc = read_header(r)) != 0 || (rc = read_rows(r)) != 0)
		goto out;
	if ((t->cols = calloc(r->ncols, sizeof *t->cols)) == NULL) {
		rc = util_fail(r->err, r->errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < r->ncols; i++) {
		struct col *c = &r->cols[i];
		size_t size = (size_t)r->nrows * kind_size(c->kind);
		unsigned char *data;

		/* No rows, no type: float64, as an all-NaN column. Give back
		 * what doubling took beyond the rows. */
		if (c->kind == K_NONE)
			c->kind = K_FLOAT;
		if ((data = realloc(c->data, size > 0 ? size : 1)) != NULL)
			c->data = data;
		else if (c->data == NULL) {
			rc = util_fail(r->err, r->errlen, -ENOMEM, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < r->ncols; i++) {
		t->cols[i].name = r->cols[i].name;
		t->cols[i].value_type = types[r->cols[i].kind];
		t->cols[i].data = r->cols[i].data;
		r->cols[i].name = NULL;
		r->cols[i].data = NULL;
	}
	t->ncols = r->ncols;
	t->nrows = r->nrows;
out:
	if (rc != 0) {
		free(t->cols);
		memset(t, 0, sizeof *t);
	}
	free_cols(r->cols, r->ncols);
	free(r->buf);
	free(r->field);
	return rc;
}

int
csv_read_fd(int fd, struct csv_table *t, struct progress *p, char *err, size_t errlen)
{
	struct reader r = { .fd = fd, .p = p, .err = err, .errlen = errlen };

	return csv_read(&r, t);
}

int
csv_read_file(FILE *f, struct csv_table *t, struct progress *p, char *err, size_t errlen)
{
	struct reader r = { .fd = -1, .f = f, .p = p, .err = err, .errlen = errlen };

	return csv_read(&r, t);
}

void
csv_table_free(struct csv_table *t)
{
	size_t i;

	/* The table's pointers are const for its readers; it owns them. */
	for (i = 0; i < t->ncols; i++) {
		free((void *)t->cols[i].name);
		free((void *)t->cols[i].data);
	}
	free(t->cols);
	memset(t, 0, sizeof *t);
}

const char *
csv_show(char *out, const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0' && n < CSV_SHOW_MAX; n++)
		out[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
	if (s[n] != '\0') {
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}
