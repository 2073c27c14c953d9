/*
 * options: see options.h.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "fs/options.h"
#include "fs/ring.h"

static void
mount_usage(FILE *f)
{
	fprintf(f,
	    "usage: vineyardfs mount [options] MOUNTPOINT\n"
	    "\n"
	    "Mount a vineyardfs object store on MOUNTPOINT.\n"
	    "\n"
	    "  --state-dir DIR     metadata, lock, log and blob store (default %s)\n"
	    "  --memory SIZE       limit for blob bytes, e.g. 4G, 512M (default: half of RAM)\n"
	    "  --backing-dir DIR   keep blob files in DIR instead of a tmpfs at STATE/mem\n"
	    "  --instance-id N     instance bits of new ids, 0..4095 (default: remembered)\n"
	    "  --no-passthrough    serve reads and writes in the daemon, not by FUSE passthrough\n"
	    "  --fuse-uring MODE   FUSE over io_uring: auto (when the kernel offers it), on, off\n"
	    "  --stream-wait SECS  how long a stream writer waits for memory before ENOSPC (default 30)\n"
	    "  --supervise         restart a crashed daemon on the same mount (a supervisor process)\n"
	    "  --spill-dir DIR     spill sealed blobs to DIR when memory runs short (remembered)\n"
	    "  --spill-high PCT    spill when the store passes PCT%% of --memory (default 80)\n"
	    "  --spill-low PCT     ... down to PCT%% (default 60)\n"
	    "  --spill-ahead       above the low mark, write spill files ahead of need\n"
	    "  --huge-pages        every blob in huge pages (default: reloaded ones only)\n"
	    "  --restore DIR       first restore the snapshot in DIR into an empty state dir\n"
	    "  --etcd URL[,URL]    join a cluster through etcd (its v3 gateway: http://HOST:PORT)\n"
	    "  --cluster NAME      the cluster to join (default \"default\")\n"
	    "  --listen HOST:PORT  the peer address, advertised to the members\n"
	    "  --node-name N       this member's node name (default: the host name)\n"
	    "  --cluster-key FILE  the cluster's shared key (the peer protocol's)\n"
	    "  --cluster-ttl SECS  the member lease: gone this long, a member is unavailable (default 10)\n"
	    "  --publish-all       publish every object as it is sealed\n"
	    "  --prefetch          fetch other members' named objects as their names appear\n"
	    "  --metrics HOST:PORT serve Prometheus metrics at http://HOST:PORT/metrics\n"
	    "  -f, --foreground    stay in the foreground and log to stderr\n"
	    "  -d, --debug         log debug messages\n"
	    "  -o OPT[,OPT...]     FUSE mount options (allow_other,default_permissions when root)\n"
	    "  -h, --help          show this help\n",
	    OPTIONS_STATE_DIR);
}

static uint64_t
default_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);

	return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 2 : (uint64_t)1 << 30;
}

/* optarg, a decimal integer from min to max, into *out; -1 after a
 * message naming opt. */
static int
int_arg(const char *opt, long min, long max, const char *unit, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(optarg, &end, 10);
	if (errno != 0 || end == optarg || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "vineyardfs: bad %s '%s': give %ld..%ld%s\n", opt, optarg, min, max, unit);
		return -1;
	}
	*out = v;
	return 0;
}

int
options_parse(int argc, char **argv, struct options *o)
{
	enum {
		OPT_STATE = 256,
		OPT_MEMORY,
		OPT_BACKING,
		OPT_INSTANCE,
		OPT_NOPT,
		OPT_STREAM_WAIT,
		OPT_RESTORE,
		OPT_SPILL_DIR,
		OPT_SPILL_HIGH,
		OPT_SPILL_LOW,
		OPT_SUPERVISE,
		OPT_HUGE,
		OPT_SPILL_AHEAD,
		OPT_ETCD,
		OPT_CLUSTER,
		OPT_LISTEN,
		OPT_NODE_NAME,
		OPT_CLUSTER_KEY,
		OPT_CLUSTER_TTL,
		OPT_PUBLISH_ALL,
		OPT_PREFETCH,
		OPT_METRICS,
		OPT_FUSE_URING
	};
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "backing-dir", required_argument, NULL, OPT_BACKING },
		{ "instance-id", required_argument, NULL, OPT_INSTANCE },
		{ "no-passthrough", no_argument, NULL, OPT_NOPT },
		{ "stream-wait", required_argument, NULL, OPT_STREAM_WAIT },
		{ "supervise", no_argument, NULL, OPT_SUPERVISE },
		{ "restore", required_argument, NULL, OPT_RESTORE },
		{ "spill-dir", required_argument, NULL, OPT_SPILL_DIR },
		{ "spill-high", required_argument, NULL, OPT_SPILL_HIGH },
		{ "spill-low", required_argument, NULL, OPT_SPILL_LOW },
		{ "spill-ahead", no_argument, NULL, OPT_SPILL_AHEAD },
		{ "huge-pages", no_argument, NULL, OPT_HUGE },
		{ "etcd", required_argument, NULL, OPT_ETCD },
		{ "cluster", required_argument, NULL, OPT_CLUSTER },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "node-name", required_argument, NULL, OPT_NODE_NAME },
		{ "cluster-key", required_argument, NULL, OPT_CLUSTER_KEY },
		{ "cluster-ttl", required_argument, NULL, OPT_CLUSTER_TTL },
		{ "publish-all", no_argument, NULL, OPT_PUBLISH_ALL },
		{ "prefetch", no_argument, NULL, OPT_PREFETCH },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "fuse-uring", required_argument, NULL, OPT_FUSE_URING },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int c;

	memset(o, 0, sizeof *o);
	o->state_dir = OPTIONS_STATE_DIR;
	o->memory = default_memory();
	o->instance_id = -1;
	o->passthrough = 1;
	o->fuse_uring = RING_AUTO;
	o->stream_wait_ms = 30000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+fdho:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STATE: o->state_dir = optarg; break;
		case OPT_MEMORY:
			if (util_parse_size(optarg, &o->memory) != 0 || o->memory < 4096) {
				fprintf(stderr,
				    "vineyardfs: bad --memory '%s': give a size like 4G or 512M\n", optarg);
				return 2;
			}
			break;
		case OPT_BACKING: o->backing_dir = optarg; break;
		case OPT_INSTANCE:
			if (int_arg("--instance-id", 0, 4095, "", &v) != 0)
				return 2;
			o->instance_id = (int)v;
			break;
		case OPT_NOPT: o->passthrough = 0; break;
		case OPT_STREAM_WAIT:
			if (int_arg("--stream-wait", 0, 86400, " seconds", &v) != 0)
				return 2;
			o->stream_wait_ms = v * 1000;
			break;
		case OPT_SUPERVISE: o->supervise = 1; break;
		case OPT_RESTORE: o->restore_dir = optarg; break;
		case OPT_SPILL_DIR: o->spill_dir = optarg; break;
		case OPT_HUGE: o->huge_pages = 1; break;
		case OPT_SPILL_AHEAD: o->spill_ahead = 1; break;
		case OPT_ETCD: o->etcd = optarg; break;
		case OPT_CLUSTER: o->cluster = optarg; break;
		case OPT_LISTEN: o->listen = optarg; break;
		case OPT_NODE_NAME: o->node_name = optarg; break;
		case OPT_CLUSTER_KEY: o->cluster_key = optarg; break;
		case OPT_PUBLISH_ALL: o->publish_all = 1; break;
		case OPT_PREFETCH: o->prefetch = 1; break;
		case OPT_METRICS: o->metrics = optarg; break;
		case OPT_FUSE_URING:
			if ((o->fuse_uring = ring_mode_parse(optarg)) < 0) {
				fprintf(stderr, "vineyardfs: bad --fuse-uring '%s': give auto, on or off\n",
				    optarg);
				return 2;
			}
			break;
		case OPT_CLUSTER_TTL:
			if (int_arg("--cluster-ttl", 1, 3600, " seconds", &v) != 0)
				return 2;
			o->cluster_ttl = (unsigned)v;
			break;
		case OPT_SPILL_HIGH:
		case OPT_SPILL_LOW:
			if (int_arg(c == OPT_SPILL_HIGH ? "--spill-high" : "--spill-low", 1, 100, " percent",
				&v) != 0)
				return 2;
			*(c == OPT_SPILL_HIGH ? &o->spill_high : &o->spill_low) = (unsigned)v;
			break;
		case 'f': o->foreground = 1; break;
		case 'd': o->debug = 1; break;
		case 'o':
			if (strlen(o->fuse_opts) + strlen(optarg) + 2 > sizeof o->fuse_opts) {
				fprintf(stderr, "vineyardfs: -o options too long\n");
				return 2;
			}
			if (o->fuse_opts[0] != '\0')
				strcat(o->fuse_opts, ",");
			strcat(o->fuse_opts, optarg);
			break;
		case 'h': mount_usage(stdout); exit(0);
		default: mount_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		mount_usage(stderr);
		return 2;
	}
	if (o->etcd == NULL &&
	    (o->cluster != NULL || o->listen != NULL || o->node_name != NULL || o->cluster_key != NULL ||
		o->cluster_ttl != 0 || o->publish_all || o->prefetch)) {
		fprintf(stderr, "vineyardfs: the cluster options need --etcd URL\n");
		return 2;
	}
	if (o->cluster != NULL && (o->cluster[0] == '\0' || strchr(o->cluster, '/') != NULL)) {
		fprintf(stderr, "vineyardfs: bad --cluster '%s': a name without '/'\n", o->cluster);
		return 2;
	}
	o->mountpoint = argv[optind];
	return 0;
}
