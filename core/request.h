/*
 * request: the control protocol, one JSON request in, one JSON reply out.
 * Pure apart from the catalog call it makes, so it can be fuzzed without a
 * mount. Requests (one JSON object each):
 *
 *   {"op": "create", "typename": T, "fields": {...}, "members": {m: id},
 *    "name": n, "mode": 420}
 *     -> {"ok": true, "id": "o..."}; members may be other members'
 *        published objects or blobs: the object is then global and is
 *        published at once (queued, as "publish" does), and the reply says
 *        {"global": true, "state": "queued"}, or "unpublished" with a
 *        "message" when the queue refused it (the object stays)
 *   {"op": "delete", "id": "o...", "deep": true}
 *     -> {"ok": true}: the object and its names; deep (the default) also
 *        each member object left held by no object and without a name,
 *        recursively; "deep": false deletes the object alone. Blobs go
 *        with their last holder. EBUSY while another object holds it.
 *   {"op": "name", "id": "o...", "name": n} -> {"ok": true}  (one more name)
 *   {"op": "unname", "name": n}             -> {"ok": true}  (the object stays)
 *   {"op": "wait", "name": n, "timeout_ms": t}
 *     -> {"ok": true, "id": "o..."} once n names a sealed object (Vineyard's
 *        GetName with wait); t absent or null: no limit; after t ms
 *        {"ok": false, "errno": ETIMEDOUT, ...}. The caller parks the
 *        request (see struct request_wait) rather than block a thread.
 * Object streams (stream.h), when the caller gives w->streams:
 *   {"op": "stream_open", "name": n, "mode": 420} -> {"ok": true}: this
 *        descriptor produces stream n; closing the descriptor without
 *        stream_close fails the stream
 *   {"op": "stream_push", "id": "o..."} -> {"ok": true, "index": i}
 *   {"op": "stream_close", "error": why} -> {"ok": true, "id": "o..."}:
 *        complete (its Sequence), or failed with why
 *   {"op": "stream_next", "name": n, "index": i, "timeout_ms": t}
 *     -> {"ok": true, "id": "o...", "index": i}, or {"ok": true, "end":
 *        true} after the last one; EIO once failed; waits like "wait"
 *   {"op": "snapshot", "dir": "/abs/dir"}
 *     -> {"ok": true, "objects": N, "names": N, "blobs": N, "blobs_copied": N,
 *        "blobs_skipped": N, "blobs_removed": N, "bytes": N, "bytes_copied": N,
 *        "bytes_skipped": N, "seconds": S}: a snapshot of every sealed
 *        object (snapshot.h), root only (EPERM); EBUSY while one runs
 * The cluster (cluster.h), when the caller gives w->cluster (else ENOTCONN):
 *   {"op": "publish", "id": "o..." | "name": n}
 *     -> {"ok": true, "id": "o...", "state": "queued" | "published"}: the
 *        object and its member objects, with their names, are queued for
 *        etcd and the reply comes at once (no request waits on etcd);
 *        its owner or root only; EREMOTE for another member's object,
 *        EAGAIN while unsealed
 *   {"op": "publish_status", "id": "o..." | "name": n}
 *     -> {"ok": true, "state": "queued" | "published"}, or the failure of
 *        the publish: EEXIST when one of its names is another object's in
 *        the cluster (the message says which); ENOENT never published
 *   {"op": "cluster"} -> {"ok": true, "cluster": {...}}: cluster_status
 *   {"op": "arrow_layout", "fields": [...], "dictionaries": [...],
 *    "batches": [...]}
 *     -> {"ok": true, "nbytes": N, "pieces": [{"offset": o, "data": b64}],
 *        "dictionaries": [...], "batches": [...]}: the layout of an Arrow
 *        IPC file (arrow_ctl.h); open to anyone, touches no object
 * Only an object's owner (or root) may delete, name or unname it.
 *
 * Any failure -> {"ok": false, "errno": N, "error": "EINVAL", "message": "..."};
 * whatever the input (truncated JSON, wrong types, binary), the reply is
 * well-formed JSON and nothing is left half-made.
 */
#ifndef VFS_REQUEST_H
#define VFS_REQUEST_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "catalog.h"
#include "stream.h"

#define REQUEST_MAX (1u << 20) /* bytes of one request */

/* The state of one requester (one open of the control file): a wait not
 * answered yet, the object stream it produces. */
struct request_wait {
	int pending; /* set: no reply yet; ask request_wait_poll again later */
	int kind;
#define REQUEST_WAIT_NAME 0   /* for name to name a sealed object */
#define REQUEST_WAIT_STREAM 1 /* for object index of stream name */
	char name[CATALOG_NAME_MAX + 1];
	unsigned index;
	long long timeout_ms;	 /* -1: no limit */
	streams_t *streams;	 /* set by the caller; NULL: no stream ops */
	struct cluster *cluster; /* set by the caller; NULL: alone (ENOTCONN) */
	uint64_t producing;	 /* the object stream this requester produces */
};

/* Handle one request as uid/gid (umask-free mode bits from the request).
 * Returns the reply, NUL-terminated, caller frees; NULL when out of memory,
 * or with w->pending set for a wait that must go on. */
char *request_handle(catalog_t *c, uid_t uid, gid_t gid, const char *req, size_t len, size_t *replylen,
    struct request_wait *w);
/* Poll a pending wait: 1 with its reply (NULL when out of memory) once the
 * name is ready (or the stream has its object, ended or failed) or
 * timed_out is set (then the ETIMEDOUT failure); 0 while it must go on
 * waiting. */
int request_wait_poll(
    catalog_t *c, const struct request_wait *w, int timed_out, char **reply, size_t *replylen);
/* The Prometheus families of the control operations: counts, errors and
 * times per op (core/metrics.h). */
void request_metrics_write(FILE *f);

#endif
