/*
 * check_mem: the memory budget without a catalog or a tmpfs of its own
 * (the bytes counted by mem.c are the usage): reservations against the
 * limit, sealed bytes in and out, evicted bytes counted as being released
 * until the releaser gives them back, and waiting for them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "tests/check_core.h"

#define MIB (1024 * 1024)

static void
nap(void)
{
	struct timespec ts = { 0, 1000000 };

	nanosleep(&ts, NULL);
}

START_TEST(test_reserve)
{
	uint64_t a = 0, b = 0;
	mem_t *m;

	ck_assert_int_eq(mem_create(10 * MIB, NULL, &m), 0);
	ck_assert_uint_eq(mem_limit(m), 10 * MIB);
	ck_assert_int_eq(mem_kernel_limited(m), 0);
	ck_assert_int_eq(mem_reserve(m, &a, 4 * MIB), 0);
	ck_assert_uint_eq(a, 4 * MIB);
	ck_assert_int_eq(mem_reserve(m, &b, 6 * MIB), 0);
	ck_assert_uint_eq(mem_used_now(m), 10 * MIB);
	/* Past the limit: refused, and the reservation stays as it was. */
	ck_assert_int_eq(mem_reserve(m, &b, 6 * MIB + 1), -ENOSPC);
	ck_assert_uint_eq(b, 6 * MIB);
	/* Shrinking makes room for the other. */
	ck_assert_int_eq(mem_reserve(m, &a, 1 * MIB), 0);
	ck_assert_int_eq(mem_reserve(m, &b, 9 * MIB), 0);
	ck_assert_uint_eq(mem_used(m), 10 * MIB);
	/* A seal: the reservation ends, the bytes count as resident. */
	ck_assert_int_eq(mem_reserve(m, &b, 0), 0);
	mem_resident_add(m, 9 * MIB);
	ck_assert_uint_eq(mem_resident(m), 9 * MIB);
	ck_assert_uint_eq(mem_used_now(m), 10 * MIB);
	ck_assert_int_eq(mem_reserve(m, &a, 1 * MIB + 1), -ENOSPC);
	mem_resident_sub(m, 9 * MIB);
	ck_assert_int_eq(mem_reserve(m, &a, 0), 0);
	ck_assert_uint_eq(mem_used_now(m), 0);
	mem_destroy(m);
}
END_TEST

START_TEST(test_evict_without_releaser)
{
	mem_t *m;

	ck_assert_int_eq(mem_create(10 * MIB, NULL, &m), 0);
	mem_resident_add(m, 3 * MIB);
	/* No releaser: the caller frees the pages itself, nothing pending. */
	ck_assert_int_eq(mem_evicted(m, 3 * MIB), 0);
	ck_assert_uint_eq(mem_releasing(m), 0);
	ck_assert_uint_eq(mem_used_now(m), 0);
	mem_wait_released(m, 10 * MIB); /* nothing to wait for */
	mem_destroy(m);
}
END_TEST

START_TEST(test_release_accounting)
{
	uint64_t held = 0;
	mem_t *m;
	int fd;

	ck_assert_int_eq(mem_create(10 * MIB, NULL, &m), 0);
	ck_assert_int_eq(mem_release_start(m), 0);
	mem_resident_add(m, 8 * MIB);
	mem_release_hold(m, 1);
	ck_assert_int_eq(mem_evicted(m, 8 * MIB), 1);
	/* Gone from the plan, still there for the kernel. */
	ck_assert_uint_eq(mem_resident(m), 0);
	ck_assert_uint_eq(mem_releasing(m), 8 * MIB);
	ck_assert_uint_eq(mem_used_now(m), 8 * MIB);
	ck_assert_uint_eq(mem_used(m), 0);
	/* A reservation plans without the bytes being released. */
	ck_assert_int_eq(mem_reserve(m, &held, 9 * MIB), 0);
	ck_assert_int_eq(mem_reserve(m, &held, 0), 0);
	ck_assert_int_ge(fd = open("/dev/null", O_RDONLY | O_CLOEXEC), 0);
	mem_release(m, fd, NULL, 8 * MIB);
	ck_assert_uint_eq(mem_releasing(m), 8 * MIB); /* held */
	mem_release_hold(m, 0);
	while (mem_releasing(m) > 0)
		nap();
	ck_assert_uint_eq(mem_used_now(m), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1); /* the releaser closed it */
	mem_destroy(m);
}
END_TEST

struct waiter {
	mem_t *m;
	uint64_t need;
	int done;
};

static void *
wait_run(void *arg)
{
	struct waiter *w = arg;

	mem_wait_released(w->m, w->need);
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

START_TEST(test_wait_released)
{
	struct waiter w = { .need = 4 * MIB };
	pthread_t t;
	mem_t *m;
	int i;

	ck_assert_int_eq(mem_create(10 * MIB, NULL, &m), 0);
	w.m = m;
	ck_assert_int_eq(mem_release_start(m), 0);
	mem_resident_add(m, 8 * MIB);
	mem_release_hold(m, 1);
	ck_assert_int_eq(mem_evicted(m, 8 * MIB), 1);
	mem_release(m, -1, NULL, 8 * MIB);
	/* 8 of 10 MiB still in use as the kernel counts: 4 more must wait. */
	ck_assert_int_eq(pthread_create(&t, NULL, wait_run, &w), 0);
	for (i = 0; i < 10000 && mem_release_waiters(m) == 0; i++)
		nap();
	ck_assert_uint_eq(mem_release_waiters(m), 1);
	ck_assert_int_eq(__atomic_load_n(&w.done, __ATOMIC_SEQ_CST), 0);
	/* 2 more fit now: no wait. */
	mem_wait_released(m, 2 * MIB);
	mem_release_hold(m, 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(w.done, 1);
	ck_assert_uint_eq(mem_release_waiters(m), 0);
	ck_assert_uint_eq(mem_releasing(m), 0);
	mem_destroy(m);
}
END_TEST

START_TEST(test_stop_drains)
{
	mem_t *m;
	int i;

	ck_assert_int_eq(mem_create(10 * MIB, NULL, &m), 0);
	ck_assert_int_eq(mem_release_start(m), 0);
	mem_resident_add(m, 5 * MIB);
	mem_release_hold(m, 1);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(mem_evicted(m, MIB), 1);
		mem_release(m, -1, NULL, MIB);
	}
	/* Stopping lets go of the hold and releases everything queued. */
	mem_release_stop(m);
	ck_assert_uint_eq(mem_releasing(m), 0);
	ck_assert_int_eq(mem_evicted(m, 0), 0);
	mem_destroy(m);
}
END_TEST

Suite *
mem_suite(void)
{
	Suite *s = suite_create("mem");
	TCase *tc = tcase_create("mem");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_reserve);
	tcase_add_test(tc, test_evict_without_releaser);
	tcase_add_test(tc, test_release_accounting);
	tcase_add_test(tc, test_wait_released);
	tcase_add_test(tc, test_stop_drains);
	suite_add_tcase(s, tc);
	return s;
}
