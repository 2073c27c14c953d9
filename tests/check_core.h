/* check_core: one Check suite per core module, run by check_core.c. */
#ifndef VFS_CHECK_CORE_H
#define VFS_CHECK_CORE_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"

Suite *arrow_ctl_suite(void);
Suite *arrow_ipc_suite(void);
Suite *catalog_suite(void);
Suite *catalog_cache_suite(void);
Suite *catalog_mirror_suite(void);
Suite *catalog_remote_suite(void);
Suite *crc32c_suite(void);
Suite *durable_suite(void);
Suite *types_suite(void);
Suite *uring_suite(void);
Suite *hmap_suite(void);
Suite *id_suite(void);
Suite *mem_suite(void);
Suite *meta_suite(void);
Suite *metrics_suite(void);
Suite *meta_snapshot_suite(void);
Suite *object_suite(void);
Suite *snapshot_suite(void);
Suite *spill_suite(void);
Suite *spill_files_suite(void);
Suite *store_suite(void);
Suite *stream_suite(void);
Suite *util_suite(void);
Suite *vec_suite(void);

/*
 * Scratch space. test_root_setup/test_root_teardown are an unchecked
 * fixture: they run in the runner process, so the root (and any tmpfs a test
 * mounted below it) goes away even when a test fails in its forked child.
 */
#define TEST_TIMEOUT 120 /* seconds: a safety net on a noisy machine, not a check */
void test_root_setup(void);
void test_root_teardown(void);
/* A new empty directory under the root; caller frees. */
char *test_mkdtemp(const char *tag);
/* Unmount whatever is mounted at or below path, then rm -rf it. */
void test_rmtree(const char *path);
/* Does path exist (lstat)? */
int test_exists(const char *path);
/* Create a file at dir/name holding len bytes of data (or len zeros). */
void test_write_file(const char *dir, const char *name, const void *data, size_t len);
/* CRC-32C computed a bit at a time: the reference for core/crc32c.c. */
uint32_t test_crc32c_ref(const void *buf, size_t len);
/* The blob ids a catalog's blob_freed hook reported: how many, the first
 * TEST_FREED_MAX of them. */
#define TEST_FREED_MAX 64
struct test_freed {
	unsigned n;
	uint64_t ids[TEST_FREED_MAX];
};
void test_freed_add(struct test_freed *f, uint64_t id);
/* How many times id was reported. */
int test_was_freed(const struct test_freed *f, uint64_t id);
/* Does catalog c give xattr name of ino, with value want? */
int test_xattr_is(catalog_t *c, uint64_t ino, const char *name, const char *want);
/* A catalog over two fresh scratch dirs (state, backing files), with a
 * memory limit and an instance id, for the suites that need one. */
struct test_catalog {
	catalog_t *cat;
	char *state, *backing;
};
void test_catalog_open(struct test_catalog *t, const char *tag, uint64_t limit, unsigned instance);
/* Close it and remove its dirs. */
void test_catalog_close(struct test_catalog *t);

/* test_pattern (tests/test_pattern.h) too. */
#include "tests/test_pattern.h"

#endif
