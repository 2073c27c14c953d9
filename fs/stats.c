/*
 * stats: .vineyardfs/stats, rendered at each open: the counters of the
 * catalog and of this layer, memory and where sealed bytes are, which
 * data path and FUSE transport are in force, spill and snapshot progress. One "key value"
 * line each; tools and tests parse it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/snapshot.h"
#include "fs/fs.h"
#include "fs/passthrough.h"
#include "fs/ring.h"

int
stats_render(char **text, size_t *len)
{
	struct catalog_stats st;
	struct snapshot_progress sp;
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return -ENOMEM;
	catalog_stats(fs.cat, &st);
	fprintf(f, "version %s\n", PACKAGE_VERSION);
	fprintf(f, "pid %d\n", (int)getpid());
	fprintf(f, "instance_id %u\n", st.instance_id);
	fprintf(f, "data_path %s\n", pt_active() ? "passthrough" : "fallback");
	if (!pt_active())
		fprintf(f, "fallback_reason %s\n", pt_reason());
	fprintf(f, "fuse_transport %s\n", ring_active() ? "io_uring" : "dev_fuse");
	if (!ring_active())
		fprintf(f, "fuse_transport_reason %s\n", ring_reason());
	fprintf(f, "fuse_ring_requests %llu\n", (unsigned long long)ring_requests());
	fprintf(f, "memory_limit_bytes %llu\n", (unsigned long long)st.memory_limit);
	fprintf(f, "memory_used_bytes %llu\n", (unsigned long long)st.memory_used);
	fprintf(f, "objects %llu\n", (unsigned long long)st.objects);
	fprintf(f, "blobs %llu\n", (unsigned long long)st.blobs);
	fprintf(f, "blobs_sealed %llu\n", (unsigned long long)st.blobs_sealed);
	fprintf(f, "blobs_unsealed %llu\n", (unsigned long long)st.blobs_unsealed);
	fprintf(f, "names %llu\n", (unsigned long long)st.names);
	fprintf(f, "opens %llu\n", (unsigned long long)st.opens);
	fprintf(f, "creates %llu\n", (unsigned long long)st.creates);
	fprintf(f, "seals %llu\n", (unsigned long long)st.seals);
	fprintf(f, "seal_commits %llu\n", (unsigned long long)st.seal_commits);
	fprintf(f, "seals_queued %llu\n", (unsigned long long)st.seals_queued);
	fprintf(f, "discards %llu\n", (unsigned long long)st.discards);
	fprintf(f, "deletes %llu\n", (unsigned long long)st.deletes);
	fprintf(f, "reads_served %llu\n", (unsigned long long)atomic_load(&fs.n.reads));
	fprintf(f, "read_bytes_served %llu\n", (unsigned long long)atomic_load(&fs.n.read_bytes));
	fprintf(f, "writes_served %llu\n", (unsigned long long)atomic_load(&fs.n.writes));
	fprintf(f, "write_bytes_served %llu\n", (unsigned long long)atomic_load(&fs.n.write_bytes));
	fprintf(f, "requests_waiting %u\n", park_count());
	fprintf(f, "streams %u\n", streams_count(fs.streams));
	fprintf(f, "bytes_sealed %llu\n", (unsigned long long)st.bytes_sealed);
	fprintf(f, "bytes_in_memory %llu\n", (unsigned long long)st.bytes_resident);
	fprintf(f, "bytes_on_disk_only %llu\n", (unsigned long long)(st.bytes_sealed - st.bytes_resident));
	fprintf(f, "bytes_spilled %llu\n", (unsigned long long)st.bytes_spilled);
	fprintf(f, "bytes_pinned %llu\n", (unsigned long long)st.bytes_pinned);
	fprintf(f, "bytes_releasing %llu\n", (unsigned long long)st.bytes_releasing);
	fprintf(f, "spill_dir %s\n", st.spill_enabled ? st.spill_dir : "-");
	if (st.spill_enabled) {
		fprintf(f, "spill_high_bytes %llu\n", (unsigned long long)st.spill_high);
		fprintf(f, "spill_low_bytes %llu\n", (unsigned long long)st.spill_low);
	}
	fprintf(f, "spills %llu\n", (unsigned long long)st.spills);
	fprintf(f, "spill_bytes %llu\n", (unsigned long long)st.spill_bytes);
	fprintf(f, "spill_errors %llu\n", (unsigned long long)st.spill_errors);
	fprintf(f, "spill_bytes_per_second %.0f\n",
	    st.spill_seconds > 0 ? st.spill_bytes / st.spill_seconds : 0.0);
	fprintf(f, "evictions %llu\n", (unsigned long long)st.evictions);
	fprintf(f, "reloads %llu\n", (unsigned long long)st.reloads);
	fprintf(f, "reload_bytes %llu\n", (unsigned long long)st.reload_bytes);
	fprintf(f, "reload_errors %llu\n", (unsigned long long)st.reload_errors);
	fprintf(f, "reload_bytes_per_second %.0f\n",
	    st.reload_seconds > 0 ? st.reload_bytes / st.reload_seconds : 0.0);
	snapshot_progress(&sp);
	fprintf(f, "snapshot_running %d\n", sp.running);
	fprintf(f, "snapshot_bytes_done %llu\n", (unsigned long long)sp.bytes_done);
	fprintf(f, "snapshot_bytes_total %llu\n", (unsigned long long)sp.bytes_total);
	fprintf(f, "snapshot_blobs_done %llu\n", (unsigned long long)sp.blobs_done);
	fprintf(f, "snapshot_blobs_total %llu\n", (unsigned long long)sp.blobs_total);
	fprintf(f, "snapshots_created %llu\n", (unsigned long long)sp.created);
	fprintf(f, "snapshots_failed %llu\n", (unsigned long long)sp.failed);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*text = buf;
	*len = size;
	return 0;
}
