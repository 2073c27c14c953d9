/*
 * main: the vineyardfs command. Its commands, mount and umount included,
 * are the table in cli/cli.c.
 */
#include "config.h"

#include "cli/cli.h"

int
main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
