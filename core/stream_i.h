/*
 * stream_i: what stream.c (the registry, byte streams) and
 * stream_objects.c (object streams) share: the stream's state and the
 * registry's lookup. Every field is guarded by the streams lock.
 */
#ifndef VFS_STREAM_I_H
#define VFS_STREAM_I_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"
#include "stream.h"

struct chunk {
	uint64_t blob_id;
	int fd;	  /* read-write, until the stream is freed */
	int held; /* sealed: an open counted in the catalog while fd lives */
};

struct stream {
	struct stream *next;
	char *name; /* NULL once unlinked */
	uint64_t ino;
	enum stream_state state;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	int64_t ctime_ns, mtime_ns;
	uint64_t size;
	struct chunk *chunks;
	unsigned nchunks;
	size_t cap;	  /* chunks allocated (vec) */
	int writer;	  /* a writer has it open */
	unsigned readers; /* open for reading */
	uint64_t nlookup; /* the kernel's references (lookups not forgotten) */
	int objects;	  /* an object stream */
	uint64_t *objs;	  /* its objects, in order */
	unsigned nobjs;
	size_t objcap;	       /* objs allocated (vec) */
	unsigned char *hidden; /* per object: unlinked by rm -r (NULL: none) */
	uint64_t object_id;
	char error[160];
};

struct streams {
	pthread_mutex_t lock; /* guards everything below and every stream */
	catalog_t *cat;
	struct stream *list;
	uint64_t seq; /* the last inode sequence number */
};

/* The stream of inode ino, or NULL; with the lock held. */
struct stream *stream_by_ino(streams_t *s, uint64_t ino);
/* An object stream's objects become a Sequence named after it (by id
 * only when the name is taken); with the lock held. 0 with its id, or
 * -errno with a message in err. */
int stream_objects_complete(streams_t *s, struct stream *st, uint64_t *id, char *err, size_t errlen);

#endif
