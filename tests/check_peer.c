/*
 * check_peer: the peer protocol over real TCP on 127.0.0.1 with real files:
 * the frame codec and its bounds, the key file's rules, blobs of several
 * sizes fetched with their bytes and CRC checked, a wrong key on either
 * side, an unknown blob, a server that dies mid-transfer or lies about the
 * CRC (a rogue server made of the same protocol pieces), bad frames sent to
 * the real server, concurrent fetches, a full server, timeouts, and a stop
 * with clients connected. After every failure the destination directory
 * must be empty: no temp file, no final name.
 *
 * A program of its own rather than a suite in check_core: it runs servers,
 * threads and 64 MiB transfers, so it runs beside check_core under make -j
 * instead of after it, and it links libcrypto's handshake, which no other
 * core suite needs.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/id.h"
#include "core/peer_auth.h"
#include "core/peer_client.h"
#include "core/peer_io.h"
#include "core/peer_pool.h"
#include "core/peer_proto.h"
#include "core/peer_server.h"
#include "core/util.h"
#include "tests/test_pattern.h"

#define MIB (1024 * 1024)
#define TMP ".fetch-"
#define TEST_TIMEOUT 120

static char root[PATH_MAX], src_dir[PATH_MAX], dst_dir[PATH_MAX];
static int dst_fd = -1;
static struct peer_key key, other_key;
static peer_server_t *server;
static char addr[64];
static atomic_int opens, releases, release_errors;

static uint64_t
blob_id(unsigned k)
{
	return ID_BLOB_BIT | ((uint64_t)7 << ID_INSTANCE_SHIFT) | k;
}

/* A blob the test server holds: src_dir/b… with test_pattern(size, k). */
static void
make_blob(unsigned k, size_t size)
{
	char path[PATH_MAX + 32], ids[ID_STR_LEN + 1];
	unsigned char *p = test_pattern(size, k);
	int fd;

	id_format(blob_id(k), ids);
	snprintf(path, sizeof path, "%s/%s", src_dir, ids);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), 0);
	ck_assert_int_eq(write(fd, p, size), (ssize_t)size);
	close(fd);
	free(p);
}

/* The test server's catalog: files in src_dir by id; blob k odd has its
 * CRC known, even has it summed by the server. */
static int
t_open(void *ctx, uint64_t id, struct peer_blob *b, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], ids[ID_STR_LEN + 1];
	struct stat st;

	(void)ctx;
	id_format(id, ids);
	snprintf(path, sizeof path, "%s/%s", src_dir, ids);
	if ((b->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return util_fail(err, errlen, -errno, "no blob %s here", ids);
	fstat(b->fd, &st);
	b->size = (uint64_t)st.st_size;
	if (id & 1) {
		void *m =
		    st.st_size > 0 ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, b->fd, 0) : NULL;

		b->crc = m != NULL ? crc32c_update(0, m, (size_t)st.st_size) : 0;
		b->crc_known = 1;
		if (m != NULL)
			munmap(m, (size_t)st.st_size);
	}
	atomic_fetch_add(&opens, 1);
	return 0;
}

static void
t_release(void *ctx, struct peer_blob *b, int rc)
{
	(void)ctx;
	ck_assert(b->crc_known);
	close(b->fd);
	if (rc != 0)
		atomic_fetch_add(&release_errors, 1);
	atomic_fetch_add(&releases, 1);
}

static void
start_server(unsigned max_conns, unsigned timeout_ms)
{
	struct peer_server_config cfg = {
		.listen = "127.0.0.1:0",
		.key = &key,
		.ops = { .open = t_open, .release = t_release },
		.max_conns = max_conns,
		.timeout_ms = timeout_ms,
	};
	char err[512];
	int rc = peer_server_start(&cfg, &server, err, sizeof err);

	ck_assert_msg(rc == 0, "peer_server_start: %s", err);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", peer_server_port(server));
}

static void
write_key(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof path, "%s/%s", root, name);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode), 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

static int
load_key(const char *name, struct peer_key *k)
{
	char path[PATH_MAX + 32], err[512];

	snprintf(path, sizeof path, "%s/%s", root, name);
	return peer_key_load(path, k, err, sizeof err);
}

static void
setup(void)
{
	strcpy(root, "/dev/shm/vfs-check-peer.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(src_dir, sizeof src_dir, "%s/src", root);
	snprintf(dst_dir, sizeof dst_dir, "%s/dst", root);
	ck_assert_int_eq(mkdir(src_dir, 0700), 0);
	ck_assert_int_eq(mkdir(dst_dir, 0700), 0);
	ck_assert_int_ge(dst_fd = open(dst_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0);
	write_key("key", "0123456789abcdef0123456789abcdef\n", 0600);
	write_key("other", "fedcba9876543210fedcba9876543210\n", 0600);
	ck_assert_int_eq(load_key("key", &key), 0);
	ck_assert_int_eq(load_key("other", &other_key), 0);
	atomic_store(&opens, 0);
	atomic_store(&releases, 0);
	atomic_store(&release_errors, 0);
	server = NULL;
}

static void
rm_dir(const char *dir)
{
	struct dirent *e;
	char path[PATH_MAX + 300];
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void
teardown(void)
{
	peer_server_stop(server);
	server = NULL;
	close(dst_fd);
	rm_dir(src_dir);
	rm_dir(dst_dir);
	rm_dir(root);
}

/* Entries of the destination directory. */
static unsigned
dst_entries(void)
{
	struct dirent *e;
	unsigned n = 0;
	DIR *d = opendir(dst_dir);

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void
dest(struct peer_dest *d, char name[ID_STR_LEN + 1], unsigned k)
{
	id_format(blob_id(k), name);
	d->dirfd = dst_fd;
	d->dir = dst_dir;
	d->name = name;
	d->tmp = TMP;
}

/* dst_dir/b… holds exactly blob k's size bytes, whose CRC is crc. */
static void
check_fetched(unsigned k, size_t size, uint32_t crc)
{
	char path[PATH_MAX + 32], ids[ID_STR_LEN + 1];
	unsigned char *want = test_pattern(size, k), *got = malloc(size + 1);
	struct stat st;
	int fd;

	id_format(blob_id(k), ids);
	snprintf(path, sizeof path, "%s/%s", dst_dir, ids);
	ck_assert_int_ge(fd = open(path, O_RDONLY | O_CLOEXEC), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, size);
	ck_assert_int_eq(read(fd, got, size + 1), (ssize_t)size);
	ck_assert(memcmp(want, got, size) == 0);
	ck_assert_uint_eq(crc, crc32c_update(0, want, size));
	close(fd);
	free(want);
	free(got);
}

static int
fetch(unsigned k, uint64_t size, uint32_t *crc, char *err, size_t errlen)
{
	struct peer_dest d;
	char name[ID_STR_LEN + 1];

	dest(&d, name, k);
	return peer_fetch(addr, &key, blob_id(k), size, &d, crc, err, errlen);
}

/* ---- the codec ---- */

START_TEST(test_codec)
{
	unsigned char buf[PEER_MSG_BUF + 64];
	struct peer_msg m = { .type = PEER_GET }, out;
	char err[256];
	long n;

	m.u.get.id = 0x1122334455667788u;
	m.u.get.size = 42;
	ck_assert_int_eq(peer_msg_encode(&m, buf, sizeof buf), PEER_HDR_LEN + 16);
	ck_assert(memcmp(buf, "VFSP", 4) == 0);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + 15, &out, err, sizeof err), 0); /* more wanted */
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + 16, &out, err, sizeof err), PEER_HDR_LEN + 16);
	ck_assert_uint_eq(out.u.get.id, m.u.get.id);
	ck_assert_uint_eq(out.u.get.size, 42);

	m.type = PEER_ERROR;
	m.u.error.err = ENOENT;
	strcpy(m.u.error.msg, "no such blob");
	n = peer_msg_encode(&m, buf, sizeof buf);
	ck_assert_int_eq(peer_parse(buf, (size_t)n, &out, err, sizeof err), n);
	ck_assert_int_eq(out.u.error.err, ENOENT);
	ck_assert_str_eq(out.u.error.msg, "no such blob");

	m.type = PEER_BLOB;
	m.u.blob.size = 1u << 30;
	m.u.blob.crc = 0xdeadbeef;
	m.u.blob.flags = 0;
	ck_assert_int_eq(peer_msg_encode(&m, buf, sizeof buf), PEER_HDR_LEN + PEER_BLOB_HEAD);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + PEER_BLOB_HEAD, &out, err, sizeof err),
	    PEER_HDR_LEN + PEER_BLOB_HEAD);
	ck_assert_uint_eq(out.u.blob.size, 1u << 30);
	ck_assert_uint_eq(out.u.blob.crc, 0xdeadbeef);

	/* A BLOB whose size is not its frame's. */
	buf[PEER_HDR_LEN] ^= 1;
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + PEER_BLOB_HEAD, &out, err, sizeof err), -EPROTO);
	/* Its CRC after the bytes: counted in the frame, 0 in the head. */
	m.u.blob.crc = 0;
	m.u.blob.flags = PEER_BLOB_CRC_AFTER;
	ck_assert_int_eq(peer_msg_encode(&m, buf, sizeof buf), PEER_HDR_LEN + PEER_BLOB_HEAD);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + PEER_BLOB_HEAD, &out, err, sizeof err),
	    PEER_HDR_LEN + PEER_BLOB_HEAD);
	ck_assert_uint_eq(out.u.blob.size, 1u << 30);
	ck_assert_uint_eq(out.u.blob.flags, PEER_BLOB_CRC_AFTER);
	m.u.blob.crc = 7; /* both before and after */
	peer_msg_encode(&m, buf, sizeof buf);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + PEER_BLOB_HEAD, &out, err, sizeof err), -EPROTO);
	m.u.blob.crc = 0;
	m.u.blob.flags = 2; /* unknown */
	peer_msg_encode(&m, buf, sizeof buf);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + PEER_BLOB_HEAD, &out, err, sizeof err), -EPROTO);
	/* A frame too short for the size and its CRC after. */
	m.u.blob.size = 0;
	m.u.blob.flags = PEER_BLOB_CRC_AFTER;
	peer_msg_encode(&m, buf, sizeof buf);
	peer_header_encode(buf, PEER_BLOB, PEER_BLOB_HEAD + 3);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + PEER_BLOB_HEAD, &out, err, sizeof err), -EPROTO);
	/* Bad magic, version, type, flags. */
	peer_header_encode(buf, PEER_GET, 16);
	buf[0] = 'X';
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + 16, &out, err, sizeof err), -EPROTO);
	peer_header_encode(buf, PEER_GET, 16);
	buf[4] = 2;
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + 16, &out, err, sizeof err), -EPROTO);
	peer_header_encode(buf, 9, 16);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + 16, &out, err, sizeof err), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "unknown frame type 9"));
	peer_header_encode(buf, PEER_GET, 16);
	buf[8] = 1;
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + 16, &out, err, sizeof err), -EPROTO);
	/* A control payload over the bound, whatever follows. */
	peer_header_encode(buf, PEER_GET, PEER_CONTROL_MAX + 1);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN, &out, err, sizeof err), -EMSGSIZE);
	peer_header_encode(buf, PEER_ERROR, UINT64_MAX);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN, &out, err, sizeof err), -EMSGSIZE);
	/* A length that lies about what its type holds. */
	peer_header_encode(buf, PEER_GET, 15);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + 15, &out, err, sizeof err), -EPROTO);
	peer_header_encode(buf, PEER_PROOF, 33);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + 33, &out, err, sizeof err), -EPROTO);
	peer_header_encode(buf, PEER_BLOB, 3);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN, &out, err, sizeof err), -EPROTO);
	/* An errno out of range; a HELLO of no known role. */
	peer_header_encode(buf, PEER_ERROR, 4);
	memset(buf + PEER_HDR_LEN, 0, 4);
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + 4, &out, err, sizeof err), -EPROTO);
	peer_header_encode(buf, PEER_HELLO, 1 + PEER_NONCE_LEN);
	buf[PEER_HDR_LEN] = 'X';
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN + 1 + PEER_NONCE_LEN, &out, err, sizeof err), -EPROTO);
	/* Too short to tell. */
	ck_assert_int_eq(peer_parse(buf, PEER_HDR_LEN - 1, &out, err, sizeof err), 0);
}
END_TEST

START_TEST(test_addr)
{
	char host[64], port[16], err[256];
	int fd;

	ck_assert_int_eq(peer_io_split("127.0.0.1:7000", host, sizeof host, port, sizeof port), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_str_eq(port, "7000");
	ck_assert_int_eq(peer_io_split("[::1]:0", host, sizeof host, port, sizeof port), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(peer_io_split("*:7000", host, sizeof host, port, sizeof port), 0);
	ck_assert_str_eq(host, "");
	ck_assert_int_eq(peer_io_split("host", host, sizeof host, port, sizeof port), -EINVAL);
	ck_assert_int_eq(peer_io_split("host:", host, sizeof host, port, sizeof port), -EINVAL);
	ck_assert_int_eq(peer_io_split("[::1:80", host, sizeof host, port, sizeof port), -EINVAL);
	ck_assert_int_eq(peer_io_listen("127.0.0.1:http-alt", &fd, err, sizeof err), -EADDRNOTAVAIL);
	/* Nobody listens on a port just closed. */
	ck_assert_int_eq(peer_io_listen("127.0.0.1:0", &fd, err, sizeof err), 0);
	snprintf(host, sizeof host, "127.0.0.1:%u", peer_io_port(fd));
	close(fd);
	ck_assert_int_eq(peer_io_connect(host, 1000, &fd, err, sizeof err), -ECONNREFUSED);
}
END_TEST

START_TEST(test_key_file)
{
	struct peer_key k;
	char big[PEER_KEY_MAX + 2];

	ck_assert_int_eq(key.len, 32); /* the newline is not part of it */
	write_key("open", "0123456789abcdef0123456789abcdef", 0644);
	ck_assert_int_eq(load_key("open", &k), -EPERM);
	write_key("group", "0123456789abcdef0123456789abcdef", 0640);
	ck_assert_int_eq(load_key("group", &k), -EPERM);
	write_key("empty", "", 0600);
	ck_assert_int_eq(load_key("empty", &k), -EINVAL);
	write_key("newline", "\n", 0600);
	ck_assert_int_eq(load_key("newline", &k), -EINVAL);
	write_key("short", "secret\n", 0600);
	ck_assert_int_eq(load_key("short", &k), -EINVAL);
	memset(big, 'k', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	write_key("big", big, 0600);
	ck_assert_int_eq(load_key("big", &k), -EFBIG);
	big[PEER_KEY_MAX] = '\0';
	write_key("max", big, 0600);
	ck_assert_int_eq(load_key("max", &k), 0);
	ck_assert_int_eq(k.len, PEER_KEY_MAX);
	ck_assert_int_eq(load_key("missing", &k), -ENOENT);
}
END_TEST

/* ---- fetches ---- */

START_TEST(test_fetch_sizes)
{
	static const size_t sizes[] = { 0, 1, 4095, MIB + 1, 64 * MIB };
	struct peer_dest d;
	peer_conn_t *c;
	char err[512], name[ID_STR_LEN + 1];
	uint32_t crc;
	unsigned i;
	int rc;

	start_server(0, 0);
	for (i = 0; i < 5; i++)
		make_blob(i, sizes[i]);
	/* One connection, one blob after another. */
	rc = peer_client_connect(addr, &key, 0, &c, err, sizeof err);
	ck_assert_msg(rc == 0, "connect: %s", err);
	for (i = 0; i < 5; i++) {
		dest(&d, name, i);
		crc = 1;
		rc = peer_client_get(c, blob_id(i), sizes[i], &d, &crc, err, sizeof err);
		ck_assert_msg(rc == 0, "get %zu bytes: %s", sizes[i], err);
		check_fetched(i, sizes[i], crc);
	}
	peer_client_close(c);
	ck_assert_uint_eq(dst_entries(), 5);
	/* A connection each, the size not known (fetched again: replaced). */
	for (i = 0; i < 5; i++) {
		rc = fetch(i, PEER_SIZE_ANY, &crc, err, sizeof err);
		ck_assert_msg(rc == 0, "fetch %zu bytes: %s", sizes[i], err);
		check_fetched(i, sizes[i], crc);
	}
	ck_assert_uint_eq(dst_entries(), 5);
	peer_server_stop(server);
	server = NULL;
	ck_assert_int_eq(atomic_load(&opens), 10);
	ck_assert_int_eq(atomic_load(&releases), 10);
	ck_assert_int_eq(atomic_load(&release_errors), 0);
}
END_TEST

/* The pool: a server that takes one connection at a time serves a second
 * fetch only if the first one's connection was kept and used again; once
 * the server is gone, the kept connection is found dead and the fetch is
 * tried on a new one (refused), not failed on the dead one. */
START_TEST(test_pool)
{
	struct peer_dest d;
	peer_pool_t *p;
	char err[512], name[ID_STR_LEN + 1];
	uint32_t crc;
	int rc;

	start_server(1, 0);
	make_blob(2, MIB + 7);
	make_blob(4, 3000);
	ck_assert_int_eq(peer_pool_create(&key, &p), 0);
	dest(&d, name, 2);
	rc = peer_pool_fetch(p, addr, blob_id(2), MIB + 7, &d, &crc, err, sizeof err);
	ck_assert_msg(rc == 0, "first fetch: %s", err);
	check_fetched(2, MIB + 7, crc);
	dest(&d, name, 4);
	rc = peer_pool_fetch(p, addr, blob_id(4), 3000, &d, &crc, err, sizeof err);
	ck_assert_msg(rc == 0, "second fetch, on the kept connection: %d %s", rc, err);
	check_fetched(4, 3000, crc);
	/* An error the server answers leaves the connection kept. */
	dest(&d, name, 6);
	ck_assert_int_eq(peer_pool_fetch(p, addr, blob_id(6), 10, &d, &crc, err, sizeof err), -ENOENT);
	dest(&d, name, 4);
	ck_assert_int_eq(peer_pool_fetch(p, addr, blob_id(4), 3000, &d, &crc, err, sizeof err), 0);
	peer_server_stop(server);
	server = NULL;
	dest(&d, name, 2);
	rc = peer_pool_fetch(p, addr, blob_id(2), MIB + 7, &d, &crc, err, sizeof err);
	ck_assert_msg(rc == -ECONNREFUSED, "after the server went: %d %s", rc, err);
	ck_assert_uint_eq(dst_entries(), 2);
	peer_pool_destroy(p);
}
END_TEST

START_TEST(test_wrong_key)
{
	struct peer_dest d;
	peer_conn_t *c;
	char err[512], name[ID_STR_LEN + 1];
	struct peer_key none;
	int rc;

	start_server(0, 0);
	make_blob(1, 1000);
	dest(&d, name, 1);
	rc = peer_fetch(addr, &other_key, blob_id(1), 1000, &d, NULL, err, sizeof err);
	ck_assert_msg(rc == -EACCES, "wrong key: %d %s", rc, err);
	peer_key_none(&none);
	ck_assert_int_eq(peer_client_connect(addr, &none, 0, &c, err, sizeof err), -EACCES);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(dst_entries(), 0);
	ck_assert_int_eq(atomic_load(&opens), 0);
	/* The server goes on serving the right key. */
	ck_assert_int_eq(fetch(1, 1000, NULL, err, sizeof err), 0);
}
END_TEST

START_TEST(test_unknown_blob)
{
	struct peer_dest d;
	peer_conn_t *c;
	char err[512], name[ID_STR_LEN + 1];
	uint32_t crc;

	start_server(0, 0);
	make_blob(3, 5000);
	ck_assert_int_eq(fetch(2, 10, NULL, err, sizeof err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "no blob"));
	ck_assert_uint_eq(dst_entries(), 0);
	/* The connection survives an answered error. */
	ck_assert_int_eq(peer_client_connect(addr, &key, 0, &c, err, sizeof err), 0);
	dest(&d, name, 2);
	ck_assert_int_eq(peer_client_get(c, blob_id(2), 10, &d, NULL, err, sizeof err), -ENOENT);
	dest(&d, name, 3);
	ck_assert_int_eq(peer_client_get(c, blob_id(3), 5000, &d, &crc, err, sizeof err), 0);
	check_fetched(3, 5000, crc);
	/* A size that is not the peer's: EIO, and nothing left. */
	ck_assert_int_eq(unlinkat(dst_fd, name, 0), 0);
	ck_assert_int_eq(peer_client_get(c, blob_id(3), 4999, &d, NULL, err, sizeof err), -EIO);
	ck_assert_uint_eq(dst_entries(), 0);
	peer_client_close(c);
}
END_TEST

/* ---- a rogue server: the protocol's pieces put together wrongly ---- */

enum rogue_kind {
	ROGUE_BAD_PROOF,   /* answers the handshake with a proof it cannot make */
	ROGUE_HALF,	   /* sends half of the bytes and closes */
	ROGUE_BAD_CRC,	   /* sends every byte with a wrong CRC */
	ROGUE_BAD_TRAILER, /* sends every byte, then a wrong CRC after them */
	ROGUE_SILENT,	   /* accepts and never says a word */
};

struct rogue {
	enum rogue_kind kind;
	int lfd;
	unsigned port;
	size_t size;
	pthread_t thread;
};

static void *
rogue_run(void *arg)
{
	struct rogue *r = arg;
	struct peer_msg m;
	unsigned char *bytes = test_pattern(r->size, 1), junk;
	char err[256];
	int fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		goto out;
	peer_io_limits(fd, 10000);
	switch (r->kind) {
	case ROGUE_BAD_PROOF:
		if (peer_io_recv_msg(fd, &m, err, sizeof err) != 0)
			break;
		m.u.hello.role = PEER_ROLE_SERVER;
		memset(m.u.hello.nonce, 0x5a, PEER_NONCE_LEN);
		peer_io_send_msg(fd, &m, 0);
		if (peer_io_recv_msg(fd, &m, err, sizeof err) != 0)
			break;
		memset(m.u.proof.mac, 0, PEER_MAC_LEN); /* not HMAC(key, ...) */
		peer_io_send_msg(fd, &m, 0);
		break;
	case ROGUE_HALF:
	case ROGUE_BAD_CRC:
	case ROGUE_BAD_TRAILER:
		if (peer_auth_server(fd, &key, err, sizeof err) != 0 ||
		    peer_io_recv_msg(fd, &m, err, sizeof err) != 0)
			break;
		m.type = PEER_BLOB;
		m.u.blob.size = r->size;
		m.u.blob.crc = crc32c_update(0, bytes, r->size) ^ (r->kind == ROGUE_BAD_CRC);
		m.u.blob.flags = 0;
		if (r->kind == ROGUE_BAD_TRAILER) {
			uint32_t bad = m.u.blob.crc ^ 1;
			unsigned char t[PEER_BLOB_TRAILER] = { (unsigned char)bad, (unsigned char)(bad >> 8),
				(unsigned char)(bad >> 16), (unsigned char)(bad >> 24) };

			m.u.blob.crc = 0;
			m.u.blob.flags = PEER_BLOB_CRC_AFTER;
			peer_io_send_msg(fd, &m, 1);
			peer_io_send(fd, bytes, r->size, 1);
			peer_io_send(fd, t, sizeof t, 0);
			break;
		}
		peer_io_send_msg(fd, &m, 1);
		peer_io_send(fd, bytes, r->kind == ROGUE_HALF ? r->size / 2 : r->size, 0);
		break;
	case ROGUE_SILENT: break;
	}
	if (r->kind == ROGUE_HALF)
		goto done; /* dead */
	/* Until the client is done with us. */
	while (recv(fd, &junk, 1, 0) > 0)
		;
done:
	close(fd);
out:
	free(bytes);
	return NULL;
}

static void
rogue_start(struct rogue *r, enum rogue_kind kind, size_t size)
{
	char err[256];

	r->kind = kind;
	r->size = size;
	ck_assert_int_eq(peer_io_listen("127.0.0.1:0", &r->lfd, err, sizeof err), 0);
	r->port = peer_io_port(r->lfd);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", r->port);
	ck_assert_int_eq(pthread_create(&r->thread, NULL, rogue_run, r), 0);
}

static void
rogue_join(struct rogue *r)
{
	pthread_join(r->thread, NULL);
	close(r->lfd);
}

START_TEST(test_server_without_key)
{
	struct rogue r;
	char err[512];

	rogue_start(&r, ROGUE_BAD_PROOF, 0);
	ck_assert_int_eq(fetch(1, 10, NULL, err, sizeof err), -EACCES);
	ck_assert_ptr_nonnull(strstr(err, "does not hold the cluster key"));
	rogue_join(&r);
	ck_assert_uint_eq(dst_entries(), 0);
}
END_TEST

START_TEST(test_peer_dies_mid_transfer)
{
	struct rogue r;
	char err[512];
	int rc;

	rogue_start(&r, ROGUE_HALF, 8 * MIB + 3);
	rc = fetch(1, 8 * MIB + 3, NULL, err, sizeof err);
	ck_assert_msg(rc == -ECONNRESET, "half a blob: %d %s", rc, err);
	rogue_join(&r);
	ck_assert_uint_eq(dst_entries(), 0);
}
END_TEST

START_TEST(test_bad_crc)
{
	struct rogue r;
	char err[512];
	int rc;

	rogue_start(&r, ROGUE_BAD_CRC, 3 * MIB);
	rc = fetch(1, 3 * MIB, NULL, err, sizeof err);
	ck_assert_msg(rc == -EIO, "bad CRC: %d %s", rc, err);
	ck_assert_ptr_nonnull(strstr(err, "CRC-32C"));
	rogue_join(&r);
	ck_assert_uint_eq(dst_entries(), 0);
}
END_TEST

/* The CRC after the bytes (a server that sums while it sends) is checked
 * as the one before them. */
START_TEST(test_bad_trailer)
{
	struct rogue r;
	char err[512];
	int rc;

	rogue_start(&r, ROGUE_BAD_TRAILER, 3 * MIB + 1);
	rc = fetch(1, 3 * MIB + 1, NULL, err, sizeof err);
	ck_assert_msg(rc == -EIO, "bad CRC after the bytes: %d %s", rc, err);
	ck_assert_ptr_nonnull(strstr(err, "CRC-32C"));
	rogue_join(&r);
	ck_assert_uint_eq(dst_entries(), 0);
}
END_TEST

START_TEST(test_client_timeout)
{
	struct peer_dest d;
	struct rogue r;
	peer_conn_t *c;
	char err[512], name[ID_STR_LEN + 1];
	int64_t t0;
	int rc;

	rogue_start(&r, ROGUE_SILENT, 0);
	dest(&d, name, 1);
	t0 = util_mono_ns();
	rc = peer_client_connect(addr, &key, 300, &c, err, sizeof err);
	ck_assert_msg(rc == -ETIMEDOUT, "silent peer: %d %s", rc, err);
	ck_assert_int_lt(util_mono_ns() - t0, 5000000000);
	rogue_join(&r);
}
END_TEST

/* ---- bad frames to the real server ---- */

/* A raw connection to the server, authenticated when auth. */
static int
raw_connect(int auth)
{
	char err[256];
	int fd, rc;

	ck_assert_int_eq(peer_io_connect(addr, 5000, &fd, err, sizeof err), 0);
	if (auth) {
		rc = peer_auth_client(fd, &key, err, sizeof err);
		ck_assert_msg(rc == 0, "auth: %s", err);
	}
	return fd;
}

/* Send len bytes of frame on a fresh connection; the server must answer
 * ERROR e and close. */
static void
bad_frame(int auth, const unsigned char *frame, size_t len, int e)
{
	struct peer_msg m;
	char err[256];
	int fd = raw_connect(auth), rc;

	ck_assert_int_eq(peer_io_send(fd, frame, len, 0), 0);
	ck_assert_int_eq(peer_io_recv_msg(fd, &m, err, sizeof err), 0);
	ck_assert_int_eq(m.type, PEER_ERROR);
	ck_assert_msg(m.u.error.err == e, "errno %d (%s) where %d", m.u.error.err, m.u.error.msg, e);
	/* Closed: cleanly, or with a reset when it left bytes unread. */
	rc = peer_io_recv_msg(fd, &m, err, sizeof err);
	ck_assert_msg(rc == 1 || rc == -ECONNRESET, "after the error: %d %s", rc, err);
	close(fd);
}

START_TEST(test_bad_frames)
{
	unsigned char f[PEER_HDR_LEN + 64] = { 0 };
	char err[512];
	uint32_t crc;
	int held;

	start_server(0, 0);
	make_blob(5, 100000);
	/* A connection that stays: the bad ones must not disturb it. */
	held = raw_connect(1);
	/* Before the handshake: garbage, an oversized HELLO. */
	memcpy(f, "GET /blobs HTTP/1.1\r\n\r\n", 24);
	bad_frame(0, f, 24, EPROTO);
	peer_header_encode(f, PEER_HELLO, PEER_CONTROL_MAX + 1);
	bad_frame(0, f, PEER_HDR_LEN, EMSGSIZE);
	/* After it: an oversized control frame, a GET whose length lies, an
	 * unknown type, a BLOB from the client. */
	peer_header_encode(f, PEER_GET, 1u << 20);
	bad_frame(1, f, PEER_HDR_LEN, EMSGSIZE);
	peer_header_encode(f, PEER_GET, 40);
	bad_frame(1, f, PEER_HDR_LEN + 40, EPROTO);
	peer_header_encode(f, 77, 16);
	bad_frame(1, f, PEER_HDR_LEN + 16, EPROTO);
	peer_header_encode(f, PEER_BLOB, PEER_BLOB_HEAD);
	bad_frame(1, f, PEER_HDR_LEN + PEER_BLOB_HEAD, EPROTO);
	/* Others are still served, the held connection too. */
	ck_assert_int_eq(fetch(5, 100000, &crc, err, sizeof err), 0);
	check_fetched(5, 100000, crc);
	{
		struct peer_msg m = { .type = PEER_GET };

		m.u.get.id = blob_id(5);
		m.u.get.size = 100000;
		ck_assert_int_eq(peer_io_send_msg(held, &m, 0), 0);
		ck_assert_int_eq(peer_io_recv_msg(held, &m, err, sizeof err), 0);
		ck_assert_int_eq(m.type, PEER_BLOB);
		ck_assert_uint_eq(m.u.blob.size, 100000);
		ck_assert_uint_eq(m.u.blob.crc, crc);
	}
	close(held);
}
END_TEST

/* ---- concurrency, limits, stop ---- */

struct fetcher {
	unsigned k;
	int rc;
	uint32_t crc;
	char err[512];
};

static void *
fetcher_run(void *arg)
{
	struct fetcher *f = arg;

	f->rc = fetch(f->k, 4 * MIB + f->k, &f->crc, f->err, sizeof f->err);
	return NULL;
}

START_TEST(test_concurrent)
{
	struct fetcher f[6];
	pthread_t t[6];
	unsigned i;

	start_server(0, 0);
	for (i = 0; i < 6; i++)
		make_blob(10 + i, 4 * MIB + 10 + i);
	for (i = 0; i < 6; i++) {
		f[i].k = 10 + i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, fetcher_run, &f[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(f[i].rc == 0, "fetch %u: %s", i, f[i].err);
		check_fetched(f[i].k, 4 * MIB + f[i].k, f[i].crc);
	}
	ck_assert_uint_eq(dst_entries(), 6);
}
END_TEST

START_TEST(test_full_and_silent)
{
	char err[512];
	int silent, rc;

	int64_t t0;

	/* One connection at a time, 500 ms to say something. */
	start_server(1, 500);
	make_blob(1, 4096);
	t0 = util_mono_ns();
	silent = raw_connect(0); /* accepted first: connections queue in order */
	rc = fetch(1, 4096, NULL, err, sizeof err);
	ck_assert_msg(rc == -EBUSY, "full server: %d %s", rc, err);
	/* The silent one is dropped after its time limit; then there is room. */
	do {
		usleep(100000);
		rc = fetch(1, 4096, NULL, err, sizeof err);
	} while (rc == -EBUSY && util_mono_ns() - t0 < 10000000000);
	ck_assert_msg(rc == 0, "after the time limit: %d %s", rc, err);
	ck_assert_int_ge(util_mono_ns() - t0, 400000000);
	close(silent);
}
END_TEST

START_TEST(test_stop_with_clients)
{
	struct peer_dest d;
	peer_conn_t *c;
	char err[512], name[ID_STR_LEN + 1];
	int64_t t0;
	int silent, rc;

	start_server(0, 30000);
	make_blob(1, MIB);
	ck_assert_int_eq(peer_client_connect(addr, &key, 0, &c, err, sizeof err), 0);
	silent = raw_connect(0); /* stuck in the handshake */
	usleep(50000);
	t0 = util_mono_ns();
	peer_server_stop(server);
	server = NULL;
	ck_assert_int_lt(util_mono_ns() - t0, 2000000000);
	dest(&d, name, 1);
	rc = peer_client_get(c, blob_id(1), MIB, &d, NULL, err, sizeof err);
	ck_assert_msg(rc == -ECONNRESET || rc == -EPIPE, "after stop: %d %s", rc, err);
	ck_assert_uint_eq(dst_entries(), 0);
	peer_client_close(c);
	close(silent);
}
END_TEST

static Suite *
peer_suite(void)
{
	Suite *s = suite_create("peer");
	TCase *tc = tcase_create("peer");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_codec);
	tcase_add_test(tc, test_addr);
	tcase_add_test(tc, test_key_file);
	tcase_add_test(tc, test_fetch_sizes);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_test(tc, test_unknown_blob);
	tcase_add_test(tc, test_server_without_key);
	tcase_add_test(tc, test_peer_dies_mid_transfer);
	tcase_add_test(tc, test_bad_crc);
	tcase_add_test(tc, test_bad_trailer);
	tcase_add_test(tc, test_pool);
	tcase_add_test(tc, test_client_timeout);
	tcase_add_test(tc, test_bad_frames);
	tcase_add_test(tc, test_concurrent);
	tcase_add_test(tc, test_full_and_silent);
	tcase_add_test(tc, test_stop_with_clients);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(peer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
