/*
 * check_cluster: two members of a cluster (core/cluster.h) in one process,
 * each a catalog of its own (instance ids 1 and 2), through a real etcd
 * started by the test on free loopback ports with its data under the
 * test's temporary directory: publish and mirror, a name taken twice,
 * delete, a member leaving and coming back, etcd down at start, etcd
 * restarted with its data wiped, a global object. Every wait is bounded. Skipped (77)
 * without an etcd binary.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/catalog_remote.h"
#include "core/cluster.h"
#include "core/etcd.h"
#include "core/ino.h"
#include "tests/etcd_fixture.h"

#define DEADLINE_S ETCD_FIXTURE_DEADLINE_S

static char dir[128];
static struct etcd_fixture fx;

struct member {
	catalog_t *cat;
	cluster_t *cl;
	const char *node;
	int instance;
};
static struct member A = { .node = "alpha", .instance = 1 }, B = { .node = "beta", .instance = 2 };

static void
nap_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&t, NULL);
}

/* The catalog's hooks, as the daemon's: they only tell the cluster. */
static void
h_deleted(void *arg, uint64_t id)
{
	cluster_object_deleted(((struct member *)arg)->cl, id);
}

static void
h_dropped(void *arg, const char *name, uint64_t id)
{
	cluster_name_dropped(((struct member *)arg)->cl, name, id);
}

static void
h_names(void *arg, uint64_t id)
{
	cluster_kick(((struct member *)arg)->cl, id);
}

static void
member_open(struct member *m)
{
	struct catalog_config cfg = { 0 };
	char state[4096], backing[4096];

	snprintf(state, sizeof state, "%s/%s/state", dir, m->node);
	snprintf(backing, sizeof backing, "%s/%s/mem", dir, m->node);
	ck_assert_int_eq(mkdir(backing, 0755) == 0 || errno == EEXIST, 1);
	cfg.state_dir = state;
	cfg.backing_dir = backing;
	cfg.memory_limit = 64 << 20;
	cfg.instance_id = m->instance;
	cfg.hook_arg = m;
	cfg.object_deleted = h_deleted;
	cfg.name_dropped = h_dropped;
	cfg.names_changed = h_names;
	ck_assert_int_eq(catalog_open(&cfg, &m->cat), 0);
}

static void
member_join(struct member *m)
{
	struct cluster_config cc = {
		.etcd = fx.url,
		.name = "t",
		.listen = "127.0.0.1:1",
		.node = m->node,
		.ttl = 2,
	};

	ck_assert_int_eq(cluster_create(&cc, &m->cl), 0);
	ck_assert_int_eq(cluster_start(m->cl, m->cat), 0);
}

static void
member_leave(struct member *m)
{
	cluster_destroy(m->cl);
	m->cl = NULL;
}

static void
setup(void)
{
	char path[4096];

	etcd_fixture_mkdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/alpha", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/beta", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	etcd_fixture_init(&fx, dir);
	member_open(&A);
	member_open(&B);
}

static void
teardown(void)
{
	char cmd[sizeof dir + 32];

	member_leave(&A);
	member_leave(&B);
	catalog_close(A.cat);
	catalog_close(B.cat);
	A.cat = B.cat = NULL;
	etcd_fixture_stop(&fx);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Until cond holds, bounded. */
#define WAIT_UNTIL(cond, what)                                                    \
	do {                                                                      \
		time_t until_ = time(NULL) + DEADLINE_S;                          \
		while (!(cond) && time(NULL) < until_)                            \
			nap_ms(20);                                               \
		ck_assert_msg((cond), "%s: not within %d s", (what), DEADLINE_S); \
	} while (0)

/* A sealed Blob object named name on m, its bytes len bytes of seed. */
static uint64_t
put(struct member *m, const char *name, size_t len, char seed)
{
	struct catalog_attr a;
	uint64_t bid;
	char *buf = malloc(len);
	int fd = -1;

	memset(buf, seed, len);
	ck_assert_int_eq(catalog_create_blob_object(m->cat, name, 0, 0, 0644, &a, &bid, &fd), 0);
	ck_assert_int_eq(pwrite(fd, buf, len, 0), (ssize_t)len);
	close(fd);
	catalog_release(m->cat, bid, 1);
	free(buf);
	return ino_id(a.ino);
}

static int
has_name(struct member *m, const char *name)
{
	struct catalog_attr a;

	return catalog_lookup(m->cat, INO_NAMES, name, &a) == 0;
}

static char *
xattr(struct member *m, uint64_t ino, const char *name)
{
	char *v = NULL;
	size_t len;

	if (catalog_xattr_get(m->cat, ino, name, &v, &len) != 0)
		return NULL;
	return v;
}

static int
xattr_is(struct member *m, uint64_t ino, const char *name, const char *want)
{
	char *v = xattr(m, ino, name);
	int same = v != NULL && strcmp(v, want) == 0;

	free(v);
	return same;
}

static int
published(struct member *m, uint64_t id)
{
	return cluster_publish_state(m->cl, id, NULL, 0) == 0;
}

START_TEST(test_publish_mirror)
{
	char *ma, *mb, msg[200];
	size_t la, lb;
	uint64_t x, y, bid, ino;
	struct catalog_attr attr;
	int fd;

	etcd_fixture_start(&fx);
	member_join(&A);
	member_join(&B);
	x = put(&A, "x", 4096, 'x');
	/* Local until published. */
	ck_assert_int_eq(has_name(&B, "x"), 0);
	ck_assert_int_eq(cluster_publish(A.cl, x), 0);
	WAIT_UNTIL(published(&A, x), "publish of x");
	WAIT_UNTIL(has_name(&B, "x"), "x on B");
	/* The same meta.json on both; the blob's size without its bytes. */
	ck_assert_int_eq(catalog_read_generated(A.cat, ino_of(x, INO_VIEW_META), &ma, &la), 0);
	ck_assert_int_eq(catalog_read_generated(B.cat, ino_of(x, INO_VIEW_META), &mb, &lb), 0);
	ck_assert_str_eq(ma, mb);
	free(ma);
	free(mb);
	ck_assert_int_eq(catalog_lookup(B.cat, INO_NAMES, "x", &attr), 0);
	ck_assert_uint_eq(attr.size, 4096);
	ck_assert(xattr_is(&B, x, "user.vineyard.location", "remote:alpha"));
	ck_assert(xattr_is(&B, x, "user.vineyard.instance_id", "1"));
	ck_assert(xattr_is(&A, x, "user.vineyard.location", "memory"));
	/* Its bytes are not here, and it is not B's to change. */
	ck_assert_int_eq(catalog_open_data(B.cat, ino_of(x, INO_VIEW_DATA), 0, &bid, &fd), -EREMOTE);
	ck_assert_int_eq(catalog_delete_object(B.cat, x, 0, CATALOG_DELETE_DEEP), -EREMOTE);
	ck_assert_int_eq(catalog_name_add(B.cat, x, "x2", 0), -EREMOTE);
	ck_assert_int_eq(catalog_unlink(B.cat, INO_NAMES, "x", 0), -EREMOTE);
	/* A name taken in the cluster: EEXIST for the loser. */
	y = put(&B, "y", 10, 'b');
	ck_assert_int_eq(cluster_publish(B.cl, y), 0);
	WAIT_UNTIL(published(&B, y), "publish of y");
	WAIT_UNTIL(has_name(&A, "y"), "y on A");
	y = put(&A, "y2", 10, 'a');
	ck_assert_int_eq(catalog_name_add(A.cat, y, "y", 0), -EEXIST); /* B's is mirrored here */
	/* B's local name, unpublished, collides only at publish. */
	ino = put(&B, "w", 10, 'b');
	y = put(&A, "w", 10, 'a');
	ck_assert_int_eq(cluster_publish(A.cl, y), 0);
	WAIT_UNTIL(cluster_publish_state(A.cl, y, msg, sizeof msg) != -EINPROGRESS, "publish of w");
	ck_assert_int_eq(cluster_publish_state(A.cl, y, msg, sizeof msg), 0);
	ck_assert_int_eq(cluster_publish(B.cl, ino), 0);
	WAIT_UNTIL(cluster_publish_state(B.cl, ino, msg, sizeof msg) != -EINPROGRESS, "publish of B's w");
	ck_assert_int_eq(cluster_publish_state(B.cl, ino, msg, sizeof msg), -EEXIST);
	ck_assert_ptr_nonnull(strstr(msg, "name w is taken"));
	/* Delete on the owner: gone everywhere. */
	ck_assert_int_eq(catalog_delete_object(A.cat, x, 0, CATALOG_DELETE_DEEP), 0);
	WAIT_UNTIL(!has_name(&B, "x"), "x gone from B");
	/* The name's key and the object's go in two requests: a watch may
	 * show them apart. */
	WAIT_UNTIL(
	    catalog_getattr(B.cat, ino_of(x, INO_VIEW_OBJECT), &attr) == -ENOENT, "x's object gone from B");
}
END_TEST

START_TEST(test_member_leaves)
{
	uint64_t x, bid;
	int fd;

	etcd_fixture_start(&fx);
	member_join(&A);
	member_join(&B);
	x = put(&A, "x", 100, 'x');
	ck_assert_int_eq(cluster_publish(A.cl, x), 0);
	WAIT_UNTIL(has_name(&B, "x"), "x on B");
	WAIT_UNTIL(xattr_is(&B, x, "user.vineyard.location", "remote:alpha"), "alpha live");
	/* A leaves: still listed on B, unavailable. */
	member_leave(&A);
	WAIT_UNTIL(xattr_is(&B, x, "user.vineyard.location", "remote:alpha,unavailable"), "alpha gone");
	ck_assert(has_name(&B, "x"));
	ck_assert_int_eq(catalog_open_data(B.cat, ino_of(x, INO_VIEW_DATA), 0, &bid, &fd), -EHOSTDOWN);
	/* Back: available again, and it knows x is its own published object. */
	member_join(&A);
	WAIT_UNTIL(xattr_is(&B, x, "user.vineyard.location", "remote:alpha"), "alpha back");
	WAIT_UNTIL(published(&A, x), "A adopts x");
	ck_assert_int_eq(catalog_delete_object(A.cat, x, 0, CATALOG_DELETE_DEEP), 0);
	WAIT_UNTIL(!has_name(&B, "x"), "x gone from B");
}
END_TEST

static int
joined(struct member *m)
{
	json_t *st = cluster_status(m->cl);
	int j = json_is_true(json_object_get(st, "joined"));

	json_decref(st);
	return j;
}

START_TEST(test_etcd_down_at_start)
{
	uint64_t x;

	/* No etcd yet: the members work alone and publishes queue. */
	member_join(&A);
	member_join(&B);
	x = put(&A, "x", 100, 'x');
	ck_assert_int_eq(cluster_publish(A.cl, x), 0);
	nap_ms(300);
	ck_assert_int_eq(cluster_publish_state(A.cl, x, NULL, 0), -EINPROGRESS);
	ck_assert(!joined(&A));
	etcd_fixture_start(&fx);
	WAIT_UNTIL(joined(&A) && joined(&B), "join once etcd is up");
	WAIT_UNTIL(has_name(&B, "x"), "the queued publish on B");
}
END_TEST

START_TEST(test_etcd_wiped)
{
	char cmd[4200];
	uint64_t x, c;
	char ids[ID_STR_LEN + 1], err[256];
	json_t *members, *fields;

	etcd_fixture_start(&fx);
	member_join(&A);
	member_join(&B);
	x = put(&A, "x", 100, 'x');
	id_format(put(&A, "part", 8, 'p'), ids);
	/* A composite: its member object is published with it. */
	members = json_pack("{s:s}", "first", ids);
	fields = json_pack("{s:s}", "kind", "pair");
	ck_assert_int_eq(
	    catalog_create_object(A.cat, "MyPair", fields, members, "seq", 0, 0, 0644, &c, err, sizeof err),
	    0);
	json_decref(members);
	json_decref(fields);
	ck_assert_int_eq(cluster_publish(A.cl, x), 0);
	ck_assert_int_eq(cluster_publish(A.cl, c), 0);
	WAIT_UNTIL(has_name(&B, "x") && has_name(&B, "seq") && has_name(&B, "part"), "x, seq, part on B");
	/* etcd loses everything: the members put it back on their own. */
	etcd_fixture_stop(&fx);
	snprintf(cmd, sizeof cmd, "rm -rf '%s/etcd-data'", dir);
	ck_assert_int_eq(system(cmd), 0);
	etcd_fixture_start(&fx);
	WAIT_UNTIL(joined(&A) && joined(&B), "join again");
	WAIT_UNTIL(has_name(&B, "x") && has_name(&B, "seq") && has_name(&B, "part"), "x, seq back on B");
}
END_TEST

/* A global object: B makes one of A's published objects and blob, as a
 * user who owns neither (remote records belong to all); "global" on both
 * members; a member whose owner is gone is taken too; a restart of B keeps it before the mirror shows its members;
 * A deletes its object regardless, and B's member entry dangles; deleting
 * it on B unpublishes it. */
START_TEST(test_global)
{
	uint64_t x, g, g2, xblob;
	char ids[ID_STR_LEN + 1], bids[ID_STR_LEN + 1], err[256], *v;
	struct catalog_attr a;
	json_t *members;
	int live = 1;

	etcd_fixture_start(&fx);
	member_join(&A);
	member_join(&B);
	x = put(&A, "x", 100, 'x');
	id_format(x, ids);
	ck_assert_ptr_nonnull(v = xattr(&A, ino_of(x, INO_VIEW_OBJECT), "user.vineyard.member.buffer_"));
	snprintf(bids, sizeof bids, "%s", v);
	free(v);
	ck_assert_int_eq(id_parse(bids, &xblob), 0);
	ck_assert_int_eq(cluster_publish(A.cl, x), 0);
	WAIT_UNTIL(has_name(&B, "x"), "x on B");

	members = json_pack("{s:s, s:s}", "obj", ids, "buf", bids);
	ck_assert_int_eq(
	    catalog_create_object(B.cat, "Pair", NULL, members, "g", 1000, 1000, 0644, &g, err, sizeof err),
	    0);
	json_decref(members);
	ck_assert_int_eq(catalog_object_global(B.cat, g), 1);
	ck_assert_int_eq(catalog_object_global(B.cat, x), 0);
	ck_assert(xattr_is(&B, ino_of(g, INO_VIEW_OBJECT), "user.vineyard.global", "true"));
	ck_assert(xattr_is(&B, ino_of(g, INO_VIEW_OBJECT), "user.vineyard.nbytes", "200"));
	ck_assert_int_eq(cluster_publish(B.cl, g), 0);
	WAIT_UNTIL(has_name(&A, "g"), "g on A");
	ck_assert(xattr_is(&A, ino_of(g, INO_VIEW_OBJECT), "user.vineyard.global", "true"));
	/* A's own object stays A's record: g's tree made no copy of it. */
	ck_assert_int_eq(catalog_remote_is(A.cat, x, NULL), 0);

	/* A member whose owner is gone is still taken: it is metadata. */
	member_leave(&A);
	WAIT_UNTIL(catalog_remote_is(B.cat, x, &live) == 1 && !live, "A gone on B");
	members = json_pack("{s:s}", "obj", ids);
	ck_assert_int_eq(
	    catalog_create_object(B.cat, "One", NULL, members, NULL, 0, 0, 0644, &g2, err, sizeof err), 0);
	json_decref(members);
	ck_assert_int_eq(catalog_object_global(B.cat, g2), 1);
	ck_assert_int_eq(catalog_delete_object(B.cat, g2, 0, CATALOG_DELETE_DEEP), 0);
	member_join(&A);
	WAIT_UNTIL(joined(&A) && has_name(&A, "g"), "A back, with g");

	/* B restarts: g and its member ids stay, the mirror is empty yet. */
	member_leave(&B);
	catalog_close(B.cat);
	member_open(&B);
	ck_assert_int_eq(catalog_object_global(B.cat, g), 1);
	ck_assert(xattr_is(&B, ino_of(g, INO_VIEW_OBJECT), "user.vineyard.member.obj", ids));
	ck_assert_int_eq(catalog_lookup(B.cat, ino_of(g, INO_VIEW_OBJECT), "obj", &a), -ENOENT);
	member_join(&B);
	WAIT_UNTIL(catalog_lookup(B.cat, ino_of(g, INO_VIEW_OBJECT), "obj", &a) == 0, "g's member on B");

	/* A deletes x, which g does not hold back; g's entry dangles. */
	ck_assert_int_eq(catalog_delete_object(A.cat, x, 0, CATALOG_DELETE_DEEP), 0);
	WAIT_UNTIL(
	    catalog_lookup(B.cat, ino_of(g, INO_VIEW_OBJECT), "obj", &a) == -ENOENT, "x gone from g on B");
	ck_assert_int_eq(catalog_remote_is(B.cat, xblob, NULL), 0);
	ck_assert_int_eq(catalog_lookup(B.cat, INO_BLOBS, bids, &a), -ENOENT);
	ck_assert(xattr_is(&B, ino_of(g, INO_VIEW_OBJECT), "user.vineyard.global", "true"));

	/* Deleted on its owner: gone from A too. */
	ck_assert_int_eq(catalog_delete_object(B.cat, g, 1000, CATALOG_DELETE_DEEP), 0);
	WAIT_UNTIL(!has_name(&A, "g"), "g gone from A");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("cluster");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_publish_mirror);
	tcase_add_test(tc, test_member_leaves);
	tcase_add_test(tc, test_etcd_down_at_start);
	tcase_add_test(tc, test_etcd_wiped);
	tcase_add_test(tc, test_global);
	suite_add_tcase(s, tc);
	return etcd_fixture_main(s);
}
