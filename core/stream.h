/*
 * stream: byte streams, the pipes of a pipeline. One writer appends, any
 * number of readers read from the start at their own pace while it
 * writes; the bytes live in shared-memory chunks (blobs of STREAM_CHUNK
 * bytes, each started when there is memory for it; they count against
 * the memory limit). When the writer closes, the chunks are sealed and become the
 * members of an ordinary object of typename ByteStream (named after the
 * stream when that name is free); when it dies, the stream is failed and
 * its readers get EIO after the bytes written.
 *
 * A stream's states: pending (looked up or opened by readers, no writer
 * yet), open (a writer), complete, failed. Streams live in memory: a
 * restart keeps complete streams as their objects only, and discards the
 * chunks of unfinished ones (they were never sealed).
 *
 * Object streams: a producer appends existing objects (streams_push) and
 * consumers take them in order (streams_next), with the same pending,
 * end, failure and replay rules; in the namespace an object stream is a
 * directory of its objects so far, "0", "1", ... (symbolic links); when
 * complete it becomes a Sequence object of them.
 *
 * Inode numbers: ino.h's stream range, a sequence number shifted by
 * INO_STREAM_SHIFT bits in the stream view; an object stream's entry i is
 * its number plus i + 1. Streams live in memory, so a daemon restarted on the same mount
 * (a supervisor's next worker) starts its sequence past its
 * predecessors': the kernel may still hold their inodes, and a number
 * that came back as another kind of file would make it mark its inode bad
 * (EIO for whoever holds it).
 * Locks: the streams lock is taken before the catalog's, never after.
 */
#ifndef VFS_STREAM_H
#define VFS_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"
#include "ino.h"

#define STREAM_CHUNK (16u << 20)			  /* bytes per chunk blob */
#define STREAM_INO_SHIFT INO_STREAM_SHIFT		  /* ino.h's */
#define STREAM_OBJECTS_MAX ((1u << STREAM_INO_SHIFT) - 2) /* objects per object stream */

typedef struct streams streams_t;

enum stream_state {
	STREAM_PENDING,
	STREAM_OPEN,
	STREAM_COMPLETE,
	STREAM_FAILED,
};

struct stream_attr {
	uint64_t ino;
	enum stream_state state;
	uint64_t size; /* bytes written so far */
	unsigned chunks;
	uid_t uid;
	gid_t gid;
	mode_t mode; /* permission bits */
	int64_t mtime_ns, ctime_ns;
	uint64_t object_id; /* once complete */
	unsigned readers;   /* open for reading now */
	int objects;	    /* an object stream (a directory) */
	unsigned count;	    /* objects pushed (object streams) */
	char error[160];    /* why it failed */
};

/* Sequence numbers start after first_seq (0 for a new mount; see above:
 * STREAM_SEQ_EPOCH for each worker before this one). */
#define STREAM_SEQ_EPOCH (UINT64_C(1) << 24) /* streams per worker, 2^16 workers */
int streams_create(catalog_t *c, uint64_t first_seq, streams_t **out);
/* At exit: unfinished streams' chunks stay unsealed (discarded at the
 * next start); memory is freed. */
void streams_destroy(streams_t *s);

/* Is ino a stream's? */
int streams_is(uint64_t ino);
/* The state name: "pending", "open", "complete", "failed". */
const char *streams_state_name(enum stream_state st);

/* Look name up; with create, a missing one is made pending (so readers
 * can open it before its writer). */
int streams_lookup(streams_t *s, const char *name, int create, struct stream_attr *a);
int streams_getattr(streams_t *s, uint64_t ino, struct stream_attr *a);
/* The kernel holds one more (ref) or n fewer (forget) references to
 * stream ino; a pending stream nobody references, reads or waits on any
 * more is dropped (a mere "ls streams/typo" leaves nothing behind). */
void streams_ref(streams_t *s, uint64_t ino);
void streams_forget(streams_t *s, uint64_t ino, uint64_t n);
/* Streams in memory now, for the stats. */
unsigned streams_count(streams_t *s);
/* Every stream with a writer, readers, or data (not the idle pending
 * ones), calling fn; a non-zero return stops and is returned. */
int streams_list(
    streams_t *s, int (*fn)(void *arg, const char *name, const struct stream_attr *a), void *arg);

/* Become the writer of stream ino (from streams_lookup): EBUSY while
 * another writes, EPERM once complete or failed. */
int streams_open_write(streams_t *s, uint64_t ino, uid_t uid, gid_t gid, mode_t mode, struct stream_attr *a);
/* The writer is gone: why NULL completes the stream (its object is made),
 * else it fails with why. */
void streams_close_write(streams_t *s, uint64_t ino, const char *why);
/* Fail an open stream now (its writer keeps the file but may write no
 * more: EIO), e.g. when a write gave up waiting for memory. */
void streams_fail(streams_t *s, uint64_t ino, const char *why);
/* Append: off must be the stream's size (EINVAL otherwise). Bytes
 * written, or -ENOSPC with nothing written when no memory is left for a
 * new chunk (the caller may wait and retry). */
ssize_t streams_write(streams_t *s, uint64_t ino, const void *buf, size_t size, off_t off);

/* A reader opens and closes; an open keeps the stream's memory alive. */
int streams_open_read(streams_t *s, uint64_t ino);
void streams_close_read(streams_t *s, uint64_t ino);
/* Where the bytes at off are: 1 with *fd (valid while the caller's open
 * lasts), *fdoff and *len (1 to size bytes); 0 at the end of a complete
 * stream; -EAGAIN while the writer may still add them (or none has come);
 * -EIO past the bytes of a failed stream. */
int streams_read(streams_t *s, uint64_t ino, off_t off, size_t size, int *fd, off_t *fdoff, size_t *len);

/* Become the producer of object stream name (made, or taken over from
 * pending): EBUSY while another produces, EPERM once complete or failed,
 * ENOTDIR for a byte stream. *ino for streams_push and close_write. */
int streams_objects_open(streams_t *s, const char *name, uid_t uid, gid_t gid, mode_t mode, uint64_t *ino);
/* Append object_id (sealed; the producer's own unless root): EBADF when
 * not open, E2BIG past STREAM_OBJECTS_MAX. Its index, or -errno. */
int streams_push(streams_t *s, uint64_t ino, uid_t uid, uint64_t object_id);
/* Object index of stream name (made pending if missing): 1 with *id, 0
 * at the end of a complete stream, -EAGAIN while more may come, -EIO past
 * the end of a failed one, ENOTDIR for a byte stream. */
int streams_next(streams_t *s, const char *name, unsigned index, uint64_t *id);
/* Entries of an object stream's directory: look one up ("0", "1", ...;
 * *ino and *id), list them in order, read one's target. */
int streams_entry_lookup(streams_t *s, uint64_t dir, const char *name, uint64_t *ino, uint64_t *id);
int streams_entries(
    streams_t *s, uint64_t dir, int (*fn)(void *arg, const char *name, uint64_t ino, uint64_t id), void *arg);
int streams_entry_target(streams_t *s, uint64_t ino, uint64_t *id);
/* Unlink entry name of object stream dir as uid, as rm -r does before its
 * rmdir: the entry is hidden, nothing is deleted (the rmdir of the stream
 * does that). EBUSY while the stream is open, EACCES but for its owner
 * and root. */
int streams_entry_unlink(streams_t *s, uint64_t dir, const char *name, uid_t uid);

/* Remove name: its object too once complete (as a delete by uid would),
 * its chunks if unfinished; readers waiting on a pending one get EIO
 * (no writer can come). EBUSY while a writer has it open. */
int streams_unlink(streams_t *s, const char *name, uid_t uid);

#endif
