/*
 * check_stream: byte streams over a real catalog on a backing directory
 * (no mount): lookups and listings, the one writer, appends read back
 * through the chunk fds (across a chunk boundary), the states a reader
 * sees at the end, completion into a sealed ByteStream object, failure,
 * unlink (of its object, of its chunks, with a reader still reading), the
 * memory limit, and what a restart keeps.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/catalog.h"
#include "core/id.h"
#include "core/stream.h"
#include "tests/check_core.h"

#define MIB (1024 * 1024)
#define INSTANCE 9
#define UID 1000
#define GID 1001
#define PIECE MIB /* writes and reads go in pieces of this */

/* What the hooks saw. */
struct hooks {
	struct test_freed freed;
};

static struct hooks hk;
static char *state, *backing;
static struct catalog_config cfg;
static catalog_t *cat;
static streams_t *ss;
static unsigned char *piece, *want;

static void
on_blob_freed(void *arg, uint64_t id)
{
	test_freed_add(&((struct hooks *)arg)->freed, id);
}

static int
was_freed(uint64_t id)
{
	return test_was_freed(&hk.freed, id);
}

static void
open_all(void)
{
	cat = NULL;
	ss = NULL;
	ck_assert_int_eq(catalog_open(&cfg, &cat), 0);
	ck_assert_int_eq(streams_create(cat, 0, &ss), 0);
}

static void
close_all(void)
{
	streams_destroy(ss);
	catalog_close(cat);
	ss = NULL;
	cat = NULL;
}

static void
str_setup(void)
{
	memset(&hk, 0, sizeof hk);
	state = test_mkdtemp("state");
	backing = test_mkdtemp("mem");
	memset(&cfg, 0, sizeof cfg);
	cfg.state_dir = state;
	cfg.backing_dir = backing; /* the catalog counts memory itself */
	cfg.memory_limit = 256 * MIB;
	cfg.instance_id = INSTANCE;
	cfg.hook_arg = &hk;
	cfg.blob_freed = on_blob_freed;
	piece = malloc(PIECE);
	want = malloc(PIECE);
	ck_assert_ptr_nonnull(piece);
	ck_assert_ptr_nonnull(want);
	open_all();
}

static void
str_teardown(void)
{
	close_all();
	test_rmtree(state);
	test_rmtree(backing);
	free(state);
	free(backing);
	free(piece);
	free(want);
}

/* A restart: the streams go, the catalog comes back from its files. */
static void
restart(void)
{
	close_all();
	open_all();
}

/* The byte at offset off of a stream written with seed: it changes with
 * the page and the chunk, so that bytes from the wrong place show. */
static unsigned char
pat(uint64_t off, unsigned seed)
{
	return (unsigned char)(off + (off >> 12) * 7 + (off >> 24) * 13 + seed);
}

static void
fill(unsigned char *buf, uint64_t off, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pat(off + i, seed);
}

/* A new stream, pending; its inode number. */
static uint64_t
pending(const char *name)
{
	struct stream_attr a;

	ck_assert_int_eq(streams_lookup(ss, name, 1, &a), 0);
	ck_assert_int_eq(a.state, STREAM_PENDING);
	return a.ino;
}

/* A new stream with a writer (UID, GID, 0640); its inode number. */
static uint64_t
writer(const char *name)
{
	uint64_t ino = pending(name);
	struct stream_attr a;

	ck_assert_int_eq(streams_open_write(ss, ino, UID, GID, S_IFREG | 0640, &a), 0);
	ck_assert_int_eq(a.state, STREAM_OPEN);
	return ino;
}

/* Append len bytes of the pattern at the end (off), in pieces. */
static void
append(uint64_t ino, uint64_t off, uint64_t len, unsigned seed)
{
	while (len > 0) {
		size_t n = len < PIECE ? (size_t)len : PIECE;

		fill(piece, off, n, seed);
		ck_assert_int_eq(streams_write(ss, ino, piece, n, (off_t)off), (ssize_t)n);
		off += n;
		len -= n;
	}
}

static uint64_t
size_of(uint64_t ino)
{
	struct stream_attr a;

	ck_assert_int_eq(streams_getattr(ss, ino, &a), 0);
	return a.size;
}

static enum stream_state
state_of(uint64_t ino)
{
	struct stream_attr a;

	ck_assert_int_eq(streams_getattr(ss, ino, &a), 0);
	return a.state;
}

/* Read len bytes at off as a reader does (streams_read, then pread on the
 * fd it gives) and compare them with the pattern. */
static void
read_is(uint64_t ino, uint64_t off, uint64_t len, unsigned seed)
{
	while (len > 0) {
		size_t ask = len < PIECE ? (size_t)len : PIECE, n = 0;
		uint64_t room = STREAM_CHUNK - off % STREAM_CHUNK;
		off_t fdoff = -1;
		int fd = -1;

		ck_assert_int_eq(streams_read(ss, ino, (off_t)off, ask, &fd, &fdoff, &n), 1);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(fdoff, (off_t)(off % STREAM_CHUNK));
		/* All that was asked, up to the chunk's end. */
		ck_assert_uint_eq(n, ask < room ? ask : room);
		ck_assert_int_eq(pread(fd, piece, n, fdoff), (ssize_t)n);
		fill(want, off, n, seed);
		ck_assert_msg(memcmp(piece, want, n) == 0, "other bytes at %llu", (unsigned long long)off);
		off += n;
		len -= n;
	}
}

/* streams_read's answer at off, asking for one byte. */
static int
read_rc(uint64_t ino, uint64_t off)
{
	off_t fdoff;
	size_t n;
	int fd;

	return streams_read(ss, ino, (off_t)off, 1, &fd, &fdoff, &n);
}

static void
stats(struct catalog_stats *st)
{
	catalog_stats(cat, st);
}

/* The parsed meta.json of object oid; caller decrefs. */
static json_t *
meta_of(uint64_t oid)
{
	char *text = NULL;
	size_t len = 0;
	json_t *tree;

	ck_assert_int_eq(catalog_read_generated(cat, ino_of(oid, INO_VIEW_META), &text, &len), 0);
	tree = json_loadb(text, len, 0, NULL);
	free(text);
	ck_assert_ptr_nonnull(tree);
	return tree;
}

static json_int_t
meta_int(json_t *tree, const char *key)
{
	json_t *v = json_object_get(tree, key);

	ck_assert_msg(json_is_integer(v), "meta.json has no integer %s", key);
	return json_integer_value(v);
}

/* Chunk member i of stream object oid: its blob id; asserts its size. */
static uint64_t
chunk_of(uint64_t oid, unsigned i, uint64_t size)
{
	struct catalog_attr a;
	char key[32];

	snprintf(key, sizeof key, "__chunk_-%u", i);
	ck_assert_int_eq(catalog_lookup(cat, oid, key, &a), 0);
	ck_assert(id_is_blob(a.ino));
	ck_assert_int_eq(a.sealed, 1);
	ck_assert_uint_eq(a.size, size);
	ck_assert_uint_eq(a.uid, UID);
	ck_assert_uint_eq(a.gid, GID);
	return a.ino;
}

/* The bytes of blob bid, through the catalog, against the pattern. */
static void
blob_is(uint64_t bid, uint64_t off, uint64_t len, unsigned seed)
{
	uint64_t got = 0, at = 0;
	int fd = -1;

	ck_assert_int_eq(catalog_open_data(cat, bid, 0, &got, &fd), 0);
	ck_assert_uint_eq(got, bid);
	while (at < len) {
		size_t n = len - at < PIECE ? (size_t)(len - at) : PIECE;

		ck_assert_int_eq(pread(fd, piece, n, (off_t)at), (ssize_t)n);
		fill(want, off + at, n, seed);
		ck_assert(memcmp(piece, want, n) == 0);
		at += n;
	}
	ck_assert_int_eq(pread(fd, piece, 1, (off_t)len), 0); /* no more */
	close(fd);
	catalog_release(cat, bid, 0);
}

static void
blob_path(uint64_t bid, char *buf, size_t len)
{
	char name[ID_STR_LEN + 1];

	id_format(bid, name);
	snprintf(buf, len, "%s/%s", backing, name);
}

/* ---- listings ---- */

#define MAXLIST 8

struct listing {
	char names[MAXLIST][64];
	struct stream_attr attrs[MAXLIST];
	int n;
	int stop_at;
};

static int
on_stream(void *arg, const char *name, const struct stream_attr *a)
{
	struct listing *l = arg;

	ck_assert_int_lt(l->n, MAXLIST);
	snprintf(l->names[l->n], sizeof l->names[0], "%s", name);
	l->attrs[l->n] = *a;
	l->n++;
	return l->n == l->stop_at ? 77 : 0;
}

static void
list(struct listing *l)
{
	memset(l, 0, sizeof *l);
	ck_assert_int_eq(streams_list(ss, on_stream, l), 0);
}

/* The attributes listed under name, or NULL; asserts at most one. */
static const struct stream_attr *
listed(const struct listing *l, const char *name)
{
	const struct stream_attr *a = NULL;
	int i, n = 0;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->names[i], name) == 0) {
			a = &l->attrs[i];
			n++;
		}
	ck_assert_msg(n <= 1, "\"%s\" listed %d times", name, n);
	return a;
}

/* ---- tests ---- */

START_TEST(test_lookup)
{
	char longname[CATALOG_NAME_MAX + 2];
	struct stream_attr a, b;
	uint64_t ino;

	ck_assert_str_eq(streams_state_name(STREAM_PENDING), "pending");
	ck_assert_str_eq(streams_state_name(STREAM_OPEN), "open");
	ck_assert_str_eq(streams_state_name(STREAM_COMPLETE), "complete");
	ck_assert_str_eq(streams_state_name(STREAM_FAILED), "failed");

	/* Without create: nothing there. */
	ck_assert_int_eq(streams_lookup(ss, "a", 0, &a), -ENOENT);
	/* With create: a pending stream, anyone's to write. */
	ck_assert_int_eq(streams_lookup(ss, "a", 1, &a), 0);
	ck_assert_int_eq(a.state, STREAM_PENDING);
	ck_assert_uint_eq(a.size, 0);
	ck_assert_uint_eq(a.chunks, 0);
	ck_assert_uint_eq(a.readers, 0);
	ck_assert_uint_eq(a.object_id, 0);
	ck_assert_uint_eq(a.mode, 0666);
	ck_assert_int_gt(a.ctime_ns, 0);
	ck_assert_str_eq(a.error, "");
	ino = a.ino;
	ck_assert(streams_is(ino));
	ck_assert_int_eq(ino_view(ino), INO_VIEW_STREAM);
	/* Found again, with or without create; getattr agrees. */
	ck_assert_int_eq(streams_lookup(ss, "a", 1, &b), 0);
	ck_assert_uint_eq(b.ino, ino);
	ck_assert_int_eq(streams_lookup(ss, "a", 0, &b), 0);
	ck_assert_uint_eq(b.ino, ino);
	ck_assert_int_eq(b.state, STREAM_PENDING);
	ck_assert_int_eq(streams_getattr(ss, ino, &b), 0);
	ck_assert_uint_eq(b.ino, ino);
	ck_assert_int_eq(b.ctime_ns, a.ctime_ns);
	/* Another name, another inode. */
	ck_assert_int_eq(streams_lookup(ss, "b", 1, &b), 0);
	ck_assert_uint_ne(b.ino, ino);
	ck_assert(streams_is(b.ino));
	ck_assert_int_eq(streams_getattr(ss, ino_of(12345, INO_VIEW_STREAM), &b), -ENOENT);

	/* Not stream inode numbers. */
	ck_assert(!streams_is(INO_ROOT));
	ck_assert(!streams_is(INO_STREAMS));
	ck_assert(!streams_is(ino_of(ino & ~INO_VIEW_MASK, INO_VIEW_META)));
	ck_assert(!streams_is(ID_BLOB_BIT | 1));

	/* Bad names, with or without create, make nothing. */
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	ck_assert_int_eq(streams_lookup(ss, "", 1, &a), -EINVAL);
	ck_assert_int_eq(streams_lookup(ss, "", 0, &a), -EINVAL);
	ck_assert_int_eq(streams_lookup(ss, "x/y", 1, &a), -EINVAL);
	ck_assert_int_eq(streams_lookup(ss, "/", 0, &a), -EINVAL);
	ck_assert_int_eq(streams_lookup(ss, longname, 1, &a), -EINVAL);
	ck_assert_int_eq(streams_lookup(ss, ".", 1, &a), -EINVAL);
	ck_assert_int_eq(streams_lookup(ss, "..", 1, &a), -EINVAL);
	longname[CATALOG_NAME_MAX] = '\0'; /* the longest there may be */
	ck_assert_int_eq(streams_lookup(ss, longname, 1, &a), 0);
	ck_assert_int_eq(streams_lookup(ss, "x", 0, &a), -ENOENT);
}
END_TEST

/* A restarted worker's streams take numbers past its predecessors'. */
START_TEST(test_numbers_after_restart)
{
	struct stream_attr a, b;
	streams_t *next;

	ck_assert_int_eq(streams_lookup(ss, "a", 1, &a), 0);
	ck_assert_int_eq(streams_create(cat, STREAM_SEQ_EPOCH, &next), 0);
	ck_assert_int_eq(streams_lookup(next, "a", 1, &b), 0);
	ck_assert(streams_is(b.ino));
	ck_assert_uint_eq(b.ino, ino_of((STREAM_SEQ_EPOCH + 1) << STREAM_INO_SHIFT, INO_VIEW_STREAM));
	ck_assert_uint_ne(b.ino, a.ino);
	streams_destroy(next);
}
END_TEST

START_TEST(test_list)
{
	struct listing l;
	uint64_t idle, watched, open, done;

	list(&l);
	ck_assert_int_eq(l.n, 0);
	/* An idle pending stream (a lookup, a stat) is not listed... */
	idle = pending("idle");
	watched = pending("watched");
	list(&l);
	ck_assert_int_eq(l.n, 0);
	/* ...one with a reader waiting is. */
	ck_assert_int_eq(streams_open_read(ss, watched), 0);
	open = writer("open");
	done = writer("done");
	append(done, 0, 10, 1);
	streams_close_write(ss, done, NULL);
	list(&l);
	ck_assert_int_eq(l.n, 3);
	ck_assert_ptr_null(listed(&l, "idle"));
	ck_assert_ptr_nonnull(listed(&l, "watched"));
	ck_assert_uint_eq(listed(&l, "watched")->ino, watched);
	ck_assert_int_eq(listed(&l, "watched")->state, STREAM_PENDING);
	ck_assert_uint_eq(listed(&l, "watched")->readers, 1);
	ck_assert_ptr_nonnull(listed(&l, "open"));
	ck_assert_uint_eq(listed(&l, "open")->ino, open);
	ck_assert_int_eq(listed(&l, "open")->state, STREAM_OPEN);
	ck_assert_uint_eq(listed(&l, "open")->uid, UID);
	ck_assert_ptr_nonnull(listed(&l, "done"));
	ck_assert_int_eq(listed(&l, "done")->state, STREAM_COMPLETE);
	ck_assert_uint_eq(listed(&l, "done")->size, 10);
	/* A non-zero return stops the listing and is returned. */
	memset(&l, 0, sizeof l);
	l.stop_at = 2;
	ck_assert_int_eq(streams_list(ss, on_stream, &l), 77);
	ck_assert_int_eq(l.n, 2);
	/* The reader goes: idle again. */
	streams_close_read(ss, watched);
	list(&l);
	ck_assert_int_eq(l.n, 2);
	ck_assert_ptr_null(listed(&l, "watched"));
	ck_assert_int_eq(state_of(idle), STREAM_PENDING);
	streams_close_write(ss, open, "test over");
}
END_TEST

START_TEST(test_open_write)
{
	struct stream_attr a;
	uint64_t ino, failed, cut;

	ino = pending("s");
	ck_assert_int_eq(streams_open_write(ss, ino, UID, GID, S_IFREG | 0640, &a), 0);
	ck_assert_uint_eq(a.ino, ino);
	ck_assert_int_eq(a.state, STREAM_OPEN);
	ck_assert_uint_eq(a.uid, UID);
	ck_assert_uint_eq(a.gid, GID);
	ck_assert_uint_eq(a.mode, 0640);
	/* One writer at a time. */
	ck_assert_int_eq(streams_open_write(ss, ino, 2000, 2000, 0600, &a), -EBUSY);
	ck_assert_int_eq(streams_getattr(ss, ino, &a), 0);
	ck_assert_uint_eq(a.uid, UID);
	ck_assert_int_eq(streams_open_write(ss, ino_of(777, INO_VIEW_STREAM), UID, GID, 0600, &a), -ENOENT);
	/* Complete, it takes no writer again. */
	append(ino, 0, 3, 0);
	streams_close_write(ss, ino, NULL);
	ck_assert_int_eq(state_of(ino), STREAM_COMPLETE);
	ck_assert_int_eq(streams_open_write(ss, ino, UID, GID, 0600, &a), -EPERM);
	/* Nor failed. */
	failed = writer("f");
	streams_close_write(ss, failed, "the writer died");
	ck_assert_int_eq(streams_getattr(ss, failed, &a), 0);
	ck_assert_int_eq(a.state, STREAM_FAILED);
	ck_assert_str_eq(a.error, "the writer died");
	ck_assert_int_eq(streams_open_write(ss, failed, UID, GID, 0600, &a), -EPERM);
	/* Failed while its writer is open: the writer may write no more, and
	 * its close does not complete it. */
	cut = writer("cut");
	append(cut, 0, 5, 0);
	streams_fail(ss, cut, "no memory");
	ck_assert_int_eq(state_of(cut), STREAM_FAILED);
	ck_assert_int_eq(streams_write(ss, cut, "x", 1, 5), -EIO);
	ck_assert_int_eq(streams_open_write(ss, cut, UID, GID, 0600, &a), -EPERM);
	streams_close_write(ss, cut, NULL);
	ck_assert_int_eq(streams_getattr(ss, cut, &a), 0);
	ck_assert_int_eq(a.state, STREAM_FAILED);
	ck_assert_str_eq(a.error, "no memory");
	ck_assert_uint_eq(a.object_id, 0);
	/* An unlinked stream is nobody's to write. */
	ck_assert_int_eq(streams_unlink(ss, "cut", UID), 0);
	ck_assert_int_eq(streams_open_write(ss, cut, UID, GID, 0600, &a), -ENOENT);
}
END_TEST

START_TEST(test_write_read)
{
	off_t fdoff = -1;
	size_t n = 0;
	uint64_t ino, idle;
	char buf[16];
	int fd = -1;

	/* Not open for writing: no writes. */
	idle = pending("idle");
	ck_assert_int_eq(streams_write(ss, idle, "x", 1, 0), -EBADF);
	ck_assert_int_eq(streams_write(ss, ino_of(777, INO_VIEW_STREAM), "x", 1, 0), -EBADF);
	ino = writer("s");
	/* In order only. */
	ck_assert_int_eq(streams_write(ss, ino, "hello", 5, 1), -EINVAL);
	ck_assert_int_eq(read_rc(ino, 0), -EAGAIN); /* nothing yet */
	ck_assert_int_eq(streams_write(ss, ino, "hello", 5, 0), 5);
	ck_assert_int_eq(streams_write(ss, ino, " world", 6, 3), -EINVAL);
	ck_assert_int_eq(streams_write(ss, ino, " world", 6, 6), -EINVAL);
	ck_assert_int_eq(streams_write(ss, ino, " world", 6, 5), 6);
	ck_assert_int_eq(streams_write(ss, ino, "", 0, 11), 0);
	ck_assert_uint_eq(size_of(ino), 11);
	/* What is there, read back through the chunk's fd. */
	ck_assert_int_eq(streams_read(ss, ino, 0, sizeof buf, &fd, &fdoff, &n), 1);
	ck_assert_uint_eq(n, 11);
	ck_assert_int_eq(fdoff, 0);
	memset(buf, 0, sizeof buf);
	ck_assert_int_eq(pread(fd, buf, n, fdoff), 11);
	ck_assert_str_eq(buf, "hello world");
	ck_assert_int_eq(streams_read(ss, ino, 6, 3, &fd, &fdoff, &n), 1);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(fdoff, 6);
	ck_assert_int_eq(pread(fd, buf, n, fdoff), 3);
	ck_assert_int_eq(memcmp(buf, "wor", 3), 0);
	/* Past the end while open: more may come. */
	ck_assert_int_eq(read_rc(ino, 11), -EAGAIN);
	ck_assert_int_eq(read_rc(ino, 1000), -EAGAIN);
	ck_assert_int_eq(read_rc(idle, 0), -EAGAIN);
	ck_assert_int_eq(read_rc(ino_of(777, INO_VIEW_STREAM), 0), -EBADF);
	/* Complete: the end is the end. */
	streams_close_write(ss, ino, NULL);
	ck_assert_int_eq(read_rc(ino, 11), 0);
	ck_assert_int_eq(read_rc(ino, 1000), 0);
	ck_assert_int_eq(streams_read(ss, ino, 0, sizeof buf, &fd, &fdoff, &n), 1);
	ck_assert_uint_eq(n, 11);
	ck_assert_int_eq(pread(fd, buf, n, fdoff), 11);
	ck_assert_int_eq(memcmp(buf, "hello world", 11), 0);
	/* No writer any more. */
	ck_assert_int_eq(streams_write(ss, ino, "!", 1, 11), -EBADF);
}
END_TEST

/* ~20 MiB in 1 MiB pieces, after a head that puts a piece across the
 * chunk boundary; reads ask across it; the catalog's counts follow. */
START_TEST(test_chunk_boundary)
{
	const uint64_t head = 4096 + 123, total = head + 20 * (uint64_t)MIB;
	const uint64_t end0 = STREAM_CHUNK; /* where chunk 1 starts */
	struct catalog_stats st0, st;
	struct stream_attr a;
	off_t fdoff0, fdoff1;
	size_t n0, n1;
	int fd0, fd1;
	uint64_t ino;

	stats(&st0);
	ck_assert_uint_eq(st0.blobs, 0);
	ck_assert_uint_eq(st0.memory_used, 0);
	ino = writer("big");
	append(ino, 0, head, 3);
	/* A chunk is reserved whole at its first byte. */
	ck_assert_int_eq(streams_getattr(ss, ino, &a), 0);
	ck_assert_uint_eq(a.chunks, 1);
	stats(&st);
	ck_assert_uint_eq(st.blobs, 1);
	ck_assert_uint_eq(st.blobs_unsealed, 1);
	ck_assert_uint_eq(st.memory_used, STREAM_CHUNK);
	append(ino, head, total - head, 3);
	ck_assert_int_eq(streams_getattr(ss, ino, &a), 0);
	ck_assert_uint_eq(a.size, total);
	ck_assert_uint_eq(a.chunks, 2);
	ck_assert_int_eq(a.state, STREAM_OPEN);
	stats(&st);
	ck_assert_uint_eq(st.blobs, 2);
	ck_assert_uint_eq(st.blobs_sealed, 0);
	ck_assert_uint_eq(st.blobs_unsealed, 2);
	ck_assert_uint_eq(st.objects, 0);
	ck_assert_uint_eq(st.memory_used, 2 * (uint64_t)STREAM_CHUNK);

	/* Every byte, in pieces that stop at the boundary. */
	read_is(ino, 0, total, 3);
	/* A read across the boundary gets up to the chunk's end... */
	ck_assert_int_eq(streams_read(ss, ino, (off_t)(end0 - 100), 1000, &fd0, &fdoff0, &n0), 1);
	ck_assert_uint_eq(n0, 100);
	ck_assert_int_eq(fdoff0, (off_t)(end0 - 100));
	/* ...and the next one the rest, from the next chunk's start. */
	ck_assert_int_eq(streams_read(ss, ino, (off_t)end0, 900, &fd1, &fdoff1, &n1), 1);
	ck_assert_uint_eq(n1, 900);
	ck_assert_int_eq(fdoff1, 0);
	ck_assert_int_ne(fd0, fd1);
	ck_assert_int_eq(pread(fd0, piece, n0, fdoff0), 100);
	ck_assert_int_eq(pread(fd1, piece + 100, n1, fdoff1), 900);
	fill(want, end0 - 100, 1000, 3);
	ck_assert(memcmp(piece, want, 1000) == 0);
	/* At the end: cut at the bytes there are; past it: later. */
	ck_assert_int_eq(streams_read(ss, ino, (off_t)(total - 10), 100, &fd1, &fdoff1, &n1), 1);
	ck_assert_uint_eq(n1, 10);
	ck_assert_int_eq(fdoff1, (off_t)(total - 10 - end0));
	ck_assert_int_eq(read_rc(ino, total), -EAGAIN);

	/* Complete: two sealed chunks, the last one trimmed. */
	streams_close_write(ss, ino, NULL);
	ck_assert_int_eq(streams_getattr(ss, ino, &a), 0);
	ck_assert_int_eq(a.state, STREAM_COMPLETE);
	ck_assert_uint_ne(a.object_id, 0);
	stats(&st);
	ck_assert_uint_eq(st.blobs, 2);
	ck_assert_uint_eq(st.blobs_sealed, 2);
	ck_assert_uint_eq(st.blobs_unsealed, 0);
	ck_assert_uint_eq(st.objects, 1);
	ck_assert_uint_eq(st.names, 1);
	ck_assert_uint_eq(st.seals, 2);
	ck_assert_uint_eq(st.discards, 0);
	ck_assert_uint_eq(st.memory_used, total);
	read_is(ino, 0, total, 3);
	ck_assert_int_eq(read_rc(ino, total), 0);
}
END_TEST

START_TEST(test_complete_object)
{
	const uint64_t total = STREAM_CHUNK + 5 * (uint64_t)MIB + 77;
	char oname[ID_STR_LEN + 1], bname[ID_STR_LEN + 1], *target = NULL;
	struct catalog_attr ca;
	struct stream_attr a;
	uint64_t ino, oid, c0, c1, ready = 0;
	json_t *tree, *m;

	ino = writer("s");
	append(ino, 0, total, 5);
	streams_close_write(ss, ino, NULL);
	ck_assert_int_eq(streams_getattr(ss, ino, &a), 0);
	ck_assert_int_eq(a.state, STREAM_COMPLETE);
	ck_assert_str_eq(a.error, "");
	oid = a.object_id;
	ck_assert_uint_ne(oid, 0);
	ck_assert(!id_is_blob(oid));
	ck_assert_uint_eq(id_instance(oid), INSTANCE);
	id_format(oid, oname);

	/* objects/o…: sealed, the writer's. */
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &ca), 0);
	ck_assert_uint_eq(ca.ino, oid);
	ck_assert(S_ISDIR(ca.mode));
	ck_assert_int_eq(catalog_getattr(cat, oid, &ca), 0);
	ck_assert_int_eq(ca.sealed, 1);
	ck_assert_uint_eq(ca.uid, UID);
	ck_assert_uint_eq(ca.gid, GID);
	ck_assert_uint_eq(ca.mode, S_IFDIR | 0750);
	/* Its meta.json: a ByteStream of two chunks. */
	tree = meta_of(oid);
	ck_assert_str_eq(json_string_value(json_object_get(tree, "typename")), "ByteStream");
	ck_assert_str_eq(json_string_value(json_object_get(tree, "id")), oname);
	ck_assert(json_is_true(json_object_get(tree, "sealed")));
	ck_assert_int_eq(meta_int(tree, "size_"), (json_int_t)total);
	ck_assert_int_eq(meta_int(tree, "chunks_"), 2);
	ck_assert_int_eq(meta_int(tree, "chunk_size_"), STREAM_CHUNK);
	ck_assert_int_eq(meta_int(tree, "nbytes"), (json_int_t)total);
	/* Its chunks: full, then trimmed to what was written. */
	c0 = chunk_of(oid, 0, STREAM_CHUNK);
	c1 = chunk_of(oid, 1, total - STREAM_CHUNK);
	ck_assert_int_eq(catalog_lookup(cat, oid, "__chunk_-2", &ca), -ENOENT);
	id_format(c1, bname);
	m = json_object_get(tree, "__chunk_-1");
	ck_assert_str_eq(json_string_value(json_object_get(m, "id")), bname);
	ck_assert_int_eq(meta_int(m, "nbytes"), (json_int_t)(total - STREAM_CHUNK));
	json_decref(tree);
	blob_is(c0, 0, STREAM_CHUNK, 5);
	blob_is(c1, STREAM_CHUNK, total - STREAM_CHUNK, 5);
	/* names/s: the stream's name names it, and it is ready. */
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "s", &ca), 0);
	ck_assert(S_ISLNK(ca.mode));
	ck_assert_uint_eq(ca.ino, ino_of(oid, INO_VIEW_NAME_LINK));
	ck_assert_int_eq(catalog_readlink(cat, ca.ino, &target), 0);
	ck_assert_str_eq(target + strlen("../objects/"), oname);
	free(target);
	ck_assert_int_eq(catalog_name_ready(cat, "s", &ready), 0);
	ck_assert_uint_eq(ready, oid);
}
END_TEST

START_TEST(test_complete_edges)
{
	struct catalog_attr ca;
	struct stream_attr a;
	uint64_t empty, whole, oid, bid = 0;
	int fd = -1;
	json_t *tree;

	/* Nothing written: an object of no chunks. */
	empty = writer("empty");
	streams_close_write(ss, empty, NULL);
	ck_assert_int_eq(streams_getattr(ss, empty, &a), 0);
	ck_assert_int_eq(a.state, STREAM_COMPLETE);
	ck_assert_int_eq(read_rc(empty, 0), 0);
	tree = meta_of(a.object_id);
	ck_assert_int_eq(meta_int(tree, "size_"), 0);
	ck_assert_int_eq(meta_int(tree, "chunks_"), 0);
	json_decref(tree);
	ck_assert_int_eq(catalog_lookup(cat, a.object_id, "__chunk_-0", &ca), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "empty", &ca), 0);

	/* Exactly one chunk: nothing to trim, no second chunk. */
	whole = writer("whole");
	append(whole, 0, STREAM_CHUNK, 6);
	ck_assert_int_eq(streams_getattr(ss, whole, &a), 0);
	ck_assert_uint_eq(a.chunks, 1);
	streams_close_write(ss, whole, NULL);
	ck_assert_int_eq(streams_getattr(ss, whole, &a), 0);
	ck_assert_int_eq(a.state, STREAM_COMPLETE);
	tree = meta_of(a.object_id);
	ck_assert_int_eq(meta_int(tree, "chunks_"), 1);
	json_decref(tree);
	chunk_of(a.object_id, 0, STREAM_CHUNK);
	ck_assert_int_eq(read_rc(whole, STREAM_CHUNK), 0);

	/* Its name taken in names/ already: made all the same, without it. */
	ck_assert_int_eq(catalog_create_blob_object(cat, "taken", UID, GID, 0644, &ca, &bid, &fd), 0);
	ck_assert_int_eq(pwrite(fd, "t", 1, 0), 1);
	close(fd);
	catalog_release(cat, bid, 1);
	oid = ino_id(ca.ino);
	empty = writer("taken");
	append(empty, 0, 100, 7);
	streams_close_write(ss, empty, NULL);
	ck_assert_int_eq(streams_getattr(ss, empty, &a), 0);
	ck_assert_int_eq(a.state, STREAM_COMPLETE);
	ck_assert_uint_ne(a.object_id, 0);
	ck_assert_uint_ne(a.object_id, oid);
	ck_assert_int_eq(catalog_getattr(cat, a.object_id, &ca), 0);
	ck_assert_int_eq(ca.sealed, 1);
	tree = meta_of(a.object_id);
	ck_assert_str_eq(json_string_value(json_object_get(tree, "typename")), "ByteStream");
	ck_assert_int_eq(meta_int(tree, "size_"), 100);
	json_decref(tree);
	chunk_of(a.object_id, 0, 100);
	/* names/taken is still the Blob object's. */
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "taken", &ca), 0);
	ck_assert_uint_eq(ca.ino, ino_of(oid, INO_VIEW_DATA));
	read_is(empty, 0, 100, 7);
}
END_TEST

START_TEST(test_read_states)
{
	struct stream_attr a;
	uint64_t p, f;

	/* A reader before the writer: nothing yet. */
	p = pending("p");
	ck_assert_int_eq(streams_open_read(ss, p), 0);
	ck_assert_int_eq(streams_getattr(ss, p, &a), 0);
	ck_assert_uint_eq(a.readers, 1);
	ck_assert_int_eq(read_rc(p, 0), -EAGAIN);
	ck_assert_int_eq(streams_open_write(ss, p, UID, GID, 0644, &a), 0);
	ck_assert_int_eq(read_rc(p, 0), -EAGAIN);
	append(p, 0, 1000, 8);
	read_is(p, 0, 1000, 8);
	ck_assert_int_eq(read_rc(p, 1000), -EAGAIN);
	streams_close_write(ss, p, NULL);
	ck_assert_int_eq(read_rc(p, 1000), 0);
	streams_close_read(ss, p);
	ck_assert_int_eq(streams_getattr(ss, p, &a), 0);
	ck_assert_uint_eq(a.readers, 0);
	ck_assert_int_eq(streams_open_read(ss, ino_of(777, INO_VIEW_STREAM)), -ENOENT);

	/* Failed: the bytes before stay readable, then EIO. */
	f = writer("f");
	ck_assert_int_eq(streams_open_read(ss, f), 0);
	append(f, 0, STREAM_CHUNK + 10, 9);
	streams_close_write(ss, f, "killed");
	ck_assert_int_eq(streams_getattr(ss, f, &a), 0);
	ck_assert_int_eq(a.state, STREAM_FAILED);
	ck_assert_str_eq(a.error, "killed");
	ck_assert_uint_eq(a.size, STREAM_CHUNK + 10);
	ck_assert_uint_eq(a.object_id, 0);
	read_is(f, 0, STREAM_CHUNK + 10, 9);
	ck_assert_int_eq(read_rc(f, STREAM_CHUNK + 10), -EIO);
	ck_assert_int_eq(read_rc(f, 5 * (uint64_t)STREAM_CHUNK), -EIO);
	/* No object came of it. */
	{
		struct catalog_attr ca;
		struct catalog_stats st;

		ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "f", &ca), -ENOENT);
		stats(&st);
		ck_assert_uint_eq(st.objects, 1); /* p's */
		ck_assert_uint_eq(st.blobs_unsealed, 2);
	}
	streams_close_read(ss, f);
}
END_TEST

START_TEST(test_unlink_complete)
{
	const uint64_t total = STREAM_CHUNK + 3 * (uint64_t)MIB;
	char path0[PATH_MAX], path1[PATH_MAX], oname[ID_STR_LEN + 1];
	struct catalog_attr ca;
	struct catalog_stats st;
	struct stream_attr a;
	uint64_t ino, oid, c0, c1;

	ino = writer("s");
	append(ino, 0, total, 10);
	streams_close_write(ss, ino, NULL);
	ck_assert_int_eq(streams_getattr(ss, ino, &a), 0);
	oid = a.object_id;
	id_format(oid, oname);
	c0 = chunk_of(oid, 0, STREAM_CHUNK);
	c1 = chunk_of(oid, 1, total - STREAM_CHUNK);
	blob_path(c0, path0, sizeof path0);
	blob_path(c1, path1, sizeof path1);
	ck_assert(test_exists(path0));
	ck_assert(test_exists(path1));
	stats(&st);
	ck_assert_uint_eq(st.memory_used, total);

	/* Not anyone's to remove. */
	ck_assert_int_eq(streams_unlink(ss, "s", 2000), -EACCES);
	ck_assert_int_eq(streams_lookup(ss, "s", 0, &a), 0);
	ck_assert_int_eq(catalog_getattr(cat, oid, &ca), 0);
	ck_assert_int_eq(streams_unlink(ss, "nope", UID), -ENOENT);

	/* The writer's: the stream, its object and its chunks go. */
	ck_assert_int_eq(streams_unlink(ss, "s", UID), 0);
	ck_assert_int_eq(streams_lookup(ss, "s", 0, &a), -ENOENT);
	ck_assert_int_eq(streams_getattr(ss, ino, &a), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, oid, &ca), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_OBJECTS, oname, &ca), -ENOENT);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "s", &ca), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, c0, &ca), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, c1, &ca), -ENOENT);
	ck_assert(!test_exists(path0));
	ck_assert(!test_exists(path1));
	ck_assert_int_eq(was_freed(c0), 1);
	ck_assert_int_eq(was_freed(c1), 1);
	stats(&st);
	ck_assert_uint_eq(st.objects, 0);
	ck_assert_uint_eq(st.blobs, 0);
	ck_assert_uint_eq(st.names, 0);
	ck_assert_uint_eq(st.memory_used, 0);
	ck_assert_int_eq(streams_unlink(ss, "s", UID), -ENOENT);
	/* The name is free for a new stream. */
	ck_assert_uint_ne(pending("s"), ino);

	/* Its object deleted already (names/t removed): the stream goes. */
	ino = writer("t");
	append(ino, 0, 10, 10);
	streams_close_write(ss, ino, NULL);
	ck_assert_int_eq(catalog_unlink(cat, INO_NAMES, "t", UID), 0);
	ck_assert_int_eq(streams_unlink(ss, "t", UID), 0);
	ck_assert_int_eq(streams_lookup(ss, "t", 0, &a), -ENOENT);
	stats(&st);
	ck_assert_uint_eq(st.objects, 0);
	ck_assert_uint_eq(st.memory_used, 0);
}
END_TEST

START_TEST(test_unlink_failed)
{
	struct catalog_stats st;
	struct stream_attr a;
	struct listing l;
	uint64_t ino;

	ino = writer("f");
	append(ino, 0, STREAM_CHUNK + MIB, 11);
	streams_close_write(ss, ino, "killed");
	ck_assert_int_eq(state_of(ino), STREAM_FAILED);
	list(&l);
	ck_assert_ptr_nonnull(listed(&l, "f"));
	ck_assert_int_eq(listed(&l, "f")->state, STREAM_FAILED);
	stats(&st);
	ck_assert_uint_eq(st.blobs, 2);
	ck_assert_uint_eq(st.blobs_unsealed, 2);
	ck_assert_uint_eq(st.memory_used, 2 * (uint64_t)STREAM_CHUNK);
	ck_assert_uint_eq(hk.freed.n, 0);
	/* Its chunks are discarded, their memory back. */
	ck_assert_int_eq(streams_unlink(ss, "f", UID), 0);
	ck_assert_int_eq(streams_lookup(ss, "f", 0, &a), -ENOENT);
	ck_assert_int_eq(streams_getattr(ss, ino, &a), -ENOENT);
	stats(&st);
	ck_assert_uint_eq(st.blobs, 0);
	ck_assert_uint_eq(st.blobs_unsealed, 0);
	ck_assert_uint_eq(st.memory_used, 0);
	ck_assert_uint_eq(st.discards, 2);
	ck_assert_uint_eq(st.objects, 0);
	ck_assert_uint_eq(hk.freed.n, 2);
	list(&l);
	ck_assert_int_eq(l.n, 0);
}
END_TEST

START_TEST(test_unlink_busy)
{
	struct stream_attr a;
	uint64_t ino;

	ino = writer("w");
	append(ino, 0, 10, 12);
	ck_assert_int_eq(streams_unlink(ss, "w", UID), -EBUSY);
	ck_assert_int_eq(streams_unlink(ss, "w", 0), -EBUSY);
	ck_assert_int_eq(state_of(ino), STREAM_OPEN);
	append(ino, 10, 10, 12); /* undisturbed */
	/* Failed, its writer still open: still busy. */
	streams_fail(ss, ino, "gave up");
	ck_assert_int_eq(streams_unlink(ss, "w", UID), -EBUSY);
	streams_close_write(ss, ino, NULL);
	ck_assert_int_eq(streams_unlink(ss, "w", UID), 0);
	ck_assert_int_eq(streams_lookup(ss, "w", 0, &a), -ENOENT);
	/* A pending one goes at once. */
	pending("p");
	ck_assert_int_eq(streams_unlink(ss, "p", UID), 0);
	ck_assert_int_eq(streams_lookup(ss, "p", 0, &a), -ENOENT);
	/* One with a reader waiting: no writer can come any more, so the
	 * reader gets EIO rather than waiting for ever. */
	ino = pending("q");
	ck_assert_int_eq(streams_open_read(ss, ino), 0);
	ck_assert_int_eq(read_rc(ino, 0), -EAGAIN);
	ck_assert_int_eq(streams_unlink(ss, "q", UID), 0);
	ck_assert_int_eq(streams_lookup(ss, "q", 0, &a), -ENOENT);
	ck_assert_int_eq(streams_open_write(ss, ino, UID, GID, 0644, &a), -ENOENT);
	ck_assert_int_eq(streams_getattr(ss, ino, &a), 0);
	ck_assert_int_eq(a.state, STREAM_FAILED);
	ck_assert_str_eq(a.error, "removed before a writer came");
	ck_assert_int_eq(read_rc(ino, 0), -EIO);
	streams_close_read(ss, ino);
	ck_assert_int_eq(streams_getattr(ss, ino, &a), -ENOENT);
}
END_TEST

START_TEST(test_unlink_while_read)
{
	const uint64_t total = STREAM_CHUNK + 2 * (uint64_t)MIB;
	char path[PATH_MAX];
	struct catalog_attr ca;
	struct catalog_stats st;
	struct stream_attr a;
	struct listing l;
	uint64_t ino, oid, c1, again, f;

	ino = writer("s");
	append(ino, 0, total, 13);
	streams_close_write(ss, ino, NULL);
	ck_assert_int_eq(streams_getattr(ss, ino, &a), 0);
	oid = a.object_id;
	c1 = chunk_of(oid, 1, total - STREAM_CHUNK);
	blob_path(c1, path, sizeof path);
	ck_assert_int_eq(streams_open_read(ss, ino), 0);
	ck_assert_int_eq(streams_unlink(ss, "s", UID), 0);
	/* Gone from the namespace and the catalog... */
	ck_assert_int_eq(streams_lookup(ss, "s", 0, &a), -ENOENT);
	list(&l);
	ck_assert_ptr_null(listed(&l, "s"));
	ck_assert_int_eq(catalog_getattr(cat, oid, &ca), -ENOENT);
	ck_assert(!test_exists(path));
	stats(&st);
	ck_assert_uint_eq(st.objects, 0);
	ck_assert_uint_eq(st.blobs, 0);
	ck_assert_int_eq(streams_open_read(ss, ino), -ENOENT); /* no new readers */
	/* ...a new stream may take its name... */
	again = pending("s");
	ck_assert_uint_ne(again, ino);
	/* ...but the open reader still reads every byte, and the end. */
	ck_assert_int_eq(streams_getattr(ss, ino, &a), 0);
	ck_assert_int_eq(a.state, STREAM_COMPLETE);
	ck_assert_uint_eq(a.readers, 1);
	read_is(ino, 0, total, 13);
	ck_assert_int_eq(read_rc(ino, total), 0);
	/* Until it closes. */
	streams_close_read(ss, ino);
	ck_assert_int_eq(streams_getattr(ss, ino, &a), -ENOENT);
	ck_assert_int_eq(read_rc(ino, 0), -EBADF);
	ck_assert_int_eq(streams_lookup(ss, "s", 0, &a), 0);
	ck_assert_uint_eq(a.ino, again);

	/* The same for a failed one: its bytes, then EIO. */
	f = writer("f");
	append(f, 0, 1000, 14);
	streams_close_write(ss, f, "killed");
	ck_assert_int_eq(streams_open_read(ss, f), 0);
	ck_assert_int_eq(streams_unlink(ss, "f", UID), 0);
	stats(&st);
	ck_assert_uint_eq(st.blobs, 0);
	ck_assert_uint_eq(st.memory_used, 0);
	read_is(f, 0, 1000, 14);
	ck_assert_int_eq(read_rc(f, 1000), -EIO);
	streams_close_read(ss, f);
	ck_assert_int_eq(streams_getattr(ss, f, &a), -ENOENT);
}
END_TEST

START_TEST(test_enospc)
{
	struct catalog_stats st;
	struct stream_attr a;
	uint64_t big, w, c;

	/* 40 MiB: room for two chunks, not three. The backing directory is
	 * not a tmpfs of the catalog's own, so the catalog counts. */
	close_all();
	cfg.memory_limit = 40 * MIB;
	open_all();
	big = writer("big");
	append(big, 0, STREAM_CHUNK + MIB, 15);
	stats(&st);
	ck_assert_uint_eq(st.memory_used, 32 * MIB);

	/* A write that needs a third chunk: nothing written. */
	w = writer("w");
	ck_assert_int_eq(streams_write(ss, w, piece, MIB, 0), -ENOSPC);
	ck_assert_int_eq(streams_getattr(ss, w, &a), 0);
	ck_assert_int_eq(a.state, STREAM_OPEN);
	ck_assert_uint_eq(a.size, 0);
	ck_assert_uint_eq(a.chunks, 0);
	ck_assert_int_eq(read_rc(w, 0), -EAGAIN);
	stats(&st);
	ck_assert_uint_eq(st.blobs, 2);
	ck_assert_uint_eq(st.blobs_unsealed, 2);
	ck_assert_uint_eq(st.memory_used, 32 * MIB);
	ck_assert_uint_eq(st.discards, 1); /* the chunk it could not reserve */
	ck_assert_uint_eq(hk.freed.n, 1);
	ck_assert_int_eq(streams_write(ss, w, piece, 1, 0), -ENOSPC); /* still */

	/* big completes: its last chunk shrinks to 1 MiB, room for one. */
	streams_close_write(ss, big, NULL);
	ck_assert_int_eq(state_of(big), STREAM_COMPLETE);
	stats(&st);
	ck_assert_uint_eq(st.memory_used, STREAM_CHUNK + MIB);
	append(w, 0, MIB, 16);
	stats(&st);
	ck_assert_uint_eq(st.memory_used, 2 * (uint64_t)STREAM_CHUNK + MIB);
	c = writer("c");
	ck_assert_int_eq(streams_write(ss, c, piece, 10, 0), -ENOSPC);
	/* Memory freed (big unlinked, its object deleted): c goes on. */
	ck_assert_int_eq(streams_unlink(ss, "big", UID), 0);
	stats(&st);
	ck_assert_uint_eq(st.memory_used, STREAM_CHUNK);
	append(c, 0, 10, 17);
	stats(&st);
	ck_assert_uint_eq(st.memory_used, 2 * (uint64_t)STREAM_CHUNK);

	/* A write that fills a chunk and needs the next: the bytes that fit. */
	append(w, MIB, STREAM_CHUNK - MIB - 10, 16);
	fill(piece, STREAM_CHUNK - 10, 100, 16);
	ck_assert_int_eq(streams_write(ss, w, piece, 100, STREAM_CHUNK - 10), 10);
	ck_assert_uint_eq(size_of(w), STREAM_CHUNK);
	ck_assert_int_eq(streams_write(ss, w, piece + 10, 90, STREAM_CHUNK), -ENOSPC);
	ck_assert_uint_eq(size_of(w), STREAM_CHUNK);
	read_is(w, 0, STREAM_CHUNK, 16);
	/* Failed and removed, its memory comes back for c. */
	streams_close_write(ss, w, "gave up");
	ck_assert_int_eq(streams_unlink(ss, "w", UID), 0);
	stats(&st);
	ck_assert_uint_eq(st.memory_used, STREAM_CHUNK);
	append(c, 10, STREAM_CHUNK, 17);
	ck_assert_int_eq(streams_getattr(ss, c, &a), 0);
	ck_assert_uint_eq(a.chunks, 2);
	streams_close_write(ss, c, NULL);
	ck_assert_int_eq(state_of(c), STREAM_COMPLETE);
	stats(&st);
	ck_assert_uint_eq(st.memory_used, STREAM_CHUNK + 10);
	read_is(c, 0, STREAM_CHUNK + 10, 17);
}
END_TEST

struct blobs_seen {
	uint64_t ids[8];
	int sealed[8];
	int n;
};

static int
on_blob(void *arg, const char *name, const struct catalog_attr *a)
{
	struct blobs_seen *b = arg;
	uint64_t id;

	ck_assert_int_eq(id_parse(name, &id), 0);
	ck_assert_int_lt(b->n, 8);
	b->ids[b->n] = id;
	b->sealed[b->n] = a->sealed;
	b->n++;
	return 0;
}

/* rm -r of an object stream unlinks its entries first: hidden, nothing
 * deleted, and only once the stream is closed, by its owner or root. */
static int
count_entry(void *arg, const char *name, uint64_t ino, uint64_t id)
{
	(void)name, (void)ino, (void)id;
	(*(unsigned *)arg)++;
	return 0;
}

START_TEST(test_object_entry_unlink)
{
	struct catalog_attr ca;
	struct stream_attr a;
	uint64_t bid, oid, os, ino, id;
	unsigned n = 0;
	int fd;

	ck_assert_int_eq(catalog_create_blob_object(cat, "x", UID, GID, 0644, &ca, &bid, &fd), 0);
	ck_assert_int_eq(pwrite(fd, "x", 1, 0), 1);
	close(fd);
	catalog_release(cat, bid, 1);
	oid = ino_id(ca.ino);
	ck_assert_int_eq(streams_objects_open(ss, "os", UID, GID, 0644, &os), 0);
	ck_assert_int_ge(streams_push(ss, os, UID, oid), 0);
	ck_assert_int_eq(streams_entry_unlink(ss, os, "0", UID), -EBUSY); /* still open */
	streams_close_write(ss, os, NULL);
	ck_assert_int_eq(streams_getattr(ss, os, &a), 0);
	ck_assert_int_eq(a.state, STREAM_COMPLETE);
	ck_assert_int_eq(streams_entry_unlink(ss, os, "0", 2000), -EACCES);
	ck_assert_int_eq(streams_entry_unlink(ss, os, "1", UID), -ENOENT);
	ck_assert_int_eq(streams_entry_unlink(ss, os, "0", UID), 0);
	ck_assert_int_eq(streams_entry_lookup(ss, os, "0", &ino, &id), -ENOENT);
	ck_assert_int_eq(streams_entries(ss, os, count_entry, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(streams_entry_unlink(ss, os, "0", UID), -ENOENT);
	/* Nothing deleted yet: the object is there until the stream goes. */
	ck_assert_int_eq(catalog_getattr(cat, ino_of(oid, INO_VIEW_OBJECT), &ca), 0);
	ck_assert_int_eq(streams_unlink(ss, "os", UID), 0);
}
END_TEST

START_TEST(test_restart)
{
	const uint64_t total = STREAM_CHUNK + 4 * (uint64_t)MIB + 3;
	char path[PATH_MAX];
	struct catalog_attr ca;
	struct catalog_stats st;
	struct stream_attr a;
	struct blobs_seen seen;
	uint64_t done, torn, failed, oid, c0, c1;
	json_t *tree;
	int i;

	done = writer("done");
	append(done, 0, total, 18);
	streams_close_write(ss, done, NULL);
	ck_assert_int_eq(streams_getattr(ss, done, &a), 0);
	oid = a.object_id;
	c0 = chunk_of(oid, 0, STREAM_CHUNK);
	c1 = chunk_of(oid, 1, total - STREAM_CHUNK);
	torn = writer("torn");
	append(torn, 0, 2 * MIB, 19);
	failed = writer("failed");
	append(failed, 0, MIB, 20);
	streams_close_write(ss, failed, "killed");
	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(catalog_list(cat, INO_BLOBS, on_blob, &seen), 0);
	ck_assert_int_eq(seen.n, 4);
	stats(&st);
	ck_assert_uint_eq(st.blobs_sealed, 2);
	ck_assert_uint_eq(st.blobs_unsealed, 2);
	for (i = 0; i < seen.n; i++) {
		blob_path(seen.ids[i], path, sizeof path);
		ck_assert(test_exists(path));
	}

	restart();
	/* Streams live in memory: none is left... */
	ck_assert_int_eq(streams_lookup(ss, "done", 0, &a), -ENOENT);
	ck_assert_int_eq(streams_lookup(ss, "torn", 0, &a), -ENOENT);
	ck_assert_int_eq(streams_getattr(ss, torn, &a), -ENOENT);
	/* ...the unfinished ones' chunks are gone... */
	for (i = 0; i < seen.n; i++) {
		blob_path(seen.ids[i], path, sizeof path);
		ck_assert_int_eq(test_exists(path), seen.sealed[i]);
		ck_assert_int_eq(catalog_getattr(cat, seen.ids[i], &ca), seen.sealed[i] ? 0 : -ENOENT);
	}
	stats(&st);
	ck_assert_uint_eq(st.blobs, 2);
	ck_assert_uint_eq(st.blobs_sealed, 2);
	ck_assert_uint_eq(st.blobs_unsealed, 0);
	ck_assert_uint_eq(st.objects, 1);
	ck_assert_uint_eq(st.names, 1);
	ck_assert_uint_eq(st.memory_used, total);
	/* ...and the complete one's object stays, whole. */
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "done", &ca), 0);
	ck_assert_uint_eq(ca.ino, ino_of(oid, INO_VIEW_NAME_LINK));
	tree = meta_of(oid);
	ck_assert_str_eq(json_string_value(json_object_get(tree, "typename")), "ByteStream");
	ck_assert_int_eq(meta_int(tree, "size_"), (json_int_t)total);
	ck_assert_int_eq(meta_int(tree, "chunks_"), 2);
	json_decref(tree);
	ck_assert_uint_eq(chunk_of(oid, 0, STREAM_CHUNK), c0);
	ck_assert_uint_eq(chunk_of(oid, 1, total - STREAM_CHUNK), c1);
	blob_is(c0, 0, STREAM_CHUNK, 18);
	blob_is(c1, STREAM_CHUNK, total - STREAM_CHUNK, 18);

	/* A new stream of an old name: names/done is taken, by id only. */
	done = writer("done");
	append(done, 0, 10, 21);
	streams_close_write(ss, done, NULL);
	ck_assert_int_eq(streams_getattr(ss, done, &a), 0);
	ck_assert_int_eq(a.state, STREAM_COMPLETE);
	ck_assert_uint_ne(a.object_id, oid);
	ck_assert_int_eq(catalog_lookup(cat, INO_NAMES, "done", &ca), 0);
	ck_assert_uint_eq(ca.ino, ino_of(oid, INO_VIEW_NAME_LINK));
	/* And its unlink removes its own object, not the named one. */
	c0 = a.object_id;
	ck_assert_int_eq(streams_unlink(ss, "done", UID), 0);
	ck_assert_int_eq(catalog_getattr(cat, c0, &ca), -ENOENT);
	ck_assert_int_eq(catalog_getattr(cat, oid, &ca), 0);
}
END_TEST

Suite *
stream_suite(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("stream");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, test_root_setup, test_root_teardown);
	tcase_add_checked_fixture(tc, str_setup, str_teardown);
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_numbers_after_restart);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_open_write);
	tcase_add_test(tc, test_write_read);
	tcase_add_test(tc, test_chunk_boundary);
	tcase_add_test(tc, test_complete_object);
	tcase_add_test(tc, test_complete_edges);
	tcase_add_test(tc, test_read_states);
	tcase_add_test(tc, test_unlink_complete);
	tcase_add_test(tc, test_unlink_failed);
	tcase_add_test(tc, test_unlink_busy);
	tcase_add_test(tc, test_unlink_while_read);
	tcase_add_test(tc, test_enospc);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_object_entry_unlink);
	suite_add_tcase(s, tc);
	return s;
}
