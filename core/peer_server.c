/*
 * peer_server: see peer_server.h. The accept thread owns the slots' life:
 * it hands a free slot to a new connection's thread, and joins a finished
 * one (and only then closes its socket, so that peer_server_stop's
 * shutdown never reaches a descriptor number reused meanwhile).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crc32c.h"
#include "id.h"
#include "log.h"
#include "peer_io.h"
#include "peer_server.h"
#include "uring.h"
#include "util.h"

enum conn_state {
	CONN_FREE, /* the slot is unused */
	CONN_BUSY, /* its thread runs */
	CONN_DONE, /* its thread is over: join it, close fd */
};

struct conn {
	struct peer_server *s;
	pthread_t thread;
	int fd;		       /* the connection; closed after the join */
	enum conn_state state; /* under s->lock */
	char who[80];	       /* the client's address, for messages */
};

struct peer_server {
	int lfd;     /* listening socket */
	int wake[2]; /* a pipe: peer_server_stop wakes the accept thread */
	pthread_t acceptor;
	unsigned port, timeout_ms, max;
	struct peer_key key;
	struct peer_server_ops ops;
	pthread_mutex_t lock;
	struct conn *conns; /* max slots; state under lock, the rest the accept thread's */
};

/* The CRC of b's bytes, for an open that did not know it. */
static int
sum(struct peer_blob *b, char *err, size_t errlen)
{
	void *map;
	int rc;

	if ((rc = uring_map_src(b->fd, b->size, &map, err, errlen)) != 0)
		return rc;
	b->crc = map != NULL ? crc32c_update(0, map, (size_t)b->size) : 0;
	b->crc_known = 1;
	uring_unmap(map, b->size);
	return 0;
}

/* The sum of a blob computed by a thread of its own while its bytes go. */
struct summer {
	pthread_t thread;
	struct peer_blob *b;
	char err[128];
	int rc;
};

static void *
sum_run(void *arg)
{
	struct summer *s = arg;

	s->rc = sum(s->b, s->err, sizeof s->err);
	return NULL;
}

/* size bytes of fd, from offset 0, onto the socket. */
static int
send_file(int sock, int fd, uint64_t size)
{
	off_t off = 0;
	ssize_t n;

	while ((uint64_t)off < size) {
		n = sendfile(
		    sock, fd, &off, size - (uint64_t)off < (1u << 30) ? size - (uint64_t)off : (1u << 30));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -EIO; /* the file is shorter than open said */
	}
	return 0;
}

/* Answer one GET. 0 when the connection can go on (the blob sent, or an
 * error answered), -errno when it cannot (a send failed mid-frame). */
static int
serve(struct conn *c, uint64_t id, uint64_t want)
{
	struct peer_server *s = c->s;
	struct peer_blob b = { .fd = -1 };
	struct peer_msg m = { .type = PEER_BLOB };
	struct summer sm = { 0 };
	char err[PEER_ERROR_MSG_MAX], ids[ID_STR_LEN + 1];
	int rc, broken = 0, summing = 0;

	id_format(id, ids);
	err[0] = '\0';
	if ((rc = s->ops.open(s->ops.ctx, id, &b, err, sizeof err)) != 0) {
		log_debug("peer %s: GET %s: %s", c->who, ids, err);
		peer_io_send_error(
		    c->fd, rc < 0 && rc > -4096 ? -rc : EIO, "%s", err[0] != '\0' ? err : strerror(-rc));
		return 0;
	}
	if (want != PEER_SIZE_ANY && want != b.size) {
		rc = -EIO;
		peer_io_send_error(c->fd, EIO, "%s has %llu bytes here, not %llu", ids,
		    (unsigned long long)b.size, (unsigned long long)want);
		goto out;
	}
	/* An unknown sum is computed on the other CPU while the bytes go,
	 * and follows them (PEER_BLOB_CRC_AFTER): summing first made the
	 * reader wait ~0.3 s a GiB before the first byte. */
	sm.b = &b;
	if (!b.crc_known && b.size > 0 && pthread_create(&sm.thread, NULL, sum_run, &sm) == 0)
		summing = 1;
	else if (!b.crc_known && (rc = sum(&b, err, sizeof err)) != 0) {
		log_warn("peer %s: GET %s: %s", c->who, ids, err);
		peer_io_send_error(c->fd, EIO, "%s: %s", ids, err);
		goto out;
	}
	m.u.blob.size = b.size;
	m.u.blob.crc = summing ? 0 : b.crc;
	m.u.blob.flags = summing ? PEER_BLOB_CRC_AFTER : 0;
	if ((rc = peer_io_send_msg(c->fd, &m, b.size > 0)) == 0)
		rc = send_file(c->fd, b.fd, b.size);
	if (summing) {
		pthread_join(sm.thread, NULL);
		if (rc == 0 && sm.rc != 0) {
			/* The bytes went, their sum cannot: the frame stays
			 * unfinished, and the reader fails on it. */
			log_warn("peer %s: GET %s: %s", c->who, ids, sm.err);
			rc = sm.rc;
		} else if (rc == 0) {
			unsigned char t[PEER_BLOB_TRAILER] = { (unsigned char)b.crc,
				(unsigned char)(b.crc >> 8), (unsigned char)(b.crc >> 16),
				(unsigned char)(b.crc >> 24) };

			rc = peer_io_send(c->fd, t, sizeof t, 0);
		}
	}
	if (rc != 0)
		log_debug("peer %s: sending %s: %s", c->who, ids, strerror(-rc));
	broken = rc; /* a BLOB frame cut short: nothing can follow it */
out:
	s->ops.release(s->ops.ctx, &b, rc);
	return broken;
}

static void *
conn_run(void *arg)
{
	struct conn *c = arg;
	struct peer_server *s = c->s;
	struct peer_msg m;
	char err[256], tn[16];
	sigset_t set;
	int rc;

	/* A client gone mid-sendfile raises SIGPIPE (sendfile has no
	 * MSG_NOSIGNAL): blocked here, it stays pending on this thread,
	 * which goes away with it, and the call fails with EPIPE. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((rc = peer_auth_server(c->fd, &s->key, err, sizeof err)) != 0) {
		if (rc == -EACCES)
			log_warn("peer %s: %s", c->who, err);
		else
			log_debug("peer %s: handshake: %s", c->who, err);
		goto out;
	}
	for (;;) {
		rc = peer_io_recv_msg(c->fd, &m, err, sizeof err);
		if (rc == 1)
			break; /* the client is done */
		if (rc == -EPROTO || rc == -EMSGSIZE)
			peer_io_send_error(c->fd, -rc, "%s", err);
		if (rc != 0) {
			log_debug("peer %s: %s", c->who, err);
			break;
		}
		if (m.type != PEER_GET) {
			peer_io_send_error(
			    c->fd, EPROTO, "%s frame where GET was due", peer_type_name(m.type, tn));
			break;
		}
		if (serve(c, m.u.get.id, m.u.get.size) != 0)
			break;
	}
out:
	/* The client sees the end now, not when the slot is reaped (the
	 * socket is closed then). */
	shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_lock(&s->lock);
	c->state = CONN_DONE;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Join the finished connections' threads and free their slots; the
 * first free slot, or NULL. */
static struct conn *
reap(struct peer_server *s)
{
	struct conn *c, *free_slot = NULL;
	unsigned i;

	for (i = 0; i < s->max; i++) {
		c = &s->conns[i];
		pthread_mutex_lock(&s->lock);
		if (c->state == CONN_DONE) {
			pthread_mutex_unlock(&s->lock);
			pthread_join(c->thread, NULL);
			close(c->fd);
			c->fd = -1;
			pthread_mutex_lock(&s->lock);
			c->state = CONN_FREE;
		}
		if (c->state == CONN_FREE && free_slot == NULL)
			free_slot = c;
		pthread_mutex_unlock(&s->lock);
	}
	return free_slot;
}

/* The peer's address of socket fd as text. */
static void
who(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char host[64], port[16];

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, port, sizeof port,
		NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%s:%s", host, port);
}

/* Give the new connection fd a slot and a thread, or refuse it. */
static void
admit(struct peer_server *s, int fd)
{
	struct conn *c = reap(s);
	int rc;

	if (c == NULL || peer_io_limits(fd, s->timeout_ms) != 0) {
		peer_io_send_error(fd, EBUSY, "too many peer connections (%u)", s->max);
		close(fd);
		return;
	}
	c->s = s;
	c->fd = fd;
	who(fd, c->who, sizeof c->who);
	pthread_mutex_lock(&s->lock);
	c->state = CONN_BUSY;
	pthread_mutex_unlock(&s->lock);
	if ((rc = pthread_create(&c->thread, NULL, conn_run, c)) != 0) {
		log_warn("peer %s: no thread for the connection: %s", c->who, strerror(rc));
		peer_io_send_error(fd, EAGAIN, "no thread for the connection");
		close(fd);
		c->fd = -1;
		pthread_mutex_lock(&s->lock);
		c->state = CONN_FREE;
		pthread_mutex_unlock(&s->lock);
	}
}

static void *
accept_run(void *arg)
{
	struct peer_server *s = arg;
	struct pollfd p[2] = { { .fd = s->lfd, .events = POLLIN }, { .fd = s->wake[0], .events = POLLIN } };
	int fd;

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			log_error("peer: poll: %s; no more connections accepted", strerror(errno));
			break;
		}
		if (p[1].revents != 0)
			break; /* peer_server_stop */
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			admit(s, fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* Out of descriptors: wait a little for some to close
			 * rather than spin on the pending connection. */
			log_warn("peer: accept: %s", strerror(errno));
			reap(s);
			poll(&p[1], 1, 100);
		}
	}
	return NULL;
}

int
peer_server_start(const struct peer_server_config *cfg, peer_server_t **out, char *err, size_t errlen)
{
	struct peer_server *s;
	int rc;

	*out = NULL;
	if (cfg->key == NULL || cfg->ops.open == NULL || cfg->ops.release == NULL)
		return util_fail(err, errlen, -EINVAL, "peer server: no key or no blob callbacks");
	if ((s = calloc(1, sizeof *s)) == NULL)
		return util_fail(err, errlen, -ENOMEM, "peer server: out of memory");
	s->lfd = s->wake[0] = s->wake[1] = -1;
	s->max = cfg->max_conns != 0 ? cfg->max_conns : PEER_SERVER_CONNS;
	s->timeout_ms = cfg->timeout_ms != 0 ? cfg->timeout_ms : PEER_TIMEOUT_MS;
	s->key = *cfg->key;
	s->ops = cfg->ops;
	pthread_mutex_init(&s->lock, NULL);
	if ((s->conns = calloc(s->max, sizeof *s->conns)) == NULL) {
		rc = util_fail(err, errlen, -ENOMEM, "peer server: out of memory");
		goto fail;
	}
	if (pipe2(s->wake, O_CLOEXEC) != 0) {
		rc = util_fail(err, errlen, -errno, "peer server: pipe: %s", strerror(errno));
		goto fail;
	}
	if ((rc = peer_io_listen(cfg->listen, &s->lfd, err, errlen)) != 0)
		goto fail;
	s->port = peer_io_port(s->lfd);
	if ((rc = pthread_create(&s->acceptor, NULL, accept_run, s)) != 0) {
		rc = util_fail(err, errlen, -rc, "peer server: thread: %s", strerror(rc));
		goto fail;
	}
	log_info("peer: listening on %s (port %u)", cfg->listen, s->port);
	*out = s;
	return 0;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->wake[0] >= 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->conns);
	free(s);
	return rc;
}

unsigned
peer_server_port(const peer_server_t *s)
{
	return s->port;
}

void
peer_server_stop(peer_server_t *s)
{
	unsigned i;
	ssize_t n;
	int busy;

	if (s == NULL)
		return;
	do
		n = write(s->wake[1], "x", 1);
	while (n < 0 && errno == EINTR);
	pthread_join(s->acceptor, NULL);
	close(s->lfd);
	/* Every read and send under way fails at once; the threads end. */
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->max; i++)
		if (s->conns[i].state == CONN_BUSY)
			shutdown(s->conns[i].fd, SHUT_RDWR);
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < s->max; i++) {
		pthread_mutex_lock(&s->lock);
		busy = s->conns[i].state != CONN_FREE;
		pthread_mutex_unlock(&s->lock);
		if (busy) {
			pthread_join(s->conns[i].thread, NULL);
			close(s->conns[i].fd);
		}
	}
	close(s->wake[0]);
	close(s->wake[1]);
	pthread_mutex_destroy(&s->lock);
	peer_key_clear(&s->key);
	free(s->conns);
	free(s);
}
