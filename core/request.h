/*
 * request: the control protocol, one JSON request in, one JSON reply out.
 * Pure apart from the catalog call it makes, so it can be fuzzed without a
 * mount. Requests (one JSON object each):
 *
 *   {"op": "create", "typename": T, "fields": {...}, "members": {m: id},
 *    "name": n, "mode": 420}
 *     -> {"ok": true, "id": "o..."}
 *   {"op": "delete", "id": "o..."}          -> {"ok": true}  (with its names)
 *   {"op": "name", "id": "o...", "name": n} -> {"ok": true}  (one more name)
 *   {"op": "unname", "name": n}             -> {"ok": true}  (the object stays)
 * Only an object's owner (or root) may delete, name or unname it.
 *
 * Any failure -> {"ok": false, "errno": N, "error": "EINVAL", "message": "..."};
 * whatever the input (truncated JSON, wrong types, binary), the reply is
 * well-formed JSON and nothing is left half-made.
 */
#ifndef VFS_REQUEST_H
#define VFS_REQUEST_H

#include <stddef.h>
#include <sys/types.h>

#include "catalog.h"

#define REQUEST_MAX (1u << 20) /* bytes of one request */

/* Handle one request as uid/gid (umask-free mode bits from the request).
 * Returns the reply, NUL-terminated, caller frees; NULL only when out of
 * memory. */
char *request_handle(catalog_t *c, uid_t uid, gid_t gid, const char *req, size_t len, size_t *replylen);

#endif
