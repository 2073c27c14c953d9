/*
 * progress: see progress.h. The rate is the average over the whole
 * transfer, which is steady enough for an ETA; a line is written with one
 * write(2), padded with spaces over whatever a longer line left behind.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/progress.h"
#include "core/util.h"

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)

/* s seconds as m:ss or h:mm:ss into buf. */
static void
format_time(char *buf, size_t len, uint64_t s)
{
	if (s >= 100 * 3600)
		snprintf(buf, len, ">99h");
	else if (s >= 3600)
		snprintf(buf, len, "%u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
		    (unsigned)(s % 60));
	else
		snprintf(buf, len, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

int
progress_format(char *buf, size_t len, const char *label, uint64_t done, uint64_t total, int64_t elapsed_ns)
{
	char size[48], rate[24], when[24];
	double secs = (double)elapsed_ns / 1e9, bps = 0;
	unsigned pct;

	if (done >= total)
		pct = 100;
	else {
		uint64_t d = done, t = total;

		/* Exact while done * 100 fits; past that, on fewer bits, and
		 * 100% only once done. */
		while (t > UINT64_MAX / 100) {
			d >>= 1;
			t >>= 1;
		}
		pct = d * 100 / t < 99 ? (unsigned)(d * 100 / t) : 99;
	}
	/* One unit for both sizes, chosen by the total, so that they compare
	 * at a glance. */
	if (total >= (uint64_t)GIB)
		snprintf(size, sizeof size, "%.1f/%.1f GiB", (double)done / GIB, (double)total / GIB);
	else
		snprintf(size, sizeof size, "%" PRIu64 "/%" PRIu64 " MiB", done >> 20, total >> 20);
	if (elapsed_ns <= 0)
		snprintf(rate, sizeof rate, "-- MiB/s");
	else if ((bps = (double)done / secs) >= GIB)
		snprintf(rate, sizeof rate, "%.1f GiB/s", bps / GIB);
	else if (bps >= MIB)
		snprintf(rate, sizeof rate, "%.0f MiB/s", bps / MIB);
	else
		snprintf(rate, sizeof rate, "%.0f KiB/s", bps / 1024);
	if (done >= total) {
		memcpy(when, "in ", 3);
		format_time(when + 3, sizeof when - 3, elapsed_ns > 0 ? (uint64_t)(secs + 0.5) : 0);
	} else if (bps > 0) {
		double left = (double)(total - done) / bps;
		uint64_t s = left >= 1e9 ? UINT64_MAX : (uint64_t)left;

		/* Rounded up: "0:00" would claim the transfer is over. */
		if ((double)s < left)
			s++;
		memcpy(when, "ETA ", 4);
		format_time(when + 4, sizeof when - 4, s);
	} else
		snprintf(when, sizeof when, "ETA --:--");
	return snprintf(buf, len, "%s %3u%%  %s  %s  %s", label, pct, size, rate, when);
}

static void
draw(struct progress *p, int64_t now, const char *end)
{
	char line[160];
	size_t n, shown;
	int w;

	line[0] = '\r';
	w = progress_format(line + 1, sizeof line - 1, p->label, p->done, p->total, now - p->start_ns);
	if (w < 0)
		return;
	shown = (size_t)w < sizeof line - 1 ? (size_t)w : sizeof line - 2;
	n = 1 + shown;
	while (shown < p->drawn_len && n < sizeof line - 2) {
		line[n++] = ' ';
		shown++;
	}
	n += (size_t)snprintf(line + n, sizeof line - n, "%s", end);
	/* The terminal went away: stop drawing rather than fail a transfer. */
	if (write(STDERR_FILENO, line, n) != (ssize_t)n)
		p->active = 0;
	p->drawn_len = (size_t)w;
	p->drawn_ns = now;
}

void
progress_start(struct progress *p, const char *label, uint64_t total)
{
	size_t n = strlen(label);

	memset(p, 0, sizeof *p);
	if (n < sizeof p->label)
		memcpy(p->label, label, n + 1);
	else {
		/* Keep the tail, where a path's file name is, starting on a
		 * UTF-8 character. */
		const char *tail = label + n - (sizeof p->label - 4);

		while (((unsigned char)*tail & 0xc0) == 0x80)
			tail++;
		snprintf(p->label, sizeof p->label, "...%s", tail);
	}
	p->total = total;
	p->active = total >= PROGRESS_MIN_BYTES && isatty(STDERR_FILENO);
	p->start_ns = p->drawn_ns = util_mono_ns();
}

void
progress_update(struct progress *p, uint64_t done)
{
	p->done = done;
	/* No clock read for a bar that does not draw. */
	if (p->active)
		progress_update_at(p, done, util_mono_ns());
}

void
progress_update_at(struct progress *p, uint64_t done, int64_t now_ns)
{
	p->done = done;
	if (p->active && now_ns - p->drawn_ns >= PROGRESS_INTERVAL_NS)
		draw(p, now_ns, "");
}

void
progress_end(struct progress *p)
{
	if (p->active)
		progress_end_at(p, util_mono_ns());
	p->active = 0;
}

void
progress_end_at(struct progress *p, int64_t now_ns)
{
	if (p->active)
		draw(p, now_ns, "\n");
	p->active = 0;
}
