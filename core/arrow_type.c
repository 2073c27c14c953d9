/*
 * arrow_type: see arrow_type.h. Parsing is strict: a string parses only
 * when it is spelled exactly as arrow_type_format spells it, so a type
 * string round-trips and two trees name one type one way.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arrow_type.h"

static const struct {
	const char *name;
	enum arrow_kind kind;
	unsigned width;
	enum arrow_unit unit;
} simple[] = {
	{ "int8", ARROW_INT, 8, ARROW_UNIT_NONE },
	{ "int16", ARROW_INT, 16, ARROW_UNIT_NONE },
	{ "int32", ARROW_INT, 32, ARROW_UNIT_NONE },
	{ "int64", ARROW_INT, 64, ARROW_UNIT_NONE },
	{ "uint8", ARROW_UINT, 8, ARROW_UNIT_NONE },
	{ "uint16", ARROW_UINT, 16, ARROW_UNIT_NONE },
	{ "uint32", ARROW_UINT, 32, ARROW_UNIT_NONE },
	{ "uint64", ARROW_UINT, 64, ARROW_UNIT_NONE },
	{ "float", ARROW_FLOAT, 32, ARROW_UNIT_NONE },
	{ "double", ARROW_FLOAT, 64, ARROW_UNIT_NONE },
	{ "bool", ARROW_BOOL, 1, ARROW_UNIT_NONE },
	{ "string", ARROW_STRING, 32, ARROW_UNIT_NONE },
	{ "large_string", ARROW_STRING, 64, ARROW_UNIT_NONE },
	{ "binary", ARROW_BINARY, 32, ARROW_UNIT_NONE },
	{ "large_binary", ARROW_BINARY, 64, ARROW_UNIT_NONE },
	{ "date32[day]", ARROW_DATE, 32, ARROW_UNIT_DAY },
	{ "date64[ms]", ARROW_DATE, 64, ARROW_UNIT_MILLI },
};

static const char *const unit_names[] = {
	[ARROW_UNIT_NONE] = "",
	[ARROW_UNIT_SECOND] = "s",
	[ARROW_UNIT_MILLI] = "ms",
	[ARROW_UNIT_MICRO] = "us",
	[ARROW_UNIT_NANO] = "ns",
	[ARROW_UNIT_DAY] = "day",
};

/* The time unit spelled at s, up to len bytes; 0 if none. */
static enum arrow_unit
time_unit(const char *s, size_t len)
{
	enum arrow_unit u;

	for (u = ARROW_UNIT_SECOND; u <= ARROW_UNIT_NANO; u++)
		if (strlen(unit_names[u]) == len && strncmp(s, unit_names[u], len) == 0)
			return u;
	return ARROW_UNIT_NONE;
}

static int
parse_value(const char *s, struct arrow_value_type *v)
{
	const char *close;
	size_t i;

	memset(v, 0, sizeof *v);
	for (i = 0; i < sizeof simple / sizeof simple[0]; i++)
		if (strcmp(s, simple[i].name) == 0) {
			v->kind = simple[i].kind;
			v->width = simple[i].width;
			v->unit = simple[i].unit;
			return 0;
		}
	if (strncmp(s, "duration[", 9) == 0) {
		close = strchr(s + 9, ']');
		if (close == NULL || close[1] != '\0' ||
		    (v->unit = time_unit(s + 9, (size_t)(close - s - 9))) == ARROW_UNIT_NONE)
			return -EINVAL;
		v->kind = ARROW_DURATION;
		v->width = 64;
		return 0;
	}
	if (strncmp(s, "timestamp[", 10) == 0) {
		const char *end = s + 10 + strcspn(s + 10, ",]");

		if ((v->unit = time_unit(s + 10, (size_t)(end - s - 10))) == ARROW_UNIT_NONE)
			return -EINVAL;
		v->kind = ARROW_TIMESTAMP;
		v->width = 64;
		if (strcmp(end, "]") == 0)
			return 0;
		/* ", tz=NAME]": a name of printable characters without ']' */
		if (strncmp(end, ", tz=", 5) != 0)
			return -EINVAL;
		end += 5;
		close = strchr(end, ']');
		if (close == NULL || close[1] != '\0' || close == end ||
		    (size_t)(close - end) >= sizeof v->tz)
			return -EINVAL;
		for (i = 0; end + i < close; i++)
			if (end[i] <= ' ' || end[i] > '~' || end[i] == ',')
				return -EINVAL;
		memcpy(v->tz, end, (size_t)(close - end));
		v->tz[close - end] = '\0';
		return 0;
	}
	return -EINVAL;
}

int
arrow_type_parse(const char *s, struct arrow_type *t)
{
	static const char pre[] = "dictionary<values=";
	char values[ARROW_TYPE_STR_MAX], index[16];
	const char *p, *q;
	struct arrow_value_type iv;
	int ordered, rc;

	memset(t, 0, sizeof *t);
	if (s == NULL || strlen(s) >= ARROW_TYPE_STR_MAX)
		return -EINVAL;
	if (strncmp(s, pre, sizeof pre - 1) != 0)
		return parse_value(s, &t->value);
	/* dictionary<values=V, indices=I, ordered=0|1>; V holds no ", indices=" */
	p = s + sizeof pre - 1;
	q = strstr(p, ", indices=");
	if (q == NULL || (size_t)(q - p) >= sizeof values)
		return -EINVAL;
	memcpy(values, p, (size_t)(q - p));
	values[q - p] = '\0';
	p = q + 10;
	q = strstr(p, ", ordered=");
	if (q == NULL || (size_t)(q - p) >= sizeof index)
		return -EINVAL;
	memcpy(index, p, (size_t)(q - p));
	index[q - p] = '\0';
	if ((q[10] != '0' && q[10] != '1') || strcmp(q + 11, ">") != 0)
		return -EINVAL;
	ordered = q[10] == '1';
	if ((rc = parse_value(values, &t->value)) < 0)
		return rc;
	if (parse_value(index, &iv) < 0 || iv.kind != ARROW_INT)
		return -EINVAL;
	t->dictionary = 1;
	t->index_width = iv.width;
	t->ordered = ordered;
	return 0;
}

static int
format_value(const struct arrow_value_type *v, char *buf, size_t len)
{
	size_t i;
	int n = -1;

	switch (v->kind) {
	case ARROW_TIMESTAMP:
		n = v->tz[0] != '\0' ? snprintf(buf, len, "timestamp[%s, tz=%s]", unit_names[v->unit], v->tz)
				     : snprintf(buf, len, "timestamp[%s]", unit_names[v->unit]);
		break;
	case ARROW_DURATION: n = snprintf(buf, len, "duration[%s]", unit_names[v->unit]); break;
	default:
		for (i = 0; i < sizeof simple / sizeof simple[0]; i++)
			if (simple[i].kind == v->kind && simple[i].width == v->width) {
				n = snprintf(buf, len, "%s", simple[i].name);
				break;
			}
		if (n < 0)
			return -EINVAL;
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
arrow_type_format(const struct arrow_type *t, char *buf, size_t len)
{
	char values[ARROW_TYPE_STR_MAX];
	int n, rc;

	if (!t->dictionary)
		return format_value(&t->value, buf, len);
	if ((rc = format_value(&t->value, values, sizeof values)) < 0)
		return rc;
	n = snprintf(buf, len, "dictionary<values=%s, indices=int%u, ordered=%d>", values, t->index_width,
	    t->ordered ? 1 : 0);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

#define NS "vineyard::"

int
arrow_typename(const struct arrow_type *t, char *buf, size_t len)
{
	char v[ARROW_TYPE_STR_MAX];
	const char *large;
	int n, rc;

	if (t->dictionary)
		n = snprintf(buf, len, NS "DictionaryArray");
	else if (t->value.kind == ARROW_BOOL)
		n = snprintf(buf, len, NS "BooleanArray");
	else if (t->value.kind == ARROW_STRING || t->value.kind == ARROW_BINARY) {
		large = t->value.width == 64 ? "Large" : "";
		n = snprintf(buf, len, NS "BaseBinaryArray<arrow::%s%sArray>", large,
		    t->value.kind == ARROW_STRING ? "String" : "Binary");
	} else {
		if ((rc = format_value(&t->value, v, sizeof v)) < 0)
			return rc;
		n = snprintf(buf, len, NS "NumericArray<%s>", v);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
arrow_typename_parse(const char *typename, struct arrow_type *t)
{
	static const struct {
		const char *name;
		enum arrow_kind kind;
		unsigned width;
	} binary[] = {
		{ NS "BaseBinaryArray<arrow::StringArray>", ARROW_STRING, 32 },
		{ NS "BaseBinaryArray<arrow::LargeStringArray>", ARROW_STRING, 64 },
		{ NS "BaseBinaryArray<arrow::BinaryArray>", ARROW_BINARY, 32 },
		{ NS "BaseBinaryArray<arrow::LargeBinaryArray>", ARROW_BINARY, 64 },
	};
	static const char num[] = NS "NumericArray<";
	char inner[ARROW_TYPE_STR_MAX];
	size_t i, n;

	memset(t, 0, sizeof *t);
	if (typename == NULL)
		return -ENOENT;
	if (strcmp(typename, NS "BooleanArray") == 0) {
		t->value.kind = ARROW_BOOL;
		t->value.width = 1;
		return 0;
	}
	for (i = 0; i < sizeof binary / sizeof binary[0]; i++)
		if (strcmp(typename, binary[i].name) == 0) {
			t->value.kind = binary[i].kind;
			t->value.width = binary[i].width;
			return 0;
		}
	if (strcmp(typename, NS "DictionaryArray") == 0)
		return -EINVAL;
	if (strncmp(typename, num, sizeof num - 1) != 0)
		return -ENOENT;
	n = strlen(typename + sizeof num - 1);
	if (n < 2 || typename[sizeof num - 1 + n - 1] != '>' || n - 1 >= sizeof inner)
		return -EINVAL;
	memcpy(inner, typename + sizeof num - 1, n - 1);
	inner[n - 1] = '\0';
	if (parse_value(inner, &t->value) < 0 || !arrow_is_fixed(&t->value))
		return -EINVAL;
	return 0;
}

int
arrow_is_fixed(const struct arrow_value_type *v)
{
	return v->kind != ARROW_BOOL && v->kind != ARROW_STRING && v->kind != ARROW_BINARY;
}

size_t
arrow_value_size(const struct arrow_value_type *v)
{
	return arrow_is_fixed(v) ? v->width / 8 : 0;
}
