/*
 * lib_i: what the files of libvineyardfs share (vineyardfs.c, blob.c,
 * object.c, arrow.c). Not exported: the library exports vfs_* only, so
 * these are lib_*.
 */
#ifndef VFS_LIB_I_H
#define VFS_LIB_I_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "include/vineyardfs.h"

struct vfs {
	char *mount;
	char err[512];
	unsigned seq; /* temporary names */
	uint32_t salt;
};

/* Say why in v's error (vfs_error) and return rc. */
int lib_fail(vfs_t *v, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* mount/a[/b] into buf (PATH_MAX bytes); -ENAMETOOLONG past PATH_MAX. */
int lib_path(vfs_t *v, char *buf, const char *a, const char *b);
/* Is s an id of kind 'o' or 'b'? */
int lib_is_id(const char *s, char kind);
/* A name fit for names/ (the daemon checks again); 0 or -EINVAL. */
int lib_check_name(vfs_t *v, const char *name);
/* Read fd to its end (at most max bytes) into a NUL-terminated buffer;
 * caller frees. what names it in messages. */
int lib_read_all(vfs_t *v, int fd, size_t max, const char *what, char **out);
/* One request (req is stolen) on a control file of its own; the parsed
 * reply in *reply (caller decrefs) when reply is not NULL. */
int lib_ask_json(vfs_t *v, json_t *req, json_t **reply);
/* The metadata tree of an object (name or id), parsed; caller decrefs. */
int lib_meta_tree(vfs_t *v, const char *ref, json_t **meta);
/* The "id" of an ok reply into id; the reply is released. */
int lib_reply_id(vfs_t *v, json_t *reply, char id[VFS_ID_SIZE]);

#endif
