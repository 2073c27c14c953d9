/*
 * check_extender: the scheduler extender (core/extender.h) against a real
 * etcd started by the test, holding a cluster's keys as members write them
 * (cluster.h's layout): three live members on nodes a, b and c, a fourth
 * node with none. Scores are each node's share of a Pod's required bytes
 * (a global object's chunks counted on their owners' nodes); the filter
 * keeps nodes with a live member, in both nodeCacheCapable modes; Go field
 * names are matched without regard to case; bad bodies are 400, unknown
 * verbs 404; with etcd gone, prioritize is 503 and filter says so in its
 * Error. Skipped (77) without an etcd binary.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/etcd.h"
#include "core/extender.h"
#include "core/id.h"
#include "tests/etcd_fixture.h"

static char dir[128];
static struct etcd_fixture fx;
static extender_t *x;

static void
put(etcd_t *e, const char *key, const char *value)
{
	ck_assert_int_eq(etcd_put(e, key, strlen(key), value, strlen(value), 0, NULL), 0);
}

/* A blob id of instance inst, as "b…". */
static void
blob_of(unsigned inst, char *ids)
{
	struct id_gen g;

	id_gen_init(&g, inst, 0);
	id_format(id_next_blob(&g), ids);
}

static void
setup(void)
{
	char b1[ID_STR_LEN + 1], b2[ID_STR_LEN + 1], b3[ID_STR_LEN + 1], value[512];
	etcd_t *e;
	unsigned i;

	etcd_fixture_mkdir(dir, sizeof dir);
	etcd_fixture_init(&fx, dir);
	etcd_fixture_start(&fx);
	ck_assert_int_eq(etcd_open(fx.url, 5000, &e), 0);
	for (i = 1; i <= 3; i++) {
		char key[64];

		snprintf(key, sizeof key, "/vineyardfs/t/members/%u", i);
		snprintf(value, sizeof value,
		    "{\"instance\":%u,\"node\":\"node-%c\",\"peer\":\"127.0.0.1:1\"}", i, 'a' + i - 1);
		put(e, key, value);
	}
	blob_of(1, b1);
	blob_of(2, b2);
	blob_of(3, b3);
	/* x: 300 bytes on a. y: a global object, 600 bytes on b, 100 on c. */
	snprintf(value, sizeof value, "{\"owner\":1,\"tree\":{},\"blobs\":{\"%s\":{\"size\":300}}}", b1);
	put(e, "/vineyardfs/t/objects/o0001000000000001", value);
	snprintf(value, sizeof value,
	    "{\"owner\":2,\"tree\":{},\"blobs\":{\"%s\":{\"size\":600},\"%s\":{\"size\":100}}}", b2, b3);
	put(e, "/vineyardfs/t/objects/o0002000000000001", value);
	put(e, "/vineyardfs/t/names/x", "\"o0001000000000001\"");
	put(e, "/vineyardfs/t/names/y", "\"o0002000000000001\"");
	/* Another cluster's keys are not ours. */
	put(e, "/vineyardfs/other/names/x", "\"o0003000000000001\"");
	etcd_close(e);
	ck_assert_int_eq(extender_create(fx.url, "t", EXTENDER_FILTER_LIVE, &x), 0);
}

static void
teardown(void)
{
	char cmd[sizeof dir + 32];

	extender_destroy(x);
	x = NULL;
	etcd_fixture_stop(&fx);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* POST verb with body; the status, the reply parsed (JSON) in *out. */
static unsigned
call(const char *verb, const char *body, json_t **out)
{
	char *reply;
	size_t len;
	unsigned status = extender_handle(x, verb, body, strlen(body), &reply, &len);

	ck_assert_ptr_nonnull(reply);
	ck_assert_uint_eq(strlen(reply), len);
	*out = status == 200 ? json_loads(reply, 0, NULL) : json_string(reply);
	ck_assert_ptr_nonnull(*out);
	free(reply);
	return status;
}

static int
score(const json_t *list, const char *host)
{
	size_t i;
	json_t *v;

	json_array_foreach (list, i, v)
		if (strcmp(json_string_value(json_object_get(v, "Host")), host) == 0)
			return (int)json_integer_value(json_object_get(v, "Score"));
	ck_abort_msg("no score for %s", host);
	return -1;
}

#define NAMES "\"NodeNames\":[\"node-a\",\"node-b\",\"node-c\",\"node-d\"]"

START_TEST(test_prioritize)
{
	json_t *r;

	ck_assert_uint_eq(
	    call("prioritize",
		"{\"Pod\":{\"metadata\":{\"name\":\"p\",\"annotations\":{\"vineyardfs.io/required\":"
		"\"x, y\"}}}," NAMES "}",
		&r),
	    200);
	ck_assert_uint_eq(json_array_size(r), 4);
	ck_assert_int_eq(score(r, "node-a"), 3); /* 300 of 1000 */
	ck_assert_int_eq(score(r, "node-b"), 6);
	ck_assert_int_eq(score(r, "node-c"), 1);
	ck_assert_int_eq(score(r, "node-d"), 0);
	json_decref(r);
	/* Vineyard's annotation, a name twice, one unknown, Go names in
	 * another case. */
	ck_assert_uint_eq(call("prioritize",
			      "{\"pod\":{\"metadata\":{\"annotations\":{\"scheduling.k8s.v6d.io/required\":"
			      "\"x,x,nope\"}}},\"nodenames\":[\"node-a\",\"node-b\"]}",
			      &r),
	    200);
	ck_assert_int_eq(score(r, "node-a"), 10);
	ck_assert_int_eq(score(r, "node-b"), 0);
	json_decref(r);
	/* Nothing required: all 0. */
	ck_assert_uint_eq(call("prioritize", "{\"Pod\":{\"metadata\":{\"name\":\"q\"}}," NAMES "}", &r), 200);
	ck_assert_int_eq(score(r, "node-a") + score(r, "node-b") + score(r, "node-c"), 0);
	json_decref(r);
	/* A NodeList instead of names. */
	ck_assert_uint_eq(
	    call("prioritize",
		"{\"Pod\":{\"metadata\":{\"annotations\":{\"vineyardfs.io/required\":\"y\"}}},"
		"\"Nodes\":{\"items\":[{\"metadata\":{\"name\":\"node-b\"}},{\"metadata\":{\"name\":"
		"\"node-c\"}}]}}",
		&r),
	    200);
	ck_assert_int_eq(score(r, "node-b"), 9); /* 600 of 700: 8.57 */
	ck_assert_int_eq(score(r, "node-c"), 1);
	json_decref(r);
}
END_TEST

START_TEST(test_filter)
{
	json_t *r, *items;

	ck_assert_uint_eq(call("filter", "{\"Pod\":{}," NAMES "}", &r), 200);
	ck_assert_str_eq(json_string_value(json_object_get(r, "Error")), "");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "NodeNames")), 3);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "NodeNames"), 2)), "node-c");
	ck_assert(json_is_null(json_object_get(r, "Nodes")));
	ck_assert_ptr_nonnull(json_object_get(json_object_get(r, "FailedNodes"), "node-d"));
	ck_assert_uint_eq(json_object_size(json_object_get(r, "FailedNodes")), 1);
	json_decref(r);
	/* The whole NodeList: the nodes kept come back as they were sent. */
	ck_assert_uint_eq(
	    call("filter",
		"{\"Pod\":{},\"Nodes\":{\"kind\":\"NodeList\",\"items\":[{\"metadata\":{\"name\":"
		"\"node-d\"}},{\"metadata\":{\"name\":\"node-a\",\"labels\":{\"k\":\"v\"}}}]}}",
		&r),
	    200);
	items = json_object_get(json_object_get(r, "Nodes"), "items");
	ck_assert_uint_eq(json_array_size(items), 1);
	ck_assert_str_eq(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(json_array_get(items, 0), "metadata"), "labels"), "k")),
	    "v");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "Nodes"), "kind")), "NodeList");
	ck_assert(json_is_null(json_object_get(r, "NodeNames")));
	json_decref(r);
	/* --filter all keeps every node. */
	extender_destroy(x);
	ck_assert_int_eq(extender_create(fx.url, "t", EXTENDER_FILTER_ALL, &x), 0);
	ck_assert_uint_eq(call("filter", "{\"Pod\":{}," NAMES "}", &r), 200);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "NodeNames")), 4);
	json_decref(r);
}
END_TEST

START_TEST(test_bad_requests)
{
	static const char *const bad[] = { "", "not json", "[]", "{}", "{\"Pod\":1," NAMES "}",
		"{\"Pod\":{}}", "{\"Pod\":{},\"NodeNames\":7}", "{\"Pod\":{},\"NodeNames\":[1]}",
		"{\"Pod\":{},\"Nodes\":{\"items\":[{}]}}",
		"{\"Pod\":{\"metadata\":{\"annotations\":{\"vineyardfs.io/required\":5}}}," NAMES "}" };
	json_t *r;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(call("prioritize", bad[i], &r) == 400, "body %s", bad[i]);
		json_decref(r);
		ck_assert_msg(call("filter", bad[i], &r) == 400, "body %s", bad[i]);
		json_decref(r);
	}
	ck_assert_uint_eq(call("bind", "{}", &r), 404);
	json_decref(r);
}
END_TEST

START_TEST(test_etcd_gone)
{
	json_t *r;

	etcd_fixture_stop(&fx);
	ck_assert_uint_eq(call("prioritize", "{\"Pod\":{}," NAMES "}", &r), 503);
	ck_assert_ptr_nonnull(strstr(json_string_value(r), "etcd"));
	json_decref(r);
	ck_assert_uint_eq(call("filter", "{\"Pod\":{}," NAMES "}", &r), 200);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "Error")), "etcd"));
	json_decref(r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("extender");
	TCase *tc = tcase_create("extender");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_prioritize);
	tcase_add_test(tc, test_filter);
	tcase_add_test(tc, test_bad_requests);
	tcase_add_test(tc, test_etcd_gone);
	suite_add_tcase(s, tc);
	return etcd_fixture_main(s);
}
