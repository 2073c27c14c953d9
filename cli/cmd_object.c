/*
 * cmd_object: the commands that look at objects and their names: ls, stat
 * (of an object; without one, of the store: cmd_store.c), tree, rm, name,
 * unname. Each is a few library calls; ls reads every name's metadata.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cmd.h"

static int
stat_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	json_t *meta;
	char *text;

	(void)self;
	if (n == 0)
		return cmd_store_stat(v, o);
	if ((meta = cli_meta(v, args[0])) == NULL)
		return CLI_EXIT_FAIL;
	text = json_dumps(meta, o->json ? JSON_COMPACT : JSON_INDENT(2));
	printf("%s\n", text ? text : "");
	free(text);
	json_decref(meta);
	return 0;
}

/* What ls prints per object, and its filters. */
struct ls_ctx {
	vfs_t *v;
	const struct cli_opts *o;
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
	if ((meta = cli_meta(c->v, id)) == NULL)
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
ls_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	struct ls_ctx c = { v, o, n == 1 ? args[0] : NULL, json_array() };
	char path[PATH_MAX];
	struct dirent *de;
	int rc = 0;
	DIR *d;

	(void)self;
	if (!o->json)
		printf("%-20s %-10s %12s %-10s %s\n", "NAME", "TYPE", "BYTES", "OWNER", "ID");
	if (!o->all)
		rc = vfs_list(v, ls_one, &c);
	else {
		/* Every object, named or not, by id. */
		snprintf(path, sizeof path, "%s/objects", vfs_mount_point(v));
		if ((d = opendir(path)) == NULL)
			rc = cli_fail("%s: %s", path, strerror(errno));
		else {
			while ((de = readdir(d)) != NULL)
				if (de->d_name[0] == 'o')
					ls_one(&c, NULL, de->d_name);
			closedir(d);
		}
	}
	if (rc < 0)
		rc = cli_lib_fail(v, "names", rc);
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
tree_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	json_t *meta = cli_meta(v, args[0]);

	(void)self;
	(void)o;
	(void)n;
	if (meta == NULL)
		return CLI_EXIT_FAIL;
	tree_print(args[0], meta, 0);
	json_decref(meta);
	return 0;
}

static int
rm_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	int rc;

	(void)self;
	(void)o;
	(void)n;
	return (rc = vfs_delete(v, args[0])) != 0 ? cli_lib_fail(v, args[0], rc) : 0;
}

static int
name_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	int rc;

	(void)self;
	(void)o;
	(void)n;
	return (rc = vfs_name(v, args[0], args[1])) != 0 ? cli_lib_fail(v, args[0], rc) : 0;
}

static int
unname_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	int rc;

	(void)self;
	(void)o;
	(void)n;
	return (rc = vfs_unname(v, args[0])) != 0 ? cli_lib_fail(v, args[0], rc) : 0;
}

const struct cli_cmd cmd_ls_entry = {
	.name = "ls",
	.usage = "[--all] [--type GLOB] [NAME-GLOB]",
	.summary = "list names (--all: every object)",
	.min_args = 0,
	.max_args = 1,
	.exec = ls_exec,
};

const struct cli_cmd cmd_stat_entry = {
	.name = "stat",
	.usage = "[NAME|ID]",
	.summary = "show an object's metadata, or the store's",
	.min_args = 0,
	.max_args = 1,
	.exec = stat_exec,
};

const struct cli_cmd cmd_tree_entry = {
	.name = "tree",
	.usage = "NAME|ID",
	.summary = "show an object's members",
	.min_args = 1,
	.max_args = 1,
	.exec = tree_exec,
};

const struct cli_cmd cmd_rm_entry = {
	.name = "rm",
	.usage = "NAME|ID",
	.summary = "delete an object",
	.min_args = 1,
	.max_args = 1,
	.exec = rm_exec,
};

const struct cli_cmd cmd_name_entry = {
	.name = "name",
	.usage = "NAME|ID NEWNAME",
	.summary = "give an object one more name",
	.min_args = 2,
	.max_args = 2,
	.exec = name_exec,
};

const struct cli_cmd cmd_unname_entry = {
	.name = "unname",
	.usage = "NAME",
	.summary = "take a name away (the object stays)",
	.min_args = 1,
	.max_args = 1,
	.exec = unname_exec,
};
