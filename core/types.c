/*
 * types: see types.h. Every rule failure names the object path and the
 * rule, e.g. "columns_[1].buffer_: nbytes 80 does not match shape [10] of
 * float64 (80 expected)".
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"
#include "types_i.h"

#define DEPTH_MAX 64
#define DIMS_MAX 32

static const struct {
	const char *name;
	size_t size;
} value_types[] = {
	{ "int8", 1 },
	{ "int16", 2 },
	{ "int32", 4 },
	{ "int64", 8 },
	{ "uint8", 1 },
	{ "uint16", 2 },
	{ "uint32", 4 },
	{ "uint64", 8 },
	{ "float32", 4 },
	{ "float64", 8 },
	{ "bool", 1 },
};

size_t
types_item_size(const char *value_type)
{
	size_t i;

	if (value_type == NULL)
		return 0;
	for (i = 0; i < sizeof value_types / sizeof value_types[0]; i++)
		if (strcmp(value_types[i].name, value_type) == 0)
			return value_types[i].size;
	return 0;
}

int
types_fail(struct types_ctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s%s%s", c->path, c->path[0] ? ": " : "", msg);
	return -EINVAL;
}

int
types_get_count(const json_t *tree, const char *key, uint64_t *out)
{
	const json_t *v = json_object_get(tree, key);
	const char *s;
	char *end;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v) || *(s = json_string_value(v)) == '\0' || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

/* shape_: an array of counts, or a string holding one ("[10, 3]"). */
static int
get_shape(const json_t *tree, uint64_t *dims, size_t *ndims)
{
	const json_t *v = json_object_get(tree, "shape_"), *d;
	json_t *parsed = NULL;
	size_t i;
	int rc = 0;

	if (json_is_string(v))
		v = parsed = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
	if (!json_is_array(v) || json_array_size(v) > DIMS_MAX) {
		rc = -1;
		goto out;
	}
	*ndims = json_array_size(v);
	json_array_foreach (v, i, d) {
		if (!json_is_integer(d) || json_integer_value(d) < 0) {
			rc = -1;
			goto out;
		}
		dims[i] = (uint64_t)json_integer_value(d);
	}
out:
	json_decref(parsed);
	return rc;
}

const char *
types_get_str(const json_t *tree, const char *key)
{
	return json_string_value(json_object_get(tree, key));
}

int
types_is_raw_blob(const json_t *tree)
{
	const char *t = types_get_str(tree, "typename"), *id = types_get_str(tree, "id");

	return t != NULL && strcmp(t, "Blob") == 0 && id != NULL && id[0] == 'b';
}

int
types_member(struct types_ctx *c, const json_t *tree, const char *name, const json_t **out, int depth)
{
	const json_t *m = json_object_get(tree, name);
	size_t len = strlen(c->path);
	int rc;

	if (!json_is_object(m))
		return types_fail(c, "member %s is missing", name);
	snprintf(c->path + len, sizeof c->path - len, "%s%s", len ? "." : "", name);
	rc = types_validate_tree(c, m, depth + 1);
	c->path[len] = '\0';
	if (out != NULL)
		*out = m;
	return rc;
}

static int
check_blob_object(struct types_ctx *c, const json_t *tree, int depth)
{
	const json_t *buf;
	int rc;

	if ((rc = types_member(c, tree, "buffer_", &buf, depth)) != 0)
		return rc;
	if (!types_is_raw_blob(buf))
		return types_fail(c, "buffer_ is not a blob");
	return 0;
}

/* A Tensor's element count (product of shape_) into *count. */
static int
check_tensor(struct types_ctx *c, const json_t *tree, int depth, uint64_t *count, const char **vtype)
{
	const char *vt = types_get_str(tree, "value_type_");
	uint64_t dims[DIMS_MAX], n = 1, nbytes;
	size_t ndims, i, item = types_item_size(vt);
	const json_t *buf;
	int rc;

	if (item == 0)
		return types_fail(c,
		    "value_type_ %s%s%s is not one of int8..int64, uint8..uint64, float32, "
		    "float64, bool",
		    vt ? "\"" : "", vt ? vt : "(missing)", vt ? "\"" : "");
	if (get_shape(tree, dims, &ndims) != 0)
		return types_fail(c, "shape_ is not an array of at most %d sizes", DIMS_MAX);
	for (i = 0; i < ndims; i++) {
		if (dims[i] != 0 && n > UINT64_MAX / dims[i])
			return types_fail(c, "shape_ overflows");
		n *= dims[i];
	}
	if (n > UINT64_MAX / item)
		return types_fail(c, "shape_ overflows");
	if ((rc = types_member(c, tree, "buffer_", &buf, depth)) != 0)
		return rc;
	if (!types_is_raw_blob(buf))
		return types_fail(c, "buffer_ is not a blob");
	if (types_get_count(buf, "nbytes", &nbytes) != 0)
		return types_fail(c, "buffer_ has no nbytes");
	if (nbytes != n * item)
		return types_fail(c, "buffer_ holds %llu bytes; shape_ of %s needs %llu",
		    (unsigned long long)nbytes, vt, (unsigned long long)(n * item));
	if (count != NULL) {
		if (ndims != 1)
			return types_fail(c, "a column must be a 1-D tensor");
		*count = n;
	}
	if (vtype != NULL)
		*vtype = vt;
	return 0;
}

/* A DataFrame's row count into *rows (0 columns: 0 rows). */
static int
check_dataframe(struct types_ctx *c, const json_t *tree, int depth, uint64_t *rows)
{
	const json_t *cols = json_object_get(tree, "columns_"), *col, *parsed = NULL;
	uint64_t n = 0, len;
	size_t i, j;
	int rc = 0;

	if (json_is_string(cols))
		cols = parsed = json_loads(json_string_value(cols), 0, NULL);
	if (!json_is_array(cols)) {
		rc = types_fail(c, "columns_ is not an array of names");
		goto out;
	}
	json_array_foreach (cols, i, col) {
		const char *name = json_string_value(col);
		const json_t *m;
		size_t plen = strlen(c->path);

		if (name == NULL || *name == '\0' || strchr(name, '/') != NULL) {
			rc = types_fail(c, "columns_[%zu] is not a column name", i);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(cols, j)), name) == 0) {
				rc = types_fail(c, "column %s appears twice", name);
				goto out;
			}
		if (!json_is_object(m = json_object_get(tree, name))) {
			rc = types_fail(c, "column %s has no member", name);
			goto out;
		}
		if (strcmp(types_get_str(m, "typename") ? types_get_str(m, "typename") : "", "Tensor") != 0) {
			rc = types_fail(c, "column %s is not a Tensor", name);
			goto out;
		}
		snprintf(c->path + plen, sizeof c->path - plen, "%s%s", plen ? "." : "", name);
		rc = check_tensor(c, m, depth + 1, &len, NULL);
		c->path[plen] = '\0';
		if (rc != 0)
			goto out;
		if (i > 0 && len != n) {
			rc = types_fail(c, "column %s has %llu rows, column %s has %llu", name,
			    (unsigned long long)len, json_string_value(json_array_get(cols, 0)),
			    (unsigned long long)n);
			goto out;
		}
		n = len;
	}
	if (rows != NULL)
		*rows = n;
out:
	json_decref((json_t *)parsed);
	return rc;
}

static int
check_sequence(struct types_ctx *c, const json_t *tree, int depth)
{
	uint64_t size, i;
	char name[48];
	int rc;

	if (types_get_count(tree, "size_", &size) != 0)
		return types_fail(c, "size_ is not a count");
	if (size > 1000000)
		return types_fail(c, "size_ %llu is too large", (unsigned long long)size);
	for (i = 0; i < size; i++) {
		snprintf(name, sizeof name, "__elements_-%llu", (unsigned long long)i);
		if ((rc = types_member(c, tree, name, NULL, depth)) != 0)
			return rc;
	}
	return 0;
}

static int
check_scalar(struct types_ctx *c, const json_t *tree)
{
	const char *t = types_get_str(tree, "type_");
	const json_t *v = json_object_get(tree, "value_");

	if (t == NULL || (types_item_size(t) == 0 && strcmp(t, "str") != 0))
		return types_fail(c, "type_ is not a value type or \"str\"");
	if (v == NULL)
		return types_fail(c, "value_ is missing");
	if (strcmp(t, "str") == 0    ? !json_is_string(v)
	    : strcmp(t, "bool") == 0 ? !json_is_boolean(v)
				     : !json_is_number(v))
		return types_fail(c, "value_ is not a %s", t);
	return 0;
}

/* An int64 Tensor member of n items. */
static int
check_index(struct types_ctx *c, const json_t *tree, const char *name, uint64_t n, int depth)
{
	const json_t *m = json_object_get(tree, name);
	const char *vt = NULL;
	size_t plen = strlen(c->path);
	uint64_t len = 0;
	int rc;

	if (!json_is_object(m) ||
	    strcmp(types_get_str(m, "typename") ? types_get_str(m, "typename") : "", "Tensor") != 0)
		return types_fail(c, "%s is not a Tensor member", name);
	snprintf(c->path + plen, sizeof c->path - plen, "%s%s", plen ? "." : "", name);
	rc = check_tensor(c, m, depth + 1, &len, &vt);
	c->path[plen] = '\0';
	if (rc != 0)
		return rc;
	if (strcmp(vt, "int64") != 0)
		return types_fail(c, "%s is %s, not int64", name, vt);
	if (len != n)
		return types_fail(c, "%s has %llu items, %llu expected", name, (unsigned long long)len,
		    (unsigned long long)n);
	return 0;
}

static int
check_graph(struct types_ctx *c, const json_t *tree, int depth)
{
	static const char *const props[] = { "vertex_properties_", "edge_properties_" };
	uint64_t nv, ne, rows;
	int rc, k;

	if (types_get_count(tree, "vertex_num_", &nv) != 0 || types_get_count(tree, "edge_num_", &ne) != 0)
		return types_fail(c, "vertex_num_ and edge_num_ must be counts");
	if (nv == UINT64_MAX)
		return types_fail(c, "vertex_num_ overflows");
	if ((rc = check_index(c, tree, "offsets", nv + 1, depth)) != 0 ||
	    (rc = check_index(c, tree, "edges", ne, depth)) != 0)
		return rc;
	for (k = 0; k < 2; k++) {
		const json_t *m = json_object_get(tree, props[k]);
		size_t plen = strlen(c->path);

		if (m == NULL)
			continue;
		if (!json_is_object(m) ||
		    strcmp(types_get_str(m, "typename") ? types_get_str(m, "typename") : "", "DataFrame") !=
			0)
			return types_fail(c, "%s is not a DataFrame", props[k]);
		snprintf(c->path + plen, sizeof c->path - plen, "%s%s", plen ? "." : "", props[k]);
		rc = check_dataframe(c, m, depth + 1, &rows);
		c->path[plen] = '\0';
		if (rc != 0)
			return rc;
		if (rows != (k == 0 ? nv : ne) && json_array_size(json_object_get(m, "columns_")) > 0)
			return types_fail(c, "%s has %llu rows, %llu expected", props[k],
			    (unsigned long long)rows, (unsigned long long)(k == 0 ? nv : ne));
	}
	return 0;
}

int
types_validate_tree(struct types_ctx *c, const json_t *tree, int depth)
{
	const char *t;

	if (depth > DEPTH_MAX)
		return types_fail(c, "members nest deeper than %d", DEPTH_MAX);
	if (!json_is_object(tree))
		return types_fail(c, "metadata is not a JSON object");
	if ((t = types_get_str(tree, "typename")) == NULL || *t == '\0')
		return types_fail(c, "typename is missing");
	if (types_is_raw_blob(tree)) {
		uint64_t n;

		return types_get_count(tree, "nbytes", &n) == 0 ? 0 : types_fail(c, "a blob without nbytes");
	}
	if (strcmp(t, "Blob") == 0)
		return check_blob_object(c, tree, depth);
	if (strcmp(t, "Tensor") == 0)
		return check_tensor(c, tree, depth, NULL, NULL);
	if (strcmp(t, "DataFrame") == 0)
		return check_dataframe(c, tree, depth, NULL);
	if (strcmp(t, "Sequence") == 0 || strcmp(t, "Tuple") == 0)
		return check_sequence(c, tree, depth);
	if (strcmp(t, "Scalar") == 0)
		return check_scalar(c, tree);
	if (strcmp(t, "Graph") == 0)
		return check_graph(c, tree, depth);
	if (strncmp(t, "vineyard::", 10) == 0)
		return types_arrow_validate(c, tree, depth);
	return 0; /* a user type: its own rules are its own */
}

int
types_validate(const json_t *tree, char *err, size_t errlen)
{
	return types_validate_bytes(tree, NULL, err, errlen);
}

int
types_validate_bytes(const json_t *tree, const struct types_reader *reader, char *err, size_t errlen)
{
	struct types_ctx c = { .err = err, .errlen = errlen, .reader = reader };
	char dummy[1];

	if (c.err == NULL || c.errlen == 0) {
		c.err = dummy;
		c.errlen = sizeof dummy;
	}
	c.err[0] = '\0';
	return types_validate_tree(&c, tree, 0);
}
