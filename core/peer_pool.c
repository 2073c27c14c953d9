/*
 * peer_pool: see peer_pool.h. A handful of slots, searched in full: the
 * members a node fetches from at a time are few.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_pool.h"
#include "util.h"

struct slot {
	char addr[272];
	peer_conn_t *c; /* NULL: free */
	int64_t idle_ns;
};

struct peer_pool {
	struct peer_key key;
	pthread_mutex_t lock; /* guards slots */
	struct slot slots[PEER_POOL_SLOTS];
};

int
peer_pool_create(const struct peer_key *key, peer_pool_t **out)
{
	struct peer_pool *p = calloc(1, sizeof *p);

	if (p == NULL)
		return -ENOMEM;
	p->key = *key;
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

void
peer_pool_destroy(peer_pool_t *p)
{
	unsigned i;

	if (p == NULL)
		return;
	for (i = 0; i < PEER_POOL_SLOTS; i++)
		peer_client_close(p->slots[i].c);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* A kept connection to addr, taken out of the pool, or NULL. Stale ones
 * met on the way are closed (outside the lock). */
static peer_conn_t *
take(struct peer_pool *p, const char *addr)
{
	peer_conn_t *c = NULL, *stale[PEER_POOL_SLOTS];
	int64_t now = util_mono_ns();
	unsigned i, nstale = 0;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < PEER_POOL_SLOTS; i++) {
		struct slot *s = &p->slots[i];

		if (s->c == NULL)
			continue;
		if (now - s->idle_ns > (int64_t)PEER_POOL_IDLE_MS * 1000000) {
			stale[nstale++] = s->c;
			s->c = NULL;
		} else if (c == NULL && strcmp(s->addr, addr) == 0) {
			c = s->c;
			s->c = NULL;
		}
	}
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < nstale; i++)
		peer_client_close(stale[i]);
	return c;
}

/* Keep c for the next fetch from addr (the oldest kept one goes when the
 * pool is full). */
static void
give_back(struct peer_pool *p, const char *addr, peer_conn_t *c)
{
	peer_conn_t *old = NULL;
	unsigned i, k = 0;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < PEER_POOL_SLOTS; i++) {
		if (p->slots[i].c == NULL) {
			k = i;
			break;
		}
		if (p->slots[i].idle_ns < p->slots[k].idle_ns)
			k = i;
	}
	old = p->slots[k].c;
	p->slots[k].c = c;
	p->slots[k].idle_ns = util_mono_ns();
	snprintf(p->slots[k].addr, sizeof p->slots[k].addr, "%s", addr);
	pthread_mutex_unlock(&p->lock);
	peer_client_close(old);
}

int
peer_pool_fetch(peer_pool_t *p, const char *addr, uint64_t id, uint64_t size, const struct peer_dest *dst,
    uint32_t *crc, char *err, size_t errlen)
{
	peer_conn_t *c = take(p, addr);
	int rc, kept = c != NULL;

	if (c == NULL && (rc = peer_client_connect(addr, &p->key, 0, &c, err, errlen)) != 0)
		return rc;
	rc = peer_client_get(c, id, size, dst, crc, err, errlen);
	if (kept && (rc == -ECONNRESET || rc == -EPIPE) && peer_client_untouched(c)) {
		/* The member closed it while it was kept: once more, anew. */
		peer_client_close(c);
		if ((rc = peer_client_connect(addr, &p->key, 0, &c, err, errlen)) != 0)
			return rc;
		rc = peer_client_get(c, id, size, dst, crc, err, errlen);
	}
	if (peer_client_usable(c))
		give_back(p, addr, c);
	else
		peer_client_close(c);
	return rc;
}
