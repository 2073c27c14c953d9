/*
 * arrow_ipc: the Apache Arrow IPC *file* format's layout, written and read
 * by hand (no flatbuffers library for C in Debian).
 *
 * A file is "ARROW1\0\0", the Schema message, one DictionaryBatch per
 * dictionary field, the RecordBatch messages, the end-of-stream marker,
 * the Footer (its blocks name every message), the footer's int32 size and
 * "ARROW1". Each message is encapsulated: 0xFFFFFFFF, an int32 metadata
 * size, the flatbuffer metadata padded to 8, then the body; every body
 * buffer the writer places starts at a multiple of 64 from the file's
 * start (the reader asks 8, as other writers align to 8, and takes files
 * without the leading Schema message, as Arrow JS writes them). Metadata
 * version V5 (V4 read too), little-endian, uncompressed, flat (non-nested)
 * types only: those core/arrow_type.h knows.
 *
 * The writer is pure computation: from a description (fields, dictionaries
 * and batches with each buffer's byte size and null count) it returns the
 * file's size, the metadata pieces (offset + bytes) and each buffer's
 * offset; the caller writes pieces and buffers into one zeroed region of
 * that size (the gaps are padding). The reader parses a file image (e.g.
 * an mmap) into the same description with each buffer's offset and size in
 * the image, and refuses (-EINVAL, with why) anything it cannot describe;
 * it never reads outside the image, whatever the bytes.
 *
 * Buffers of an array in IPC order (and so in struct arrow_ipc_array):
 *   fixed-width, bool:    [validity, values]
 *   string, binary:       [validity, offsets, data]
 *   dictionary column:    [validity, indices]  (values in its dictionary)
 * A validity buffer of size 0 means no nulls.
 */
#ifndef VFS_ARROW_IPC_H
#define VFS_ARROW_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "arrow_type.h"

#define ARROW_IPC_ALIGN 64	/* a body buffer's alignment in the file */
#define ARROW_IPC_MAX_BUFFERS 3 /* buffers of one flat array */
#define ARROW_IPC_MAX_FIELDS 4096
#define ARROW_IPC_MAX_BATCHES 65536

/* One buffer of an array: bytes [offset, offset + size) of the file. */
struct arrow_ipc_buffer {
	uint64_t offset; /* writer: set by arrow_ipc_layout; reader: in the image */
	uint64_t size;	 /* bytes; writer: given by the caller */
};

/* One array (a column of a batch, or a dictionary's values). */
struct arrow_ipc_array {
	uint64_t length; /* slots; a batch's column: the batch's rows */
	uint64_t null_count;
	unsigned nbuffers; /* 2 or 3, as the type says (see above) */
	struct arrow_ipc_buffer buffers[ARROW_IPC_MAX_BUFFERS];
};

struct arrow_ipc_field {
	char *name; /* UTF-8, owned by the description */
	struct arrow_type type;
	int nullable;
};

/* The dictionary of a dictionary-encoded field: its values, an array of
 * the field's type.value. The writer gives it id = field index. */
struct arrow_ipc_dict {
	unsigned field; /* index into fields */
	int64_t id;	/* the file's dictionary id (reader; writer: = field) */
	struct arrow_ipc_array values;
};

struct arrow_ipc_batch {
	uint64_t rows;
	struct arrow_ipc_array *columns; /* nfields, owned by the description */
};

/* A whole file's contents but the bytes of its buffers. */
struct arrow_ipc_desc {
	unsigned nfields;
	struct arrow_ipc_field *fields;
	unsigned ndicts; /* exactly one per dictionary field */
	struct arrow_ipc_dict *dicts;
	unsigned nbatches;
	struct arrow_ipc_batch *batches;
};

/* Metadata bytes the writer made, to be written at offset. */
struct arrow_ipc_piece {
	uint64_t offset;
	size_t len;
	unsigned char *data; /* owned by the layout */
};

struct arrow_ipc_layout {
	uint64_t nbytes; /* the file's total size */
	unsigned npieces;
	struct arrow_ipc_piece *pieces; /* ascending offsets, not overlapping */
};

/* Lay out the file d describes: fills *out (free with arrow_ipc_layout_free)
 * and every buffers[].offset of d. 0, -ENOMEM, or -EINVAL with why in err
 * (a buffer count or size that does not fit the type and rows, a
 * dictionary field without its dictionary, ...). */
int arrow_ipc_layout(struct arrow_ipc_desc *d, struct arrow_ipc_layout *out, char *err, size_t errlen);
/* Free the pieces of a layout (not the struct itself). */
void arrow_ipc_layout_free(struct arrow_ipc_layout *l);

/* Check that array a's buffer count and sizes fit type t (the dictionary
 * indices' for a dictionary column) and its length; 0 or -EINVAL with why,
 * naming what (e.g. "batch 0 column 2"). Used by both directions. */
int arrow_ipc_check_array(
    const struct arrow_type *t, const struct arrow_ipc_array *a, const char *what, char *err, size_t errlen);

/* Parse the IPC file image [img, img + size) into *d (free with
 * arrow_ipc_desc_free; the names are copies, buffers' offsets are into
 * img). 0, -ENOMEM, or -EINVAL with why in err. */
int arrow_ipc_read(const void *img, size_t size, struct arrow_ipc_desc *d, char *err, size_t errlen);
/* Free what a description owns (fields' names, arrays); for descriptions
 * the reader made or the caller built with malloc'd parts. */
void arrow_ipc_desc_free(struct arrow_ipc_desc *d);

#endif
