/*
 * cmd_transfer: the commands that move data in and out of the store. put
 * stores a file (.npy as a Tensor, .csv or .arrow as a packed
 * vineyard::Table (table_put.c), else a Blob) with its bytes copied once
 * into a blob's shared mapping; get writes an object out from its mapped
 * blobs (a Table by table_get.c); stream push puts files one by one into an
 * object stream, stream read follows one. Transfers show a progress line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cmd.h"
#include "cli/csv.h"
#include "cli/npy.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "core/types.h"

#define CHUNK (8u << 20) /* bytes per read(2)/write(2) of a transfer */

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Read exactly size bytes of src into dst, with a progress line. */
static int
read_into(int src, const char *file, char *dst, size_t size, struct progress *p)
{
	size_t done = 0;
	ssize_t n;

	while (done < size) {
		n = read(src, dst + done, size - done < CHUNK ? size - done : CHUNK);
		if (n < 0)
			return cli_fail("%s: %s", file, strerror(errno));
		if (n == 0)
			return cli_fail("%s: shorter than it was (%zu of %zu bytes)", file, done, size);
		done += (size_t)n;
		progress_update(p, done);
	}
	return 0;
}

/* Write size bytes of src to fd, with a progress line. */
static int
write_all(int fd, const char *what, const char *src, size_t size, struct progress *p)
{
	size_t done = 0;
	ssize_t n;

	while (done < size) {
		n = write(fd, src + done, size - done < CHUNK ? size - done : CHUNK);
		if (n < 0)
			return cli_fail("%s: %s", what, strerror(errno));
		done += (size_t)n;
		if (p != NULL)
			progress_update(p, done);
	}
	return 0;
}

/* A new sealed blob holding size bytes of src (from its offset); its id. */
static int
blob_from_fd(vfs_t *v, int src, const char *file, size_t size, vfs_blob_t **b, char id[VFS_ID_SIZE])
{
	struct progress p;
	char label[64];
	void *data;
	int rc;

	if ((rc = vfs_blob_create(v, size, b, &data)) != 0)
		return cli_lib_fail(v, "creating a blob", rc);
	snprintf(label, sizeof label, "put %s", file);
	progress_start(&p, label, size);
	rc = read_into(src, file, data, size, &p);
	progress_end(&p);
	if (rc == 0 && (rc = vfs_blob_seal(v, *b, id)) != 0)
		rc = cli_lib_fail(v, "sealing the blob", rc);
	if (rc != 0) {
		vfs_blob_free(v, *b);
		*b = NULL;
	}
	return rc;
}

/* file.npy -> a Tensor. */
static int
put_npy(vfs_t *v, const struct cli_opts *o, int src, const char *file, off_t fsize, char id[VFS_ID_SIZE])
{
	unsigned char head[4096];
	char err[256], bid[VFS_ID_SIZE], *fields;
	const struct vfs_member m = { "buffer_", bid };
	uint64_t count = 1;
	json_t *shape, *f;
	vfs_blob_t *b;
	struct npy n;
	ssize_t got;
	size_t i;
	int rc;

	got = pread(src, head, sizeof head, 0);
	if (got < 0 || npy_parse(head, (size_t)got, &n, err, sizeof err) != 0)
		return cli_fail("%s: %s", file, got < 0 ? strerror(errno) : err);
	if ((shape = json_array()) == NULL)
		return cli_fail("out of memory");
	for (i = 0; i < n.ndims; i++) {
		count *= n.dims[i];
		json_array_append_new(shape, json_integer((json_int_t)n.dims[i]));
	}
	count *= types_item_size(n.value_type);
	if ((off_t)(count + n.header_len) != fsize) {
		json_decref(shape);
		return cli_fail("%s: %lld bytes, the header says %llu", file, (long long)fsize,
		    (unsigned long long)(count + n.header_len));
	}
	f = json_pack("{s:s, s:o}", "value_type_", n.value_type, "shape_", shape);
	fields = f != NULL ? json_dumps(f, JSON_COMPACT) : NULL;
	json_decref(f);
	if (fields == NULL)
		return cli_fail("out of memory");
	lseek(src, (off_t)n.header_len, SEEK_SET);
	if ((rc = blob_from_fd(v, src, file, count, &b, bid)) == 0) {
		if ((rc = vfs_create(v, "Tensor", fields, &m, 1, o->name, id)) != 0)
			rc = cli_lib_fail(v, "creating the Tensor", rc);
		vfs_blob_free(v, b);
	}
	free(fields);
	return rc;
}

/* file.csv -> a packed Table (as Python's put makes of a DataFrame):
 * its columns typed by csv_read, nulls and text included. */
static int
put_csv(vfs_t *v, const struct cli_opts *o, int src, const char *file, off_t fsize, char id[VFS_ID_SIZE])
{
	struct csv_table t = { 0 };
	char err[512], label[64];
	struct progress p;
	int rc;

	snprintf(label, sizeof label, "read %s", file);
	progress_start(&p, label, (uint64_t)fsize);
	rc = csv_read_fd(src, o->force, o->nforce, &t, &p, err, sizeof err);
	progress_end(&p);
	if (rc != 0)
		return cli_fail("%s: %s", file, err);
	rc = table_put_csv(v, &t, o->name, id);
	csv_table_free(&t);
	return rc;
}

/* Store file as put does; its object's id in id. */
static int
put_file(vfs_t *v, const struct cli_opts *o, const char *file, char id[VFS_ID_SIZE])
{
	char bid[VFS_ID_SIZE];
	const struct vfs_member m = { "buffer_", bid };
	struct stat st;
	vfs_blob_t *b;
	int src, rc;

	if ((src = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_fail("%s: %s", file, strerror(errno));
	if (fstat(src, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(src);
		return cli_fail("%s: not a regular file", file);
	}
	if (ends_with(file, ".npy"))
		rc = put_npy(v, o, src, file, st.st_size, id);
	else if (ends_with(file, ".csv"))
		rc = put_csv(v, o, src, file, st.st_size, id);
	else if (ends_with(file, ".arrow") || ends_with(file, ".feather"))
		rc = table_put_ipc(v, src, file, (size_t)st.st_size, o->name, id);
	else if ((rc = blob_from_fd(v, src, file, (size_t)st.st_size, &b, bid)) == 0) {
		if ((rc = vfs_create(v, "Blob", NULL, &m, 1, o->name, id)) != 0)
			rc = cli_lib_fail(v, "creating the Blob object", rc);
		vfs_blob_free(v, b);
	}
	close(src);
	return rc;
}

static int
put_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	char id[VFS_ID_SIZE];
	int rc;

	(void)self;
	(void)n;
	/* A --type that forces nothing would be ignored without a word. */
	if (o->type != NULL && (o->nforce == 0 || !ends_with(args[0], ".csv")))
		return cli_fail("--type %s: put takes --type COLUMN=TYPE, for a .csv file", o->type);
	if ((rc = put_file(v, o, args[0], id)) != 0)
		return rc;
	if (o->json)
		printf("{\"ok\":true,\"id\":\"%s\"}\n", id);
	else
		printf("%s\n", id);
	return 0;
}

/* An array field, which Vineyard may also write as a string. */
static json_t *
array_field(const json_t *meta, const char *key)
{
	const json_t *a = json_object_get(meta, key);

	if (json_is_string(a))
		return json_loads(json_string_value(a), 0, NULL);
	return json_incref((json_t *)a);
}

/* A mapped blob to out, with a progress line when it is big. */
static int
map_out(vfs_t *v, const char *ref, const char *member, int out, const char *what)
{
	struct vfs_map m;
	struct progress p;
	char label[64];
	int rc;

	if ((rc = vfs_map(v, ref, member, &m)) != 0)
		return cli_lib_fail(v, ref, rc);
	snprintf(label, sizeof label, "get %s", ref);
	progress_start(&p, label, m.size);
	rc = write_all(out, what, m.data, m.size, &p);
	progress_end(&p);
	vfs_unmap(&m);
	return rc;
}

static int
get_tensor(vfs_t *v, const char *ref, int out, const char *what)
{
	struct vfs_tensor t;
	struct progress p;
	char head[1024], label[64];
	struct npy n;
	int hl, rc;

	if ((rc = vfs_get_tensor(v, ref, &t)) != 0)
		return cli_lib_fail(v, ref, rc);
	memset(&n, 0, sizeof n);
	snprintf(n.value_type, sizeof n.value_type, "%s", t.value_type);
	n.ndims = t.ndim;
	memcpy(n.dims, t.shape, t.ndim * sizeof t.shape[0]);
	if ((hl = npy_header(&n, head, sizeof head)) < 0 || write(out, head, (size_t)hl) != hl)
		rc = cli_fail("%s: cannot write the .npy header", what);
	else {
		snprintf(label, sizeof label, "get %s", ref);
		progress_start(&p, label, t.map.size);
		rc = write_all(out, what, t.map.data, t.map.size, &p);
		progress_end(&p);
	}
	vfs_unmap(&t.map);
	return rc;
}

/* A DataFrame as CSV: its columns mapped, printed row by row. */
static int
get_csv(vfs_t *v, const char *ref, const json_t *meta, int out, const char *what)
{
	json_t *names = array_field(meta, "columns_"), *name;
	struct csv_column *cols = NULL;
	struct vfs_map *maps = NULL;
	uint64_t rows = 0, bytes = 0;
	char err[512], member[PATH_MAX], label[64];
	struct progress p;
	size_t i, n = json_array_size(names), mapped = 0;
	int rc = 0;

	cols = calloc(n ? n : 1, sizeof *cols);
	maps = calloc(n ? n : 1, sizeof *maps);
	if (!json_is_array(names) || cols == NULL || maps == NULL) {
		rc = cli_fail("%s: %s", ref, cols && maps ? "a DataFrame without columns_" : "out of memory");
		goto out;
	}
	json_array_foreach (names, i, name) {
		const json_t *col = json_object_get(meta, json_string_value(name));
		json_t *shape = array_field(col, "shape_");
		const char *vt = json_string_value(json_object_get(col, "value_type_"));

		if (!json_is_string(name) || vt == NULL || json_array_size(shape) != 1) {
			json_decref(shape);
			rc = cli_fail("%s: column %zu is not a 1-D Tensor", ref, i);
			goto out;
		}
		rows = (uint64_t)json_integer_value(json_array_get(shape, 0));
		json_decref(shape);
		snprintf(member, sizeof member, "%s/buffer_", json_string_value(name));
		if ((rc = vfs_map(v, ref, member, &maps[i])) != 0) {
			rc = cli_lib_fail(v, member, rc);
			goto out;
		}
		mapped++;
		if (maps[i].size != rows * types_item_size(vt)) {
			rc = cli_fail("%s: column %s holds %zu bytes for %llu rows", ref,
			    json_string_value(name), maps[i].size, (unsigned long long)rows);
			goto out;
		}
		cols[i].name = json_string_value(name);
		cols[i].value_type = vt;
		cols[i].data = maps[i].data;
		bytes += maps[i].size;
	}
	snprintf(label, sizeof label, "get %s", ref);
	progress_start(&p, label, bytes);
	if (csv_write_fd(out, cols, n, rows, &p, err, sizeof err) != 0)
		rc = cli_fail("%s: %s", what, err);
	progress_end(&p);
out:
	for (i = 0; i < mapped; i++)
		vfs_unmap(&maps[i]);
	free(maps);
	free(cols);
	json_decref(names);
	return rc;
}

static int
get_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	const char *what = o->out != NULL ? o->out : "stdout", *type, *ref = args[0];
	char id[VFS_ID_SIZE];
	json_t *meta;
	int out = STDOUT_FILENO, rc;

	(void)self;
	(void)n;
	if (o->wait && (rc = vfs_wait(v, ref, -1, id)) != 0)
		return cli_lib_fail(v, ref, rc);
	if ((meta = cli_meta(v, ref)) == NULL)
		return 1;
	type = json_string_value(json_object_get(meta, "typename"));
	if (o->out != NULL && (out = open(o->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		json_decref(meta);
		return cli_fail("%s: %s", o->out, strerror(errno));
	}
	if (type != NULL && strcmp(type, "Tensor") == 0)
		rc = get_tensor(v, ref, out, what);
	else if (type != NULL && strcmp(type, "DataFrame") == 0)
		rc = get_csv(v, ref, meta, out, what);
	else if (type != NULL && strcmp(type, "vineyard::Table") == 0)
		rc = table_get(v, ref, meta, out, what, o->out != NULL && ends_with(o->out, ".arrow"));
	else if (type != NULL && strcmp(type, "Blob") == 0)
		rc = map_out(v, ref, "buffer_", out, what);
	else {
		char *text = json_dumps(meta, JSON_INDENT(2));

		rc = text == NULL || write_all(out, what, text, strlen(text), NULL) != 0 ||
		     write_all(out, what, "\n", 1, NULL) != 0;
		free(text);
	}
	if (out != STDOUT_FILENO && close(out) != 0 && rc == 0)
		rc = cli_fail("%s: %s", o->out, strerror(errno));
	json_decref(meta);
	return rc;
}

/* stream push NAME FILE...: put each file and push it, then close the
 * stream (failed, if a file could not be put). With --ids the arguments
 * are existing objects (names or ids). */
static int
stream_push(vfs_t *v, const struct cli_opts *o, const char *name, char **args, int n)
{
	const struct cli_opts unnamed = { .json = o->json };
	char id[VFS_ID_SIZE], why[300];
	vfs_stream_t *st;
	int i, rc;

	if ((rc = vfs_stream_open(v, name, &st)) != 0)
		return cli_lib_fail(v, name, rc);
	for (i = 0; i < n; i++) {
		if (o->ids && (rc = vfs_resolve(v, args[i], id)) != 0)
			cli_lib_fail(v, args[i], rc);
		else if (!o->ids && put_file(v, &unnamed, args[i], id) != 0)
			rc = 1;
		else if ((rc = vfs_stream_push(v, st, id)) < 0)
			cli_lib_fail(v, args[i], rc);
		else
			continue;
		snprintf(why, sizeof why, "vineyardfs stream push: %s could not be pushed", args[i]);
		vfs_stream_close(v, st, why, NULL);
		return 1;
	}
	if ((rc = vfs_stream_close(v, st, NULL, id)) != 0)
		return cli_lib_fail(v, name, rc);
	printf("%s\n", id);
	return 0;
}

/* stream read NAME: "index id" per object as the producer pushes it. */
static int
stream_read(vfs_t *v, const char *name)
{
	char id[VFS_ID_SIZE];
	unsigned i;
	int rc;

	for (i = 0;; i++) {
		if ((rc = vfs_stream_next(v, name, i, -1, id)) == 0)
			return 0;
		if (rc < 0)
			return cli_lib_fail(v, name, rc);
		printf("%u %s\n", i, id);
		fflush(stdout);
	}
}

static int
stream_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	if (strcmp(args[0], "push") == 0)
		return stream_push(v, o, args[1], args + 2, n - 2);
	if (n == 2 && strcmp(args[0], "read") == 0)
		return stream_read(v, args[1]);
	return cli_usage(self, stderr);
}

const struct cli_cmd cmd_put_entry = {
	.name = "put",
	.usage = "FILE [--name NAME] [--type COLUMN=TYPE]...",
	.summary = "store a file (.npy: a Tensor, .csv or .arrow: a Table)",
	.min_args = 1,
	.max_args = 1,
	.exec = put_exec,
};

const struct cli_cmd cmd_get_entry = {
	.name = "get",
	.usage = "NAME|ID [-o FILE] [--wait]",
	.summary = "write an object out (Tensor: .npy, DataFrame: CSV, Table: CSV or -o x.arrow)",
	.min_args = 1,
	.max_args = 1,
	.exec = get_exec,
};

const struct cli_cmd cmd_stream_entry = {
	.name = "stream",
	.usage = "push NAME [--ids] FILE|REF...\nread NAME",
	.summary = "produce an object stream, or follow one",
	.min_args = 2,
	.max_args = -1,
	.exec = stream_exec,
};
