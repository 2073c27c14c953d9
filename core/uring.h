/*
 * uring: file-to-file copies through io_uring for spill and snapshot I/O:
 * several chunk reads and writes in flight, large buffers aligned for
 * O_DIRECT, short transfers resubmitted, a CRC-32C (core/crc32c.h) of the
 * bytes copied. A ring belongs to one thread at a time: nothing here locks,
 * so give each spill or snapshot thread its own. The ring owns depth
 * buffers of URING_CHUNK bytes for its whole life (8 MiB at depth 8).
 */
#ifndef VFS_URING_H
#define VFS_URING_H

#include <stddef.h>
#include <stdint.h>

#define URING_DEPTH 8 /* default queue depth: chunks in flight */
#define URING_MAX_DEPTH 64
#define URING_CHUNK (1u << 20) /* bytes per read or write request */
#define URING_ALIGN 4096u      /* buffer, offset and O_DIRECT length alignment */

struct uring;

/*
 * Fault injection, for tests only. The real io_uring requests still run:
 * a failing one has its result replaced when it completes, a short one is
 * submitted for about half its bytes (kept aligned for O_DIRECT), so the
 * kernel really transfers less. Requests are numbered from 1 in the order
 * they are submitted, over all calls since uring_set_faults (0: never).
 */
struct uring_faults {
	unsigned fail_read_at;	 /* the Nth read completes with -err */
	unsigned short_read_at;	 /* the Nth read moves about half its bytes */
	unsigned fail_write_at;	 /* the Nth write completes with -err */
	unsigned short_write_at; /* the Nth write moves about half its bytes */
	unsigned fail_fsync_at;	 /* the Nth fsync completes with -err */
	int err;		 /* positive errno: ENOSPC, EIO, ... */
};

/* Set up a ring with depth requests in flight (0: URING_DEPTH) and its
 * buffers; *out is the caller's, freed by uring_close. -ENOSYS or -EPERM
 * when the kernel refuses io_uring; -ENOMEM; -EINVAL above URING_MAX_DEPTH. */
int uring_open(struct uring **out, unsigned depth);
/* Free the ring and its buffers; NULL is a no-op. */
void uring_close(struct uring *u);

/*
 * Copy size bytes from src_fd to dst_fd, both from offset 0, and leave a
 * regular dst exactly size bytes long. Either fd may be O_DIRECT (an
 * O_DIRECT dst gets its tail padded to URING_ALIGN, then truncated). When
 * crc is not NULL it receives crc32c_update(0, bytes, size). Returns 0, or
 * -errno with a message in err (errlen bytes): the first read or write
 * error as the kernel gave it (-ENOSPC, -EIO, ...), or -EIO when src ends
 * before size bytes. On failure dst holds an unspecified prefix and *crc is
 * untouched. Durability is the caller's: see uring_fsync.
 */
int uring_copy(
    struct uring *u, int src_fd, int dst_fd, uint64_t size, uint32_t *crc, char *err, size_t errlen);
/*
 * Read size bytes of src_fd, from offset 0, straight into dst (no bounce
 * buffer: a shared mapping of the destination file takes the bytes
 * itself), depth reads in flight, with the CRC as uring_copy gives it.
 * When src is O_DIRECT, dst must be URING_ALIGN-aligned (a mapping is) and
 * hold size rounded up to URING_ALIGN. 0 or -errno with a message, as
 * uring_copy (-EIO when src ends early); on failure dst holds a prefix.
 */
int uring_read_mem(
    struct uring *u, int src_fd, void *dst, uint64_t size, uint32_t *crc, char *err, size_t errlen);
/*
 * uring_copy into dst_fd, a regular file that can be mapped and is not
 * O_DIRECT (a tmpfs file): dst is sized, mapped and read into with
 * uring_read_mem, so the bytes land in its pages with no bounce buffer and
 * no write, then cut to size (reloads and restores into the store: 2.3
 * GB/s here against 1.1-1.3 through the buffers). Its memory is taken as
 * the reads land: a file system out of room fails with -ENOSPC.
 */
int uring_copy_mapped(
    struct uring *u, int src_fd, int dst_fd, uint64_t size, uint32_t *crc, char *err, size_t errlen);
/*
 * Write size bytes of memory src to dst_fd from offset 0, depth writes in
 * flight, the CRC as uring_copy gives it, dst left size bytes long. When
 * dst is O_DIRECT, src must be URING_ALIGN-aligned and readable up to size
 * rounded up to URING_ALIGN (a mapping of a file is: the rest of its last
 * page reads as zeros).
 */
int uring_write_mem(
    struct uring *u, const void *src, int dst_fd, uint64_t size, uint32_t *crc, char *err, size_t errlen);
/*
 * uring_copy from src_fd, a regular file that can be mapped (a tmpfs
 * file), of at least size bytes: it is mapped and written from with
 * uring_write_mem, no bounce buffer and no reads (spills and snapshots
 * out of the store).
 */
int uring_copy_from_mapped(
    struct uring *u, int src_fd, int dst_fd, uint64_t size, uint32_t *crc, char *err, size_t errlen);
/* Map size bytes of src_fd (at least that long) read-only for
 * uring_write_mem, whole pages; *map NULL for size 0. Caller unmaps with
 * uring_unmap. 0 or -errno with err. */
int uring_map_src(int src_fd, uint64_t size, void **map, char *err, size_t errlen);
void uring_unmap(void *map, uint64_t size);
/* fsync(2) fd through the ring; 0 or -errno. */
int uring_fsync(struct uring *u, int fd);

/* Tests: replace the faults (NULL: none) and restart their counts. */
void uring_set_faults(struct uring *u, const struct uring_faults *f);
/* Tests: how many requests were failed or cut since uring_set_faults. */
unsigned uring_faults_injected(const struct uring *u);

#endif
