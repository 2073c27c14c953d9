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

/* Fixed inodes of .vineyardfs/ (below 256, clear of every id). */
enum {
	FS_INO_STATS = 16,
	FS_INO_VERSION = 17,
};

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
	struct fuse_session *se;
	int passthrough_wanted;
	struct fs_counters n;
};

extern struct fs_state fs;

/* The operations table (ops.c). */
extern const struct fuse_lowlevel_ops fs_ops;

/* Control files (control.c). */
int control_lookup(const char *name, struct fuse_entry_param *e);
int control_getattr(fuse_ino_t ino, struct stat *st);
int control_list(catalog_list_fn fn, void *arg);
/* Render a control file; caller frees. */
int control_render(fuse_ino_t ino, char **text, size_t *len);
int control_is(fuse_ino_t ino);

/* Kernel cache invalidation, sent from a thread of its own (notify.c). */
int notify_start(struct fuse_session *se);
void notify_stop(void);
void notify_entry(uint64_t parent, const char *name);
void notify_inode(uint64_t ino);

/* Fill struct stat from a catalog attribute. */
void fs_attr_to_stat(const struct catalog_attr *a, struct stat *st);
/* Fill an entry reply from a catalog attribute. */
void fs_attr_to_entry(const struct catalog_attr *a, struct fuse_entry_param *e);

#endif
