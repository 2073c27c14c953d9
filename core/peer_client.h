/*
 * peer_client: the side of the peer protocol (peer_proto.h) that fetches a
 * blob from the member holding it, straight into a new file of the local
 * store through core/durable.c (DURABLE_SRC_SOCKET: received into a
 * mapping of the file, the CRC-32C summed as the bytes arrive), checked
 * against the size asked for and the CRC the server sent, and renamed into
 * place only then: complete, or not at all (no temp file and no final name
 * is left behind by a failure, whatever it is).
 *
 * The destination is memory (the store's tmpfs): nothing is fsynced.
 *
 * Errors are -errno with the reason in err:
 *   -ENOENT        the peer does not hold the blob
 *   -EACCES        the peer refused our key, or could not prove its own
 *   -EIO           the peer's blob has another size, or the bytes that came
 *                  do not have the CRC-32C the peer sent
 *   -ECONNRESET    the peer went away (mid-transfer: no file is left)
 *   -ETIMEDOUT     connecting, or a read, took longer than the time limit
 *   -ECONNREFUSED, -EHOSTUNREACH, -ENETUNREACH: nobody listens there
 *   -EPROTO, -EMSGSIZE: the peer sent a frame that breaks the protocol
 *   -EBUSY         the peer has too many connections (try again later)
 *   -ENOSPC        no room in the destination's file system
 *   -EINVAL        addr is not HOST:PORT
 *   -EPIPE         the connection is unusable after an earlier failure
 *   any other errno the peer answered with (its open of the blob failed).
 */
#ifndef VFS_PEER_CLIENT_H
#define VFS_PEER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "peer_auth.h"

typedef struct peer_conn peer_conn_t;

/* Where a fetched blob goes. */
struct peer_dest {
	int dirfd;	  /* the store's blob directory (tmpfs) */
	const char *dir;  /* its path, for messages */
	const char *name; /* the final name ("b…"), replaced if it exists */
	const char *tmp;  /* the temp file is tmp + name while the bytes come */
};

/* Connect to the member at addr ("HOST:PORT") and authenticate with key,
 * each step and each later read or write within timeout_ms (0:
 * PEER_TIMEOUT_MS). *out is the caller's (peer_client_close). */
int peer_client_connect(const char *addr, const struct peer_key *key, unsigned timeout_ms, peer_conn_t **out,
    char *err, size_t errlen);
/* Fetch blob id of size bytes (PEER_SIZE_ANY: whatever the peer has) into
 * dst; its CRC-32C into *crc (may be NULL). A connection serves one fetch
 * after another; after an error that leaves the stream unusable (a
 * transfer cut, a bad frame) the next ones fail with -EPIPE, while an
 * error the peer answered (-ENOENT) leaves it usable. */
int peer_client_get(peer_conn_t *c, uint64_t id, uint64_t size, const struct peer_dest *dst, uint32_t *crc,
    char *err, size_t errlen);
/* Close the connection; NULL: no-op. */
void peer_client_close(peer_conn_t *c);
/* Can c serve another get (its stream in step)? */
int peer_client_usable(const peer_conn_t *c);
/* Did c's last get fail before any answer came (a connection the peer
 * had closed, for one): nothing of it was received, trying it again on
 * another connection is safe. */
int peer_client_untouched(const peer_conn_t *c);
/* One blob on a connection of its own: connect, get, close. */
int peer_fetch(const char *addr, const struct peer_key *key, uint64_t id, uint64_t size,
    const struct peer_dest *dst, uint32_t *crc, char *err, size_t errlen);

#endif
