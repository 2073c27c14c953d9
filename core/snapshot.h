/*
 * snapshot: a consistent copy of every sealed object of a store in a
 * directory, and the restore of a state dir from one.
 *
 * A snapshot directory holds
 *   meta.db        the metadata database as it was (SQLite's backup API,
 *                  taken under the catalog lock), without unsealed blobs
 *                  and objects, plus two tables of its own:
 *                  snapshot_blobs (id, size, crc32c) for every blob and
 *                  snapshot_info (key, value): format, time, counts;
 *   blobs/b<id>    the bytes of each blob (16 hex digits, as in the store).
 * While a snapshot is taken, blobs/.tmp-b<id> and .tmp-meta.db are its
 * files being written: each is fsynced, then renamed into place; meta.db
 * is renamed last, so a crash at any point leaves the previous snapshot
 * whole (its blob files are only removed, when no longer referenced,
 * after the new meta.db is in place). A snapshot into a directory that
 * holds one already copies only the blobs the old one lacks (blobs are
 * immutable: same id, same bytes).
 */
#ifndef VFS_SNAPSHOT_H
#define VFS_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "uring.h"

#define SNAPSHOT_FORMAT 1
#define SNAPSHOT_DB "meta.db"
#define SNAPSHOT_BLOBS "blobs"

/* What a snapshot or a restore did. */
struct snapshot_result {
	uint64_t objects;
	uint64_t names;
	uint64_t blobs; /* in the snapshot */
	uint64_t blobs_copied;
	uint64_t blobs_skipped; /* already in the directory */
	uint64_t blobs_removed; /* files of an older snapshot no longer used */
	uint64_t bytes;		/* of all its blobs */
	uint64_t bytes_copied;
	uint64_t bytes_skipped;
	int64_t elapsed_ns;
};

/* The snapshot in progress, for stats. */
struct snapshot_progress {
	int running;
	uint64_t bytes_done;  /* copied so far */
	uint64_t bytes_total; /* to copy (skipped blobs not counted) */
	uint64_t blobs_done;
	uint64_t blobs_total;
	uint64_t created; /* snapshots completed since the process started */
	uint64_t failed;
};

/* Write a snapshot of c's sealed objects into dir (an absolute path,
 * created if missing). One at a time per process: -EBUSY while another
 * runs (or another process writes dir). The catalog lock is held only
 * while the database is copied and the blobs opened, not during the
 * copies. 0 and *res, or -errno with a message in err. */
int snapshot_create(catalog_t *c, const char *dir, struct snapshot_result *res, char *err, size_t errlen);
/* Restore a snapshot into the state dir of cfg before catalog_open:
 * refuses (-ENOTEMPTY) a state dir whose database holds objects; copies
 * every blob into the store (cfg's backing dir or its tmpfs, mounted
 * here as catalog_open would), verifying its CRC-32C, then installs the
 * database. On any failure nothing is left: the state dir is as before.
 * 0 and *res, or -errno with a message in err (naming the bad blob). */
int snapshot_restore(
    const struct catalog_config *cfg, const char *dir, struct snapshot_result *res, char *err, size_t errlen);
/* The progress of the running snapshot of this process. */
void snapshot_progress(struct snapshot_progress *p);
/* Tests: faults for the io_uring of the next snapshots (NULL: none). */
void snapshot_set_faults(const struct uring_faults *f);

/*
 * The catalog's part (catalog_snapshot.c). With the catalog and metadata
 * locks held: copy the database to db_path (meta_backup), and list every
 * sealed blob with its size, opening a read-only fd on its bytes when need
 * (NULL: always) says so (fd -1 otherwise). *blobs, *n: the caller closes
 * the fds and frees the array.
 */
struct catalog_snap_blob {
	uint64_t id;
	uint64_t size;
	int fd;
	int on_disk; /* fd is on its spill file (it is not in memory) */
	int has_crc; /* crc32c is the CRC recorded when it was spilled */
	uint32_t crc32c;
};
typedef int (*catalog_snap_need_fn)(void *arg, uint64_t id, uint64_t size);
int catalog_snapshot(catalog_t *c, const char *db_path, catalog_snap_need_fn need, void *arg,
    struct catalog_snap_blob **blobs, size_t *n);

#endif
