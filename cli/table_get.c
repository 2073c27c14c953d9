/*
 * table_get: a vineyard::Table's tree (man vineyardfs.7) read back from
 * its metadata and its mapped blobs, for vineyardfs get: as CSV
 * (csv_write_arrays), or as an Arrow IPC file. A packed table's file is
 * its ipc_ blob, sent out as it is (sendfile from the mount); an unpacked one (blob per buffer)
 * is laid out by core's IPC writer and assembled in memory. Each blob is
 * mapped once, however many BufferViews point into it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "core/arrow_ipc.h"

/* The blobs mapped so far, by id. */
struct maps {
	struct {
		char id[VFS_ID_SIZE];
		struct vfs_map m;
	} * v;
	size_t n, cap;
};

/* A table's columns: batches x ncols arrays, dictionaries beside them. */
struct cols {
	size_t ncols, nbatches;
	const char **names;
	struct csv_array *arrays; /* nbatches * ncols */
	struct csv_array *dicts;  /* likewise: a dictionary column's values */
	json_t *fields;		  /* the schema's fields_ */
};

/* A count field: a JSON integer or a decimal string, as Vineyard writes. */
static int
count(const json_t *o, const char *key, uint64_t *n)
{
	const json_t *f = json_object_get(o, key);
	char *end;

	if (json_is_integer(f) && json_integer_value(f) >= 0) {
		*n = (uint64_t)json_integer_value(f);
		return 0;
	}
	if (!json_is_string(f) || *json_string_value(f) < '0' || *json_string_value(f) > '9')
		return -EINVAL;
	errno = 0;
	*n = strtoull(json_string_value(f), &end, 10);
	return *end != '\0' || errno != 0 ? -EINVAL : 0;
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The bytes of buffer member node (a blob or a BufferView; NULL: none). */
static int
buffer(vfs_t *v, struct maps *mp, const json_t *node, const unsigned char **p, size_t *size)
{
	const json_t *blob = node;
	uint64_t off = 0, len = 0;
	const char *id;
	size_t i;
	int rc;

	*p = NULL;
	*size = 0;
	if (node == NULL)
		return 0;
	if (str(node, "typename") != NULL && strcmp(str(node, "typename"), "vineyard::BufferView") == 0) {
		blob = json_object_get(node, "buffer_");
		if (count(node, "offset_", &off) != 0 || count(node, "size_", &len) != 0)
			return cli_fail("a BufferView without offset_ and size_");
	}
	if ((id = str(blob, "id")) == NULL || id[0] != 'b')
		return cli_fail("a buffer that is no blob");
	for (i = 0; i < mp->n && strcmp(mp->v[i].id, id) != 0; i++)
		;
	if (i == mp->n) {
		if (mp->n == mp->cap) {
			size_t cap = mp->cap ? 2 * mp->cap : 16;
			void *nv = realloc(mp->v, cap * sizeof *mp->v);

			if (nv == NULL)
				return cli_fail("out of memory");
			mp->v = nv;
			mp->cap = cap;
		}
		snprintf(mp->v[i].id, VFS_ID_SIZE, "%s", id);
		if ((rc = vfs_map(v, id, NULL, &mp->v[i].m)) != 0)
			return cli_lib_fail(v, id, rc);
		mp->n++;
	}
	if (blob == node)
		len = mp->v[i].m.size;
	if (off > mp->v[i].m.size || len > mp->v[i].m.size - off)
		return cli_fail("blob %s: a view of %llu bytes at %llu past its %zu", id,
		    (unsigned long long)len, (unsigned long long)off, mp->v[i].m.size);
	*p = (const unsigned char *)mp->v[i].m.data + off;
	*size = (size_t)len;
	return 0;
}

/* Array node into a (and its dictionary's values into dict). */
static int
array(vfs_t *v, struct maps *mp, const json_t *node, struct csv_array *a, struct csv_array *dict)
{
	const char *tn = str(node, "typename"), *dt = str(node, "data_type_");
	const json_t *ind = node;
	size_t vsize;
	int rc;

	if (tn == NULL)
		return cli_fail("a column without typename");
	if (strcmp(tn, "vineyard::DictionaryArray") == 0) {
		if (dt == NULL || arrow_type_parse(dt, &a->type) != 0 || !a->type.dictionary)
			return cli_fail("a DictionaryArray without its data_type_");
		ind = json_object_get(node, "indices_");
		if (dict == NULL ||
		    (rc = array(v, mp, json_object_get(node, "dictionary_"), dict, NULL)) != 0)
			return dict == NULL ? cli_fail("a dictionary of dictionaries") : rc;
		a->dictionary = dict;
	} else if (arrow_typename_parse(tn, &a->type) != 0)
		return cli_fail("a column of type %s, not an Arrow array", tn);
	if (count(node, "length_", &a->length) != 0 || count(node, "null_count_", &a->null_count) != 0 ||
	    count(node, "offset_", &a->offset) != 0)
		return cli_fail("a %s without length_, null_count_ and offset_", tn);
	if ((rc = buffer(v, mp, json_object_get(ind, "null_bitmap_"), &a->validity, &a->validity_size)) != 0)
		return rc;
	if (json_object_get(ind, "buffer_offsets_") != NULL) {
		if ((rc = buffer(v, mp, json_object_get(ind, "buffer_offsets_"), &a->values, &vsize)) != 0 ||
		    (rc = buffer(v, mp, json_object_get(ind, "buffer_data_"), &a->data, &a->data_size)) != 0)
			return rc;
	} else if ((rc = buffer(v, mp, json_object_get(ind, "buffer_"), &a->values, &vsize)) != 0)
		return rc;
	a->values_size = vsize;
	return 0;
}

/* The columns of table meta, mapped. */
static int
load(vfs_t *v, struct maps *mp, const json_t *meta, struct cols *c)
{
	const json_t *schema = json_object_get(meta, "schema_"), *fs = json_object_get(schema, "fields_");
	uint64_t nb, nc;
	char key[48];
	size_t b, i;
	int rc;

	c->fields =
	    json_is_string(fs) ? json_loads(json_string_value(fs), 0, NULL) : json_incref((json_t *)fs);
	if (!json_is_array(c->fields) || count(meta, "partitions_-size", &nb) != 0 || nb > 1000000)
		return cli_fail("a Table without its schema_ fields_ or partitions_-size");
	c->ncols = json_array_size(c->fields);
	c->nbatches = (size_t)nb;
	c->names = calloc(c->ncols + 1, sizeof *c->names);
	c->arrays = calloc(c->ncols * c->nbatches + 1, sizeof *c->arrays);
	c->dicts = calloc(c->ncols * c->nbatches + 1, sizeof *c->dicts);
	if (c->names == NULL || c->arrays == NULL || c->dicts == NULL)
		return cli_fail("out of memory");
	for (i = 0; i < c->ncols; i++)
		if ((c->names[i] = str(json_array_get(c->fields, i), "name")) == NULL)
			return cli_fail("schema field %zu has no name", i);
	for (b = 0; b < c->nbatches; b++) {
		const json_t *batch;

		snprintf(key, sizeof key, "partitions_-%zu", b);
		batch = json_object_get(meta, key);
		if (count(batch, "__columns_-size", &nc) != 0 || nc != c->ncols)
			return cli_fail("%s: %s columns, the schema has %zu", key,
			    json_object_get(batch, "__columns_-size") ? "other" : "no", c->ncols);
		for (i = 0; i < c->ncols; i++) {
			size_t k = b * c->ncols + i;

			snprintf(key, sizeof key, "__columns_-%zu", i);
			if ((rc = array(v, mp, json_object_get(batch, key), &c->arrays[k], &c->dicts[k])) !=
			    0)
				return rc;
			c->arrays[k].name = c->names[i];
			c->dicts[k].name = c->names[i];
			if (c->arrays[k].length != c->arrays[b * c->ncols].length)
				return cli_fail("partitions_-%zu: columns of different lengths", b);
		}
	}
	return 0;
}

static int
write_all(int fd, const char *what, const void *src, size_t size)
{
	size_t done = 0;
	ssize_t n;

	while (done < size) {
		if ((n = write(fd, (const char *)src + done, size - done)) < 0) {
			if (errno == EINTR)
				continue;
			return cli_fail("%s: %s", what, strerror(errno));
		}
		done += (size_t)n;
	}
	return 0;
}

/* The blob of member node ipc_ (a packed table's IPC file) to out as it
 * is: sendfile from the blob's file in the mount (read by passthrough, so
 * the kernel moves the tmpfs pages into out with no copy through us); 1
 * when sendfile cannot (old kernel), for the caller to copy from a
 * mapping instead. */
static int
send_blob(vfs_t *v, const json_t *ipc, int out, const char *what)
{
	const char *id = str(ipc, "id");
	char path[4096];
	struct stat st;
	off_t off = 0;
	ssize_t n;
	int fd, rc = 0;

	if (id == NULL || id[0] != 'b')
		return cli_fail("ipc_ is no blob");
	snprintf(path, sizeof path, "%s/blobs/%s", vfs_mount_point(v), id);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		rc = cli_fail("%s: %s", path, strerror(errno));
		goto out;
	}
	while (off < st.st_size) {
		if ((n = sendfile(out, fd, &off, (size_t)(st.st_size - off))) > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && off == 0 && (errno == EINVAL || errno == ENOSYS))
			rc = 1;
		else
			rc = cli_fail("%s: %s", what, n < 0 ? strerror(errno) : "the blob ended early");
		break;
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* An IPC file of c's columns, laid out by the writer, to out. */
static int
write_ipc(const struct cols *c, int out, const char *what)
{
	struct arrow_ipc_desc d = { 0 };
	struct arrow_ipc_layout l = { 0 };
	char err[512];
	unsigned char *img = NULL;
	size_t b, i, k;
	int rc = 0;

	d.nfields = (unsigned)c->ncols;
	d.nbatches = (unsigned)c->nbatches;
	d.fields = calloc(c->ncols + 1, sizeof *d.fields);
	d.dicts = calloc(c->ncols + 1, sizeof *d.dicts);
	d.batches = calloc(c->nbatches + 1, sizeof *d.batches);
	for (b = 0; d.batches != NULL && b < c->nbatches; b++)
		if ((d.batches[b].columns = calloc(c->ncols + 1, sizeof *d.batches[b].columns)) == NULL)
			break;
	if (d.fields == NULL || d.dicts == NULL || d.batches == NULL || b < c->nbatches) {
		rc = cli_fail("out of memory");
		goto out;
	}
	for (i = 0; i < c->ncols; i++) {
		d.fields[i].name = (char *)c->names[i];
		d.fields[i].nullable = 1;
		if (c->nbatches > 0)
			d.fields[i].type = c->arrays[i].type;
		else if (arrow_type_parse(str(json_array_get(c->fields, i), "type"), &d.fields[i].type) !=
			 0) {
			rc = cli_fail("schema field %zu: no type", i);
			goto out;
		}
	}
	for (b = 0; b < c->nbatches; b++) {
		d.batches[b].rows = c->arrays[b * c->ncols].length;
		for (i = 0; i < c->ncols; i++) {
			const struct csv_array *a = &c->arrays[b * c->ncols + i];
			struct arrow_ipc_array *ia = &d.batches[b].columns[i];
			int text = !a->type.dictionary &&
				   (a->type.value.kind == ARROW_STRING || a->type.value.kind == ARROW_BINARY);

			if (a->offset != 0 || (a->dictionary != NULL && a->dictionary->offset != 0)) {
				rc = cli_fail(
				    "column '%s': an array offset_ other than 0 has no IPC form here",
				    a->name);
				goto out;
			}
			ia->length = a->length;
			ia->null_count = a->null_count;
			ia->nbuffers = text ? 3 : 2;
			ia->buffers[0].size = a->null_count ? a->validity_size : 0;
			ia->buffers[1].size = a->values_size;
			ia->buffers[2].size = a->data_size;
			/* One dictionary per field in a file: batch 0's. */
			if (b == 0 && a->type.dictionary) {
				const struct csv_array *dv = a->dictionary;
				struct arrow_ipc_dict *dd = &d.dicts[d.ndicts++];
				int dtext = dv->type.value.kind == ARROW_STRING ||
					    dv->type.value.kind == ARROW_BINARY;

				dd->field = (unsigned)i;
				dd->values = (struct arrow_ipc_array){ .length = dv->length,
					.null_count = dv->null_count,
					.nbuffers = dtext ? 3u : 2u };
				dd->values.buffers[0].size = dv->null_count ? dv->validity_size : 0;
				dd->values.buffers[1].size = dv->values_size;
				dd->values.buffers[2].size = dv->data_size;
			}
		}
	}
	if ((rc = arrow_ipc_layout(&d, &l, err, sizeof err)) != 0) {
		rc = cli_fail("laying out the Arrow file: %s", err);
		goto out;
	}
	if ((img = calloc(1, l.nbytes)) == NULL) {
		rc = cli_fail("out of memory for %llu bytes", (unsigned long long)l.nbytes);
		goto out;
	}
	for (k = 0; k < l.npieces; k++)
		memcpy(img + l.pieces[k].offset, l.pieces[k].data, l.pieces[k].len);
	for (b = 0; b < c->nbatches; b++)
		for (i = 0; i < c->ncols; i++) {
			const struct csv_array *a = &c->arrays[b * c->ncols + i];
			const unsigned char *src[3] = { a->validity, a->values, a->data };
			const struct arrow_ipc_array *ia = &d.batches[b].columns[i];

			for (k = 0; k < ia->nbuffers; k++)
				if (ia->buffers[k].size > 0)
					memcpy(img + ia->buffers[k].offset, src[k], ia->buffers[k].size);
		}
	for (i = 0; i < d.ndicts; i++) {
		const struct csv_array *dv = c->arrays[d.dicts[i].field].dictionary;
		const unsigned char *src[3] = { dv->validity, dv->values, dv->data };

		for (k = 0; k < d.dicts[i].values.nbuffers; k++)
			if (d.dicts[i].values.buffers[k].size > 0)
				memcpy(img + d.dicts[i].values.buffers[k].offset, src[k],
				    d.dicts[i].values.buffers[k].size);
	}
	rc = write_all(out, what, img, l.nbytes);
out:
	free(img);
	arrow_ipc_layout_free(&l);
	for (b = 0; d.batches != NULL && b < c->nbatches; b++)
		free(d.batches[b].columns);
	free(d.batches);
	free(d.dicts);
	free(d.fields);
	return rc;
}

int
table_get(vfs_t *v, const char *ref, const json_t *meta, int out, const char *what, int arrow)
{
	struct maps mp = { 0 };
	struct cols c = { 0 };
	struct progress p;
	char err[512], label[64];
	const unsigned char *ipc;
	size_t i, size;
	int rc;

	/* A packed table's file is there already: its bytes as they are. */
	if (arrow && json_object_get(meta, "ipc_") != NULL) {
		if ((rc = send_blob(v, json_object_get(meta, "ipc_"), out, what)) == 1 &&
		    (rc = buffer(v, &mp, json_object_get(meta, "ipc_"), &ipc, &size)) == 0)
			rc = write_all(out, what, ipc, size);
		goto out;
	}
	if ((rc = load(v, &mp, meta, &c)) != 0)
		goto out;
	if (arrow) {
		rc = write_ipc(&c, out, what);
		goto out;
	}
	snprintf(label, sizeof label, "get %s", ref);
	progress_start(&p, label, json_integer_value(json_object_get(meta, "num_rows_")));
	if (csv_write_arrays_fd(out, c.names, c.ncols, c.arrays, c.nbatches, &p, err, sizeof err) != 0)
		rc = cli_fail("%s: %s", what, err);
	progress_end(&p);
out:
	for (i = 0; i < mp.n; i++)
		vfs_unmap(&mp.v[i].m);
	free(mp.v);
	json_decref(c.fields);
	free(c.names);
	free(c.arrays);
	free(c.dicts);
	return rc;
}
