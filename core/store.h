/*
 * store: the blob backing store, one file per blob ("b<16 hex>") in a tmpfs
 * that outlives the daemon process. By default the store mounts its own
 * tmpfs at a directory (size = memory limit + one page, so the kernel itself
 * enforces the limit on writes that pass straight through to the files) and
 * leaves it mounted when the daemon stops: a killed daemon loses no data.
 */
#ifndef VFS_STORE_H
#define VFS_STORE_H

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

typedef struct store store_t;

/* Open the store in dir. STORE_MOUNT: mount (or resize) a dedicated tmpfs
 * there; otherwise use dir as it is. Its files get huge pages where a
 * mapping asks for them (huge=advise: reloads and restores, which read
 * into a mapping, do), or with STORE_HUGE wherever they fit within a
 * file's size (huge=within_size). Measured on the project's VM, whose
 * balloon hands freed memory back to the host: reloading a spilled 1 GiB
 * blob took 0.45 s with huge pages, 0.66-0.72 s without (the host still
 * backing the memory); but a Python put of 1 GiB 0.19-2.3 s with
 * within_size, 0.39-0.47 s without: a huge page is made of memory the
 * host took back. Stream chunks, which grow by appends, get small pages
 * either way. */
int store_open(const char *dir, uint64_t limit, unsigned flags, store_t **out);
#define STORE_MOUNT 1u
#define STORE_HUGE 2u
void store_close(store_t *s);

/* Create the file of a new blob, O_RDWR; returns a fd the caller closes. */
int store_blob_create(store_t *s, uint64_t id, int *fd);
/* Open an existing blob file with open(2) flags; caller closes the fd. */
int store_blob_open(store_t *s, uint64_t id, int flags, int *fd);
/* Remove a blob file; its memory is freed once nothing holds it open. */
int store_blob_remove(store_t *s, uint64_t id);
/* Size in bytes of a blob file; -ENOENT when missing. */
int store_blob_size(store_t *s, uint64_t id, uint64_t *size);
/* stat(2) of a blob file; -ENOENT when missing. */
int store_blob_stat(store_t *s, uint64_t id, struct stat *st);
/* Set a blob file's times (utimensat(2): UTIME_OMIT leaves one). */
int store_blob_set_times(store_t *s, uint64_t id, const struct timespec ts[2]);
/* Bytes in use by the dedicated tmpfs; -ENOTSUP when the store has none
 * (then mem.c counts the bytes itself). */
int store_usage(store_t *s, uint64_t *used);
/* True when a dedicated tmpfs has no room left: a writer was cut short. */
int store_full(store_t *s);
/* True when the kernel enforces the limit (dedicated tmpfs). */
int store_kernel_limited(const store_t *s);
/* Call fn for every file in the store: id (0 if the name is not a blob's). */
int store_scan(store_t *s, int (*fn)(void *arg, const char *name, uint64_t id), void *arg);
/* Remove a file by name (orphans found by store_scan). */
int store_remove_name(store_t *s, const char *name);
/* The directory of the store, and an fd on it (the store's). */
const char *store_dir(const store_t *s);
int store_dirfd(const store_t *s);

#endif
