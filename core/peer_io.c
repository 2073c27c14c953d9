/*
 * peer_io: see peer_io.h. Blocking sockets with kernel time limits: the
 * simplest code that cannot hang, one connection per thread.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer_io.h"
#include "util.h"

int
peer_io_split(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon, *h = addr, *hend;
	size_t n;

	if (addr == NULL || (colon = strrchr(addr, ':')) == NULL)
		return -EINVAL;
	hend = colon;
	if (addr[0] == '[') {
		if (colon == addr || colon[-1] != ']')
			return -EINVAL;
		h = addr + 1;
		hend = colon - 1;
	}
	n = (size_t)(hend - h);
	if (n == 1 && h[0] == '*')
		n = 0;
	if (n >= hostlen || strlen(colon + 1) >= portlen || colon[1] == '\0')
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

/* addr resolved for a stream socket; *res the caller's (freeaddrinfo). */
static int
resolve(const char *addr, int passive, struct addrinfo **res, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	char host[256], port[16];
	int rc;

	if (peer_io_split(addr, host, sizeof host, port, sizeof port) != 0)
		return util_fail(err, errlen, -EINVAL, "%s: not HOST:PORT", addr != NULL ? addr : "(null)");
	if (passive)
		hints.ai_flags |= AI_PASSIVE;
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, res);
	if (rc != 0)
		return util_fail(err, errlen, rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL, "%s: %s", addr,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	return 0;
}

int
peer_io_listen(const char *addr, int *fd, char *err, size_t errlen)
{
	struct addrinfo *res, *ai;
	int rc, one = 1, s = -1, e = EADDRNOTAVAIL;

	*fd = -1;
	if ((rc = resolve(addr, 1, &res, err, errlen)) != 0)
		return rc;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (s < 0) {
			e = errno;
			continue;
		}
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, 128) == 0)
			break;
		e = errno;
		close(s);
		s = -1;
	}
	freeaddrinfo(res);
	if (s < 0)
		return util_fail(err, errlen, -e, "cannot listen on %s: %s", addr, strerror(e));
	*fd = s;
	return 0;
}

unsigned
peer_io_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

int
peer_io_limits(int fd, unsigned timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
		return -errno;
	return 0;
}

/* Connect s to ai within timeout_ms: 0 or -errno. */
static int
connect_within(int s, const struct addrinfo *ai, unsigned timeout_ms)
{
	struct pollfd p = { .fd = s, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int e = 0, rc;

	if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	do
		rc = poll(&p, 1, (int)timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT;
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
		return -errno;
	return -e;
}

int
peer_io_connect(const char *addr, unsigned timeout_ms, int *fd, char *err, size_t errlen)
{
	struct addrinfo *res, *ai;
	int rc, s = -1;

	*fd = -1;
	if ((rc = resolve(addr, 0, &res, err, errlen)) != 0)
		return rc;
	rc = -EADDRNOTAVAIL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (s < 0) {
			rc = -errno;
			continue;
		}
		if ((rc = connect_within(s, ai, timeout_ms)) == 0)
			break;
		close(s);
		s = -1;
	}
	freeaddrinfo(res);
	if (s < 0)
		return util_fail(err, errlen, rc, "cannot connect to %s: %s", addr, strerror(-rc));
	if (fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK) != 0 ||
	    (rc = peer_io_limits(s, timeout_ms)) != 0) {
		rc = rc != 0 ? rc : -errno;
		close(s);
		return util_fail(err, errlen, rc, "socket to %s: %s", addr, strerror(-rc));
	}
	*fd = s;
	return 0;
}

/* errno after a failed send or recv, as this module reports it. */
static int
io_errno(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
}

int
peer_io_send(int fd, const void *buf, size_t len, int more)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return io_errno();
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fd's receive time limit in nanoseconds (0: none). */
static int64_t
recv_limit(int fd)
{
	struct timeval tv;
	socklen_t len = sizeof tv;

	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) != 0)
		return 0;
	return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

int
peer_io_recv(int fd, void *buf, size_t len)
{
	int64_t start = util_mono_ns(), limit = -1;
	char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(fd, p + got, len - got, MSG_WAITALL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return io_errno();
		}
		if (n == 0)
			return got == 0 ? 1 : -ECONNRESET;
		got += (size_t)n;
		/* The time limit holds for the whole: a peer that sends a
		 * byte now and then does not hold a thread for ever. */
		if (got < len) {
			if (limit < 0)
				limit = recv_limit(fd);
			if (limit > 0 && util_mono_ns() - start > limit)
				return -ETIMEDOUT;
		}
	}
	return 0;
}

int
peer_io_send_msg(int fd, const struct peer_msg *m, int more)
{
	unsigned char buf[PEER_MSG_BUF];
	int n = peer_msg_encode(m, buf, sizeof buf);

	return n < 0 ? n : peer_io_send(fd, buf, (size_t)n, more);
}

void
peer_io_send_error(int fd, int e, const char *fmt, ...)
{
	struct peer_msg m = { .type = PEER_ERROR };
	va_list ap;

	m.u.error.err = e;
	va_start(ap, fmt);
	vsnprintf(m.u.error.msg, sizeof m.u.error.msg, fmt, ap);
	va_end(ap);
	peer_io_send_msg(fd, &m, 0);
}

int
peer_io_recv_msg(int fd, struct peer_msg *m, char *err, size_t errlen)
{
	unsigned char hdr[PEER_HDR_LEN], payload[PEER_MSG_BUF];
	struct peer_frame f;
	size_t len;
	int rc;

	if ((rc = peer_io_recv(fd, hdr, sizeof hdr)) == 1)
		return 1;
	if (rc != 0)
		return util_fail(err, errlen, rc, "receiving a frame: %s", strerror(-rc));
	if ((rc = peer_header_decode(hdr, &f, err, errlen)) != 0)
		return rc;
	len = f.type == PEER_BLOB ? PEER_BLOB_HEAD : (size_t)f.len;
	if (len > sizeof payload) /* peer_header_decode bounds every type's */
		return util_fail(err, errlen, -EMSGSIZE, "frame of %zu bytes", len);
	if ((rc = peer_io_recv(fd, payload, len)) != 0) {
		rc = rc == 1 ? -ECONNRESET : rc;
		return util_fail(err, errlen, rc, "receiving a frame's %zu bytes: %s", len, strerror(-rc));
	}
	return peer_payload_decode(&f, payload, len, m, err, errlen);
}
