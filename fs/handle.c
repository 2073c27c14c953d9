/*
 * handle: open file and directory handles, by number. The kernel can send
 * RELEASE while another worker still answers a READ on the same handle (a
 * reader killed mid-request stops waiting and closes its file), so a handle
 * is never freed under a request: each request holds a reference for its
 * duration, and the handle goes when the last reference does.
 *
 * Under a supervisor, numbers are unique across worker restarts: worker
 * generation g numbers from g << HANDLE_GEN_SHIFT, so an open file the
 * kernel still holds from an earlier worker never names a handle of this
 * one. Such a foreign number is unknown here (a read gets EBADF, a release
 * is fine) unless supervisor.c revives it with handle_adopt.
 *
 * What a handle is, and how it closes, is its kind's (struct fs_handle):
 * this file only numbers and counts them.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/hmap.h"
#include "fs/fs.h"
#include "fs/supervisor.h"

#define HANDLE_GEN_SHIFT 40 /* 2^40 opens per worker, 2^24 workers */

struct handle {
	struct fs_handle *obj;
	unsigned refs; /* the table's, plus one per request using it */
	int released;  /* RELEASE came: no new users, gone at refs == 0 */
};

static pthread_mutex_t hlock = PTHREAD_MUTEX_INITIALIZER;
static struct hmap handles;  /* number -> struct handle; guarded by hlock */
static uint64_t next_number; /* guarded by hlock; 0: not started */

/* This worker's first number; with hlock held. */
static void
start_numbers(void)
{
	if (next_number == 0)
		next_number = ((uint64_t)fs.generation << HANDLE_GEN_SHIFT) + 1;
}

uint64_t
handle_add(struct fs_handle *obj)
{
	struct handle *h = malloc(sizeof *h);
	uint64_t n = 0;

	if (h == NULL)
		return 0;
	h->obj = obj;
	h->refs = 1;
	h->released = 0;
	pthread_mutex_lock(&hlock);
	start_numbers();
	n = next_number++;
	if (hmap_insert(&handles, n, h) != 0)
		n = 0;
	pthread_mutex_unlock(&hlock);
	if (n == 0)
		free(h);
	return n;
}

int
handle_register(struct fs_handle *h, struct fuse_file_info *fi)
{
	uint64_t n = handle_add(h);

	if (n == 0) {
		handle_free(h);
		return -ENOMEM;
	}
	fi->fh = n;
	return 0;
}

void
handle_free(struct fs_handle *h)
{
	h->ops->destroy(h);
}

struct fs_handle *
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
		handle_free(h->obj);
		free(h);
	}
}

int
handle_adopt(uint64_t n, struct fs_handle *obj)
{
	struct handle *h = malloc(sizeof *h);
	int rc = 0;

	if (h == NULL)
		return -ENOMEM;
	h->obj = obj;
	h->refs = 1;
	h->released = 0;
	pthread_mutex_lock(&hlock);
	if (hmap_find(&handles, n) != NULL)
		rc = -EEXIST;
	else
		rc = hmap_insert(&handles, n, h);
	pthread_mutex_unlock(&hlock);
	if (rc != 0)
		free(h);
	return rc;
}

int
handle_is_foreign(uint64_t n)
{
	int foreign;

	if (n == 0 || n >= ((uint64_t)fs.generation << HANDLE_GEN_SHIFT))
		return 0; /* this worker's, or not a handle */
	pthread_mutex_lock(&hlock);
	foreign = hmap_find(&handles, n) == NULL;
	pthread_mutex_unlock(&hlock);
	return foreign;
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
	handle_free(h->obj);
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
