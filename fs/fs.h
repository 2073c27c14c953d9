/*
 * fs: the FUSE layer. It translates low-level FUSE requests into catalog
 * calls and replies; it holds no storage logic. One global state, set up by
 * daemon.c before the session starts.
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
	long stream_wait_ms; /* --stream-wait: a writer's wait for memory */
	struct fuse_session *se;
	int64_t start_ns; /* the control files' times */
	struct fs_counters n;
};

extern struct fs_state fs;

/* An open file (file.c). */
struct fh {
	int kind;
#define FH_DATA 0	  /* a blob's bytes */
#define FH_TEXT 1	  /* a generated file, rendered at open */
#define FH_CTL 2	  /* .vineyardfs/ctl: a request and its reply */
#define FH_STREAM 3	  /* streams/<name>: its writer or a reader */
	uint64_t blob_id; /* FH_DATA */
	int fd;		  /* FH_DATA: the blob file */
	int opened;	  /* FH_DATA: counted by catalog_open_data */
	int writable;
	char *text; /* FH_TEXT */
	size_t len;
	struct ctl *ctl;     /* FH_CTL */
	uint64_t stream_ino; /* FH_STREAM */
	int died;	     /* FH_STREAM writer: how the last flusher was exiting */
};

/* Handles by number (handle.c): what fi->fh holds. */
/* Register obj; destroy runs when the handle is released and unused.
 * Returns the number, 0 when out of memory. */
uint64_t handle_add(void *obj, void (*destroy)(void *obj));
/* The object of handle n with a reference for this request, or NULL once
 * released; pair with handle_put. */
void *handle_get(uint64_t n);
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
void dir_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void dir_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void dir_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void dir_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void dir_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name);
void dir_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
    const char *newname, unsigned int flags);

/* File requests (file.c). */
void file_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi);
void file_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void file_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void file_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void file_write(
    fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi);
void file_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void file_fallocate(
    fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, struct fuse_file_info *fi);
void file_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void file_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

/* Handles of open files (file.c), for stream.c. */
struct fh *file_handle_new(int kind);
/* Give h a number in fi->fh; on failure h is freed. */
int file_handle_register(struct fh *h, struct fuse_file_info *fi);
void file_handle_free(struct fh *h);

/* streams/ (stream.c): the kernel-facing side of core/stream.h. */
void stream_lookup(fuse_req_t req, const char *name);
int stream_getattr(fuse_ino_t ino, struct stat *st);
/* An object stream's directory: its entries "0", "1", ... */
void stream_entry_lookup(fuse_req_t req, fuse_ino_t dir, const char *name);
int stream_entries(fuse_ino_t dir, catalog_list_fn fn, void *arg);
int stream_readlink(fuse_ino_t ino, char *buf, size_t len);
int stream_list(catalog_list_fn fn, void *arg);
void stream_create(fuse_req_t req, const char *name, mode_t mode, struct fuse_file_info *fi);
void stream_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* Read and write answer (maybe later) and put handle fh. */
void stream_read(fuse_req_t req, uint64_t fh, struct fh *h, size_t size, off_t off);
void stream_write(fuse_req_t req, uint64_t fh, struct fh *h, const char *buf, size_t size, off_t off);
void stream_flush(fuse_req_t req, struct fh *h);
/* The handle's last user is gone: the writer's close, or a reader's. */
void stream_closed(struct fh *h);
void stream_unlink(fuse_req_t req, const char *name, int dir);
/* Value or NUL-separated names into buf; length or -errno. */
int stream_xattr_get(fuse_ino_t ino, const char *name, char *buf, size_t len);
int stream_xattr_list(fuse_ino_t ino, char *buf, size_t len);

/* Extended attribute requests (xattr.c). */
void xattr_get(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void xattr_list(fuse_req_t req, fuse_ino_t ino, size_t size);
void xattr_set(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags);
void xattr_remove(fuse_req_t req, fuse_ino_t ino, const char *name);

/* Control files (control.c). */
int control_lookup(const char *name, struct fuse_entry_param *e);
int control_getattr(fuse_ino_t ino, struct stat *st);
int control_list(catalog_list_fn fn, void *arg);
/* The request/response file: one struct ctl per open. */
struct ctl *control_ctl_open(uid_t uid, gid_t gid);
void control_ctl_free(struct ctl *t);
/* Append to the request (a write after a reply starts a new one). */
ssize_t control_ctl_write(struct ctl *t, const char *buf, size_t size);
/* Answer a read of ctl (handle number fh, referenced by the caller, who
 * must not put it: the reply may come later, and puts it then). The
 * first read handles the request; a wait that cannot be answered yet is
 * parked. */
void control_ctl_read(fuse_req_t req, uint64_t fh, struct ctl *t, size_t size);
/* Render a control file; caller frees. */
int control_render(fuse_ino_t ino, char **text, size_t *len);
int control_is(fuse_ino_t ino);

/* Kernel cache invalidation, sent from a thread of its own (notify.c). */
int notify_start(struct fuse_session *se);
void notify_stop(void);
void notify_entry(uint64_t parent, const char *name);
/* The attributes of fixed inode ino (a directory whose times moved) went
 * stale; coalesced, sent within a few ms. */
void notify_attr(uint64_t ino);
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

/* Fill struct stat from a catalog attribute. */
void fs_attr_to_stat(const struct catalog_attr *a, struct stat *st);
/* Fill an entry reply from a catalog attribute. */
void fs_attr_to_entry(const struct catalog_attr *a, struct fuse_entry_param *e);

#endif
