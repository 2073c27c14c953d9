/*
 * ring: FUSE over io_uring as the request transport (Linux 6.14+ with
 * CONFIG_FUSE_IO_URING, the fuse module's enable_uring set). libfuse 3.14
 * cannot drive it, so it sits beside libfuse's custom-I/O hook (iochain.h):
 * after the INIT reply is written, one pinned thread per possible CPU
 * registers ring entries on /dev/fuse; each request the kernel puts in
 * an entry is fed to fuse_session_process_buf, and its reply, caught in
 * the write hook by its unique id (from any thread: parked waits, stream
 * reads), goes back by COMMIT_AND_FETCH from that queue's thread.
 * FORGET, INTERRUPT and notifications stay on /dev/fuse, read by the
 * libfuse loop as before.
 *
 * Not under --supervise: a dead worker's ring entries and the requests in
 * them are lost with its io_uring (FUSE_NOTIFY_RESEND only covers
 * /dev/fuse), so a supervised connection stays on /dev/fuse.
 */
#ifndef VFS_RING_H
#define VFS_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "fs/iochain.h"

/* --fuse-uring */
#define RING_OFF 0
#define RING_AUTO 1
#define RING_ON 2

struct fuse_session;

/* "auto", "on", "off": its RING_*, else -1. */
int ring_mode_parse(const char *s);
/* Before the mount: the user's choice (RING_*); supervised forces
 * /dev/fuse. RING_ON: sets the module parameter when root, and fails
 * (-errno, logged with the reason) when the kernel cannot. */
int ring_setup(int mode, int supervised);
/* The session whose requests the ring threads process. */
void ring_session(struct fuse_session *se);
/* From the write hook: a reply (iov, count) to a ring request is taken
 * here (its length); 0: not a ring request, write it to /dev/fuse. */
ssize_t ring_reply(const struct iovec *iov, int count);
/* After the session loop, before park_stop and before anything handlers
 * use is freed: no handler starts on the ring threads any more (later
 * requests are answered ENOTCONN) and those running have returned. The
 * ring still carries replies, such as park_stop's. */
void ring_quiesce(void);
/* After the session loop and the last replies (park_stop): wake and
 * join the ring threads; free the entries. Later replies go to /dev/fuse. */
void ring_stop(void);

/* Is the ring the transport now? Else why not (for the stats). */
int ring_active(void);
const char *ring_reason(void);
/* Requests that came through the ring so far. */
uint64_t ring_requests(void);

/* The filter of the I/O chain: sees INIT, asks for the ring, and starts
 * the threads once the reply has reached the kernel. */
extern const struct iochain_filter ring_filter;

#endif
