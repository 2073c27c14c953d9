/*
 * catalog_cache: the fetched copies of other members' blobs, a cache that
 * memory pressure drops before anything local is spilled (see
 * catalog_cache.c). The owner's copy is the original; a dropped copy is
 * fetched again at the next open.
 */
#ifndef VFS_CATALOG_CACHE_H
#define VFS_CATALOG_CACHE_H

#include <stdint.h>

#include "catalog.h"

/* Drop the fetched copies of the remote blobs of object or blob id's tree
 * (`vineyardfs evict` of another member's object): 0 and what went, or
 * -EBUSY when every copy is open or being fetched. Anyone may: the copies
 * are this node's cache, not anyone's data. */
int catalog_cache_evict(catalog_t *c, uint64_t id, uint64_t *blobs, uint64_t *bytes);

/* Fetch the remote blobs of id's tree that have no copy here yet, while
 * this store's memory stays at or below `below` bytes: never drops or
 * spills anything for it (a prefetch is a guess). 0 and what came, or
 * -ENOSPC when the next would not fit, or the fetch's -errno. */
int catalog_cache_prefetch(catalog_t *c, uint64_t id, uint64_t below, uint64_t *blobs, uint64_t *bytes);

struct catalog_cache_stats {
	uint64_t copies, copy_bytes; /* fetched copies in memory now */
	uint64_t drops, drop_bytes;  /* dropped since start, to make room or on evict */
};
void catalog_cache_stats(catalog_t *c, struct catalog_cache_stats *st);

#endif
