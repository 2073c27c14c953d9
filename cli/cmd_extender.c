/*
 * cmd_extender: `vineyardfs scheduler-extender`, the Kubernetes scheduler
 * extender (core/extender.h) as an HTTP server (core/http.h) in the
 * foreground, logging to stderr, until SIGTERM or SIGINT. It needs no
 * mount: it reads the cluster's keys in etcd.
 *
 *   POST PREFIX/filter, PREFIX/prioritize   the extender API
 *   GET  PREFIX/healthz                     "ok" (a probe)
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "core/extender.h"
#include "core/http.h"
#include "core/log.h"

struct server {
	extender_t *x;
	const char *prefix; /* "" or "/something", no trailing '/' */
};

static void
serve(void *arg, const char *method, const char *url, const char *body, size_t len, struct http_reply *r)
{
	struct server *s = arg;
	size_t plen = strlen(s->prefix);
	const char *verb = url + plen;

	if (strncmp(url, s->prefix, plen) != 0 || verb[0] != '/') {
		http_reply_text(r, 404, "no %s here: the extender answers %s/filter and %s/prioritize\n", url,
		    s->prefix, s->prefix);
		return;
	}
	verb++;
	if (strcmp(verb, "healthz") == 0) {
		http_reply_text(r, 200, "ok\n");
		return;
	}
	if (strcmp(method, "POST") != 0) {
		http_reply_text(r, 405, "%s answers POST\n", url);
		return;
	}
	r->status = extender_handle(s->x, verb, body, len, &r->body, &r->len);
	r->content_type = r->status == 200 ? "application/json" : "text/plain; charset=utf-8";
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: vineyardfs scheduler-extender --listen HOST:PORT --etcd URL[,URL] [options]\n"
	    "\n"
	    "A Kubernetes scheduler extender: scores nodes by the bytes of a Pod's required\n"
	    "objects (annotation " EXTENDER_ANNOTATION ": name1,name2) their members hold.\n"
	    "\n"
	    "  --listen HOST:PORT  where to serve (POST PREFIX/filter, PREFIX/prioritize)\n"
	    "  --etcd URL[,URL]    the cluster's etcd (its v3 gateway: http://HOST:PORT)\n"
	    "  --cluster NAME      the cluster (default \"default\")\n"
	    "  --url-prefix PATH   the scheduler's urlPrefix path (default: none)\n"
	    "  --filter MODE       live: keep nodes running a live member (default); all: keep every node\n"
	    "  -d, --debug         log every answer\n"
	    "  -h, --help          show this help\n");
}

static int
extender_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "etcd", required_argument, NULL, 'e' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "url-prefix", required_argument, NULL, 'p' },
		{ "filter", required_argument, NULL, 'F' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL, *etcd = NULL, *cluster = "default", *prefix = "";
	enum extender_filter mode = EXTENDER_FILTER_LIVE;
	struct server s = { 0 };
	char err[256], pbuf[256];
	http_t *h = NULL;
	sigset_t set;
	int c, sig, rc;

	while ((c = getopt_long(argc, argv, "dh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'e': etcd = optarg; break;
		case 'c': cluster = optarg; break;
		case 'p': prefix = optarg; break;
		case 'd': log_set_debug(1); break;
		case 'F':
			if (strcmp(optarg, "live") == 0)
				mode = EXTENDER_FILTER_LIVE;
			else if (strcmp(optarg, "all") == 0)
				mode = EXTENDER_FILTER_ALL;
			else {
				fprintf(stderr, "vineyardfs scheduler-extender: --filter is live or all\n");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (listen == NULL || etcd == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* "/sched/" and "sched" are "/sched". */
	snprintf(pbuf, sizeof pbuf, "%s%s", prefix[0] == '/' || prefix[0] == '\0' ? "" : "/", prefix);
	while (strlen(pbuf) > 0 && pbuf[strlen(pbuf) - 1] == '/')
		pbuf[strlen(pbuf) - 1] = '\0';
	s.prefix = pbuf;
	if ((rc = extender_create(etcd, cluster, mode, &s.x)) != 0) {
		fprintf(stderr, "vineyardfs scheduler-extender: %s\n",
		    rc == -EINVAL ? "bad --cluster or --etcd" : strerror(-rc));
		return 1;
	}
	/* Only the waiting thread below takes these signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((rc = http_start(listen, EXTENDER_MAX_BODY, serve, &s, &h, err, sizeof err)) != 0) {
		fprintf(stderr, "vineyardfs scheduler-extender: %s\n", err);
		extender_destroy(s.x);
		return 1;
	}
	log_info("scheduler extender on %s (port %u): POST %s/filter, %s/prioritize; cluster %s, etcd %s, "
		 "filter %s",
	    listen, http_port(h), s.prefix, s.prefix, cluster, etcd,
	    mode == EXTENDER_FILTER_ALL ? "all" : "live");
	sigwait(&set, &sig);
	log_info("scheduler extender: %s, stopping", strsignal(sig));
	http_stop(h);
	extender_destroy(s.x);
	return 0;
}

const struct cli_cmd cmd_extender_entry = {
	.name = "scheduler-extender",
	.usage =
	    "--listen HOST:PORT --etcd URL[,URL] [--cluster NAME] [--url-prefix PATH] [--filter live|all]",
	.summary = "serve the Kubernetes scheduler extender API",
	.run = extender_main,
};
