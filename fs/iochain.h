/*
 * iochain: the one custom-I/O hook on the /dev/fuse descriptor (libfuse
 * 3.14's fuse_session_custom_io), as an ordered chain of filters (the
 * table in iochain.c). Requests pass the filters from the head, the one
 * nearest the device, to the tail; replies from the tail back to the
 * head. The head is the supervisor's takeover (takeover.c: a restarted
 * worker's INIT, revived handles), then the control file's requests kept
 * for the next worker (control_keep.c), then passthrough (passthrough.c:
 * the INIT and OPEN replies amended), then killpriv (killpriv.c: the INIT
 * reply takes on clearing set-user-ID bits). The transport, FUSE over
 * io_uring (ring.h), is at the head: it asks for the ring in INIT, feeds
 * the requests of its entries through the filters (iochain_request), and
 * takes their replies after the filters instead of /dev/fuse.
 */
#ifndef VFS_IOCHAIN_H
#define VFS_IOCHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>

struct fuse_session;

/* A reply on its way to the kernel: the out header in iov[0], its body
 * (if any) in iov[1] and further. A filter that amends the body takes it
 * into body first (iochain_reply_own) and changes it there. */
struct iochain_reply {
	struct iovec *iov;
	int count;
	uint32_t opcode; /* of the request it answers; 0: not known */
	struct iovec own[2];
	unsigned char body[512];
};

struct iochain_filter {
	const char *name;
	/* Once, before the first request: devfd is /dev/fuse, passthrough
	 * the user's choice. 0 or -errno. */
	int (*start)(int devfd, int passthrough);
	/* Supply the next request instead of reading one (a replayed INIT,
	 * a request held back): its length; 0: none; -1 with errno set. Only
	 * the filters after this one see a request it supplies. */
	ssize_t (*source)(void *buf, size_t size);
	/* A request (len bytes in buf of size); it may be rewritten in
	 * place. Its new length. */
	size_t (*request)(void *buf, size_t len, size_t size);
	/* A reply about to go out: 0 to pass it on (amended or not), 1 to
	 * swallow it (not sent, reported written). */
	int (*reply)(struct iochain_reply *r);
	/* Reply r reached the kernel. */
	void (*sent)(const struct iochain_reply *r);
};

/* Start the filters on devfd and install the chain on session se (se
 * NULL: only start them, for tests). 0 or -errno. */
int iochain_install(struct fuse_session *se, int devfd, int passthrough);
/* The hooks themselves: a request read from fd, a reply written to fd. */
ssize_t iochain_read(int fd, void *buf, size_t len);
ssize_t iochain_writev(int fd, struct iovec *iov, int count);
/* A request that came another way (a ring entry, ring.h): through the
 * filters, as a read one; its new length. */
size_t iochain_request(void *buf, size_t len, size_t size);

/* Make r's body (a reply of header and one body) the filter's to change;
 * 0, or -1 when it has no such body or it does not fit. */
static inline int
iochain_reply_own(struct iochain_reply *r)
{
	if (r->iov == r->own)
		return 0;
	if (r->count != 2 || r->iov[1].iov_len > sizeof r->body)
		return -1;
	memcpy(r->body, r->iov[1].iov_base, r->iov[1].iov_len);
	r->own[0] = r->iov[0];
	r->own[1].iov_base = r->body;
	r->own[1].iov_len = r->iov[1].iov_len;
	r->iov = r->own;
	return 0;
}

/* The body of r (NULL when none), its length in *len. */
static inline void *
iochain_reply_body(const struct iochain_reply *r, size_t *len)
{
	*len = r->count == 2 ? r->iov[1].iov_len : 0;
	return r->count == 2 ? r->iov[1].iov_base : NULL;
}

#endif
