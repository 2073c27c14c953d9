/*
 * http: a small HTTP server (libmicrohttpd, one thread of its own) for the
 * daemon's endpoints: /metrics for Prometheus, and later the scheduler
 * extender. A request's body is read whole first, up to a bound (past it
 * the answer is 400 and the handler is not called); the handler answers
 * with a status, a content type and a body. Nothing here knows what the
 * endpoints are.
 */
#ifndef VFS_HTTP_H
#define VFS_HTTP_H

#include <stddef.h>

typedef struct http http_t;

struct http_reply {
	unsigned status;	  /* 200 unless the handler says otherwise */
	const char *content_type; /* a literal; text/plain when NULL */
	char *body;		  /* malloc'd, the server frees it; NULL: empty */
	size_t len;
};

/* Answer one request (method, url without the query, the body of len
 * bytes, NUL-terminated) in *r. Called from the server's thread. */
typedef void (*http_handler_fn)(
    void *arg, const char *method, const char *url, const char *body, size_t len, struct http_reply *r);

/* Listen on addr ("HOST:PORT", "[V6]:PORT"; port 0: any free one) and
 * serve with fn. 0, or -errno with a message in err. */
int http_start(
    const char *addr, size_t max_body, http_handler_fn fn, void *arg, http_t **out, char *err, size_t errlen);
/* The port listened on. */
unsigned http_port(const http_t *h);
/* Stop serving (requests in progress finish) and free. */
void http_stop(http_t *h);

/* A reply of status with a text body (printf format). */
void http_reply_text(struct http_reply *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
