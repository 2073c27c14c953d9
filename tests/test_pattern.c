/*
 * test_pattern: see test_pattern.h.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "tests/test_pattern.h"

unsigned char *
test_pattern(size_t len, uint64_t seed)
{
	unsigned char *p = malloc(len + 1);
	uint64_t x = seed * 0x9E3779B97F4A7C15u + 1;
	size_t i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
	return p;
}
