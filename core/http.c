/*
 * http: see http.h. libmicrohttpd calls the access handler several times
 * per request: first to set up (the body buffer is made), then with each
 * piece of the body, then once more with none, when the reply is made.
 * The listening socket is made by peer_io_listen (the same HOST:PORT
 * forms as --listen), so that a port in use is an error at start.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "log.h"
#include "peer_io.h"
#include "util.h"

#define HTTP_CONNECTIONS 64
#define HTTP_TIMEOUT_S 10

struct http {
	struct MHD_Daemon *d;
	http_handler_fn fn;
	void *arg;
	size_t max_body;
	unsigned port;
};

/* One request's body as it comes. */
struct body {
	char *buf;
	size_t len, cap;
	int too_big;
};

void
http_reply_text(struct http_reply *r, unsigned status, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	free(r->body);
	r->status = status;
	r->content_type = "text/plain; charset=utf-8";
	r->body = n < 0 ? NULL : s;
	r->len = n < 0 ? 0 : (size_t)n;
}

static int
body_add(struct body *b, const char *data, size_t n, size_t max)
{
	if (b->too_big || b->len + n > max) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->buf, cap)) == NULL)
			return -ENOMEM;
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

static enum MHD_Result
answer(struct MHD_Connection *conn, struct http_reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ok;

	resp = MHD_create_response_from_buffer(r->len, r->body != NULL ? r->body : (char *)"",
	    r->body != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		free(r->body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    r->content_type ? r->content_type : "text/plain; charset=utf-8");
	ok = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ok;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct body *b = *con_cls;
	struct http_reply r = { .status = 200 };

	(void)version;
	if (b == NULL) {
		if ((b = calloc(1, sizeof *b)) == NULL)
			return MHD_NO;
		*con_cls = b;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (body_add(b, upload, *upload_size, h->max_body) != 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (b->too_big)
		http_reply_text(&r, 400, "the request body is over %zu bytes\n", h->max_body);
	else
		h->fn(h->arg, method, url, b->buf != NULL ? b->buf : "", b->len, &r);
	return answer(conn, &r);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct body *b = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (b != NULL) {
		free(b->buf);
		free(b);
		*con_cls = NULL;
	}
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("http: %s", msg);
}

int
http_start(
    const char *addr, size_t max_body, http_handler_fn fn, void *arg, http_t **out, char *err, size_t errlen)
{
	struct http *h = calloc(1, sizeof *h);
	int fd = -1, rc;

	if (h == NULL)
		return -ENOMEM;
	if ((rc = peer_io_listen(addr, &fd, err, errlen)) != 0) {
		free(h);
		return rc;
	}
	h->fn = fn;
	h->arg = arg;
	h->max_body = max_body;
	h->port = peer_io_port(fd);
	/* The logger first: MHD complains otherwise. */
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, access_cb,
	    h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)HTTP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		close(fd);
		free(h);
		return util_fail(err, errlen, -EIO, "cannot start the HTTP server on %s", addr);
	}
	*out = h;
	return 0;
}

unsigned
http_port(const http_t *h)
{
	return h->port;
}

void
http_stop(http_t *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d); /* closes the listening socket too */
	free(h);
}
