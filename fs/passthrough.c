/*
 * passthrough: see passthrough.h. Its filter of the I/O chain (iochain.h)
 * sees the kernel's INIT (is passthrough on offer?), asks for it in the
 * reply, and marks the replies of the opens file.c chose to pass through
 * (pt_open_reply) with FOPEN_PASSTHROUGH and their backing id. Backing
 * ids belong to the connection, not the worker: under a supervisor the
 * table of them is kept in the supervisor's memory and taken over by a
 * restarted worker (takeover.c replays the connection's INIT).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/hmap.h"
#include "core/log.h"
#include "fs/fuse_ext.h"
#include "fs/iochain.h"
#include "fs/passthrough.h"
#include "fs/supervisor.h"

static int pt_enabled;		      /* passthrough wanted by the user */
static atomic_int pt_on;	      /* negotiated and not given up */
static atomic_uint_fast64_t pt_opens; /* opens answered with passthrough */
static int pt_devfd = -1;
static const char *pt_why = "not negotiated yet";

static pthread_mutex_t pt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hmap pt_ids; /* blob id -> entry (below); guarded by pt_lock */

/* An entry of pt_ids: the backing id, and the supervisor's slot + 1. */
_Static_assert(sizeof(uintptr_t) >= sizeof(uint64_t), "pt_ids entries need 64-bit pointers");
#define ENTRY(id, slot) ((void *)(uintptr_t)((uint32_t)(id) | (uint64_t)((slot) + 1) << 32))
#define ENTRY_ID(e) ((int)(uint32_t)(uintptr_t)(e))
#define ENTRY_SLOT(e) ((int)((uintptr_t)(e) >> 32) - 1)

/* Opens to pass through: handle number -> backing id, from
 * pt_open_reply until the hook sees the open's reply; guarded by
 * pt_lock. */
static struct hmap pt_replies;

uint64_t
pt_opens_total(void)
{
	return atomic_load(&pt_opens);
}

uint64_t
pt_backing_count(void)
{
	uint64_t n;

	pthread_mutex_lock(&pt_lock);
	n = pt_ids.count;
	pthread_mutex_unlock(&pt_lock);
	return n;
}

int
pt_active(void)
{
	return atomic_load(&pt_on);
}

const char *
pt_reason(void)
{
	return pt_active() ? "" : pt_why;
}

/* The INIT request has come (read or replayed): is passthrough on offer? */
static size_t
pt_request(void *buf, size_t len, size_t size)
{
	const struct fuse_in_header *in = buf;
	const struct fuse_ext_init_in *init = (const void *)(in + 1);
	int ext;

	(void)size;
	if (in->opcode != FUSE_INIT || len < sizeof *in + offsetof(struct fuse_ext_init_in, unused))
		return len;
	ext = init->flags & FUSE_INIT_EXT;
	if (!pt_enabled)
		pt_why = "disabled by --no-passthrough";
	else if (!ext || !(init->flags2 & FUSE_EXT_PASSTHROUGH_FLAG2))
		pt_why = "the kernel does not offer FUSE passthrough (needs Linux 6.9+ "
			 "with CONFIG_FUSE_PASSTHROUGH)";
	else
		atomic_store(&pt_on, 1);
	return len;
}

void
pt_connection(int on)
{
	if (on == pt_active())
		return;
	atomic_store(&pt_on, on);
	if (!on)
		pt_why = "not negotiated by the connection's first worker";
}

/* The backing id the open that made handle fh passes through to, taken
 * from pt_replies; 0: none. */
static int
reply_backing(uint64_t fh)
{
	void *e;

	pthread_mutex_lock(&pt_lock);
	if ((e = hmap_find(&pt_replies, fh)) != NULL)
		hmap_remove(&pt_replies, fh, e);
	pthread_mutex_unlock(&pt_lock);
	return (int)(uintptr_t)e;
}

/* The reply to INIT asks for passthrough (when on offer and wanted);
 * the reply to an open that passes through says so, with its backing id. */
static int
pt_reply(struct iochain_reply *r)
{
	const struct fuse_out_header *out = r->iov[0].iov_base;
	struct fuse_ext_init_out *init;
	struct fuse_ext_open_out *o;
	size_t len;
	char *body = iochain_reply_body(r, &len);
	int backing;

	if (out->error != 0 || body == NULL)
		return 0;
	if (r->opcode == FUSE_INIT && len >= sizeof *init && len <= sizeof r->body) {
		init = (void *)body;
		if (!(init->flags & FUSE_INIT_EXT)) {
			if (pt_active()) {
				atomic_store(&pt_on, 0);
				pt_why = "libfuse did not negotiate the extended INIT";
			}
		} else if (pt_active() && iochain_reply_own(r) == 0) {
			init = (void *)r->body;
			init->flags2 |= FUSE_EXT_PASSTHROUGH_FLAG2;
			init->max_stack_depth = 1;
			init->flags &= ~FUSE_WRITEBACK_CACHE;
		}
	}
	if ((r->opcode == FUSE_OPEN || r->opcode == FUSE_CREATE) && len >= sizeof *o) {
		/* The open reply is the last 16 bytes of OPEN's and CREATE's. */
		o = (void *)(body + len - sizeof *o);
		if ((backing = reply_backing(o->fh)) > 0 && iochain_reply_own(r) == 0) {
			o = (void *)(r->body + len - sizeof *o);
			o->open_flags &= ~(FUSE_EXT_FOPEN_KEEP_CACHE | FUSE_EXT_FOPEN_DIRECT_IO);
			o->open_flags |= FUSE_EXT_FOPEN_PASSTHROUGH;
			o->backing_id = backing;
			atomic_fetch_add_explicit(&pt_opens, 1, memory_order_relaxed);
		}
	}
	return 0;
}

/* A backing id an earlier worker registered: keep it while its blob
 * exists (reopening the blob must pass through to the same backing file,
 * or the kernel refuses while old opens last); else close it. */
static void
take_over(void *arg, uint64_t blob_id, int backing_id, int slot)
{
	struct catalog_attr a;
	uint32_t bid = (uint32_t)backing_id;
	unsigned *n = arg;

	if (catalog_getattr(fs.cat, blob_id, &a) == 0 &&
	    hmap_insert(&pt_ids, blob_id, ENTRY(backing_id, slot)) == 0) {
		n[0]++;
		return;
	}
	supervisor_backing_del(slot);
	if (ioctl(pt_devfd, FUSE_EXT_DEV_IOC_BACKING_CLOSE, &bid) == 0)
		n[1]++;
}

static int
pt_start(int devfd, int passthrough)
{
	size_t len;
	unsigned n[2] = { 0, 0 };

	pt_enabled = passthrough;
	atomic_store(&pt_on, 0);
	pt_why = "not negotiated yet";
	pt_devfd = devfd;
	hmap_init(&pt_ids);
	hmap_init(&pt_replies);
	if (supervisor_init_request(&len) != NULL) {
		supervisor_backing_foreach(take_over, n);
		if (n[0] + n[1] > 0)
			log_info(
			    "backing ids of earlier workers: %u kept, %u of freed blobs closed", n[0], n[1]);
	}
	return 0;
}

const struct iochain_filter pt_filter = {
	.name = "passthrough",
	.start = pt_start,
	.request = pt_request,
	.reply = pt_reply,
};

/* Give passthrough up for good (nothing has passed through yet). */
static void
give_up(const char *why)
{
	atomic_store(&pt_on, 0);
	pt_why = why;
	log_warn("FUSE passthrough unavailable: %s; the daemon serves reads and writes itself", why);
}

int
pt_backing_get(uint64_t blob_id, int fd)
{
	struct fuse_ext_backing_map map = { .fd = fd };
	void *e;
	int id = 0, rc, slot;

	if (!pt_active())
		return 0;
	pthread_mutex_lock(&pt_lock);
	if ((e = hmap_find(&pt_ids, blob_id)) != NULL) {
		id = ENTRY_ID(e);
		goto out;
	}
	rc = ioctl(pt_devfd, FUSE_EXT_DEV_IOC_BACKING_OPEN, &map);
	if (rc <= 0) {
		int err = errno;

		if (pt_ids.count == 0) {
			/* First registration: nothing passes through yet, so the
			 * whole mount can still fall back consistently. */
			give_up(err == EPERM ? "registering a backing file needs CAP_SYS_ADMIN"
					     : "the kernel refused to register a backing file");
			log_warn("FUSE_DEV_IOC_BACKING_OPEN: %s", strerror(err));
		} else
			log_error("cannot register the backing file of a blob: %s", strerror(err));
		id = 0;
		goto out;
	}
	/* Kept for a successor before anyone can use it. */
	slot = supervisor_backing_add(blob_id, rc);
	if (hmap_insert(&pt_ids, blob_id, ENTRY(rc, slot)) != 0) {
		uint32_t bid = (uint32_t)rc;

		supervisor_backing_del(slot);
		ioctl(pt_devfd, FUSE_EXT_DEV_IOC_BACKING_CLOSE, &bid);
		goto out;
	}
	id = rc;
out:
	pthread_mutex_unlock(&pt_lock);
	if (id == 0 && pt_active())
		return -EIO; /* mixing modes on one file would fail anyway */
	return id;
}

void
pt_open_reply(uint64_t fh, int backing_id)
{
	int rc;

	pthread_mutex_lock(&pt_lock);
	rc = hmap_insert(&pt_replies, fh, (void *)(uintptr_t)backing_id);
	pthread_mutex_unlock(&pt_lock);
	if (rc != 0)
		log_error("out of memory: an open of a blob that passes through is answered without");
}

void
pt_blob_freed(uint64_t blob_id)
{
	void *e;

	pthread_mutex_lock(&pt_lock);
	if ((e = hmap_find(&pt_ids, blob_id)) != NULL) {
		uint32_t bid = (uint32_t)ENTRY_ID(e);

		hmap_remove(&pt_ids, blob_id, e);
		/* Forgotten before closed: a successor never uses a closed id. */
		supervisor_backing_del(ENTRY_SLOT(e));
		if (ioctl(pt_devfd, FUSE_EXT_DEV_IOC_BACKING_CLOSE, &bid) != 0)
			log_warn("FUSE_DEV_IOC_BACKING_CLOSE %u: %s", bid, strerror(errno));
	}
	pthread_mutex_unlock(&pt_lock);
}
