/*
 * metrics: counters and latency histograms that many threads update
 * without a lock, and the Prometheus text exposition format (version
 * 0.0.4) they are written in. The modules that count own their metrics
 * (fs/opstats.c the FUSE requests, request.c the control operations);
 * fs/metrics.c puts one page together from them and from the stats the
 * catalog and the cluster keep.
 *
 * A histogram has fixed buckets, from 10 µs to 10 s, the range of a
 * request here (a FUSE round trip costs 10-40 µs; a fetch of a GiB, a
 * second).
 */
#ifndef VFS_METRICS_H
#define VFS_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_BUCKETS 19 /* and +Inf */

struct metrics_hist {
	atomic_uint_fast64_t bucket[METRICS_BUCKETS + 1]; /* not cumulative; last: +Inf */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_ns;
};

/* Count one observation of ns nanoseconds. Thread safe, no lock. */
void metrics_observe(struct metrics_hist *h, uint64_t ns);

/* The HELP and TYPE lines of a metric family (type: counter, gauge,
 * histogram); once per family, before its samples. */
void metrics_family(FILE *f, const char *name, const char *type, const char *help);
/* One sample: name{label="value"} v, or name v when label is NULL. The
 * value is escaped as the format wants. */
void metrics_sample(FILE *f, const char *name, const char *label, const char *value, double v);
/* The samples of histogram h in seconds (name_bucket, name_sum,
 * name_count), with one label or none. */
void metrics_hist_write(
    FILE *f, const char *name, const char *label, const char *value, const struct metrics_hist *h);

#endif
