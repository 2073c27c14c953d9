/*
 * cli: the client subcommands of vineyardfs (put, get, ls, stat, rm, tree,
 * name, unname). They
 * speak only to a mount: files in names/, objects/ and the control file,
 * like any other program would.
 */
#ifndef VFS_CLI_H
#define VFS_CLI_H

/* Run subcommand argv[0]; returns the exit status. */
int cli_main(int argc, char **argv);
/* Is cmd one of the client subcommands? */
int cli_is_command(const char *cmd);

#endif
