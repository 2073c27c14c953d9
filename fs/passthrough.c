/*
 * passthrough: see passthrough.h. libfuse handles each request on the
 * thread that read it (clone_fd off) and replies from the handler, so a
 * thread-local "request being handled" is enough to pair a reply with its
 * request in the writev hook.
 *
 * Under a supervisor (supervisor.h) the hook also carries a connection
 * from one worker to the next. The kernel sends INIT once per connection:
 * the first worker keeps the request and the reply the kernel accepted; a
 * restarted worker reads the kept request first, swallows libfuse's reply
 * (the kernel would refuse a second one) and takes what was negotiated
 * from the kept reply. Until then its other threads wait at a gate, since
 * libfuse answers anything before INIT with EIO. Then FUSE_NOTIFY_RESEND
 * makes the kernel queue again the requests the dead worker had read and
 * not answered. Backing ids belong to the connection, not the worker: the
 * table of them is kept in the supervisor's memory and taken over.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/hmap.h"
#include "core/log.h"
#include "fs/fuse_ext.h"
#include "fs/passthrough.h"
#include "fs/supervisor.h"

/* Protocol 7.40 (Linux 6.9), include/uapi/linux/fuse.h; <linux/fuse.h>
 * of Debian 12 is 7.38. */
#define FUSE_EXT_HAS_RESEND_FLAG2 (1u << 7) /* FUSE_HAS_RESEND (1ULL << 39) in flags2 */
#define FUSE_EXT_NOTIFY_RESEND 7	    /* enum fuse_notify_code */

static int pt_enabled;	 /* passthrough wanted by the user */
static atomic_int pt_on; /* negotiated and not given up */
static int pt_devfd = -1;
static const char *pt_why = "not negotiated yet";

static pthread_mutex_t pt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hmap pt_ids; /* blob id -> entry (below); guarded by pt_lock */

/* An entry of pt_ids: the backing id, and the supervisor's slot + 1. */
_Static_assert(sizeof(uintptr_t) >= sizeof(uint64_t), "pt_ids entries need 64-bit pointers");
#define ENTRY(id, slot) ((void *)(uintptr_t)((uint32_t)(id) | (uint64_t)((slot) + 1) << 32))
#define ENTRY_ID(e) ((int)(uint32_t)(uintptr_t)(e))
#define ENTRY_SLOT(e) ((int)((uintptr_t)(e) >> 32) - 1)

/* INIT, under a supervisor. */
static unsigned char init_req[256]; /* the kernel's INIT, as read */
static size_t init_reqlen;
static int resend_offered; /* the kernel offered FUSE_HAS_RESEND */
static int replaying;	   /* a restarted worker: the kept INIT comes first */
static atomic_int init_taken, init_done;
static int gate_fd = -1; /* readable once the kept INIT is answered */

static __thread uint32_t req_opcode;
static __thread uint64_t req_unique;

/* Opens to pass through: handle number -> backing id, from
 * pt_open_reply until the hook sees the open's reply; guarded by
 * pt_lock. */
static struct hmap pt_replies;

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
static void
init_offered(const struct fuse_in_header *in, size_t n)
{
	const struct fuse_ext_init_in *init = (const void *)(in + 1);
	int ext = init->flags & FUSE_INIT_EXT;

	if (!pt_enabled)
		pt_why = "disabled by --no-passthrough";
	else if (!ext || !(init->flags2 & FUSE_EXT_PASSTHROUGH_FLAG2))
		pt_why = "the kernel does not offer FUSE passthrough (needs Linux 6.9+ "
			 "with CONFIG_FUSE_PASSTHROUGH)";
	else
		atomic_store(&pt_on, 1);
	resend_offered = ext && (init->flags2 & FUSE_EXT_HAS_RESEND_FLAG2);
	if (!replaying && n <= sizeof init_req) {
		memcpy(init_req, in, n);
		init_reqlen = n;
	}
}

/* A restarted worker's first read: the INIT the kernel sent the first. */
static ssize_t
replay_init(void *buf, size_t len)
{
	size_t n;
	const void *req = supervisor_init_request(&n);

	if (req == NULL || n > len) {
		errno = EIO;
		return -1;
	}
	memcpy(buf, req, n);
	return (ssize_t)n;
}

static ssize_t
hook_read(int fd, void *buf, size_t len, void *userdata)
{
	const struct fuse_in_header *in = buf;
	struct pollfd gate = { .fd = gate_fd, .events = POLLIN };
	ssize_t n;

	(void)userdata;
	if (replaying && !atomic_load(&init_done)) {
		if (atomic_exchange(&init_taken, 1) == 0) {
			n = replay_init(buf, len);
			goto got;
		}
		/* Wait at the gate; libfuse retries after EINTR. */
		if (poll(&gate, 1, -1) < 0)
			return -1;
	}
	if ((n = (ssize_t)supervisor_held(buf, len)) > 0)
		goto got;
	if ((n = read(fd, buf, len)) >= (ssize_t)sizeof *in)
		n = (ssize_t)supervisor_request(buf, (size_t)n);
got:
	if (n >= (ssize_t)sizeof *in) {
		req_opcode = in->opcode;
		req_unique = in->unique;
		if (in->opcode == FUSE_INIT &&
		    (size_t)n >= sizeof *in + offsetof(struct fuse_ext_init_in, unused))
			init_offered(in, (size_t)n);
	} else if (n < 0)
		n = -1;
	return n;
}

/* A restarted worker: libfuse answered the kept INIT (init, amended as
 * for the kernel); nothing goes to the kernel. What is in force is what
 * the kernel accepted from the first worker. Then the kernel queues again
 * what the dead worker had read, and the other threads start reading. */
static ssize_t
replay_done(const struct fuse_ext_init_out *init, size_t total)
{
	const struct fuse_ext_init_out *was;
	const unsigned char *kept;
	struct fuse_out_header resend = { .len = sizeof resend, .error = FUSE_EXT_NOTIFY_RESEND };
	uint64_t one = 1;
	size_t len;
	int pt;

	kept = supervisor_init_reply(&len);
	was = (const void *)(kept + sizeof(struct fuse_out_header));
	pt = len >= sizeof(struct fuse_out_header) + sizeof *was && (was->flags & FUSE_INIT_EXT) &&
	     (was->flags2 & FUSE_EXT_PASSTHROUGH_FLAG2);
	if (len >= sizeof(struct fuse_out_header) + sizeof *was &&
	    (was->minor != init->minor || was->flags != init->flags || was->flags2 != init->flags2 ||
		was->max_write != init->max_write))
		log_warn("this worker would negotiate other INIT parameters than the first did; the "
			 "kernel keeps the first's");
	if (pt != pt_active()) {
		atomic_store(&pt_on, pt);
		if (!pt)
			pt_why = "not negotiated by the connection's first worker";
	}
	if (resend_offered && write(pt_devfd, &resend, sizeof resend) != (ssize_t)sizeof resend)
		log_warn("FUSE_NOTIFY_RESEND failed: %s; requests the last worker had read may hang",
		    strerror(errno));
	log_info("worker %u took over the connection (data path %s; %s)", supervisor_generation(),
	    pt_active() ? "passthrough" : "fallback",
	    resend_offered ? "the kernel sends again what the last worker had not answered"
			   : "the kernel cannot resend what the last worker had not answered");
	atomic_store(&init_done, 1);
	if (write(gate_fd, &one, sizeof one) != (ssize_t)sizeof one)
		fatal("cannot open the gate after INIT: %s", strerror(errno));
	return (ssize_t)total;
}

/* The reply to INIT: passthrough (when on offer and wanted) and resend
 * asked for; under a supervisor, kept (first worker) or swallowed. */
static ssize_t
init_reply(int fd, struct iovec *iov, int count)
{
	const struct fuse_out_header *out = iov[0].iov_base;
	unsigned char copy[512];
	struct fuse_ext_init_out *init = (void *)copy;
	struct iovec mine[2];
	size_t len = count == 2 ? iov[1].iov_len : 0;
	ssize_t n;

	if (out->error != 0 || len < sizeof *init || len > sizeof copy) {
		if (replaying)
			fatal("libfuse refused the connection's INIT again: %s",
			    out->error != 0 ? strerror(-out->error) : "short reply");
		return writev(fd, iov, count);
	}
	memcpy(copy, iov[1].iov_base, len);
	if (init->flags & FUSE_INIT_EXT) {
		if (pt_active()) {
			init->flags2 |= FUSE_EXT_PASSTHROUGH_FLAG2;
			init->max_stack_depth = 1;
			init->flags &= ~FUSE_WRITEBACK_CACHE;
		}
		if (resend_offered)
			init->flags2 |= FUSE_EXT_HAS_RESEND_FLAG2;
	} else if (pt_active()) {
		atomic_store(&pt_on, 0);
		pt_why = "libfuse did not negotiate the extended INIT";
	}
	if (replaying)
		return replay_done(init, iov[0].iov_len + len);
	mine[0] = iov[0];
	mine[1].iov_base = copy;
	mine[1].iov_len = len;
	n = writev(fd, mine, 2);
	if (n >= 0 && supervisor_generation() > 0) {
		unsigned char reply[sizeof(struct fuse_out_header) + sizeof copy];

		memcpy(reply, out, sizeof *out);
		memcpy(reply + sizeof *out, copy, len);
		supervisor_init_save(init_req, init_reqlen, reply, sizeof *out + len);
		if (!resend_offered)
			log_warn("the kernel does not offer FUSE_HAS_RESEND (Linux 6.9+): after a "
				 "restart, requests the dead worker had read hang until interrupted");
	}
	return n;
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

static ssize_t
hook_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	const struct fuse_out_header *out = iov[0].iov_base;
	unsigned char copy[512];
	struct iovec mine[2];
	int backing = 0;
	size_t len;
	ssize_t n;

	(void)userdata;
	if (req_opcode == FUSE_INIT && out->unique == req_unique && out->unique != 0)
		return init_reply(fd, iov, count);
	if (count == 2 && out->error == 0 && out->unique == req_unique &&
	    (req_opcode == FUSE_OPEN || req_opcode == FUSE_CREATE) &&
	    (len = iov[1].iov_len) >= sizeof(struct fuse_ext_open_out) && len <= sizeof copy) {
		/* The open reply is the last 16 bytes of OPEN's and CREATE's. */
		struct fuse_ext_open_out *o;

		memcpy(copy, iov[1].iov_base, len);
		o = (void *)(copy + len - sizeof *o);
		if ((backing = reply_backing(o->fh)) > 0) {
			o->open_flags &= ~(FUSE_EXT_FOPEN_KEEP_CACHE | FUSE_EXT_FOPEN_DIRECT_IO);
			o->open_flags |= FUSE_EXT_FOPEN_PASSTHROUGH;
			o->backing_id = backing;
		}
	}
	if (supervisor_swallow(iov, count)) {
		for (n = 0, len = 0; n < count; n++)
			len += iov[n].iov_len;
		return (ssize_t)len;
	}
	if (backing > 0) {
		mine[0] = iov[0];
		mine[1].iov_base = copy;
		mine[1].iov_len = len;
		n = writev(fd, mine, 2);
	} else
		n = writev(fd, iov, count);
	if (n >= 0)
		supervisor_reply(out);
	return n;
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

int
pt_install(struct fuse_session *se, int enable)
{
	static const struct fuse_custom_io io = {
		.read = hook_read,
		.writev = hook_writev,
	};

	size_t len;
	unsigned n[2] = { 0, 0 };

	pt_enabled = enable;
	pt_devfd = fuse_session_fd(se);
	hmap_init(&pt_ids);
	hmap_init(&pt_replies);
	if (supervisor_init_request(&len) != NULL) {
		replaying = 1;
		if ((gate_fd = eventfd(0, EFD_CLOEXEC)) < 0)
			return -errno;
		supervisor_backing_foreach(take_over, n);
		if (n[0] + n[1] > 0)
			log_info(
			    "backing ids of earlier workers: %u kept, %u of freed blobs closed", n[0], n[1]);
	}
	return fuse_session_custom_io(se, &io, pt_devfd);
}

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
