/*
 * supervisor: "vineyardfs mount --supervise". A small parent process opens
 * /dev/fuse, mounts, and forks workers that serve the connection (libfuse
 * is given /dev/fd/N as the mount point and does not mount). A worker that
 * dies without the file system being unmounted is replaced on the same
 * connection: programs using the mount see a pause, not ENOTCONN.
 *
 * What a new worker needs from its predecessors lives in one shared memory
 * region the supervisor creates (a memfd, inherited across fork): the
 * kernel's INIT request and the reply it got (the kernel sends INIT once
 * per connection), the passthrough backing ids registered on the
 * connection, the opens of blob data the kernel may hold (so that a new
 * worker's catalog counts them), and the control-file requests not
 * answered yet. Each entry is written so that a worker killed between
 * any two stores leaves it either whole or absent.
 */
#ifndef VFS_SUPERVISOR_H
#define VFS_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/catalog.h"

/* Mount mnt (already cleared of stale mounts, the state dir locked) on a
 * /dev/fuse of our own with the -o options fuse_opts, and run workers on
 * it until it is unmounted or the supervisor is told to stop. Returns, in
 * the supervisor, its exit status (>= 0); in a worker, -1: the caller then
 * serves /dev/fd/supervisor_fuse_fd(). *ready_fd (the waiting command's
 * pipe) goes to the first worker and is -1 afterwards in the supervisor,
 * which then calls detach (NULL: it stays in the foreground). */
int supervisor_run(const char *mnt, const char *fuse_opts, void (*detach)(void), int *ready_fd);
/* The supervisor of daemon pid, or 0 when pid runs unsupervised. */
pid_t supervisor_of(pid_t pid);

/* In a worker: which start this is (1 for the first), else 0. */
unsigned supervisor_generation(void);
/* In a worker: the connection's /dev/fuse descriptor. */
int supervisor_fuse_fd(void);
/* In a worker: have the supervisor's relay process write notification
 * msg (len bytes, its fuse_out_header included) to the connection, and
 * wait for it in a read that a kill ends (supervisor_relay.c says why).
 * What the write returned (0 or -errno); -ENOTCONN when there is no relay
 * (unsupervised, or it is gone): then write it yourself. */
int supervisor_notify(const void *msg, size_t len);

/* INIT. The saved request (header included) for a restarted worker to
 * read first, and the reply the kernel accepted; NULL in a first worker
 * and when unsupervised. */
const void *supervisor_init_request(size_t *len);
const void *supervisor_init_reply(size_t *len);
/* The first worker's INIT reply reached the kernel: keep both. */
void supervisor_init_save(const void *req, size_t reqlen, const void *reply, size_t replylen);

/* Passthrough backing ids, kept for the next worker: the caller (one
 * lock) serializes these. Add returns the slot, or -1 when not kept
 * (unsupervised, table full). */
int supervisor_backing_add(uint64_t blob_id, int backing_id);
void supervisor_backing_del(int slot);
/* Every id a previous worker left registered, with its slot. */
void supervisor_backing_foreach(void (*fn)(void *arg, uint64_t blob_id, int backing_id, int slot), void *arg);

/* Blob data opened read-only as handle fh: kept, from before the open's
 * reply to the handle's RELEASE, for a successor to count in its catalog
 * (the kernel may hold the file past this worker: passthrough, mmap). */
void supervisor_open_add(uint64_t fh, uint64_t blob_id);
/* fh is released (or its open never answered): forget it, and release
 * its blob if this worker counted it at start. */
void supervisor_open_del(uint64_t fh);
/* In a restarted worker, as its catalog c opens (before the spill thread
 * starts): count the opens earlier workers kept and the kernel has not
 * released. */
void supervisor_opens_hold(catalog_t *c);

/* From the read hook, before libfuse sees a request (buf, len bytes):
 * keep control-file requests for the next worker, and revive the handles
 * of earlier workers that can be revived: the request may be replaced by
 * an open of the same inode (its length is returned), and then comes
 * back from supervisor_held at this thread's next read. */
size_t supervisor_request(void *buf, size_t len);
/* A request held back on this thread, into buf: its length, or 0. */
size_t supervisor_held(void *buf, size_t size);
struct iovec;
/* From the write hook: 1 when a reply answers our own open (not for the
 * kernel: drop it), else 0. */
int supervisor_swallow(const struct iovec *iov, int count);

/* handle.c, for revived handles: register obj under the number an earlier
 * worker gave it; -EEXIST if n is taken (then obj is not), -ENOMEM. */
struct fs_handle;
int handle_adopt(uint64_t n, struct fs_handle *obj);
/* Is n a handle of an earlier worker, not (yet) known here? */
int handle_is_foreign(uint64_t n);

#endif
