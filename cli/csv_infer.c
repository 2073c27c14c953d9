/*
 * csv_infer: one column of CSV text to an Arrow array (see csv.h). The
 * reader keeps each column as text (offsets, bytes, which fields were
 * quoted); at the end this file picks the column's type, from all its
 * rows or as the user forced it, and converts the text into the array's
 * buffers in Arrow's layout, ready to be written into an IPC file. It also
 * owns the ISO 8601 forms both directions share (csv_time_parse and
 * csv_time_format), so that what get writes, put reads back the same.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/csv.h"
#include "cli/csv_i.h"
#include "core/util.h"

#define NS_PER_DAY (86400LL * 1000000000LL)

/* What the non-empty fields of a column all are, to pick its type. */
struct seen {
	int all_int, all_float, all_bool, all_time, utf8;
	uint64_t dates, naive, zoned; /* fields of each temporal form */
	uint64_t values;	      /* non-empty fields */
};

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's
 * days_from_civil: years as eras of 400, March-based years). */
static int64_t
days_of(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_of. */
static void
civil_of(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* n digits at s as a number, or -1. */
static int64_t
digits(const char *s, size_t n)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
csv_time_parse(const char *s, size_t n, int64_t *v)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0, days, ns;
	size_t i = 10, k;
	int kind = CSV_TIME_NAIVE;

	if (n < 10 || s[4] != '-' || s[7] != '-' || (y = digits(s, 4)) < 0 || (mo = digits(s + 5, 2)) < 1 ||
	    mo > 12 || (d = digits(s + 8, 2)) < 1 || d > mdays[mo - 1])
		return 0;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	days = days_of(y, (unsigned)mo, (unsigned)d);
	if (n == 10) {
		*v = days;
		return CSV_TIME_DATE;
	}
	if ((s[10] != 'T' && s[10] != ' ') || n < 16 || s[13] != ':' || (h = digits(s + 11, 2)) < 0 ||
	    h > 23 || (mi = digits(s + 14, 2)) < 0 || mi > 59)
		return 0;
	i = 16;
	if (i < n && s[i] == ':') {
		if (i + 3 > n || (sec = digits(s + i + 1, 2)) < 0 || sec > 59)
			return 0;
		i += 3;
		if (i < n && s[i] == '.') {
			for (k = 0, i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
				if (k < 9)
					frac = frac * 10 + (s[i] - '0');
			if (k == 0)
				return 0;
			for (; k < 9; k++)
				frac *= 10;
		}
	}
	if (i < n && s[i] == 'Z' && i + 1 == n)
		kind = CSV_TIME_ZONED;
	else if (i < n && (s[i] == '+' || s[i] == '-')) {
		int64_t oh, om = 0;
		size_t rest = n - i - 1;

		/* +HH, +HHMM or +HH:MM */
		if ((rest != 2 && rest != 4 && rest != 5) || (oh = digits(s + i + 1, 2)) < 0 || oh > 23 ||
		    (rest == 4 && (om = digits(s + i + 3, 2)) < 0) ||
		    (rest == 5 && (s[i + 3] != ':' || (om = digits(s + i + 4, 2)) < 0)) || om > 59)
			return 0;
		off = (oh * 60 + om) * 60 * (s[i] == '+' ? 1 : -1);
		kind = CSV_TIME_ZONED;
	} else if (i != n)
		return 0;
	/* int64 nanoseconds span 1677-09-21 to 2262-04-11. */
	if (__builtin_mul_overflow(days, NS_PER_DAY, &ns) ||
	    __builtin_add_overflow(ns, ((h * 60 + mi) * 60 + sec - off) * 1000000000LL + frac, &ns))
		return 0;
	*v = ns;
	return kind;
}

size_t
csv_time_format(char *out, int64_t v, enum arrow_unit unit, int zoned)
{
	int64_t per_day, per_s, days, rest, y;
	unsigned m, d, h, mi, s;
	size_t n;
	int digits_frac = 0;

	switch (unit) {
	case ARROW_UNIT_DAY:
		civil_of(v, &y, &m, &d);
		return (size_t)snprintf(out, CSV_VALUE_MAX, "%04" PRId64 "-%02u-%02u", y, m, d);
	case ARROW_UNIT_SECOND: per_s = 1; break;
	case ARROW_UNIT_MILLI: per_s = 1000, digits_frac = 3; break;
	case ARROW_UNIT_MICRO: per_s = 1000000, digits_frac = 6; break;
	default: per_s = 1000000000, digits_frac = 9; break;
	}
	per_day = 86400 * per_s;
	days = v / per_day;
	rest = v % per_day;
	if (rest < 0)
		days--, rest += per_day;
	civil_of(days, &y, &m, &d);
	s = (unsigned)(rest / per_s);
	h = s / 3600, mi = s / 60 % 60, s %= 60;
	n = (size_t)snprintf(out, CSV_VALUE_MAX, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u", y, m, d, h, mi, s);
	if (rest % per_s != 0) {
		n += (size_t)snprintf(out + n, CSV_VALUE_MAX - n, ".%0*" PRId64, digits_frac, rest % per_s);
		while (out[n - 1] == '0')
			n--;
	}
	if (zoned)
		out[n++] = 'Z';
	out[n] = '\0';
	return n;
}

/* Field i of column c, blanks around it cut: [*s, *s + *n). */
static void
field(const struct csv_text *c, uint64_t i, const char **s, size_t *n)
{
	const char *p = c->data + c->offsets[i], *e = c->data + c->offsets[i + 1];

	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*s = p;
	*n = (size_t)(e - p);
}

/* Is field i null: empty once its blanks are cut (a string column keeps
 * a quoted "" as the empty string). */
static int
is_null(const struct csv_text *c, uint64_t i, int text)
{
	const char *s;
	size_t n;

	if (text)
		return c->offsets[i + 1] == c->offsets[i] && !(c->quoted[i / 8] >> (i % 8) & 1);
	field(c, i, &s, &n);
	return n == 0;
}

/* Field s (n bytes) as a C string in buf (len bytes); 0 if it does not fit. */
static int
cstr(char *buf, size_t len, const char *s, size_t n)
{
	if (n == 0 || n >= len)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	return 1;
}

static int
parse_int(const char *s, size_t n, int64_t *v)
{
	char buf[32], *end;

	return cstr(buf, sizeof buf, s, n) && (*v = strtoll(buf, &end, 10), end == buf + n) && errno == 0;
}

static int
parse_uint(const char *s, size_t n, uint64_t *v)
{
	char buf[32], *end;

	/* strtoull takes "-1" as 2^64 - 1. */
	return n > 0 && s[0] != '-' && cstr(buf, sizeof buf, s, n) &&
	       (*v = strtoull(buf, &end, 10), end == buf + n) && errno == 0;
}

static int
parse_float(const char *s, size_t n, double *v)
{
	char buf[CSV_VALUE_MAX], *end;

	return cstr(buf, sizeof buf, s, n) && (*v = strtod(buf, &end), end == buf + n);
}

static int
parse_bool(const char *s, size_t n, int *b)
{
	if (n == 4 && strncasecmp(s, "true", 4) == 0)
		return *b = 1, 1;
	if (n == 5 && strncasecmp(s, "false", 5) == 0)
		return *b = 0, 1;
	return 0;
}

/* The type a column's text infers (csv.h). */
static void
infer(const struct csv_text *c, uint64_t rows, struct arrow_type *t)
{
	struct seen w = { 1, 1, 1, 1, 1, 0, 0, 0, 0 };
	const char *s;
	uint64_t i;
	int64_t iv;
	double d;
	size_t n;
	int b, k;

	memset(t, 0, sizeof *t);
	for (i = 0; i < rows; i++) {
		if (!is_null(c, i, 1) && !csv_utf8_ok((const unsigned char *)c->data + c->offsets[i],
					     c->offsets[i + 1] - c->offsets[i]))
			w.utf8 = 0;
		if (is_null(c, i, 0))
			continue;
		field(c, i, &s, &n);
		w.values++;
		w.all_int = w.all_int && parse_int(s, n, &iv);
		w.all_float = w.all_float && parse_float(s, n, &d);
		w.all_bool = w.all_bool && parse_bool(s, n, &b);
		if (w.all_time && (k = csv_time_parse(s, n, &iv)) != 0)
			*(k == CSV_TIME_DATE ? &w.dates : k == CSV_TIME_NAIVE ? &w.naive : &w.zoned) += 1;
		else
			w.all_time = 0;
	}
	if (w.values == 0 || (w.all_float && !w.all_int))
		t->value = (struct arrow_value_type){ .kind = ARROW_FLOAT, .width = 64 };
	else if (w.all_int)
		t->value = (struct arrow_value_type){ .kind = ARROW_INT, .width = 64 };
	else if (w.all_bool)
		t->value = (struct arrow_value_type){ .kind = ARROW_BOOL, .width = 1 };
	else if (w.all_time && w.dates == w.values)
		t->value =
		    (struct arrow_value_type){ .kind = ARROW_DATE, .width = 32, .unit = ARROW_UNIT_DAY };
	else if (w.all_time && w.zoned == 0)
		t->value = (struct arrow_value_type){
			.kind = ARROW_TIMESTAMP, .width = 64, .unit = ARROW_UNIT_NANO
		};
	else if (w.all_time && w.zoned == w.values) {
		t->value = (struct arrow_value_type){
			.kind = ARROW_TIMESTAMP, .width = 64, .unit = ARROW_UNIT_NANO
		};
		strcpy(t->value.tz, "UTC");
	} else
		t->value =
		    (struct arrow_value_type){ .kind = w.utf8 ? ARROW_STRING : ARROW_BINARY, .width = 32 };
}

static int64_t
per_second(enum arrow_unit u)
{
	return u == ARROW_UNIT_SECOND  ? 1
	       : u == ARROW_UNIT_MILLI ? 1000
	       : u == ARROW_UNIT_MICRO ? 1000000
				       : 1000000000;
}

/* Floor division, as Arrow's casts to a coarser unit do. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Field s as a fixed-width value of type v into out. Integers are stored
 * as their low width bits: little-endian, as Arrow files here are. */
static int
fixed_value(const struct arrow_value_type *v, const char *s, size_t n, unsigned char *out)
{
	int64_t iv;
	uint64_t uv;
	double d;
	float f;
	int k;

	switch (v->kind) {
	case ARROW_INT:
	case ARROW_DURATION:
		if (!parse_int(s, n, &iv) ||
		    (v->width < 64 && (iv < -(1LL << (v->width - 1)) || iv >= (1LL << (v->width - 1)))))
			return 0;
		memcpy(out, &iv, v->width / 8);
		return 1;
	case ARROW_UINT:
		if (!parse_uint(s, n, &uv) || (v->width < 64 && uv >= (1ULL << v->width)))
			return 0;
		memcpy(out, &uv, v->width / 8);
		return 1;
	case ARROW_FLOAT:
		if (!parse_float(s, n, &d))
			return 0;
		f = (float)d;
		memcpy(out, v->width == 32 ? (const void *)&f : (const void *)&d, v->width / 8);
		return 1;
	case ARROW_TIMESTAMP:
		if ((k = csv_time_parse(s, n, &iv)) == 0)
			return 0;
		if (k == CSV_TIME_DATE && __builtin_mul_overflow(iv, NS_PER_DAY, &iv))
			return 0;
		iv = floor_div(iv, 1000000000 / per_second(v->unit));
		memcpy(out, &iv, 8);
		return 1;
	case ARROW_DATE:
		if (csv_time_parse(s, n, &iv) != CSV_TIME_DATE)
			return 0;
		if (v->width == 64)
			iv *= 86400000;
		memcpy(out, &iv, v->width / 8);
		return 1;
	default: return 0;
	}
}

/* The buffers of a string or binary array of column c into a. */
static int
text_array(const struct csv_text *c, uint64_t rows, struct csv_array *a, unsigned char *validity, char *err,
    size_t errlen)
{
	char sn[CSV_SHOW_MAX + 4];
	int wide = a->type.value.width == 64;
	uint64_t i, total = c->offsets[rows] - c->offsets[0], at = 0;
	unsigned char *offs, *data;

	if (!wide && total > INT32_MAX)
		return util_fail(err, errlen, -EINVAL,
		    "column '%s': %" PRIu64 " bytes of text, more than a %s holds (use large_string)",
		    csv_show(sn, a->name), total, "string");
	offs = malloc((size_t)(rows + 1) * (wide ? 8 : 4));
	data = malloc(total > 0 ? (size_t)total : 1);
	if (offs == NULL || data == NULL) {
		free(offs);
		free(data);
		return util_fail(err, errlen, -ENOMEM, "out of memory");
	}
	for (i = 0; i <= rows; i++) {
		if (i > 0 && (validity[(i - 1) / 8] >> ((i - 1) % 8) & 1)) {
			size_t len = (size_t)(c->offsets[i] - c->offsets[i - 1]);

			if (a->type.value.kind == ARROW_STRING &&
			    !csv_utf8_ok((const unsigned char *)c->data + c->offsets[i - 1], len)) {
				free(offs);
				free(data);
				return util_fail(err, errlen, -EINVAL,
				    "column '%s', row %" PRIu64 ": not UTF-8", csv_show(sn, a->name), i);
			}
			memcpy(data + at, c->data + c->offsets[i - 1], len);
			at += len;
		}
		if (wide) {
			int64_t o = (int64_t)at;

			memcpy(offs + 8 * i, &o, 8);
		} else {
			int32_t o = (int32_t)at;

			memcpy(offs + 4 * i, &o, 4);
		}
	}
	a->values = offs;
	a->values_size = (size_t)(rows + 1) * (wide ? 8 : 4);
	a->data = data;
	a->data_size = (size_t)at;
	return 0;
}

int
csv_infer(const struct csv_text *c, uint64_t rows, const char *forced, struct csv_array *a, char *err,
    size_t errlen)
{
	char sn[CSV_SHOW_MAX + 4], sv[CSV_SHOW_MAX + 4], ts[ARROW_TYPE_STR_MAX];
	struct arrow_value_type *v = &a->type.value;
	unsigned char *validity = NULL, *values = NULL;
	size_t vsize = 0, size;
	const char *s;
	uint64_t i;
	size_t n;
	int b = 0, text, rc = 0;

	a->name = c->name;
	a->length = rows;
	if (forced == NULL)
		infer(c, rows, &a->type);
	else if (arrow_type_parse(forced, &a->type) != 0)
		return util_fail(err, errlen, -EINVAL, "column '%s': unknown type '%s'",
		    csv_show(sn, c->name), csv_show(sv, forced));
	else if (a->type.dictionary)
		return util_fail(err, errlen, -EINVAL, "column '%s': type '%s' is not read from text",
		    csv_show(sn, c->name), csv_show(sv, forced));
	text = v->kind == ARROW_STRING || v->kind == ARROW_BINARY;
	if ((validity = calloc(1, (size_t)((rows + 7) / 8) + 1)) == NULL)
		return util_fail(err, errlen, -ENOMEM, "out of memory");
	for (i = 0; i < rows; i++)
		if (is_null(c, i, text))
			a->null_count++;
		else
			validity[i / 8] |= (unsigned char)(1u << (i % 8));
	if (text) {
		if ((rc = text_array(c, rows, a, validity, err, errlen)) != 0)
			goto out;
		goto done;
	}
	size = v->kind == ARROW_BOOL ? 0 : arrow_value_size(v);
	vsize = v->kind == ARROW_BOOL ? (size_t)((rows + 7) / 8) : (size_t)rows * size;
	if ((values = calloc(1, vsize > 0 ? vsize : 1)) == NULL) {
		rc = util_fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < rows; i++) {
		if (!(validity[i / 8] >> (i % 8) & 1))
			continue;
		field(c, i, &s, &n);
		if (v->kind == ARROW_BOOL ? !parse_bool(s, n, &b)
					  : !fixed_value(v, s, n, values + i * size)) {
			arrow_type_format(&a->type, ts, sizeof ts);
			memcpy(sv, s, n < CSV_SHOW_MAX ? n : CSV_SHOW_MAX);
			sv[n < CSV_SHOW_MAX ? n : CSV_SHOW_MAX] = '\0';
			rc = util_fail(err, errlen, -EINVAL,
			    "column '%s', row %" PRIu64 ": '%s' is not a%s %s", csv_show(sn, c->name), i + 1,
			    csv_show(sv, sv), strchr("aeiou", ts[0]) ? "n" : "", ts);
			goto out;
		}
		if (v->kind == ARROW_BOOL && b)
			values[i / 8] |= (unsigned char)(1u << (i % 8));
	}
	a->values = values;
	a->values_size = vsize;
	values = NULL;
done:
	if (a->null_count > 0) {
		a->validity = validity;
		a->validity_size = (size_t)((rows + 7) / 8);
		validity = NULL;
	}
out:
	free(values);
	free(validity);
	return rc;
}
