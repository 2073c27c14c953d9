/*
 * check_fs: unit tests of the FUSE layer without a mount: which kind
 * serves each class of inode number (node_of), the root's table of
 * entries, and the lifetimes of handles. A catalog in a scratch directory
 * answers for the catalog's inodes.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "fs/fuse_ext.h"
#include "fs/iochain.h"
#include "fs/node.h"
#include "fs/passthrough.h"
#include "fs/supervisor.h"

#define TEST_TIMEOUT 60

static char root[PATH_MAX];

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

/* A catalog in a scratch directory, as fs.cat. */
static void
setup(void)
{
	struct catalog_config cfg;
	char state[PATH_MAX + 8], mem[PATH_MAX + 8];

	strcpy(root, "/dev/shm/vineyardfs-check-fs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(state, sizeof state, "%s/state", root);
	snprintf(mem, sizeof mem, "%s/mem", root);
	ck_assert_int_eq(mkdir(state, 0755), 0);
	ck_assert_int_eq(mkdir(mem, 0755), 0);
	memset(&cfg, 0, sizeof cfg);
	cfg.state_dir = state;
	cfg.backing_dir = mem;
	cfg.memory_limit = 64 << 20;
	cfg.instance_id = 7;
	ck_assert_int_eq(catalog_open(&cfg, &fs.cat), 0);
	fs.start_ns = util_now_ns();
}

static void
teardown(void)
{
	catalog_close(fs.cat);
	fs.cat = NULL;
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- node_of ---- */

START_TEST(test_node_of_fixed)
{
	ck_assert_ptr_eq(node_of(INO_ROOT), &root_node);
	ck_assert_ptr_eq(node_of(INO_OBJECTS), &catnode_node);
	ck_assert_ptr_eq(node_of(INO_BLOBS), &catnode_node);
	ck_assert_ptr_eq(node_of(INO_NAMES), &catnode_node);
	ck_assert_ptr_eq(node_of(INO_CONTROL), &control_dir_node);
	ck_assert_ptr_eq(node_of(INO_STREAMS), &streamnode_dir);
	ck_assert_ptr_eq(node_of(INO_STATS), &control_file_node);
	ck_assert_ptr_eq(node_of(INO_VERSION), &control_file_node);
	ck_assert_ptr_eq(node_of(INO_CTL), &control_file_node);
	ck_assert_ptr_eq(node_of(INO_CONTROL_LAST), &control_file_node);
	/* Numbers nothing has: the catalog answers ENOENT for them. */
	ck_assert_ptr_eq(node_of(0), &catnode_node);
	ck_assert_ptr_eq(node_of(INO_LAST_DIR + 1), &catnode_node);
	ck_assert_ptr_eq(node_of(INO_CONTROL_FIRST - 1), &catnode_node);
	ck_assert_int_eq(ino_class(0), INO_CLASS_NONE);
	ck_assert_int_eq(ino_class(INO_ROOT), INO_CLASS_DIR);
	ck_assert_int_eq(ino_class(INO_LAST_DIR), INO_CLASS_DIR);
	ck_assert_int_eq(ino_class(INO_CTL), INO_CLASS_CONTROL);
	ck_assert_int_eq(ino_class(INO_CONTROL_LAST + 1), INO_CLASS_OBJECT);
}
END_TEST

START_TEST(test_node_of_ids)
{
	struct id_gen g;
	uint64_t o, b, s;
	enum ino_view v;

	id_gen_init(&g, 7, 0);
	o = id_next_object(&g);
	b = id_next_blob(&g);
	ck_assert_uint_gt(o, INO_CONTROL_LAST);
	ck_assert_int_eq(ino_class(b), INO_CLASS_BLOB);
	ck_assert_ptr_eq(node_of(b), &catnode_node);
	for (v = INO_VIEW_OBJECT; v <= INO_VIEW_MEMBER_LINK; v++) {
		ck_assert_int_eq(ino_class(ino_of(o, v)), INO_CLASS_OBJECT);
		ck_assert_ptr_eq(node_of(ino_of(o, v)), &catnode_node);
	}
	/* A stream and its object stream's entries. */
	s = ino_of((uint64_t)3 << INO_STREAM_SHIFT, INO_VIEW_STREAM);
	ck_assert_int_eq(ino_class(s), INO_CLASS_STREAM);
	ck_assert(ino_is_stream(s));
	ck_assert(ino_is_stream(s + 1));
	ck_assert(!ino_is_stream(o));
	ck_assert(!ino_is_stream(b));
	ck_assert(!ino_is_stream(INO_STREAMS));
	ck_assert_ptr_eq(node_of(s), &streamnode_node);
	ck_assert_ptr_eq(node_of(s + 1), &streamnode_node);
	ck_assert_int_eq(streams_is(s), ino_is_stream(s));
}
END_TEST

/* Every kind answers getattr; the kinds whose files change under the
 * kernel say so. */
START_TEST(test_node_kinds)
{
	const struct fs_node_ops *kinds[] = { &root_node, &catnode_node, &control_dir_node,
		&control_file_node, &streamnode_dir, &streamnode_node };
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		ck_assert_ptr_nonnull(kinds[i]->name);
		ck_assert_ptr_nonnull(kinds[i]->getattr);
	}
	ck_assert(control_file_node.uncached);
	ck_assert(streamnode_node.uncached);
	ck_assert(!catnode_node.uncached);
	/* Only streams come and go with the kernel's references. */
	ck_assert_ptr_null(catnode_node.forget);
	ck_assert_ptr_nonnull(streamnode_node.forget);
	/* Files are not directories. */
	ck_assert_ptr_null(control_file_node.lookup);
	ck_assert_ptr_null(control_file_node.list);
}
END_TEST

/* ---- the root's table ---- */

struct seen {
	char names[8][16];
	struct catalog_attr attrs[8];
	int n;
};

static int
collect(void *arg, const char *name, const struct catalog_attr *a)
{
	struct seen *s = arg;

	ck_assert_int_lt(s->n, 8);
	snprintf(s->names[s->n], sizeof s->names[0], "%s", name);
	s->attrs[s->n++] = *a;
	return 0;
}

static int
stop_at_two(void *arg, const char *name, const struct catalog_attr *a)
{
	int *n = arg;

	(void)name, (void)a;
	return ++*n == 2 ? -EINTR : 0;
}

START_TEST(test_root_table)
{
	static const struct {
		const char *name;
		fuse_ino_t ino;
		mode_t mode;
	} want[] = {
		{ "objects", INO_OBJECTS, S_IFDIR | 01777 },
		{ "blobs", INO_BLOBS, S_IFDIR | 0555 },
		{ "names", INO_NAMES, S_IFDIR | 01777 },
		{ ".vineyardfs", INO_CONTROL, S_IFDIR | 0555 },
		{ "streams", INO_STREAMS, S_IFDIR | 01777 },
	};
	struct seen s = { .n = 0 };
	struct catalog_attr a;
	int i, n = 0;

	ck_assert_int_eq(root_node.list(INO_ROOT, collect, &s), 0);
	ck_assert_int_eq(s.n, 5);
	for (i = 0; i < 5; i++) {
		const struct root_entry *e = root_entry_find(want[i].name);

		ck_assert_str_eq(s.names[i], want[i].name);
		ck_assert_uint_eq(s.attrs[i].ino, want[i].ino);
		ck_assert_uint_eq(s.attrs[i].mode, want[i].mode);
		ck_assert_uint_eq(s.attrs[i].nlink, 2);
		ck_assert(s.attrs[i].sealed); /* the kernel may cache it */
		ck_assert_ptr_nonnull(e);
		ck_assert_ptr_eq(e, root_entry_at((size_t)i));
		ck_assert_uint_eq(e->ino, want[i].ino);
		ck_assert_ptr_eq(e->kind, node_of(want[i].ino));
		ck_assert_ptr_eq(root_kind_of(want[i].ino), e->kind);
	}
	ck_assert_ptr_null(root_entry_at(5));
	/* Unknown names, and names of other directories. */
	ck_assert_ptr_null(root_entry_find("other"));
	ck_assert_ptr_null(root_entry_find(""));
	ck_assert_ptr_null(root_entry_find("ctl"));
	ck_assert_ptr_null(root_entry_find("Objects"));
	ck_assert_ptr_null(root_kind_of(INO_ROOT));
	ck_assert_ptr_null(root_kind_of(INO_CTL));
	/* A listing callback's error stops the listing and is returned. */
	ck_assert_int_eq(root_node.list(INO_ROOT, stop_at_two, &n), -EINTR);
	ck_assert_int_eq(n, 2);
	/* Of the fixed directories, the fs layer keeps only its own. */
	ck_assert_int_eq(root_dir_getattr(INO_STREAMS, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFDIR | 01777);
	ck_assert_int_eq(root_dir_getattr(INO_OBJECTS, &a), -ENOENT);
	ck_assert_int_eq(root_dir_getattr(INO_ROOT, &a), -ENOENT);
	/* The root itself is the catalog's. */
	ck_assert_int_eq(root_node.getattr(INO_ROOT, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFDIR | 0755);
}
END_TEST

START_TEST(test_control_dir)
{
	struct seen s = { .n = 0 };
	struct catalog_attr a;
	int i;

	ck_assert_int_eq(control_dir_node.list(INO_CONTROL, collect, &s), 0);
	ck_assert_int_eq(s.n, 5); /* ctl, stats, version, cluster, metrics */
	for (i = 0; i < s.n; i++) {
		ck_assert(S_ISREG(s.attrs[i].mode));
		ck_assert_ptr_eq(node_of(s.attrs[i].ino), &control_file_node);
		ck_assert_int_eq(control_file_node.getattr(s.attrs[i].ino, &a), 0);
		ck_assert_uint_eq(a.mode, s.attrs[i].mode);
	}
	ck_assert_int_eq(control_file_node.getattr(INO_CTL, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFREG | 0666);
	ck_assert_int_eq(control_file_node.getattr(INO_STATS, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFREG | 0444);
	/* stats is rendered from the catalog's counters and this layer's. */
	{
		char *text = NULL;
		size_t len = 0;

		fs.streams = NULL;
		ck_assert_int_eq(streams_create(fs.cat, 0, &fs.streams), 0);
		ck_assert_int_eq(stats_render(&text, &len), 0);
		ck_assert_uint_eq(strlen(text), len);
		ck_assert_ptr_nonnull(strstr(text, "version "));
		ck_assert_ptr_nonnull(strstr(text, "\ninstance_id 7\n"));
		ck_assert_ptr_nonnull(strstr(text, "\ndata_path fallback\n"));
		ck_assert_ptr_nonnull(strstr(text, "\nobjects 0\n"));
		free(text);
		streams_destroy(fs.streams);
		fs.streams = NULL;
	}
	/* A number in the control range that no file has. */
	ck_assert_int_eq(control_file_node.getattr(INO_CONTROL_LAST, &a), -ENOENT);
}
END_TEST

/* ---- handles ---- */

static int destroyed;

static void
count_destroy(struct fs_handle *h)
{
	destroyed++;
	free(h);
}

static const struct fs_handle_ops counted_ops = {
	.name = "counted",
	.destroy = count_destroy,
};

/* A handle of a kind of its own, which counts its destruction. */
static struct fs_handle *
counted(void)
{
	struct fs_handle *h = malloc(sizeof *h);

	ck_assert_ptr_nonnull(h);
	h->ops = &counted_ops;
	return h;
}

START_TEST(test_handle_lifetime)
{
	struct fs_handle *h = counted();
	uint64_t n, m;

	destroyed = 0;
	n = handle_add(h);
	m = handle_add(counted());
	ck_assert_uint_ne(n, 0);
	ck_assert_uint_ne(n, m);
	/* A request holds n while the kernel releases it: n lasts until the
	 * request puts it, and no new request finds it. */
	ck_assert_ptr_eq(handle_get(n), h);
	ck_assert_ptr_eq(handle_get(n)->ops, &counted_ops);
	handle_put(n);
	handle_release(n);
	ck_assert_int_eq(destroyed, 0);
	ck_assert_ptr_null(handle_get(n));
	handle_put(n);
	ck_assert_int_eq(destroyed, 1);
	/* Released twice: nothing more happens. */
	handle_release(n);
	ck_assert_int_eq(destroyed, 1);
	/* A handle no request uses goes at its release. */
	handle_release(m);
	ck_assert_int_eq(destroyed, 2);
	/* Unknown numbers. */
	ck_assert_ptr_null(handle_get(0));
	ck_assert_ptr_null(handle_get(n + 1000));
	/* Unsupervised, no number is an earlier worker's. */
	ck_assert(!handle_is_foreign(n));
}
END_TEST

START_TEST(test_handle_close_all)
{
	struct fuse_file_info fi;

	destroyed = 0;
	ck_assert_uint_ne(handle_add(counted()), 0);
	memset(&fi, 0, sizeof fi);
	ck_assert_int_eq(handle_register(counted(), &fi), 0);
	ck_assert_uint_ne(fi.fh, 0);
	/* One that never got a number. */
	handle_free(counted());
	ck_assert_int_eq(destroyed, 1);
	handle_close_all();
	ck_assert_int_eq(destroyed, 3);
}
END_TEST

/* ---- the I/O chain ---- */

/* Through the chain, as libfuse would: the kernel's request (written to
 * the device end of a socket pair) is read, and a reply to it written;
 * what reaches the kernel is read back into out. */
static size_t
exchange(
    int sv[2], const void *req, size_t reqlen, const void *body, size_t bodylen, void *out, size_t outlen)
{
	const struct fuse_in_header *in = req;
	struct fuse_out_header oh = { .len = (uint32_t)(sizeof oh + bodylen), .unique = in->unique };
	unsigned char buf[4096];
	struct iovec iov[2] = { { &oh, sizeof oh }, { (void *)body, bodylen } };
	ssize_t n;

	ck_assert_int_eq(write(sv[1], req, reqlen), (ssize_t)reqlen);
	ck_assert_int_eq(iochain_read(sv[0], buf, sizeof buf), (ssize_t)reqlen);
	ck_assert_int_eq(memcmp(buf, req, reqlen), 0);
	ck_assert_int_eq(iochain_writev(sv[0], iov, 2), (ssize_t)(sizeof oh + bodylen));
	n = read(sv[1], out, outlen);
	ck_assert_int_eq(n, (ssize_t)(sizeof oh + bodylen));
	return (size_t)n - sizeof oh;
}

/* The fake writev (the other end) sees the INIT reply amended: passthrough
 * asked for, writeback caching off; and an OPEN reply marked
 * FOPEN_PASSTHROUGH with the backing id chosen for its handle. */
START_TEST(test_iochain_passthrough)
{
	struct {
		struct fuse_in_header h;
		struct fuse_ext_init_in init;
	} init = { { .len = sizeof init, .opcode = FUSE_INIT, .unique = 2 },
		{ .major = 7, .minor = 45, .flags = FUSE_INIT_EXT, .flags2 = FUSE_EXT_PASSTHROUGH_FLAG2 } };
	struct {
		struct fuse_in_header h;
		struct fuse_open_in open;
	} open = { { .len = sizeof open, .opcode = FUSE_OPEN, .unique = 4, .nodeid = 99 }, { 0 } };
	struct fuse_ext_init_out iout = {
		.major = 7, .minor = 38, .flags = FUSE_INIT_EXT | FUSE_WRITEBACK_CACHE
	};
	struct fuse_ext_open_out oout = { .fh = 42, .open_flags = FUSE_EXT_FOPEN_KEEP_CACHE };
	unsigned char got[sizeof(struct fuse_out_header) + 512];
	const struct fuse_ext_init_out *gi = (const void *)(got + sizeof(struct fuse_out_header));
	const struct fuse_ext_open_out *go = (const void *)(got + sizeof(struct fuse_out_header));
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(iochain_install(NULL, sv[0], 1), 0);
	ck_assert(!pt_active());
	exchange(sv, &init, sizeof init, &iout, sizeof iout, got, sizeof got);
	ck_assert(pt_active());
	ck_assert_uint_eq(gi->flags2 & FUSE_EXT_PASSTHROUGH_FLAG2, FUSE_EXT_PASSTHROUGH_FLAG2);
	ck_assert_uint_eq(gi->max_stack_depth, 1);
	ck_assert_uint_eq(gi->flags & FUSE_WRITEBACK_CACHE, 0);
	/* An open fs/ did not choose to pass through goes out as it was. */
	exchange(sv, &open, sizeof open, &oout, sizeof oout, got, sizeof got);
	ck_assert_uint_eq(go->open_flags, FUSE_EXT_FOPEN_KEEP_CACHE);
	ck_assert_int_eq(go->backing_id, 0);
	/* One it did: the mark is taken by the reply to handle 42. */
	pt_open_reply(42, 7);
	open.h.unique = 6;
	exchange(sv, &open, sizeof open, &oout, sizeof oout, got, sizeof got);
	ck_assert_uint_eq(go->fh, 42);
	ck_assert_uint_eq(go->open_flags, FUSE_EXT_FOPEN_PASSTHROUGH);
	ck_assert_int_eq(go->backing_id, 7);
	/* ... once. */
	open.h.unique = 8;
	exchange(sv, &open, sizeof open, &oout, sizeof oout, got, sizeof got);
	ck_assert_int_eq(go->backing_id, 0);
	/* A reply to another request is no open reply, whatever its size. */
	pt_open_reply(42, 7);
	open.h.opcode = FUSE_READ;
	open.h.unique = 10;
	exchange(sv, &open, sizeof open, &oout, sizeof oout, got, sizeof got);
	ck_assert_int_eq(go->backing_id, 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Not offered by the kernel, or not wanted: INIT goes out as libfuse
 * wrote it and the daemon serves the data. */
START_TEST(test_iochain_no_passthrough)
{
	struct {
		struct fuse_in_header h;
		struct fuse_ext_init_in init;
	} init = { { .len = sizeof init, .opcode = FUSE_INIT, .unique = 2 },
		{ .major = 7, .minor = 45, .flags = FUSE_INIT_EXT, .flags2 = FUSE_EXT_PASSTHROUGH_FLAG2 } };
	struct fuse_ext_init_out iout = { .major = 7, .minor = 38, .flags = FUSE_INIT_EXT };
	unsigned char got[sizeof(struct fuse_out_header) + 512];
	const struct fuse_ext_init_out *gi = (const void *)(got + sizeof(struct fuse_out_header));
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(iochain_install(NULL, sv[0], 0), 0);
	exchange(sv, &init, sizeof init, &iout, sizeof iout, got, sizeof got);
	ck_assert(!pt_active());
	ck_assert_str_eq(pt_reason(), "disabled by --no-passthrough");
	ck_assert_uint_eq(gi->flags2, 0);
	ck_assert_uint_eq(gi->max_stack_depth, 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *
fs_suite(void)
{
	Suite *s = suite_create("fs");
	TCase *t = tcase_create("nodes");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, TEST_TIMEOUT);
	tcase_add_test(t, test_node_of_fixed);
	tcase_add_test(t, test_node_of_ids);
	tcase_add_test(t, test_node_kinds);
	tcase_add_test(t, test_root_table);
	tcase_add_test(t, test_control_dir);
	suite_add_tcase(s, t);
	t = tcase_create("handles");
	tcase_set_timeout(t, TEST_TIMEOUT);
	tcase_add_test(t, test_handle_lifetime);
	tcase_add_test(t, test_handle_close_all);
	suite_add_tcase(s, t);
	t = tcase_create("iochain");
	tcase_set_timeout(t, TEST_TIMEOUT);
	tcase_add_test(t, test_iochain_passthrough);
	tcase_add_test(t, test_iochain_no_passthrough);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
