/*
 * csv_read: CSV text to columns (see csv.h). The reader is a
 * byte-at-a-time state machine over a 64 KiB window of the input: each
 * field is read into a fixed buffer and appended, unquoted, to its
 * column's text; at the end csv_infer (csv_infer.c) turns each column's
 * text into an Arrow array of the type it infers or is forced to. Memory
 * is the text, then the arrays, plus one field.
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
	struct csv_text *cols;
	size_t ncols;
	uint64_t nrows;
	const struct csv_force *force; /* the types the user forced */
	size_t nforce;
	char *err;
	size_t errlen;
};

/* What ended a field. */
enum end { END_COMMA, END_LINE, END_FILE };

int
csv_utf8_ok(const unsigned char *s, size_t n)
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
	return strcmp((*(struct csv_text *const *)a)->name, (*(struct csv_text *const *)b)->name);
}

static int
read_header(struct reader *r)
{
	char shown[CSV_SHOW_MAX + 4];
	struct csv_text **sorted;
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
		if (!csv_utf8_ok((const unsigned char *)r->field, r->flen))
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

/* Append the field just read to c's text, as row r->nrows. */
static int
store(struct reader *r, struct csv_text *c)
{
	uint64_t row = r->nrows;

	if (row + 1 >= c->rows_cap) {
		uint64_t cap = c->rows_cap ? 2 * c->rows_cap : 64;
		uint64_t *offs = cap <= SIZE_MAX / 8 ? realloc(c->offsets, (size_t)cap * 8) : NULL;
		unsigned char *q = offs != NULL ? realloc(c->quoted, (size_t)cap / 8) : NULL;

		if (offs != NULL)
			c->offsets = offs;
		if (q == NULL)
			return util_fail(r->err, r->errlen, -ENOMEM,
			    "out of memory at line %" PRIu64 " (%" PRIu64 " rows)", r->fline, r->nrows);
		memset(q + c->rows_cap / 8, 0, (size_t)(cap - c->rows_cap) / 8);
		c->quoted = q;
		c->rows_cap = cap;
		c->offsets[0] = 0;
	}
	if (c->size + r->flen > c->cap) {
		uint64_t cap = c->cap ? 2 * c->cap : 256;
		char *data;

		while (cap < c->size + r->flen)
			cap *= 2;
		if ((data = cap <= SIZE_MAX ? realloc(c->data, (size_t)cap) : NULL) == NULL)
			return util_fail(r->err, r->errlen, -ENOMEM,
			    "out of memory at line %" PRIu64 " (%" PRIu64 " rows)", r->fline, r->nrows);
		c->data = data;
		c->cap = cap;
	}
	if (r->flen > 0) /* an empty first field: no data buffer yet */
		memcpy(c->data + c->size, r->field, r->flen);
	c->size += r->flen;
	c->offsets[row + 1] = c->size;
	if (r->quoted)
		c->quoted[row / 8] |= (unsigned char)(1u << (row % 8));
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
free_cols(struct csv_text *cols, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(cols[i].name);
		free(cols[i].data);
		free(cols[i].offsets);
		free(cols[i].quoted);
	}
	free(cols);
}

static void
free_array(struct csv_array *a)
{
	/* The table's pointers are const for its readers; it owns them. */
	free((void *)a->name);
	free((void *)a->validity);
	free((void *)a->values);
	free((void *)a->data);
}

/* The type forced for column name, or NULL. */
static const char *
forced_type(const struct reader *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nforce; i++)
		if (strcmp(r->force[i].name, name) == 0)
			return r->force[i].type;
	return NULL;
}

static int
csv_read(struct reader *r, struct csv_table *t)
{
	char shown[CSV_SHOW_MAX + 4];
	size_t i, k;
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
	for (k = 0; k < r->nforce; k++) {
		for (i = 0; i < r->ncols && strcmp(r->cols[i].name, r->force[k].name) != 0; i++)
			;
		if (i == r->ncols) {
			rc = util_fail(r->err, r->errlen, -EINVAL, "--type %s: the header has no column '%s'",
			    csv_show(shown, r->force[k].name), csv_show(shown, r->force[k].name));
			goto out;
		}
	}
	if ((t->cols = calloc(r->ncols, sizeof *t->cols)) == NULL) {
		rc = util_fail(r->err, r->errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < r->ncols; i++) {
		struct csv_text *c = &r->cols[i];

		/* No rows: no offsets were stored yet. */
		if (c->offsets == NULL && (c->offsets = calloc(1, 8)) == NULL) {
			rc = util_fail(r->err, r->errlen, -ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = csv_infer(c, r->nrows, forced_type(r, c->name), &t->cols[i], r->err, r->errlen)) !=
		    0)
			goto out;
		/* The array keeps the name; the text goes at once. */
		c->name = NULL;
		t->ncols = i + 1;
		free(c->data);
		free(c->offsets);
		free(c->quoted);
		c->data = NULL;
		c->offsets = NULL;
		c->quoted = NULL;
	}
	t->nrows = r->nrows;
out:
	if (rc != 0)
		csv_table_free(t);
	free_cols(r->cols, r->ncols);
	free(r->buf);
	free(r->field);
	return rc;
}

int
csv_read_fd(int fd, const struct csv_force *force, size_t nforce, struct csv_table *t, struct progress *p,
    char *err, size_t errlen)
{
	struct reader r = {
		.fd = fd, .p = p, .err = err, .errlen = errlen, .force = force, .nforce = nforce
	};

	return csv_read(&r, t);
}

int
csv_read_file(FILE *f, const struct csv_force *force, size_t nforce, struct csv_table *t, struct progress *p,
    char *err, size_t errlen)
{
	struct reader r = {
		.fd = -1, .f = f, .p = p, .err = err, .errlen = errlen, .force = force, .nforce = nforce
	};

	return csv_read(&r, t);
}

void
csv_table_free(struct csv_table *t)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		free_array(&t->cols[i]);
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
