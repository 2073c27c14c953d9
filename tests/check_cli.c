/*
 * check_cli: the pure modules of the CLI, without a mount: CSV reading
 * and writing (the text put takes and get gives for DataFrames) and the
 * progress bar's line and terminal handling.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli/csv.h"
#include "cli/progress.h"
#include "core/util.h"

#define TEST_TIMEOUT 120 /* seconds: a safety net on a noisy machine, not a check */
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define SEC INT64_C(1000000000)

/* ---- helpers ---- */

/* A temporary stream holding len bytes of text, at its start. */
static FILE *
text_file(const char *text, size_t len)
{
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fflush(f), 0);
	rewind(f);
	return f;
}

/* csv_read_file of text (len bytes, or strlen when len is 0). */
static int
read_text(const char *text, size_t len, struct csv_table *t, char *err, size_t errlen)
{
	FILE *f = text_file(text, len ? len : strlen(text));
	int rc;

	err[0] = '\0';
	rc = csv_read_file(f, NULL, 0, t, NULL, err, errlen);
	fclose(f);
	return rc;
}

/* Read text that must be good CSV. */
static void
read_ok(const char *text, struct csv_table *t)
{
	char err[256];
	int rc = read_text(text, 0, t, err, sizeof err);

	ck_assert_msg(rc == 0, "reading \"%s\": %d %s", text, rc, err);
}

/* Write cols and return what was written; caller frees. */
static char *
write_text(const struct csv_column *cols, size_t ncols, uint64_t nrows)
{
	char *text = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_msg(csv_write_file(f, cols, ncols, nrows, NULL, err, sizeof err) == 0, "write: %s", err);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* Column i of t, which must be called name and be of type (a type
 * string; "float64" is double). */
static const struct csv_array *
column(const struct csv_table *t, size_t i, const char *name, const char *type)
{
	char ts[ARROW_TYPE_STR_MAX];

	ck_assert_uint_lt(i, t->ncols);
	ck_assert_str_eq(t->cols[i].name, name);
	ck_assert_int_eq(arrow_type_format(&t->cols[i].type, ts, sizeof ts), 0);
	ck_assert_str_eq(ts, strcmp(type, "float64") == 0 ? "double" : type);
	ck_assert_uint_eq(t->cols[i].length, t->nrows);
	ck_assert_uint_eq(t->cols[i].offset, 0);
	return &t->cols[i];
}

static int
is_null_at(const struct csv_array *c, uint64_t row)
{
	return c->null_count > 0 && !(c->validity[row / 8] >> (row % 8) & 1);
}

static int64_t
i64_at(const struct csv_array *c, uint64_t row)
{
	ck_assert_msg(!is_null_at(c, row), "row %" PRIu64 " is null", row);
	return ((const int64_t *)c->values)[row];
}

/* A null is NaN here, as it was when CSV gave DataFrames. */
static double
f64_at(const struct csv_array *c, uint64_t row)
{
	return is_null_at(c, row) ? NAN : ((const double *)c->values)[row];
}

static int
bool_at(const struct csv_array *c, uint64_t row)
{
	ck_assert_msg(!is_null_at(c, row), "row %" PRIu64 " is null", row);
	return c->values[row / 8] >> (row % 8) & 1;
}

/* The text of row of a string column ("(null)" for a null). */
static const char *
str_at(const struct csv_array *c, uint64_t row, char *buf, size_t len)
{
	const int32_t *o = (const int32_t *)c->values;

	if (is_null_at(c, row))
		return "(null)";
	ck_assert_uint_lt((size_t)(o[row + 1] - o[row]), len);
	memcpy(buf, c->data + o[row], (size_t)(o[row + 1] - o[row]));
	buf[o[row + 1] - o[row]] = '\0';
	return buf;
}

/* Are a and b the same double, bit for bit (any NaN equals any NaN)? */
static int
same_double(double a, double b)
{
	return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* ---- reading ---- */

START_TEST(test_read_types)
{
	struct csv_table t;
	const struct csv_array *c;

	read_ok("i,f,b,B\n1,2.5,true,FALSE\n-3,4,False,tRuE\n9223372036854775807,-1e300,TRUE,false\n", &t);
	ck_assert_uint_eq(t.ncols, 4);
	ck_assert_uint_eq(t.nrows, 3);
	c = column(&t, 0, "i", "int64");
	ck_assert_int_eq(i64_at(c, 0), 1);
	ck_assert_int_eq(i64_at(c, 1), -3);
	ck_assert_int_eq(i64_at(c, 2), INT64_MAX);
	c = column(&t, 1, "f", "float64");
	ck_assert(f64_at(c, 0) == 2.5);
	ck_assert(f64_at(c, 1) == 4.0);
	ck_assert(f64_at(c, 2) == -1e300);
	c = column(&t, 2, "b", "bool");
	ck_assert_int_eq(bool_at(c, 0), 1);
	ck_assert_int_eq(bool_at(c, 1), 0);
	ck_assert_int_eq(bool_at(c, 2), 1);
	c = column(&t, 3, "B", "bool");
	ck_assert_int_eq(bool_at(c, 0), 0);
	ck_assert_int_eq(bool_at(c, 1), 1);
	ck_assert_int_eq(bool_at(c, 2), 0);
	csv_table_free(&t);
	ck_assert_uint_eq(t.ncols, 0);
	ck_assert_ptr_null(t.cols);
}
END_TEST

START_TEST(test_read_quoting)
{
	struct csv_table t;

	/* Names with a comma, doubled quotes, a CRLF and a lone quote
	 * inside an unquoted field (taken literally, as pandas does);
	 * quoted numbers; CRLF line ends. */
	read_ok("\"x,y\",\"say \"\"hi\"\"\",\"two\r\nlines\",it\"s\r\n\"1\",\" 2.5 \",\"\",4\r\n", &t);
	ck_assert_uint_eq(t.ncols, 4);
	ck_assert_uint_eq(t.nrows, 1);
	ck_assert_int_eq(i64_at(column(&t, 0, "x,y", "int64"), 0), 1);
	ck_assert(f64_at(column(&t, 1, "say \"hi\"", "float64"), 0) == 2.5);
	/* A quoted empty field is NaN too. */
	ck_assert(isnan(f64_at(column(&t, 2, "two\r\nlines", "float64"), 0)));
	ck_assert_int_eq(i64_at(column(&t, 3, "it\"s", "int64"), 0), 4);
	csv_table_free(&t);

	/* A UTF-8 name, kept as it is. */
	read_ok("\xc3\xa9t\xc3\xa9,\xe2\x82\xac\n1,2\n", &t);
	column(&t, 0, "\xc3\xa9t\xc3\xa9", "int64");
	column(&t, 1, "\xe2\x82\xac", "int64");
	csv_table_free(&t);
}
END_TEST

START_TEST(test_read_line_ends)
{
	static const char *const texts[] = {
		"a,b\n1,2\n3,4\n",
		"a,b\n1,2\n3,4",
		"a,b\r\n1,2\r\n3,4\r\n",
		"a,b\r\n1,2\r\n3,4",
		"a,b\r1,2\r3,4\r",
		"\xef\xbb\xbf"
		"a,b\n1,2\n3,4\n",
		"\xef\xbb\xbf"
		"a,b\r\n1,2\r\n3,4",
		"\n\r\na,b\n\n1,2\r\n\r\n\n3,4\n\n\n",
		"a,b\n1,2\n3,4\n\n",
		"\"a\",\"b\"\n\"1\",\"2\"\n\"3\",\"4\"",
		"\"a\",\"b\"\r\n\"1\",\"2\"\r\n\"3\",\"4\"\r\n",
		"\"a\",\"b\"\r\"1\",\"2\"\r\"3\",\"4\"\r",
	};
	struct csv_table t;
	size_t i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		const struct csv_array *a, *b;

		read_ok(texts[i], &t);
		ck_assert_msg(t.ncols == 2 && t.nrows == 2, "text %zu: %zu columns, %" PRIu64 " rows", i,
		    t.ncols, t.nrows);
		a = column(&t, 0, "a", "int64");
		b = column(&t, 1, "b", "int64");
		ck_assert_msg(
		    i64_at(a, 0) == 1 && i64_at(b, 0) == 2 && i64_at(a, 1) == 3 && i64_at(b, 1) == 4,
		    "text %zu", i);
		csv_table_free(&t);
	}
}
END_TEST

/* From a socket that hands over one byte per read(2): a byte order mark
 * and a CRLF split across reads. */
START_TEST(test_read_dribble)
{
	static const char text[] = "\xef\xbb\xbf"
				   "n,\"q\r\nq\"\r\n7,\"8\"\r\n";
	struct csv_table t;
	char err[256];
	size_t i;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	for (i = 0; i < sizeof text - 1; i++)
		ck_assert_int_eq(write(sv[1], text + i, 1), 1);
	close(sv[1]);
	ck_assert_msg(csv_read_fd(sv[0], NULL, 0, &t, NULL, err, sizeof err) == 0, "%s", err);
	close(sv[0]);
	ck_assert_uint_eq(t.nrows, 1);
	ck_assert_int_eq(i64_at(column(&t, 0, "n", "int64"), 0), 7);
	ck_assert_int_eq(i64_at(column(&t, 1, "q\r\nq", "int64"), 0), 8);
	csv_table_free(&t);
}
END_TEST

START_TEST(test_read_promotion)
{
	struct csv_table t;
	const struct csv_array *c;

	/* int64 until a float or an int64 overflow comes: then float64;
	 * empty fields are nulls and change no type. */
	read_ok("late,empty,first,none,big,small,keep\n"
		"1,1,,,1,1,-9223372036854775808\n"
		"2,,2,,9223372036854775808,-9223372036854775809,0\n"
		"3.5,3,3,,3,3,9223372036854775807\n",
	    &t);
	ck_assert_uint_eq(t.nrows, 3);
	c = column(&t, 0, "late", "float64");
	ck_assert(f64_at(c, 0) == 1.0 && f64_at(c, 1) == 2.0 && f64_at(c, 2) == 3.5);
	c = column(&t, 1, "empty", "int64");
	ck_assert(i64_at(c, 0) == 1 && is_null_at(c, 1) && i64_at(c, 2) == 3);
	ck_assert_uint_eq(c->null_count, 1);
	c = column(&t, 2, "first", "int64");
	ck_assert(is_null_at(c, 0) && i64_at(c, 1) == 2 && i64_at(c, 2) == 3);
	c = column(&t, 3, "none", "float64");
	ck_assert(is_null_at(c, 0) && is_null_at(c, 1) && is_null_at(c, 2));
	ck_assert_uint_eq(c->null_count, 3);
	c = column(&t, 4, "big", "float64");
	ck_assert(f64_at(c, 1) == 9223372036854775808.0);
	c = column(&t, 5, "small", "float64");
	ck_assert(f64_at(c, 1) == -9223372036854775808.0);
	c = column(&t, 6, "keep", "int64");
	ck_assert_int_eq(i64_at(c, 0), INT64_MIN);
	ck_assert_int_eq(i64_at(c, 2), INT64_MAX);
	csv_table_free(&t);

	/* What strtod takes, blanks around values, and hex as strtod has it. */
	read_ok(
	    "v\ninf\n-inf\nInfinity\nnan\nNaN\n-0.0\n 1e-308\t\n.5\n5.\n+7e1\n0x10\n4.9406564584124654e-324\n",
	    &t);
	c = column(&t, 0, "v", "float64");
	ck_assert_uint_eq(t.nrows, 12);
	ck_assert(isinf(f64_at(c, 0)) && f64_at(c, 0) > 0);
	ck_assert(isinf(f64_at(c, 1)) && f64_at(c, 1) < 0);
	ck_assert(isinf(f64_at(c, 2)) && f64_at(c, 2) > 0);
	ck_assert(isnan(f64_at(c, 3)) && isnan(f64_at(c, 4)));
	ck_assert(f64_at(c, 5) == 0 && signbit(f64_at(c, 5)));
	ck_assert(f64_at(c, 6) == 1e-308);
	ck_assert(
	    f64_at(c, 7) == 0.5 && f64_at(c, 8) == 5.0 && f64_at(c, 9) == 70.0 && f64_at(c, 10) == 16.0);
	ck_assert(f64_at(c, 11) == 4.9406564584124654e-324);
	csv_table_free(&t);

	/* A header and no rows: float64 columns of nothing. */
	read_ok("a,b\n", &t);
	ck_assert_uint_eq(t.nrows, 0);
	column(&t, 0, "a", "float64");
	column(&t, 1, "b", "float64");
	csv_table_free(&t);

	/* One column: a quoted empty field is a row, a blank line is not. */
	read_ok("x\n1\n\"\"\n\n2\n", &t);
	ck_assert_uint_eq(t.nrows, 3);
	c = column(&t, 0, "x", "int64");
	ck_assert(i64_at(c, 0) == 1 && is_null_at(c, 1) && i64_at(c, 2) == 2);
	csv_table_free(&t);
}
END_TEST

START_TEST(test_read_errors)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		const char *msg;
	} bad[] = {
		{ "a,b\n1,2\n3\n", 0, "line 3: 1 field, the header has 2" },
		{ "a,b,c\n1,2,3\n4,5\n", 0, "line 3: 2 fields, the header has 3" },
		{ "a,b\n1,2,3,4\n5,6\n", 0, "line 2: 4 fields, the header has 2" },
		{ "a,b\n1,2\n3,4,\n", 0, "line 3: 3 fields, the header has 2" },
		{ "a,b,a\n", 0, "the header names column 'a' twice" },
		{ "a,,b\n1,2,3\n", 0, "line 1: column 2 of the header has no name" },
		{ "\n\na,\"\"\n", 0, "line 3: column 2 of the header has no name" },
		{ "", 0, "no header: the file is empty" },
		{ "\r\n\n\r\n", 0, "no header: the file is empty" },
		{ "\xef\xbb\xbf", 0, "no header: the file is empty" },
		{ "a\n\"1\n2\n", 0, "line 2: a quoted field is still open at the end of the file" },
		{ "a\n\"1\"x\n", 0,
		    "line 2: text after the closing quote of a field (a quote inside one is written \"\")" },
		{ "a\n1\0002\n", 7, "line 2: a NUL byte (is this a text file?)" },
		{ "\xff\n1\n", 0, "line 1: column 1 of the header is not UTF-8" },
		{ "\xc0\x80\n1\n", 0, "line 1: column 1 of the header is not UTF-8" },
		{ "\xed\xa0\x80\n1\n", 0, "line 1: column 1 of the header is not UTF-8" },
		/* Line numbers count the lines inside quotes and blank ones. */
		{ "\"a\nb\",c\n1,2\n3,\"x\n", 0,
		    "line 4: a quoted field is still open at the end of the file" },
	};
	struct csv_table t;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = read_text(bad[i].text, bad[i].len, &t, err, sizeof err);

		ck_assert_msg(rc == -EINVAL, "bad[%zu] gave %d (%s)", i, rc, err);
		ck_assert_msg(
		    strcmp(err, bad[i].msg) == 0, "bad[%zu]: \"%s\", expected \"%s\"", i, err, bad[i].msg);
		ck_assert_msg(t.ncols == 0 && t.nrows == 0 && t.cols == NULL, "bad[%zu] left a table", i);
	}
}
END_TEST

START_TEST(test_read_limits)
{
	struct csv_table t;
	char err[256], *text, *p;
	size_t i, n = 16 * (CSV_COLUMNS_MAX + 2) + CSV_FIELD_MAX + 64;

	p = text = malloc(n);
	ck_assert_ptr_nonnull(text);
	/* As many columns as allowed... */
	for (i = 0; i < CSV_COLUMNS_MAX; i++)
		p += sprintf(p, "%sc%zu", i ? "," : "", i);
	strcpy(p, "\n");
	read_ok(text, &t);
	ck_assert_uint_eq(t.ncols, CSV_COLUMNS_MAX);
	ck_assert_str_eq(t.cols[CSV_COLUMNS_MAX - 1].name, "c16383");
	csv_table_free(&t);
	/* ...and one more. */
	p += sprintf(p, ",c%d\n", CSV_COLUMNS_MAX);
	ck_assert_int_eq(read_text(text, 0, &t, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "line 1: more than 16384 columns");
	ck_assert_uint_eq(t.ncols, 0);

	/* A field as long as allowed, and one byte longer (the name of a
	 * column has the same limit as any field). */
	memset(text, 'n', CSV_FIELD_MAX);
	strcpy(text + CSV_FIELD_MAX, "\n1\n");
	read_ok(text, &t);
	ck_assert_uint_eq(strlen(t.cols[0].name), CSV_FIELD_MAX);
	csv_table_free(&t);
	text[0] = '"';
	strcpy(text + CSV_FIELD_MAX, "nn\"\n1\n");
	ck_assert_int_eq(read_text(text, 0, &t, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "line 1: a field longer than 65536 bytes (a stray quote?)");
	free(text);
}
END_TEST

/* A stream that gives some CSV, then fails. */
static ssize_t
failing_read(void *cookie, char *buf, size_t len)
{
	static const char text[] = "a,b\n1,2\n3,";
	size_t *off = cookie, n = sizeof text - 1 - *off;

	if (n == 0) {
		errno = EIO;
		return -1;
	}
	n = n < len ? n : len;
	memcpy(buf, text + *off, n);
	*off += n;
	return (ssize_t)n;
}

START_TEST(test_read_io_errors)
{
	cookie_io_functions_t io = { .read = failing_read };
	struct csv_table t;
	char err[256];
	size_t off = 0;
	FILE *f;
	int fd;

	/* The errno of the read, not a generic failure. */
	ck_assert_int_ge(fd = open("/", O_RDONLY | O_DIRECTORY), 0);
	ck_assert_int_eq(csv_read_fd(fd, NULL, 0, &t, NULL, err, sizeof err), -EISDIR);
	ck_assert_str_eq(err, "reading: Is a directory");
	ck_assert_ptr_null(t.cols);
	close(fd);
	ck_assert_int_ge(fd = open("/dev/null", O_WRONLY), 0);
	ck_assert_int_eq(csv_read_fd(fd, NULL, 0, &t, NULL, err, sizeof err), -EBADF);
	close(fd);
	/* Midway, from a stream. */
	ck_assert_ptr_nonnull(f = fopencookie(&off, "r", io));
	ck_assert_int_eq(csv_read_file(f, NULL, 0, &t, NULL, err, sizeof err), -EIO);
	ck_assert_str_eq(err, "reading: Input/output error");
	ck_assert_ptr_null(t.cols);
	fclose(f);
}
END_TEST

/* 200k rows through a file descriptor, every value checked; the
 * progress counts every byte. */
START_TEST(test_read_large)
{
	const uint64_t rows = 200000;
	struct progress p;
	struct csv_table t;
	const struct csv_array *c;
	char err[256];
	uint64_t i;
	struct stat st;
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	fprintf(f, "id,ratio,even,sparse,\"label, quoted\"\r\n");
	for (i = 0; i < rows; i++) {
		fprintf(f, "%" PRId64 ",%.17g,%s,", (int64_t)(i * 3) - 7, (double)i / 7.0,
		    i % 2 ? "False" : "True");
		if (i % 1000 != 999)
			fprintf(f, "%" PRIu64, i);
		fprintf(f, ",\"%" PRIu64 "\"\r\n", i * i);
	}
	ck_assert_int_eq(fflush(f), 0);
	ck_assert_int_eq(fstat(fileno(f), &st), 0);
	ck_assert_int_eq(lseek(fileno(f), 0, SEEK_SET), 0);
	progress_start(&p, "test", (uint64_t)st.st_size);
	ck_assert_msg(csv_read_fd(fileno(f), NULL, 0, &t, &p, err, sizeof err) == 0, "%s", err);
	progress_end(&p);
	fclose(f);
	ck_assert_uint_eq(p.done, (uint64_t)st.st_size);
	ck_assert_uint_eq(t.ncols, 5);
	ck_assert_uint_eq(t.nrows, rows);
	c = column(&t, 0, "id", "int64");
	for (i = 0; i < rows; i++)
		ck_assert_int_eq(i64_at(c, i), (int64_t)(i * 3) - 7);
	c = column(&t, 1, "ratio", "float64");
	for (i = 0; i < rows; i++)
		ck_assert(f64_at(c, i) == (double)i / 7.0);
	c = column(&t, 2, "even", "bool");
	for (i = 0; i < rows; i++)
		ck_assert_int_eq(bool_at(c, i), i % 2 == 0);
	c = column(&t, 3, "sparse", "int64");
	ck_assert_uint_eq(c->null_count, rows / 1000);
	for (i = 0; i < rows; i++)
		ck_assert(i % 1000 == 999 ? is_null_at(c, i) : i64_at(c, i) == (int64_t)i);
	c = column(&t, 4, "label, quoted", "int64");
	for (i = 0; i < rows; i++)
		ck_assert_int_eq(i64_at(c, i), (int64_t)(i * i));
	csv_table_free(&t);
}
END_TEST

/* ---- writing ---- */

/* Text, times, dates, bools with nulls, and what mixes into a string. */
START_TEST(test_read_infer)
{
	struct csv_table t;
	const struct csv_array *c;
	char buf[64];

	read_ok(
	    "s,d,ts,tz,b,mix,q,bin\n"
	    "hello,2024-02-29,2024-01-02T03:04:05,2024-01-02T03:04:05Z,true,1,\"\",\xff\n"
	    ",,,,,,,\n"
	    "\"a,b\",1969-12-31,1970-01-01 00:00:00.000000001,1970-01-01T01:00:00+01:00,FALSE,x, y ,a\n"
	    "  pad ,1970-01-01,2262-04-11T23:47:16.854775807,1970-01-01T00:00:00-0130,True,2024-01-01,\"\",b\n",
	    &t);
	ck_assert_uint_eq(t.nrows, 4);
	c = column(&t, 0, "s", "string");
	ck_assert_str_eq(str_at(c, 0, buf, sizeof buf), "hello");
	ck_assert_str_eq(str_at(c, 1, buf, sizeof buf), "(null)");
	ck_assert_str_eq(str_at(c, 2, buf, sizeof buf), "a,b");
	ck_assert_str_eq(str_at(c, 3, buf, sizeof buf), "  pad ");
	ck_assert_uint_eq(c->null_count, 1);
	c = column(&t, 1, "d", "date32[day]");
	ck_assert_int_eq(((const int32_t *)c->values)[0], 19782);
	ck_assert(is_null_at(c, 1));
	ck_assert_int_eq(((const int32_t *)c->values)[2], -1);
	ck_assert_int_eq(((const int32_t *)c->values)[3], 0);
	c = column(&t, 2, "ts", "timestamp[ns]");
	ck_assert_int_eq(i64_at(c, 0), 1704164645000000000LL);
	ck_assert_int_eq(i64_at(c, 2), 1);
	ck_assert_int_eq(i64_at(c, 3), INT64_MAX);
	c = column(&t, 3, "tz", "timestamp[ns, tz=UTC]");
	ck_assert_int_eq(i64_at(c, 0), 1704164645000000000LL);
	ck_assert_int_eq(i64_at(c, 2), 0);
	ck_assert_int_eq(i64_at(c, 3), 5400000000000LL);
	c = column(&t, 4, "b", "bool");
	ck_assert(bool_at(c, 0) && is_null_at(c, 1) && !bool_at(c, 2) && bool_at(c, 3));
	c = column(&t, 5, "mix", "string");
	ck_assert_str_eq(str_at(c, 3, buf, sizeof buf), "2024-01-01");
	/* A quoted "" in a text column is the empty string, not a null. */
	c = column(&t, 6, "q", "string");
	ck_assert_str_eq(str_at(c, 0, buf, sizeof buf), "");
	ck_assert_str_eq(str_at(c, 1, buf, sizeof buf), "(null)");
	ck_assert_str_eq(str_at(c, 2, buf, sizeof buf), " y ");
	column(&t, 7, "bin", "binary");
	csv_table_free(&t);

	/* Dates and naive times make timestamps; naive and zoned, strings;
	 * impossible dates and times are text. */
	read_ok("a,b,c,d\n2024-01-02,2024-01-02T00:00,2023-02-29,2024-01-02T24:00\n"
		"2024-01-02T12:00,2024-01-02T00:00Z,2024-13-01,2024-01-02T23:60\n",
	    &t);
	c = column(&t, 0, "a", "timestamp[ns]");
	ck_assert_int_eq(i64_at(c, 0), 1704153600000000000LL);
	ck_assert_int_eq(i64_at(c, 1), 1704196800000000000LL);
	column(&t, 1, "b", "string");
	column(&t, 2, "c", "string");
	column(&t, 3, "d", "string");
	csv_table_free(&t);
}
END_TEST

/* Types forced by name, and the values they refuse. */
START_TEST(test_read_forced)
{
	static const struct csv_force force[] = {
		{ "a", "int8" },
		{ "b", "string" },
		{ "c", "timestamp[ms, tz=Europe/Paris]" },
		{ "d", "float" },
		{ "e", "uint16" },
		{ "f", "date64[ms]" },
		{ "g", "large_string" },
	};
	static const struct {
		struct csv_force force;
		const char *text, *msg;
	} bad[] = {
		{ { "a", "int8" }, "a\n127\n128\n", "column 'a', row 2: '128' is not an int8" },
		{ { "a", "uint8" }, "a\n-1\n", "column 'a', row 1: '-1' is not an uint8" },
		{ { "a", "bool" }, "a\ntrue\nyes\n", "column 'a', row 2: 'yes' is not a bool" },
		{ { "a", "date32[day]" }, "a\n2024-01-01T00:00\n",
		    "column 'a', row 1: '2024-01-01T00:00' is not a date32[day]" },
		{ { "a", "wat" }, "a\n1\n", "column 'a': unknown type 'wat'" },
		{ { "a", "dictionary<values=string, indices=int32, ordered=0>" }, "a\n1\n",
		    "column 'a': type 'dictionary<values=string, indices=int32,...' is not read from text" },
		{ { "z", "int8" }, "a\n1\n", "--type z: the header has no column 'z'" },
	};
	struct csv_table t;
	const struct csv_array *c;
	char err[256], buf[64];
	size_t i;
	FILE *f;
	int rc;

	f = text_file("a,b,c,d,e,f,g\n"
		      "-128,007,2024-01-02T03:04:05.0019+01:00,0.1,65535,1970-01-02,x\n"
		      "127,,2024-01-02,,0,,\n",
	    strlen("a,b,c,d,e,f,g\n-128,007,2024-01-02T03:04:05.0019+01:00,0.1,65535,1970-01-02,x\n"
		   "127,,2024-01-02,,0,,\n"));
	ck_assert_msg(csv_read_file(f, force, 7, &t, NULL, err, sizeof err) == 0, "%s", err);
	fclose(f);
	c = column(&t, 0, "a", "int8");
	ck_assert(((const int8_t *)c->values)[0] == -128 && ((const int8_t *)c->values)[1] == 127);
	c = column(&t, 1, "b", "string");
	ck_assert_str_eq(str_at(c, 0, buf, sizeof buf), "007");
	ck_assert(is_null_at(c, 1));
	c = column(&t, 2, "c", "timestamp[ms, tz=Europe/Paris]");
	ck_assert_int_eq(i64_at(c, 0), 1704161045001LL);
	ck_assert_int_eq(i64_at(c, 1), 1704153600000LL);
	c = column(&t, 3, "d", "float");
	ck_assert(((const float *)c->values)[0] == 0.1f && is_null_at(c, 1));
	c = column(&t, 4, "e", "uint16");
	ck_assert(((const uint16_t *)c->values)[0] == 65535);
	c = column(&t, 5, "f", "date64[ms]");
	ck_assert_int_eq(i64_at(c, 0), 86400000);
	c = column(&t, 6, "g", "large_string");
	ck_assert_uint_eq(c->values_size, 3 * 8);
	csv_table_free(&t);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f = text_file(bad[i].text, strlen(bad[i].text));
		rc = csv_read_file(f, &bad[i].force, 1, &t, NULL, err, sizeof err);
		fclose(f);
		ck_assert_msg(rc == -EINVAL, "bad[%zu] gave %d (%s)", i, rc, err);
		ck_assert_msg(
		    strcmp(err, bad[i].msg) == 0, "bad[%zu]: \"%s\", expected \"%s\"", i, err, bad[i].msg);
		ck_assert_ptr_null(t.cols);
	}
}
END_TEST

/* Arrays read from CSV, written back: the same text, in two batches. */
START_TEST(test_write_arrays)
{
	static const char text[] =
	    "i,f,b,s,ts,tz,d,u8\n"
	    "1,1.5,True,hello,2024-01-02T03:04:05,2024-01-02T03:04:05.5Z,2024-01-02,255\n"
	    ",,,,,,,\n"
	    "-4,-2.0,False,\"a,\"\"b\"\"\",1969-12-31T23:59:59.999999999,"
	    "1677-09-21T00:12:43.145224192Z,1969-12-31,0\n"
	    "5,inf,True,\"\",2262-04-11T23:47:16.854775807,1970-01-01T00:00:00Z,2262-04-11,7\n";
	static const struct csv_force u8 = { "u8", "uint8" };
	struct csv_array *halves;
	const char **names;
	struct csv_table t;
	char *out = NULL, err[256];
	size_t len = 0, i;
	FILE *f = text_file(text, strlen(text));

	ck_assert_msg(csv_read_file(f, &u8, 1, &t, NULL, err, sizeof err) == 0, "%s", err);
	fclose(f);
	names = calloc(t.ncols, sizeof *names);
	halves = calloc(2 * t.ncols, sizeof *halves);
	ck_assert_ptr_nonnull(names);
	ck_assert_ptr_nonnull(halves);
	/* Two batches over the same buffers: rows 0-1, then 2-3 by offset. */
	for (i = 0; i < t.ncols; i++) {
		names[i] = t.cols[i].name;
		halves[i] = t.cols[i];
		halves[i].length = 2;
		halves[t.ncols + i] = t.cols[i];
		halves[t.ncols + i].offset = 2;
		halves[t.ncols + i].length = 2;
	}
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_msg(
	    csv_write_arrays_file(f, names, t.ncols, halves, 2, NULL, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_str_eq(out, text);
	free(out);
	/* Buffers too small for the rows are refused, not read past. */
	halves[t.ncols].length = 3;
	for (i = 1; i < t.ncols; i++)
		halves[t.ncols + i].length = 3;
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_int_eq(csv_write_arrays_file(f, names, t.ncols, halves, 2, NULL, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "batch 1, column 'i': buffers too small for its rows");
	fclose(f);
	free(out);
	free(halves);
	free(names);
	csv_table_free(&t);
}
END_TEST

START_TEST(test_write_format)
{
	static const double f64[] = {
		0.1,
		1.0,
		-0.0,
		0.0,
		1e-308,
		NAN,
		INFINITY,
		-INFINITY,
		1e22,
		DBL_MAX,
		4.9406564584124654e-324,
		1.0 / 3,
		0.1 + 0.2,
		-2.5,
		123456789012345.0,
		1e15,
	};
	static const char *const f64_text[] = {
		"0.1",
		"1.0",
		"-0.0",
		"0.0",
		"1e-308",
		"",
		"inf",
		"-inf",
		"1e+22",
		"1.7976931348623157e+308",
		"5e-324",
		"0.3333333333333333",
		"0.30000000000000004",
		"-2.5",
		"123456789012345.0",
		"1e+15",
	};
	static const float f32[] = { 0.1f, 1.0f, -0.0f, 16777216.0f, FLT_MAX, 1e-45f, 3.4e-5f, NAN, -INFINITY,
		1.0f / 3, 0.5f, 100.0f, 1e10f, 2.5e-3f, -7.0f, 0.3f };
	static const char *const f32_text[] = { "0.1", "1.0", "-0.0", "16777216.0", "3.4028235e+38", "1e-45",
		"3.4e-05", "", "-inf", "0.33333334", "0.5", "100.0", "1e+10", "0.0025", "-7.0", "0.3" };
	static const int64_t i64[] = { INT64_MIN, -1, 0, 1, INT64_MAX, 42, -42, 1000000, 7, 8, 9, 10, 11, 12,
		13, 14 };
	static const uint64_t u64[] = { UINT64_MAX, 0, 1, 18446744073709551614u, 5, 6, 7, 8, 9, 10, 11, 12,
		13, 14, 15, 16 };
	static const unsigned char b[] = { 1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 };
	const struct csv_column cols[] = {
		{ "f64", "float64", f64 },
		{ "f32", "float32", f32 },
		{ "i64", "int64", i64 },
		{ "u64", "uint64", u64 },
		{ "b", "bool", b },
	};
	char *text, *line, *save = NULL, expect[256];
	size_t i;

	text = write_text(cols, 5, 16);
	line = strtok_r(text, "\n", &save);
	ck_assert_str_eq(line, "f64,f32,i64,u64,b");
	for (i = 0; i < 16; i++) {
		char i64s[24], u64s[24];

		snprintf(i64s, sizeof i64s, "%" PRId64, i64[i]);
		snprintf(u64s, sizeof u64s, "%" PRIu64, u64[i]);
		snprintf(expect, sizeof expect, "%s,%s,%s,%s,%s", f64_text[i], f32_text[i], i64s, u64s,
		    b[i] ? "True" : "False");
		line = strtok_r(NULL, "\n", &save);
		ck_assert_ptr_nonnull(line);
		ck_assert_str_eq(line, expect);
	}
	ck_assert_ptr_null(strtok_r(NULL, "\n", &save));
	free(text);
}
END_TEST

START_TEST(test_write_small_types)
{
	static const int8_t i8[] = { INT8_MIN, -1, INT8_MAX };
	static const int16_t i16[] = { INT16_MIN, 0, INT16_MAX };
	static const int32_t i32[] = { INT32_MIN, 1, INT32_MAX };
	static const uint8_t u8[] = { 0, 1, UINT8_MAX };
	static const uint16_t u16[] = { 0, 2, UINT16_MAX };
	static const uint32_t u32[] = { 0, 3, UINT32_MAX };
	/* Bools other than 0 and 1 are true, as numpy takes them. */
	static const unsigned char b[] = { 0, 2, 255 };
	const struct csv_column cols[] = {
		{ "i8", "int8", i8 },
		{ "i16", "int16", i16 },
		{ "i32", "int32", i32 },
		{ "u8", "uint8", u8 },
		{ "u16", "uint16", u16 },
		{ "u32", "uint32", u32 },
		{ "b", "bool", b },
	};
	char *text = write_text(cols, 7, 3);

	ck_assert_str_eq(text, "i8,i16,i32,u8,u16,u32,b\n"
			       "-128,-32768,-2147483648,0,0,0,False\n"
			       "-1,0,1,1,2,3,True\n"
			       "127,32767,2147483647,255,65535,4294967295,True\n");
	free(text);
}
END_TEST

START_TEST(test_write_names)
{
	static const int64_t v[] = { 1 };
	const struct csv_column cols[] = {
		{ "a,b", "int64", v },
		{ "say \"hi\"", "int64", v },
		{ "two\nlines", "int64", v },
		{ "cr\rhere", "int64", v },
		{ "plain name", "int64", v },
		{ "\xef\xbb\xbf"
		  "bom",
		    "int64", v },
		{ "", "int64", v },
	};
	struct csv_table t;
	char *text = write_text(cols, 7, 1);
	size_t i;

	ck_assert_str_eq(text,
	    "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\",plain name,\"\xef\xbb\xbf"
	    "bom\",\n1,1,1,1,1,1,1\n");
	free(text);
	/* Back, but for the empty name. */
	text = write_text(cols, 6, 1);
	read_ok(text, &t);
	ck_assert_uint_eq(t.ncols, 6);
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(i64_at(column(&t, i, cols[i].name, "int64"), 0), 1);
	csv_table_free(&t);
	free(text);
	/* One column with an empty name: quoted, or the header is blank. */
	text = write_text(&cols[6], 1, 1);
	ck_assert_str_eq(text, "\"\"\n1\n");
	free(text);
}
END_TEST

START_TEST(test_write_one_column_nan)
{
	static const double v[] = { 1.5, NAN, NAN, -2.0 };
	const struct csv_column col = { "x", "float64", v };
	struct csv_table t;
	const struct csv_array *c;
	char *text = write_text(&col, 1, 4);

	/* An empty line would be skipped as blank, by pandas too. */
	ck_assert_str_eq(text, "x\n1.5\n\"\"\n\"\"\n-2.0\n");
	read_ok(text, &t);
	ck_assert_uint_eq(t.nrows, 4);
	c = column(&t, 0, "x", "float64");
	ck_assert(f64_at(c, 0) == 1.5 && isnan(f64_at(c, 1)) && isnan(f64_at(c, 2)) && f64_at(c, 3) == -2.0);
	csv_table_free(&t);
	free(text);
}
END_TEST

/* Every dtype, extreme values, written and read back. */
START_TEST(test_write_round_trip)
{
	enum { N = 9 };
	static const int8_t i8[N] = { INT8_MIN, INT8_MAX, 0, -1, 1, 2, 3, 4, 5 };
	static const int16_t i16[N] = { INT16_MIN, INT16_MAX, 0, -1, 1, 2, 3, 4, 5 };
	static const int32_t i32[N] = { INT32_MIN, INT32_MAX, 0, -1, 1, 2, 3, 4, 5 };
	static const int64_t i64[N] = { INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN + 1, INT64_MAX - 1, 4, 5 };
	static const uint8_t u8[N] = { 0, UINT8_MAX, 1, 2, 3, 4, 5, 6, 7 };
	static const uint16_t u16[N] = { 0, UINT16_MAX, 1, 2, 3, 4, 5, 6, 7 };
	static const uint32_t u32[N] = { 0, UINT32_MAX, 1, 2, 3, 4, 5, 6, 7 };
	static const uint64_t u64[N] = { 0, INT64_MAX, 1, 2, 3, 4, 5, 6, 7 };
	static const float f32[N] = { FLT_MAX, -FLT_MIN, 1e-45f, 0.1f, -0.0f, NAN, INFINITY, 16777217.0f,
		3.14159265f };
	static const double f64[N] = { 1e-308, 0.1, -0.0, NAN, INFINITY, -INFINITY, DBL_MAX,
		4.9406564584124654e-324, -DBL_MIN };
	static const unsigned char b[N] = { 1, 0, 0, 1, 1, 0, 1, 0, 1 };
	const struct csv_column cols[] = {
		{ "i8", "int8", i8 },
		{ "i16", "int16", i16 },
		{ "i32", "int32", i32 },
		{ "i64", "int64", i64 },
		{ "u8", "uint8", u8 },
		{ "u16", "uint16", u16 },
		{ "u32", "uint32", u32 },
		{ "u64", "uint64", u64 },
		{ "f32", "float32", f32 },
		{ "f64", "float64", f64 },
		{ "b", "bool", b },
	};
	const size_t ncols = sizeof cols / sizeof cols[0];
	struct csv_table t;
	char *text = write_text(cols, ncols, N);
	int k;

	read_ok(text, &t);
	ck_assert_uint_eq(t.ncols, ncols);
	ck_assert_uint_eq(t.nrows, N);
	for (k = 0; k < N; k++) {
		ck_assert_int_eq(i64_at(column(&t, 0, "i8", "int64"), k), i8[k]);
		ck_assert_int_eq(i64_at(column(&t, 1, "i16", "int64"), k), i16[k]);
		ck_assert_int_eq(i64_at(column(&t, 2, "i32", "int64"), k), i32[k]);
		ck_assert_int_eq(i64_at(column(&t, 3, "i64", "int64"), k), i64[k]);
		ck_assert_int_eq(i64_at(column(&t, 4, "u8", "int64"), k), u8[k]);
		ck_assert_int_eq(i64_at(column(&t, 5, "u16", "int64"), k), u16[k]);
		ck_assert_int_eq(i64_at(column(&t, 6, "u32", "int64"), k), u32[k]);
		ck_assert_int_eq(i64_at(column(&t, 7, "u64", "int64"), k), (int64_t)u64[k]);
		/* float32 comes back as the float64 of its shortest text,
		 * which rounds to the same float32. */
		ck_assert_msg(
		    same_double((float)f64_at(column(&t, 8, "f32", "float64"), k), f32[k]), "f32[%d]", k);
		ck_assert_msg(same_double(f64_at(column(&t, 9, "f64", "float64"), k), f64[k]),
		    "f64[%d]: %.17g", k, f64_at(&t.cols[9], k));
		ck_assert_int_eq(bool_at(column(&t, 10, "b", "bool"), k), b[k]);
	}
	csv_table_free(&t);
	free(text);
}
END_TEST

/* A uint64 past INT64_MAX has no int64: it comes back as float64. */
START_TEST(test_write_uint64_overflow)
{
	static const uint64_t v[] = { 1, UINT64_MAX };
	const struct csv_column col = { "u", "uint64", v };
	struct csv_table t;
	char *text = write_text(&col, 1, 2);

	ck_assert_str_eq(text, "u\n1\n18446744073709551615\n");
	read_ok(text, &t);
	ck_assert(f64_at(column(&t, 0, "u", "float64"), 1) == 18446744073709551616.0);
	csv_table_free(&t);
	free(text);
}
END_TEST

START_TEST(test_write_errors)
{
	static const int64_t v[] = { 1, 2 };
	const struct csv_column good = { "a", "int64", v };
	const struct csv_column odd[] = { { "a", "int64", v }, { "z", "complex64", v } };
	const struct csv_column none = { "n", NULL, v };
	char err[256];
	FILE *f;
	int fd;

	ck_assert_int_ge(fd = open("/dev/null", O_WRONLY), 0);
	ck_assert_int_eq(csv_write_fd(fd, &good, 0, 2, NULL, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "no columns: an empty table has no CSV form");
	ck_assert_int_eq(csv_write_fd(fd, odd, 2, 2, NULL, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "column 'z': value type 'complex64' has no CSV form");
	ck_assert_int_eq(csv_write_fd(fd, &none, 1, 2, NULL, err, sizeof err), -EINVAL);
	ck_assert_str_eq(err, "column 'n': value type '(none)' has no CSV form");
	ck_assert_int_eq(csv_write_fd(fd, &good, 1, 2, NULL, err, sizeof err), 0);
	close(fd);
	/* The errno of the write. */
	ck_assert_int_ge(fd = open("/dev/null", O_RDONLY), 0);
	ck_assert_int_eq(csv_write_fd(fd, &good, 1, 2, NULL, err, sizeof err), -EBADF);
	ck_assert_str_eq(err, "writing: Bad file descriptor");
	close(fd);
	ck_assert_int_ge(fd = open("/dev/full", O_WRONLY), 0);
	ck_assert_int_eq(csv_write_fd(fd, &good, 1, 2, NULL, err, sizeof err), -ENOSPC);
	ck_assert_str_eq(err, "writing: No space left on device");
	close(fd);
	ck_assert_ptr_nonnull(f = fopen("/dev/full", "w"));
	ck_assert_int_eq(csv_write_file(f, &good, 1, 2, NULL, err, sizeof err), -ENOSPC);
	fclose(f);
}
END_TEST

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* 200k rows of arbitrary doubles (every bit pattern but NaN payloads),
 * many 1 MiB chunks, through a file descriptor and back. */
START_TEST(test_write_large)
{
	const uint64_t rows = 200000;
	double *d = malloc(rows * sizeof *d);
	int64_t *n = malloc(rows * sizeof *n);
	const struct csv_column cols[] = { { "d", "float64", d }, { "n", "int64", n } };
	struct progress p;
	struct csv_table t;
	uint64_t i, seed = 88172645463325252u;
	char err[256];
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(n);
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < rows; i++) {
		uint64_t bits = xorshift(&seed);

		memcpy(&d[i], &bits, sizeof bits);
		if (isnan(d[i]))
			d[i] = NAN;
		n[i] = (int64_t)xorshift(&seed);
	}
	progress_start(&p, "test", rows * 16);
	ck_assert_msg(csv_write_fd(fileno(f), cols, 2, rows, &p, err, sizeof err) == 0, "%s", err);
	progress_end(&p);
	ck_assert_uint_eq(p.done, rows * 16);
	ck_assert_int_eq(lseek(fileno(f), 0, SEEK_SET), 0);
	ck_assert_msg(csv_read_fd(fileno(f), NULL, 0, &t, NULL, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(t.nrows, rows);
	for (i = 0; i < rows; i++) {
		ck_assert_msg(same_double(f64_at(column(&t, 0, "d", "float64"), i), d[i]),
		    "row %" PRIu64 ": %.17g", i, d[i]);
		ck_assert_int_eq(i64_at(column(&t, 1, "n", "int64"), i), n[i]);
	}
	csv_table_free(&t);
	fclose(f);
	free(d);
	free(n);
}
END_TEST

/* Rows of 16384 columns, 400 KB each: flushed midway. */
START_TEST(test_write_wide)
{
	const size_t ncols = CSV_COLUMNS_MAX, rows = 5;
	struct csv_column *cols = calloc(ncols, sizeof *cols);
	double *v = malloc(ncols * rows * sizeof *v);
	char(*names)[16] = malloc(ncols * sizeof *names);
	struct csv_table t;
	char err[256];
	size_t i, r;
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(cols);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(names);
	for (i = 0; i < ncols; i++) {
		snprintf(names[i], sizeof names[i], "c%zu", i);
		cols[i].name = names[i];
		cols[i].value_type = "float64";
		cols[i].data = v + i * rows;
		for (r = 0; r < rows; r++)
			v[i * rows + r] = -DBL_MAX / (double)(i * rows + r + 1);
	}
	ck_assert_msg(csv_write_file(f, cols, ncols, rows, NULL, err, sizeof err) == 0, "%s", err);
	rewind(f);
	ck_assert_msg(csv_read_file(f, NULL, 0, &t, NULL, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(t.ncols, ncols);
	ck_assert_uint_eq(t.nrows, rows);
	for (i = 0; i < ncols; i++)
		for (r = 0; r < rows; r++)
			ck_assert(f64_at(column(&t, i, names[i], "float64"), r) == v[i * rows + r]);
	csv_table_free(&t);
	fclose(f);
	free(cols);
	free(v);
	free(names);
}
END_TEST

/* ---- progress ---- */

START_TEST(test_progress_format)
{
	static const struct {
		uint64_t done, total;
		int64_t elapsed;
		const char *line;
	} cases[] = {
		{ 512 * MIB, GIB, 2 * SEC, "put a.csv  50%  0.5/1.0 GiB  256 MiB/s  ETA 0:02" },
		{ 100 * MIB, 300 * MIB, SEC, "put a.csv  33%  100/300 MiB  100 MiB/s  ETA 0:02" },
		{ 100 * MIB, 300 * MIB, SEC + 1, "put a.csv  33%  100/300 MiB  100 MiB/s  ETA 0:03" },
		{ GIB, GIB, 4 * SEC + SEC / 2, "put a.csv 100%  1.0/1.0 GiB  228 MiB/s  in 0:05" },
		{ GIB, GIB, 0, "put a.csv 100%  1.0/1.0 GiB  -- MiB/s  in 0:00" },
		{ 0, GIB, 0, "put a.csv   0%  0.0/1.0 GiB  -- MiB/s  ETA --:--" },
		{ 0, GIB, SEC, "put a.csv   0%  0.0/1.0 GiB  0 KiB/s  ETA --:--" },
		{ GIB, 100 * GIB, 60 * SEC, "put a.csv   1%  1.0/100.0 GiB  17 MiB/s  ETA 1:39:00" },
		{ MIB, GIB << 10, 1000 * SEC, "put a.csv   0%  0.0/1024.0 GiB  1 KiB/s  ETA >99h" },
		{ 4 * GIB, 8 * GIB, 2 * SEC, "put a.csv  50%  4.0/8.0 GiB  2.0 GiB/s  ETA 0:02" },
		{ 300 << 10, 300 * MIB, SEC, "put a.csv   0%  0/300 MiB  300 KiB/s  ETA 17:03" },
		{ GIB - 1, GIB, 3 * SEC, "put a.csv  99%  1.0/1.0 GiB  341 MiB/s  ETA 0:01" },
		{ 2 * GIB, GIB, 61 * SEC, "put a.csv 100%  2.0/1.0 GiB  34 MiB/s  in 1:01" },
		{ 0, 0, SEC, "put a.csv 100%  0/0 MiB  0 KiB/s  in 0:01" },
		{ UINT64_MAX - 1, UINT64_MAX, SEC,
		    "put a.csv  99%  17179869184.0/17179869184.0 GiB  17179869184.0 GiB/s  ETA 0:01" },
		{ UINT64_MAX / 2, UINT64_MAX, SEC,
		    "put a.csv  49%  8589934592.0/17179869184.0 GiB  8589934592.0 GiB/s  ETA 0:01" },
	};
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int n = progress_format(
		    buf, sizeof buf, "put a.csv", cases[i].done, cases[i].total, cases[i].elapsed);

		ck_assert_msg(strcmp(buf, cases[i].line) == 0, "case %zu: \"%s\"", i, buf);
		ck_assert_int_eq(n, (int)strlen(buf));
	}
	/* Cut short like snprintf: terminated, full length returned. */
	ck_assert_int_eq(progress_format(buf, 8, "put a.csv", 0, GIB, 0), (int)strlen(cases[5].line));
	ck_assert_str_eq(buf, "put a.c");
}
END_TEST

START_TEST(test_progress_label)
{
	struct progress p;

	progress_start(&p, "get df", GIB);
	ck_assert_str_eq(p.label, "get df");
	/* Too long: its tail, where a file's name is. */
	progress_start(&p, "put /data/very/long/path/to/measurements.csv", GIB);
	ck_assert_uint_eq(strlen(p.label), PROGRESS_LABEL_MAX - 1);
	ck_assert_str_eq(p.label, "...ath/to/measurements.csv");
	/* Not from the middle of a character (é is two bytes). */
	progress_start(&p,
	    "put /data/\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9.csv",
	    GIB);
	ck_assert_str_eq(
	    p.label, "...\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9.csv");
}
END_TEST

/* Put fd in place of stderr; returns the saved stderr. */
static int
swap_stderr(int fd)
{
	int saved = dup(STDERR_FILENO);

	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	return saved;
}

static void
restore_stderr(int saved)
{
	ck_assert_int_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
}

/* A terminal (the slave of a new pty in raw mode) in *slave; its master. */
static int
open_pty(int *slave)
{
	struct termios tio;
	int master = posix_openpt(O_RDWR | O_NOCTTY);

	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	ck_assert_int_ge(*slave = open(ptsname(master), O_RDWR | O_NOCTTY), 0);
	ck_assert_int_eq(tcgetattr(*slave, &tio), 0);
	cfmakeraw(&tio);
	ck_assert_int_eq(tcsetattr(*slave, TCSANOW, &tio), 0);
	return master;
}

/* What the terminal got so far. */
static size_t
drain(int master, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	while (got < len - 1 && (n = read(master, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return got;
}

START_TEST(test_progress_quiet)
{
	struct progress p;
	char buf[256];
	int saved, slave, master;
	FILE *f = tmpfile();

	/* Not a terminal: nothing, however big. */
	ck_assert_ptr_nonnull(f);
	saved = swap_stderr(fileno(f));
	progress_start(&p, "get big", 100 * GIB);
	ck_assert_int_eq(p.active, 0);
	p.drawn_ns -= 10 * PROGRESS_INTERVAL_NS;
	progress_update(&p, GIB);
	ck_assert_uint_eq(p.done, GIB);
	progress_end(&p);
	restore_stderr(saved);
	ck_assert_int_eq(ftell(f), 0);
	ck_assert_int_eq(lseek(fileno(f), 0, SEEK_END), 0);
	fclose(f);

	/* A terminal, but too little to show. */
	master = open_pty(&slave);
	saved = swap_stderr(slave);
	progress_start(&p, "get small", PROGRESS_MIN_BYTES - 1);
	ck_assert_int_eq(p.active, 0);
	p.drawn_ns -= 10 * PROGRESS_INTERVAL_NS;
	progress_update(&p, MIB);
	progress_end(&p);
	restore_stderr(saved);
	ck_assert_uint_eq(drain(master, buf, sizeof buf), 0);
	close(slave);
	close(master);
}
END_TEST

/* Is the line at s (up to the next \r or \n) want, then only the spaces
 * that blank what a longer line before it left? */
static int
line_is(const char *s, const char *want)
{
	size_t n = strlen(want);

	if (strncmp(s, want, n) != 0)
		return 0;
	for (s += n; *s == ' '; s++)
		;
	return *s == '\r' || *s == '\n' || *s == '\0';
}

START_TEST(test_progress_terminal)
{
	struct progress p;
	char buf[1024], *first, *second, *last;
	int saved, slave, master, i, draws = 0;
	int64_t t0, now;

	master = open_pty(&slave);
	saved = swap_stderr(slave);
	t0 = util_mono_ns();
	progress_start(&p, "get df", GIB);
	ck_assert_int_eq(p.active, 1);
	/* Calls in quick succession draw at most once an interval. */
	for (i = 1; i <= 100000; i++)
		progress_update(&p, (uint64_t)i << 10);
	ck_assert_uint_eq(p.done, UINT64_C(100000) << 10);
	drain(master, buf, sizeof buf);
	for (first = buf; (first = strchr(first, '\r')) != NULL; first++)
		draws++;
	ck_assert_int_le(draws, (util_mono_ns() - t0) / PROGRESS_INTERVAL_NS);
	/* From here the test keeps the clock, so that the lines (rates, ETAs)
	 * do not depend on how fast it runs. Ten seconds in, half done; the
	 * interval passed. */
	now = p.start_ns + 10 * SEC;
	p.drawn_ns = now - PROGRESS_INTERVAL_NS;
	progress_update_at(&p, 512 * MIB, now);
	/* Not yet an interval since that line: no redraw (the next line on
	 * the terminal is the dataframe one). */
	progress_update_at(&p, 550 * MIB, now + PROGRESS_INTERVAL_NS - 1);
	/* A longer label: the final line blanks the rest of it. */
	memcpy(p.label, "get dataframe", 14);
	now += PROGRESS_INTERVAL_NS;
	progress_update_at(&p, 600 * MIB, now);
	memcpy(p.label, "get df", 7);
	p.done = GIB;
	progress_end_at(&p, now + PROGRESS_INTERVAL_NS);
	ck_assert_int_eq(p.active, 0);
	progress_end(&p);
	restore_stderr(saved);
	drain(master, buf, sizeof buf);
	/* 512 MiB in 10 s; 600 MiB in 10.1 s; 1 GiB in 10.2 s. */
	first = buf;
	ck_assert_msg(line_is(first, "\rget df  50%  0.5/1.0 GiB  51 MiB/s  ETA 0:10"), "\"%s\"", buf);
	ck_assert_ptr_nonnull(second = strchr(first + 1, '\r'));
	ck_assert_msg(
	    line_is(second, "\rget dataframe  58%  0.6/1.0 GiB  59 MiB/s  ETA 0:08"), "\"%s\"", second);
	ck_assert_ptr_nonnull(last = strchr(second + 1, '\r'));
	ck_assert_msg(line_is(last, "\rget df 100%  1.0/1.0 GiB  100 MiB/s  in 0:10"), "\"%s\"", last);
	/* The final line covers all of the longer one, then ends it; the
	 * second progress_end adds nothing. */
	ck_assert_uint_ge(strlen(last) - 1, (size_t)(last - second));
	ck_assert_ptr_null(strchr(last + 1, '\r'));
	ck_assert_str_eq(last + strlen(last) - 2, " \n");
	close(slave);
	close(master);
}
END_TEST

static Suite *
csv_suite(void)
{
	Suite *s = suite_create("csv");
	TCase *tr = tcase_create("read");
	TCase *tw = tcase_create("write");

	tcase_set_timeout(tr, TEST_TIMEOUT);
	tcase_set_timeout(tw, TEST_TIMEOUT);
	tcase_add_test(tr, test_read_types);
	tcase_add_test(tr, test_read_quoting);
	tcase_add_test(tr, test_read_line_ends);
	tcase_add_test(tr, test_read_dribble);
	tcase_add_test(tr, test_read_promotion);
	tcase_add_test(tr, test_read_errors);
	tcase_add_test(tr, test_read_limits);
	tcase_add_test(tr, test_read_io_errors);
	tcase_add_test(tr, test_read_large);
	tcase_add_test(tr, test_read_infer);
	tcase_add_test(tr, test_read_forced);
	suite_add_tcase(s, tr);
	tcase_add_test(tw, test_write_format);
	tcase_add_test(tw, test_write_arrays);
	tcase_add_test(tw, test_write_small_types);
	tcase_add_test(tw, test_write_names);
	tcase_add_test(tw, test_write_one_column_nan);
	tcase_add_test(tw, test_write_round_trip);
	tcase_add_test(tw, test_write_uint64_overflow);
	tcase_add_test(tw, test_write_errors);
	tcase_add_test(tw, test_write_large);
	tcase_add_test(tw, test_write_wide);
	suite_add_tcase(s, tw);
	return s;
}

static Suite *
progress_suite(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("progress");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_progress_format);
	tcase_add_test(tc, test_progress_label);
	tcase_add_test(tc, test_progress_quiet);
	tcase_add_test(tc, test_progress_terminal);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(csv_suite());
	int failed;

	srunner_add_suite(sr, progress_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
