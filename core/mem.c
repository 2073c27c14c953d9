/*
 * mem: the memory budget and the releaser (see mem.h for the model). All
 * counts and the release queue are guarded by mem.lock; the releaser
 * frees a blob's pages without it, then takes it to count them out and
 * wake the waiters.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "uring.h"

/* One evicted blob's last references, queued for the releaser. */
struct release {
	struct release *next;
	int fd;
	void *map;     /* or NULL */
	uint64_t size; /* bytes: the blob's, and the mapping's (whole pages) */
};

struct mem {
	uint64_t limit;
	store_t *store; /* or NULL */
	int kernel;	/* the store's own tmpfs enforces the limit */
	pthread_mutex_t lock;
	/* Guarded by lock. */
	uint64_t resident;	     /* sealed bytes in memory */
	uint64_t reserved;	     /* held by blobs being written (without kernel) */
	uint64_t releasing;	     /* evicted, their pages not yet given back */
	unsigned waiters;	     /* in mem_wait_released */
	pthread_cond_t released;     /* releasing went down */
	struct release *head, *tail; /* the queue */
	pthread_cond_t queued;	     /* head set, or stop/hold changed */
	int stop, hold;
	/* The releaser runs: set and cleared by start and stop alone. */
	int running;
	pthread_t thread;
};

int
mem_create(uint64_t limit, store_t *store, mem_t **out)
{
	mem_t *m = calloc(1, sizeof *m);

	if (m == NULL)
		return -ENOMEM;
	m->limit = limit;
	m->store = store;
	m->kernel = store != NULL && store_kernel_limited(store);
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->released, NULL);
	pthread_cond_init(&m->queued, NULL);
	*out = m;
	return 0;
}

void
mem_destroy(mem_t *m)
{
	if (m == NULL)
		return;
	mem_release_stop(m);
	pthread_cond_destroy(&m->queued);
	pthread_cond_destroy(&m->released);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

uint64_t
mem_limit(const mem_t *m)
{
	return m->limit;
}

int
mem_kernel_limited(const mem_t *m)
{
	return m->kernel;
}

/* Usage now; lock held. */
static uint64_t
used_now(mem_t *m)
{
	uint64_t used;

	if (m->store == NULL || store_usage(m->store, &used) != 0)
		used = m->resident + m->reserved + m->releasing;
	return used;
}

uint64_t
mem_used_now(mem_t *m)
{
	uint64_t used;

	pthread_mutex_lock(&m->lock);
	used = used_now(m);
	pthread_mutex_unlock(&m->lock);
	return used;
}

uint64_t
mem_used(mem_t *m)
{
	uint64_t now, releasing;

	pthread_mutex_lock(&m->lock);
	now = used_now(m);
	releasing = m->releasing;
	pthread_mutex_unlock(&m->lock);
	return now > releasing ? now - releasing : 0;
}

uint64_t
mem_resident(mem_t *m)
{
	uint64_t n;

	pthread_mutex_lock(&m->lock);
	n = m->resident;
	pthread_mutex_unlock(&m->lock);
	return n;
}

uint64_t
mem_releasing(mem_t *m)
{
	uint64_t n;

	pthread_mutex_lock(&m->lock);
	n = m->releasing;
	pthread_mutex_unlock(&m->lock);
	return n;
}

void
mem_resident_add(mem_t *m, uint64_t bytes)
{
	pthread_mutex_lock(&m->lock);
	m->resident += bytes;
	pthread_mutex_unlock(&m->lock);
}

void
mem_resident_sub(mem_t *m, uint64_t bytes)
{
	pthread_mutex_lock(&m->lock);
	m->resident -= bytes;
	pthread_mutex_unlock(&m->lock);
}

int
mem_evicted(mem_t *m, uint64_t bytes)
{
	int deferred;

	/* One step: usage now never dips while the bytes change hands. */
	pthread_mutex_lock(&m->lock);
	m->resident -= bytes;
	deferred = m->running;
	if (deferred)
		m->releasing += bytes;
	pthread_mutex_unlock(&m->lock);
	return deferred;
}

int
mem_reserve(mem_t *m, uint64_t *held, uint64_t bytes)
{
	int rc = 0;

	if (m->kernel)
		return 0;
	pthread_mutex_lock(&m->lock);
	if (bytes > *held) {
		uint64_t grow = bytes - *held;

		if (m->resident + m->reserved + grow > m->limit) {
			rc = -ENOSPC;
			goto out;
		}
		m->reserved += grow;
	} else
		m->reserved -= *held - bytes;
	*held = bytes;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---- the releaser ---- */

static void
drop(int fd, void *map, uint64_t size)
{
	if (map != NULL)
		uring_unmap(map, size);
	if (fd >= 0)
		close(fd);
}

/* size bytes are released: whoever waits for memory looks again. Lock
 * held. */
static void
released(mem_t *m, uint64_t size)
{
	m->releasing -= size;
	pthread_cond_broadcast(&m->released);
}

static void *
release_run(void *arg)
{
	mem_t *m = arg;
	struct release *r;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		while ((m->head == NULL || m->hold) && !m->stop)
			pthread_cond_wait(&m->queued, &m->lock);
		if ((r = m->head) == NULL)
			break; /* stopped, and nothing left */
		m->head = r->next;
		if (m->head == NULL)
			m->tail = NULL;
		pthread_mutex_unlock(&m->lock);
		drop(r->fd, r->map, r->size);
		pthread_mutex_lock(&m->lock);
		released(m, r->size);
		free(r);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int
mem_release_start(mem_t *m)
{
	int rc;

	if (m->running)
		return 0;
	m->stop = 0;
	/* running first: an eviction counted before the thread is up is
	 * queued for it all the same. */
	pthread_mutex_lock(&m->lock);
	m->running = 1;
	pthread_mutex_unlock(&m->lock);
	if ((rc = pthread_create(&m->thread, NULL, release_run, m)) != 0) {
		pthread_mutex_lock(&m->lock);
		m->running = 0;
		pthread_mutex_unlock(&m->lock);
		log_error("cannot start the thread that releases evicted memory: %s", strerror(rc));
		return -rc;
	}
	return 0;
}

void
mem_release_stop(mem_t *m)
{
	if (!m->running)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = 1;
	m->hold = 0;
	pthread_cond_signal(&m->queued);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	pthread_mutex_lock(&m->lock);
	m->running = 0;
	pthread_mutex_unlock(&m->lock);
}

void
mem_release(mem_t *m, int fd, void *map, uint64_t size)
{
	struct release *r = malloc(sizeof *r);

	if (r == NULL) {
		/* Released here, then; the bytes are not pending any more. */
		drop(fd, map, size);
		pthread_mutex_lock(&m->lock);
		released(m, size);
		pthread_mutex_unlock(&m->lock);
		return;
	}
	*r = (struct release){ .fd = fd, .map = map, .size = size };
	pthread_mutex_lock(&m->lock);
	if (m->tail != NULL)
		m->tail->next = r;
	else
		m->head = r;
	m->tail = r;
	pthread_cond_signal(&m->queued);
	pthread_mutex_unlock(&m->lock);
}

void
mem_wait_released(mem_t *m, uint64_t need)
{
	pthread_mutex_lock(&m->lock);
	while (m->releasing > 0 && used_now(m) + need > m->limit) {
		m->waiters++;
		pthread_cond_wait(&m->released, &m->lock);
		m->waiters--;
	}
	pthread_mutex_unlock(&m->lock);
}

void
mem_release_hold(mem_t *m, int hold)
{
	pthread_mutex_lock(&m->lock);
	m->hold = hold;
	pthread_cond_signal(&m->queued);
	pthread_mutex_unlock(&m->lock);
}

unsigned
mem_release_waiters(mem_t *m)
{
	unsigned n;

	pthread_mutex_lock(&m->lock);
	n = m->waiters;
	pthread_mutex_unlock(&m->lock);
	return n;
}
