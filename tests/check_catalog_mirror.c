/*
 * check_catalog_mirror: the cluster mirror kept in the metadata database
 * (catalog_mirror.c, meta_mirror.c), without etcd: keys written as a full
 * list and as watch responses come back at the next open of a member of
 * the same cluster, every member not live; a store opened for no cluster
 * or another one drops them; fetched copies of remote blobs survive a
 * restart only with a mirror that shows them and their CRC-32C, the
 * published one or the one they were fetched with.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/catalog.h"
#include "core/catalog_remote.h"
#include "core/id.h"
#include "core/ino.h"
#include "core/meta.h"
#include "tests/check_core.h"

#define INSTANCE 1
#define OTHER 2

static char *state, *backing;
static catalog_t *cat;
static struct id_gen other; /* the ids of instance OTHER */

/* (Re)open the catalog as a member of cluster (NULL: of none). */
static int
reopen(const char *cluster)
{
	struct catalog_config cfg = { 0 };

	catalog_close(cat);
	cat = NULL;
	cfg.state_dir = state;
	cfg.backing_dir = backing;
	cfg.memory_limit = 16 << 20;
	cfg.instance_id = INSTANCE;
	cfg.cluster = cluster;
	return catalog_open(&cfg, &cat);
}

static void
setup(void)
{
	state = test_mkdtemp("mstate");
	backing = test_mkdtemp("mmem");
	id_gen_init(&other, OTHER, 0);
	ck_assert_int_eq(reopen("t"), 0);
}

static void
teardown(void)
{
	catalog_close(cat);
	cat = NULL;
	test_rmtree(state);
	test_rmtree(backing);
	free(state);
	free(backing);
}

/* A remote Blob object of instance OTHER holding data: its objects/ key
 * and value (caller frees both), its ids. */
struct robj {
	uint64_t oid, bid;
	char key[64];
	char *value;
};

static void
robj_make(struct robj *r, const char *data)
{
	char os[ID_STR_LEN + 1], bs[ID_STR_LEN + 1];
	size_t len = strlen(data);
	json_t *v;

	r->oid = id_next_object(&other);
	r->bid = id_next_blob(&other);
	id_format(r->oid, os);
	id_format(r->bid, bs);
	snprintf(r->key, sizeof r->key, "objects/%s", os);
	v = json_pack("{s:i, s:{s:s, s:s, s:I, s:I, s:i, s:b, s:s, s:b, s:{s:s, s:s, s:I, s:i, s:b}}, "
		      "s:{s:{s:I, s:I}}}",
	    "owner", OTHER, "tree", "typename", "Blob", "id", os, "signature", (json_int_t)7, "nbytes",
	    (json_int_t)len, "instance_id", OTHER, "global", 0, "ctime", "2026-12-07T03:00:00.000000001Z",
	    "sealed", 1, "buffer_", "typename", "Blob", "id", bs, "nbytes", (json_int_t)len, "instance_id",
	    OTHER, "sealed", 1, "blobs", bs, "size", (json_int_t)len, "crc32c",
	    (json_int_t)test_crc32c_ref(data, len));
	r->value = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
}

/* The same, as an owner publishes a blob whose CRC it does not know yet
 * (never spilled). */
static void
robj_make_nocrc(struct robj *r, const char *data)
{
	char bs[ID_STR_LEN + 1];
	json_t *v;

	robj_make(r, data);
	id_format(r->bid, bs);
	v = json_loads(r->value, 0, NULL);
	json_object_del(json_object_get(json_object_get(v, "blobs"), bs), "crc32c");
	free(r->value);
	r->value = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
}

static const char member_value[] = "{\"instance\":2,\"node\":\"two\",\"peer\":\"127.0.0.1:1\"}";

/* What etcd would hold: member 2, object r and its name. Applied in
 * memory (as the watch thread does) and saved as a full list. */
static void
list_one(struct robj *r, const char *name, int64_t revision)
{
	char nv[ID_STR_LEN + 3];
	struct meta_mirror_kv kv[3];

	snprintf(nv, sizeof nv, "\"");
	id_format(r->oid, nv + 1);
	strcat(nv, "\"");
	kv[0] = (struct meta_mirror_kv){ "members/2", member_value, strlen(member_value) };
	kv[1] = (struct meta_mirror_kv){ r->key, r->value, strlen(r->value) };
	kv[2] = (struct meta_mirror_kv){ NULL, NULL, 0 };
	ck_assert_int_eq(catalog_remote_apply(cat, kv[0].key, kv[0].value, kv[0].len, 1, 1, 1), 0);
	ck_assert_int_eq(catalog_remote_apply(cat, kv[1].key, kv[1].value, kv[1].len, 1, 1, 1), 0);
	{
		char key[300];

		snprintf(key, sizeof key, "names/%s", name);
		kv[2] = (struct meta_mirror_kv){ strdup(key), strdup(nv), strlen(nv) };
	}
	ck_assert_int_eq(catalog_remote_apply(cat, kv[2].key, kv[2].value, kv[2].len, 1, 1, 1), 0);
	ck_assert_int_eq(catalog_remote_save(cat, "t", kv, 3, 1, revision), 0);
	free((char *)kv[2].key);
	free((char *)kv[2].value);
}

static char *
meta_json(uint64_t oid)
{
	char *text;
	size_t len;

	ck_assert_int_eq(catalog_read_generated(cat, ino_of(oid, INO_VIEW_META), &text, &len), 0);
	return text;
}

START_TEST(test_restart_shows_mirror)
{
	struct catalog_remote_stats rs;
	struct catalog_attr a;
	struct robj r;
	char *before, *after;
	uint64_t got;
	int fd;

	robj_make(&r, "abc");
	list_one(&r, "x", 5);
	ck_assert(test_xattr_is(cat, r.oid, "user.vineyard.location", "remote:two"));
	before = meta_json(r.oid);
	/* Restarted as a member of the same cluster, etcd away. */
	ck_assert_int_eq(reopen("t"), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "x", &a), 0);
	ck_assert_uint_eq(ino_id(a.ino), r.oid);
	ck_assert_uint_eq(a.size, 3);
	after = meta_json(r.oid);
	ck_assert_str_eq(before, after);
	ck_assert(test_xattr_is(cat, r.oid, "user.vineyard.location", "remote:two,unavailable"));
	ck_assert(test_xattr_is(cat, r.bid, "user.vineyard.location", "remote:two,unavailable"));
	ck_assert_int_eq(catalog_open_data(cat, r.bid, 0, &got, &fd), -EHOSTDOWN);
	catalog_remote_stats(cat, &rs);
	ck_assert_uint_eq(rs.objects, 1);
	ck_assert_uint_eq(rs.names, 1);
	ck_assert_uint_eq(rs.members, 1);
	ck_assert_uint_eq(rs.members_live, 0);
	/* The first list after joining: the member is live again. */
	ck_assert_int_eq(
	    catalog_remote_apply(cat, "members/2", member_value, strlen(member_value), 1, 1, 1), 0);
	ck_assert(test_xattr_is(cat, r.oid, "user.vineyard.location", "remote:two"));
	free(before);
	free(after);
	free(r.value);
}
END_TEST

START_TEST(test_watch_batches)
{
	struct meta_mirror_kv kv[2];
	struct catalog_attr a;
	struct robj r, s;

	robj_make(&r, "abc");
	robj_make(&s, "defg");
	list_one(&r, "x", 5);
	/* One watch response: s put, r deleted (its name with it). */
	kv[0] = (struct meta_mirror_kv){ s.key, s.value, strlen(s.value) };
	kv[1] = (struct meta_mirror_kv){ r.key, NULL, 0 };
	ck_assert_int_eq(catalog_remote_save(cat, "t", kv, 2, 0, 7), 0);
	kv[0] = (struct meta_mirror_kv){ "names/x", NULL, 0 };
	ck_assert_int_eq(catalog_remote_save(cat, "t", kv, 1, 0, 8), 0);
	ck_assert_int_eq(reopen("t"), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "x", &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, ino_of(r.oid, INO_VIEW_OBJECT), &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, ino_of(s.oid, INO_VIEW_OBJECT), &a), 0);
	/* A full list replaces all: s is gone from the database too. */
	list_one(&r, "y", 9);
	ck_assert_int_eq(reopen("t"), 0);
	ck_assert_int_eq(catalog_getattr(cat, ino_of(s.oid, INO_VIEW_OBJECT), &a), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "y", &a), 0);
	free(r.value);
	free(s.value);
}
END_TEST

START_TEST(test_other_cluster_drops)
{
	struct catalog_remote_stats rs;
	struct catalog_attr a;
	struct robj r;

	robj_make(&r, "abc");
	list_one(&r, "x", 5);
	/* Another cluster: not shown, and dropped for good. */
	ck_assert_int_eq(reopen("u"), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "x", &a), -ENOENT);
	ck_assert_int_eq(reopen("t"), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "x", &a), -ENOENT);
	/* No cluster: the same. */
	list_one(&r, "x", 6);
	ck_assert_int_eq(reopen(NULL), 0);
	catalog_remote_stats(cat, &rs);
	ck_assert_uint_eq(rs.objects + rs.names + rs.members, 0);
	ck_assert_int_eq(reopen("t"), 0);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "x", &a), -ENOENT);
	free(r.value);
}
END_TEST

/* The store's file of blob id. */
static char *
blob_path(uint64_t id)
{
	char ids[ID_STR_LEN + 1], *p;

	id_format(id, ids);
	ck_assert_int_ge(asprintf(&p, "%s/%s", backing, ids), 0);
	return p;
}

START_TEST(test_cached_copies)
{
	struct robj r, s, u;
	char ids[ID_STR_LEN + 1], buf[8];
	char *pr, *ps, *pu;
	uint64_t got;
	int fd;

	robj_make(&r, "abc");
	robj_make(&s, "defg");
	robj_make(&u, "hij");
	list_one(&r, "x", 5);
	ck_assert_int_eq(catalog_remote_apply(cat, s.key, s.value, strlen(s.value), 1, 1, 1), 0);
	{
		struct meta_mirror_kv kv = { s.key, s.value, strlen(s.value) };

		ck_assert_int_eq(catalog_remote_save(cat, "t", &kv, 1, 0, 8), 0);
	}
	catalog_close(cat);
	cat = NULL;
	/* As a fetch leaves them: r's copy good, s's corrupt, u's of a blob
	 * no mirror shows. */
	id_format(r.bid, ids);
	test_write_file(backing, ids, "abc", 3);
	id_format(s.bid, ids);
	test_write_file(backing, ids, "dexg", 4);
	id_format(u.bid, ids);
	test_write_file(backing, ids, "hij", 3);
	pr = blob_path(r.bid);
	ps = blob_path(s.bid);
	pu = blob_path(u.bid);
	ck_assert_int_eq(reopen("t"), 0);
	ck_assert(test_exists(pr));
	ck_assert(!test_exists(ps));
	ck_assert(!test_exists(pu));
	/* The good copy reads with its owner away; the other is the owner's. */
	ck_assert_int_eq(catalog_open_data(cat, r.bid, 0, &got, &fd), 0);
	ck_assert_int_eq(pread(fd, buf, sizeof buf, 0), 3);
	ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
	close(fd);
	catalog_release(cat, r.bid, 0);
	ck_assert_int_eq(catalog_open_data(cat, s.bid, 0, &got, &fd), -EHOSTDOWN);
	/* Out of the cluster: no mirror, so the copy goes too. */
	ck_assert_int_eq(reopen(NULL), 0);
	ck_assert(!test_exists(pr));
	free(pr);
	free(ps);
	free(pu);
	free(r.value);
	free(s.value);
	free(u.value);
}
END_TEST

/* The cluster's fetch, as a test: the bytes of arg, with their CRC. */
static int
fetch_bytes(void *arg, uint64_t blob_id, uint64_t size, int dirfd, const char *dir, const char *name,
    uint32_t *crc, char *err, size_t errlen)
{
	const char *data = arg;
	int fd = openat(dirfd, name, O_CREAT | O_WRONLY | O_TRUNC, 0600);

	(void)blob_id;
	(void)dir;
	(void)err;
	(void)errlen;
	if (fd < 0)
		return -errno;
	ck_assert_int_eq(write(fd, data, size), (ssize_t)size);
	close(fd);
	*crc = test_crc32c_ref(data, size);
	return 0;
}

START_TEST(test_copy_crc_at_fetch)
{
	static char xyz[] = "xyz";
	char ids[ID_STR_LEN + 1], buf[8], *path;
	struct robj r;
	uint64_t got;
	int fd;

	robj_make_nocrc(&r, "xyz");
	list_one(&r, "x", 5);
	catalog_set_fetch(cat, fetch_bytes, xyz);
	ck_assert_int_eq(catalog_open_data(cat, r.bid, 0, &got, &fd), 0);
	close(fd);
	catalog_release(cat, r.bid, 0);
	/* Restarted: the CRC it came with vouches for the copy. */
	path = blob_path(r.bid);
	ck_assert_int_eq(reopen("t"), 0);
	ck_assert(test_exists(path));
	ck_assert_int_eq(catalog_open_data(cat, r.bid, 0, &got, &fd), 0);
	ck_assert_int_eq(pread(fd, buf, sizeof buf, 0), 3);
	ck_assert_int_eq(memcmp(buf, "xyz", 3), 0);
	close(fd);
	catalog_release(cat, r.bid, 0);
	/* Changed while the daemon was down: removed. */
	catalog_close(cat);
	cat = NULL;
	id_format(r.bid, ids);
	test_write_file(backing, ids, "xyw", 3);
	ck_assert_int_eq(reopen("t"), 0);
	ck_assert(!test_exists(path));
	ck_assert_int_eq(catalog_open_data(cat, r.bid, 0, &got, &fd), -EHOSTDOWN);
	free(path);
	free(r.value);
}
END_TEST

Suite *
catalog_mirror_suite(void)
{
	Suite *s = suite_create("catalog_mirror");
	TCase *tc = tcase_create("persisted");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_restart_shows_mirror);
	tcase_add_test(tc, test_watch_batches);
	tcase_add_test(tc, test_other_cluster_drops);
	tcase_add_test(tc, test_cached_copies);
	tcase_add_test(tc, test_copy_crc_at_fetch);
	suite_add_tcase(s, tc);
	return s;
}
