/*
 * peer_auth: the cluster key and the handshake that opens every peer
 * connection (the HMAC challenge of peer_proto.h): each side proves that it
 * holds the key before the client may ask for a byte, and the client knows
 * the bytes come from a member, not from whoever answered on the port.
 *
 * The key is a file's bytes (a trailing newline is not part of it): make
 * one with "head -c 32 /dev/urandom > key; chmod 600 key" and give every
 * member a copy. A file that group or others may read or write is refused,
 * as ssh refuses such a private key: the key is the whole of the
 * protocol's security.
 * A cluster run without a key (--cluster-insecure) uses the empty key:
 * members still agree on it, and a member with a key refuses them.
 */
#ifndef VFS_PEER_AUTH_H
#define VFS_PEER_AUTH_H

#include <stddef.h>

#define PEER_KEY_MIN 16	  /* bytes: a shorter key falls to a guess from a recorded handshake */
#define PEER_KEY_MAX 4096 /* bytes */

struct peer_key {
	size_t len; /* 0: the insecure cluster's empty key */
	unsigned char bytes[PEER_KEY_MAX];
};

/* Read the key at path into key: -EPERM when group or others have any
 * access to the file, -EINVAL when the key is shorter than PEER_KEY_MIN (empty above
 * all), -EFBIG when longer than PEER_KEY_MAX, -errno of open or read; the
 * reason in err. */
int peer_key_load(const char *path, struct peer_key *key, char *err, size_t errlen);
/* The empty key of an insecure cluster. */
void peer_key_none(struct peer_key *key);
/* Wipe a key from memory (it is the cluster's secret) before it is freed. */
void peer_key_clear(struct peer_key *key);

/* The handshake on a connected socket (timeouts set, peer_io_limits), as
 * the client: 0; -EACCES when the server refuses the key or cannot prove
 * it holds it; the server's errno when it answers an error (EBUSY: too
 * many connections); -EPROTO, -ETIMEDOUT, -ECONNRESET. The reason in err. */
int peer_auth_client(int fd, const struct peer_key *key, char *err, size_t errlen);
/* The handshake as the server: 0, or -errno with the reason in err after
 * the client was told (an ERROR frame) where it is worth telling: -EACCES
 * for a wrong key, -EPROTO for a bad frame. */
int peer_auth_server(int fd, const struct peer_key *key, char *err, size_t errlen);

#endif
