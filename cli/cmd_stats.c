/*
 * cmd_stats: `vineyardfs stats`, a live view of a mount, as juicefs stats
 * or top: every interval it reads .vineyardfs/metrics (the Prometheus page
 * the daemon renders, fs/metrics.c) and shows the rates since the last
 * read: FUSE requests per opcode and control operations per op, with their
 * mean latency, bytes spilled, reloaded, fetched and served; then memory,
 * objects and streams as they are. On a terminal the screen is redrawn;
 * else one block per interval; --json gives one JSON object a line.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cmd.h"
#include "core/util.h"
#include "core/vec.h"

#define METRICS_FILE ".vineyardfs/metrics"

struct sample {
	char name[96];	/* the metric, without its prefix */
	char label[64]; /* the value of its one label, "" without */
	double v;
};

struct page {
	struct sample *s;
	size_t n, cap;
};

/* Read the metrics page of mount into p: 0 or -errno. */
static int
page_read(const char *mount, struct page *p)
{
	char path[4096], line[1024];
	FILE *f;

	p->n = 0;
	snprintf(path, sizeof path, "%s/%s", mount, METRICS_FILE);
	if ((f = fopen(path, "r")) == NULL)
		return -errno;
	while (fgets(line, sizeof line, f) != NULL) {
		char *sp = strrchr(line, ' '), *brace, *q;
		struct sample *s;

		if (line[0] == '#' || sp == NULL || strncmp(line, "vineyardfs_", 11) != 0)
			continue;
		*sp = '\0';
		if (VEC_PUSH_ROOM(p->s, p->n, p->cap) != 0) {
			fclose(f);
			return -ENOMEM;
		}
		s = &p->s[p->n];
		memset(s, 0, sizeof *s);
		s->v = strtod(sp + 1, NULL);
		if ((brace = strchr(line, '{')) != NULL) {
			*brace = '\0';
			/* The first label's value; a bucket's le is not wanted. */
			if (strstr(brace + 1, "le=\"") == brace + 1)
				continue;
			if ((q = strchr(brace + 1, '"')) != NULL)
				snprintf(s->label, sizeof s->label, "%.*s", (int)strcspn(q + 1, "\""), q + 1);
		}
		snprintf(s->name, sizeof s->name, "%.95s", line + 11);
		p->n++;
	}
	fclose(f);
	return 0;
}

static double
get(const struct page *p, const char *name, const char *label)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->s[i].name, name) == 0 && strcmp(p->s[i].label, label ? label : "") == 0)
			return p->s[i].v;
	return 0;
}

/* The rates of the labelled counter family base (its _total, or a
 * histogram's _count and _sum) between a and b, as {label: {per_second,
 * mean_ms (histograms), total}}; labels with nothing new are left out
 * unless all. */
static json_t *
rates(const struct page *a, const struct page *b, const char *count, const char *sum, double dt, int all)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o != NULL && i < b->n; i++) {
		const struct sample *s = &b->s[i];
		double d = s->v - get(a, count, s->label), ds;
		json_t *r;

		if (strcmp(s->name, count) != 0 || s->label[0] == '\0' || (d <= 0 && !all))
			continue;
		r = json_pack("{s:f, s:f}", "per_second", d > 0 ? d / dt : 0.0, "total", s->v);
		if (r != NULL && sum != NULL && d > 0) {
			ds = get(b, sum, s->label) - get(a, sum, s->label);
			json_object_set_new(r, "mean_ms", json_real(ds / d * 1e3));
		}
		json_object_set_new(o, s->label, r);
	}
	return o;
}

static json_t *
view(const struct page *a, const struct page *b, double dt)
{
	static const char *const gauges[] = { "memory_limit_bytes", "memory_used_bytes", "in_memory_bytes",
		"spilled_bytes", "pinned_bytes", "sealed_bytes", "objects", "blobs", "names", "streams",
		"waiting_requests", "fetched_copy_bytes", "cluster_members_live" };
	static const char *const bytes[][2] = { { "spill", "spill_bytes_total" },
		{ "reload", "reload_bytes_total" }, { "fetch", "peer_fetch_bytes_total" },
		{ "serve", "peer_served_bytes_total" }, { "daemon_read", "served_read_bytes_total" },
		{ "daemon_write", "served_write_bytes_total" } };
	json_t *o = json_pack("{s:I, s:f}", "time", (json_int_t)time(NULL), "interval", dt);
	json_t *g = json_object(), *bps = json_object();
	size_t i;

	for (i = 0; i < sizeof gauges / sizeof gauges[0]; i++)
		json_object_set_new(g, gauges[i], json_real(get(b, gauges[i], NULL)));
	for (i = 0; i < sizeof bytes / sizeof bytes[0]; i++)
		json_object_set_new(bps, bytes[i][0],
		    json_real((get(b, bytes[i][1], NULL) - get(a, bytes[i][1], NULL)) / dt));
	json_object_set_new(o, "store", g);
	json_object_set_new(o, "bytes_per_second", bps);
	json_object_set_new(o, "fuse",
	    rates(a, b, "fuse_request_duration_seconds_count", "fuse_request_duration_seconds_sum", dt, 0));
	json_object_set_new(o, "fuse_totals", rates(a, b, "fuse_requests_total", NULL, dt, 1));
	json_object_set_new(o, "ctl",
	    rates(a, b, "ctl_request_duration_seconds_count", "ctl_request_duration_seconds_sum", dt, 0));
	return o;
}

static void
size(double v, char *buf, size_t len)
{
	util_format_size(v > 0 ? (uint64_t)v : 0, buf, len);
}

static void
show_rates(FILE *f, const char *title, const json_t *r)
{
	const char *k;
	json_t *v;
	int n = 0;

	fprintf(f, "%s", title);
	json_object_foreach ((json_t *)r, k, v) {
		fprintf(f, "%s%s %.0f/s (%.3f ms)", n++ % 4 == 0 ? "\n  " : "   ", k,
		    json_real_value(json_object_get(v, "per_second")),
		    json_real_value(json_object_get(v, "mean_ms")));
	}
	fprintf(f, "%s\n", n == 0 ? "\n  -" : "");
}

static void
show(FILE *f, const char *mount, const json_t *o, int tty)
{
	const json_t *g = json_object_get(o, "store"), *b = json_object_get(o, "bytes_per_second");
	char s[6][32];

	if (tty)
		fputs("\033[H\033[2J", f);
	size(json_real_value(json_object_get(g, "memory_used_bytes")), s[0], sizeof s[0]);
	size(json_real_value(json_object_get(g, "memory_limit_bytes")), s[1], sizeof s[1]);
	size(json_real_value(json_object_get(g, "in_memory_bytes")), s[2], sizeof s[2]);
	size(json_real_value(json_object_get(g, "spilled_bytes")), s[3], sizeof s[3]);
	size(json_real_value(json_object_get(g, "pinned_bytes")), s[4], sizeof s[4]);
	size(json_real_value(json_object_get(g, "fetched_copy_bytes")), s[5], sizeof s[5]);
	fprintf(f, "vineyardfs stats %s, every %.1f s%s\n", mount,
	    json_real_value(json_object_get(o, "interval")), tty ? " (Ctrl-C to quit)" : "");
	fprintf(f, "memory   %s used of %s; in memory %s, spilled %s, pinned %s, fetched copies %s\n", s[0],
	    s[1], s[2], s[3], s[4], s[5]);
	fprintf(f, "store    %.0f objects, %.0f blobs, %.0f names, %.0f streams, %.0f requests waiting\n",
	    json_real_value(json_object_get(g, "objects")), json_real_value(json_object_get(g, "blobs")),
	    json_real_value(json_object_get(g, "names")), json_real_value(json_object_get(g, "streams")),
	    json_real_value(json_object_get(g, "waiting_requests")));
	size(json_real_value(json_object_get(b, "spill")), s[0], sizeof s[0]);
	size(json_real_value(json_object_get(b, "reload")), s[1], sizeof s[1]);
	size(json_real_value(json_object_get(b, "fetch")), s[2], sizeof s[2]);
	size(json_real_value(json_object_get(b, "serve")), s[3], sizeof s[3]);
	fprintf(
	    f, "bytes/s  spill %s, reload %s, fetched %s, served to members %s\n", s[0], s[1], s[2], s[3]);
	show_rates(f, "FUSE requests (mean time to reply):", json_object_get(o, "fuse"));
	show_rates(f, "control operations:", json_object_get(o, "ctl"));
	if (!tty)
		fputc('\n', f);
	fflush(f);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: vineyardfs stats [-m MOUNT] [--interval SECS] [--count N] [--json]\n"
		   "\n"
		   "A live view of a mount: requests per second by FUSE opcode and control op with\n"
		   "their mean time, bytes spilled, reloaded and fetched per second, memory and objects.\n"
		   "\n"
		   "  -m, --mount DIR     the mount (default $VINEYARDFS_MOUNT, else /vineyard)\n"
		   "  -i, --interval SECS between views (default 1)\n"
		   "  -c, --count N       stop after N views (default: until interrupted)\n"
		   "  -j, --json          one JSON object a line\n");
}

static int
stats_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mount", required_argument, NULL, 'm' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mount = getenv("VINEYARDFS_MOUNT") ? getenv("VINEYARDFS_MOUNT") : "/vineyard";
	struct page a = { 0 }, b = { 0 }, t;
	double interval = 1;
	long count = -1, shown = 0;
	int json = 0, c, rc, tty;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:i:c:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': mount = optarg; break;
		case 'i':
			interval = strtod(optarg, &end);
			if (*end != '\0' || !(interval >= 0.05 && interval <= 3600))
				return cli_fail("--interval: 0.05 to 3600 seconds, not %s", optarg);
			break;
		case 'c':
			count = strtol(optarg, &end, 10);
			if (*end != '\0' || count < 1)
				return cli_fail("--count: a number of views, not %s", optarg);
			break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	tty = !json && isatty(STDOUT_FILENO);
	if ((rc = page_read(mount, &a)) != 0)
		return cli_fail("%s/%s: %s (is it a vineyardfs mount?)", mount, METRICS_FILE, strerror(-rc));
	while (count < 0 || shown < count) {
		struct timespec ts = { (time_t)interval, (long)((interval - floor(interval)) * 1e9) };
		json_t *o;

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		if ((rc = page_read(mount, &b)) != 0) {
			rc = cli_fail("%s/%s: %s", mount, METRICS_FILE, strerror(-rc));
			goto out;
		}
		if ((o = view(&a, &b, interval)) == NULL) {
			rc = cli_fail("out of memory");
			goto out;
		}
		if (json) {
			char *line = json_dumps(o, JSON_COMPACT);

			printf("%s\n", line != NULL ? line : "{}");
			fflush(stdout);
			free(line);
		} else
			show(stdout, mount, o, tty);
		json_decref(o);
		t = a;
		a = b;
		b = t;
		shown++;
	}
	rc = 0;
out:
	free(a.s);
	free(b.s);
	return rc;
}

const struct cli_cmd cmd_stats_entry = {
	.name = "stats",
	.usage = "[-m MOUNT] [--interval SECS] [--count N] [--json]",
	.summary = "a live view: requests per second, memory, spill",
	.run = stats_main,
};
