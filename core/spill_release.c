/*
 * spill_release: the memory of evicted blobs goes back to the kernel in a
 * thread of its own, like Redis's lazy free or XFS's background inode
 * inactivation. Unmapping and closing the last references to a 1 GiB
 * tmpfs file of small pages takes about 0.2 s here (62 ms for the mapping
 * the copy read from, 125-133 ms to free the pages), a third of the time
 * of writing it out; an evict now returns once the blob is durable on disk
 * and recorded, and the next write-out overlaps the release.
 *
 * The catalog counts an evicted blob out of memory at once, but until its
 * pages are freed the kernel still counts them against the store's tmpfs.
 * So the bytes not yet released are kept in release_bytes (catalog lock):
 * spilling plans with the use there will be once they are released
 * (cat_usage), else a pass would go on evicting while the kernel's count
 * lags; and whoever is about to take memory the catalog said is there (a
 * reload, a reservation, a stream chunk) first waits until the use there
 * is now (cat_usage_now) leaves room for it: spill_wait_released.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "catalog_i.h"
#include "log.h"
#include "spill.h"
#include "spill_i.h"
#include "uring.h"

/* One blob's last references, queued. */
struct release {
	struct release *next;
	int fd;
	void *map;     /* or NULL */
	uint64_t size; /* bytes: the blob's, and the mapping's (whole pages) */
};

static void
drop(int fd, void *map, uint64_t size)
{
	if (map != NULL)
		uring_unmap(map, size);
	if (fd >= 0)
		close(fd);
}

/* size bytes are released: whoever waits for memory looks again. */
static void
released(catalog_t *c, uint64_t size)
{
	pthread_mutex_lock(&c->lock);
	c->spill->release_bytes -= size;
	pthread_cond_broadcast(&c->spill->released);
	pthread_mutex_unlock(&c->lock);
}

static void *
release_run(void *arg)
{
	catalog_t *c = arg;
	struct spill *sp = c->spill;
	struct release *r;

	pthread_mutex_lock(&sp->lock);
	for (;;) {
		while ((sp->rel_head == NULL || sp->rel_hold) && !sp->rel_stop)
			pthread_cond_wait(&sp->rel_cond, &sp->lock);
		if ((r = sp->rel_head) == NULL)
			break; /* stopped, and nothing left */
		sp->rel_head = r->next;
		if (sp->rel_head == NULL)
			sp->rel_tail = NULL;
		pthread_mutex_unlock(&sp->lock);
		drop(r->fd, r->map, r->size);
		released(c, r->size);
		free(r);
		pthread_mutex_lock(&sp->lock);
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

int
spill_release_start(catalog_t *c)
{
	struct spill *sp = c->spill;
	int rc;

	pthread_cond_init(&sp->rel_cond, NULL);
	pthread_cond_init(&sp->released, NULL);
	if ((rc = pthread_create(&sp->rel_thread, NULL, release_run, c)) != 0) {
		log_error("cannot start the thread that releases evicted memory: %s", strerror(rc));
		return -rc;
	}
	sp->releasing = 1;
	return 0;
}

void
spill_release_stop(catalog_t *c)
{
	struct spill *sp = c->spill;

	if (!sp->releasing)
		return;
	pthread_mutex_lock(&sp->lock);
	sp->rel_stop = 1;
	sp->rel_hold = 0;
	pthread_cond_signal(&sp->rel_cond);
	pthread_mutex_unlock(&sp->lock);
	pthread_join(sp->rel_thread, NULL);
	sp->releasing = 0;
	pthread_cond_destroy(&sp->rel_cond);
	pthread_cond_destroy(&sp->released);
}

uint64_t
spill_releasing(const catalog_t *c)
{
	return c->spill != NULL ? c->spill->release_bytes : 0;
}

int
spill_release_running(const struct spill *sp)
{
	return sp->releasing;
}

void
spill_release(catalog_t *c, int fd, void *map, uint64_t size)
{
	struct spill *sp = c->spill;
	struct release *r = malloc(sizeof *r);

	if (r == NULL) {
		/* Released here, then; the bytes are not pending any more. */
		drop(fd, map, size);
		released(c, size);
		return;
	}
	*r = (struct release){ .fd = fd, .map = map, .size = size };
	pthread_mutex_lock(&sp->lock);
	if (sp->rel_tail != NULL)
		sp->rel_tail->next = r;
	else
		sp->rel_head = r;
	sp->rel_tail = r;
	pthread_cond_signal(&sp->rel_cond);
	pthread_mutex_unlock(&sp->lock);
}

void
spill_wait_released(catalog_t *c, uint64_t need)
{
	struct spill *sp = c->spill;

	if (sp == NULL)
		return;
	while (sp->release_bytes > 0 && cat_usage_now(c) + need > c->cfg.memory_limit) {
		sp->release_waiters++;
		pthread_cond_wait(&sp->released, &c->lock);
		sp->release_waiters--;
	}
}

void
spill_release_hold(catalog_t *c, int hold)
{
	struct spill *sp = c->spill;

	pthread_mutex_lock(&sp->lock);
	sp->rel_hold = hold;
	pthread_cond_signal(&sp->rel_cond);
	pthread_mutex_unlock(&sp->lock);
}

unsigned
spill_release_waiters(catalog_t *c)
{
	unsigned n;

	pthread_mutex_lock(&c->lock);
	n = c->spill->release_waiters;
	pthread_mutex_unlock(&c->lock);
	return n;
}
