/*
 * mem: the store's memory budget. One limit; the bytes in use now and the
 * bytes planned with; reservations for blobs being written when the
 * kernel does not enforce the limit; and the memory of evicted blobs,
 * given back to the kernel by a thread of its own (the releaser).
 *
 * Usage now is what the kernel counts: the store's tmpfs when it has one
 * of its own (store_usage), else the bytes counted here (sealed blobs in
 * memory, reservations of unsealed ones, evicted bytes not yet released).
 * Planned usage leaves out the bytes being released: a spill pass that
 * planned with usage now would evict more than it needs while the
 * kernel's count lags behind.
 *
 * The releaser: unmapping and closing the last references to a 1 GiB
 * tmpfs file of small pages takes about 0.2 s here (62 ms for the mapping
 * a copy read from, 125-133 ms to free the pages), a third of the time of
 * writing it out. Like Redis's lazy free, an evict hands the blob's fd
 * and mapping to the releaser and returns; whoever is about to take
 * memory the planned usage said is there (a reload, a reservation, a
 * stream chunk) first waits until usage now leaves room for it
 * (mem_wait_released).
 *
 * Thread-safe, with a lock of its own that is taken last: every call may
 * be made with or without the catalog lock held, except mem_wait_released,
 * which blocks and is called without it. The releaser takes no other
 * lock than this one.
 */
#ifndef VFS_MEM_H
#define VFS_MEM_H

#include <stdint.h>

#include "store.h"

typedef struct mem mem_t;

/* A budget of limit bytes for store's blobs. store: its tmpfs's count is
 * usage now when it has one of its own; NULL (tests) or a store without:
 * the bytes counted here are. The store outlives the budget. */
int mem_create(uint64_t limit, store_t *store, mem_t **out);
/* Stop the releaser (once everything queued is released) and free. */
void mem_destroy(mem_t *m);

/* The limit, in bytes. */
uint64_t mem_limit(const mem_t *m);
/* True when the kernel enforces the limit (the store's own tmpfs). */
int mem_kernel_limited(const mem_t *m);

/* Bytes of memory in use now, as the kernel allows a new page against. */
uint64_t mem_used_now(mem_t *m);
/* Usage once the bytes being released are: what spilling plans with. */
uint64_t mem_used(mem_t *m);
/* Bytes of sealed blobs in memory (counted here in either mode). */
uint64_t mem_resident(mem_t *m);
/* Bytes of evicted blobs whose memory is not yet given back. */
uint64_t mem_releasing(mem_t *m);

/* Sealed bytes came into memory (a seal, a reload) or left it (a delete:
 * its pages go with its last fd, not through the releaser). */
void mem_resident_add(mem_t *m, uint64_t bytes);
void mem_resident_sub(mem_t *m, uint64_t bytes);
/* Sealed bytes were evicted: they leave the resident count, and while
 * the releaser runs they count as being released until the caller hands
 * their fd and mapping to mem_release (returns 1); else (0) the caller
 * frees them itself. */
int mem_evicted(mem_t *m, uint64_t bytes);

/* Grow or shrink the reservation *held of a blob being written to bytes:
 * -ENOSPC when resident and reserved bytes would pass the limit. With the
 * kernel enforcing the limit there is nothing to count: 0, *held stays. */
int mem_reserve(mem_t *m, uint64_t *held, uint64_t bytes);

/* Start the releaser; 0 or -errno. Without it, mem_evicted returns 0. */
int mem_release_start(mem_t *m);
/* Stop it, once everything queued is released. */
void mem_release_stop(mem_t *m);
/* Give back in the background the memory that fd and its mapping map of
 * size bytes hold (map may be NULL, fd -1), size bytes counted by
 * mem_evicted; takes both. */
void mem_release(mem_t *m, int fd, void *map, uint64_t size);
/* Without the catalog lock: wait until the bytes being released leave
 * room for need more bytes under the limit, as the kernel counts them
 * (returns at once when nothing is being released). */
void mem_wait_released(mem_t *m, uint64_t need);

/* Tests: hold (1) the releaser, or let it go on (0). */
void mem_release_hold(mem_t *m, int hold);
/* Tests: threads waiting in mem_wait_released. */
unsigned mem_release_waiters(mem_t *m);

#endif
