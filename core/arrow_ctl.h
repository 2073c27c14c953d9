/*
 * arrow_ctl: the control file's "arrow_layout" op, the IPC writer
 * (arrow_ipc.h) for clients that do not link the core (Python). The
 * request describes a table (fields by type string, dictionaries and
 * batches by their buffers' byte sizes); the reply gives the file's size,
 * its metadata bytes (base64) and every buffer's offset. The client
 * creates one blob of that size, writes pieces and buffers, seals it and
 * builds the packed Table on it (see vineyardfs(8), THE CONTROL FILE).
 * Pure: no catalog, no state.
 */
#ifndef VFS_ARROW_CTL_H
#define VFS_ARROW_CTL_H

#include <stddef.h>

#include <jansson.h>

/* The reply to request req ({"op": "arrow_layout", ...}) in *reply (the
 * caller owns it); 0, -ENOMEM, or -EINVAL with a message naming the bad
 * part of the request in err. */
int arrow_ctl_layout(const json_t *req, json_t **reply, char *err, size_t errlen);

#endif
