/*
 * arrow_ipc_sample: write a small Arrow IPC file with the core's writer
 * (arrow_ipc_layout: metadata pieces + buffer offsets; the bytes of the
 * buffers filled here), so that a real Arrow implementation can read it
 * (tests/arrow_ipc_node.sh). Two batches (3 + 2 rows) of every kind of
 * column the writer supports, with nulls and a dictionary column.
 * Usage: arrow_ipc_sample FILE
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arrow_ipc.h"

#define ROWS 5
#define NFIELDS 11

static const char *const names[NFIELDS] = { "i", "x", "b", "s", "t", "d", "c", "L", "u", "y", "f" };
static const char *const types[NFIELDS] = { "int32", "double", "bool", "string", "timestamp[ms, tz=UTC]",
	"date32[day]", "dictionary<values=string, indices=int8, ordered=0>", "large_string", "duration[us]",
	"binary", "float" };
static const char *const strs[ROWS] = { "a", "", "h\xc3\xa9llo", NULL, "xyz" };
static const int8_t codes[ROWS] = { 0, 1, -1, 1, 0 }; /* -1: null */

/* Is row r of field f null? */
static int
null_at(unsigned f, unsigned r)
{
	switch (f) {
	case 0: return r == 1;
	case 1: return r == 3;
	case 2: return r == 4;
	case 3: return strs[r] == NULL;
	case 4: return r == 2;
	case 6: return codes[r] < 0;
	case 9: return r == 0;
	default: return 0;
	}
}

/* The bytes of buffer k of field f's column over rows [r0, r0 + n); their size in *len. */
static unsigned char *
buffer(unsigned f, unsigned k, unsigned r0, unsigned n, size_t *len)
{
	static unsigned char b[256];
	unsigned i, nulls = 0;
	int64_t o = 0;

	memset(b, 0, sizeof b);
	*len = 0;
	if (k == 0) {
		for (i = 0; i < n; i++)
			if (null_at(f, r0 + i))
				nulls++;
			else
				b[i / 8] |= (unsigned char)(1u << (i % 8));
		*len = nulls ? (n + 7) / 8 : 0;
		return b;
	}
	for (i = 0; i < n; i++) {
		unsigned r = r0 + i;
		const char *s = f == 3	 ? strs[r]
				: f == 7 ? (const char *[]){ "L0", "L1", "L2", "L3", "L4" }[r]
					 : NULL;
		int32_t v32;
		int64_t v64;
		double dv;
		float fv;

		switch (f) {
		case 0: v32 = (int32_t)r * 10 - 7, memcpy(b + 4 * i, &v32, 4), *len = 4 * n; break;
		case 1: dv = r + 0.5, memcpy(b + 8 * i, &dv, 8), *len = 8 * n; break;
		case 2: b[i / 8] |= (unsigned char)((r % 2 == 0) << (i % 8)), *len = (n + 7) / 8; break;
		case 4: v64 = (int64_t)r * 1000, memcpy(b + 8 * i, &v64, 8), *len = 8 * n; break;
		case 5: v32 = (int32_t)r - 1, memcpy(b + 4 * i, &v32, 4), *len = 4 * n; break;
		case 6: b[i] = (unsigned char)(codes[r] < 0 ? 0 : codes[r]), *len = n; break;
		case 8: v64 = (int64_t)r * 7, memcpy(b + 8 * i, &v64, 8), *len = 8 * n; break;
		case 10: fv = (float)r / 4, memcpy(b + 4 * i, &fv, 4), *len = 4 * n; break;
		case 3:
		case 7:
		case 9: {
			unsigned w = f == 7 ? 8 : 4;
			size_t sl = f == 9 ? r : s ? strlen(s) : 0;

			if (k == 1) {
				if (i == 0)
					memset(b, 0, w);
				o += (int64_t)sl;
				memcpy(b + w * (i + 1), &o, w); /* little-endian: the low bytes first */
				*len = w * (n + 1);
			} else {
				if (f == 9)
					memset(b + *len, (int)(0xf0 + r), sl);
				else if (s)
					memcpy(b + *len, s, sl);
				*len += sl;
			}
			break;
		}
		}
	}
	return b;
}

int
main(int argc, char **argv)
{
	struct arrow_ipc_field fields[NFIELDS];
	struct arrow_ipc_array cols[2][NFIELDS];
	struct arrow_ipc_batch batches[2] = { { 3, cols[0] }, { 2, cols[1] } };
	struct arrow_ipc_dict dicts[1];
	struct arrow_ipc_desc d = { NFIELDS, fields, 1, dicts, 2, batches };
	struct arrow_ipc_layout l;
	unsigned char *img;
	unsigned f, bi, k;
	char err[256];
	size_t len;
	int32_t doff[3] = { 0, 3, 8 };
	FILE *out;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	for (f = 0; f < NFIELDS; f++) {
		fields[f].name = (char *)names[f];
		fields[f].nullable = f != 5;
		if (arrow_type_parse(types[f], &fields[f].type) != 0) {
			fprintf(stderr, "bad type %s\n", types[f]);
			return 1;
		}
		for (bi = 0; bi < 2; bi++) {
			struct arrow_ipc_array *a = &cols[bi][f];
			unsigned r0 = bi == 0 ? 0 : 3, n = (unsigned)batches[bi].rows, r;

			memset(a, 0, sizeof *a);
			a->nbuffers = f == 3 || f == 7 || f == 9 ? 3 : 2;
			for (r = r0; r < r0 + n; r++)
				a->null_count += (uint64_t)null_at(f, r);
			for (k = 0; k < a->nbuffers; k++) {
				buffer(f, k, r0, n, &len);
				a->buffers[k].size = len;
			}
		}
	}
	dicts[0] = (struct arrow_ipc_dict){ .field = 6,
		.values = { .length = 2, .nbuffers = 3, .buffers = { { 0, 0 }, { 0, 12 }, { 0, 8 } } } };
	if (arrow_ipc_layout(&d, &l, err, sizeof err) != 0) {
		fprintf(stderr, "layout: %s\n", err);
		return 1;
	}
	if ((img = calloc(1, l.nbytes)) == NULL)
		return 1;
	for (k = 0; k < l.npieces; k++)
		memcpy(img + l.pieces[k].offset, l.pieces[k].data, l.pieces[k].len);
	for (bi = 0; bi < 2; bi++)
		for (f = 0; f < NFIELDS; f++)
			for (k = 0; k < cols[bi][f].nbuffers; k++) {
				unsigned char *b =
				    buffer(f, k, bi == 0 ? 0 : 3, (unsigned)batches[bi].rows, &len);

				memcpy(img + cols[bi][f].buffers[k].offset, b, len);
			}
	memcpy(img + dicts[0].values.buffers[1].offset, doff, sizeof doff);
	memcpy(img + dicts[0].values.buffers[2].offset, "redgreen", 8);
	if ((out = fopen(argv[1], "wb")) == NULL || fwrite(img, 1, l.nbytes, out) != l.nbytes ||
	    fclose(out) != 0) {
		perror(argv[1]);
		return 1;
	}
	printf("%llu bytes, %u pieces\n", (unsigned long long)l.nbytes, l.npieces);
	arrow_ipc_layout_free(&l);
	free(img);
	return 0;
}
