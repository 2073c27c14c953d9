/*
 * peer_auth: see peer_auth.h. The proof is HMAC-SHA256(key, role || the
 * other side's nonce || own nonce): bound to this connection (both nonces
 * are fresh) and to the side that makes it (the role byte), so that
 * neither a replay nor a reflection of the other side's proof, through a
 * second connection, passes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "peer_auth.h"
#include "peer_io.h"
#include "util.h"

int
peer_key_load(const char *path, struct peer_key *key, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, rc = 0;

	key->len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return util_fail(err, errlen, -errno, "cluster key %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = util_fail(err, errlen, -errno, "cluster key %s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = util_fail(err, errlen, -EPERM,
		    "cluster key %s: mode %04o gives group or others access (chmod 600)", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	/* One byte more than the limit: a longer file says so. */
	while (len <= PEER_KEY_MAX) {
		unsigned char extra;
		void *dst = len < PEER_KEY_MAX ? (void *)(key->bytes + len) : (void *)&extra;

		n = read(fd, dst, len < PEER_KEY_MAX ? PEER_KEY_MAX - len : 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = util_fail(err, errlen, -errno, "cluster key %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > PEER_KEY_MAX) {
		rc = util_fail(
		    err, errlen, -EFBIG, "cluster key %s: longer than %u bytes", path, PEER_KEY_MAX);
		goto out;
	}
	if (len > 0 && key->bytes[len - 1] == '\n')
		len--;
	if (len > 0 && key->bytes[len - 1] == '\r')
		len--;
	if (len < PEER_KEY_MIN) {
		rc = util_fail(err, errlen, -EINVAL,
		    "cluster key %s: %zu bytes, at least %u wanted (head -c 32 /dev/urandom)", path, len,
		    PEER_KEY_MIN);
		goto out;
	}
	key->len = len;
out:
	close(fd);
	if (rc != 0)
		peer_key_clear(key);
	return rc;
}

void
peer_key_none(struct peer_key *key)
{
	key->len = 0;
}

void
peer_key_clear(struct peer_key *key)
{
	OPENSSL_cleanse(key->bytes, sizeof key->bytes);
	key->len = 0;
}

/* HMAC-SHA256(key, role || theirs || ours) into mac. */
static int
proof(const struct peer_key *key, unsigned char role, const unsigned char *theirs, const unsigned char *ours,
    unsigned char mac[PEER_MAC_LEN])
{
	static const unsigned char empty[1];
	unsigned char in[1 + 2 * PEER_NONCE_LEN];
	unsigned int len = 0;

	in[0] = role;
	memcpy(in + 1, theirs, PEER_NONCE_LEN);
	memcpy(in + 1 + PEER_NONCE_LEN, ours, PEER_NONCE_LEN);
	if (HMAC(EVP_sha256(), key->len > 0 ? key->bytes : empty, (int)key->len, in, sizeof in, mac, &len) ==
		NULL ||
	    len != PEER_MAC_LEN)
		return -EIO;
	return 0;
}

/* Send a HELLO of role with a fresh nonce (into nonce). */
static int
hello(int fd, unsigned char role, unsigned char nonce[PEER_NONCE_LEN], char *err, size_t errlen)
{
	struct peer_msg m = { .type = PEER_HELLO };
	int rc;

	if (RAND_bytes(nonce, PEER_NONCE_LEN) != 1)
		return util_fail(err, errlen, -EIO, "no random bytes for a nonce");
	m.u.hello.role = role;
	memcpy(m.u.hello.nonce, nonce, PEER_NONCE_LEN);
	if ((rc = peer_io_send_msg(fd, &m, 0)) != 0)
		return util_fail(err, errlen, rc, "sending HELLO: %s", strerror(-rc));
	return 0;
}

/* Receive a message of type want; an ERROR from the peer is its errno. */
static int
expect(int fd, uint16_t want, struct peer_msg *m, char *err, size_t errlen)
{
	char tn[16];
	int rc = peer_io_recv_msg(fd, m, err, errlen);

	if (rc == 1)
		return util_fail(err, errlen, -ECONNRESET, "the peer closed the connection");
	if (rc != 0)
		return rc;
	if (m->type == PEER_ERROR)
		return util_fail(err, errlen, -m->u.error.err, "the peer refused: %s", m->u.error.msg);
	if (m->type != want)
		return util_fail(err, errlen, -EPROTO, "%s frame where %s was due",
		    peer_type_name(m->type, tn), want == PEER_HELLO ? "HELLO" : "PROOF");
	return 0;
}

/* A HELLO from the other role with a nonce that is not ours (NULL: not
 * made yet). */
static int
check_hello(const struct peer_msg *m, unsigned char role, const unsigned char *ours, char *err, size_t errlen)
{
	if (m->u.hello.role != role)
		return util_fail(
		    err, errlen, -EPROTO, "HELLO from role '%c' where '%c' was due", m->u.hello.role, role);
	if (ours != NULL && CRYPTO_memcmp(m->u.hello.nonce, ours, PEER_NONCE_LEN) == 0)
		return util_fail(err, errlen, -EPROTO, "HELLO with our own nonce (a reflection)");
	return 0;
}

/* Send our proof: role's HMAC over theirs then ours. */
static int
send_proof(int fd, const struct peer_key *key, unsigned char role, const unsigned char *theirs,
    const unsigned char *ours, char *err, size_t errlen)
{
	struct peer_msg m = { .type = PEER_PROOF };
	int rc;

	if ((rc = proof(key, role, theirs, ours, m.u.proof.mac)) != 0)
		return util_fail(err, errlen, rc, "HMAC-SHA256 failed");
	if ((rc = peer_io_send_msg(fd, &m, 0)) != 0)
		return util_fail(err, errlen, rc, "sending PROOF: %s", strerror(-rc));
	return 0;
}

/* Receive the other side's proof, made as role over ours then theirs
 * (its nonces seen from its side), and check it: -EACCES, who named. */
static int
check_proof(int fd, const struct peer_key *key, unsigned char role, const unsigned char *ours,
    const unsigned char *theirs, char *err, size_t errlen)
{
	unsigned char mac[PEER_MAC_LEN];
	struct peer_msg m;
	int rc;

	if ((rc = expect(fd, PEER_PROOF, &m, err, errlen)) != 0)
		return rc;
	if ((rc = proof(key, role, ours, theirs, mac)) != 0)
		return util_fail(err, errlen, rc, "HMAC-SHA256 failed");
	if (CRYPTO_memcmp(mac, m.u.proof.mac, PEER_MAC_LEN) != 0)
		return util_fail(err, errlen, -EACCES, "the %s does not hold the cluster key",
		    role == PEER_ROLE_CLIENT ? "client" : "peer");
	return 0;
}

int
peer_auth_client(int fd, const struct peer_key *key, char *err, size_t errlen)
{
	unsigned char ours[PEER_NONCE_LEN], theirs[PEER_NONCE_LEN];
	struct peer_msg m;
	int rc;

	if ((rc = hello(fd, PEER_ROLE_CLIENT, ours, err, errlen)) != 0 ||
	    (rc = expect(fd, PEER_HELLO, &m, err, errlen)) != 0 ||
	    (rc = check_hello(&m, PEER_ROLE_SERVER, ours, err, errlen)) != 0)
		return rc;
	memcpy(theirs, m.u.hello.nonce, PEER_NONCE_LEN);
	if ((rc = send_proof(fd, key, PEER_ROLE_CLIENT, theirs, ours, err, errlen)) != 0)
		return rc;
	return check_proof(fd, key, PEER_ROLE_SERVER, ours, theirs, err, errlen);
}

int
peer_auth_server(int fd, const struct peer_key *key, char *err, size_t errlen)
{
	unsigned char ours[PEER_NONCE_LEN], theirs[PEER_NONCE_LEN];
	struct peer_msg m;
	int rc;

	if ((rc = expect(fd, PEER_HELLO, &m, err, errlen)) != 0 ||
	    (rc = check_hello(&m, PEER_ROLE_CLIENT, NULL, err, errlen)) != 0)
		goto refuse;
	memcpy(theirs, m.u.hello.nonce, PEER_NONCE_LEN);
	if ((rc = hello(fd, PEER_ROLE_SERVER, ours, err, errlen)) != 0)
		return rc;
	if ((rc = check_proof(fd, key, PEER_ROLE_CLIENT, ours, theirs, err, errlen)) != 0)
		goto refuse;
	return send_proof(fd, key, PEER_ROLE_SERVER, theirs, ours, err, errlen);
refuse:
	/* A bad frame or a wrong key is worth a word; a silent peer is not. */
	if (rc == -EACCES)
		peer_io_send_error(fd, EACCES, "authentication failed: not the cluster key");
	else if (rc == -EPROTO || rc == -EMSGSIZE)
		peer_io_send_error(fd, -rc, "handshake: %s", err != NULL ? err : "bad frame");
	return rc;
}
