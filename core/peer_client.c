/*
 * peer_client: see peer_client.h. A connection is a socket with time
 * limits, authenticated once; a fetch is one GET answered by one BLOB or
 * one ERROR. The bytes go through durable_write, which removes its temp
 * file on any failure, and durable_place renames it once it is checked.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "durable.h"
#include "id.h"
#include "peer_client.h"
#include "peer_io.h"
#include "util.h"

struct peer_conn {
	int fd;
	int broken;	/* the stream is out of step: every later get fails */
	int answered;	/* the last get had an answer's head */
	char addr[272]; /* for messages */
};

int
peer_client_connect(const char *addr, const struct peer_key *key, unsigned timeout_ms, peer_conn_t **out,
    char *err, size_t errlen)
{
	struct peer_conn *c;
	char msg[512];
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return util_fail(err, errlen, -ENOMEM, "peer %s: out of memory", addr);
	snprintf(c->addr, sizeof c->addr, "%s", addr);
	if ((rc = peer_io_connect(
		 addr, timeout_ms != 0 ? timeout_ms : PEER_TIMEOUT_MS, &c->fd, err, errlen)) != 0) {
		free(c);
		return rc;
	}
	if ((rc = peer_auth_client(c->fd, key, msg, sizeof msg)) != 0) {
		util_fail(err, errlen, rc, "peer %s: %s", addr, msg);
		peer_client_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
peer_client_close(peer_conn_t *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c);
}

/* Ask for id and read the answer's head into m. Any failure but an
 * error the peer answered leaves the stream out of step: c->broken. */
static int
ask(struct peer_conn *c, uint64_t id, uint64_t size, struct peer_msg *m, char *msg, size_t len)
{
	struct peer_msg get = { .type = PEER_GET };
	char tn[16];
	int rc;

	get.u.get.id = id;
	get.u.get.size = size;
	c->broken = 1;
	c->answered = 0;
	if ((rc = peer_io_send_msg(c->fd, &get, 0)) != 0)
		return util_fail(msg, len, rc, "sending GET: %s", strerror(-rc));
	if ((rc = peer_io_recv_msg(c->fd, m, msg, len)) == 1)
		return util_fail(msg, len, -ECONNRESET, "the peer closed the connection");
	if (rc != 0)
		return rc;
	c->answered = 1;
	if (m->type == PEER_ERROR) {
		/* After a frame it found bad, the peer closes. */
		c->broken = m->u.error.err == EPROTO || m->u.error.err == EMSGSIZE;
		return util_fail(msg, len, -m->u.error.err, "%s", m->u.error.msg);
	}
	if (m->type != PEER_BLOB)
		return util_fail(
		    msg, len, -EPROTO, "%s frame where BLOB was due", peer_type_name(m->type, tn));
	if (size != PEER_SIZE_ANY && m->u.blob.size != size)
		return util_fail(msg, len, -EIO, "the peer sends %llu bytes, not %llu",
		    (unsigned long long)m->u.blob.size, (unsigned long long)size);
	c->broken = 0;
	return 0;
}

int
peer_client_get(peer_conn_t *c, uint64_t id, uint64_t size, const struct peer_dest *dst, uint32_t *crc,
    char *err, size_t errlen)
{
	struct durable d = { 0 };
	struct peer_msg m;
	char ids[ID_STR_LEN + 1], what[ID_STR_LEN + 300], msg[512];
	int rc, after;

	id_format(id, ids);
	if (c->broken)
		return util_fail(
		    err, errlen, -EPIPE, "peer %s: %s: the connection broke earlier", c->addr, ids);
	if ((rc = ask(c, id, size, &m, msg, sizeof msg)) != 0)
		return util_fail(err, errlen, rc, "peer %s: %s: %s", c->addr, ids, msg);
	snprintf(what, sizeof what, "%s from %s", ids, c->addr);
	d.dirfd = dst->dirfd;
	d.dir = dst->dir;
	d.name = dst->name;
	d.tmp = dst->tmp;
	d.what = what;
	after = (m.u.blob.flags & PEER_BLOB_CRC_AFTER) != 0;
	d.flags = DURABLE_MAPPED | DURABLE_NOSYNC | (after ? 0 : DURABLE_VERIFY);
	d.src.kind = DURABLE_SRC_SOCKET;
	d.src.fd = c->fd;
	d.size = m.u.blob.size;
	d.want = m.u.blob.crc;
	if ((rc = durable_write(&d, err, errlen)) != 0) {
		/* A checksum that does not match came whole: the stream is in
		 * step. Anything else stopped mid-frame. */
		c->broken = !d.mismatch;
		return rc;
	}
	if (after) {
		/* The sum follows the bytes. */
		unsigned char t[PEER_BLOB_TRAILER];
		uint32_t want;

		if ((rc = peer_io_recv(c->fd, t, sizeof t)) != 0) {
			durable_abort(&d);
			c->broken = 1;
			rc = rc == 1 ? -ECONNRESET : rc;
			return util_fail(err, errlen, rc, "peer %s: %s: its CRC-32C after the bytes: %s",
			    c->addr, ids,
			    rc == -ECONNRESET ? "the peer closed the connection" : strerror(-rc));
		}
		want = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
		if (want != d.crc) {
			durable_abort(&d);
			return util_fail(err, errlen, -EIO,
			    "peer %s: %s: bytes with CRC-32C %08x, sent as %08x", c->addr, ids, d.crc, want);
		}
	}
	if ((rc = durable_place(&d, err, errlen)) != 0)
		return rc;
	if (crc != NULL)
		*crc = d.crc;
	return 0;
}

int
peer_client_usable(const peer_conn_t *c)
{
	return c != NULL && !c->broken;
}

int
peer_client_untouched(const peer_conn_t *c)
{
	return c != NULL && !c->answered;
}

int
peer_fetch(const char *addr, const struct peer_key *key, uint64_t id, uint64_t size,
    const struct peer_dest *dst, uint32_t *crc, char *err, size_t errlen)
{
	peer_conn_t *c;
	int rc;

	if ((rc = peer_client_connect(addr, key, 0, &c, err, errlen)) != 0)
		return rc;
	rc = peer_client_get(c, id, size, dst, crc, err, errlen);
	peer_client_close(c);
	return rc;
}
