/*
 * arrow_type: Apache Arrow's logical types as vineyardfs knows them, and
 * the two ways they are spelled in metadata trees.
 *
 * A type string is pyarrow's spelling (what `str(pa_type)` prints), so a
 * tree written by Vineyard's Python client reads the same here:
 *   int8 int16 int32 int64 uint8 uint16 uint32 uint64 float double bool
 *   string large_string binary large_binary
 *   timestamp[s|ms|us|ns]  timestamp[ns, tz=Europe/Paris]
 *   date32[day]  date64[ms]  duration[s|ms|us|ns]
 *   dictionary<values=string, indices=int32, ordered=0>
 * An array's Vineyard typename follows v6d (modules/basic/ds/arrow.vineyard-mod
 * and python/vineyard/data/arrow.py):
 *   vineyard::NumericArray<T>   T a fixed-width type string, temporal ones
 *                               included ("vineyard::NumericArray<timestamp[ns]>")
 *   vineyard::BooleanArray
 *   vineyard::BaseBinaryArray<arrow::StringArray>       (LargeStringArray,
 *                               BinaryArray, LargeBinaryArray likewise)
 *   vineyard::DictionaryArray   (its type is in the array's data_type_ field)
 * Pure functions of strings: no allocation, no locks.
 */
#ifndef VFS_ARROW_TYPE_H
#define VFS_ARROW_TYPE_H

#include <stddef.h>

#define ARROW_TZ_MAX 64	       /* bytes of a time zone name, NUL included */
#define ARROW_TYPE_STR_MAX 160 /* bytes of any type string or typename, NUL included */

enum arrow_kind {
	ARROW_INT,	 /* signed, width 8..64 */
	ARROW_UINT,	 /* unsigned, width 8..64 */
	ARROW_FLOAT,	 /* width 32 (float) or 64 (double) */
	ARROW_BOOL,	 /* width 1: bit-packed */
	ARROW_STRING,	 /* UTF-8; width = offset width, 32 or 64 (large_) */
	ARROW_BINARY,	 /* bytes; width = offset width, 32 or 64 (large_) */
	ARROW_TIMESTAMP, /* int64 since the epoch in unit, tz optional */
	ARROW_DATE,	 /* date32[day] (width 32) or date64[ms] (width 64) */
	ARROW_DURATION,	 /* int64 in unit */
};

enum arrow_unit {
	ARROW_UNIT_NONE,
	ARROW_UNIT_SECOND,
	ARROW_UNIT_MILLI,
	ARROW_UNIT_MICRO,
	ARROW_UNIT_NANO,
	ARROW_UNIT_DAY, /* date32 only */
};

/* A non-dictionary type. */
struct arrow_value_type {
	enum arrow_kind kind;
	unsigned width; /* bits of one value, or of one offset for string/binary */
	enum arrow_unit unit;
	char tz[ARROW_TZ_MAX]; /* timestamps only; "" when naive */
};

struct arrow_type {
	struct arrow_value_type value; /* a dictionary's values */
	int dictionary;		       /* values are indices into a dictionary */
	unsigned index_width;	       /* dictionary: bits of a signed index, 8..64 */
	int ordered;		       /* dictionary: categories are ordered */
};

/* Parse a type string; 0 or -EINVAL. */
int arrow_type_parse(const char *s, struct arrow_type *t);
/* Spell t as a type string into buf; 0, or -ENAMETOOLONG. */
int arrow_type_format(const struct arrow_type *t, char *buf, size_t len);
/* The Vineyard typename of an array of type t into buf; 0, or -ENAMETOOLONG. */
int arrow_typename(const struct arrow_type *t, char *buf, size_t len);
/* The type an array typename names, where the typename alone says it (all
 * but vineyard::DictionaryArray, which needs data_type_): 0, -ENOENT when
 * typename is not an Arrow array's, -EINVAL when it is but names no type. */
int arrow_typename_parse(const char *typename, struct arrow_type *t);
/* Bytes of one fixed-width value (1 for int8); 0 for bool (bit-packed) and
 * for string/binary (variable). */
size_t arrow_value_size(const struct arrow_value_type *v);
/* Is the type fixed-width, with a value buffer of length x size bytes? */
int arrow_is_fixed(const struct arrow_value_type *v);

#endif
