/*
 * cluster_prefetch: with --prefetch, another member's object is fetched
 * here as soon as its name appears in the mirror, before anyone opens it:
 * the push a pipeline gets when a copier sends each finished file to the
 * next stage's node. The watch thread only queues the object (it must not
 * wait on a transfer); one thread of this module fetches, oldest name
 * first, through the catalog's own fetch (so an open of the same blob
 * meanwhile shares the transfer, and the copy is a cache copy like any).
 *
 * A prefetch is a guess: it only uses free memory, up to 3/4 of the
 * store's limit, and never drops a copy or spills anything to make room.
 * An object that does not fit is skipped (counted), and its first open
 * fetches it as without --prefetch.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_cache.h"
#include "cluster_i.h"
#include "id.h"
#include "log.h"
#include "vec.h"

#define PREFETCH_QUEUE_MAX 4096 /* names waiting; more are skipped */

void
cluster_prefetch_queue(cluster_t *cl, uint64_t id)
{
	if (!cl->prefetch || id_instance(id) == cl->instance)
		return;
	pthread_mutex_lock(&cl->lock);
	if (cl->npf < PREFETCH_QUEUE_MAX && VEC_PUSH_ROOM(cl->pf, cl->npf, cl->pf_cap) == 0) {
		cl->pf[cl->npf++] = id;
		pthread_cond_broadcast(&cl->pf_cond);
	} else
		cl->prefetch_skips++;
	pthread_mutex_unlock(&cl->lock);
}

static void *
prefetch_main(void *arg)
{
	cluster_t *cl = arg;
	uint64_t id, blobs, bytes, below = cl->memory / 4 * 3;
	char ids[ID_STR_LEN + 1];
	int rc;

	for (;;) {
		pthread_mutex_lock(&cl->lock);
		while (cl->npf == 0 && !atomic_load(&cl->stop))
			pthread_cond_wait(&cl->pf_cond, &cl->lock);
		if (atomic_load(&cl->stop)) {
			pthread_mutex_unlock(&cl->lock);
			return NULL;
		}
		id = cl->pf[0];
		memmove(cl->pf, cl->pf + 1, (cl->npf - 1) * sizeof *cl->pf);
		cl->npf--;
		pthread_mutex_unlock(&cl->lock);

		rc = catalog_cache_prefetch(cl->catalog, id, below, &blobs, &bytes);
		id_format(id, ids);
		pthread_mutex_lock(&cl->lock);
		cl->prefetch_blobs += blobs;
		cl->prefetch_bytes += bytes;
		if (rc == -ENOSPC)
			cl->prefetch_skips++;
		else if (rc != 0 && rc != -ENOENT)
			cl->prefetch_errors++; /* ENOENT: deleted meanwhile */
		pthread_mutex_unlock(&cl->lock);
		if (rc == -ENOSPC)
			log_debug("cluster %s: %s not prefetched: it would take memory past 3/4 of the limit",
			    cl->name, ids);
		else if (rc != 0 && rc != -ENOENT)
			log_warn("cluster %s: prefetch of %s failed: %s (its open will fetch it)", cl->name,
			    ids, strerror(-rc));
		else if (blobs > 0)
			log_debug("cluster %s: prefetched %s: %llu blobs, %llu bytes", cl->name, ids,
			    (unsigned long long)blobs, (unsigned long long)bytes);
	}
}

int
cluster_prefetch_start(cluster_t *cl)
{
	int rc;

	if (!cl->prefetch)
		return 0;
	if ((rc = -pthread_create(&cl->pf_thread, NULL, prefetch_main, cl)) != 0)
		return rc;
	cl->pf_started = 1;
	return 0;
}

void
cluster_prefetch_stop(cluster_t *cl)
{
	if (!cl->pf_started)
		return;
	pthread_mutex_lock(&cl->lock);
	atomic_store(&cl->stop, 1);
	pthread_cond_broadcast(&cl->pf_cond);
	pthread_mutex_unlock(&cl->lock);
	pthread_join(cl->pf_thread, NULL);
	cl->pf_started = 0;
}
