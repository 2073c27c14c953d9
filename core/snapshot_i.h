/*
 * snapshot_i: what snapshot.c (create) shares with snapshot_restore.c:
 * io_uring set-up with the test faults, temp files removed by prefix. Their
 * SQL is meta_snap_* (core/meta_snapshot.c), their copies durable_*
 * (core/durable.c).
 */
#ifndef VFS_SNAPSHOT_I_H
#define VFS_SNAPSHOT_I_H

#include <stddef.h>

struct uring;

/* A ring for one snapshot or restore, with the test faults if any. */
int snap_ring_open(struct uring **u, char *err, size_t errlen);

/* Remove every entry of dirfd whose name starts with prefix. */
void snap_remove_prefixed(int dirfd, const char *prefix);

#endif
