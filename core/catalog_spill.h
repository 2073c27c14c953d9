/*
 * catalog_spill: which sealed blobs leave memory for the spill directory,
 * and when (the files themselves are spill.h's), so that a store can hold
 * more than its memory.
 *
 * When the store's memory use passes the high-water mark (spill_high
 * percent of the memory limit), a thread of its own writes the least
 * recently used sealed blobs that nothing holds open and that are not
 * pinned to the spill directory, until use is under the low-water mark;
 * each is recorded as spilled with the CRC-32C of its bytes (meta) once
 * its copy is durable, and only then is its memory freed (in the
 * background: mem.h). A blob stays spilled: evicting it again costs no
 * I/O.
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
 * Fetched copies of other members' blobs are never spilled: a pass and
 * every make-room drop them first (catalog_cache.c).
 *
 * The spill directory is remembered in the metadata; a restart finds the
 * spill files again. Lock order: a spill pass takes its own pass lock,
 * then the catalog lock; no one waits for the pass lock holding the
 * catalog lock.
 */
#ifndef VFS_CATALOG_SPILL_H
#define VFS_CATALOG_SPILL_H

#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"

struct uring_faults;

/* The control operations, on a blob or an object (every blob of its tree),
 * as uid (its owner or root, else EACCES). pin: never spill (and load
 * now); unpin; evict: write out now and free the memory of those nothing
 * holds open; load: bring back now. *blobs, *bytes: what was concerned
 * (pinned, evicted, loaded). -ENOTSUP for evict without a spill
 * directory. Evict of another member's object drops this node's fetched
 * copies of its blobs (catalog_cache_evict), by anyone, spill directory
 * or not; pin and load of one are -EREMOTE. */
int catalog_spill_pin(catalog_t *c, uint64_t id, uid_t uid, int pin, uint64_t *blobs, uint64_t *bytes);
int catalog_spill_evict(catalog_t *c, uint64_t id, uid_t uid, uint64_t *blobs, uint64_t *bytes);
int catalog_spill_load(catalog_t *c, uint64_t id, uid_t uid, uint64_t *blobs, uint64_t *bytes);

/* Tests: the next spill write-out or reload runs with these faults (see
 * uring.h), then none. */
void catalog_spill_set_faults(catalog_t *c, const struct uring_faults *f);
/* Tests: one spill pass now, down to target bytes in use; blobs spilled. */
int catalog_spill_pass_now(catalog_t *c, uint64_t target);
/* Tests: one round of spilling ahead now (spill_ahead); blobs written. */
int catalog_spill_ahead_now(catalog_t *c);

#endif
