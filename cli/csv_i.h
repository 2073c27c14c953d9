/*
 * csv_i: what csv_read.c, csv_infer.c and csv_write.c share beyond csv.h.
 */
#ifndef VFS_CSV_I_H
#define VFS_CSV_I_H

#include <stddef.h>
#include <stdint.h>

#include "cli/csv.h"

#define CSV_SHOW_MAX 40	 /* bytes of a field or name quoted in a message */
#define CSV_VALUE_MAX 64 /* bytes a formatted value may take, with its NUL: 36 do */

/* csv_time_parse's forms of an ISO 8601 value. */
#define CSV_TIME_DATE 1	 /* a date: days since 1970-01-01 */
#define CSV_TIME_NAIVE 2 /* a date and time without an offset: ns since the epoch */
#define CSV_TIME_ZONED 3 /* with Z or an offset: ns since the epoch, UTC */

/* A column as read: the text of its fields, unquoted, back to back. */
struct csv_text {
	char *name;
	char *data;
	uint64_t *offsets;     /* rows + 1: field i is data[offsets[i], offsets[i + 1]) */
	unsigned char *quoted; /* bit i: field i was quoted */
	uint64_t size, cap;    /* bytes of data, and room */
	uint64_t rows_cap;     /* room in offsets (and quoted's bits) */
};

/* s, cut to CSV_SHOW_MAX bytes (at a character) and with control
 * characters as '?', into out (at least CSV_SHOW_MAX + 4 bytes): a line
 * of its own. Returns out. */
const char *csv_show(char *out, const char *s);
/* Is s (n bytes) well-formed UTF-8, as JSON strings must be? */
int csv_utf8_ok(const unsigned char *s, size_t n);
/* Parse ISO 8601 s (n bytes, no blanks): 0 if it is none of the
 * CSV_TIME_* forms (or out of int64 nanoseconds), else the form, with the
 * value in *v. */
int csv_time_parse(const char *s, size_t n, int64_t *v);
/* Format v (days for ARROW_UNIT_DAY, else in unit since the epoch) as
 * ISO 8601 into out (CSV_VALUE_MAX bytes), Z after a time when zoned; its
 * length. */
size_t csv_time_format(char *out, int64_t v, enum arrow_unit unit, int zoned);
/* Column c's rows fields as an array of type forced (a type string) or,
 * when NULL, of the type they infer (csv.h): fills a (name borrowed from
 * c, buffers malloc'd). 0, -EINVAL (a value the type refuses), -ENOMEM;
 * with why in err. */
int csv_infer(const struct csv_text *c, uint64_t rows, const char *forced, struct csv_array *a, char *err,
    size_t errlen);

#endif
