/*
 * spill_i: what spill.c (memory pressure, write-out, reload) shares with
 * spill_ops.c (pin, unpin, evict, load). Guarded as spill.c says.
 */
#ifndef VFS_SPILL_I_H
#define VFS_SPILL_I_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "catalog_i.h"
#include "uring.h"

#define SPILL_RINGS 4 /* rings kept for reuse */

struct spill {
	char dir[PATH_MAX];
	int dirfd;
	int lockfd;		   /* LOCK_FILE, flocked while the store is open */
	int direct;		   /* O_DIRECT works in dir */
	uint64_t high, low;	   /* bytes */
	int ahead;		   /* write spill files ahead above low (spill_ahead) */
	int64_t ahead_after_ns;	   /* after a failed write ahead, none before this */
	pthread_mutex_t pass_lock; /* one pass at a time; before the catalog lock */
	pthread_mutex_t lock;	   /* guards the fields below up to rings */
	pthread_cond_t cond;
	int kicked, stop, running;
	pthread_t thread;
	struct uring *rings[SPILL_RINGS]; /* idle rings */
	unsigned nrings;
	struct uring_faults faults; /* for the next ring handed out */
	int faults_armed;
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

/* Add b to l (l->err on failure). */
void spill_victims_add(struct victims *l, const struct cblob *b);
/* Can b leave memory now? Catalog lock held. */
int spill_evictable(const struct cblob *b);
/* Can b get a spill file ahead of need (it stays in memory)? */
int spill_aheadable(const struct cblob *b);
/* Write out and evict the victims in l: the catalog lock held, dropped
 * while copying; the blobs evicted are added to *count, bytes to *bytes. */
void spill_evict_list(catalog_t *c, struct victims *l, uint64_t *count, uint64_t *bytes);

/* spill_pass.c. Evict the least recently used blobs until the store uses
 * at most target bytes or nothing more can go; blobs evicted. */
uint64_t spill_pass(catalog_t *c, uint64_t target);
/* Spill ahead (spill_ahead): give the least recently used blobs spill
 * files until the bytes in memory without one are under the low-water
 * mark; blobs written. */
uint64_t spill_write_ahead(catalog_t *c);

#endif
