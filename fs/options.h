/*
 * options: the command line of `vineyardfs mount` (and of the mount
 * helper, which translates -o options into these), parsed and checked
 * before anything is set up, so that a bad option is reported by the
 * command itself with exit status 2.
 */
#ifndef VFS_OPTIONS_H
#define VFS_OPTIONS_H

#include <stdint.h>

#define OPTIONS_STATE_DIR "/var/lib/vineyardfs" /* --state-dir's default */

struct options {
	const char *state_dir;
	const char *backing_dir;
	const char *mountpoint;
	const char *restore_dir; /* --restore: a snapshot to restore first */
	const char *spill_dir;
	unsigned spill_high, spill_low; /* percent, 0: default */
	int spill_ahead;
	int huge_pages;
	uint64_t memory;
	int instance_id;
	int foreground;
	int debug;
	int passthrough;
	int fuse_uring; /* RING_* (ring.h) */
	int supervise;
	long stream_wait_ms;
	char fuse_opts[1024];
	/* The cluster (core/cluster.h): joined when etcd is given. */
	const char *etcd, *cluster, *listen, *node_name, *cluster_key;
	unsigned cluster_ttl;
	int publish_all;
	int prefetch;
	const char *metrics; /* --metrics HOST:PORT: /metrics over HTTP */
};

/* Parse argv into *o (pointers into argv): 0, or 2 after a message on
 * stderr (the exit status); --help prints the usage and exits 0. */
int options_parse(int argc, char **argv, struct options *o);

#endif
