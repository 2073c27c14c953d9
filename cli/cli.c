/*
 * cli: see cli.h. The mount comes from --mount, VINEYARDFS_MOUNT or
 * /vineyard. Errors print "vineyardfs CMD: what: why" and exit 1; usage
 * errors exit 2.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/npy.h"

#define CHUNK (1 << 20)

struct opts {
	const char *mount;
	const char *name;
	const char *out;
	int json;
	int all;
	int wait; /* get --wait: until the name names a sealed object */
};

static const char *cmd = "";

static int __attribute__((format(printf, 1, 2)))
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

static void
path_of(char *buf, size_t len, const struct opts *o, const char *a, const char *b)
{
	snprintf(buf, len, "%s/%s%s%s", o->mount, a, b ? "/" : "", b ? b : "");
}

/* One request on the control file; the reply, or NULL after a message. */
static json_t *
request(const struct opts *o, json_t *req)
{
	char path[PATH_MAX], buf[65536];
	char *text = json_dumps(req, JSON_COMPACT);
	json_t *reply = NULL;
	ssize_t n, got = 0;
	int fd;

	json_decref(req);
	path_of(path, sizeof path, o, ".vineyardfs/ctl", NULL);
	if (text == NULL || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		die("%s: %s (is %s a vineyardfs mount?)", path, strerror(errno), o->mount);
		free(text);
		return NULL;
	}
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die("writing the request: %s", strerror(errno));
	else {
		while ((n = read(fd, buf + got, sizeof buf - 1 - (size_t)got)) > 0)
			got += n;
		buf[got] = '\0';
		if ((reply = json_loads(buf, 0, NULL)) == NULL)
			die("unreadable reply: %s", buf);
		else if (!json_is_true(json_object_get(reply, "ok"))) {
			die("%s", json_string_value(json_object_get(reply, "message")));
			json_decref(reply);
			reply = NULL;
		}
	}
	close(fd);
	free(text);
	return reply;
}

/* Wait until the object behind path is sealed (its release comes just
 * after the writer's close). */
static int
wait_sealed(const char *path)
{
	struct timespec pause = { 0, 500000 };
	char v[8];
	int i;

	for (i = 0; i < 60000; i++) {
		ssize_t n = getxattr(path, "user.vineyard.sealed", v, sizeof v - 1);

		if (n == 4 && memcmp(v, "true", 4) == 0)
			return 0;
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}

/* Copy src (from its offset) into a new object at names/name; sets the
 * Blob object's id and its blob's id. */
static int
write_blob(const struct opts *o, int src, const char *name, char *oid, char *bid)
{
	char path[PATH_MAX], *buf = malloc(CHUNK);
	ssize_t n;
	int fd, rc = 0;

	path_of(path, sizeof path, o, "names", name);
	if (buf == NULL)
		return die("out of memory");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		free(buf);
		return die("%s: %s", path, strerror(errno));
	}
	while ((n = read(src, buf, CHUNK)) > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			rc = die("%s: %s", path, strerror(errno));
			break;
		}
	}
	if (n < 0)
		rc = die("reading: %s", strerror(errno));
	free(buf);
	if (close(fd) != 0 && rc == 0)
		rc = die("%s: %s", path, strerror(errno));
	if (rc != 0) {
		unlink(path);
		return rc;
	}
	if (wait_sealed(path) != 0)
		return die("%s did not seal", path);
	if (getxattr(path, "user.vineyard.id", oid, 17) != 17 ||
	    getxattr(path, "user.vineyard.member.buffer_", bid, 17) != 17)
		return die("%s: no ids: %s", path, strerror(errno));
	oid[17] = bid[17] = '\0';
	return 0;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int
cmd_put(const struct opts *o, const char *file)
{
	char tmp[64], oid[18], bid[18], err[256];
	unsigned char head[4096];
	json_t *reply;
	struct npy n;
	ssize_t got;
	int src, rc;

	snprintf(tmp, sizeof tmp, ".vfs-tmp-%d-%ld", (int)getpid(), (long)time(NULL));
	if ((src = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return die("%s: %s", file, strerror(errno));
	if (ends_with(file, ".npy")) {
		got = pread(src, head, sizeof head, 0);
		if (got < 0 || (rc = npy_parse(head, (size_t)got, &n, err, sizeof err)) != 0) {
			close(src);
			return die("%s: %s", file, got < 0 ? strerror(errno) : err);
		}
		lseek(src, (off_t)n.header_len, SEEK_SET);
		rc = write_blob(o, src, tmp, oid, bid);
		close(src);
		if (rc != 0)
			return rc;
		{
			json_t *shape = json_array();
			size_t i;

			for (i = 0; i < n.ndims; i++)
				json_array_append_new(shape, json_integer((json_int_t)n.dims[i]));
			reply = request(o, json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:s}, s:s?}", "op", "create",
			    "typename", "Tensor", "fields", "value_type_", n.value_type, "shape_", shape, "members",
			    "buffer_", bid, "name", o->name));
		}
		/* The blob lives on in the Tensor; its Blob object goes. */
		{
			char path[PATH_MAX];

			path_of(path, sizeof path, o, "names", tmp);
			unlink(path);
		}
		if (reply == NULL)
			return 1;
	} else {
		rc = write_blob(o, src, o->name != NULL ? o->name : tmp, oid, bid);
		close(src);
		if (rc != 0)
			return rc;
		if (o->name == NULL) {
			/* The object stays, by id only; its temporary name goes. */
			if ((reply = request(o, json_pack("{s:s, s:s}", "op", "unname", "name", tmp))) == NULL)
				return 1;
			json_decref(reply);
		}
		reply = json_pack("{s:b, s:s}", "ok", 1, "id", oid);
	}
	if (o->json)
		json_dumpf(reply, stdout, JSON_COMPACT), putchar('\n');
	else
		printf("%s\n", json_string_value(json_object_get(reply, "id")));
	json_decref(reply);
	return 0;
}

/* The object directory of an id or a name. */
static int
resolve(const struct opts *o, const char *ref, char *dir, size_t len)
{
	char path[PATH_MAX], id[18];
	struct stat st;

	if (ref[0] == 'o' && strlen(ref) == 17) {
		path_of(dir, len, o, "objects", ref);
		if (stat(dir, &st) == 0)
			return 0;
	}
	path_of(path, sizeof path, o, "names", ref);
	if (lstat(path, &st) != 0)
		return die("%s: no such object or name", ref);
	if (S_ISREG(st.st_mode)) {
		if (getxattr(path, "user.vineyard.id", id, 17) != 17)
			return die("%s: %s", path, strerror(errno));
		id[17] = '\0';
		path_of(dir, len, o, "objects", id);
		return 0;
	}
	if (realpath(path, dir) == NULL)
		return die("%s: %s", path, strerror(errno));
	return 0;
}

static json_t *
load_meta(const char *dir)
{
	char path[PATH_MAX + 16];
	json_error_t e;
	json_t *m;

	if (snprintf(path, sizeof path, "%s/meta.json", dir) >= (int)sizeof path) {
		die("%s: path too long", dir);
		return NULL;
	}
	if ((m = json_load_file(path, 0, &e)) == NULL)
		die("%s: %s", path, e.text);
	return m;
}

static int
copy_out(const char *from, int to, const char *what)
{
	char *buf = malloc(CHUNK);
	int src = open(from, O_RDONLY | O_CLOEXEC), rc = 0;
	ssize_t n;

	if (buf == NULL || src < 0) {
		free(buf);
		return die("%s: %s", from, strerror(errno));
	}
	while ((n = read(src, buf, CHUNK)) > 0)
		if (write(to, buf, (size_t)n) != n) {
			rc = die("%s: %s", what, strerror(errno));
			break;
		}
	if (n < 0)
		rc = die("%s: %s", from, strerror(errno));
	close(src);
	free(buf);
	return rc;
}

/* Wait until ref names a sealed object (Vineyard's GetName with wait): a
 * name made by writing into names/ appears before its bytes are complete.
 * The daemon parks the request; Ctrl-C ends it. */
static int
wait_for(const struct opts *o, const char *ref)
{
	json_t *reply = request(o, json_pack("{s:s, s:s}", "op", "wait", "name", ref));

	json_decref(reply);
	return reply != NULL ? 0 : 1;
}

static int
cmd_get(const struct opts *o, const char *ref)
{
	char dir[PATH_MAX], buf[PATH_MAX + 16], head[1024];
	const char *type;
	json_t *meta;
	int out = STDOUT_FILENO, rc = 0;

	if (o->wait && wait_for(o, ref) != 0)
		return 1;
	if (resolve(o, ref, dir, sizeof dir) != 0 || (meta = load_meta(dir)) == NULL)
		return 1;
	type = json_string_value(json_object_get(meta, "typename"));
	if (o->out != NULL && (out = open(o->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		json_decref(meta);
		return die("%s: %s", o->out, strerror(errno));
	}
	snprintf(buf, sizeof buf, "%s/buffer_", dir);
	if (type != NULL && strcmp(type, "Tensor") == 0) {
		const json_t *shape = json_object_get(meta, "shape_"), *d;
		struct npy n;
		size_t i;
		int hl;

		memset(&n, 0, sizeof n);
		snprintf(n.value_type, sizeof n.value_type, "%s",
		    json_string_value(json_object_get(meta, "value_type_")));
		json_array_foreach(shape, i, d) {
			if (i < NPY_DIMS_MAX)
				n.dims[n.ndims++] = (uint64_t)json_integer_value(d);
		}
		if ((hl = npy_header(&n, head, sizeof head)) < 0 || write(out, head, (size_t)hl) != hl)
			rc = die("cannot write the .npy header");
		else
			rc = copy_out(buf, out, o->out ? o->out : "stdout");
	} else if (type != NULL && strcmp(type, "Blob") == 0)
		rc = copy_out(buf, out, o->out ? o->out : "stdout");
	else {
		char *text = json_dumps(meta, JSON_INDENT(2));

		if (text == NULL || write(out, text, strlen(text)) < 0 || write(out, "\n", 1) < 0)
			rc = die("cannot write the metadata");
		free(text);
	}
	if (out != STDOUT_FILENO && close(out) != 0 && rc == 0)
		rc = die("%s: %s", o->out, strerror(errno));
	json_decref(meta);
	return rc;
}

static int
cmd_stat(const struct opts *o, const char *ref)
{
	char dir[PATH_MAX], *text;
	json_t *meta;

	if (resolve(o, ref, dir, sizeof dir) != 0 || (meta = load_meta(dir)) == NULL)
		return 1;
	text = json_dumps(meta, o->json ? JSON_COMPACT : JSON_INDENT(2));
	printf("%s\n", text ? text : "");
	free(text);
	json_decref(meta);
	return 0;
}

static int
cmd_rm(const struct opts *o, const char *ref)
{
	char dir[PATH_MAX];
	json_t *reply;

	if (resolve(o, ref, dir, sizeof dir) != 0)
		return 1;
	if ((reply = request(o, json_pack("{s:s, s:s}", "op", "delete", "id", strrchr(dir, '/') + 1))) == NULL)
		return 1;
	json_decref(reply);
	return 0;
}

/* One line of ls: name, type, bytes, owner, id. */
static void
ls_one(const struct opts *o, const char *name, const char *dir, json_t *rows)
{
	char owner[64];
	struct passwd *pw;
	struct stat st;
	json_t *meta = load_meta(dir);
	const char *type;
	json_int_t nbytes;

	if (meta == NULL)
		return;
	type = json_string_value(json_object_get(meta, "typename"));
	nbytes = json_integer_value(json_object_get(meta, "nbytes"));
	if (stat(dir, &st) == 0 && (pw = getpwuid(st.st_uid)) != NULL)
		snprintf(owner, sizeof owner, "%s", pw->pw_name);
	else
		snprintf(owner, sizeof owner, "%u", (unsigned)st.st_uid);
	if (o->json)
		json_array_append_new(rows, json_pack("{s:s?, s:s, s:s, s:I, s:s}", "name", name, "id",
		    json_string_value(json_object_get(meta, "id")), "typename", type ? type : "", "nbytes",
		    nbytes, "owner", owner));
	else
		printf("%-20s %-10s %12lld %-10s %s\n", name ? name : "-", type ? type : "?", (long long)nbytes,
		    owner, json_string_value(json_object_get(meta, "id")));
	json_decref(meta);
}

static int
cmd_ls(const struct opts *o)
{
	char path[PATH_MAX], dir[PATH_MAX + 256];
	json_t *rows = json_array();
	struct dirent *de;
	DIR *d;

	path_of(path, sizeof path, o, o->all ? "objects" : "names", NULL);
	if ((d = opendir(path)) == NULL) {
		json_decref(rows);
		return die("%s: %s (is %s a vineyardfs mount?)", path, strerror(errno), o->mount);
	}
	if (!o->json)
		printf("%-20s %-10s %12s %-10s %s\n", "NAME", "TYPE", "BYTES", "OWNER", "ID");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* ".", "..", temporaries */
		if (o->all) {
			if (snprintf(dir, sizeof dir, "%s/%s", path, de->d_name) >= (int)sizeof dir)
				continue;
		} else if (resolve(o, de->d_name, dir, PATH_MAX) != 0)
			continue;
		ls_one(o, o->all ? NULL : de->d_name, dir, rows);
	}
	closedir(d);
	if (o->json) {
		json_dumpf(rows, stdout, JSON_COMPACT);
		putchar('\n');
	}
	json_decref(rows);
	return 0;
}

/* Print a metadata tree's members, indented by depth. */
static void
tree_print(const char *label, const json_t *m, int depth)
{
	const char *key;
	json_t *v;

	printf("%*s%s %s %s, %lld bytes\n", depth * 2, "", label,
	    json_string_value(json_object_get(m, "id")) ? json_string_value(json_object_get(m, "id")) : "?",
	    json_string_value(json_object_get(m, "typename")) ? json_string_value(json_object_get(m, "typename"))
							     : "?",
	    (long long)json_integer_value(json_object_get(m, "nbytes")));
	json_object_foreach((json_t *)m, key, v) {
		if (json_is_object(v) && json_object_get(v, "id") != NULL)
			tree_print(key, v, depth + 1);
	}
}

static int
cmd_tree(const struct opts *o, const char *ref)
{
	char dir[PATH_MAX];
	json_t *meta;

	if (resolve(o, ref, dir, sizeof dir) != 0 || (meta = load_meta(dir)) == NULL)
		return 1;
	tree_print(ref, meta, 0);
	json_decref(meta);
	return 0;
}

static int
cmd_name(const struct opts *o, const char *ref, const char *name)
{
	char dir[PATH_MAX];
	json_t *reply;

	if (resolve(o, ref, dir, sizeof dir) != 0)
		return 1;
	reply = request(o, json_pack("{s:s, s:s, s:s}", "op", "name", "id", strrchr(dir, '/') + 1, "name", name));
	json_decref(reply);
	return reply != NULL ? 0 : 1;
}

static int
cmd_unname(const struct opts *o, const char *name)
{
	json_t *reply = request(o, json_pack("{s:s, s:s}", "op", "unname", "name", name));

	json_decref(reply);
	return reply != NULL ? 0 : 1;
}

static const char *const commands[] = { "put", "get", "ls", "stat", "rm", "tree", "name", "unname", NULL };

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
	    "usage: vineyardfs put FILE [--name NAME]   (FILE.npy becomes a Tensor)\n"
	    "       vineyardfs get NAME|ID [-o FILE] [--wait]  (a Tensor comes out as .npy)\n"
	    "       vineyardfs ls [--all]\n"
	    "       vineyardfs stat NAME|ID\n"
	    "       vineyardfs rm NAME|ID\n"
	    "       vineyardfs tree NAME|ID\n"
	    "       vineyardfs name NAME|ID NEWNAME\n"
	    "       vineyardfs unname NAME\n"
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
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	int c, want;

	cmd = argv[0];
	o.mount = getenv("VINEYARDFS_MOUNT") ? getenv("VINEYARDFS_MOUNT") : "/vineyard";
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:n:o:jawh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o.mount = optarg; break;
		case 'n': o.name = optarg; break;
		case 'o': o.out = optarg; break;
		case 'j': o.json = 1; break;
		case 'a': o.all = 1; break;
		case 'w': o.wait = 1; break;
		default: return usage();
		}
	}
	want = strcmp(cmd, "ls") == 0 ? 0 : strcmp(cmd, "name") == 0 ? 2 : 1;
	if (argc - optind != want)
		return usage();
	if (strcmp(cmd, "put") == 0)
		return cmd_put(&o, argv[optind]);
	if (strcmp(cmd, "get") == 0)
		return cmd_get(&o, argv[optind]);
	if (strcmp(cmd, "stat") == 0)
		return cmd_stat(&o, argv[optind]);
	if (strcmp(cmd, "rm") == 0)
		return cmd_rm(&o, argv[optind]);
	if (strcmp(cmd, "tree") == 0)
		return cmd_tree(&o, argv[optind]);
	if (strcmp(cmd, "name") == 0)
		return cmd_name(&o, argv[optind], argv[optind + 1]);
	if (strcmp(cmd, "unname") == 0)
		return cmd_unname(&o, argv[optind]);
	return cmd_ls(&o);
}
