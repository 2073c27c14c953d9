/*
 * catalog_mem: the catalog's side of the memory limit (the budget itself
 * is mem.c's). Sealed blobs in memory count as resident; a blob being
 * written holds a reservation for its bytes when the kernel does not
 * enforce the limit (no tmpfs of the store's own), taken by the writes,
 * truncates and fallocates the daemon sees; short of memory, a writer
 * makes room (catalog_make_room: fetched copies of other members' blobs
 * are dropped first, then others are spilled), and a write cut
 * short marks its blob so that its seal discards it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "catalog_i.h"

mem_t *
catalog_mem(catalog_t *c)
{
	return c->mem;
}

int
catalog_load_begin(catalog_t *c, struct cblob *b)
{
	b->opens++; /* alive while the lock is dropped */
	while (b->loading)
		pthread_cond_wait(&c->load_cond, &c->lock);
	if (b->deleted)
		return -ENOENT;
	if (b->resident)
		return 0;
	b->loading = 1;
	return 1;
}

void
catalog_load_end(catalog_t *c, struct cblob *b)
{
	b->loading = 0;
	pthread_cond_broadcast(&c->load_cond);
}

void
catalog_blob_resident(catalog_t *c, struct cblob *b, int resident)
{
	if (b->resident == (resident != 0))
		return;
	b->resident = resident != 0;
	if (resident)
		mem_resident_add(c->mem, b->size);
	else
		mem_resident_sub(c->mem, b->size);
}

int
catalog_blob_reserve(catalog_t *c, struct cblob *b, uint64_t size)
{
	return mem_reserve(c->mem, &b->held, size);
}

ssize_t
catalog_write(catalog_t *c, uint64_t blob_id, int fd, const void *buf, size_t size, off_t off)
{
	struct cblob *b;
	ssize_t n;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	b = catalog_blob_find(c, blob_id);
	if (b == NULL || b->deleted)
		rc = -ENOENT;
	else if (b->sealed)
		rc = -EPERM;
	else if ((uint64_t)off + size > b->held &&
		 (rc = catalog_blob_reserve(c, b, (uint64_t)off + size)) != 0)
		b->cut_short = 1;
	pthread_mutex_unlock(&c->lock);
	if (rc != 0)
		return rc;
	n = pwrite(fd, buf, size, off);
	if (n >= 0)
		return n;
	rc = -errno;
	if (rc == -ENOSPC) {
		pthread_mutex_lock(&c->lock);
		if ((b = catalog_blob_find(c, blob_id)) != NULL)
			b->cut_short = 1;
		pthread_mutex_unlock(&c->lock);
	}
	return rc;
}

int
catalog_kernel_limited(const catalog_t *c)
{
	return store_kernel_limited(c->store);
}

int
catalog_room(catalog_t *c, uint64_t bytes)
{
	if (mem_used(c->mem) + bytes <= c->cfg.memory_limit) {
		mem_wait_released(c->mem, bytes); /* as the kernel counts it, too */
		return 0;
	}
	return catalog_make_room(c, bytes);
}

int
catalog_make_room(catalog_t *c, uint64_t need)
{
	uint64_t limit = c->cfg.memory_limit, used;

	if (need > limit)
		return -ENOSPC;
	/* Fetched copies first: they cost no write (catalog_cache.c). */
	pthread_mutex_lock(&c->lock);
	if ((used = mem_used(c->mem)) + need > limit)
		catalog_cache_drop(c, used + need - limit);
	used = mem_used(c->mem);
	pthread_mutex_unlock(&c->lock);
	if (used + need <= limit) {
		mem_wait_released(c->mem, need);
		return 0;
	}
	return c->spill != NULL ? catalog_spill_make_room(c, need) : -ENOSPC;
}

int
catalog_fallocate(catalog_t *c, uint64_t blob_id, int fd, int mode, off_t off, off_t len)
{
	struct cblob *b;
	uint64_t end = (uint64_t)off + (uint64_t)len, before = 0;
	int rc = 0, own_fd = -1, grew = 0, spilled = 0;

	if (off < 0 || len <= 0)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
again:
	if ((b = catalog_blob_find(c, blob_id)) == NULL || b->deleted)
		rc = -ENOENT;
	else if (b->sealed)
		rc = -EPERM;
	else if (end > b->held) {
		before = b->held;
		if ((rc = catalog_blob_reserve(c, b, end)) == 0)
			grew = 1;
		else if (!spilled) {
			/* Short of memory: make room (drop fetched copies, spill
			 * others), once. */
			spilled = 1;
			b->opens++;
			pthread_mutex_unlock(&c->lock);
			catalog_make_room(c, end - before);
			pthread_mutex_lock(&c->lock);
			b->opens--;
			catalog_blob_maybe_free(c, b);
			rc = 0;
			goto again;
		} else
			b->cut_short = 1; /* like a write: the object is incomplete */
	}
	if (rc == 0 && fd < 0)
		rc = store_blob_open(c->store, blob_id, O_RDWR, &own_fd);
	if (rc == 0)
		b->opens++; /* alive while the lock is dropped */
	pthread_mutex_unlock(&c->lock);
	if (rc != 0)
		return rc;
	/* Outside the lock: reserving a GiB zeroes a GiB. Short of memory,
	 * make room, once. */
	if (fallocate(fd >= 0 ? fd : own_fd, mode, off, len) != 0 && (rc = -errno) == -ENOSPC && !spilled &&
	    catalog_make_room(c, (uint64_t)len) == 0)
		rc = fallocate(fd >= 0 ? fd : own_fd, mode, off, len) != 0 ? -errno : 0;
	if (own_fd >= 0)
		close(own_fd);
	pthread_mutex_lock(&c->lock);
	if (rc != 0 && grew && b->held == end)
		catalog_blob_reserve(c, b, before);
	if (rc == -ENOSPC)
		b->cut_short = 1;
	b->opens--;
	catalog_blob_maybe_free(c, b);
	pthread_mutex_unlock(&c->lock);
	return rc;
}
