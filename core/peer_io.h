/*
 * peer_io: the sockets of the peer protocol: addresses "HOST:PORT",
 * listening, connecting within a time limit, and whole frames sent and
 * received with a time limit on every read and write (SO_RCVTIMEO,
 * SO_SNDTIMEO), so that a silent or stalled peer costs a timeout, never a
 * thread for ever. A frame's header is checked before its payload is
 * read, so a lying length costs nothing: it is refused.
 *
 * Errors are -errno: -ETIMEDOUT (the peer stalled), -ECONNRESET (it went
 * away mid-frame, or reset), -EPIPE, -ECONNREFUSED, -EPROTO / -EMSGSIZE (a
 * bad frame, peer_proto.h), with the reason in err.
 */
#ifndef VFS_PEER_IO_H
#define VFS_PEER_IO_H

#include <stddef.h>

#include "peer_proto.h"

#define PEER_TIMEOUT_MS 10000 /* default limit on one read, write or connect */

/* Split "HOST:PORT" or "[V6]:PORT" into its parts; an empty or "*" host
 * is the empty string (any address, when listening). -EINVAL. */
int peer_io_split(const char *addr, char *host, size_t hostlen, char *port, size_t portlen);
/* A listening TCP socket on addr (port 0: one the kernel picks), close on
 * exec, into *fd (the caller's). -errno with err. */
int peer_io_listen(const char *addr, int *fd, char *err, size_t errlen);
/* The port a socket is bound to, or 0. */
unsigned peer_io_port(int fd);
/* A TCP connection to addr made within timeout_ms (-ETIMEDOUT), with
 * peer_io_limits applied, into *fd (the caller's). -errno with err. */
int peer_io_connect(const char *addr, unsigned timeout_ms, int *fd, char *err, size_t errlen);
/* Every later read and write on fd fails with -ETIMEDOUT after timeout_ms
 * without progress; no Nagle delay on the small frames. 0 or -errno. */
int peer_io_limits(int fd, unsigned timeout_ms);
/* Send len bytes, all of them (no SIGPIPE); more: more follows at once
 * (MSG_MORE: a header and the bytes behind it go out in one segment). */
int peer_io_send(int fd, const void *buf, size_t len, int more);
/* Receive exactly len bytes, all within the socket's time limit: 0; 1
 * when the peer closed cleanly before the first byte; -ECONNRESET when it
 * closed after; -ETIMEDOUT; -errno. */
int peer_io_recv(int fd, void *buf, size_t len);
/* Send one message (peer_msg_encode); more as peer_io_send. */
int peer_io_send_msg(int fd, const struct peer_msg *m, int more);
/* Send an ERROR frame: errno e (positive) and the message; best effort
 * (the connection is usually closed next). */
void peer_io_send_error(int fd, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Receive one message (a BLOB: its header and head; the bytes stay in the
 * socket): 0; 1 when the peer closed cleanly between frames; -errno with
 * err (the frame's own errors as peer_proto.h's). */
int peer_io_recv_msg(int fd, struct peer_msg *m, char *err, size_t errlen);

#endif
