/*
 * park: requests that wait without a thread. A request whose answer is not
 * ready (a wait for a name; later, a stream read) is parked here and its
 * FUSE worker goes back to the loop; one thread of ours looks at the
 * parked requests again whenever something changed (park_kick), at their
 * deadlines, and when the kernel interrupts one (the caller got a signal),
 * and answers them from there.
 *
 * Locks: plock guards the list and the generation. The check functions
 * take the catalog lock, and the catalog's hooks take plock while holding
 * it, so checks run with plock dropped. An interrupt callback runs under
 * libfuse's request lock and takes plock; before a waiter is freed its
 * callback is unregistered, which waits for a running callback to end.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "fs/fs.h"

struct waiter {
	struct waiter *next;
	fuse_req_t req;
	park_fn fn;
	void *arg;
	int64_t deadline_ns; /* CLOCK_MONOTONIC; 0: none */
	int interrupted;     /* guarded by plock */
};

static pthread_mutex_t plock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pcond;
static struct waiter *parked; /* guarded by plock */
static uint64_t gen;	      /* guarded by plock: bumped by every kick */
static int stopping, running; /* guarded by plock */
static atomic_uint nparked;   /* for the stats */
static pthread_t thread;

static void
on_interrupt(fuse_req_t req, void *data)
{
	struct waiter *w = data;

	(void)req;
	pthread_mutex_lock(&plock);
	w->interrupted = 1;
	gen++;
	pthread_cond_signal(&pcond);
	pthread_mutex_unlock(&plock);
}

static void *
park_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&plock);
	while (!stopping) {
		struct waiter *list = parked, *w, *keep = NULL;
		uint64_t seen = gen;
		int64_t now, next = 0;

		parked = NULL;
		pthread_mutex_unlock(&plock);
		now = util_mono_ns();
		while ((w = list) != NULL) {
			enum park_why why = PARK_CHANGED;
			int intr;

			list = w->next;
			pthread_mutex_lock(&plock);
			intr = w->interrupted;
			pthread_mutex_unlock(&plock);
			if (intr)
				why = PARK_INTERRUPTED;
			else if (w->deadline_ns != 0 && now >= w->deadline_ns)
				why = PARK_TIMEOUT;
			/* Unregister first: once the owner answers, req is gone. */
			fuse_req_interrupt_func(w->req, NULL, NULL);
			if (why == PARK_INTERRUPTED) {
				fuse_reply_err(w->req, EINTR);
				w->fn(w->arg, NULL, PARK_INTERRUPTED);
				free(w);
				atomic_fetch_sub(&nparked, 1);
			} else if (w->fn(w->arg, w->req, why) != 0) {
				free(w);
				atomic_fetch_sub(&nparked, 1);
			} else {
				fuse_req_interrupt_func(w->req, on_interrupt, w);
				w->next = keep;
				keep = w;
				if (w->deadline_ns != 0 && (next == 0 || w->deadline_ns < next))
					next = w->deadline_ns;
			}
		}
		pthread_mutex_lock(&plock);
		while ((w = keep) != NULL) {
			keep = w->next;
			w->next = parked;
			parked = w;
		}
		if (gen != seen || stopping)
			continue;
		if (next == 0)
			pthread_cond_wait(&pcond, &plock);
		else {
			struct timespec ts = util_ns_ts(next);

			pthread_cond_timedwait(&pcond, &plock, &ts);
		}
	}
	pthread_mutex_unlock(&plock);
	return NULL;
}

int
park_start(void)
{
	pthread_condattr_t ca;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pcond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&thread, NULL, park_main, NULL)) != 0)
		return -rc;
	running = 1;
	return 0;
}

void
park_stop(void)
{
	struct waiter *w;

	pthread_mutex_lock(&plock);
	if (!running) {
		pthread_mutex_unlock(&plock);
		return;
	}
	stopping = 1;
	pthread_cond_signal(&pcond);
	pthread_mutex_unlock(&plock);
	pthread_join(thread, NULL);
	running = 0;
	/* The session is over: whoever still waits hears EINTR. */
	while ((w = parked) != NULL) {
		parked = w->next;
		fuse_req_interrupt_func(w->req, NULL, NULL);
		fuse_reply_err(w->req, EINTR);
		w->fn(w->arg, NULL, PARK_INTERRUPTED);
		free(w);
		atomic_fetch_sub(&nparked, 1);
	}
}

int
park_add(fuse_req_t req, park_fn fn, void *arg, int64_t timeout_ms)
{
	struct waiter *w = calloc(1, sizeof *w);

	if (w == NULL)
		return -ENOMEM;
	w->req = req;
	w->fn = fn;
	w->arg = arg;
	w->deadline_ns = timeout_ms < 0 ? 0 : util_mono_ns() + timeout_ms * 1000000;
	/* Before w is listed, so the park thread cannot have answered req;
	 * an interrupt already pending marks w at once. */
	fuse_req_interrupt_func(req, on_interrupt, w);
	pthread_mutex_lock(&plock);
	if (stopping) {
		pthread_mutex_unlock(&plock);
		fuse_req_interrupt_func(req, NULL, NULL);
		free(w);
		return -ESHUTDOWN;
	}
	w->next = parked;
	parked = w;
	atomic_fetch_add(&nparked, 1);
	/* Look once more: what it waits for may have happened meanwhile. */
	gen++;
	pthread_cond_signal(&pcond);
	pthread_mutex_unlock(&plock);
	return 0;
}

void
park_kick(void)
{
	pthread_mutex_lock(&plock);
	gen++;
	/* Nobody parked: no wake-up (every seal kicks). A park thread busy
	 * with a detached list sees gen move when it comes back. */
	if (parked != NULL)
		pthread_cond_signal(&pcond);
	pthread_mutex_unlock(&plock);
}

unsigned
park_count(void)
{
	return atomic_load(&nparked);
}
