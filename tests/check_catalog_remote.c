/*
 * check_catalog_remote: the catalog's side of a cluster without etcd:
 * other members' objects fed as objects/ and names/ values, shown by
 * every read (lookups, meta.json, xattrs), refused by every change
 * (EREMOTE), unreadable without their owner (EREMOTE, EHOSTDOWN); names
 * that come before their object; a re-list's sweep; what this member
 * exports of its own objects.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/catalog.h"
#include "core/catalog_remote.h"
#include "core/id.h"
#include "core/ino.h"
#include "tests/check_core.h"

#define INSTANCE 1
#define OTHER 2

static struct test_catalog tcat;
static catalog_t *cat;

static void
setup(void)
{
	test_catalog_open(&tcat, "r", 16 << 20, INSTANCE);
	cat = tcat.cat;
}

static void
teardown(void)
{
	test_catalog_close(&tcat);
}

/* The objects/ value of a Blob object of instance OTHER: ids in *oid, *bid. */
static char *
blob_value(uint64_t *oid, uint64_t *bid, int owner)
{
	struct id_gen g;
	char os[ID_STR_LEN + 1], bs[ID_STR_LEN + 1];
	json_t *v;
	char *text;

	id_gen_init(&g, OTHER, 0);
	*oid = id_next_object(&g);
	*bid = id_next_blob(&g);
	id_format(*oid, os);
	id_format(*bid, bs);
	v = json_pack("{s:i, s:{s:s, s:s, s:I, s:I, s:i, s:b, s:s, s:b, s:s, s:{s:s, s:s, s:I, s:i, s:b}}, "
		      "s:{s:{s:I, s:I}}}",
	    "owner", owner, "tree", "typename", "Blob", "id", os, "signature", (json_int_t)5, "nbytes",
	    (json_int_t)3, "instance_id", OTHER, "global", 0, "ctime", "2026-12-07T03:00:00.000000001Z",
	    "sealed", 1, "note", "hi", "buffer_", "typename", "Blob", "id", bs, "nbytes", (json_int_t)3,
	    "instance_id", OTHER, "sealed", 1, "blobs", bs, "size", (json_int_t)3, "crc32c",
	    (json_int_t)1234);
	text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
	return text;
}

START_TEST(test_mirror)
{
	struct catalog_remote_stats rs;
	struct catalog_stats st;
	struct catalog_attr a;
	uint64_t oid, bid, got;
	char *value = blob_value(&oid, &bid, OTHER), *text, ids[ID_STR_LEN + 1];
	json_t *shown, *sent;
	size_t len;
	int fd;

	/* A name before its object: kept until the object comes. */
	ck_assert_int_eq(catalog_remote_name_put(cat, "r", oid, 1), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "r", &a), -ENOENT);
	ck_assert_int_eq(catalog_remote_object_put(cat, value, strlen(value), 1), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "r", &a), 0);
	ck_assert_uint_eq(a.size, 3);
	ck_assert_int_eq(catalog_getattr(cat, bid, &a), 0);
	/* meta.json is the tree that was published. */
	ck_assert_int_eq(catalog_read_generated(cat, ino_of(oid, INO_VIEW_META), &text, &len), 0);
	shown = json_loads(text, 0, NULL);
	sent = json_loads(value, 0, NULL);
	ck_assert(json_equal(shown, json_object_get(sent, "tree")));
	json_decref(shown);
	json_decref(sent);
	free(text);
	/* Where: unknown member, then live, then gone. */
	ck_assert(test_xattr_is(cat, oid, "user.vineyard.location", "remote:instance-2,unavailable"));
	ck_assert_int_eq(catalog_remote_member_set(cat, OTHER, "two", 1, 1), 0);
	ck_assert(test_xattr_is(cat, oid, "user.vineyard.location", "remote:two"));
	ck_assert(test_xattr_is(cat, bid, "user.vineyard.location", "remote:two"));
	ck_assert(test_xattr_is(cat, oid, "user.vineyard.instance_id", "2"));
	ck_assert(test_xattr_is(cat, oid, "user.vineyard.note", "hi"));
	ck_assert_int_eq(catalog_open_data(cat, ino_of(oid, INO_VIEW_DATA), 0, &got, &fd), -EREMOTE);
	ck_assert_int_eq(catalog_remote_member_set(cat, OTHER, NULL, 0, 1), 0);
	ck_assert(test_xattr_is(cat, oid, "user.vineyard.location", "remote:two,unavailable"));
	ck_assert_int_eq(catalog_open_data(cat, bid, 0, &got, &fd), -EHOSTDOWN);
	/* Read-only here. */
	ck_assert_int_eq(catalog_delete_object(cat, oid, 0, CATALOG_DELETE_DEEP), -EREMOTE);
	ck_assert_int_eq(catalog_name_add(cat, oid, "s", 0), -EREMOTE);
	ck_assert_int_eq(catalog_name_remove(cat, "r", 0), -EREMOTE);
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, "r", 0), -EREMOTE);
	id_format(oid, ids);
	ck_assert_int_eq(catalog_rmdir(cat, INO_OBJECTS, ids), -EREMOTE);
	ck_assert_int_eq(catalog_xattr_set(cat, oid, "user.vineyard.x", "1", 1, 0), -EREMOTE);
	/* Counted apart from local records. */
	catalog_stats(cat, &st);
	ck_assert_uint_eq(st.objects, 0);
	ck_assert_uint_eq(st.names, 0);
	catalog_remote_stats(cat, &rs);
	ck_assert_uint_eq(rs.objects, 1);
	ck_assert_uint_eq(rs.blobs, 1);
	ck_assert_uint_eq(rs.names, 1);
	ck_assert_uint_eq(rs.members, 1);
	/* A re-list that no longer shows them: gone. */
	catalog_remote_sweep(cat, 2);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "r", &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, ino_of(oid, INO_VIEW_OBJECT), &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, bid, &a), -ENOENT);
	catalog_remote_stats(cat, &rs);
	ck_assert_uint_eq(rs.objects + rs.blobs + rs.names, 0);
	free(value);
}
END_TEST

START_TEST(test_delete_and_own)
{
	uint64_t oid, bid;
	struct catalog_attr a;
	char *value = blob_value(&oid, &bid, OTHER), *mine = blob_value(&oid, &bid, INSTANCE);

	/* Our own key (owner = this instance) is not mirrored. */
	ck_assert_int_eq(catalog_remote_object_put(cat, mine, strlen(mine), 1), 0);
	ck_assert_int_eq(catalog_getattr(cat, ino_of(oid, INO_VIEW_OBJECT), &a), -ENOENT);
	ck_assert_int_eq(catalog_remote_object_put(cat, value, strlen(value), 1), 0);
	ck_assert_int_eq(catalog_remote_name_put(cat, "r", oid, 1), 0);
	ck_assert_int_eq(catalog_remote_object_delete(cat, oid), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "r", &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, bid, &a), -ENOENT);
	ck_assert_int_eq(catalog_remote_object_put(cat, "{", 1, 1), -EINVAL);
	free(value);
	free(mine);
}
END_TEST

START_TEST(test_local_name_wins)
{
	struct catalog_attr a;
	uint64_t oid, bid, lb, lo;
	char *value = blob_value(&oid, &bid, OTHER);
	int fd;

	ck_assert_int_eq(catalog_create_blob_object(cat, "r", 0, 0, 0644, &a, &lb, &fd), 0);
	close(fd);
	catalog_release(cat, lb, 1);
	lo = ino_id(a.ino);
	ck_assert_int_eq(catalog_remote_object_put(cat, value, strlen(value), 1), 0);
	ck_assert_int_eq(catalog_remote_name_put(cat, "r", oid, 1), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "r", &a), 0);
	ck_assert_uint_eq(ino_id(a.ino), lo);
	free(value);
}
END_TEST

START_TEST(test_export)
{
	struct catalog_export *v;
	struct catalog_attr a;
	uint64_t lb, lo;
	json_t *doc;
	size_t n;
	int fd;

	ck_assert_int_eq(catalog_create_blob_object(cat, "mine", 0, 0, 0644, &a, &lb, &fd), 0);
	lo = ino_id(a.ino);
	ck_assert_int_eq(catalog_remote_export(cat, lo, &v, &n), -EAGAIN); /* not sealed yet */
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	close(fd);
	catalog_release(cat, lb, 1);
	ck_assert_int_eq(catalog_remote_export(cat, lo, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0].id, lo);
	ck_assert_uint_eq(v[0].nnames, 1);
	ck_assert_str_eq(v[0].names[0], "mine");
	doc = json_loads(v[0].value, 0, NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "owner")), INSTANCE);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(doc, "tree"), "typename")), "Blob");
	ck_assert_int_eq(json_object_size(json_object_get(doc, "blobs")), 1);
	json_decref(doc);
	catalog_export_free(v, n);
	ck_assert_int_eq(catalog_remote_export(cat, ID_BLOB_BIT | 5, &v, &n), -ENOENT);
}
END_TEST

Suite *
catalog_remote_suite(void)
{
	Suite *s = suite_create("catalog_remote");
	TCase *tc = tcase_create("mirror");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mirror);
	tcase_add_test(tc, test_delete_and_own);
	tcase_add_test(tc, test_local_name_wins);
	tcase_add_test(tc, test_export);
	suite_add_tcase(s, tc);
	return s;
}
