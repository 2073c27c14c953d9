/*
 * check_arrow_ipc: the Arrow IPC file writer and reader. Round trips
 * (layout -> image -> read gives back every field, array and buffer), the
 * known bytes of a file npm's apache-arrow 21 wrote (tests/data), the
 * writer's refusals, and the reader on every truncation and every flipped
 * byte of both files (refused or in bounds, never a crash), and files
 * patched to hold what the reader refuses (each refusal says why).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arrow_ipc.h"
#include "core/arrow_ipc_i.h"
#include "core/flatbuf.h"
#include "tests/check_core.h"

static char err[512];

static void
set_field(struct arrow_ipc_field *f, const char *name, const char *type, int nullable)
{
	f->name = (char *)name;
	f->nullable = nullable;
	ck_assert_int_eq(arrow_type_parse(type, &f->type), 0);
}

static struct arrow_ipc_array
arr(uint64_t length, uint64_t nulls, unsigned n, uint64_t s0, uint64_t s1, uint64_t s2)
{
	struct arrow_ipc_array a = { length, nulls, n, { { 0, s0 }, { 0, s1 }, { 0, s2 } } };

	return a;
}

/* A description of 4 fields, a dictionary and 2 batches (sizes only). */
struct sample {
	struct arrow_ipc_field fields[4];
	struct arrow_ipc_array cols[2][4];
	struct arrow_ipc_batch batches[2];
	struct arrow_ipc_dict dicts[1];
	struct arrow_ipc_desc d;
};

static void
sample_init(struct sample *s)
{
	memset(s, 0, sizeof *s);
	set_field(&s->fields[0], "n", "int64", 0);
	set_field(&s->fields[1], "name", "string", 1);
	set_field(&s->fields[2], "cat", "dictionary<values=large_string, indices=int16, ordered=1>", 1);
	set_field(&s->fields[3], "when", "timestamp[ns, tz=Europe/Paris]", 1);
	s->cols[0][0] = arr(0, 0, 2, 0, 80, 0);
	s->cols[0][1] = arr(0, 2, 3, 2, 44, 100);
	s->cols[0][2] = arr(0, 1, 2, 2, 20, 0);
	s->cols[0][3] = arr(0, 0, 2, 0, 80, 0);
	s->cols[1][0] = arr(0, 0, 2, 0, 8, 0);
	s->cols[1][1] = arr(0, 0, 3, 0, 8, 0);
	s->cols[1][2] = arr(0, 0, 2, 0, 2, 0);
	s->cols[1][3] = arr(0, 1, 2, 1, 8, 0);
	s->batches[0] = (struct arrow_ipc_batch){ 10, s->cols[0] };
	s->batches[1] = (struct arrow_ipc_batch){ 1, s->cols[1] };
	s->dicts[0] = (struct arrow_ipc_dict){ .field = 2, .values = arr(3, 0, 3, 0, 32, 5) };
	s->d = (struct arrow_ipc_desc){ 4, s->fields, 1, s->dicts, 2, s->batches };
}

/* The image of a layout: pieces written, the rest zero; caller frees. */
static unsigned char *
image(const struct arrow_ipc_layout *l)
{
	unsigned char *img = calloc(1, l->nbytes);
	unsigned i;

	ck_assert_ptr_nonnull(img);
	for (i = 0; i < l->npieces; i++) {
		ck_assert_uint_le(l->pieces[i].offset + l->pieces[i].len, l->nbytes);
		if (i > 0)
			ck_assert_uint_ge(
			    l->pieces[i].offset, l->pieces[i - 1].offset + l->pieces[i - 1].len);
		memcpy(img + l->pieces[i].offset, l->pieces[i].data, l->pieces[i].len);
	}
	return img;
}

/* a and b describe the same array at the same places. */
static void
same_array(const struct arrow_ipc_array *a, const struct arrow_ipc_array *b)
{
	unsigned k;

	ck_assert_uint_eq(a->length, b->length);
	ck_assert_uint_eq(a->null_count, b->null_count);
	ck_assert_uint_eq(a->nbuffers, b->nbuffers);
	for (k = 0; k < a->nbuffers; k++) {
		ck_assert_uint_eq(a->buffers[k].offset, b->buffers[k].offset);
		ck_assert_uint_eq(a->buffers[k].size, b->buffers[k].size);
	}
}

/* No buffer of a overlaps a piece of l; every buffer is 64-aligned. */
static void
clear_of_pieces(const struct arrow_ipc_layout *l, const struct arrow_ipc_array *a)
{
	unsigned i, k;

	for (k = 0; k < a->nbuffers; k++) {
		ck_assert_uint_eq(a->buffers[k].offset % 64, 0);
		ck_assert_uint_le(a->buffers[k].offset + a->buffers[k].size, l->nbytes);
		for (i = 0; i < l->npieces; i++)
			ck_assert(a->buffers[k].offset + a->buffers[k].size <= l->pieces[i].offset ||
				  a->buffers[k].offset >= l->pieces[i].offset + l->pieces[i].len);
	}
}

START_TEST(test_round_trip)
{
	struct sample s;
	struct arrow_ipc_layout l;
	struct arrow_ipc_desc r;
	unsigned char *img;
	char a[ARROW_TYPE_STR_MAX], b[ARROW_TYPE_STR_MAX];
	unsigned i, j;

	sample_init(&s);
	ck_assert_int_eq(arrow_ipc_layout(&s.d, &l, err, sizeof err), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(s.dicts[0].id, 2);
	img = image(&l);
	ck_assert_int_eq(memcmp(img, "ARROW1\0\0", 8), 0);
	ck_assert_int_eq(memcmp(img + l.nbytes - 6, "ARROW1", 6), 0);
	ck_assert_int_eq(arrow_ipc_read(img, l.nbytes, &r, err, sizeof err), 0);
	ck_assert_uint_eq(r.nfields, 4);
	for (i = 0; i < 4; i++) {
		ck_assert_str_eq(r.fields[i].name, s.fields[i].name);
		ck_assert_int_eq(r.fields[i].nullable, s.fields[i].nullable);
		ck_assert_int_eq(arrow_type_format(&r.fields[i].type, a, sizeof a), 0);
		ck_assert_int_eq(arrow_type_format(&s.fields[i].type, b, sizeof b), 0);
		ck_assert_str_eq(a, b);
	}
	ck_assert_uint_eq(r.ndicts, 1);
	ck_assert_uint_eq(r.dicts[0].field, 2);
	same_array(&r.dicts[0].values, &s.dicts[0].values);
	clear_of_pieces(&l, &s.dicts[0].values);
	ck_assert_uint_eq(r.nbatches, 2);
	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(r.batches[i].rows, s.batches[i].rows);
		for (j = 0; j < 4; j++) {
			same_array(&r.batches[i].columns[j], &s.cols[i][j]);
			clear_of_pieces(&l, &s.cols[i][j]);
		}
	}
	arrow_ipc_desc_free(&r);
	arrow_ipc_layout_free(&l);
	free(img);
}
END_TEST

START_TEST(test_no_batches)
{
	struct sample s;
	struct arrow_ipc_layout l;
	struct arrow_ipc_desc r;
	unsigned char *img;

	sample_init(&s);
	s.d.nbatches = 0;
	ck_assert_int_eq(arrow_ipc_layout(&s.d, &l, err, sizeof err), 0);
	img = image(&l);
	ck_assert_int_eq(arrow_ipc_read(img, l.nbytes, &r, err, sizeof err), 0);
	ck_assert_uint_eq(r.nbatches, 0);
	ck_assert_uint_eq(r.ndicts, 1);
	arrow_ipc_desc_free(&r);
	arrow_ipc_layout_free(&l);
	free(img);
}
END_TEST

/* The layout of s must fail with a message containing want. */
static void
refused(struct sample *s, const char *want)
{
	struct arrow_ipc_layout l;

	ck_assert_int_eq(arrow_ipc_layout(&s->d, &l, err, sizeof err), -EINVAL);
	ck_assert_msg(strstr(err, want) != NULL, "\"%s\" does not say \"%s\"", err, want);
	ck_assert_uint_eq(l.npieces, 0);
}

START_TEST(test_writer_refuses)
{
	struct sample s;

	sample_init(&s);
	s.cols[0][1].nbuffers = 2;
	refused(&s, "batch 0 column 1: 2 buffers, its type has 3");
	sample_init(&s);
	s.cols[0][0].buffers[1].size = 79;
	refused(&s, "batch 0 column 0: values of 79 bytes, 10 slots need 80");
	sample_init(&s);
	s.cols[1][3].buffers[0].size = 0;
	refused(&s, "batch 1 column 3: validity of 0 bytes");
	sample_init(&s);
	s.cols[0][1].buffers[1].size = 40;
	refused(&s, "offsets of 40 bytes, 10 slots need 44");
	sample_init(&s);
	s.cols[0][2].buffers[1].size = 19;
	refused(&s, "indices of 19 bytes");
	sample_init(&s);
	s.cols[1][0].null_count = 1;
	s.cols[1][0].buffers[0].size = 1;
	refused(&s, "nulls in non-nullable field n");
	sample_init(&s);
	s.d.ndicts = 0;
	refused(&s, "0 dictionaries for 1 dictionary fields");
	sample_init(&s);
	s.dicts[0].field = 1;
	refused(&s, "field 1 is not a dictionary field");
	sample_init(&s);
	s.dicts[0].values.buffers[1].size = 8;
	refused(&s, "dictionary of field 2: offsets of 8 bytes");
	sample_init(&s);
	s.cols[0][1].null_count = 11;
	refused(&s, "null count 11 above its length 10");
	sample_init(&s);
	s.d.nfields = 0;
	refused(&s, "fields: 0");
	sample_init(&s);
	s.cols[0][1].buffers[2].size = 1ull << 60;
	refused(&s, "too large");
}
END_TEST

/* The fixture's bytes; caller frees. */
static unsigned char *
fixture(size_t *len)
{
	const char *dir = getenv("TESTS_SRCDIR");
	char path[4096];
	unsigned char *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof path, "%s/data/arrow_js21.arrow", dir ? dir : "tests");
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int32_t
i32_at(const unsigned char *img, const struct arrow_ipc_buffer *b, unsigned i)
{
	int32_t v;

	ck_assert_uint_le(4 * (i + 1), b->size);
	memcpy(&v, img + b->offset + 4 * i, 4);
	return v;
}

static int
valid(const unsigned char *img, const struct arrow_ipc_array *a, unsigned i)
{
	return a->buffers[0].size == 0 || (img[a->buffers[0].offset + i / 8] >> (i % 8) & 1);
}

/* The string at slot i of a (utf8) array as a C string in buf. */
static const char *
str_at(const unsigned char *img, const struct arrow_ipc_array *a, unsigned i, char *buf, size_t len)
{
	int32_t o0 = i32_at(img, &a->buffers[1], i), o1 = i32_at(img, &a->buffers[1], i + 1);

	ck_assert_int_le(0, o0);
	ck_assert_int_le(o0, o1);
	ck_assert_uint_le((uint64_t)o1, a->buffers[2].size);
	ck_assert_uint_lt((size_t)(o1 - o0), len);
	memcpy(buf, img + a->buffers[2].offset + o0, (size_t)(o1 - o0));
	buf[o1 - o0] = '\0';
	return buf;
}

START_TEST(test_apache_arrow_file)
{
	static const char *const types[] = { "int32", "double", "bool", "string", "timestamp[ms, tz=UTC]",
		"date32[day]", "dictionary<values=string, indices=int32, ordered=0>" };
	static const char *const names = "ixbstdc";
	static const int32_t ints[] = { 1, 0, -3, 4, 5 }, days[] = { 0, 1, 19000, 0, -1 },
			     codes[] = { 0, 1, 0, 0, 2 };
	static const int64_t ms[] = { 0, 1000, 0, 1700000000000, -1 };
	static const double dbl[] = { 1.5, 2.5, 0, -4.25, 0 };
	static const char *const strs[] = { "a", NULL, "h\xc3\xa9llo", "", "xyz" }, *const dict[] = { "red",
		"blue", "green" };
	static const unsigned null_row[] = { 1, 2, 2, 1, 2, 3, 2 };
	struct arrow_ipc_desc d;
	const struct arrow_ipc_array *c;
	char t[ARROW_TYPE_STR_MAX], s[64];
	unsigned char *img;
	size_t len;
	unsigned i, r;
	int64_t v64;
	double dv;

	img = fixture(&len);
	ck_assert_int_eq(arrow_ipc_read(img, len, &d, err, sizeof err), 0);
	ck_assert_uint_eq(d.nfields, 7);
	for (i = 0; i < 7; i++) {
		ck_assert_uint_eq(strlen(d.fields[i].name), 1);
		ck_assert_int_eq(d.fields[i].name[0], names[i]);
		ck_assert_int_eq(d.fields[i].nullable, 1);
		ck_assert_int_eq(arrow_type_format(&d.fields[i].type, t, sizeof t), 0);
		ck_assert_str_eq(t, types[i]);
	}
	ck_assert_uint_eq(d.ndicts, 1);
	ck_assert_uint_eq(d.dicts[0].field, 6);
	ck_assert_uint_eq(d.dicts[0].values.length, 3);
	ck_assert_uint_eq(d.dicts[0].values.null_count, 0);
	for (r = 0; r < 3; r++)
		ck_assert_str_eq(str_at(img, &d.dicts[0].values, r, s, sizeof s), dict[r]);
	ck_assert_uint_eq(d.nbatches, 1);
	ck_assert_uint_eq(d.batches[0].rows, 5);
	for (i = 0; i < 7; i++) {
		c = &d.batches[0].columns[i];
		ck_assert_uint_eq(c->length, 5);
		ck_assert_uint_eq(c->null_count, 1);
		for (r = 0; r < 5; r++)
			ck_assert_int_eq(valid(img, c, r), r != null_row[i]);
	}
	for (r = 0; r < 5; r++) {
		c = d.batches[0].columns;
		if (r != 1)
			ck_assert_int_eq(i32_at(img, &c[0].buffers[1], r), ints[r]);
		if (r != 2) {
			memcpy(&dv, img + c[1].buffers[1].offset + 8 * r, 8);
			ck_assert(dv == dbl[r]);
			ck_assert_int_eq(img[c[2].buffers[1].offset] >> r & 1, r == 0 || r == 3);
			memcpy(&v64, img + c[4].buffers[1].offset + 8 * r, 8);
			ck_assert_int_eq(v64, ms[r]);
			ck_assert_int_eq(i32_at(img, &c[6].buffers[1], r), codes[r]);
		}
		if (strs[r] != NULL)
			ck_assert_str_eq(str_at(img, &c[3], r, s, sizeof s), strs[r]);
		if (r != 3)
			ck_assert_int_eq(i32_at(img, &c[5].buffers[1], r), days[r]);
	}
	arrow_ipc_desc_free(&d);
	free(img);
}
END_TEST

/* Whatever the reader makes of img, it stays inside it. */
static void
read_any(const unsigned char *img, size_t len)
{
	struct arrow_ipc_desc d;
	unsigned i, j, k;
	int rc = arrow_ipc_read(img, len, &d, err, sizeof err);

	ck_assert(rc == 0 || rc == -EINVAL);
	if (rc != 0) {
		ck_assert(err[0] != '\0');
		ck_assert_ptr_null(d.fields);
		return;
	}
	for (i = 0; i < d.nbatches; i++)
		for (j = 0; j < d.nfields; j++)
			for (k = 0; k < d.batches[i].columns[j].nbuffers; k++) {
				const struct arrow_ipc_buffer *b = &d.batches[i].columns[j].buffers[k];

				ck_assert_uint_le(b->offset + b->size, len);
			}
	arrow_ipc_desc_free(&d);
}

/* Every prefix, and every byte flipped to 3 values, of img. */
static void
mangle(unsigned char *img, size_t len)
{
	static const unsigned char flips[] = { 0x00, 0xff, 0x80 };
	unsigned char *copy;
	size_t i, f;

	for (i = 0; i < len; i++) {
		copy = malloc(i ? i : 1); /* a copy of exactly i bytes: ASan sees any overread */
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, img, i);
		ck_assert_int_eq(
		    arrow_ipc_read(copy, i, &(struct arrow_ipc_desc){ 0 }, err, sizeof err), -EINVAL);
		free(copy);
	}
	for (i = 0; i < len; i++)
		for (f = 0; f < sizeof flips; f++) {
			unsigned char was = img[i];

			img[i] = was == flips[f] ? (unsigned char)~was : flips[f];
			read_any(img, len);
			img[i] = was;
		}
}

START_TEST(test_reader_mangled)
{
	struct sample s;
	struct arrow_ipc_layout l;
	unsigned char *img;
	size_t len;

	img = fixture(&len);
	mangle(img, len);
	free(img);
	sample_init(&s);
	ck_assert_int_eq(arrow_ipc_layout(&s.d, &l, err, sizeof err), 0);
	img = image(&l);
	mangle(img, l.nbytes);
	arrow_ipc_layout_free(&l);
	free(img);
}
END_TEST

/* The footer of an image and its root table. */
static struct fb_buf
footer_of(unsigned char *img, size_t len, struct fb_table *t)
{
	uint32_t flen = fb_load32(img + len - 10);
	struct fb_buf b = { img + len - 10 - flen, flen };

	ck_assert_int_eq(fb_root(&b, t), 0);
	return b;
}

/* Where field slot (size bytes) of table t is, to patch it. */
static unsigned char *
at(const struct fb_buf *b, const struct fb_table *t, unsigned slot, unsigned size)
{
	long long p = fb_field_pos(b, t, slot, size);

	ck_assert_int_gt(p, 0);
	return (unsigned char *)b->base + p;
}

/* The header table of the message of the footer's block i in vector slot
 * (dictionaries or batches); *blk where the block is. */
static struct fb_buf
message_of(
    unsigned char *img, size_t len, unsigned slot, uint32_t i, struct fb_table *hdr, unsigned char **blk)
{
	struct fb_table f, m;
	struct fb_buf fb = footer_of(img, len, &f), mb;
	size_t pos;
	uint32_t n;
	uint64_t off;

	ck_assert_int_eq(fb_vec(&fb, &f, slot, AIPC_BLOCK_SIZE, &pos, &n), 1);
	ck_assert_uint_lt(i, n);
	*blk = (unsigned char *)fb.base + pos + AIPC_BLOCK_SIZE * i;
	off = fb_load64(*blk);
	mb = (struct fb_buf){ img + off + 8, fb_load32(img + off + 4) };
	ck_assert_int_eq(fb_root(&mb, &m), 0);
	ck_assert_int_eq(fb_subtable(&mb, &m, AIPC_MSG_HEADER, hdr), 1);
	return mb;
}

/* img must be refused with a message containing want. */
static void
refuses(const unsigned char *img, size_t len, const char *want)
{
	struct arrow_ipc_desc d;

	ck_assert_int_eq(arrow_ipc_read(img, len, &d, err, sizeof err), -EINVAL);
	ck_assert_msg(strstr(err, want) != NULL, "\"%s\" does not say \"%s\"", err, want);
}

/* Files patched one thing at a time: the reader names what it refuses. */
START_TEST(test_reader_refuses)
{
	struct sample s;
	struct arrow_ipc_layout l;
	struct fb_table t, st, ft;
	struct fb_buf b;
	unsigned char *img, *p, *blk, was[8];
	size_t pos;
	uint32_t n;

	sample_init(&s);
	ck_assert_int_eq(arrow_ipc_layout(&s.d, &l, err, sizeof err), 0);
	img = image(&l);
	/* A field renamed in the Schema message only. */
	p = memmem(img, l.pieces[0].len, "when", 4);
	ck_assert_ptr_nonnull(p);
	p[0] = 'W';
	refuses(img, l.nbytes, "the footer's schema differs from the schema message's");
	p[0] = 'w';
	refuses(img, l.nbytes - 1, "ARROW1");
	/* The footer's schema: big-endian, an unsupported type, a nested one. */
	b = footer_of(img, l.nbytes, &t);
	ck_assert_int_eq(fb_subtable(&b, &t, AIPC_FOOTER_SCHEMA, &st), 1);
	*at(&b, &st, AIPC_SCHEMA_ENDIANNESS, 2) = 1;
	refuses(img, l.nbytes, "big-endian");
	*at(&b, &st, AIPC_SCHEMA_ENDIANNESS, 2) = 0;
	ck_assert_int_eq(fb_vec(&b, &st, AIPC_SCHEMA_FIELDS, 4, &pos, &n), 1);
	ck_assert_int_eq(fb_vec_table(&b, pos, 1, &ft), 0);
	p = at(&b, &ft, AIPC_FIELD_TYPE_TYPE, 1);
	*p = 7; /* Decimal */
	refuses(img, l.nbytes, "field 1 (name): type 7 is not supported");
	*p = AIPC_TYPE_UTF8;
	ck_assert_int_eq(fb_vec(&b, &ft, AIPC_FIELD_CHILDREN, 4, &pos, &n), 1);
	ck_assert_uint_eq(n, 0);
	p = (unsigned char *)b.base + pos - 4;
	p[0] = 1;
	refuses(img, l.nbytes, "nested types are not supported");
	p[0] = 0;
	/* A delta dictionary. */
	b = message_of(img, l.nbytes, AIPC_FOOTER_DICTIONARIES, 0, &t, &blk);
	*at(&b, &t, AIPC_DB_DELTA, 1) = 1;
	refuses(img, l.nbytes, "delta dictionaries are not supported");
	*at(&b, &t, AIPC_DB_DELTA, 1) = 0;
	/* A batch's buffer off 8-byte alignment, then beyond its body. */
	b = message_of(img, l.nbytes, AIPC_FOOTER_BATCHES, 0, &t, &blk);
	ck_assert_int_eq(fb_vec(&b, &t, AIPC_RB_BUFFERS, AIPC_BUFFER_SIZE, &pos, &n), 1);
	p = (unsigned char *)b.base + pos + AIPC_BUFFER_SIZE * 1; /* column 0's values */
	memcpy(was, p, 8);
	p[0] += 4;
	refuses(img, l.nbytes, "record batch 0 column 0 buffer 1: not 8-aligned");
	memcpy(p, was, 8);
	p[8 + 5] = 1; /* its length 2^40 */
	refuses(img, l.nbytes, "outside the body");
	p[8 + 5] = 0;
	/* The footer's block says another body length than the message. */
	blk[16] += 64;
	refuses(img, l.nbytes, "the footer says");
	blk[16] -= 64;
	/* Patched back: read again. */
	{
		struct arrow_ipc_desc d;

		ck_assert_int_eq(arrow_ipc_read(img, l.nbytes, &d, err, sizeof err), 0);
		arrow_ipc_desc_free(&d);
	}
	memcpy(img + 8, "\0\0\0\0", 4);
	refuses(img, l.nbytes, "continuation");
	arrow_ipc_layout_free(&l);
	free(img);
}
END_TEST

Suite *
arrow_ipc_suite(void)
{
	Suite *s = suite_create("arrow_ipc");
	TCase *tc = tcase_create("arrow_ipc");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_no_batches);
	tcase_add_test(tc, test_writer_refuses);
	tcase_add_test(tc, test_apache_arrow_file);
	tcase_add_test(tc, test_reader_mangled);
	tcase_add_test(tc, test_reader_refuses);
	suite_add_tcase(s, tc);
	return s;
}
