/*
 * csv: RFC 4180 CSV to and from columns of numbers, for vineyardfs put and
 * get of DataFrames (one 1-D Tensor per column). Reading is csv_read.c,
 * writing csv_write.c.
 *
 * Reading streams the text (only the columns are held in memory) and, like
 * pandas.read_csv, infers each column's type from all of its rows: bool
 * (true/false in any case), else int64, else float64 (anything strtod
 * takes, inf and nan included). An empty field is NaN and makes an int64
 * column float64; a column of only empty fields is float64. A header row
 * names the columns; blank lines are skipped; fields may be quoted, with
 * commas, "" and line breaks inside; lines end in LF, CRLF or CR; a UTF-8
 * byte order mark is skipped. Blanks around a value are ignored.
 *
 * Writing prints what pandas.read_csv (and csv_read) reads back to the same
 * values: integers in decimal, floats in the shortest form that parses back
 * to the same float ("0.1", "1.0", "-0.0", "1e-308", "inf", "-inf"), NaN as
 * an empty field ("" when it is the only column), bools as True and False.
 */
#ifndef VFS_CSV_H
#define VFS_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CSV_COLUMNS_MAX 16384 /* Excel's limit: wider text is hardly a table */
#define CSV_FIELD_MAX 65536   /* bytes in one field; more is most likely a stray quote */

struct progress;

struct csv_column {
	const char *name;	/* UTF-8 */
	const char *value_type; /* a Tensor value_type_: "int64", "float64", "bool", ... */
	const void *data;	/* the values, native byte order; a bool is one byte, 0 or 1 */
};

/* What csv_read_fd and csv_read_file make: the names and the data of its
 * columns are its own, each column's data a separate malloc'd buffer of
 * nrows values of type "bool", "int64" or "float64" (never NULL). */
struct csv_table {
	struct csv_column *cols;
	size_t ncols;
	uint64_t nrows;
};

/* Read CSV from fd to its end into t; caller frees t with csv_table_free.
 * p, if not NULL and started, counts the bytes read. 0, or -EINVAL for bad
 * text (err says which line and column, and why), -ENOMEM, or the -errno
 * of a failed read (message in err too); t is then empty. */
int csv_read_fd(int fd, struct csv_table *t, struct progress *p, char *err, size_t errlen);
/* The same from a stdio stream. */
int csv_read_file(FILE *f, struct csv_table *t, struct progress *p, char *err, size_t errlen);
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

#endif
