/*
 * cluster_peer: the bytes between members. With --listen, a peer server
 * (peer_server.h) sends this member's own sealed blobs to the members that
 * ask, each held open while it goes (a spilled one is reloaded first).
 * The catalog's open of another member's blob calls cluster_peer_fetch
 * (its fetch hook), which asks the owner at the peer address of its member
 * key and receives the bytes straight into the store (peer_client.h).
 * Both sides need the cluster key (--cluster-key): without it there is no
 * listener and no fetch, and the log says so.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cluster_i.h"
#include "log.h"
#include "peer_client.h"
#include "peer_pool.h"
#include "peer_server.h"
#include "util.h"

#define FETCH_TMP_PREFIX ".tmp-" /* the store's reconcile removes leftovers */

/* The server's open: one of this member's sealed blobs, held open. */
static int
serve_open(void *ctx, uint64_t id, struct peer_blob *pb, char *err, size_t errlen)
{
	cluster_t *cl = ctx;
	struct catalog_attr a;
	uint64_t blob_id = 0;
	int fd = -1, rc;

	if (!id_is_blob(id) || catalog_remote_is(cl->catalog, id, NULL)) {
		snprintf(err, errlen, "this member does not hold that blob");
		return -ENOENT;
	}
	if ((rc = catalog_getattr(cl->catalog, id, &a)) != 0 || !a.sealed) {
		snprintf(err, errlen, "%s", rc != 0 ? strerror(-rc) : "the blob is not sealed");
		return rc != 0 ? rc : -ENOENT;
	}
	if ((rc = catalog_open_data(cl->catalog, id, 0, &blob_id, &fd)) != 0) {
		snprintf(err, errlen, "cannot open it: %s", strerror(-rc));
		return rc;
	}
	pb->fd = fd;
	pb->size = a.size;
	pb->crc_known = 0; /* the server sums it */
	pb->hold = (void *)(uintptr_t)blob_id;
	return 0;
}

static void
serve_release(void *ctx, struct peer_blob *pb, int rc)
{
	cluster_t *cl = ctx;

	if (rc == 0) {
		atomic_fetch_add(&cl->served, 1);
		atomic_fetch_add(&cl->served_bytes, pb->size);
	} else
		atomic_fetch_add(&cl->serve_errors, 1);
	close(pb->fd);
	pb->fd = -1;
	catalog_release(cl->catalog, (uint64_t)(uintptr_t)pb->hold, 0);
}

/* The catalog's fetch hook. */
static int
fetch(void *arg, uint64_t blob_id, uint64_t size, int dirfd, const char *dir, const char *name, uint32_t *crc,
    char *err, size_t errlen)
{
	cluster_t *cl = arg;
	struct peer_dest dst = { .dirfd = dirfd, .dir = dir, .name = name, .tmp = FETCH_TMP_PREFIX };
	char inst[16], *addr = NULL;
	const char *peer;
	int64_t t0;
	json_t *m;
	int rc;

	snprintf(inst, sizeof inst, "%u", id_instance(blob_id));
	pthread_mutex_lock(&cl->lock);
	m = json_object_get(cl->members, inst);
	peer = json_string_value(json_object_get(m, "peer"));
	if (m != NULL && json_is_true(json_object_get(m, "live")) && peer != NULL && peer[0] != '\0')
		addr = strdup(peer);
	pthread_mutex_unlock(&cl->lock);
	if (addr == NULL) {
		snprintf(err, errlen, "member %s has no peer address (not live, or no --listen)", inst);
		return -EHOSTDOWN;
	}
	t0 = util_mono_ns();
	rc = peer_pool_fetch(cl->pool, addr, blob_id, size, &dst, crc, err, errlen);
	free(addr);
	if (rc == 0) {
		atomic_fetch_add(&cl->fetches, 1);
		atomic_fetch_add(&cl->fetch_bytes, size);
		atomic_fetch_add(&cl->fetch_ns, (uint64_t)(util_mono_ns() - t0));
	} else
		atomic_fetch_add(&cl->fetch_errors, 1);
	return rc;
}

int
cluster_peer_start(cluster_t *cl)
{
	char err[256];
	int rc;

	if (cl->key_file == NULL) {
		log_warn("cluster %s: no --cluster-key: this member neither serves nor fetches blobs "
			 "(other members' objects are listed, their bytes cannot be read)",
		    cl->name);
		return 0;
	}
	if ((rc = peer_key_load(cl->key_file, &cl->key, err, sizeof err)) != 0) {
		log_error("cluster %s: %s", cl->name, err);
		return rc;
	}
	if ((rc = peer_pool_create(&cl->key, &cl->pool)) != 0)
		return rc;
	catalog_set_fetch(cl->catalog, fetch, cl);
	if (cl->listen == NULL) {
		log_info("cluster %s: no --listen: this member fetches blobs but serves none", cl->name);
		return 0;
	}
	{
		struct peer_server_config pc = {
			.listen = cl->listen,
			.key = &cl->key,
			.ops = { .open = serve_open, .release = serve_release, .ctx = cl },
		};

		if ((rc = peer_server_start(&pc, &cl->peer, err, sizeof err)) != 0) {
			log_error("cluster %s: cannot serve blobs on %s: %s", cl->name, cl->listen, err);
			return rc;
		}
	}
	log_info(
	    "cluster %s: serving blobs on %s (port %u)", cl->name, cl->listen, peer_server_port(cl->peer));
	return 0;
}

void
cluster_peer_stop(cluster_t *cl)
{
	if (cl->catalog != NULL)
		catalog_set_fetch(cl->catalog, NULL, NULL);
	peer_server_stop(cl->peer);
	cl->peer = NULL;
	/* After the FUSE loop: no open, so no fetch, is in flight. */
	peer_pool_destroy(cl->pool);
	cl->pool = NULL;
	peer_key_clear(&cl->key);
}
