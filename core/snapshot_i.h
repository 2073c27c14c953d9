/*
 * snapshot_i: what snapshot.c (create) shares with snapshot_restore.c:
 * io_uring set-up with the test faults, files by name in a directory. The
 * SQL of both is meta_snap_* (core/meta_snapshot.c).
 */
#ifndef VFS_SNAPSHOT_I_H
#define VFS_SNAPSHOT_I_H

#include <stddef.h>
#include <stdint.h>

struct uring;

/* A ring for one snapshot or restore, with the test faults if any. */
int snap_ring_open(struct uring **u, char *err, size_t errlen);

/* Open name in dirfd to read a copy: O_DIRECT where the file system takes it. */
int snap_open_src(int dirfd, const char *name, int *fd);

/* fsync the file at dirfd/name. */
int snap_fsync_at(struct uring *u, int dirfd, const char *name);

/* Remove every entry of dirfd whose name starts with prefix. */
void snap_remove_prefixed(int dirfd, const char *prefix);

#endif
