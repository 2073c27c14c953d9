/*
 * catalog_spill_i: what the spill policy's files share: catalog_spill.c
 * (the thread, reloads), catalog_spill_pass.c (choosing and evicting) and
 * catalog_spill_ops.c (pin, unpin, evict, load). Guarded as said beside
 * each field.
 */
#ifndef VFS_CATALOG_SPILL_I_H
#define VFS_CATALOG_SPILL_I_H

#include <pthread.h>
#include <stdint.h>

#include "catalog_i.h"
#include "catalog_spill.h"
#include "spill.h"

struct cspill {
	spill_t *files;		   /* the spill directory (spill.h) */
	uint64_t high, low;	   /* bytes */
	int ahead;		   /* write spill files ahead above low (spill_ahead) */
	int64_t ahead_after_ns;	   /* after a failed write ahead, none before this */
	pthread_mutex_t pass_lock; /* one pass at a time; before the catalog lock */
	pthread_mutex_t lock;	   /* guards the thread's fields below */
	pthread_cond_t cond;
	int kicked, stop, running;
	pthread_t thread;
	/* Guarded by the catalog lock. */
	uint64_t spills, spill_bytes, evictions, reloads, reload_bytes;
	uint64_t spill_errors, reload_errors;
	double spill_seconds, reload_seconds;
};

/* A blob to write out (if it has no spill file yet) and evict. */
struct victim {
	uint64_t id, size;
	int64_t used_ns;
	int fd;	     /* on its store file, for the copy */
	void *map;   /* the store file mapped for the copy, or NULL */
	int freed;   /* evicted: fd and map hold the last of its memory */
	int write;   /* needs a spill file */
	int written; /* has one now, not yet recorded */
	uint32_t crc;
	char err[256];
};

struct victims {
	struct victim *v;
	size_t n, cap;
	int err;
	int keep; /* write only: the blobs stay in memory (spill ahead) */
};

/* catalog_spill_pass.c. Add b to l (l->err on failure). */
void catalog_spill_victims_add(struct victims *l, const struct cblob *b);
/* Can b leave memory now? Catalog lock held. */
int catalog_spill_evictable(const struct cblob *b);
/* Write out and evict the victims in l: the catalog lock held, dropped
 * while copying; the blobs evicted are added to *count, bytes to *bytes. */
void catalog_spill_evict_list(catalog_t *c, struct victims *l, uint64_t *count, uint64_t *bytes);
/* Evict the least recently used blobs until the store uses at most
 * target bytes or nothing more can go; blobs evicted. */
uint64_t catalog_spill_pass(catalog_t *c, uint64_t target);
/* Spill ahead (spill_ahead): give the least recently used blobs spill
 * files until the bytes in memory without one are under the low-water
 * mark; blobs written. */
uint64_t catalog_spill_write_ahead(catalog_t *c);

#endif
