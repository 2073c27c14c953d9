/*
 * ino: the whole inode-number space, in one place. Every inode number the
 * mount shows falls in exactly one class:
 *
 *   1..6          the fixed directories: the root, objects/, blobs/,
 *                 names/ (the catalog's), .vineyardfs/ and streams/ (the
 *                 fs layer's)
 *   16..255       the control files of .vineyardfs/
 *   bit 63 set    a blob: its id (blobs/b<id>, an object's blob member)
 *   an object id  with a view in bits 60-62 (enum ino_view): the files that
 *                 show one object (its directory, data, meta.json, links)
 *   INO_VIEW_STREAM  a stream: a sequence number shifted by INO_STREAM_SHIFT;
 *                 an object stream's entry i is the stream's number + i + 1
 *
 * Ids carry the seconds since 2020 in bits 16-47 (id.h), so no id is
 * below 2^16: the small numbers never collide with an object or a blob.
 * Inode numbers are stable across restarts (an id is its own inode
 * number), which is why nothing here is allocated at run time.
 */
#ifndef VFS_INO_H
#define VFS_INO_H

#include <stdint.h>

#include "id.h"

enum {
	INO_ROOT = 1,
	INO_OBJECTS = 2,
	INO_BLOBS = 3,
	INO_NAMES = 4,
	INO_CONTROL = 5, /* .vineyardfs/ */
	INO_STREAMS = 6,
	INO_LAST_DIR = INO_STREAMS,
	/* The control files; a new one takes the next free number. */
	INO_CONTROL_FIRST = 16,
	INO_STATS = 16,
	INO_VERSION = 17,
	INO_CTL = 18,
	INO_CLUSTER = 19,
	INO_METRICS = 20,
	INO_CONTROL_LAST = 255,
};

/* A stream's inode number: its sequence number << INO_STREAM_SHIFT in the
 * stream view; the low bits number an object stream's entries. */
#define INO_STREAM_SHIFT 20

/* Views of an object: the inode numbers of the files that show it. */
enum ino_view {
	INO_VIEW_OBJECT = 0,	  /* objects/o<id>/ (the directory) */
	INO_VIEW_DATA = 1,	  /* names/<n> of a Blob object: its bytes */
	INO_VIEW_META = 2,	  /* objects/o<id>/meta.json */
	INO_VIEW_NAME_LINK = 3,	  /* names/<n> of a composite object: a symlink */
	INO_VIEW_MEMBER_LINK = 4, /* a sub-object member: a symlink */
	INO_VIEW_STREAM = 5,	  /* streams/<name>, over a sequence number */
};

/* The id an inode number belongs to (view bits cleared for objects). */
static inline uint64_t
ino_id(uint64_t ino)
{
	return id_is_blob(ino) ? ino : ino & ~INO_VIEW_MASK;
}

static inline enum ino_view
ino_view(uint64_t ino)
{
	return id_is_blob(ino) ? INO_VIEW_OBJECT : (enum ino_view)((ino & INO_VIEW_MASK) >> INO_VIEW_SHIFT);
}

/* The inode number of one view of object id. */
static inline uint64_t
ino_of(uint64_t id, enum ino_view view)
{
	return id | ((uint64_t)view << INO_VIEW_SHIFT);
}

/* The classes above. */
enum ino_class {
	INO_CLASS_NONE,	   /* 0, and the unused small numbers */
	INO_CLASS_DIR,	   /* a fixed directory */
	INO_CLASS_CONTROL, /* a control file (it may not exist) */
	INO_CLASS_BLOB,
	INO_CLASS_OBJECT, /* a view of an object (it may not exist) */
	INO_CLASS_STREAM, /* a stream or an object stream's entry */
};

static inline enum ino_class
ino_class(uint64_t ino)
{
	if (ino >= INO_ROOT && ino <= INO_LAST_DIR)
		return INO_CLASS_DIR;
	if (ino >= INO_CONTROL_FIRST && ino <= INO_CONTROL_LAST)
		return INO_CLASS_CONTROL;
	if (ino <= INO_CONTROL_LAST)
		return INO_CLASS_NONE;
	if (id_is_blob(ino))
		return INO_CLASS_BLOB;
	if (ino_view(ino) == INO_VIEW_STREAM)
		return INO_CLASS_STREAM;
	return INO_CLASS_OBJECT;
}

/* Is ino a stream's (a stream or an object stream's entry)? */
static inline int
ino_is_stream(uint64_t ino)
{
	return ino_class(ino) == INO_CLASS_STREAM;
}

#endif
