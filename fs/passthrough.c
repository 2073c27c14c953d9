/*
 * passthrough: see passthrough.h. libfuse handles each request on the
 * thread that read it (clone_fd off) and replies from the handler, so a
 * thread-local "request being handled" is enough to pair a reply with its
 * request in the writev hook.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/hmap.h"
#include "core/log.h"
#include "fs/fuse_ext.h"
#include "fs/passthrough.h"

static int pt_enabled;	  /* passthrough wanted by the user */
static atomic_int pt_on;  /* negotiated and not given up */
static int pt_devfd = -1;
static const char *pt_why = "not negotiated yet";

static pthread_mutex_t pt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hmap pt_ids; /* blob id -> backing id (as uintptr_t); guarded by pt_lock */

static __thread uint32_t req_opcode;
static __thread uint64_t req_unique;
static __thread int reply_backing; /* > 0: mark the next OPEN/CREATE reply */

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

static ssize_t
hook_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);
	const struct fuse_in_header *in = buf;

	(void)userdata;
	if (n >= (ssize_t)sizeof *in) {
		req_opcode = in->opcode;
		req_unique = in->unique;
		reply_backing = 0;
		if (in->opcode == FUSE_INIT &&
		    (size_t)n >= sizeof *in + offsetof(struct fuse_ext_init_in, unused)) {
			const struct fuse_ext_init_in *init = (const void *)(in + 1);
			int offered = (init->flags & FUSE_INIT_EXT) &&
			    (init->flags2 & FUSE_EXT_PASSTHROUGH_FLAG2);

			if (!pt_enabled)
				pt_why = "disabled by --no-passthrough";
			else if (!offered)
				pt_why = "the kernel does not offer FUSE passthrough (needs Linux 6.9+ "
					 "with CONFIG_FUSE_PASSTHROUGH)";
			else
				atomic_store(&pt_on, 1);
		}
	} else if (n < 0)
		n = -1;
	return n;
}

static ssize_t
hook_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	const struct fuse_out_header *out = iov[0].iov_base;
	unsigned char copy[512];
	struct iovec mine[2];
	size_t len;

	(void)userdata;
	if (count != 2 || out->error != 0 || out->unique != req_unique)
		return writev(fd, iov, count);
	len = iov[1].iov_len;
	if (req_opcode == FUSE_INIT && pt_active() && len >= sizeof(struct fuse_ext_init_out) &&
	    len <= sizeof copy) {
		struct fuse_ext_init_out *init = (void *)copy;

		memcpy(copy, iov[1].iov_base, len);
		if (init->flags & FUSE_INIT_EXT) {
			init->flags2 |= FUSE_EXT_PASSTHROUGH_FLAG2;
			init->max_stack_depth = 1;
			init->flags &= ~FUSE_WRITEBACK_CACHE;
		} else {
			atomic_store(&pt_on, 0);
			pt_why = "libfuse did not negotiate the extended INIT";
		}
	} else if ((req_opcode == FUSE_OPEN || req_opcode == FUSE_CREATE) && reply_backing > 0 &&
	    len >= sizeof(struct fuse_ext_open_out) && len <= sizeof copy) {
		/* The open reply is the last 16 bytes of OPEN's and CREATE's. */
		struct fuse_ext_open_out *o;

		memcpy(copy, iov[1].iov_base, len);
		o = (void *)(copy + len - sizeof *o);
		o->open_flags &= ~(FUSE_EXT_FOPEN_KEEP_CACHE | FUSE_EXT_FOPEN_DIRECT_IO);
		o->open_flags |= FUSE_EXT_FOPEN_PASSTHROUGH;
		o->backing_id = reply_backing;
		reply_backing = 0;
	} else
		return writev(fd, iov, count);
	mine[0] = iov[0];
	mine[1].iov_base = copy;
	mine[1].iov_len = len;
	return writev(fd, mine, 2);
}

int
pt_install(struct fuse_session *se, int enable)
{
	static const struct fuse_custom_io io = {
		.read = hook_read,
		.writev = hook_writev,
	};

	pt_enabled = enable;
	pt_devfd = fuse_session_fd(se);
	hmap_init(&pt_ids);
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
pt_backing_find(uint64_t blob_id)
{
	uintptr_t id;

	if (!pt_active())
		return 0;
	pthread_mutex_lock(&pt_lock);
	id = (uintptr_t)hmap_find(&pt_ids, blob_id);
	pthread_mutex_unlock(&pt_lock);
	return (int)id;
}

int
pt_backing_get(uint64_t blob_id, int fd)
{
	struct fuse_ext_backing_map map = { .fd = fd };
	uintptr_t id;
	int rc;

	if (!pt_active())
		return 0;
	pthread_mutex_lock(&pt_lock);
	id = (uintptr_t)hmap_find(&pt_ids, blob_id);
	if (id != 0)
		goto out;
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
	id = (uintptr_t)rc;
	if (hmap_insert(&pt_ids, blob_id, (void *)id) != 0) {
		uint32_t bid = (uint32_t)id;

		ioctl(pt_devfd, FUSE_EXT_DEV_IOC_BACKING_CLOSE, &bid);
		id = 0;
	}
out:
	pthread_mutex_unlock(&pt_lock);
	if (id == 0 && pt_active())
		return -EIO; /* mixing modes on one file would fail anyway */
	return (int)id;
}

void
pt_mark_reply(int backing_id)
{
	reply_backing = backing_id;
}

void
pt_blob_freed(uint64_t blob_id)
{
	uintptr_t id;

	pthread_mutex_lock(&pt_lock);
	id = (uintptr_t)hmap_find(&pt_ids, blob_id);
	if (id != 0) {
		uint32_t bid = (uint32_t)id;

		hmap_remove(&pt_ids, blob_id, (void *)id);
		if (ioctl(pt_devfd, FUSE_EXT_DEV_IOC_BACKING_CLOSE, &bid) != 0)
			log_warn("FUSE_DEV_IOC_BACKING_CLOSE %u: %s", bid, strerror(errno));
	}
	pthread_mutex_unlock(&pt_lock);
}
