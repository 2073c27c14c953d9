/*
 * cli: see cli.h. Every command goes through libvineyardfs (the mount's
 * files and control file). The mount comes from --mount, VINEYARDFS_MOUNT
 * or /vineyard. Errors print "vineyardfs CMD: what: why" and exit 1; usage
 * errors exit 2.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/csv.h"
#include "cli/npy.h"
#include "cli/progress.h"
#include "core/types.h"
#include "core/util.h"
#include "include/vineyardfs.h"

#define CHUNK (8u << 20) /* bytes per read(2)/write(2) of a transfer */

struct opts {
	const char *name;
	const char *out;
	const char *type; /* ls --type */
	int json;
	int all;
	int wait; /* get --wait: until the name names a sealed object */
	int ids;  /* stream push --ids: the arguments are objects */
};

static const char *cmd = "";

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vineyardfs %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* The library's reason for the failure of call rc. */
static int
lib_die(vfs_t *v, const char *what, int rc)
{
	const char *why = vfs_error(v);

	return die("%s: %s", what, *why != '\0' ? why : strerror(-rc));
}

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
			return die("%s: %s", file, strerror(errno));
		if (n == 0)
			return die("%s: shorter than it was (%zu of %zu bytes)", file, done, size);
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
			return die("%s: %s", what, strerror(errno));
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
		return lib_die(v, "creating a blob", rc);
	snprintf(label, sizeof label, "put %s", file);
	progress_start(&p, label, size);
	rc = read_into(src, file, data, size, &p);
	progress_end(&p);
	if (rc == 0 && (rc = vfs_blob_seal(v, *b, id)) != 0)
		rc = lib_die(v, "sealing the blob", rc);
	if (rc != 0) {
		vfs_blob_free(v, *b);
		*b = NULL;
	}
	return rc;
}

/* file.npy -> a Tensor. */
static int
put_npy(vfs_t *v, const struct opts *o, int src, const char *file, off_t fsize, char id[VFS_ID_SIZE])
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
		return die("%s: %s", file, got < 0 ? strerror(errno) : err);
	if ((shape = json_array()) == NULL)
		return die("out of memory");
	for (i = 0; i < n.ndims; i++) {
		count *= n.dims[i];
		json_array_append_new(shape, json_integer((json_int_t)n.dims[i]));
	}
	count *= types_item_size(n.value_type);
	if ((off_t)(count + n.header_len) != fsize) {
		json_decref(shape);
		return die("%s: %lld bytes, the header says %llu", file, (long long)fsize,
		    (unsigned long long)(count + n.header_len));
	}
	f = json_pack("{s:s, s:o}", "value_type_", n.value_type, "shape_", shape);
	fields = f != NULL ? json_dumps(f, JSON_COMPACT) : NULL;
	json_decref(f);
	if (fields == NULL)
		return die("out of memory");
	lseek(src, (off_t)n.header_len, SEEK_SET);
	if ((rc = blob_from_fd(v, src, file, count, &b, bid)) == 0) {
		if ((rc = vfs_create(v, "Tensor", fields, &m, 1, o->name, id)) != 0)
			rc = lib_die(v, "creating the Tensor", rc);
		vfs_blob_free(v, b);
	}
	free(fields);
	return rc;
}

/* file.csv -> a DataFrame of one Tensor per column. */
static int
put_csv(vfs_t *v, const struct opts *o, int src, const char *file, off_t fsize, char id[VFS_ID_SIZE])
{
	struct csv_table t = { 0 };
	struct vfs_member *ms = NULL;
	struct {
		char s[VFS_ID_SIZE];
	} *ids = NULL; /* of the columns made */
	char err[512], label[64], *fields = NULL;
	struct progress p;
	json_t *cols, *f;
	size_t i, made = 0;
	int rc;

	snprintf(label, sizeof label, "read %s", file);
	progress_start(&p, label, (uint64_t)fsize);
	rc = csv_read_fd(src, &t, &p, err, sizeof err);
	progress_end(&p);
	if (rc != 0)
		return die("%s: %s", file, err);
	ms = calloc(t.ncols, sizeof *ms);
	ids = calloc(t.ncols, sizeof *ids);
	cols = json_array();
	if (ms == NULL || ids == NULL || cols == NULL) {
		rc = die("out of memory");
		goto out;
	}
	for (i = 0; i < t.ncols; i++)
		json_array_append_new(cols, json_string(t.cols[i].name));
	f = json_pack("{s:O}", "columns_", cols);
	fields = f != NULL ? json_dumps(f, JSON_COMPACT) : NULL;
	json_decref(f);
	if (fields == NULL) {
		rc = die("out of memory");
		goto out;
	}
	for (made = 0; made < t.ncols; made++) {
		const uint64_t rows = t.nrows;

		if ((rc = vfs_put_tensor(
			 v, t.cols[made].value_type, 1, &rows, t.cols[made].data, NULL, ids[made].s)) != 0) {
			rc = lib_die(v, "storing a column", rc);
			goto out;
		}
		ms[made].name = t.cols[made].name;
		ms[made].id = ids[made].s;
	}
	if ((rc = vfs_create(v, "DataFrame", fields, ms, t.ncols, o->name, id)) != 0)
		rc = lib_die(v, "creating the DataFrame", rc);
out:
	if (rc != 0) /* nothing half-made stays */
		for (i = 0; i < made; i++)
			vfs_delete(v, ids[i].s);
	json_decref(cols);
	free(fields);
	free(ids);
	free(ms);
	csv_table_free(&t);
	return rc;
}

/* Store file as put does; its object's id in id. */
static int
put_file(vfs_t *v, const struct opts *o, const char *file, char id[VFS_ID_SIZE])
{
	char bid[VFS_ID_SIZE];
	const struct vfs_member m = { "buffer_", bid };
	struct stat st;
	vfs_blob_t *b;
	int src, rc;

	if ((src = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return die("%s: %s", file, strerror(errno));
	if (fstat(src, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(src);
		return die("%s: not a regular file", file);
	}
	if (ends_with(file, ".npy"))
		rc = put_npy(v, o, src, file, st.st_size, id);
	else if (ends_with(file, ".csv"))
		rc = put_csv(v, o, src, file, st.st_size, id);
	else if ((rc = blob_from_fd(v, src, file, (size_t)st.st_size, &b, bid)) == 0) {
		if ((rc = vfs_create(v, "Blob", NULL, &m, 1, o->name, id)) != 0)
			rc = lib_die(v, "creating the Blob object", rc);
		vfs_blob_free(v, b);
	}
	close(src);
	return rc;
}

static int
cmd_put(vfs_t *v, const struct opts *o, const char *file)
{
	char id[VFS_ID_SIZE];
	int rc;

	if ((rc = put_file(v, o, file, id)) != 0)
		return rc;
	if (o->json)
		printf("{\"ok\":true,\"id\":\"%s\"}\n", id);
	else
		printf("%s\n", id);
	return 0;
}

static json_t *
load_meta(vfs_t *v, const char *ref)
{
	json_t *m;
	char *text;
	int rc;

	if ((rc = vfs_meta(v, ref, &text)) != 0) {
		lib_die(v, ref, rc);
		return NULL;
	}
	if ((m = json_loads(text, 0, NULL)) == NULL)
		die("%s: unreadable metadata", ref);
	free(text);
	return m;
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
		return lib_die(v, ref, rc);
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
		return lib_die(v, ref, rc);
	memset(&n, 0, sizeof n);
	snprintf(n.value_type, sizeof n.value_type, "%s", t.value_type);
	n.ndims = t.ndim;
	memcpy(n.dims, t.shape, t.ndim * sizeof t.shape[0]);
	if ((hl = npy_header(&n, head, sizeof head)) < 0 || write(out, head, (size_t)hl) != hl)
		rc = die("%s: cannot write the .npy header", what);
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
		rc = die("%s: %s", ref, cols && maps ? "a DataFrame without columns_" : "out of memory");
		goto out;
	}
	json_array_foreach (names, i, name) {
		const json_t *col = json_object_get(meta, json_string_value(name));
		json_t *shape = array_field(col, "shape_");
		const char *vt = json_string_value(json_object_get(col, "value_type_"));

		if (!json_is_string(name) || vt == NULL || json_array_size(shape) != 1) {
			json_decref(shape);
			rc = die("%s: column %zu is not a 1-D Tensor", ref, i);
			goto out;
		}
		rows = (uint64_t)json_integer_value(json_array_get(shape, 0));
		json_decref(shape);
		snprintf(member, sizeof member, "%s/buffer_", json_string_value(name));
		if ((rc = vfs_map(v, ref, member, &maps[i])) != 0) {
			rc = lib_die(v, member, rc);
			goto out;
		}
		mapped++;
		if (maps[i].size != rows * types_item_size(vt)) {
			rc = die("%s: column %s holds %zu bytes for %llu rows", ref, json_string_value(name),
			    maps[i].size, (unsigned long long)rows);
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
		rc = die("%s: %s", what, err);
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
cmd_get(vfs_t *v, const struct opts *o, const char *ref)
{
	const char *what = o->out != NULL ? o->out : "stdout", *type;
	char id[VFS_ID_SIZE];
	json_t *meta;
	int out = STDOUT_FILENO, rc;

	if (o->wait && (rc = vfs_wait(v, ref, -1, id)) != 0)
		return lib_die(v, ref, rc);
	if ((meta = load_meta(v, ref)) == NULL)
		return 1;
	type = json_string_value(json_object_get(meta, "typename"));
	if (o->out != NULL && (out = open(o->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		json_decref(meta);
		return die("%s: %s", o->out, strerror(errno));
	}
	if (type != NULL && strcmp(type, "Tensor") == 0)
		rc = get_tensor(v, ref, out, what);
	else if (type != NULL && strcmp(type, "DataFrame") == 0)
		rc = get_csv(v, ref, meta, out, what);
	else if (type != NULL && strcmp(type, "Blob") == 0)
		rc = map_out(v, ref, "buffer_", out, what);
	else {
		char *text = json_dumps(meta, JSON_INDENT(2));

		rc = text == NULL || write_all(out, what, text, strlen(text), NULL) != 0 ||
		     write_all(out, what, "\n", 1, NULL) != 0;
		free(text);
	}
	if (out != STDOUT_FILENO && close(out) != 0 && rc == 0)
		rc = die("%s: %s", o->out, strerror(errno));
	json_decref(meta);
	return rc;
}

static int
cmd_stat(vfs_t *v, const struct opts *o, const char *ref)
{
	json_t *meta = load_meta(v, ref);
	char *text;

	if (meta == NULL)
		return 1;
	text = json_dumps(meta, o->json ? JSON_COMPACT : JSON_INDENT(2));
	printf("%s\n", text ? text : "");
	free(text);
	json_decref(meta);
	return 0;
}

/* What ls prints per object, and its filters. */
struct ls_ctx {
	vfs_t *v;
	const struct opts *o;
	const char *pattern;
	json_t *rows;
};

/* One line (or JSON row) of ls: name, type, bytes, owner, id. */
static int
ls_one(void *arg, const char *name, const char *id)
{
	struct ls_ctx *c = arg;
	char owner[64], dir[PATH_MAX];
	struct passwd *pw;
	struct stat st;
	const char *type;
	json_int_t nbytes;
	json_t *meta;

	if (c->pattern != NULL && (name == NULL || fnmatch(c->pattern, name, 0) != 0))
		return 0;
	if ((meta = load_meta(c->v, id)) == NULL)
		return 0; /* deleted meanwhile */
	type = json_string_value(json_object_get(meta, "typename"));
	if (c->o->type != NULL && (type == NULL || fnmatch(c->o->type, type, 0) != 0)) {
		json_decref(meta);
		return 0;
	}
	nbytes = json_integer_value(json_object_get(meta, "nbytes"));
	snprintf(dir, sizeof dir, "%s/objects/%s", vfs_mount_point(c->v), id);
	if (stat(dir, &st) == 0 && (pw = getpwuid(st.st_uid)) != NULL)
		snprintf(owner, sizeof owner, "%s", pw->pw_name);
	else
		snprintf(owner, sizeof owner, "%u", (unsigned)st.st_uid);
	if (c->o->json)
		json_array_append_new(
		    c->rows, json_pack("{s:s?, s:s, s:s, s:I, s:s}", "name", name, "id", id, "typename",
				 type ? type : "", "nbytes", nbytes, "owner", owner));
	else
		printf("%-20s %-10s %12lld %-10s %s\n", name ? name : "-", type ? type : "?",
		    (long long)nbytes, owner, id);
	json_decref(meta);
	return 0;
}

static int
cmd_ls(vfs_t *v, const struct opts *o, const char *pattern)
{
	struct ls_ctx c = { v, o, pattern, json_array() };
	char path[PATH_MAX];
	struct dirent *de;
	int rc = 0;
	DIR *d;

	if (!o->json)
		printf("%-20s %-10s %12s %-10s %s\n", "NAME", "TYPE", "BYTES", "OWNER", "ID");
	if (!o->all)
		rc = vfs_list(v, ls_one, &c);
	else {
		/* Every object, named or not, by id. */
		snprintf(path, sizeof path, "%s/objects", vfs_mount_point(v));
		if ((d = opendir(path)) == NULL)
			rc = die("%s: %s", path, strerror(errno));
		else {
			while ((de = readdir(d)) != NULL)
				if (de->d_name[0] == 'o')
					ls_one(&c, NULL, de->d_name);
			closedir(d);
		}
	}
	if (rc < 0)
		rc = lib_die(v, "names", rc);
	if (o->json && rc == 0) {
		json_dumpf(c.rows, stdout, JSON_COMPACT);
		putchar('\n');
	}
	json_decref(c.rows);
	return rc;
}

/* Print a metadata tree's members, indented by depth. */
static void
tree_print(const char *label, const json_t *m, int depth)
{
	const char *key, *id = json_string_value(json_object_get(m, "id")),
			 *type = json_string_value(json_object_get(m, "typename"));
	json_t *val;

	printf("%*s%s %s %s, %lld bytes\n", depth * 2, "", label, id ? id : "?", type ? type : "?",
	    (long long)json_integer_value(json_object_get(m, "nbytes")));
	json_object_foreach ((json_t *)m, key, val) {
		if (json_is_object(val) && json_object_get(val, "id") != NULL)
			tree_print(key, val, depth + 1);
	}
}

static int
cmd_tree(vfs_t *v, const char *ref)
{
	json_t *meta = load_meta(v, ref);

	if (meta == NULL)
		return 1;
	tree_print(ref, meta, 0);
	json_decref(meta);
	return 0;
}

/* stream push NAME FILE...: put each file and push it, then close the
 * stream (failed, if a file could not be put). With --ids the arguments
 * are existing objects (names or ids). */
static int
stream_push(vfs_t *v, const struct opts *o, const char *name, char **args, int n)
{
	const struct opts unnamed = { .json = o->json };
	char id[VFS_ID_SIZE], why[300];
	vfs_stream_t *st;
	int i, rc;

	if ((rc = vfs_stream_open(v, name, &st)) != 0)
		return lib_die(v, name, rc);
	for (i = 0; i < n; i++) {
		if (o->ids && (rc = vfs_resolve(v, args[i], id)) != 0)
			lib_die(v, args[i], rc);
		else if (!o->ids && put_file(v, &unnamed, args[i], id) != 0)
			rc = 1;
		else if ((rc = vfs_stream_push(v, st, id)) < 0)
			lib_die(v, args[i], rc);
		else
			continue;
		snprintf(why, sizeof why, "vineyardfs stream push: %s could not be pushed", args[i]);
		vfs_stream_close(v, st, why, NULL);
		return 1;
	}
	if ((rc = vfs_stream_close(v, st, NULL, id)) != 0)
		return lib_die(v, name, rc);
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
			return lib_die(v, name, rc);
		printf("%u %s\n", i, id);
		fflush(stdout);
	}
}

static int
cmd_stream(vfs_t *v, const struct opts *o, char **args, int n)
{
	if (n >= 2 && strcmp(args[0], "push") == 0)
		return stream_push(v, o, args[1], args + 2, n - 2);
	if (n == 2 && strcmp(args[0], "read") == 0)
		return stream_read(v, args[1]);
	fprintf(stderr, "usage: vineyardfs stream push NAME [--ids] FILE|REF...\n"
			"       vineyardfs stream read NAME\n");
	return 2;
}

/* The progress line of a snapshot: the daemon's counters in
 * .vineyardfs/stats, read while the request waits for its reply. */
struct snap_watch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done; /* the reply came */
	char stats[PATH_MAX];
	const char *label;
};

/* A value of the stats file, or 0. */
static uint64_t
stats_value(FILE *f, const char *key)
{
	char line[256];
	size_t n = strlen(key);

	rewind(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ' ')
			return strtoull(line + n + 1, NULL, 10);
	return 0;
}

static void *
snap_watch(void *arg)
{
	struct snap_watch *w = arg;
	struct progress p;
	struct timespec until;
	uint64_t total = 0, done;
	FILE *f;

	pthread_mutex_lock(&w->lock);
	while (!w->done) {
		pthread_mutex_unlock(&w->lock);
		if ((f = fopen(w->stats, "r")) != NULL) {
			if (stats_value(f, "snapshot_running") == 1) {
				done = stats_value(f, "snapshot_bytes_done");
				if (total == 0 && (total = stats_value(f, "snapshot_bytes_total")) > 0)
					progress_start(&p, w->label, total);
				if (total > 0)
					progress_update(&p, done);
			}
			fclose(f);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&w->lock);
		if (!w->done)
			pthread_cond_timedwait(&w->cond, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	if (total > 0) {
		progress_update(&p, total);
		progress_end(&p);
	}
	return NULL;
}

/* snapshot create DIR: the daemon writes it (see vineyardfs(8)). */
static int
cmd_snapshot(vfs_t *v, const struct opts *o, char **args, int n)
{
	struct snap_watch w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", "snapshot" };
	char dir[PATH_MAX], cwd[PATH_MAX], *text = NULL, *reply = NULL;
	json_t *req, *r;
	pthread_t th;
	int rc, watching;

	if (n != 2 || strcmp(args[0], "create") != 0) {
		fprintf(stderr, "usage: vineyardfs snapshot create DIR\n");
		return 2;
	}
	/* The daemon resolves nothing: give it an absolute path. */
	if (realpath(args[1], dir) == NULL) {
		if (errno != ENOENT)
			return die("%s: %s", args[1], strerror(errno));
		if (args[1][0] == '/')
			snprintf(dir, sizeof dir, "%s", args[1]);
		else if (getcwd(cwd, sizeof cwd) == NULL ||
			 snprintf(dir, sizeof dir, "%s/%s", cwd, args[1]) >= (int)sizeof dir)
			return die("%s: cannot make it an absolute path", args[1]);
	}
	req = json_pack("{s:s, s:s}", "op", "snapshot", "dir", dir);
	text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (text == NULL)
		return die("out of memory");
	snprintf(w.stats, sizeof w.stats, "%s/.vineyardfs/stats", vfs_mount_point(v));
	watching = isatty(STDERR_FILENO) && pthread_create(&th, NULL, snap_watch, &w) == 0;
	rc = vfs_request(v, text, &reply);
	free(text);
	if (watching) {
		pthread_mutex_lock(&w.lock);
		w.done = 1;
		pthread_cond_signal(&w.cond);
		pthread_mutex_unlock(&w.lock);
		pthread_join(th, NULL);
	}
	if (rc != 0) {
		free(reply);
		return lib_die(v, dir, rc);
	}
	if (o->json)
		printf("%s\n", reply);
	else if ((r = json_loads(reply, 0, NULL)) != NULL) {
		char copied[32], skipped[32];

		util_format_size(
		    (uint64_t)json_integer_value(json_object_get(r, "bytes_copied")), copied, sizeof copied);
		util_format_size((uint64_t)json_integer_value(json_object_get(r, "bytes_skipped")), skipped,
		    sizeof skipped);
		printf(
		    "%s: %lld objects, %lld names, %lld blobs; copied %lld blobs (%s), %lld already there (%s), "
		    "removed %lld unused, in %.1f s\n",
		    dir, (long long)json_integer_value(json_object_get(r, "objects")),
		    (long long)json_integer_value(json_object_get(r, "names")),
		    (long long)json_integer_value(json_object_get(r, "blobs")),
		    (long long)json_integer_value(json_object_get(r, "blobs_copied")), copied,
		    (long long)json_integer_value(json_object_get(r, "blobs_skipped")), skipped,
		    (long long)json_integer_value(json_object_get(r, "blobs_removed")),
		    json_real_value(json_object_get(r, "seconds")));
		json_decref(r);
	}
	free(reply);
	return 0;
}

/* pin, unpin, evict, load NAME|ID: where an object's blobs live. */
static int
cmd_residence(vfs_t *v, const struct opts *o, const char *ref)
{
	char id[VFS_ID_SIZE], text[128], size[32], *reply = NULL;
	json_t *r;
	int rc;

	if ((rc = vfs_resolve(v, ref, id)) != 0)
		return lib_die(v, ref, rc);
	snprintf(text, sizeof text, "{\"op\":\"%s\",\"id\":\"%s\"}", cmd, id);
	if ((rc = vfs_request(v, text, &reply)) != 0) {
		free(reply);
		return lib_die(v, ref, rc);
	}
	if (o->json)
		printf("%s\n", reply);
	else if ((r = json_loads(reply, 0, NULL)) != NULL) {
		util_format_size(
		    (uint64_t)json_integer_value(json_object_get(r, "bytes")), size, sizeof size);
		printf("%s: %s %lld blobs (%s)\n", ref,
		    strcmp(cmd, "pin") == 0	? "pinned"
		    : strcmp(cmd, "unpin") == 0 ? "unpinned"
		    : strcmp(cmd, "evict") == 0 ? "evicted"
						: "loaded",
		    (long long)json_integer_value(json_object_get(r, "blobs")), size);
		json_decref(r);
	}
	free(reply);
	return 0;
}

/* stat without an argument: the store's memory, spill and counters, from
 * .vineyardfs/stats ("key value" lines; --json: one object). */
static int
cmd_store_stat(vfs_t *v, const struct opts *o)
{
	static const char *const sizes[][2] = {
		{ "memory_limit_bytes", "memory limit" },
		{ "memory_used_bytes", "memory in use" },
		{ "bytes_sealed", "sealed bytes" },
		{ "bytes_in_memory", "  in memory" },
		{ "bytes_on_disk_only", "  on disk only" },
		{ "bytes_spilled", "  with a spill copy" },
		{ "bytes_pinned", "  pinned" },
		{ "bytes_releasing", "evicted, memory being released" },
	};
	char path[PATH_MAX], line[512], size[32];
	json_t *all = json_object();
	FILE *f;
	size_t i;

	snprintf(path, sizeof path, "%s/.vineyardfs/stats", vfs_mount_point(v));
	if (all == NULL || (f = fopen(path, "r")) == NULL) {
		json_decref(all);
		return die("%s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *sp = strchr(line, ' '), *end;
		unsigned long long n;

		line[strcspn(line, "\n")] = '\0';
		if (sp == NULL)
			continue;
		*sp++ = '\0';
		errno = 0;
		n = strtoull(sp, &end, 10);
		json_object_set_new(all, line,
		    *sp != '\0' && *end == '\0' && errno == 0 ? json_integer((json_int_t)n)
							      : json_string(sp));
	}
	fclose(f);
	if (o->json) {
		char *text = json_dumps(all, JSON_COMPACT);

		printf("%s\n", text ? text : "{}");
		free(text);
		json_decref(all);
		return 0;
	}
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		util_format_size(
		    (uint64_t)json_integer_value(json_object_get(all, sizes[i][0])), size, sizeof size);
		printf("%-20s %s\n", sizes[i][1], size);
	}
	printf("%-20s %s\n", "spill directory", json_string_value(json_object_get(all, "spill_dir")));
	if (json_is_integer(json_object_get(all, "spill_high_bytes"))) {
		char low[32];

		util_format_size((uint64_t)json_integer_value(json_object_get(all, "spill_high_bytes")), size,
		    sizeof size);
		util_format_size(
		    (uint64_t)json_integer_value(json_object_get(all, "spill_low_bytes")), low, sizeof low);
		printf("%-20s above %s, down to %s\n", "spill", size, low);
	}
	for (i = 0; i < 2; i++) {
		const char *what = i == 0 ? "spill" : "reload";
		char key[64], rate[32];

		snprintf(key, sizeof key, "%s_bytes", what);
		util_format_size((uint64_t)json_integer_value(json_object_get(all, key)), size, sizeof size);
		snprintf(key, sizeof key, "%s_bytes_per_second", what);
		util_format_size((uint64_t)json_integer_value(json_object_get(all, key)), rate, sizeof rate);
		snprintf(key, sizeof key, "%s_errors", what);
		printf("%-20s %lld (%s, %s/s), %lld errors\n", i == 0 ? "spills" : "reloads",
		    (long long)json_integer_value(json_object_get(all, i == 0 ? "spills" : "reloads")), size,
		    rate, (long long)json_integer_value(json_object_get(all, key)));
	}
	printf("%-20s %lld\n", "evictions", (long long)json_integer_value(json_object_get(all, "evictions")));
	printf("%-20s %lld objects, %lld names, %lld blobs\n", "store",
	    (long long)json_integer_value(json_object_get(all, "objects")),
	    (long long)json_integer_value(json_object_get(all, "names")),
	    (long long)json_integer_value(json_object_get(all, "blobs")));
	json_decref(all);
	return 0;
}

static const char *const commands[] = { "put", "get", "ls", "stat", "rm", "tree", "name", "unname", "stream",
	"snapshot", "pin", "unpin", "evict", "load", NULL };

int
cli_is_command(const char *c)
{
	int i;

	for (i = 0; commands[i] != NULL; i++)
		if (strcmp(commands[i], c) == 0)
			return 1;
	return 0;
}

static int
usage(void)
{
	fprintf(stderr,
	    "usage: vineyardfs put FILE [--name NAME]   (.npy: a Tensor, .csv: a DataFrame)\n"
	    "       vineyardfs get NAME|ID [-o FILE] [--wait]  (Tensor: .npy, DataFrame: CSV)\n"
	    "       vineyardfs ls [--all] [--type GLOB] [NAME-GLOB]\n"
	    "       vineyardfs stat [NAME|ID]            (no argument: the store's memory and spill)\n"
	    "       vineyardfs rm NAME|ID\n"
	    "       vineyardfs tree NAME|ID\n"
	    "       vineyardfs name NAME|ID NEWNAME\n"
	    "       vineyardfs unname NAME\n"
	    "       vineyardfs stream push NAME [--ids] FILE|REF...   (an object stream)\n"
	    "       vineyardfs stream read NAME          (index and id of each object as it comes)\n"
	    "       vineyardfs snapshot create DIR       (of every sealed object; root only)\n"
	    "       vineyardfs pin|unpin|evict|load NAME|ID  (keep in memory, spill now, bring back)\n"
	    "options: --mount DIR (default $VINEYARDFS_MOUNT or /vineyard), --json\n");
	return 2;
}

int
cli_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mount", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "type", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "wait", no_argument, NULL, 'w' },
		{ "ids", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	const char *mount = NULL;
	int c, want, nargs, rc;
	vfs_t *v;

	cmd = argv[0];
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:n:o:t:jawIh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': mount = optarg; break;
		case 'n': o.name = optarg; break;
		case 'o': o.out = optarg; break;
		case 't': o.type = optarg; break;
		case 'j': o.json = 1; break;
		case 'a': o.all = 1; break;
		case 'w': o.wait = 1; break;
		case 'I': o.ids = 1; break;
		default: return usage();
		}
	}
	nargs = argc - optind;
	want = strcmp(cmd, "name") == 0 ? 2 : 1;
	if (strcmp(cmd, "stream") == 0 || strcmp(cmd, "snapshot") == 0 ? nargs < 2
	    : strcmp(cmd, "ls") == 0 || strcmp(cmd, "stat") == 0       ? nargs > 1
								       : nargs != want)
		return usage();
	if ((rc = vfs_open(mount, &v)) != 0)
		return die("%s: %s (is it a vineyardfs mount?)",
		    mount			 ? mount
		    : getenv("VINEYARDFS_MOUNT") ? getenv("VINEYARDFS_MOUNT")
						 : "/vineyard",
		    strerror(-rc));
	if (strcmp(cmd, "put") == 0)
		rc = cmd_put(v, &o, argv[optind]);
	else if (strcmp(cmd, "get") == 0)
		rc = cmd_get(v, &o, argv[optind]);
	else if (strcmp(cmd, "stat") == 0)
		rc = nargs == 0 ? cmd_store_stat(v, &o) : cmd_stat(v, &o, argv[optind]);
	else if (strcmp(cmd, "pin") == 0 || strcmp(cmd, "unpin") == 0 || strcmp(cmd, "evict") == 0 ||
		 strcmp(cmd, "load") == 0)
		rc = cmd_residence(v, &o, argv[optind]);
	else if (strcmp(cmd, "rm") == 0)
		rc = (rc = vfs_delete(v, argv[optind])) != 0 ? lib_die(v, argv[optind], rc) : 0;
	else if (strcmp(cmd, "tree") == 0)
		rc = cmd_tree(v, argv[optind]);
	else if (strcmp(cmd, "name") == 0)
		rc = (rc = vfs_name(v, argv[optind], argv[optind + 1])) != 0 ? lib_die(v, argv[optind], rc)
									     : 0;
	else if (strcmp(cmd, "stream") == 0)
		rc = cmd_stream(v, &o, argv + optind, nargs);
	else if (strcmp(cmd, "snapshot") == 0)
		rc = cmd_snapshot(v, &o, argv + optind, nargs);
	else if (strcmp(cmd, "unname") == 0)
		rc = (rc = vfs_unname(v, argv[optind])) != 0 ? lib_die(v, argv[optind], rc) : 0;
	else
		rc = cmd_ls(v, &o, nargs == 1 ? argv[optind] : NULL);
	vfs_close(v);
	return rc;
}
