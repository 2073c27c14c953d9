/*
 * takeover: see takeover.h. A restarted worker replays the kept INIT on
 * the first thread that reads; the others wait at a gate (an eventfd)
 * until libfuse has answered it.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "fs/fuse_ext.h"
#include "fs/passthrough.h"
#include "fs/supervisor.h"
#include "fs/takeover.h"

/* Protocol 7.40 (Linux 6.9), include/uapi/linux/fuse.h; <linux/fuse.h>
 * of Debian 12 is 7.38. */
#define FUSE_EXT_HAS_RESEND_FLAG2 (1u << 7) /* FUSE_HAS_RESEND (1ULL << 39) in flags2 */
#define FUSE_EXT_NOTIFY_RESEND 7	    /* enum fuse_notify_code */

static int devfd = -1;
static unsigned char init_req[256]; /* the kernel's INIT, as read */
static size_t init_reqlen;
static int resend_offered; /* the kernel offered FUSE_HAS_RESEND */
static int replaying;	   /* a restarted worker: the kept INIT comes first */
static atomic_int init_taken, init_done;
static int gate_fd = -1; /* readable once the kept INIT is answered */

/* The INIT request came (read, or replayed), len bytes at in: does the
 * kernel offer FUSE_HAS_RESEND? The first worker keeps it. */
static void
note_init(const struct fuse_in_header *in, size_t len)
{
	const struct fuse_ext_init_in *init = (const void *)(in + 1);

	if (in->opcode != FUSE_INIT || len < sizeof *in + offsetof(struct fuse_ext_init_in, unused))
		return;
	resend_offered = (init->flags & FUSE_INIT_EXT) && (init->flags2 & FUSE_EXT_HAS_RESEND_FLAG2);
	if (!replaying && len <= sizeof init_req) {
		memcpy(init_req, in, len);
		init_reqlen = len;
	}
}

static int
start(int fd, int passthrough)
{
	size_t len;

	(void)passthrough;
	devfd = fd;
	if (supervisor_init_request(&len) != NULL) {
		replaying = 1;
		if ((gate_fd = eventfd(0, EFD_CLOEXEC)) < 0)
			return -errno;
	}
	return 0;
}

/* A restarted worker's first read: the INIT the kernel sent the first;
 * the other threads wait at the gate; then requests held back. */
static ssize_t
source(void *buf, size_t size)
{
	struct pollfd gate = { .fd = gate_fd, .events = POLLIN };
	const void *req;
	size_t n;

	if (replaying && !atomic_load(&init_done)) {
		if (atomic_exchange(&init_taken, 1) == 0) {
			if ((req = supervisor_init_request(&n)) == NULL || n > size) {
				errno = EIO;
				return -1;
			}
			memcpy(buf, req, n);
			note_init(buf, n);
			return (ssize_t)n;
		}
		/* Wait at the gate; libfuse retries after EINTR. */
		if (poll(&gate, 1, -1) < 0)
			return -1;
	}
	return (ssize_t)supervisor_held(buf, size);
}

static size_t
request(void *buf, size_t len, size_t size)
{
	(void)size;
	note_init(buf, len);
	return supervisor_request(buf, len);
}

/* A restarted worker: libfuse answered the kept INIT (init, amended as
 * for the kernel); nothing goes to the kernel. What is in force is what
 * the kernel accepted from the first worker. Then the kernel queues again
 * what the dead worker had read, and the other threads start reading. */
static void
replay_done(const struct fuse_ext_init_out *init)
{
	const struct fuse_ext_init_out *was;
	const unsigned char *kept;
	struct fuse_out_header resend = { .len = sizeof resend, .error = FUSE_EXT_NOTIFY_RESEND };
	uint64_t one = 1;
	size_t len;

	kept = supervisor_init_reply(&len);
	was = (const void *)(kept + sizeof(struct fuse_out_header));
	if (len >= sizeof(struct fuse_out_header) + sizeof *was &&
	    (was->minor != init->minor || was->flags != init->flags || was->flags2 != init->flags2 ||
		was->max_write != init->max_write))
		log_warn("this worker would negotiate other INIT parameters than the first did; the "
			 "kernel keeps the first's");
	pt_connection(len >= sizeof(struct fuse_out_header) + sizeof *was && (was->flags & FUSE_INIT_EXT) &&
		      (was->flags2 & FUSE_EXT_PASSTHROUGH_FLAG2));
	if (resend_offered && write(devfd, &resend, sizeof resend) != (ssize_t)sizeof resend)
		log_warn("FUSE_NOTIFY_RESEND failed: %s; requests the last worker had read may hang",
		    strerror(errno));
	log_info("worker %u took over the connection (data path %s; %s)", fs.generation,
	    pt_active() ? "passthrough" : "fallback",
	    resend_offered ? "the kernel sends again what the last worker had not answered"
			   : "the kernel cannot resend what the last worker had not answered");
	atomic_store(&init_done, 1);
	if (write(gate_fd, &one, sizeof one) != (ssize_t)sizeof one)
		fatal("cannot open the gate after INIT: %s", strerror(errno));
}

/* Is r a reply to INIT that libfuse accepted? Its body then, in *init. */
static int
init_ok(struct iochain_reply *r, struct fuse_ext_init_out **init)
{
	const struct fuse_out_header *out = r->iov[0].iov_base;
	size_t len;

	*init = iochain_reply_body(r, &len);
	return out->error == 0 && len >= sizeof **init && len <= sizeof r->body;
}

static int
reply(struct iochain_reply *r)
{
	const struct fuse_out_header *out = r->iov[0].iov_base;
	struct fuse_ext_init_out *init;

	if (r->opcode != FUSE_INIT)
		return supervisor_swallow(r->iov, r->count);
	if (!init_ok(r, &init)) {
		if (replaying)
			fatal("libfuse refused the connection's INIT again: %s",
			    out->error != 0 ? strerror(-out->error) : "short reply");
		return 0;
	}
	if ((init->flags & FUSE_INIT_EXT) && resend_offered && iochain_reply_own(r) == 0) {
		init = iochain_reply_body(r, &(size_t){ 0 });
		init->flags2 |= FUSE_EXT_HAS_RESEND_FLAG2;
	}
	if (!replaying)
		return 0;
	replay_done(init);
	return 1;
}

/* The first worker's INIT reply reached the kernel: kept for the next. */
static void
sent(const struct iochain_reply *r)
{
	const struct fuse_out_header *out = r->iov[0].iov_base;
	unsigned char kept[sizeof(struct fuse_out_header) + sizeof r->body];
	struct fuse_ext_init_out *init;
	size_t len;

	if (r->opcode != FUSE_INIT)
		return;
	if (!init_ok((struct iochain_reply *)r, &init) || fs.generation == 0)
		return;
	iochain_reply_body(r, &len);
	memcpy(kept, out, sizeof *out);
	memcpy(kept + sizeof *out, init, len);
	supervisor_init_save(init_req, init_reqlen, kept, sizeof *out + len);
	if (!resend_offered)
		log_warn("the kernel does not offer FUSE_HAS_RESEND (Linux 6.9+): after a "
			 "restart, requests the dead worker had read hang until interrupted");
}

const struct iochain_filter takeover_filter = {
	.name = "takeover",
	.start = start,
	.source = source,
	.request = request,
	.reply = reply,
	.sent = sent,
};
