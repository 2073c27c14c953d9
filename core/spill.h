/*
 * spill: sealed blobs move between memory (the store's tmpfs) and a spill
 * directory on disk, so that a store can hold more than its memory.
 *
 * When the store's memory use passes the high-water mark (spill_high
 * percent of the memory limit), a thread of its own writes the least
 * recently used sealed blobs that nothing holds open and that are not
 * pinned to the spill directory, until use is under the low-water mark:
 * through io_uring (core/uring.h: several 1 MiB requests in flight,
 * O_DIRECT where the filesystem allows it), into a temp file that is
 * fsynced and renamed to "b<16 hex>", then the directory is fsynced and
 * the blob recorded as spilled with the CRC-32C of its bytes (meta), and
 * only then is its memory freed. A blob stays spilled: its spill file is
 * kept while it lives (blobs are immutable), so evicting it again costs
 * no I/O.
 *
 * With spill_ahead, the thread also gives the least recently used blobs
 * spill files ahead of need while use is above the low-water mark (they
 * stay in memory), until the bytes in memory without one are under it:
 * a pass then evicts without writing.
 *
 * Opening a spilled blob brings it back first: one reload per blob
 * (concurrent opens wait for it), room made by evicting others when
 * needed (ENOSPC when there is none), the CRC verified (EIO and the blob
 * stays on disk when it does not match).
 *
 * The spill directory is remembered in the metadata; a restart finds the
 * spill files again. Lock order: a spill pass takes its own pass lock,
 * then the catalog lock; no one waits for the pass lock holding the
 * catalog lock.
 */
#ifndef VFS_SPILL_H
#define VFS_SPILL_H

#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"

struct cblob;
struct uring_faults;

/* At catalog_open, after the metadata is loaded: choose the spill
 * directory (the configured one, else the remembered one) and open it.
 * No directory: spilling is off (0). -EINVAL when blobs are spilled in
 * another directory than the one configured. */
int spill_open(catalog_t *c);
/* After reconciliation: remove files of the spill directory that no
 * spilled blob owns (a crash mid-spill), start the spill thread. */
int spill_start(catalog_t *c);
/* Stop the thread and let go; spill files stay. */
void spill_close(catalog_t *c);
/* More bytes in memory: the thread looks at the high-water mark. */
void spill_kick(catalog_t *c);

/* Catalog lock held. Is b's spill file there with b's size? 0 or -errno. */
int spill_file_check(catalog_t *c, const struct cblob *b);
/* Catalog lock held. A read-only fd on b's spill file (O_DIRECT where the
 * directory allows it), for a copy that needs no reload; caller closes. */
int spill_file_open(catalog_t *c, const struct cblob *b, int *fd);
/* Catalog lock held. Remove the spill file of blob id (it was deleted). */
void spill_file_remove(catalog_t *c, uint64_t id);
/* Catalog lock held (dropped and taken again while it copies): bring a
 * sealed blob back into memory if it is not. 0; -ENOENT if it was deleted
 * meanwhile; -ENOSPC without room; -EIO on a bad spill file. */
int spill_ensure_resident(catalog_t *c, struct cblob *b);
/* Without the catalog lock: spill until need more bytes fit under the
 * memory limit (a writer reserving them with fallocate). 0, or -ENOSPC
 * when they do not (no spill directory, the rest open or pinned). */
int spill_make_room(catalog_t *c, uint64_t need);
/* Catalog lock held: the spill part of catalog_stats. */
void spill_stats(catalog_t *c, struct catalog_stats *st);

/* The control operations, on a blob or an object (every blob of its tree),
 * as uid (its owner or root, else EACCES). pin: never spill (and load
 * now); unpin; evict: write out now and free the memory of those nothing
 * holds open; load: bring back now. *blobs, *bytes: what was concerned
 * (pinned, evicted, loaded). -ENOTSUP for evict without a spill
 * directory. */
int spill_pin(catalog_t *c, uint64_t id, uid_t uid, int pin, uint64_t *blobs, uint64_t *bytes);
int spill_evict(catalog_t *c, uint64_t id, uid_t uid, uint64_t *blobs, uint64_t *bytes);
int spill_load(catalog_t *c, uint64_t id, uid_t uid, uint64_t *blobs, uint64_t *bytes);

/* Where b's bytes are: "memory", "disk" or "memory,disk". */
const char *spill_where(const struct cblob *b);

/* Tests: the next spill write-out or reload runs with these faults (see
 * uring.h), then none. */
void spill_set_faults(catalog_t *c, const struct uring_faults *f);
/* Tests: one spill pass now, down to target bytes in use; blobs spilled. */
int spill_pass_now(catalog_t *c, uint64_t target);
/* Tests: one round of spilling ahead now (spill_ahead); blobs written. */
int spill_ahead_now(catalog_t *c);

#endif
