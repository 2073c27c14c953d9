/*
 * flatbuf: see flatbuf.h. The builder sorts a table's fields by size,
 * largest first, so that aligning the table to 8 aligns every field; the
 * reader follows the format's rules (soffset to the vtable, vtable of
 * uint16 sizes and field offsets, uoffset forward to children).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flatbuf.h"

#define FB_MAX_FIELDS 16

uint16_t
fb_load16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t
fb_load32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t
fb_load64(const unsigned char *p)
{
	return (uint64_t)fb_load32(p) | (uint64_t)fb_load32(p + 4) << 32;
}

static void
store(unsigned char *p, uint64_t v, unsigned size)
{
	unsigned i;

	for (i = 0; i < size; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Room for n more bytes; 0, or -ENOMEM (and oom set). */
static int
reserve(struct fb_builder *b, size_t n)
{
	size_t cap;
	unsigned char *p;

	if (b->oom)
		return -ENOMEM;
	if (b->len + n <= b->cap)
		return 0;
	for (cap = b->cap ? b->cap : 256; cap < b->len + n; cap *= 2)
		;
	if ((p = realloc(b->buf, cap)) == NULL) {
		b->oom = 1;
		return -ENOMEM;
	}
	b->buf = p;
	b->cap = cap;
	return 0;
}

size_t
fb_bytes(struct fb_builder *b, const void *p, size_t n)
{
	size_t pos = b->len;

	if (reserve(b, n) != 0)
		return pos;
	if (p != NULL)
		memcpy(b->buf + pos, p, n);
	else
		memset(b->buf + pos, 0, n);
	b->len += n;
	return pos;
}

void
fb_align(struct fb_builder *b, size_t align)
{
	size_t pad = (align - b->len % align) % align;

	if (pad != 0)
		fb_bytes(b, NULL, pad);
}

size_t
fb_offset(struct fb_builder *b)
{
	fb_align(b, 4);
	return fb_bytes(b, NULL, 4);
}

void
fb_patch(struct fb_builder *b, size_t pos, size_t target)
{
	if (!b->oom && pos + 4 <= b->len)
		store(b->buf + pos, (uint64_t)(target - pos), 4);
}

size_t
fb_table(struct fb_builder *b, const struct fb_field *f, unsigned n)
{
	unsigned order[FB_MAX_FIELDS], nslots = 0, i, j, k = 0, vs;
	size_t vt, t, pos;
	unsigned sizes[] = { 8, 4, 2, 1 };

	if (n > FB_MAX_FIELDS) {
		b->oom = 1; /* a caller's bug; makes the result unusable */
		return b->len;
	}
	for (i = 0; i < n; i++)
		if (f[i].slot + 1 > nslots)
			nslots = f[i].slot + 1;
	for (j = 0; j < 4; j++)
		for (i = 0; i < n; i++)
			if (f[i].size == sizes[j])
				order[k++] = i;
	vs = 4 + 2 * nslots;
	fb_align(b, 2);
	vt = fb_bytes(b, NULL, vs);
	fb_align(b, 8);
	t = fb_bytes(b, NULL, 4);
	for (i = 0; i < k; i++) {
		const struct fb_field *fi = &f[order[i]];

		fb_align(b, fi->size);
		pos = fb_bytes(b, NULL, fi->size);
		if (b->oom)
			return t;
		if (fi->offset) {
			if (fi->patch != NULL)
				*fi->patch = pos;
		} else
			store(b->buf + pos, fi->value, fi->size);
		store(b->buf + vt + 4 + 2 * fi->slot, pos - t, 2);
	}
	if (b->oom)
		return t;
	store(b->buf + t, t - vt, 4);
	store(b->buf + vt, vs, 2);
	store(b->buf + vt + 2, b->len - t, 2);
	return t;
}

size_t
fb_vector(struct fb_builder *b, uint32_t n, size_t elem_size, size_t align)
{
	uint32_t le;

	(void)elem_size;
	if (align < 4)
		align = 4;
	/* The elements, right after the 4-byte length, are the aligned part. */
	while ((b->len + 4) % align != 0 && !b->oom)
		fb_bytes(b, NULL, 1);
	store((unsigned char *)&le, n, 4);
	return fb_bytes(b, &le, 4);
}

size_t
fb_string(struct fb_builder *b, const char *s, size_t len)
{
	size_t pos = fb_vector(b, (uint32_t)len, 1, 4);

	fb_bytes(b, s, len);
	fb_bytes(b, NULL, 1);
	return pos;
}

/* Is [pos, pos + n) inside the buffer? */
static int
inside(const struct fb_buf *b, size_t pos, size_t n)
{
	return pos <= b->size && n <= b->size - pos;
}

/* The table at pos; 0 or -EINVAL. */
static int
table_at(const struct fb_buf *b, size_t pos, struct fb_table *t)
{
	int32_t so;
	long long vt;

	if (pos % 4 != 0 || !inside(b, pos, 4))
		return -EINVAL;
	so = (int32_t)fb_load32(b->base + pos);
	vt = (long long)pos - so;
	if (vt < 0 || vt % 2 != 0 || !inside(b, (size_t)vt, 4))
		return -EINVAL;
	t->pos = pos;
	t->vt = (size_t)vt;
	t->vt_size = fb_load16(b->base + t->vt);
	t->t_size = fb_load16(b->base + t->vt + 2);
	if (t->vt_size < 4 || t->vt_size % 2 != 0 || !inside(b, t->vt, t->vt_size) || t->t_size < 4 ||
	    !inside(b, pos, t->t_size))
		return -EINVAL;
	return 0;
}

int
fb_root(const struct fb_buf *b, struct fb_table *t)
{
	if (!inside(b, 0, 4))
		return -EINVAL;
	return table_at(b, fb_load32(b->base), t);
}

long long
fb_field_pos(const struct fb_buf *b, const struct fb_table *t, unsigned slot, unsigned size)
{
	unsigned off;

	if (4 + 2 * slot + 2 > t->vt_size)
		return 0;
	off = fb_load16(b->base + t->vt + 4 + 2 * slot);
	if (off == 0)
		return 0;
	if (off < 4 || off + size > t->t_size)
		return -EINVAL;
	return (long long)(t->pos + off);
}

/* Field slot's bytes: its position, 0 absent, -EINVAL. */
#define SCALAR(name, type, size, load)                                                               \
	int name(const struct fb_buf *b, const struct fb_table *t, unsigned slot, type def, type *v) \
	{                                                                                            \
		long long p = fb_field_pos(b, t, slot, size);                                        \
                                                                                                     \
		if (p < 0)                                                                           \
			return -EINVAL;                                                              \
		*v = p == 0 ? def : (type)load(b->base + p);                                         \
		return 0;                                                                            \
	}

static uint8_t
load8(const unsigned char *p)
{
	return p[0];
}

SCALAR(fb_u8, uint8_t, 1, load8)
SCALAR(fb_i16, int16_t, 2, fb_load16)
SCALAR(fb_i32, int32_t, 4, fb_load32)
SCALAR(fb_i64, int64_t, 8, fb_load64)

/* Where the uoffset in field slot points: 1 (*target), 0 absent, -EINVAL. */
static int
follow(const struct fb_buf *b, const struct fb_table *t, unsigned slot, size_t *target)
{
	long long p = fb_field_pos(b, t, slot, 4);
	uint32_t off;

	if (p <= 0)
		return (int)p;
	off = fb_load32(b->base + p);
	if (off == 0 || !inside(b, (size_t)p, off))
		return -EINVAL;
	*target = (size_t)p + off;
	return 1;
}

int
fb_subtable(const struct fb_buf *b, const struct fb_table *t, unsigned slot, struct fb_table *sub)
{
	size_t target;
	int rc = follow(b, t, slot, &target);

	if (rc <= 0)
		return rc;
	return table_at(b, target, sub) == 0 ? 1 : -EINVAL;
}

int
fb_vec(const struct fb_buf *b, const struct fb_table *t, unsigned slot, size_t elem_size, size_t *pos,
    uint32_t *n)
{
	size_t target;
	int rc = follow(b, t, slot, &target);

	if (rc <= 0)
		return rc;
	if (target % 4 != 0 || !inside(b, target, 4))
		return -EINVAL;
	*n = fb_load32(b->base + target);
	*pos = target + 4;
	if (elem_size != 0 && (uint64_t)*n > (b->size - *pos) / elem_size)
		return -EINVAL;
	return 1;
}

int
fb_vec_table(const struct fb_buf *b, size_t pos, uint32_t i, struct fb_table *sub)
{
	size_t at = pos + 4 * (size_t)i;
	uint32_t off;

	if (!inside(b, at, 4))
		return -EINVAL;
	off = fb_load32(b->base + at);
	if (off == 0 || !inside(b, at, off))
		return -EINVAL;
	return table_at(b, at + off, sub);
}

int
fb_str(const struct fb_buf *b, const struct fb_table *t, unsigned slot, const char **s, size_t *len)
{
	size_t pos;
	uint32_t n;
	int rc = fb_vec(b, t, slot, 1, &pos, &n);

	if (rc <= 0)
		return rc;
	*s = (const char *)b->base + pos;
	*len = n;
	return 1;
}
