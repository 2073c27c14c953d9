/*
 * peer_proto: the frames of the peer protocol (see peer_proto.h), encoded
 * and decoded byte by byte in little-endian order whatever the host's, and
 * checked against every bound before anything trusts a length.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "peer_proto.h"
#include "util.h"

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t
get32(const unsigned char *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t
get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

const char *
peer_type_name(uint16_t type, char buf[16])
{
	static const char *const names[] = { NULL, "HELLO", "PROOF", "GET", "BLOB", "ERROR" };

	if (type >= 1 && type <= PEER_TYPE_MAX)
		return names[type];
	snprintf(buf, 16, "type %u", (unsigned)type);
	return buf;
}

/* The payload lengths of each control type: least, most. */
static const unsigned lens[PEER_TYPE_MAX + 1][2] = {
	[PEER_HELLO] = { 1 + PEER_NONCE_LEN, 1 + PEER_NONCE_LEN },
	[PEER_PROOF] = { PEER_MAC_LEN, PEER_MAC_LEN },
	[PEER_GET] = { 16, 16 },
	[PEER_ERROR] = { 4, 4 + PEER_ERROR_MSG_MAX },
};

void
peer_header_encode(unsigned char buf[PEER_HDR_LEN], uint16_t type, uint64_t len)
{
	put32(buf, PEER_MAGIC);
	put16(buf + 4, PEER_VERSION);
	put16(buf + 6, type);
	put32(buf + 8, 0);
	put64(buf + 12, len);
}

int
peer_header_decode(const unsigned char *buf, struct peer_frame *f, char *err, size_t errlen)
{
	uint32_t magic = get32(buf);
	uint16_t version = get16(buf + 4);
	char tn[16];

	if (magic != PEER_MAGIC)
		return util_fail(err, errlen, -EPROTO, "not a peer frame (magic %08x)", magic);
	if (version != PEER_VERSION)
		return util_fail(err, errlen, -EPROTO, "peer protocol version %u (this side speaks %u)",
		    (unsigned)version, PEER_VERSION);
	f->type = get16(buf + 6);
	f->flags = get32(buf + 8);
	f->len = get64(buf + 12);
	if (f->type < 1 || f->type > PEER_TYPE_MAX)
		return util_fail(err, errlen, -EPROTO, "unknown frame type %u", (unsigned)f->type);
	if (f->flags != 0)
		return util_fail(err, errlen, -EPROTO, "%s frame with unknown flags %#x",
		    peer_type_name(f->type, tn), (unsigned)f->flags);
	if (f->type == PEER_BLOB) {
		if (f->len < PEER_BLOB_HEAD)
			return util_fail(err, errlen, -EPROTO,
			    "BLOB frame of %llu bytes, shorter than its head", (unsigned long long)f->len);
	} else if (f->len > PEER_CONTROL_MAX)
		return util_fail(err, errlen, -EMSGSIZE, "%s frame of %llu bytes (at most %u)",
		    peer_type_name(f->type, tn), (unsigned long long)f->len, PEER_CONTROL_MAX);
	else if (f->len < lens[f->type][0] || f->len > lens[f->type][1])
		/* Refused before a byte of it is read: a peer that lies about
		 * a length is not waited for. */
		return util_fail(err, errlen, -EPROTO, "%s frame of %llu bytes where %u to %u are due",
		    peer_type_name(f->type, tn), (unsigned long long)f->len, lens[f->type][0],
		    lens[f->type][1]);
	return 0;
}

/* The payload of a frame of type t must be want bytes long. */
static int
exact(uint16_t t, size_t len, size_t want, char *err, size_t errlen)
{
	char tn[16];

	if (len == want)
		return 0;
	return util_fail(err, errlen, -EPROTO, "%s payload of %zu bytes where %zu were due",
	    peer_type_name(t, tn), len, want);
}

int
peer_payload_decode(const struct peer_frame *f, const unsigned char *p, size_t len, struct peer_msg *m,
    char *err, size_t errlen)
{
	int rc;
	size_t n;

	memset(m, 0, sizeof *m);
	m->type = f->type;
	if (f->type != PEER_BLOB && len != f->len)
		return util_fail(err, errlen, -EPROTO, "payload of %zu bytes where the header says %llu", len,
		    (unsigned long long)f->len);
	switch (f->type) {
	case PEER_HELLO:
		if ((rc = exact(f->type, len, 1 + PEER_NONCE_LEN, err, errlen)) != 0)
			return rc;
		m->u.hello.role = p[0];
		if (p[0] != PEER_ROLE_CLIENT && p[0] != PEER_ROLE_SERVER)
			return util_fail(err, errlen, -EPROTO, "HELLO with unknown role %u", (unsigned)p[0]);
		memcpy(m->u.hello.nonce, p + 1, PEER_NONCE_LEN);
		return 0;
	case PEER_PROOF:
		if ((rc = exact(f->type, len, PEER_MAC_LEN, err, errlen)) != 0)
			return rc;
		memcpy(m->u.proof.mac, p, PEER_MAC_LEN);
		return 0;
	case PEER_GET:
		if ((rc = exact(f->type, len, 16, err, errlen)) != 0)
			return rc;
		m->u.get.id = get64(p);
		m->u.get.size = get64(p + 8);
		return 0;
	case PEER_BLOB:
		if ((rc = exact(f->type, len, PEER_BLOB_HEAD, err, errlen)) != 0)
			return rc;
		m->u.blob.size = get64(p);
		m->u.blob.crc = get32(p + 8);
		m->u.blob.flags = get32(p + 12);
		if ((m->u.blob.flags & ~PEER_BLOB_CRC_AFTER) != 0)
			return util_fail(
			    err, errlen, -EPROTO, "BLOB with unknown flags %#x", (unsigned)m->u.blob.flags);
		n = m->u.blob.flags & PEER_BLOB_CRC_AFTER ? PEER_BLOB_TRAILER : 0;
		if (f->len - PEER_BLOB_HEAD < n || m->u.blob.size != f->len - PEER_BLOB_HEAD - n)
			return util_fail(err, errlen, -EPROTO, "BLOB of %llu bytes in a frame of %llu",
			    (unsigned long long)m->u.blob.size, (unsigned long long)f->len);
		if (n > 0 && m->u.blob.crc != 0)
			return util_fail(err, errlen, -EPROTO, "BLOB with its CRC both before and after");
		return 0;
	case PEER_ERROR:
		if (len < 4 || len - 4 > PEER_ERROR_MSG_MAX)
			return util_fail(err, errlen, -EPROTO, "ERROR payload of %zu bytes (4 to %u)", len,
			    4 + PEER_ERROR_MSG_MAX);
		m->u.error.err = (int)get32(p);
		if (m->u.error.err <= 0 || m->u.error.err >= 4096)
			return util_fail(err, errlen, -EPROTO, "ERROR with errno %d", m->u.error.err);
		n = len - 4;
		/* Text: a NUL inside would hide the rest of it. */
		if (memchr(p + 4, '\0', n) != NULL)
			return util_fail(err, errlen, -EPROTO, "ERROR message with a NUL byte");
		memcpy(m->u.error.msg, p + 4, n);
		m->u.error.msg[n] = '\0';
		return 0;
	default: return util_fail(err, errlen, -EPROTO, "unknown frame type %u", (unsigned)f->type);
	}
}

int
peer_msg_encode(const struct peer_msg *m, unsigned char *buf, size_t buflen)
{
	unsigned char *p = buf + PEER_HDR_LEN;
	size_t len, n;

	if (buflen < PEER_MSG_BUF)
		return -EINVAL;
	switch (m->type) {
	case PEER_HELLO:
		p[0] = m->u.hello.role;
		memcpy(p + 1, m->u.hello.nonce, PEER_NONCE_LEN);
		len = 1 + PEER_NONCE_LEN;
		break;
	case PEER_PROOF:
		memcpy(p, m->u.proof.mac, PEER_MAC_LEN);
		len = PEER_MAC_LEN;
		break;
	case PEER_GET:
		put64(p, m->u.get.id);
		put64(p + 8, m->u.get.size);
		len = 16;
		break;
	case PEER_BLOB:
		put64(p, m->u.blob.size);
		put32(p + 8, m->u.blob.crc);
		put32(p + 12, m->u.blob.flags);
		peer_header_encode(buf, PEER_BLOB,
		    PEER_BLOB_HEAD + m->u.blob.size +
			(m->u.blob.flags & PEER_BLOB_CRC_AFTER ? PEER_BLOB_TRAILER : 0));
		return PEER_HDR_LEN + PEER_BLOB_HEAD;
	case PEER_ERROR:
		n = strnlen(m->u.error.msg, PEER_ERROR_MSG_MAX);
		put32(p, (uint32_t)m->u.error.err);
		memcpy(p + 4, m->u.error.msg, n);
		len = 4 + n;
		break;
	default: return -EINVAL;
	}
	peer_header_encode(buf, m->type, len);
	return (int)(PEER_HDR_LEN + len);
}

long
peer_parse(const void *buf, size_t len, struct peer_msg *m, char *err, size_t errlen)
{
	const unsigned char *b = buf;
	struct peer_frame f;
	uint64_t need;
	int rc;

	if (len < PEER_HDR_LEN)
		return 0;
	if ((rc = peer_header_decode(b, &f, err, errlen)) != 0)
		return rc;
	need = f.type == PEER_BLOB ? PEER_BLOB_HEAD : f.len;
	if (len - PEER_HDR_LEN < need)
		return 0;
	if ((rc = peer_payload_decode(&f, b + PEER_HDR_LEN, (size_t)need, m, err, errlen)) != 0)
		return rc;
	return (long)(PEER_HDR_LEN + need);
}
