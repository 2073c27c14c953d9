/*
 * metrics: .vineyardfs/metrics and the --metrics HTTP endpoint's page, in
 * the Prometheus text exposition format (core/metrics.h), rendered at
 * each open or scrape: the FUSE requests (opstats.c) and control
 * operations (core/request.c) counted and timed, then the store's memory,
 * objects, passthrough, FUSE transport, spill, reload and snapshot
 * figures (the same as .vineyardfs/stats), then the cluster's: etcd
 * health, members, the peer transfers and the fetched copies. Counters
 * count from the daemon's start; a restarted worker starts them again
 * (Prometheus sees a reset). With --metrics the same page is served over
 * HTTP (core/http.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cluster.h"
#include "core/http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/request.h"
#include "core/snapshot.h"
#include "fs/fs.h"
#include "fs/opstats.h"
#include "fs/passthrough.h"
#include "fs/ring.h"

/* One family of one unlabelled sample. */
static void
one(FILE *f, const char *name, const char *type, const char *help, double v)
{
	metrics_family(f, name, type, help);
	metrics_sample(f, name, NULL, NULL, v);
}

static double
num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_true(v) ? 1 : json_is_number(v) ? json_number_value(v) : 0;
}

static void
store_write(FILE *f)
{
	struct catalog_stats st;
	struct snapshot_progress sp;

	catalog_stats(fs.cat, &st);
	metrics_family(f, "vineyardfs_info", "gauge", "This daemon: its version and instance id.");
	fprintf(f, "vineyardfs_info{version=\"%s\",instance_id=\"%u\"} 1\n", PACKAGE_VERSION, st.instance_id);
	one(f, "vineyardfs_memory_limit_bytes", "gauge", "The memory limit (--memory).",
	    (double)st.memory_limit);
	one(f, "vineyardfs_memory_used_bytes", "gauge", "Memory the store uses now.", (double)st.memory_used);
	one(f, "vineyardfs_sealed_bytes", "gauge", "Bytes of sealed blobs, wherever they are.",
	    (double)st.bytes_sealed);
	one(f, "vineyardfs_in_memory_bytes", "gauge", "Bytes of sealed blobs in memory.",
	    (double)st.bytes_resident);
	one(f, "vineyardfs_spilled_bytes", "gauge",
	    "Bytes of sealed blobs with a copy in the spill directory.", (double)st.bytes_spilled);
	one(f, "vineyardfs_pinned_bytes", "gauge", "Bytes of pinned blobs.", (double)st.bytes_pinned);
	one(f, "vineyardfs_releasing_bytes", "gauge", "Bytes evicted whose memory is not given back yet.",
	    (double)st.bytes_releasing);
	one(f, "vineyardfs_objects", "gauge", "Objects of this member.", (double)st.objects);
	one(f, "vineyardfs_blobs", "gauge", "Blobs of this member, sealed or not.", (double)st.blobs);
	one(f, "vineyardfs_blobs_unsealed", "gauge", "Blobs being written.", (double)st.blobs_unsealed);
	one(f, "vineyardfs_names", "gauge", "Names of this member's objects.", (double)st.names);
	one(f, "vineyardfs_streams", "gauge", "Streams open or kept.", (double)streams_count(fs.streams));
	one(f, "vineyardfs_waiting_requests", "gauge",
	    "Requests parked until something comes (stream reads, waits for a name).", (double)park_count());
	one(f, "vineyardfs_creates_total", "counter", "Objects created.", (double)st.creates);
	one(f, "vineyardfs_seals_total", "counter", "Blobs sealed.", (double)st.seals);
	one(f, "vineyardfs_discards_total", "counter", "Blobs discarded unsealed.", (double)st.discards);
	one(f, "vineyardfs_deletes_total", "counter", "Objects deleted.", (double)st.deletes);
	one(f, "vineyardfs_passthrough", "gauge", "1 when reads and writes pass through to the blob files.",
	    pt_active() ? 1 : 0);
	one(f, "vineyardfs_fuse_uring", "gauge",
	    "1 when FUSE requests come through io_uring, 0 through /dev/fuse.", ring_active() ? 1 : 0);
	one(f, "vineyardfs_passthrough_opens_total", "counter", "Opens answered with passthrough.",
	    (double)pt_opens_total());
	one(f, "vineyardfs_passthrough_backing_files", "gauge", "Blob files registered with the kernel now.",
	    (double)pt_backing_count());
	one(f, "vineyardfs_served_reads_total", "counter", "Reads the daemon served itself (no passthrough).",
	    (double)atomic_load(&fs.n.reads));
	one(f, "vineyardfs_served_read_bytes_total", "counter", "Bytes of the reads the daemon served.",
	    (double)atomic_load(&fs.n.read_bytes));
	one(f, "vineyardfs_served_writes_total", "counter", "Writes the daemon served itself.",
	    (double)atomic_load(&fs.n.writes));
	one(f, "vineyardfs_served_write_bytes_total", "counter", "Bytes of the writes the daemon served.",
	    (double)atomic_load(&fs.n.write_bytes));
	one(f, "vineyardfs_spills_total", "counter", "Blobs written to the spill directory.",
	    (double)st.spills);
	one(f, "vineyardfs_spill_bytes_total", "counter", "Bytes written to the spill directory.",
	    (double)st.spill_bytes);
	one(f, "vineyardfs_spill_errors_total", "counter", "Spill write-outs that failed.",
	    (double)st.spill_errors);
	one(f, "vineyardfs_evictions_total", "counter", "Blobs evicted from memory.", (double)st.evictions);
	one(f, "vineyardfs_reloads_total", "counter", "Spilled blobs brought back into memory.",
	    (double)st.reloads);
	one(f, "vineyardfs_reload_bytes_total", "counter", "Bytes brought back from the spill directory.",
	    (double)st.reload_bytes);
	one(f, "vineyardfs_reload_errors_total", "counter", "Reloads that failed.", (double)st.reload_errors);
	snapshot_progress(&sp);
	one(f, "vineyardfs_snapshot_running", "gauge", "1 while a snapshot is being made.", sp.running);
	one(f, "vineyardfs_snapshot_bytes_done", "gauge",
	    "Bytes copied by the snapshot running or last made.", (double)sp.bytes_done);
	one(f, "vineyardfs_snapshots_total", "counter", "Snapshots made.", (double)sp.created);
	one(f, "vineyardfs_snapshot_errors_total", "counter", "Snapshots that failed.", (double)sp.failed);
}

static void
cluster_write(FILE *f)
{
	json_t *st, *peer, *cache, *m;
	unsigned members = 0, live = 0;
	const char *inst;

	if (fs.cluster == NULL || (st = cluster_status(fs.cluster)) == NULL)
		return;
	json_object_foreach (json_object_get(st, "members"), inst, m) {
		members++;
		live += json_is_true(json_object_get(m, "live"));
	}
	peer = json_object_get(st, "peer");
	cache = json_object_get(st, "cache");
	one(f, "vineyardfs_etcd_up", "gauge", "1 when etcd answered the last request.", num(st, "reachable"));
	one(f, "vineyardfs_cluster_joined", "gauge", "1 when this member holds its member key.",
	    num(st, "joined"));
	one(f, "vineyardfs_cluster_watching", "gauge", "1 while the watch of etcd is open.",
	    num(st, "watching"));
	one(f, "vineyardfs_etcd_seconds_since_contact", "gauge",
	    "Seconds since etcd last answered (-1: never).", num(st, "seconds_since_contact"));
	one(f, "vineyardfs_cluster_revision", "gauge", "The last etcd revision the mirror has seen.",
	    num(st, "revision"));
	one(f, "vineyardfs_cluster_members", "gauge", "Members the mirror knows.", members);
	one(f, "vineyardfs_cluster_members_live", "gauge", "Members holding a live lease.", live);
	one(f, "vineyardfs_publishes_queued", "gauge", "etcd requests waiting (etcd away or slow).",
	    num(st, "queued"));
	one(f, "vineyardfs_rejoins_total", "counter", "Joins again after the lease was lost.",
	    num(st, "rejoins"));
	one(f, "vineyardfs_peer_fetches_total", "counter", "Blobs fetched from other members.",
	    num(peer, "fetches"));
	one(f, "vineyardfs_peer_fetch_bytes_total", "counter", "Bytes fetched from other members.",
	    num(peer, "fetch_bytes"));
	one(f, "vineyardfs_peer_fetch_errors_total", "counter", "Fetches that failed.",
	    num(peer, "fetch_errors"));
	one(f, "vineyardfs_peer_fetch_seconds_total", "counter", "Time spent in fetches that succeeded.",
	    num(peer, "fetch_seconds"));
	one(f, "vineyardfs_peer_served_total", "counter", "Blobs sent to other members.",
	    num(peer, "served"));
	one(f, "vineyardfs_peer_served_bytes_total", "counter", "Bytes sent to other members.",
	    num(peer, "served_bytes"));
	one(f, "vineyardfs_peer_serve_errors_total", "counter", "Sends that failed.",
	    num(peer, "serve_errors"));
	one(f, "vineyardfs_fetched_copies", "gauge", "Copies of other members' blobs held here.",
	    num(cache, "copies"));
	one(f, "vineyardfs_fetched_copy_bytes", "gauge", "Bytes of those copies.", num(cache, "copy_bytes"));
	one(f, "vineyardfs_fetched_copy_drops_total", "counter", "Copies dropped to make room or on evict.",
	    num(cache, "drops"));
	json_decref(st);
}

int
metrics_render(char **text, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return -ENOMEM;
	opstats_write(f);
	request_metrics_write(f);
	store_write(f);
	cluster_write(f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*text = buf;
	*len = size;
	return 0;
}

/* GET /metrics; anything else is 404 or 405. */
static void
serve(void *arg, const char *method, const char *url, const char *body, size_t len, struct http_reply *r)
{
	char *text;
	size_t n;
	int rc;

	(void)arg;
	(void)body;
	(void)len;
	if (strcmp(url, "/metrics") != 0) {
		http_reply_text(r, 404, "no %s here: the metrics are at /metrics\n", url);
		return;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		http_reply_text(r, 405, "/metrics answers GET\n");
		return;
	}
	if ((rc = metrics_render(&text, &n)) != 0) {
		http_reply_text(r, 500, "cannot render the metrics: %s\n", strerror(-rc));
		return;
	}
	r->status = 200;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	r->body = text;
	r->len = n;
}

static http_t *server;

int
metrics_http_start(const char *addr)
{
	char err[256];
	int rc;

	if ((rc = http_start(addr, 4096, serve, NULL, &server, err, sizeof err)) != 0) {
		log_error("--metrics: %s", err);
		return rc;
	}
	log_info("metrics: http://%s/metrics (port %u)", addr, http_port(server));
	return 0;
}

void
metrics_http_stop(void)
{
	http_stop(server);
	server = NULL;
}
