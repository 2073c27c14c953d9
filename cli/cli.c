/*
 * cli: see cli.h. The table below is the only list of commands: --help,
 * "vineyardfs help CMD", each command's usage, its argument count and the
 * dispatch all read it. A client command gets its options parsed (every
 * client command takes them all), its operands counted (and its
 * subcommand, the first word of its usage forms, checked) and the mount
 * opened (--mount, else $VINEYARDFS_MOUNT, else /vineyard) before its
 * exec runs; its failures print "vineyardfs CMD: what: why".
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd.h"
#include "cli/csv.h"
#include "fs/daemon.h"

#define HELP_COLUMN 34 /* where --help's summaries start */

static const struct cli_cmd mount_entry = {
	.name = "mount",
	.usage = "[options] MOUNTPOINT",
	.summary = "start the daemon and mount the store",
	.run = daemon_mount_main,
};

static const struct cli_cmd umount_entry = {
	.name = "umount",
	.alias = "unmount",
	.usage = "[-l|--lazy] MOUNTPOINT",
	.summary = "unmount and wait for the daemon to exit",
	.run = daemon_umount_main,
};

/* In the order --help lists them. */
static const struct cli_cmd *const cli_table[] = {
	&mount_entry,
	&umount_entry,
	&cmd_put_entry,
	&cmd_get_entry,
	&cmd_ls_entry,
	&cmd_stat_entry,
	&cmd_tree_entry,
	&cmd_rm_entry,
	&cmd_name_entry,
	&cmd_unname_entry,
	&cmd_stream_entry,
	&cmd_snapshot_entry,
	&cmd_pin_entry,
	&cmd_unpin_entry,
	&cmd_evict_entry,
	&cmd_load_entry,
	&cmd_stats_entry,
	&cmd_publish_entry,
	&cmd_cluster_entry,
	&cmd_extender_entry,
	NULL,
};

static const char client_options[] = "client commands take --mount DIR, default $VINEYARDFS_MOUNT or "
				     "/vineyard, and --json";

static const char *current = ""; /* the running command's name, for cli_fail */

static const struct cli_cmd *
cli_find(const char *name)
{
	size_t i;

	for (i = 0; cli_table[i] != NULL; i++)
		if (strcmp(cli_table[i]->name, name) == 0 ||
		    (cli_table[i]->alias != NULL && strcmp(cli_table[i]->alias, name) == 0))
			return cli_table[i];
	return NULL;
}

int
cli_usage(const struct cli_cmd *c, FILE *f)
{
	const char *form = c->usage;
	int first = 1;
	size_t n;

	for (;;) {
		n = strcspn(form, "\n");
		fprintf(f, "%s vineyardfs %s %.*s\n", first ? "usage:" : "      ", c->name, (int)n, form);
		first = 0;
		if (form[n] == '\0')
			break;
		form += n + 1;
	}
	if (c->exec != NULL)
		fprintf(f, "(%s)\n", client_options);
	return CLI_EXIT_USAGE;
}

/* The program's help: every command of the table, each usage form. */
static void
help(FILE *f)
{
	const char *form;
	size_t i, n;
	int w;

	fprintf(f, "usage: vineyardfs COMMAND [options]\n"
		   "\n"
		   "A zero-copy, in-memory object store presented as a FUSE filesystem.\n"
		   "\n"
		   "Commands:\n");
	for (i = 0; cli_table[i] != NULL; i++) {
		for (form = cli_table[i]->usage;; form += n + 1) {
			n = strcspn(form, "\n");
			fprintf(f, "  %s %.*s%n", cli_table[i]->name, (int)n, form, &w);
			if (form == cli_table[i]->usage) {
				if (w >= HELP_COLUMN)
					fprintf(f, "\n%*s", HELP_COLUMN, "");
				else
					fprintf(f, "%*s", HELP_COLUMN - w, "");
				fprintf(f, "%s", cli_table[i]->summary);
			}
			fputc('\n', f);
			if (form[n] == '\0')
				break;
		}
	}
	fprintf(f,
	    "(%s)\n"
	    "\n"
	    "  -h, --help       show this help (\"vineyardfs help COMMAND\": that command's)\n"
	    "  -V, --version    show the version\n"
	    "\n"
	    "See vineyardfs(1) and vineyardfs(8).\n",
	    client_options);
}

int
cli_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vineyardfs %s: ", current);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

int
cli_lib_fail(vfs_t *v, const char *what, int rc)
{
	const char *why = vfs_error(v);
	size_t n = strlen(what);

	if (*why == '\0')
		return cli_fail("%s: %s", what, strerror(-rc));
	/* The library often names the object itself: say it once. */
	if (strncmp(why, what, n) == 0 && why[n] == ':')
		return cli_fail("%s", why);
	return cli_fail("%s: %s", what, why);
}

json_t *
cli_meta(vfs_t *v, const char *ref)
{
	json_t *m;
	char *text;
	int rc;

	if ((rc = vfs_meta(v, ref, &text)) != 0) {
		cli_lib_fail(v, ref, rc);
		return NULL;
	}
	if ((m = json_loads(text, 0, NULL)) == NULL)
		cli_fail("%s: unreadable metadata", ref);
	free(text);
	return m;
}

/* Does args[0] name one of c's subcommands, when its usage forms start
 * with one ("push NAME ...", "read NAME")? Commands without any take
 * anything. */
static int
subcommand_ok(const struct cli_cmd *c, char **args, int n)
{
	const char *form = c->usage;
	int some = 0;
	size_t k;

	for (;; form += strcspn(form, "\n") + 1) {
		for (k = 0; form[k] >= 'a' && form[k] <= 'z'; k++)
			;
		if (k > 0 && (form[k] == ' ' || form[k] == '\n' || form[k] == '\0')) {
			some = 1;
			if (n > 0 && strlen(args[0]) == k && strncmp(args[0], form, k) == 0)
				return 1;
		}
		if (form[strcspn(form, "\n")] == '\0')
			return !some;
	}
}

/* A client command: its options, its operands, the mount. */
static int
cli_client(const struct cli_cmd *c, int argc, char **argv)
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
	struct cli_opts o = { 0 };
	struct csv_force *force;
	const char *mount = NULL;
	int ch, nargs, rc;
	char *eq;
	vfs_t *v;

	/* No more --type options than arguments. */
	if ((force = calloc((size_t)argc, sizeof *force)) == NULL)
		return cli_fail("out of memory");
	o.force = force;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "m:n:o:t:jawIh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm': mount = optarg; break;
		case 'n': o.name = optarg; break;
		case 'o': o.out = optarg; break;
		case 't':
			o.type = optarg;
			/* COLUMN=TYPE: the split at the last '=' leaves names
			 * with '=' theirs ("a=b=int8"). */
			if ((eq = strrchr(optarg, '=')) != NULL && eq > optarg) {
				*eq = '\0';
				force[o.nforce++] = (struct csv_force){ optarg, eq + 1 };
			}
			break;
		case 'j': o.json = 1; break;
		case 'a': o.all = 1; break;
		case 'w': o.wait = 1; break;
		case 'I': o.ids = 1; break;
		case 'h':
			free(force);
			cli_usage(c, stdout);
			return 0;
		default: free(force); return cli_usage(c, stderr);
		}
	}
	nargs = argc - optind;
	if (nargs < c->min_args || (c->max_args >= 0 && nargs > c->max_args) ||
	    !subcommand_ok(c, argv + optind, nargs)) {
		free(force);
		return cli_usage(c, stderr);
	}
	if ((rc = vfs_open(mount, &v)) != 0) {
		free(force);
		return cli_fail("%s: %s (is it a vineyardfs mount?)",
		    mount			 ? mount
		    : getenv("VINEYARDFS_MOUNT") ? getenv("VINEYARDFS_MOUNT")
						 : "/vineyard",
		    strerror(-rc));
	}
	rc = c->exec(c, v, &o, argv + optind, nargs);
	vfs_close(v);
	free(force);
	return rc;
}

int
cli_main(int argc, char **argv)
{
	const struct cli_cmd *c;

	if (argc < 2) {
		help(stderr);
		return CLI_EXIT_USAGE;
	}
	if ((c = cli_find(argv[1])) != NULL) {
		current = c->name;
		return c->run != NULL ? c->run(argc - 1, argv + 1) : cli_client(c, argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "help") == 0 && argc == 3 && (c = cli_find(argv[2])) != NULL) {
		if (c->run != NULL) {
			char *args[] = { argv[2], (char *)"--help", NULL };

			return c->run(2, args);
		}
		cli_usage(c, stdout);
		return 0;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		help(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("vineyardfs %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "vineyardfs: unknown command '%s'\n", argv[1]);
	help(stderr);
	return CLI_EXIT_USAGE;
}
