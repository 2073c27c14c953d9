/*
 * test_pattern: reproducible bytes for tests that write and check blobs,
 * shared by the Check programs (check_core's suites, check_peer).
 */
#ifndef VFS_TEST_PATTERN_H
#define VFS_TEST_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* len bytes of a pattern per seed (xorshift), plus one spare; caller
 * frees. */
unsigned char *test_pattern(size_t len, uint64_t seed);

#endif
