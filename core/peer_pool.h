/*
 * peer_pool: authenticated peer connections kept for the next fetch from
 * the same member, so that a DataFrame of many columns costs one TCP
 * connection and one HMAC handshake, not one per blob. A connection is
 * taken out while it serves one fetch, and put back only when its stream
 * is still in step; one idle longer than PEER_POOL_IDLE_MS is closed
 * rather than reused (the server closes idle connections after its time
 * limit), and a fetch that finds a kept connection dead tries once more
 * on a new one. Thread safe.
 */
#ifndef VFS_PEER_POOL_H
#define VFS_PEER_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "peer_auth.h"
#include "peer_client.h"

#define PEER_POOL_SLOTS 16     /* idle connections kept, all members together */
#define PEER_POOL_IDLE_MS 5000 /* under the server's PEER_TIMEOUT_MS */

typedef struct peer_pool peer_pool_t;

/* A pool of connections authenticated with key (copied). */
int peer_pool_create(const struct peer_key *key, peer_pool_t **out);
/* Close every idle connection and free. */
void peer_pool_destroy(peer_pool_t *p);
/* As peer_fetch, on a kept connection to addr when there is one. */
int peer_pool_fetch(peer_pool_t *p, const char *addr, uint64_t id, uint64_t size, const struct peer_dest *dst,
    uint32_t *crc, char *err, size_t errlen);

#endif
