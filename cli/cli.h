/*
 * cli: the vineyardfs command. One table of commands (cli.c, as tmux's
 * cmd_entry table) gives the help, each command's usage, the argument
 * counts, the dispatch and the error format; the commands themselves live
 * by family in cmd_*.c (see cmd.h). mount and umount run the daemon's own
 * parsers (fs/daemon.h); every other command is a client that speaks only
 * to a mount, through libvineyardfs, like any other program would.
 *
 * Exit status: 0 success, 1 refused (the reason printed as "vineyardfs
 * CMD: what: why"), 2 usage (the command's usage printed).
 */
#ifndef VFS_CLI_H
#define VFS_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "include/vineyardfs.h"

#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct csv_force;

/* The options of the client commands (each takes them all, uses its own). */
struct cli_opts {
	const char *name; /* put --name */
	const char *out;  /* get -o */
	const char *type; /* ls --type (the last one given) */
	/* put --type COLUMN=TYPE, repeatable: each column's forced type */
	const struct csv_force *force;
	size_t nforce;
	int json;
	int all;  /* ls --all */
	int wait; /* get --wait: until the name names a sealed object */
	int ids;  /* stream push --ids: the arguments are objects */
};

/* One command of the table. */
struct cli_cmd {
	const char *name;
	const char *alias;   /* another name for it, or NULL */
	const char *usage;   /* its argument forms, '\n' between forms */
	const char *summary; /* one line for --help */
	int min_args;	     /* operands after the options */
	int max_args;	     /* -1: no limit */
	/* A client command: the mount open, the options parsed. */
	int (*exec)(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n);
	/* Or a command that parses its own argv (argv[0] its name): mount, umount. */
	int (*run)(int argc, char **argv);
};

/* Run the vineyardfs command line (argv[0] the program); the exit status. */
int cli_main(int argc, char **argv);
/* Print c's usage to f; returns CLI_EXIT_USAGE. */
int cli_usage(const struct cli_cmd *c, FILE *f);
/* Print "vineyardfs CMD: ..." on stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The library's reason for the failure rc of a call about what, said once. */
int cli_lib_fail(vfs_t *v, const char *what, int rc);
/* The metadata tree of ref, or NULL (the failure printed); caller decrefs. */
json_t *cli_meta(vfs_t *v, const char *ref);

#endif
