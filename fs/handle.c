/*
 * handle: open file and directory handles, by number. The kernel can send
 * RELEASE while another worker still answers a READ on the same handle (a
 * reader killed mid-request stops waiting and closes its file), so a handle
 * is never freed under a request: each request holds a reference for its
 * duration, and the handle goes when the last reference does.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/hmap.h"
#include "fs/fs.h"

struct handle {
	void *obj;
	void (*destroy)(void *obj);
	unsigned refs;	 /* the table's, plus one per request using it */
	int released;	 /* RELEASE came: no new users, gone at refs == 0 */
};

static pthread_mutex_t hlock = PTHREAD_MUTEX_INITIALIZER;
static struct hmap handles; /* number -> struct handle; guarded by hlock */
static uint64_t next_number = 1; /* guarded by hlock */

uint64_t
handle_add(void *obj, void (*destroy)(void *obj))
{
	struct handle *h = malloc(sizeof *h);
	uint64_t n = 0;

	if (h == NULL)
		return 0;
	h->obj = obj;
	h->destroy = destroy;
	h->refs = 1;
	h->released = 0;
	pthread_mutex_lock(&hlock);
	n = next_number++;
	if (hmap_insert(&handles, n, h) != 0)
		n = 0;
	pthread_mutex_unlock(&hlock);
	if (n == 0)
		free(h);
	return n;
}

void *
handle_get(uint64_t n)
{
	struct handle *h;

	pthread_mutex_lock(&hlock);
	h = hmap_find(&handles, n);
	if (h != NULL && h->released)
		h = NULL;
	if (h != NULL)
		h->refs++;
	pthread_mutex_unlock(&hlock);
	return h != NULL ? h->obj : NULL;
}

/* Drop one reference to handle n; release: the table's own. */
static void
drop(uint64_t n, int release)
{
	struct handle *h;
	int last = 0;

	pthread_mutex_lock(&hlock);
	h = hmap_find(&handles, n);
	if (h != NULL && release) {
		if (h->released)
			h = NULL; /* released twice: nothing more to drop */
		else
			h->released = 1;
	}
	if (h != NULL && --h->refs == 0) {
		hmap_remove(&handles, n, h);
		last = 1;
	}
	pthread_mutex_unlock(&hlock);
	if (last) {
		h->destroy(h->obj);
		free(h);
	}
}

void
handle_put(uint64_t n)
{
	drop(n, 0);
}

void
handle_release(uint64_t n)
{
	drop(n, 1);
}

static void
destroy_one(void *value, void *arg)
{
	struct handle *h = value;

	(void)arg;
	h->destroy(h->obj);
	free(h);
}

void
handle_close_all(void)
{
	pthread_mutex_lock(&hlock);
	hmap_foreach(&handles, destroy_one, NULL);
	hmap_destroy(&handles);
	pthread_mutex_unlock(&hlock);
}
