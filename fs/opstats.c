/*
 * opstats: the FUSE requests this daemon answers, counted per opcode, with
 * the time from reading each request to writing its reply, as a filter of
 * the I/O chain (iochain.h) at its tail: it sees every request the
 * kernel sends and every reply, whichever thread sends it (a parked
 * request is answered later from another). A request is remembered in a
 * table of in-flight requests by its unique id; a slot taken again before
 * its reply came (only with more than OPSTATS_SLOTS requests in flight)
 * loses that one latency, never a count. Requests that have no reply
 * (FORGET, BATCH_FORGET, INTERRUPT) are counted alone.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>

#include <linux/fuse.h>

#include "core/metrics.h"
#include "core/util.h"
#include "fs/iochain.h"
#include "fs/opstats.h"

#define OPSTATS_SLOTS 4096
#define OPCODES 53 /* 1..52 (FUSE_STATX is 52 in protocol 7.39); 0: any other */

static const char *const names[OPCODES] = { "OTHER", "LOOKUP", "FORGET", "GETATTR", "SETATTR", "READLINK",
	"SYMLINK", "UNKNOWN_7", "MKNOD", "MKDIR", "UNLINK", "RMDIR", "RENAME", "LINK", "OPEN", "READ",
	"WRITE", "STATFS", "RELEASE", "UNKNOWN_19", "FSYNC", "SETXATTR", "GETXATTR", "LISTXATTR",
	"REMOVEXATTR", "FLUSH", "INIT", "OPENDIR", "READDIR", "RELEASEDIR", "FSYNCDIR", "GETLK", "SETLK",
	"SETLKW", "ACCESS", "CREATE", "INTERRUPT", "BMAP", "DESTROY", "IOCTL", "POLL", "NOTIFY_REPLY",
	"BATCH_FORGET", "FALLOCATE", "READDIRPLUS", "RENAME2", "LSEEK", "COPY_FILE_RANGE", "SETUPMAPPING",
	"REMOVEMAPPING", "SYNCFS", "TMPFILE", "STATX" };

struct slot {
	atomic_uint_fast64_t unique; /* 0: free */
	atomic_int_fast64_t t0_ns;
	atomic_uint opcode;
};

static struct slot inflight[OPSTATS_SLOTS];
static struct metrics_hist hist[OPCODES];
static atomic_uint_fast64_t requests[OPCODES];

static unsigned
index_of(uint32_t opcode)
{
	return opcode < OPCODES ? opcode : 0;
}

static size_t
request(void *buf, size_t len, size_t size)
{
	const struct fuse_in_header *in = buf;
	unsigned op = index_of(in->opcode);
	struct slot *s;

	(void)size;
	atomic_fetch_add_explicit(&requests[op], 1, memory_order_relaxed);
	if (in->opcode == FUSE_FORGET || in->opcode == FUSE_BATCH_FORGET || in->opcode == FUSE_INTERRUPT)
		return len;
	s = &inflight[in->unique % OPSTATS_SLOTS];
	atomic_store_explicit(&s->unique, 0, memory_order_relaxed);
	atomic_store_explicit(&s->t0_ns, util_mono_ns(), memory_order_relaxed);
	atomic_store_explicit(&s->opcode, op, memory_order_relaxed);
	atomic_store_explicit(&s->unique, in->unique, memory_order_release);
	return len;
}

static int
reply(struct iochain_reply *r)
{
	const struct fuse_out_header *out = r->iov[0].iov_base;
	struct slot *s;
	uint_fast64_t unique;
	int64_t t0;
	unsigned op;

	if (out->unique == 0)
		return 0; /* a notification */
	s = &inflight[out->unique % OPSTATS_SLOTS];
	unique = out->unique;
	t0 = atomic_load_explicit(&s->t0_ns, memory_order_relaxed);
	op = atomic_load_explicit(&s->opcode, memory_order_relaxed);
	/* Ours only if the slot still holds this request; taking it back
	 * (0) makes a second reply, or a racing request, not count twice. */
	if (!atomic_compare_exchange_strong(&s->unique, &unique, 0))
		return 0;
	metrics_observe(&hist[op], (uint64_t)(util_mono_ns() - t0));
	return 0;
}

const struct iochain_filter opstats_filter = {
	.name = "opstats",
	.request = request,
	.reply = reply,
};

void
opstats_write(FILE *f)
{
	unsigned i;

	metrics_family(f, "vineyardfs_fuse_requests_total", "counter",
	    "FUSE requests received, by opcode (FORGET and BATCH_FORGET have no reply).");
	for (i = 0; i < OPCODES; i++)
		if (atomic_load(&requests[i]) > 0)
			metrics_sample(f, "vineyardfs_fuse_requests_total", "opcode", names[i],
			    (double)atomic_load(&requests[i]));
	metrics_family(f, "vineyardfs_fuse_request_duration_seconds", "histogram",
	    "Time from reading a FUSE request to writing its reply, by opcode.");
	for (i = 0; i < OPCODES; i++)
		if (atomic_load(&hist[i].count) > 0)
			metrics_hist_write(
			    f, "vineyardfs_fuse_request_duration_seconds", "opcode", names[i], &hist[i]);
}
