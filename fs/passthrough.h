/*
 * passthrough: kernel FUSE passthrough on libfuse 3.14, which predates the
 * API. A filter of the custom I/O hook on the /dev/fuse fd (iochain.h)
 * negotiates FUSE_PASSTHROUGH in the INIT reply and marks chosen
 * OPEN/CREATE replies FOPEN_PASSTHROUGH with a backing id; reads, writes and mmap of those files then go straight to
 * the blob's tmpfs file and never reach the daemon. One backing id per blob,
 * registered at its first open and closed when the blob is freed. When the
 * kernel or privileges refuse, every blob is served by the daemon instead.
 */
#ifndef VFS_PASSTHROUGH_H
#define VFS_PASSTHROUGH_H

#include "fs/fs.h"
#include "fs/iochain.h"

/* The filter (started with the user's choice: try passthrough or not). */
extern const struct iochain_filter pt_filter;
/* Is passthrough in force (negotiated and not given up)? */
int pt_active(void);
/* Opens answered with passthrough since start; backing files registered
 * now (metrics). */
uint64_t pt_opens_total(void);
uint64_t pt_backing_count(void);
/* Why it is not, for logs and stats ("" when it is). */
const char *pt_reason(void);
/* A restarted worker: what the connection's first worker negotiated. */
void pt_connection(int on);
/* Backing id for blob_id (registering fd, which the caller still owns, at
 * the first open); 0 when the blob must be served by the daemon, -EIO
 * when it passes through for others but could not be registered. */
int pt_backing_get(uint64_t blob_id, int fd);
/* The open or create that made handle fh passes through to backing_id:
 * call before its reply (from any thread); the I/O hook amends it. */
void pt_open_reply(uint64_t fh, int backing_id);
/* Release the backing id of a freed blob. */
void pt_blob_freed(uint64_t blob_id);

#endif
