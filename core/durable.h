/*
 * durable: the one way bytes become a file under their final name: a temp
 * file in the destination directory, its blocks allocated (fallocate), the
 * bytes copied through io_uring with their CRC-32C (core/uring.h), fsync,
 * rename to the final name, fsync of the directory. Whatever fails, the
 * temp file is removed and the final name never shows a partial file; a
 * crash leaves at most a temp file, which its owner removes by its prefix
 * when it starts. Spill (write-out and reload), snapshots and restores copy
 * through it, and so do blobs fetched from another member (from a socket:
 * DURABLE_SRC_SOCKET).
 *
 * A batch shares one fsync of the directory: durable_write every file,
 * then durable_place each, then durable_sync_dir once (fsyncs in a row
 * also share the file system's journal commits). durable_copy is the three
 * for one file.
 *
 * Errors are -errno with the reason in err (errlen bytes), or logged when
 * err is NULL: never silent, never said twice.
 */
#ifndef VFS_DURABLE_H
#define VFS_DURABLE_H

#include <stddef.h>
#include <stdint.h>

struct uring;

/* Where the bytes come from. */
enum durable_src_kind {
	/* A file, from offset 0, at least size bytes long. O_DIRECT (a disk)
	 * it is read through the ring's buffers; otherwise (the store's
	 * tmpfs) it is mapped and written from the mapping, with no copy. */
	DURABLE_SRC_FD,
	/* size bytes of memory, written from where they are (a mapping the
	 * caller keeps: spill frees the blob's pages with it). With
	 * DURABLE_DIRECT: URING_ALIGN-aligned, readable up to size rounded up
	 * to URING_ALIGN (a mapping of a file is). */
	DURABLE_SRC_MEM,
	/* A connected socket (blocking, with a receive time limit: a stalled
	 * peer fails the copy with -ETIMEDOUT) whose next size bytes are the
	 * file's: received straight into a mapping of the destination, which
	 * must be DURABLE_MAPPED (the store's tmpfs), the CRC summed as they
	 * arrive. A peer that goes away early: -ECONNRESET. The ring is not
	 * used for the bytes (u may be NULL with DURABLE_NOSYNC). The peer
	 * fetch (peer_client.h) receives blobs through it. */
	DURABLE_SRC_SOCKET,
};

struct durable_src {
	enum durable_src_kind kind;
	int fd;		 /* DURABLE_SRC_FD, DURABLE_SRC_SOCKET; the caller's */
	const void *mem; /* DURABLE_SRC_MEM; the caller's */
};

/* One file to make; the caller fills the first part (zero the rest). */
struct durable {
	struct uring *u;  /* copies and fsyncs (its depth; its faults in tests) */
	int dirfd;	  /* the destination directory */
	const char *dir;  /* its path, for messages */
	const char *name; /* the final name in it (replaced if it exists) */
	const char *tmp;  /* the temp file's prefix: the temp is tmp + name */
	const char *what; /* for messages ("blob b…"); NULL: name */
	/* DURABLE_MAPPED: a memory destination (tmpfs): the bytes of a
	 * DURABLE_SRC_FD (or DURABLE_SRC_SOCKET, which needs it) are read
	 * or received straight into a mapping of the file, huge
	 * pages where the file system gives them, the CRC summed in place;
	 * no fallocate, which would zero every page before the copy writes
	 * it. */
	unsigned flags;
#define DURABLE_DIRECT 1u /* O_DIRECT where the file system takes it (a disk) */
#define DURABLE_MAPPED 2u
#define DURABLE_NOSYNC 4u /* no fsync of file or directory: memory only */
#define DURABLE_VERIFY 8u /* the bytes must have CRC-32C want: else -EIO */
	struct durable_src src;
	uint64_t size;
	uint32_t want; /* DURABLE_VERIFY */
	/* Set by durable_write. */
	uint32_t crc; /* CRC-32C of the bytes copied */
	int mismatch; /* DURABLE_VERIFY failed (crc is not want) */
	int fd;	      /* the temp file, open until durable_place or _abort */
};

/* Create the temp file, allocate its blocks, copy the bytes with their
 * CRC into d->crc (checked with DURABLE_VERIFY). The temp stays open in
 * d->fd, the final name untouched, until durable_place or durable_abort.
 * On failure the temp is gone and d->fd is -1. */
int durable_write(struct durable *d, char *err, size_t errlen);
/* After durable_write: fsync the temp, close it, rename it to its final
 * name. The directory is not fsynced (durable_sync_dir). On failure the
 * temp is gone. d->fd is -1 after. */
int durable_place(struct durable *d, char *err, size_t errlen);
/* After durable_write: close and remove the temp (a copy not wanted). */
void durable_abort(struct durable *d);
/* fsync a directory through u, after durable_place or durable_rename of
 * its files. */
int durable_sync_dir(struct uring *u, int dirfd, const char *dir, char *err, size_t errlen);
/* durable_write, durable_place and durable_sync_dir of one file. On
 * failure neither the temp nor the final name is left. */
int durable_copy(struct durable *d, char *err, size_t errlen);
/* A file written by other means (SQLite) at dirfd/tmp made durable as
 * dirfd/name: fsync, rename, fsync of the directory. On failure before
 * the rename, tmp is removed; a failed fsync of the directory leaves the
 * file renamed (what it replaced is gone already). */
int durable_rename(
    struct uring *u, int dirfd, const char *dir, const char *tmp, const char *name, char *err, size_t errlen);
/* Open name in dirfd to read a copy from: O_DIRECT where the file system
 * takes it (a disk read does not fill the page cache). -errno. */
int durable_open_src(int dirfd, const char *name, int *fd);

#endif
