/*
 * spill: the files of a spill directory, where sealed blobs go when memory
 * runs short (which blobs and when is the catalog's: catalog_spill.h).
 * One file per blob, "b<16 hex>", written once and kept while the blob
 * lives (blobs are immutable), so that evicting it again costs no I/O.
 *
 * A write-out goes through io_uring (core/uring.h: several 1 MiB requests
 * in flight, O_DIRECT where the filesystem allows it) into a temp file
 * that is fsynced and renamed; the directory is fsynced once for a batch
 * of them. The CRC-32C of the bytes comes out of the copy, for the caller
 * to record; a read back into a new store file checks it (EIO).
 *
 * One store per spill directory: a lock file is flocked while it is open,
 * for two stores would remove each other's files. Thread-safe: the copies
 * of several threads run side by side; the rings they use are kept for
 * reuse under a lock of the spill's own, taken last.
 */
#ifndef VFS_SPILL_H
#define VFS_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct spill spill_t;
struct uring;
struct uring_faults;

/* Open the spill directory dir (it exists) and lock it: -EBUSY when
 * another store has it. Caller closes. */
int spill_open(const char *dir, spill_t **out);
/* Let go of the directory; its files stay. */
void spill_close(spill_t *sp);
/* The directory, as opened. */
const char *spill_dir(const spill_t *sp);
/* Does O_DIRECT work there? */
int spill_direct(const spill_t *sp);

/* Remove what a crash mid-spill left: temp files, and the files of blobs
 * that owned(arg, id) says have no spill file (0). Other names are not
 * ours and stay. The files removed, or -errno. */
int spill_clean(spill_t *sp, int (*owned)(void *arg, uint64_t id), void *arg);

/* Writes of a batch share one ring and one fsync of the directory. The
 * fields are the batch's own. */
struct spill_batch {
	spill_t *sp;
	struct uring *ring;
	unsigned written;
};
/* Start a batch; 0 or -errno (no io_uring) with err. */
int spill_batch_begin(spill_t *sp, struct spill_batch *b, char *err, size_t errlen);
/* Copy size bytes from src (a store file) to the spill file of blob id,
 * durable but for the directory's fsync (spill_batch_end), and its
 * CRC-32C into *crc. The copy is read from a mapping of src, left in *map
 * for the caller to unmap (uring_unmap) or to hand to mem_release with
 * src: their pages are the blob's last. 0 or -errno with err. */
int spill_write(struct spill_batch *b, uint64_t id, int src, uint64_t size, void **map, uint32_t *crc,
    char *err, size_t errlen);
/* End a batch: the renames of its writes made durable. 0, or -errno with
 * err: then none of them is. */
int spill_batch_end(struct spill_batch *b, char *err, size_t errlen);

/* Copy the spill file of blob id (size bytes) back into a new file of
 * store, replacing a stale one. has_crc: the bytes must have CRC-32C crc,
 * else -EIO. On failure no store file is left. 0 or -errno with err. */
int spill_read(spill_t *sp, store_t *store, uint64_t id, uint64_t size, int has_crc, uint32_t crc, char *err,
    size_t errlen);

/* Is the spill file of blob id there with size bytes? 0, -EIO or -errno. */
int spill_file_check(spill_t *sp, uint64_t id, uint64_t size);
/* A read-only fd on the spill file of blob id (O_DIRECT where the
 * directory allows it); caller closes. */
int spill_file_open(spill_t *sp, uint64_t id, int *fd);
/* Remove the spill file of blob id (logged when it cannot be). */
void spill_file_remove(spill_t *sp, uint64_t id);

/* Tests: the next batch or read runs with these faults (see uring.h),
 * then none. */
void spill_set_faults(spill_t *sp, const struct uring_faults *f);

#endif
