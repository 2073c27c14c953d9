/*
 * flatbuf: the little of the FlatBuffers binary format that Arrow's IPC
 * metadata needs, written and read by hand.
 *
 * The builder writes front to back: a table's vtable, then the table with
 * placeholders for its offset fields, then (later) the children those
 * fields point at, patched in with fb_patch. Offsets are uoffset_t (an
 * unsigned distance forward from where they sit), so children always come
 * after their parent. Everything is aligned from the buffer's start, which
 * the caller keeps 8-aligned in the file.
 *
 * The reader checks every access against the buffer: a table, a field, a
 * vector or a string out of bounds reads as absent or fails, never outside
 * [base, base + size).
 */
#ifndef VFS_FLATBUF_H
#define VFS_FLATBUF_H

#include <stddef.h>
#include <stdint.h>

/* A growing buffer; oom is set once an allocation failed (then every
 * write is a no-op and the caller sees it at the end). */
struct fb_builder {
	unsigned char *buf; /* owned; free() it */
	size_t len, cap;
	int oom;
};

/* One field of a table being written. */
struct fb_field {
	unsigned slot;	/* the field's id in the schema (union: type slot + 1) */
	unsigned size;	/* 1, 2, 4 or 8 bytes; 4 for an offset */
	int offset;	/* an offset to patch later: *patch gets its position */
	uint64_t value; /* a scalar's value (little-endian of size bytes) */
	size_t *patch;
};

/* Pad with zeros until len is a multiple of align (a power of two). */
void fb_align(struct fb_builder *b, size_t align);
/* Append n bytes (zeros if p is NULL); returns their position. */
size_t fb_bytes(struct fb_builder *b, const void *p, size_t n);
/* Write a uoffset placeholder; returns its position. */
size_t fb_offset(struct fb_builder *b);
/* Point the uoffset at pos to target (target > pos). */
void fb_patch(struct fb_builder *b, size_t pos, size_t target);
/* Write a table of n fields (vtable first); returns the table's position. */
size_t fb_table(struct fb_builder *b, const struct fb_field *f, unsigned n);
/* Start a vector of n elements of elem_size aligned to align: writes the
 * length; returns the length's position (the vector's), elements follow. */
size_t fb_vector(struct fb_builder *b, uint32_t n, size_t elem_size, size_t align);
/* Write a string (length, bytes, NUL); returns its position. */
size_t fb_string(struct fb_builder *b, const char *s, size_t len);

/* A buffer to read. */
struct fb_buf {
	const unsigned char *base;
	size_t size;
};

/* A table found in a buffer. */
struct fb_table {
	size_t pos; /* of the table */
	size_t vt;  /* of its vtable */
	unsigned vt_size, t_size;
};

/* The root table; 0 or -EINVAL. */
int fb_root(const struct fb_buf *b, struct fb_table *t);
/* Position of field slot of size bytes, or 0 when absent; -EINVAL if the
 * vtable names bytes outside the table or buffer. */
long long fb_field_pos(const struct fb_buf *b, const struct fb_table *t, unsigned slot, unsigned size);
/* Scalars of field slot, or def when absent; 0 or -EINVAL. */
int fb_u8(const struct fb_buf *b, const struct fb_table *t, unsigned slot, uint8_t def, uint8_t *v);
int fb_i16(const struct fb_buf *b, const struct fb_table *t, unsigned slot, int16_t def, int16_t *v);
int fb_i32(const struct fb_buf *b, const struct fb_table *t, unsigned slot, int32_t def, int32_t *v);
int fb_i64(const struct fb_buf *b, const struct fb_table *t, unsigned slot, int64_t def, int64_t *v);
/* The table field slot points at: 1 found, 0 absent, -EINVAL. */
int fb_subtable(const struct fb_buf *b, const struct fb_table *t, unsigned slot, struct fb_table *sub);
/* The vector field slot points at: 1 found (*pos = its first element,
 * *n its length, all n x elem_size bytes in bounds), 0 absent, -EINVAL. */
int fb_vec(const struct fb_buf *b, const struct fb_table *t, unsigned slot, size_t elem_size, size_t *pos,
    uint32_t *n);
/* Element i of a vector of tables starting at pos; 0 or -EINVAL. */
int fb_vec_table(const struct fb_buf *b, size_t pos, uint32_t i, struct fb_table *sub);
/* The string field slot points at: 1 found (*s into the buffer, *len its
 * bytes), 0 absent, -EINVAL. */
int fb_str(const struct fb_buf *b, const struct fb_table *t, unsigned slot, const char **s, size_t *len);
/* Little-endian loads at pos (the caller checked the bounds). */
uint16_t fb_load16(const unsigned char *p);
uint32_t fb_load32(const unsigned char *p);
uint64_t fb_load64(const unsigned char *p);

#endif
