/*
 * check_metrics: histograms put observations in the right buckets and are
 * written cumulatively, in seconds, ending at their count; labels and help
 * texts are escaped as the text format wants.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "tests/check_core.h"

static char *
written(void (*fn)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	fn(f, arg);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static void
write_hist(FILE *f, const void *h)
{
	metrics_hist_write(f, "t_seconds", "op", "a\"b\\c", h);
}

START_TEST(test_hist)
{
	static struct metrics_hist h;
	char *text;

	metrics_observe(&h, 5000);	  /* 5 µs: first bucket */
	metrics_observe(&h, 10000);	  /* 10 µs: on the bound, first bucket */
	metrics_observe(&h, 30000);	  /* 30 µs: le 5e-05 */
	metrics_observe(&h, 20000000000); /* 20 s: only +Inf */
	text = written(write_hist, &h);
	ck_assert_ptr_nonnull(strstr(text, "t_seconds_bucket{op=\"a\\\"b\\\\c\",le=\"1e-05\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "t_seconds_bucket{op=\"a\\\"b\\\\c\",le=\"2.5e-05\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "t_seconds_bucket{op=\"a\\\"b\\\\c\",le=\"5e-05\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(text, "t_seconds_bucket{op=\"a\\\"b\\\\c\",le=\"10\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(text, "t_seconds_bucket{op=\"a\\\"b\\\\c\",le=\"+Inf\"} 4\n"));
	ck_assert_ptr_nonnull(strstr(text, "t_seconds_sum{op=\"a\\\"b\\\\c\"} 20.000045\n"));
	ck_assert_ptr_nonnull(strstr(text, "t_seconds_count{op=\"a\\\"b\\\\c\"} 4\n"));
	free(text);
}
END_TEST

static void
write_family(FILE *f, const void *arg)
{
	(void)arg;
	metrics_family(f, "x_total", "counter", "one\\two\nthree");
	metrics_sample(f, "x_total", NULL, NULL, 42);
	metrics_sample(f, "x_total", "k", "v", 0.5);
}

START_TEST(test_family)
{
	char *text = written(write_family, NULL);

	ck_assert_str_eq(text, "# HELP x_total one\\\\two\\nthree\n# TYPE x_total counter\nx_total 42\n"
			       "x_total{k=\"v\"} 0.5\n");
	free(text);
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, test_hist);
	tcase_add_test(tc, test_family);
	suite_add_tcase(s, tc);
	return s;
}
