/*
 * types: the built-in object types and their layouts, after Vineyard's:
 * Blob, Tensor, DataFrame, Sequence, Tuple, Scalar and Graph (CSR). A
 * type's rules are checked on a whole metadata tree, members expanded, the
 * way Vineyard passes metadata around: pure functions of JSON, so the same
 * checks serve object creation, tests and fuzzing.
 *
 * Layouts (fields end in "_" as in v6d; members are sub-trees):
 *   Blob       member buffer_ (a raw blob)
 *   Tensor     value_type_ (int8..int64, uint8..uint64, float32, float64,
 *              bool), shape_ (array of sizes), member buffer_ whose nbytes
 *              is the product of shape_ times the item size
 *   DataFrame  columns_ (array of distinct names), one 1-D Tensor member
 *              per column, named by the column, all of one length
 *   Sequence,  size_, members __elements_-0 .. __elements_-(size_-1)
 *   Tuple
 *   Scalar     type_ (a value type or "str"), value_
 *   Graph      vertex_num_, edge_num_, members offsets (int64 Tensor of
 *              vertex_num_ + 1) and edges (int64 Tensor of edge_num_),
 *              optional vertex_properties_ / edge_properties_ DataFrames
 *              with vertex_num_ / edge_num_ rows
 *   vineyard::NumericArray<T>, BooleanArray, BaseBinaryArray<...>,
 *   DictionaryArray, BufferView, SchemaProxy, RecordBatch, Table: Arrow's
 *              columnar layouts as v6d writes them (types_arrow.c, the
 *              rules in vineyardfs(7))
 * A raw blob's tree is {"typename": "Blob", "id": "b...", "nbytes": N}.
 * Other typenames are accepted unchecked (user types), as in Vineyard.
 *
 * Size rules need the tree only. Content rules (Arrow offsets, UTF-8,
 * null counts, dictionary indices) need the blobs' bytes: they run when a
 * reader is given and maps the blob, and are skipped for a blob it says is
 * not here.
 */
#ifndef VFS_TYPES_H
#define VFS_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Size in bytes of one item of a value type, 0 if unknown. */
size_t types_item_size(const char *value_type);
/* Check tree (an object's metadata, members expanded) against the rules
 * of its type, recursively. 0, or -EINVAL with a message in err. */
int types_validate(const json_t *tree, char *err, size_t errlen);

/* How the validator reads a blob's bytes. map gives the whole blob
 * read-only (its nbytes long) until the matching unmap, or returns
 * -ENOENT when the bytes are not here (remote, spilled, unsealed): the
 * content rules of that buffer are then skipped. Other errors fail the
 * validation. */
struct types_reader {
	int (*map)(void *arg, const char *blob_id, const void **data, uint64_t *size);
	void (*unmap)(void *arg, const void *data, uint64_t size);
	void *arg;
};

/* types_validate plus the content rules, reading blobs through reader
 * (NULL: none, as types_validate). Each rule reads its buffer once. */
int types_validate_bytes(const json_t *tree, const struct types_reader *reader, char *err, size_t errlen);

#endif
