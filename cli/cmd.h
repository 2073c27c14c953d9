/*
 * cmd: the client commands' table entries, one family per file:
 * cmd_transfer.c moves data in and out (put, get, stream), cmd_object.c
 * looks at and names objects (ls, stat, tree, rm, name, unname),
 * cmd_store.c asks the daemon about the whole store (snapshot, pin,
 * unpin, evict, load, and stat without an argument), cmd_cluster.c the
 * cluster (publish, cluster), cmd_extender.c the scheduler extender
 * (a server, no mount), cmd_stats.c the live view of a mount. cli.c
 * lists them.
 */
#ifndef VFS_CMD_H
#define VFS_CMD_H

#include "cli/cli.h"

extern const struct cli_cmd cmd_put_entry;
extern const struct cli_cmd cmd_get_entry;
extern const struct cli_cmd cmd_stream_entry;

extern const struct cli_cmd cmd_ls_entry;
extern const struct cli_cmd cmd_stat_entry;
extern const struct cli_cmd cmd_tree_entry;
extern const struct cli_cmd cmd_rm_entry;
extern const struct cli_cmd cmd_name_entry;
extern const struct cli_cmd cmd_unname_entry;

extern const struct cli_cmd cmd_snapshot_entry;
extern const struct cli_cmd cmd_pin_entry;
extern const struct cli_cmd cmd_unpin_entry;
extern const struct cli_cmd cmd_evict_entry;
extern const struct cli_cmd cmd_load_entry;

extern const struct cli_cmd cmd_publish_entry;
extern const struct cli_cmd cmd_cluster_entry;
extern const struct cli_cmd cmd_extender_entry;
extern const struct cli_cmd cmd_stats_entry;

/* stat without an argument: the store's memory, spill and counters. */
int cmd_store_stat(vfs_t *v, const struct cli_opts *o);

#endif
