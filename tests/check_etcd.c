/*
 * check_etcd: the etcd client against a real etcd (Debian's etcd-server),
 * started by the test on free loopback ports with its data in a temporary
 * directory, and stopped at the end whatever happened. Skipped (exit 77)
 * when there is no etcd binary.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/etcd.h"
#include "tests/etcd_fixture.h"

static char dir[128];
static struct etcd_fixture fx;
static etcd_t *e;

static void
setup(void)
{
	etcd_fixture_mkdir(dir, sizeof dir);
	etcd_fixture_init(&fx, dir);
	etcd_fixture_start(&fx);
	ck_assert_int_eq(etcd_open(fx.url, 2000, &e), 0);
}

static void
teardown(void)
{
	char cmd[sizeof dir + 32];

	etcd_close(e);
	e = NULL;
	etcd_fixture_stop(&fx);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_put_get)
{
	static const char key[] = "k\0ey\xff", value[] = "v\0al\x80ue";
	struct etcd_range r;
	int64_t rev = 0;

	ck_assert_int_eq(etcd_put(e, key, sizeof key - 1, value, sizeof value - 1, 0, &rev), 0);
	ck_assert_int_gt(rev, 1);
	ck_assert_int_eq(etcd_get(e, key, sizeof key - 1, 0, 0, &r), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.kvs[0].key_len, sizeof key - 1);
	ck_assert_mem_eq(r.kvs[0].key, key, sizeof key - 1);
	ck_assert_uint_eq(r.kvs[0].value_len, sizeof value - 1);
	ck_assert_mem_eq(r.kvs[0].value, value, sizeof value - 1);
	ck_assert_int_eq(r.kvs[0].mod_revision, rev);
	ck_assert_int_eq(r.kvs[0].create_revision, rev);
	ck_assert_int_eq(r.kvs[0].version, 1);
	ck_assert_int_eq(r.revision, rev);
	etcd_range_free(&r);
	/* An empty value comes back empty (the gateway leaves it out). */
	ck_assert_int_eq(etcd_put(e, "empty", 5, "", 0, 0, NULL), 0);
	ck_assert_int_eq(etcd_get(e, "empty", 5, 0, 0, &r), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.kvs[0].value_len, 0);
	ck_assert_str_eq(r.kvs[0].value, "");
	etcd_range_free(&r);
	/* A missing key: no kvs, and the store's revision. */
	ck_assert_int_eq(etcd_get(e, "nosuch", 6, 0, 0, &r), 0);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_ge(r.revision, rev);
	etcd_range_free(&r);
}
END_TEST

START_TEST(test_prefix)
{
	struct etcd_range r;
	int64_t n = 0;

	ck_assert_int_eq(etcd_put(e, "/a/2", 4, "two", 3, 0, NULL), 0);
	ck_assert_int_eq(etcd_put(e, "/a/1", 4, "one", 3, 0, NULL), 0);
	ck_assert_int_eq(etcd_put(e, "/a/3", 4, "three", 5, 0, NULL), 0);
	ck_assert_int_eq(etcd_put(e, "/b/1", 4, "other", 5, 0, NULL), 0);
	ck_assert_int_eq(etcd_get(e, "/a/", 3, 1, 0, &r), 0);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_str_eq(r.kvs[0].key, "/a/1");
	ck_assert_str_eq(r.kvs[1].key, "/a/2");
	ck_assert_str_eq(r.kvs[2].value, "three");
	ck_assert_int_eq(r.more, 0);
	etcd_range_free(&r);
	ck_assert_int_eq(etcd_get(e, "/a/", 3, 1, 2, &r), 0);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_int_eq(r.more, 1);
	etcd_range_free(&r);
	/* The empty prefix is every key. */
	ck_assert_int_eq(etcd_get(e, "", 0, 1, 0, &r), 0);
	ck_assert_uint_eq(r.n, 4);
	etcd_range_free(&r);
	ck_assert_int_eq(etcd_delete(e, "/a/", 3, 1, &n), 0);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(etcd_get(e, "/", 1, 1, 0, &r), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.kvs[0].key, "/b/1");
	etcd_range_free(&r);
}
END_TEST

START_TEST(test_create)
{
	struct etcd_kv kv;
	struct etcd_range r;

	ck_assert_int_eq(etcd_create(e, "name", 4, "first", 5, 0, &kv), 0);
	ck_assert_ptr_null(kv.key);
	ck_assert_int_eq(etcd_create(e, "name", 4, "second", 6, 0, &kv), -EEXIST);
	ck_assert_str_eq(kv.key, "name");
	ck_assert_str_eq(kv.value, "first");
	ck_assert_int_gt(kv.mod_revision, 0);
	/* Deleting it only if unchanged since. */
	ck_assert_int_eq(etcd_delete_if(e, "name", 4, kv.mod_revision + 100), -ESTALE);
	ck_assert_int_eq(etcd_delete_if(e, "name", 4, kv.mod_revision), 0);
	ck_assert_int_eq(etcd_delete_if(e, "name", 4, kv.mod_revision), -ESTALE);
	etcd_kv_free(&kv);
	ck_assert_int_eq(etcd_get(e, "name", 4, 0, 0, &r), 0);
	ck_assert_uint_eq(r.n, 0);
	etcd_range_free(&r);
}
END_TEST

START_TEST(test_lease)
{
	struct etcd_range r;
	int64_t id = 0, ttl = 0;

	ck_assert_int_eq(etcd_lease_grant(e, 30, &id), 0);
	ck_assert_int_ne(id, 0);
	ck_assert_int_eq(etcd_put(e, "member", 6, "me", 2, id, NULL), 0);
	ck_assert_int_eq(etcd_get(e, "member", 6, 0, 0, &r), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_int_eq(r.kvs[0].lease, id);
	etcd_range_free(&r);
	ck_assert_int_eq(etcd_lease_keepalive(e, id, &ttl), 0);
	ck_assert_int_gt(ttl, 0);
	ck_assert_int_le(ttl, 30);
	/* Revoked: its keys go, and it cannot be kept alive. */
	ck_assert_int_eq(etcd_lease_revoke(e, id), 0);
	ck_assert_int_eq(etcd_get(e, "member", 6, 0, 0, &r), 0);
	ck_assert_uint_eq(r.n, 0);
	etcd_range_free(&r);
	ck_assert_int_eq(etcd_lease_keepalive(e, id, &ttl), -ENOENT);
	ck_assert_int_eq(etcd_lease_revoke(e, id), -ENOENT);
}
END_TEST

struct seen {
	struct etcd_event ev[16];
	char keys[16][16], values[16][16];
	int n, stop_at;
	atomic_int stop;
	int rc;
	int64_t start, compacted;
	pthread_mutex_t lock;
};

static int
on_event(void *arg, const struct etcd_event *ev)
{
	struct seen *s = arg;

	pthread_mutex_lock(&s->lock);
	if (s->n < 16) {
		s->ev[s->n] = *ev;
		snprintf(s->keys[s->n], sizeof s->keys[0], "%s", ev->kv.key);
		snprintf(s->values[s->n], sizeof s->values[0], "%s", ev->kv.value);
		s->n++;
	}
	pthread_mutex_unlock(&s->lock);
	return s->stop_at > 0 && s->n >= s->stop_at ? 42 : 0;
}

static void *
watcher(void *arg)
{
	struct seen *s = arg;

	s->rc = etcd_watch(e, "/w/", 3, 1, s->start, on_event, s, &s->stop, &s->compacted);
	return NULL;
}

static int
count(struct seen *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->n;
	pthread_mutex_unlock(&s->lock);
	return n;
}

START_TEST(test_watch)
{
	struct seen s = { .stop_at = 0, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct etcd_range r;
	pthread_t t;
	time_t until;

	/* From the revision after a read: nothing is missed in between. */
	ck_assert_int_eq(etcd_put(e, "/w/before", 9, "b", 1, 0, NULL), 0);
	ck_assert_int_eq(etcd_get(e, "/w/", 3, 1, 0, &r), 0);
	s.start = r.revision + 1;
	etcd_range_free(&r);
	ck_assert_int_eq(etcd_put(e, "/w/1", 4, "one", 3, 0, NULL), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, watcher, &s), 0);
	ck_assert_int_eq(etcd_put(e, "/w/2", 4, "two", 3, 0, NULL), 0);
	ck_assert_int_eq(etcd_put(e, "/x/0", 4, "not watched", 11, 0, NULL), 0);
	ck_assert_int_eq(etcd_delete(e, "/w/1", 4, 0, NULL), 0);
	for (until = time(NULL) + 30; count(&s) < 3 && time(NULL) < until;)
		usleep(10000);
	ck_assert_int_eq(count(&s), 3);
	ck_assert_int_eq(s.ev[0].type, ETCD_PUT);
	ck_assert_str_eq(s.keys[0], "/w/1");
	ck_assert_str_eq(s.values[0], "one");
	ck_assert_int_eq(s.ev[1].type, ETCD_PUT);
	ck_assert_str_eq(s.keys[1], "/w/2");
	ck_assert_int_eq(s.ev[2].type, ETCD_DELETE);
	ck_assert_str_eq(s.keys[2], "/w/1");
	ck_assert_int_gt(s.ev[2].revision, s.ev[1].revision);
	/* Stopping: within about a second. */
	atomic_store(&s.stop, 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(s.rc, 0);
}
END_TEST

START_TEST(test_watch_callback_stops)
{
	struct seen s = { .stop_at = 2, .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t t;

	ck_assert_int_eq(etcd_put(e, "/w/a", 4, "1", 1, 0, &s.start), 0);
	ck_assert_int_eq(etcd_put(e, "/w/b", 4, "2", 1, 0, NULL), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, watcher, &s), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(s.rc, 42);
	ck_assert_int_eq(s.n, 2);
}
END_TEST

START_TEST(test_watch_compacted)
{
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	int64_t first = 0, last = 0;
	pthread_t t;

	ck_assert_int_eq(etcd_put(e, "/w/c", 4, "1", 1, 0, &first), 0);
	ck_assert_int_eq(etcd_put(e, "/w/c", 4, "2", 1, 0, NULL), 0);
	ck_assert_int_eq(etcd_put(e, "/w/c", 4, "3", 1, 0, &last), 0);
	ck_assert_int_eq(etcd_compact(e, last), 0);
	s.start = first;
	ck_assert_int_eq(pthread_create(&t, NULL, watcher, &s), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(s.rc, -ECANCELED);
	ck_assert_int_eq(s.compacted, last);
}
END_TEST

START_TEST(test_limits_and_faults)
{
	size_t big = 1600 * 1000;
	char *value = calloc(1, big);
	struct etcd_range r;
	etcd_t *two, *none;
	char urls[160];

	/* Over etcd's request limit (1.5 MiB). */
	ck_assert_ptr_nonnull(value);
	ck_assert_int_eq(etcd_put(e, "big", 3, value, big, 0, NULL), -E2BIG);
	free(value);
	/* A dead endpoint first: the next one answers, and is kept. */
	snprintf(urls, sizeof urls, "http://127.0.0.1:%d,%s", etcd_fixture_free_port(), fx.url);
	ck_assert_int_eq(etcd_open(urls, 2000, &two), 0);
	ck_assert_int_eq(etcd_put(two, "k", 1, "v", 1, 0, NULL), 0);
	ck_assert_str_eq(etcd_endpoint(two), fx.url);
	ck_assert_int_eq(etcd_get(two, "k", 1, 0, 0, &r), 0);
	ck_assert_uint_eq(r.n, 1);
	etcd_range_free(&r);
	etcd_close(two);
	/* Nobody there. */
	snprintf(urls, sizeof urls, "http://127.0.0.1:%d", etcd_fixture_free_port());
	ck_assert_int_eq(etcd_open(urls, 2000, &none), 0);
	ck_assert_int_eq(etcd_get(none, "k", 1, 0, 0, &r), -ECONNREFUSED);
	etcd_close(none);
	/* Bad endpoints. */
	ck_assert_int_eq(etcd_open("ftp://x", 1000, &none), -EINVAL);
	ck_assert_int_eq(etcd_open(",", 1000, &none), -EINVAL);
	/* etcd killed: calls fail at once instead of hanging. */
	etcd_fixture_stop(&fx);
	ck_assert_int_eq(etcd_get(e, "k", 1, 0, 0, &r), -ECONNREFUSED);
}
END_TEST

static Suite *
etcd_suite(void)
{
	Suite *s = suite_create("etcd");
	TCase *tc = tcase_create("etcd");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_put_get);
	tcase_add_test(tc, test_prefix);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_lease);
	tcase_add_test(tc, test_watch);
	tcase_add_test(tc, test_watch_callback_stops);
	tcase_add_test(tc, test_watch_compacted);
	tcase_add_test(tc, test_limits_and_faults);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return etcd_fixture_main(etcd_suite());
}
