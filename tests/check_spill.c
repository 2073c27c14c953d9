/*
 * check_spill: sealed blobs spilled to a directory and brought back, over a
 * catalog on a backing directory (no mount): the LRU order and the marks,
 * bytes and CRC after a reload, faults in the spill and reload I/O (the
 * blob stays where it was, nothing is lost), restarts that find the spill
 * files, pin/unpin/evict/load, opens that cannot get room.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/id.h"
#include "core/snapshot.h"
#include "core/catalog_spill.h"
#include "core/uring.h"
#include "tests/check_core.h"

#define MIB (1024 * 1024)

static char *state, *backing, *spilldir;
static struct catalog_config cfg;
static catalog_t *cat;

static void
setup(void)
{
	state = test_mkdtemp("state");
	backing = test_mkdtemp("mem");
	spilldir = test_mkdtemp("spill");
	memset(&cfg, 0, sizeof cfg);
	cfg.state_dir = state;
	cfg.backing_dir = backing;
	cfg.memory_limit = 64 * MIB;
	cfg.instance_id = 9;
	cfg.spill_dir = spilldir;
	cat = NULL;
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
}

static void
teardown(void)
{
	catalog_close(cat);
	test_rmtree(state);
	test_rmtree(backing);
	test_rmtree(spilldir);
	free(state);
	free(backing);
	free(spilldir);
}

static void
reopen(void)
{
	catalog_close(cat);
	cat = NULL;
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
}

struct blob {
	uint64_t oid, bid;
	size_t len;
	unsigned seed;
};

/* A sealed Blob object named name of len pattern bytes. */
static struct blob
make(const char *name, size_t len, unsigned seed)
{
	struct catalog_attr a;
	struct blob b = { .len = len, .seed = seed };
	unsigned char *p = test_pattern(len, seed);
	int fd;

	ck_assert_int_eq(catalog_create_blob_object(cat, name, 1000, 1000, 0644, &a, &b.bid, &fd), 0);
	b.oid = ino_id(a.ino);
	ck_assert_int_eq(pwrite(fd, p, len, 0), (ssize_t)len);
	close(fd);
	catalog_release(cat, b.bid, 1);
	free(p);
	return b;
}

static struct catalog_stats
stats(void)
{
	struct catalog_stats st;

	catalog_stats(cat, &st);
	return st;
}

/* user.vineyard.location of the blob. */
static int
where_is(const struct blob *b, const char *want)
{
	char *v = NULL;
	size_t len = 0;
	int ok;

	ck_assert_int_eq(catalog_xattr_get(cat, b->bid, "user.vineyard.location", &v, &len), 0);
	ok = len == strlen(want) && memcmp(v, want, len) == 0;
	if (!ok)
		fprintf(stderr, "location: %.*s, want %s\n", (int)len, v, want);
	free(v);
	return ok;
}

/* Open b as a reader would: 0 and the bytes checked, or -errno. */
static int
open_check(const struct blob *b)
{
	unsigned char *want = test_pattern(b->len, b->seed), *got = malloc(b->len);
	uint64_t id;
	int fd = -1, rc;

	ck_assert_ptr_nonnull(got);
	rc = catalog_open_data(cat, b->bid, 0, &id, &fd);
	if (rc == 0) {
		ck_assert_uint_eq(id, b->bid);
		ck_assert_int_eq(pread(fd, got, b->len, 0), (ssize_t)b->len);
		ck_assert_msg(
		    memcmp(want, got, b->len) == 0, "blob %u: other bytes after the reload", b->seed);
		close(fd);
		catalog_release(cat, b->bid, 0);
	}
	free(want);
	free(got);
	return rc;
}

static int
spill_file(const struct blob *b, struct stat *st)
{
	char path[4096], name[ID_STR_LEN + 1];

	id_format(b->bid, name);
	snprintf(path, sizeof path, "%s/%s", spilldir, name);
	return stat(path, st);
}

/* Files in the spill dir whose name starts with prefix. */
static int
count_files(const char *prefix)
{
	char cmd[4200];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c '^%s' || true", spilldir, prefix);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

START_TEST(test_lru_spill_and_reload)
{
	struct blob b[5];
	struct catalog_stats st;
	struct stat fs;
	char name[8];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "b%d", i);
		b[i] = make(name, 12 * MIB, i);
	}
	/* 60 MiB of 64: past the high-water mark (80 %); down to 60 %. */
	ck_assert_int_ge(catalog_spill_pass_now(cat, 64 * MIB / 100 * 60), 0);
	st = stats();
	ck_assert_uint_le(st.bytes_resident, 64 * MIB / 100 * 60);
	ck_assert_uint_eq(st.bytes_sealed, 60 * MIB);
	ck_assert_uint_eq(st.bytes_resident + (st.bytes_sealed - st.bytes_resident), 60 * MIB);
	ck_assert_uint_ge(st.spills, 2);
	ck_assert_uint_eq(st.spill_errors, 0);
	/* The least recently used went: b0 and b1, not b4. */
	ck_assert(where_is(&b[0], "disk"));
	ck_assert(where_is(&b[1], "disk"));
	ck_assert(where_is(&b[4], "memory"));
	ck_assert_int_eq(spill_file(&b[0], &fs), 0);
	ck_assert_int_eq(fs.st_size, 12 * MIB);
	ck_assert_int_ne(spill_file(&b[4], &fs), 0);
	ck_assert_int_eq(count_files(".tmp-"), 0);
	/* Back on open, the same bytes; the spill file stays. */
	ck_assert_int_eq(open_check(&b[0]), 0);
	ck_assert(where_is(&b[0], "memory,disk"));
	st = stats();
	ck_assert_uint_eq(st.reloads, 1);
	ck_assert_uint_eq(st.reload_bytes, 12 * MIB);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(open_check(&b[i]), 0);
}
END_TEST

START_TEST(test_evict_pin_load)
{
	struct blob a = make("a", 3 * MIB, 1), p = make("p", 2 * MIB, 2);
	uint64_t n, bytes, id, sz;
	int fd;

	/* Pinned blobs never go, not even when asked. */
	ck_assert_int_eq(catalog_spill_pin(cat, p.oid, 1000, 1, &n, &bytes), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(bytes, 2 * MIB);
	ck_assert_int_eq(catalog_spill_evict(cat, p.oid, 1000, &n, &bytes), -EBUSY);
	ck_assert(where_is(&p, "memory"));
	ck_assert_uint_eq(stats().bytes_pinned, 2 * MIB);
	/* Another user may not; the owner may. */
	ck_assert_int_eq(catalog_spill_evict(cat, a.oid, 2000, &n, &bytes), -EACCES);
	ck_assert_int_eq(catalog_spill_evict(cat, a.oid, 1000, &n, &bytes), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(bytes, 3 * MIB);
	ck_assert(where_is(&a, "disk"));
	/* Open: evict says busy; released: it goes (no second write). */
	ck_assert_int_eq(catalog_spill_load(cat, a.oid, 0, &n, &sz), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(where_is(&a, "memory,disk"));
	ck_assert_int_eq(catalog_open_data(cat, a.bid, 0, &id, &fd), 0);
	ck_assert_int_eq(catalog_spill_evict(cat, a.bid, 0, &n, &bytes), -EBUSY);
	close(fd);
	catalog_release(cat, a.bid, 0);
	ck_assert_int_eq(catalog_spill_evict(cat, a.bid, 0, &n, &bytes), 0);
	ck_assert_uint_eq(stats().spills, 1);
	ck_assert(where_is(&a, "disk"));
	/* Pinning a spilled blob brings it back; it stays pinned after a
	 * restart, and unpinned it can go. */
	ck_assert_int_eq(catalog_spill_pin(cat, a.oid, 1000, 1, &n, &bytes), 0);
	ck_assert(where_is(&a, "memory,disk"));
	reopen();
	ck_assert_uint_eq(stats().bytes_pinned, 5 * MIB);
	ck_assert_int_eq(catalog_spill_evict(cat, a.oid, 0, &n, &bytes), -EBUSY);
	ck_assert_int_eq(catalog_spill_pin(cat, a.oid, 0, 0, &n, &bytes), 0);
	ck_assert_int_eq(catalog_spill_evict(cat, a.oid, 0, &n, &bytes), 0);
	ck_assert(where_is(&a, "disk"));
	ck_assert_int_eq(open_check(&a), 0);
	ck_assert_int_eq(open_check(&p), 0);
}
END_TEST

START_TEST(test_restart_finds_spill_files)
{
	struct blob a = make("a", 5 * MIB, 3), b = make("b", 1 * MIB, 4);
	uint64_t n, bytes;
	struct stat st;
	char path[4200], name[ID_STR_LEN + 1];

	ck_assert_int_eq(catalog_spill_evict(cat, a.oid, 0, &n, &bytes), 0);
	/* Leftovers of a crash mid-spill: a temp file; a copy of b whose
	 * record never committed. A file that is not ours stays. */
	test_write_file(spilldir, ".tmp-b0000000000000001", "x", 1);
	id_format(b.bid, name);
	test_write_file(spilldir, name, "y", 1);
	test_write_file(spilldir, "README", "z", 1);
	/* No spill dir given: the remembered one. */
	cfg.spill_dir = NULL;
	reopen();
	ck_assert_str_eq(stats().spill_dir, spilldir);
	ck_assert(where_is(&a, "disk"));
	ck_assert(where_is(&b, "memory"));
	ck_assert_int_eq(count_files(".tmp-"), 0);
	ck_assert_int_ne(spill_file(&b, &st), 0);
	snprintf(path, sizeof path, "%s/README", spilldir);
	ck_assert(test_exists(path));
	ck_assert_int_eq(open_check(&a), 0);
	ck_assert_int_eq(open_check(&b), 0);
	/* Another spill dir while blobs are spilled elsewhere: refused. */
	ck_assert_int_eq(catalog_spill_evict(cat, a.oid, 0, &n, &bytes), 0);
	catalog_close(cat);
	cat = NULL;
	cfg.spill_dir = backing;
	ck_assert_int_eq(catalog_open(&cfg, &cat), -EINVAL);
	cfg.spill_dir = spilldir;
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	ck_assert_int_eq(open_check(&a), 0);
	/* A spill file lost with the blob not in memory: the blob goes. */
	ck_assert_int_eq(catalog_spill_evict(cat, a.oid, 0, &n, &bytes), 0);
	ck_assert_int_eq(spill_file(&a, &st), 0);
	id_format(a.bid, name);
	snprintf(path, sizeof path, "%s/%s", spilldir, name);
	ck_assert_int_eq(truncate(path, 100), 0);
	reopen();
	ck_assert_int_eq(open_check(&a), -ENOENT);
	ck_assert_int_eq(open_check(&b), 0);
}
END_TEST

START_TEST(test_write_faults_keep_blob_in_memory)
{
	static const struct {
		struct uring_faults f;
		int ok; /* a short write is resubmitted: no error */
	} cases[] = {
		{ { .fail_write_at = 2, .err = ENOSPC }, 0 },
		{ { .fail_write_at = 1, .err = EIO }, 0 },
		{ { .fail_fsync_at = 1, .err = EIO }, 0 },
		{ { .fail_write_at = 4, .err = EIO }, 0 }, /* after three went through */
		{ { .short_write_at = 2 }, 1 },
	};
	uint64_t n, bytes;
	unsigned i, errors = 0;
	char name[8];

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct blob b;

		snprintf(name, sizeof name, "f%u", i);
		b = make(name, 4 * MIB + 12345, 10 + i);
		catalog_spill_set_faults(cat, &cases[i].f);
		if (cases[i].ok) {
			ck_assert_int_eq(catalog_spill_evict(cat, b.oid, 0, &n, &bytes), 0);
			ck_assert(where_is(&b, "disk"));
		} else {
			struct stat st;

			ck_assert_int_eq(catalog_spill_evict(cat, b.oid, 0, &n, &bytes), -EIO);
			ck_assert_uint_eq(n, 0);
			ck_assert(where_is(&b, "memory"));
			ck_assert_int_ne(spill_file(&b, &st), 0);
			ck_assert_uint_eq(stats().spill_errors, ++errors);
			/* Without the fault it goes. */
			ck_assert_int_eq(catalog_spill_evict(cat, b.oid, 0, &n, &bytes), 0);
		}
		ck_assert_int_eq(count_files(".tmp-"), 0);
		ck_assert_int_eq(open_check(&b), 0);
	}
}
END_TEST

START_TEST(test_reload_faults_and_corruption)
{
	struct blob b = make("b", 6 * MIB, 21);
	struct uring_faults f = { .fail_read_at = 2, .err = EIO };
	char path[4200], name[ID_STR_LEN + 1];
	uint64_t n, bytes;
	unsigned char c;
	int fd;

	ck_assert_int_eq(catalog_spill_evict(cat, b.oid, 0, &n, &bytes), 0);
	catalog_spill_set_faults(cat, &f);
	ck_assert_int_eq(open_check(&b), -EIO);
	ck_assert(where_is(&b, "disk"));
	ck_assert_uint_eq(stats().reload_errors, 1);
	/* One byte changed on disk: the CRC catches it, the blob stays. */
	id_format(b.bid, name);
	snprintf(path, sizeof path, "%s/%s", spilldir, name);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, 3 * MIB), 1);
	c ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &c, 1, 3 * MIB), 1);
	ck_assert_int_eq(open_check(&b), -EIO);
	ck_assert(where_is(&b, "disk"));
	ck_assert_uint_eq(stats().reload_errors, 2);
	c ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &c, 1, 3 * MIB), 1);
	close(fd);
	ck_assert_int_eq(open_check(&b), 0);
	ck_assert_uint_eq(stats().reloads, 1);
}
END_TEST

START_TEST(test_no_room_to_reload)
{
	struct blob a = make("a", 24 * MIB, 31), p1, p2;
	uint64_t n, bytes;

	ck_assert_int_eq(catalog_spill_evict(cat, a.oid, 0, &n, &bytes), 0);
	p1 = make("p1", 24 * MIB, 32);
	p2 = make("p2", 24 * MIB, 33);
	ck_assert_int_eq(catalog_spill_pin(cat, p1.oid, 0, 1, &n, &bytes), 0);
	ck_assert_int_eq(catalog_spill_pin(cat, p2.oid, 0, 1, &n, &bytes), 0);
	/* 48 MiB pinned of 64: no room for 24 more. */
	ck_assert_int_eq(open_check(&a), -ENOSPC);
	ck_assert(where_is(&a, "disk"));
	/* Unpinned, p1 makes room: spilled for a to come back. */
	ck_assert_int_eq(catalog_spill_pin(cat, p1.oid, 0, 0, &n, &bytes), 0);
	ck_assert_int_eq(open_check(&a), 0);
	ck_assert(where_is(&p1, "disk"));
	ck_assert_int_eq(open_check(&p1), 0);
	ck_assert_int_eq(open_check(&p2), 0);
}
END_TEST

struct opener {
	struct blob b;
	int rc;
};

static void *
open_thread(void *arg)
{
	struct opener *o = arg;

	o->rc = open_check(&o->b);
	return NULL;
}

START_TEST(test_concurrent_opens_one_reload)
{
	struct opener o[4];
	struct blob b = make("b", 32 * MIB, 41);
	pthread_t th[4];
	uint64_t n, bytes;
	int i;

	ck_assert_int_eq(catalog_spill_evict(cat, b.oid, 0, &n, &bytes), 0);
	for (i = 0; i < 4; i++) {
		o[i].b = b;
		ck_assert_int_eq(pthread_create(&th[i], NULL, open_thread, &o[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(o[i].rc, 0);
	}
	ck_assert_uint_eq(stats().reloads, 1);
}
END_TEST

/* The memory of an evicted blob is given back in the background; a reload
 * that needs it waits for it, and a close lets it all go. */
START_TEST(test_release_in_background)
{
	struct opener o = { .b = make("a", 40 * MIB, 45), .rc = 1 };
	struct blob b;
	pthread_t th;
	uint64_t n, bytes;
	int i;

	mem_release_hold(catalog_mem(cat), 1);
	ck_assert_int_eq(catalog_spill_evict(cat, o.b.oid, 0, &n, &bytes), 0);
	ck_assert(where_is(&o.b, "disk"));
	ck_assert_uint_eq(stats().bytes_resident, 0);
	ck_assert_uint_eq(stats().bytes_releasing, 40 * MIB);
	/* 40 MiB more of 64 fit by the catalog's count, not while the 40
	 * evicted are still held: the reload waits for them. */
	ck_assert_int_eq(pthread_create(&th, NULL, open_thread, &o), 0);
	for (i = 0; i < 10000 && mem_release_waiters(catalog_mem(cat)) == 0; i++)
		usleep(1000);
	ck_assert_uint_eq(mem_release_waiters(catalog_mem(cat)), 1);
	ck_assert_int_eq(o.rc, 1);
	mem_release_hold(catalog_mem(cat), 0);
	pthread_join(th, NULL);
	ck_assert_int_eq(o.rc, 0);
	ck_assert_uint_eq(stats().bytes_releasing, 0);
	ck_assert_uint_eq(stats().reloads, 1);
	/* Closing the store releases what is held, and loses nothing. */
	b = make("b", 8 * MIB, 46);
	mem_release_hold(catalog_mem(cat), 1);
	ck_assert_int_eq(catalog_spill_evict(cat, b.oid, 0, &n, &bytes), 0);
	ck_assert_uint_eq(stats().bytes_releasing, 8 * MIB);
	reopen();
	ck_assert_uint_eq(stats().bytes_releasing, 0);
	ck_assert(where_is(&b, "disk"));
	ck_assert_int_eq(open_check(&b), 0);
}
END_TEST

/* An open counted by catalog_hold (a restarted daemon's, from before it
 * started) keeps a blob in memory until it is released. */
START_TEST(test_hold_keeps_blob_in_memory)
{
	struct blob b = make("b", 2 * MIB, 48);
	uint64_t n, bytes;

	ck_assert_int_eq(catalog_hold(cat, b.bid), 0);
	ck_assert_int_eq(catalog_hold(cat, b.bid + (1u << 16)), -ENOENT);
	ck_assert_int_eq(catalog_spill_evict(cat, b.oid, 0, &n, &bytes), -EBUSY);
	ck_assert(where_is(&b, "memory"));
	catalog_release(cat, b.bid, 0);
	ck_assert_int_eq(catalog_spill_evict(cat, b.oid, 0, &n, &bytes), 0);
	ck_assert(where_is(&b, "disk"));
	/* A spilled blob can be held too: the release to come pairs with it. */
	ck_assert_int_eq(catalog_hold(cat, b.bid), 0);
	catalog_release(cat, b.bid, 0);
	ck_assert_int_eq(open_check(&b), 0);
}
END_TEST

/* On a store with a tmpfs of its own the kernel counts an evicted blob's
 * pages until they are released: a pass plans without them, and evicts
 * no more than it needs. */
START_TEST(test_pass_plans_without_released_memory)
{
	struct catalog_config kcfg = cfg;
	char *kstate, *kspill, mem[4200];
	catalog_t *keep = cat;
	struct blob a, b, d;

	if (geteuid() != 0)
		return; /* the store mounts its tmpfs */
	kstate = test_mkdtemp("kstate");
	kspill = test_mkdtemp("kspill");
	kcfg.state_dir = kstate;
	kcfg.backing_dir = NULL;
	kcfg.spill_dir = kspill;
	cat = NULL;
	ck_assert_int_eq(catalog_open(&kcfg, &cat), 0);
	ck_assert(catalog_kernel_limited(cat));
	/* 48 MiB of 64: under the high-water mark, no pass of its own. */
	a = make("a", 16 * MIB, 61);
	b = make("b", 16 * MIB, 62);
	d = make("d", 16 * MIB, 63);
	mem_release_hold(catalog_mem(cat), 1);
	ck_assert_int_eq(catalog_spill_pass_now(cat, 40 * MIB), 1);
	ck_assert(where_is(&a, "disk"));
	ck_assert(where_is(&b, "memory"));
	ck_assert(where_is(&d, "memory"));
	ck_assert_uint_eq(stats().bytes_releasing, 16 * MIB);
	ck_assert_uint_ge(stats().memory_used, 48 * MIB); /* the kernel's count, still */
	mem_release_hold(catalog_mem(cat), 0);
	ck_assert_int_eq(open_check(&a), 0);
	catalog_close(cat);
	cat = keep;
	snprintf(mem, sizeof mem, "%s/mem", kstate);
	ck_assert_int_eq(umount(mem), 0);
	test_rmtree(kstate);
	test_rmtree(kspill);
	free(kstate);
	free(kspill);
}
END_TEST

/* spill_ahead: above the low-water mark the least recently used blob gets
 * a spill file and stays in memory; a pass then evicts it without
 * writing it again. */
START_TEST(test_spill_ahead)
{
	struct blob a, b, d, e;

	cfg.spill_ahead = 1;
	reopen();
	/* 48 MiB of 64: above the low-water mark (38.4), under the high. */
	a = make("a", 16 * MIB, 71);
	b = make("b", 16 * MIB, 72);
	d = make("d", 16 * MIB, 73);
	/* The thread may have done it first: either way, a alone. */
	ck_assert_int_ge(catalog_spill_ahead_now(cat), 0);
	ck_assert(where_is(&a, "memory,disk"));
	ck_assert(where_is(&b, "memory"));
	ck_assert(where_is(&d, "memory"));
	ck_assert_uint_eq(stats().spills, 1);
	ck_assert_uint_eq(stats().evictions, 0);
	ck_assert_int_eq(catalog_spill_ahead_now(cat), 0);
	/* Past the high-water mark: a goes without a write, b with one. */
	e = make("e", 16 * MIB, 74);
	ck_assert_int_ge(catalog_spill_pass_now(cat, 40 * MIB), 0);
	ck_assert(where_is(&a, "disk"));
	ck_assert(where_is(&b, "disk"));
	ck_assert_uint_eq(stats().spills, 2);
	ck_assert_uint_eq(stats().evictions, 2);
	ck_assert_int_eq(open_check(&a), 0);
	ck_assert_int_eq(open_check(&e), 0);
}
END_TEST

/* A write ahead that fails (a full disk) is logged once, not at every
 * look of the thread: the next is 5 s away. */
START_TEST(test_spill_ahead_backs_off)
{
	struct uring_faults full = { .fail_write_at = 1, .err = ENOSPC };
	struct blob a;

	/* Without spill_ahead the thread does not write ahead: the test does. */
	a = make("a", 40 * MIB, 75);
	catalog_spill_set_faults(cat, &full);
	ck_assert_int_eq(catalog_spill_ahead_now(cat), 0);
	ck_assert_uint_eq(stats().spill_errors, 1);
	ck_assert(where_is(&a, "memory"));
	/* The faults are spent: only the back-off keeps it from going on. */
	ck_assert_int_eq(catalog_spill_ahead_now(cat), 0);
	ck_assert_uint_eq(stats().spill_errors, 1);
	ck_assert(where_is(&a, "memory"));
	ck_assert_int_eq(open_check(&a), 0);
}
END_TEST

/* A snapshot of a spilled blob checks its spill file's CRC. */
START_TEST(test_snapshot_checks_spill_file)
{
	struct blob b = make("b", 3 * MIB, 47);
	struct snapshot_result r;
	char path[4200], name[ID_STR_LEN + 1], err[1024], *snap = test_mkdtemp("snap");
	uint64_t n, bytes;
	unsigned char byte;
	int fd;

	ck_assert_int_eq(catalog_spill_evict(cat, b.oid, 0, &n, &bytes), 0);
	id_format(b.bid, name);
	snprintf(path, sizeof path, "%s/%s", spilldir, name);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &byte, 1, MIB + 5), 1);
	byte ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &byte, 1, MIB + 5), 1);
	ck_assert_int_eq(snapshot_create(cat, snap, &r, err, sizeof err), -EIO);
	ck_assert_msg(strstr(err, name) != NULL && strstr(err, "spill file is corrupt") != NULL, "%s", err);
	byte ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &byte, 1, MIB + 5), 1);
	close(fd);
	ck_assert_msg(snapshot_create(cat, snap, &r, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(r.blobs_copied, 1);
	test_rmtree(snap);
	free(snap);
}
END_TEST

START_TEST(test_delete_removes_spill_file)
{
	struct blob b = make("b", 2 * MIB, 51);
	uint64_t n, bytes;
	struct stat st;

	ck_assert_int_eq(catalog_spill_evict(cat, b.oid, 0, &n, &bytes), 0);
	ck_assert_int_eq(spill_file(&b, &st), 0);
	ck_assert_int_eq(catalog_delete_object(cat, b.oid, 0, CATALOG_DELETE_DEEP), 0);
	ck_assert_int_ne(spill_file(&b, &st), 0);
	ck_assert_uint_eq(stats().bytes_spilled, 0);
	ck_assert_uint_eq(stats().bytes_sealed, 0);
}
END_TEST

START_TEST(test_no_spill_dir)
{
	struct blob b;
	uint64_t n, bytes;

	catalog_close(cat);
	cat = NULL;
	cfg.spill_dir = NULL;
	test_rmtree(state);
	free(state);
	state = test_mkdtemp("state2");
	cfg.state_dir = state;
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	b = make("b", MIB, 61);
	ck_assert_int_eq(catalog_spill_evict(cat, b.oid, 0, &n, &bytes), -ENOTSUP);
	ck_assert_int_eq(catalog_spill_pin(cat, b.oid, 0, 1, &n, &bytes), 0);
	ck_assert_int_eq(stats().spill_enabled, 0);
	ck_assert(where_is(&b, "memory"));
}
END_TEST

START_TEST(test_one_store_per_spill_dir)
{
	struct catalog_config other = cfg;
	catalog_t *c2 = NULL;
	char *st2 = test_mkdtemp("state2"), *mem2 = test_mkdtemp("mem2");

	other.state_dir = st2;
	other.backing_dir = mem2;
	ck_assert_int_eq(catalog_open(&other, &c2), -EBUSY);
	/* Free once the first store lets go. */
	catalog_close(cat);
	cat = NULL;
	ck_assert_int_eq(catalog_open(&other, &c2), 0);
	catalog_close(c2);
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	test_rmtree(st2);
	test_rmtree(mem2);
	free(st2);
	free(mem2);
}
END_TEST

Suite *
spill_suite(void)
{
	Suite *s = suite_create("spill");
	TCase *tc = tcase_create("spill");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lru_spill_and_reload);
	tcase_add_test(tc, test_evict_pin_load);
	tcase_add_test(tc, test_restart_finds_spill_files);
	tcase_add_test(tc, test_write_faults_keep_blob_in_memory);
	tcase_add_test(tc, test_reload_faults_and_corruption);
	tcase_add_test(tc, test_no_room_to_reload);
	tcase_add_test(tc, test_concurrent_opens_one_reload);
	tcase_add_test(tc, test_release_in_background);
	tcase_add_test(tc, test_snapshot_checks_spill_file);
	tcase_add_test(tc, test_hold_keeps_blob_in_memory);
	tcase_add_test(tc, test_pass_plans_without_released_memory);
	tcase_add_test(tc, test_spill_ahead);
	tcase_add_test(tc, test_spill_ahead_backs_off);
	tcase_add_test(tc, test_delete_removes_spill_file);
	tcase_add_test(tc, test_no_spill_dir);
	tcase_add_test(tc, test_one_store_per_spill_dir);
	suite_add_tcase(s, tc);
	return s;
}
