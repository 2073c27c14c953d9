/*
 * iochain: see iochain.h. The hook pairs each reply with the opcode of
 * the request it answers, so that filters can tell an INIT or OPEN reply
 * from others (a reply carries only the request's unique id).
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include <linux/fuse.h>

#include "fs/control_keep.h"
#include "fs/fs.h"
#include "fs/iochain.h"
#include "fs/killpriv.h"
#include "fs/opstats.h"
#include "fs/passthrough.h"
#include "fs/ring.h"
#include "fs/takeover.h"

/* The chain, from the head (nearest the device) to the tail. */
static const struct iochain_filter *const chain[] = {
	&ring_filter, /* the transport: asks for the ring, starts it after INIT */
	&takeover_filter, &control_keep_filter, &pt_filter, &killpriv_filter,
	&opstats_filter, /* the tail: sees every request and every reply first */
};

#define NCHAIN (sizeof chain / sizeof chain[0])

/* The request this thread is handling, to pair replies with. libfuse
 * 3.14 handles a request on the thread that read it (clone_fd is off)
 * and its hook API passes no request to writev: a thread-local is the
 * association. The replies that need it (INIT, OPEN, CREATE) are sent by
 * their handler on that thread; a reply sent from another thread (a
 * parked request's) finds no match and has opcode 0. */
static __thread uint32_t req_opcode;
static __thread uint64_t req_unique;

/* Pass request buf (len bytes of size) through the filters from the
 * one at from on, and remember it for its reply. */
static size_t
filter(size_t from, void *buf, size_t len, size_t size)
{
	const struct fuse_in_header *in = buf;
	size_t i;

	for (i = from; i < NCHAIN && len >= sizeof *in; i++)
		if (chain[i]->request != NULL)
			len = chain[i]->request(buf, len, size);
	if (len >= sizeof *in) {
		req_opcode = in->opcode;
		req_unique = in->unique;
	}
	return len;
}

ssize_t
iochain_read(int fd, void *buf, size_t len)
{
	ssize_t n = 0;
	size_t i, from = 0;

	for (i = 0; i < NCHAIN && n == 0; i++) {
		if (chain[i]->source != NULL && (n = chain[i]->source(buf, len)) != 0)
			from = i + 1;
	}
	if (n < 0)
		return -1;
	if (n == 0 && (n = read(fd, buf, len)) < 0)
		return -1;
	return (ssize_t)filter(from, buf, (size_t)n, len);
}

size_t
iochain_request(void *buf, size_t len, size_t size)
{
	return filter(0, buf, len, size);
}

ssize_t
iochain_writev(int fd, struct iovec *iov, int count)
{
	const struct fuse_out_header *out = iov[0].iov_base;
	struct iochain_reply r;
	size_t i, total = 0;
	ssize_t n;
	int k;

	r.iov = iov;
	r.count = count;
	r.opcode = out->unique == req_unique && out->unique != 0 ? req_opcode : 0;
	for (k = 0; k < count; k++)
		total += iov[k].iov_len;
	for (i = NCHAIN; i-- > 0;)
		if (chain[i]->reply != NULL && chain[i]->reply(&r) != 0)
			return (ssize_t)total; /* swallowed */
	/* A ring request's reply goes back through its ring entry. */
	if ((n = ring_reply(r.iov, r.count)) == 0 && (n = writev(fd, r.iov, r.count)) < 0)
		return n;
	for (i = NCHAIN; i-- > 0;)
		if (chain[i]->sent != NULL)
			chain[i]->sent(&r);
	return n;
}

static ssize_t
hook_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)userdata;
	return iochain_read(fd, buf, len);
}

static ssize_t
hook_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	return iochain_writev(fd, iov, count);
}

int
iochain_install(struct fuse_session *se, int devfd, int passthrough)
{
	static const struct fuse_custom_io io = {
		.read = hook_read,
		.writev = hook_writev,
	};
	size_t i;
	int rc;

	for (i = 0; i < NCHAIN; i++)
		if (chain[i]->start != NULL && (rc = chain[i]->start(devfd, passthrough)) != 0)
			return rc;
	return se != NULL ? fuse_session_custom_io(se, &io, devfd) : 0;
}
