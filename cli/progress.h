/*
 * progress: a one-line progress bar on stderr for long transfers (put and
 * get of large objects). It draws only when stderr is a terminal and the
 * transfer is big enough to take a while; otherwise every call is a no-op,
 * so callers need not check. The line is redrawn in place with \r.
 */
#ifndef VFS_PROGRESS_H
#define VFS_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#define PROGRESS_MIN_BYTES (UINT64_C(256) << 20) /* smaller transfers end before a bar helps */
#define PROGRESS_INTERVAL_NS INT64_C(100000000)	 /* at most ten redraws a second */
#define PROGRESS_LABEL_MAX 27 /* label bytes kept, with the NUL: the line fits 80 columns */

struct progress {
	char label[PROGRESS_LABEL_MAX]; /* the caller's label, its tail if too long */
	uint64_t total;
	uint64_t done;	  /* as of the last progress_update */
	int64_t start_ns; /* util_mono_ns() */
	int64_t drawn_ns; /* the last redraw (start_ns before the first) */
	size_t drawn_len; /* length of the line on screen, to blank a longer one */
	int active;	  /* stderr is a terminal and total >= PROGRESS_MIN_BYTES */
};

/* Begin a transfer of total bytes; label (copied) names it on the line. */
void progress_start(struct progress *p, const char *label, uint64_t total);
/* done bytes are through; redraws if the last redraw is old enough. One
 * clock read per call (vDSO): cheap enough for every 64 KiB chunk. */
void progress_update(struct progress *p, uint64_t done);
/* progress_update at now_ns on util_mono_ns()'s clock, for a caller that
 * keeps the clock itself: a test, whose lines must not depend on its speed. */
void progress_update_at(struct progress *p, uint64_t done, int64_t now_ns);
/* Draw the final line and end it with a newline, if p was active. */
void progress_end(struct progress *p);
/* progress_end at now_ns, as progress_update_at. */
void progress_end_at(struct progress *p, int64_t now_ns);
/* The status line for done of total bytes elapsed_ns into a transfer, e.g.
 * "put a.csv  42%  1.2/2.9 GiB  310 MiB/s  ETA 0:05" (or "in 0:09" once
 * done reaches total), into buf; returns its length as snprintf does. */
int progress_format(
    char *buf, size_t len, const char *label, uint64_t done, uint64_t total, int64_t elapsed_ns);

#endif
