/*
 * arrow_ctl: see arrow_ctl.h. The request's JSON becomes a struct
 * arrow_ipc_desc (every part checked, errors naming it as the request
 * spells it: "batches[1].columns[0].buffers"), arrow_ipc_layout lays it
 * out, and the layout becomes the reply.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_ctl.h"
#include "arrow_ipc.h"
#include "arrow_ipc_i.h"
#include "util.h"

#define FAIL(...) util_fail(err, errlen, -EINVAL, "arrow_layout: " __VA_ARGS__)

/* A count at key of o: a JSON integer >= 0 or a decimal string; def when
 * absent (def < 0: required). 0 or -1. */
static int
count(const json_t *o, const char *key, long long def, uint64_t *out)
{
	const json_t *v = key ? json_object_get(o, key) : o;
	const char *s;
	char *end;

	if (v == NULL && def >= 0) {
		*out = (uint64_t)def;
		return 0;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v) || *(s = json_string_value(v)) < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

/* Array a's null count and buffer sizes from o (what: its name). */
static int
array(const json_t *o, struct arrow_ipc_array *a, const char *what, char *err, size_t errlen)
{
	const json_t *bufs = json_object_get(o, "buffers"), *v;
	size_t i;

	if (!json_is_object(o))
		return FAIL("%s must be an object", what);
	if (count(o, "null_count", 0, &a->null_count) != 0)
		return FAIL("%s.null_count must be a count", what);
	if (!json_is_array(bufs) || json_array_size(bufs) < 2 ||
	    json_array_size(bufs) > ARROW_IPC_MAX_BUFFERS)
		return FAIL("%s.buffers must be an array of 2 or 3 sizes", what);
	a->nbuffers = (unsigned)json_array_size(bufs);
	json_array_foreach (bufs, i, v)
		if (count(v, NULL, -1, &a->buffers[i].size) != 0)
			return FAIL("%s.buffers[%zu] must be a byte count", what, i);
	return 0;
}

/* The fields of the request into d->fields (names borrowed from req). */
static int
fields(const json_t *req, struct arrow_ipc_desc *d, char *err, size_t errlen)
{
	const json_t *fs = json_object_get(req, "fields"), *f, *nullable;
	const char *name, *type;
	size_t i, j;

	if (!json_is_array(fs) || json_array_size(fs) == 0 || json_array_size(fs) > ARROW_IPC_MAX_FIELDS)
		return FAIL("fields must be an array of 1 to %u fields", ARROW_IPC_MAX_FIELDS);
	if ((d->fields = calloc(json_array_size(fs), sizeof *d->fields)) == NULL)
		return -ENOMEM;
	d->nfields = (unsigned)json_array_size(fs);
	json_array_foreach (fs, i, f) {
		nullable = json_object_get(f, "nullable");
		if ((name = json_string_value(json_object_get(f, "name"))) == NULL || name[0] == '\0')
			return FAIL("fields[%zu].name must be a non-empty string", i);
		for (j = 0; j < i; j++)
			if (strcmp(d->fields[j].name, name) == 0)
				return FAIL("fields[%zu].name: \"%.64s\" twice", i, name);
		if ((type = json_string_value(json_object_get(f, "type"))) == NULL ||
		    arrow_type_parse(type, &d->fields[i].type) != 0)
			return FAIL("fields[%zu].type: not a type string (\"%.64s\")", i, type ? type : "");
		if (nullable != NULL && !json_is_null(nullable) && !json_is_boolean(nullable))
			return FAIL("fields[%zu].nullable must be a boolean", i);
		d->fields[i].name = (char *)name;
		d->fields[i].nullable = !json_is_false(nullable);
	}
	return 0;
}

static int
dictionaries(const json_t *req, struct arrow_ipc_desc *d, char *err, size_t errlen)
{
	const json_t *ds = json_object_get(req, "dictionaries"), *x;
	char what[64];
	uint64_t field;
	size_t i;
	int rc;

	if (ds == NULL || json_is_null(ds))
		return 0;
	if (!json_is_array(ds) || json_array_size(ds) > d->nfields)
		return FAIL("dictionaries must be an array, one per dictionary field");
	if (json_array_size(ds) > 0 && (d->dicts = calloc(json_array_size(ds), sizeof *d->dicts)) == NULL)
		return -ENOMEM;
	d->ndicts = (unsigned)json_array_size(ds);
	json_array_foreach (ds, i, x) {
		snprintf(what, sizeof what, "dictionaries[%zu]", i);
		if ((rc = array(x, &d->dicts[i].values, what, err, errlen)) != 0)
			return rc;
		if (count(x, "field", -1, &field) != 0 || field >= d->nfields ||
		    !d->fields[field].type.dictionary)
			return FAIL("%s.field must be the index of a dictionary field", what);
		if (count(x, "length", -1, &d->dicts[i].values.length) != 0)
			return FAIL("%s.length must be a count", what);
		d->dicts[i].field = (unsigned)field;
	}
	return 0;
}

static int
batches(const json_t *req, struct arrow_ipc_desc *d, char *err, size_t errlen)
{
	const json_t *bs = json_object_get(req, "batches"), *b, *cols, *c;
	char what[64];
	size_t i, j;
	int rc;

	if (!json_is_array(bs) || json_array_size(bs) > ARROW_IPC_MAX_BATCHES)
		return FAIL("batches must be an array of at most %u batches", ARROW_IPC_MAX_BATCHES);
	if (json_array_size(bs) > 0 && (d->batches = calloc(json_array_size(bs), sizeof *d->batches)) == NULL)
		return -ENOMEM;
	json_array_foreach (bs, i, b) {
		cols = json_object_get(b, "columns");
		if (count(b, "rows", -1, &d->batches[i].rows) != 0)
			return FAIL("batches[%zu].rows must be a count", i);
		if (!json_is_array(cols) || json_array_size(cols) != d->nfields)
			return FAIL("batches[%zu].columns must be an array of %u columns, one per field", i,
			    d->nfields);
		if ((d->batches[i].columns = calloc(d->nfields, sizeof *d->batches[i].columns)) == NULL)
			return -ENOMEM;
		d->nbatches = (unsigned)i + 1;
		json_array_foreach (cols, j, c) {
			snprintf(what, sizeof what, "batches[%zu].columns[%zu]", i, j);
			if ((rc = array(c, &d->batches[i].columns[j], what, err, errlen)) != 0)
				return rc;
		}
	}
	return 0;
}

/* base64 of n bytes as a new JSON string. */
static json_t *
b64(const void *data, size_t n)
{
	char *buf = util_base64(data, n);
	json_t *s = buf != NULL ? json_string(buf) : NULL;

	free(buf);
	return s;
}

/* The offsets of a's buffers as a JSON array. */
static json_t *
offsets(const struct arrow_ipc_array *a)
{
	json_t *o = json_array();
	unsigned k;

	for (k = 0; o != NULL && k < a->nbuffers; k++)
		if (json_array_append_new(o, json_integer((json_int_t)a->buffers[k].offset)) != 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

/* The reply for d laid out as l; NULL when out of memory. */
static json_t *
reply_of(const struct arrow_ipc_desc *d, const struct arrow_ipc_layout *l)
{
	json_t *r, *pieces, *dicts, *bs, *cols;
	unsigned i, j;
	int bad = 0;

	r = json_pack("{s:b, s:I, s:[], s:[], s:[]}", "ok", 1, "nbytes", (json_int_t)l->nbytes, "pieces",
	    "dictionaries", "batches");
	if (r == NULL)
		return NULL;
	pieces = json_object_get(r, "pieces");
	dicts = json_object_get(r, "dictionaries");
	bs = json_object_get(r, "batches");
	for (i = 0; i < l->npieces; i++)
		bad |= json_array_append_new(
			   pieces, json_pack("{s:I, s:o}", "offset", (json_int_t)l->pieces[i].offset, "data",
				       b64(l->pieces[i].data, l->pieces[i].len))) != 0;
	for (i = 0; i < d->ndicts; i++)
		bad |= json_array_append_new(dicts, json_pack("{s:i, s:o}", "field", (int)d->dicts[i].field,
							"buffers", offsets(&d->dicts[i].values))) != 0;
	for (i = 0; i < d->nbatches; i++) {
		bad |= (cols = json_array()) == NULL;
		for (j = 0; cols != NULL && j < d->nfields; j++)
			bad |= json_array_append_new(cols, offsets(&d->batches[i].columns[j])) != 0;
		bad |= json_array_append_new(bs, json_pack("{s:o}", "columns", cols)) != 0;
	}
	/* A piece or offsets array that failed to build is missing: no reply
	 * rather than a wrong one. */
	if (bad || json_array_size(pieces) != l->npieces) {
		json_decref(r);
		return NULL;
	}
	return r;
}

int
arrow_ctl_layout(const json_t *req, json_t **reply, char *err, size_t errlen)
{
	struct arrow_ipc_desc d = { 0 };
	struct arrow_ipc_layout l = { 0 };
	unsigned i;
	int rc;

	*reply = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if ((rc = fields(req, &d, err, errlen)) != 0 || (rc = dictionaries(req, &d, err, errlen)) != 0 ||
	    (rc = batches(req, &d, err, errlen)) != 0)
		goto out;
	if ((rc = arrow_ipc_layout(&d, &l, err, errlen)) != 0) {
		if (rc == -EINVAL && strncmp(err, "arrow_layout", 12) != 0) {
			char why[400];

			snprintf(why, sizeof why, "%s", err);
			FAIL("%s", why);
		}
		goto out;
	}
	if ((*reply = reply_of(&d, &l)) == NULL)
		rc = -ENOMEM;
out:
	if (rc == -ENOMEM && errlen > 0)
		snprintf(err, errlen, "arrow_layout: out of memory");
	arrow_ipc_layout_free(&l);
	/* The names are the request's: not the description's to free. */
	for (i = 0; i < d.nfields; i++)
		d.fields[i].name = NULL;
	arrow_ipc_desc_free(&d);
	return rc;
}
