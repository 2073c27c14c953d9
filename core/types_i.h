/*
 * types_i: what types.c shares with the rules of the Arrow layouts
 * (types_arrow.c): the walk's context and its helpers. Not a contract for
 * anyone else.
 */
#ifndef VFS_TYPES_I_H
#define VFS_TYPES_I_H

#include <stdint.h>

#include <jansson.h>

#include "types.h"

struct types_ctx {
	char *err;
	size_t errlen;
	char path[256];			   /* where in the tree: "", "buffer_", "columns.a" ... */
	const struct types_reader *reader; /* NULL: size rules only */
};

/* Format the failure, prefixed by the path, into c->err; returns -EINVAL. */
int types_fail(struct types_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A non-negative integer field, given as a JSON integer or a decimal
 * string (Vineyard writes both): 0, or -1. */
int types_get_count(const json_t *tree, const char *key, uint64_t *out);
/* A string field, or NULL; borrowed from tree. */
const char *types_get_str(const json_t *tree, const char *key);
/* Is tree a raw blob's ({"typename": "Blob", "id": "b..."})? */
int types_is_raw_blob(const json_t *tree);
/* Validate member name of tree (which must exist), the path extended
 * meanwhile; *out (if given) borrows the member. */
int types_member(struct types_ctx *c, const json_t *tree, const char *name, const json_t **out, int depth);
/* Validate any tree by its typename. */
int types_validate_tree(struct types_ctx *c, const json_t *tree, int depth);
/* The rules of a "vineyard::" typename (types_arrow.c); 0 for those that
 * are not Arrow's (user types). */
int types_arrow_validate(struct types_ctx *c, const json_t *tree, int depth);

#endif
