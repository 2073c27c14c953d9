/*
 * metrics: see metrics.h. Buckets are kept apart (one atomic add per
 * observation) and summed into the cumulative form when written.
 */
#include "config.h"

#include <math.h>

#include "metrics.h"

/* Upper bounds, in nanoseconds and as written. */
static const uint64_t bound_ns[METRICS_BUCKETS] = { 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
	2500000, 5000000, 10000000, 25000000, 50000000, 100000000, 250000000, 500000000, 1000000000,
	2500000000, 5000000000, 10000000000 };
static const char *const bound_s[METRICS_BUCKETS] = { "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025",
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
	"10" };

void
metrics_observe(struct metrics_hist *h, uint64_t ns)
{
	unsigned i;

	for (i = 0; i < METRICS_BUCKETS && ns > bound_ns[i]; i++)
		;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void
metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	for (; *help != '\0'; help++) /* HELP escapes \ and newline */
		if (*help == '\\')
			fputs("\\\\", f);
		else if (*help == '\n')
			fputs("\\n", f);
		else
			fputc(*help, f);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void
label_write(FILE *f, const char *label, const char *value, const char *extra)
{
	if (label == NULL && extra == NULL)
		return;
	fputc('{', f);
	if (label != NULL) {
		fprintf(f, "%s=\"", label);
		for (; *value != '\0'; value++)
			if (*value == '\\' || *value == '"')
				fprintf(f, "\\%c", *value);
			else if (*value == '\n')
				fputs("\\n", f);
			else
				fputc(*value, f);
		fputc('"', f);
	}
	if (extra != NULL)
		fprintf(f, "%s%s", label != NULL ? "," : "", extra);
	fputc('}', f);
}

static void
value_write(FILE *f, double v)
{
	if (isnan(v))
		fputs(" NaN\n", f);
	else if (isinf(v))
		fputs(v > 0 ? " +Inf\n" : " -Inf\n", f);
	else if (v == (double)(int64_t)v && fabs(v) < 9e15)
		fprintf(f, " %lld\n", (long long)v);
	else
		fprintf(f, " %.9g\n", v);
}

void
metrics_sample(FILE *f, const char *name, const char *label, const char *value, double v)
{
	fputs(name, f);
	label_write(f, label, value, NULL);
	value_write(f, v);
}

void
metrics_hist_write(
    FILE *f, const char *name, const char *label, const char *value, const struct metrics_hist *h)
{
	uint64_t cum = 0, count = atomic_load(&h->count);
	char le[32];
	unsigned i;

	for (i = 0; i <= METRICS_BUCKETS; i++) {
		cum += atomic_load(&h->bucket[i]);
		/* Updated without a lock while we read: never let a bucket pass
		 * the count read first (+Inf is the count). */
		if (cum > count || i == METRICS_BUCKETS)
			cum = count;
		snprintf(le, sizeof le, "le=\"%s\"", i < METRICS_BUCKETS ? bound_s[i] : "+Inf");
		fprintf(f, "%s_bucket", name);
		label_write(f, label, value, le);
		value_write(f, (double)cum);
	}
	fprintf(f, "%s_sum", name);
	label_write(f, label, value, NULL);
	value_write(f, (double)atomic_load(&h->sum_ns) / 1e9);
	fprintf(f, "%s_count", name);
	label_write(f, label, value, NULL);
	value_write(f, (double)count);
}
