/*
 * id: 64-bit object and blob ids, unique across instances without
 * coordination. The inode numbers derived from them (the views in bits
 * 60-62, which an id leaves clear) are ino.h's.
 *
 *   bit 63      blob flag (set for blobs, clear for objects)
 *   bits 60-62  clear in an id; in an inode number, which file of an
 *               object it names (ino.h's enum ino_view)
 *   bits 48-59  instance id (0..4095)
 *   bits 16-47  seconds since 2020-01-01 UTC at allocation
 *   bits 0-15   sequence within that second
 *
 * When more than 65 536 ids are allocated in one second the generator
 * borrows the next second; at start it resumes after the largest id already
 * stored, so ids never repeat on one instance even if the clock goes back.
 * An id is printed "o" or "b" followed by 16 lower-case hex digits.
 */
#ifndef VFS_ID_H
#define VFS_ID_H

#include <stdint.h>

#define ID_BLOB_BIT (UINT64_C(1) << 63)
/* Bits 60-62 of an object id stay clear: ino.h puts a view there. */
#define INO_VIEW_SHIFT 60
#define INO_VIEW_MASK (UINT64_C(7) << INO_VIEW_SHIFT)
#define ID_INSTANCE_SHIFT 48
#define ID_INSTANCE_MAX 4095
#define ID_TIME_SHIFT 16
#define ID_EPOCH 1577836800 /* 2020-01-01T00:00:00Z */
#define ID_STR_LEN 17	    /* "o" + 16 hex digits */

struct id_gen {
	uint64_t instance; /* 0..ID_INSTANCE_MAX */
	uint64_t time;	   /* seconds since ID_EPOCH of the last id */
	uint64_t seq;	   /* sequence of the last id within time */
};

/* Set up a generator for an instance, resuming after last (0: none). */
void id_gen_init(struct id_gen *g, unsigned instance, uint64_t last);
/* Next object id (bit 63 clear). Not thread safe: callers lock. */
uint64_t id_next_object(struct id_gen *g);
/* Next blob id (bit 63 set). */
uint64_t id_next_blob(struct id_gen *g);

static inline int
id_is_blob(uint64_t id)
{
	return (id & ID_BLOB_BIT) != 0;
}

/* Instance id encoded in an id. */
static inline unsigned
id_instance(uint64_t id)
{
	return (unsigned)((id >> ID_INSTANCE_SHIFT) & ID_INSTANCE_MAX);
}

/* Format as "o…" or "b…" into buf (at least ID_STR_LEN + 1 bytes). */
void id_format(uint64_t id, char *buf);
/* Parse "o…"/"b…" (exactly 16 hex digits); 0 or -EINVAL. */
int id_parse(const char *s, uint64_t *id);

#endif
