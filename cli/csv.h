/*
 * csv: RFC 4180 CSV to and from tables, for vineyardfs put and get.
 * Reading is csv_read.c (the text) and csv_infer.c (the types), writing
 * csv_write.c.
 *
 * Reading streams the text (the columns' text is held in memory, then
 * each column is converted at once) and infers each column's type from
 * all of its rows, as Arrow arrays (core/arrow_type.h's types): int64
 * when every value is an integer that fits, else double when every value
 * is a number strtod takes (inf and nan included), else bool (true/false
 * in any case), else an ISO 8601 time: date32[day] when all are dates
 * (2024-01-31), else timestamp[ns] for dates and times without an offset
 * (2024-01-31T12:00:00.5, a space for the T), or timestamp[ns, tz=UTC]
 * when every value has one (Z, +01:00, +0100, +01; stored in UTC); else
 * string (binary when some value is not UTF-8). An empty field (blanks
 * only, for all but text) is null in any type; a quoted "" in a text
 * column is the empty string. A column of nulls only is double. The
 * caller may force a column's type with any type string that text gives:
 * integers of any width (range-checked), float, double, bool, string,
 * large_string, binary, large_binary, timestamp[unit(, tz=...)] (times
 * with an offset are converted to UTC, finer digits than the unit
 * floored), date32[day], date64[ms], duration[unit] (integers).
 * A header row names the columns; blank lines are skipped; fields may be
 * quoted, with commas, "" and line breaks inside; lines end in LF, CRLF or
 * CR; a UTF-8 byte order mark is skipped. Blanks around a typed value are
 * ignored.
 *
 * Writing prints what pandas.read_csv (and csv_read) reads back to the same
 * values: integers in decimal, floats in the shortest form that parses back
 * to the same float ("0.1", "1.0", "-0.0", "1e-308", "inf", "-inf"), NaN
 * and nulls as an empty field ("" when it is the only column), bools as
 * True and False, text quoted when it must be (and "" for the empty
 * string), times in ISO 8601 (Z when the type has a time zone: the value
 * is UTC), a dictionary column's values.
 */
#ifndef VFS_CSV_H
#define VFS_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/arrow_type.h"

#define CSV_COLUMNS_MAX 16384 /* Excel's limit: wider text is hardly a table */
#define CSV_FIELD_MAX 65536   /* bytes in one field; more is most likely a stray quote */

struct progress;

/* A DataFrame's column (a 1-D Tensor) for csv_write_*. */
struct csv_column {
	const char *name;	/* UTF-8 */
	const char *value_type; /* a Tensor value_type_: "int64", "float64", "bool", ... */
	const void *data;	/* the values, native byte order; a bool is one byte, 0 or 1 */
};

/* One column in Arrow's layout: its buffers in IPC order (arrow_ipc.h). */
struct csv_array {
	const char *name; /* UTF-8 */
	struct arrow_type type;
	uint64_t length;     /* slots */
	uint64_t offset;     /* slots into the buffers where the array starts */
	uint64_t null_count; /* 0: validity may be NULL */
	const unsigned char *validity;
	size_t validity_size;
	/* Fixed-width values, bools' bits, a dictionary's indices, or
	 * string/binary offsets (int32, int64 for large_). */
	const unsigned char *values;
	size_t values_size;
	const unsigned char *data; /* string/binary bytes */
	size_t data_size;
	const struct csv_array *dictionary; /* a dictionary column's values */
};

/* What csv_read_fd and csv_read_file make: the names and buffers of its
 * columns are its own (malloc'd), the arrays start at offset 0 and have
 * nrows slots each. */
struct csv_table {
	struct csv_array *cols;
	size_t ncols;
	uint64_t nrows;
};

/* A column whose type the user forced: its name and a type string. */
struct csv_force {
	const char *name;
	const char *type;
};

/* Read CSV from fd to its end into t, with the types of the columns named
 * in force (nforce of them) forced; caller frees t with csv_table_free.
 * p, if not NULL and started, counts the bytes read. 0, or -EINVAL for bad
 * text or a value its forced type refuses (err says which line or row and
 * column, and why), -ENOMEM, or the -errno of a failed read (message in
 * err too); t is then empty. */
int csv_read_fd(int fd, const struct csv_force *force, size_t nforce, struct csv_table *t, struct progress *p,
    char *err, size_t errlen);
/* The same from a stdio stream. */
int csv_read_file(FILE *f, const struct csv_force *force, size_t nforce, struct csv_table *t,
    struct progress *p, char *err, size_t errlen);
/* Free what csv_read_* put into t (not t itself) and empty it. */
void csv_table_free(struct csv_table *t);
/* Write ncols columns of nrows values each as CSV to fd: a header of the
 * names, then one line per row. p, if not NULL and started, counts the
 * column bytes consumed: nrows times the sum of the item sizes
 * (types_item_size) in all.
 * 0, or -EINVAL for no columns or an unknown value type, or the -errno of
 * a failed write; with a message in err. */
int csv_write_fd(int fd, const struct csv_column *cols, size_t ncols, uint64_t nrows, struct progress *p,
    char *err, size_t errlen);
/* The same to a stdio stream, which is flushed, not closed. */
int csv_write_file(FILE *f, const struct csv_column *cols, size_t ncols, uint64_t nrows, struct progress *p,
    char *err, size_t errlen);
/* Write a table of nbatches batches to fd: batch b is ncols arrays
 * batches[b * ncols ..], of equal length; the header from batch 0's names
 * (names are needed with no batches: names[], ncols of them). p as above,
 * counting rows. 0, -EINVAL (no columns, a type with no CSV form), or the
 * -errno of a failed write; with a message in err. */
int csv_write_arrays_fd(int fd, const char *const *names, size_t ncols, const struct csv_array *batches,
    size_t nbatches, struct progress *p, char *err, size_t errlen);
/* The same to a stdio stream, which is flushed, not closed. */
int csv_write_arrays_file(FILE *f, const char *const *names, size_t ncols, const struct csv_array *batches,
    size_t nbatches, struct progress *p, char *err, size_t errlen);

#endif
