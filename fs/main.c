/*
 * main: the vineyardfs command and its subcommands.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "fs/daemon.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: vineyardfs COMMAND [options]\n"
		   "\n"
		   "A zero-copy, in-memory object store presented as a FUSE filesystem.\n"
		   "\n"
		   "Commands:\n"
		   "  mount [options] MOUNTPOINT   start the daemon and mount the store\n"
		   "  umount [-l] MOUNTPOINT       unmount and wait for the daemon to exit\n"
		   "  put FILE [--name NAME]       store a file (FILE.npy as a Tensor)\n"
		   "  get NAME|ID [-o FILE]        write an object out (a Tensor as .npy);\n"
		   "                               --wait: until the name appears\n"
		   "  ls [--all]                   list names (--all: every object)\n"
		   "  stat NAME|ID                 show an object's metadata\n"
		   "  rm NAME|ID                   delete an object\n"
		   "  tree NAME|ID                 show an object's members\n"
		   "  name NAME|ID NEWNAME         give an object one more name\n"
		   "  unname NAME                  take a name away (the object stays)\n"
		   "  (client commands take --mount DIR, default $VINEYARDFS_MOUNT or /vineyard,\n"
		   "   and --json)\n"
		   "\n"
		   "  -h, --help       show this help (\"vineyardfs mount --help\" for its options)\n"
		   "  -V, --version    show the version\n"
		   "\n"
		   "See vineyardfs(8).\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "mount") == 0)
		return daemon_mount_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "umount") == 0 || strcmp(argv[1], "unmount") == 0)
		return daemon_umount_main(argc - 1, argv + 1);
	if (cli_is_command(argv[1]))
		return cli_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("vineyardfs %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "vineyardfs: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
