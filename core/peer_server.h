/*
 * peer_server: the side of the peer protocol (peer_proto.h) that serves a
 * member's blobs to the others. One thread accepts; each connection gets a
 * thread of its own, up to a bound (past it a connection is answered
 * EBUSY and closed); a connection authenticates (peer_auth.h), then asks
 * for blobs one at a time, each sent from its file with sendfile.
 *
 * The server does not know the catalog: struct peer_server_ops opens a
 * blob by id for reading and lets go of it after the transfer, so the
 * catalog keeps the blob (its file and bytes) while it is sent. The
 * callbacks run on connection threads, several at once.
 */
#ifndef VFS_PEER_SERVER_H
#define VFS_PEER_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "peer_auth.h"

typedef struct peer_server peer_server_t;

/* A blob opened for sending, filled by ops->open. */
struct peer_blob {
	int fd;	       /* open for reading (sendfile: not O_DIRECT); ops->release closes it */
	uint64_t size; /* bytes to send (the file holds at least that) */
	uint32_t crc;  /* CRC-32C of those bytes, when crc_known */
	int crc_known; /* 0: the server sums the file before sending */
	void *hold;    /* ops->open's, given back to ops->release */
};

struct peer_server_ops {
	/* Open blob id for sending into b: 0, or -errno with the reason in
	 * err (errlen bytes), which the client gets with that errno:
	 * -ENOENT for a blob this member does not hold. The bytes must not
	 * change before release. */
	int (*open)(void *ctx, uint64_t id, struct peer_blob *b, char *err, size_t errlen);
	/* The transfer of b is over: rc 0 when every byte went out, else
	 * why not. Close b->fd, let go of the blob. b->crc is known by now
	 * (crc_known set), summed by the server when open did not know it. */
	void (*release)(void *ctx, struct peer_blob *b, int rc);
	void *ctx;
};

struct peer_server_config {
	const char *listen;	    /* "HOST:PORT"; port 0: any (peer_server_port) */
	const struct peer_key *key; /* the cluster key (copied) */
	struct peer_server_ops ops;
	unsigned max_conns;  /* connections at once; 0: PEER_SERVER_CONNS */
	unsigned timeout_ms; /* per read or write; 0: PEER_TIMEOUT_MS */
};

#define PEER_SERVER_CONNS 64

/* Listen and start serving; *out is the caller's until peer_server_stop.
 * -errno with the reason in err (-EADDRINUSE, -EINVAL for an address that
 * is not HOST:PORT, ...). */
int peer_server_start(const struct peer_server_config *cfg, peer_server_t **out, char *err, size_t errlen);
/* The port the server listens on (the kernel's choice for port 0). */
unsigned peer_server_port(const peer_server_t *s);
/* Close the listening socket and every connection (a transfer under way
 * fails on both ends: each blob is released with its error), join every
 * thread, free s. Returns promptly whatever the clients do. NULL: no-op. */
void peer_server_stop(peer_server_t *s);

#endif
