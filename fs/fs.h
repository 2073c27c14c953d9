/*
 * fs: the FUSE layer. It translates low-level FUSE requests into catalog
 * and stream calls and replies; it holds no storage logic. One global
 * state, set up by daemon.c before the session starts. The kinds of inode
 * and their operations are node.h's; this header holds what the files of
 * fs/ share besides: handles, parked requests, notifications.
 */
#ifndef VFS_FS_H
#define VFS_FS_H

#define FUSE_USE_VERSION 312

#include <stdatomic.h>
#include <stdint.h>

#include <fuse_lowlevel.h>

#include "core/catalog.h"
#include "core/ino.h"
#include "core/stream.h"

/* Kernel cache lifetimes, seconds. */
#define FS_TTL_SEALED 86400.0 /* immutable: sealed data, fixed dirs */
#define FS_TTL_NONE 0.0

struct fs_counters {
	atomic_uint_least64_t reads;
	atomic_uint_least64_t read_bytes;
	atomic_uint_least64_t writes;
	atomic_uint_least64_t write_bytes;
};

struct fs_state {
	catalog_t *cat;
	streams_t *streams;
	struct cluster *cluster; /* core/cluster.h; NULL: alone (no --etcd) */
	long stream_wait_ms;	 /* --stream-wait: a writer's wait for memory */
	struct fuse_session *se;
	int64_t start_ns; /* the control files' times */
	/* Under a supervisor, which worker this is (1 for the first; see
	 * supervisor.h), else 0: set once, before the session starts, for
	 * what numbers things apart from earlier workers (handles, streams). */
	unsigned generation;
	struct fs_counters n;
};

extern struct fs_state fs;

/* An open file or listing: what fi->fh numbers (handle.c). Each kind
 * allocates a struct of its own that begins with this header, whose ops
 * say how to serve and close it. */
struct fs_handle;
struct fs_handle_ops {
	const char *name; /* for logs and tests */
	/* Answer a read or a write, maybe later (from the park thread), and
	 * put handle number fh then; NULL: EBADF. */
	void (*read)(fuse_req_t req, uint64_t fh, struct fs_handle *h, size_t size, off_t off);
	void (*write)(
	    fuse_req_t req, uint64_t fh, struct fs_handle *h, const char *buf, size_t size, off_t off);
	/* A descriptor of it is closed (the handle may stay); NULL: nothing. */
	void (*flush)(fuse_req_t req, struct fs_handle *h);
	/* The last user is gone: close and free h. */
	void (*destroy)(struct fs_handle *h);
};
struct fs_handle {
	const struct fs_handle_ops *ops;
};

/* Handles by number (handle.c). */
/* Register h; h->ops->destroy runs when it is released and unused.
 * Returns the number, 0 when out of memory. */
uint64_t handle_add(struct fs_handle *h);
/* Give h a number in fi->fh; on failure h is destroyed (-ENOMEM). */
int handle_register(struct fs_handle *h, struct fuse_file_info *fi);
/* Destroy h, which has no number (an open that failed half way). */
void handle_free(struct fs_handle *h);
/* Handle n with a reference for this request, or NULL once released;
 * pair with handle_put. */
struct fs_handle *handle_get(uint64_t n);
void handle_put(uint64_t n);
/* The kernel released n: no new users; destroyed after the last put. */
void handle_release(uint64_t n);
/* At exit, with no request running: destroy every handle left open. */
void handle_close_all(void);

/* The operations table (ops.c). */
extern const struct fuse_lowlevel_ops fs_ops;

/* Directory requests (dir.c). */
void dir_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void dir_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void dir_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void dir_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void dir_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void dir_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void dir_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name);
void dir_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
    const char *newname, unsigned int flags);

/* File requests (file.c). The catalog's files: create and mknod in
 * names/, open of data and meta.json. */
void file_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi);
void file_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void file_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* Reply to an open with a generated file's text (taken over). */
void file_reply_text(fuse_req_t req, struct fuse_file_info *fi, char *text, size_t len);
/* Requests on open files, whatever their kind. */
void file_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void file_write(
    fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi);
void file_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void file_fallocate(
    fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, struct fuse_file_info *fi);
void file_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void file_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

/* A blob's bytes open through h, for a setattr that truncates: the
 * handle's fd on the blob file, else -1 (file.c). */
int file_data_fd(struct fs_handle *h);

/* The request/response file, .vineyardfs/ctl (control.c): one handle
 * per open, NULL when out of memory. */
struct fs_handle *control_ctl_open(uid_t uid, gid_t gid);
/* Append to the request of ctl handle h (a write after a reply starts a
 * new one): bytes taken or -errno. */
ssize_t control_ctl_write(struct fs_handle *h, const char *buf, size_t size);

/* Render .vineyardfs/stats; caller frees (stats.c). */
int stats_render(char **text, size_t *len);
/* Render .vineyardfs/cluster; caller frees (clusterinfo.c). */
int clusterinfo_render(char **text, size_t *len);
/* Render .vineyardfs/metrics, the Prometheus page; caller frees (metrics.c). */
int metrics_render(char **text, size_t *len);
/* Serve it at http://addr/metrics (--metrics), or stop; 0 or -errno, logged. */
int metrics_http_start(const char *addr);
void metrics_http_stop(void);

/* Kernel cache invalidation, sent from a thread of its own (notify.c). */
int notify_start(struct fuse_session *se);
void notify_stop(void);
void notify_entry(uint64_t parent, const char *name);
/* The attributes of fixed inode ino (a directory whose times moved) went
 * stale; coalesced, sent within a few ms. */
void notify_attr(uint64_t ino);
/* The attributes of ino (a file that went) went stale: sent now, from the
 * request that removed it (attributes take no lock in the kernel). */
void notify_attr_now(uint64_t ino);
/* Wait until what was queued so far has reached the kernel. Only from a
 * request that holds no directory lock (the kernel takes the parent's). */
void notify_flush(void);
/* notify_flush for a request that holds directory locked (an unlink in it):
 * it returns at once when an invalidation in locked is queued, which could
 * not be sent before the request is answered. */
void notify_flush_unless(uint64_t locked);

/* Parked requests: answered later from a thread of their own (park.c). */
enum park_why {
	PARK_CHANGED,	  /* park_kick: something may be ready */
	PARK_TIMEOUT,	  /* the deadline passed */
	PARK_INTERRUPTED, /* the caller got a signal; req was answered EINTR */
};
/* Called on the park thread without locks: answer req and return 1, or
 * return 0 to go on waiting (not after PARK_TIMEOUT). After
 * PARK_INTERRUPTED req is NULL: only let go of arg. */
typedef int (*park_fn)(void *arg, fuse_req_t req, enum park_why why);
int park_start(void);
/* Answer whatever still waits with EINTR; after the session loop. */
void park_stop(void);
/* Park req until fn answers it; timeout_ms < 0: no deadline. */
int park_add(fuse_req_t req, park_fn fn, void *arg, int64_t timeout_ms);
/* Something changed: look at every parked request again. Cheap; any
 * thread, any locks. */
void park_kick(void);
/* Requests parked now. */
unsigned park_count(void);

/* Attributes (attr.c). Fill struct stat from a catalog attribute. */
void fs_attr_to_stat(const struct catalog_attr *a, struct stat *st);
/* Fill an entry reply from a catalog attribute. */
void fs_attr_to_entry(const struct catalog_attr *a, struct fuse_entry_param *e);
/* Reply with an inode's attributes; uncached: not to be kept. */
void fs_attr_reply(fuse_req_t req, const struct catalog_attr *a, int uncached);
/* What a FUSE setattr asks, as a catalog change. */
void fs_attr_set_of(const struct stat *attr, int to_set, struct catalog_set *set);

#endif
