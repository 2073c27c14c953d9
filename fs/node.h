/*
 * node: the kinds of inode the mount shows, one table of operations each.
 * node_of() picks an inode's kind from its number (core/ino.h): the root;
 * the catalog's directories, objects and blobs; .vineyardfs/ and its
 * control files; streams/ and its streams. Every FUSE request on an inode
 * is dispatched once through it (ops.c). An operation a kind leaves NULL
 * gets the answer ops.c gives for it (EPERM for changes, ENOTDIR for
 * directory requests, ENODATA/ENOTSUP for xattrs, EINVAL for readlink).
 *
 * The root's entries come from a table (root.c): a name, a fixed inode
 * number and the kind that serves it; that table is also where node_of
 * finds the kinds of the fixed directories.
 */
#ifndef VFS_NODE_H
#define VFS_NODE_H

#include "fs/fs.h"

struct fs_node_ops {
	const char *name; /* for logs and tests */
	/* Attributes are re-read at every stat (streams, control files). */
	int uncached;
	/* Attributes of ino; 0 or -errno. */
	int (*getattr)(fuse_ino_t ino, struct catalog_attr *a);
	/* Look name up in directory parent and reply (an entry or an errno). */
	void (*lookup)(fuse_req_t req, fuse_ino_t parent, const char *name);
	/* Reply to a setattr; fi: the handle it came through, if any. */
	void (*setattr)(
	    fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi);
	/* A symbolic link's target; caller frees. */
	int (*readlink)(fuse_ino_t ino, char **target);
	/* The kernel dropped n references to ino. */
	void (*forget)(fuse_ino_t ino, uint64_t n);
	/* A directory's entries, not "." and ".."; a non-zero return of fn
	 * stops and is returned. */
	int (*list)(fuse_ino_t dir, catalog_list_fn fn, void *arg);
	/* Changes in directory parent; each replies. */
	void (*create)(
	    fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi);
	void (*mknod)(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
	void (*unlink)(fuse_req_t req, fuse_ino_t parent, const char *name);
	void (*rmdir)(fuse_req_t req, fuse_ino_t parent, const char *name);
	/* Open ino and reply; the handle is the kind's (handle.h). */
	void (*open)(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
	/* Extended attributes: a value or NUL-separated names (caller
	 * frees), or -errno. */
	int (*getxattr)(fuse_ino_t ino, const char *name, char **value, size_t *len);
	int (*listxattr)(fuse_ino_t ino, char **names, size_t *len);
	int (*setxattr)(fuse_ino_t ino, const char *name, const char *value, size_t size, int flags);
	int (*removexattr)(fuse_ino_t ino, const char *name);
};

/* The kind of inode ino; never NULL (unknown numbers are the catalog's,
 * which answers ENOENT). */
const struct fs_node_ops *node_of(fuse_ino_t ino);

/* The kinds (each in its own file). */
extern const struct fs_node_ops root_node;	   /* root.c: / */
extern const struct fs_node_ops catnode_node;	   /* catnode.c: the catalog's */
extern const struct fs_node_ops control_dir_node;  /* control.c: .vineyardfs/ */
extern const struct fs_node_ops control_file_node; /* control.c: its files */
extern const struct fs_node_ops streamnode_dir;	   /* streamnode.c: streams/ */
extern const struct fs_node_ops streamnode_node;   /* streamnode.c: a stream */

/* The catalog kind's operations, which other kinds share (catnode.c). */
int catnode_getattr(fuse_ino_t ino, struct catalog_attr *a);
void catnode_setattr(
    fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi);
int catnode_readlink(fuse_ino_t ino, char **target);
void catnode_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void catnode_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
int catnode_getxattr(fuse_ino_t ino, const char *name, char **value, size_t *len);
int catnode_listxattr(fuse_ino_t ino, char **names, size_t *len);
int catnode_setxattr(fuse_ino_t ino, const char *name, const char *value, size_t size, int flags);
int catnode_removexattr(fuse_ino_t ino, const char *name);

/* The root's entries (root.c). */
struct root_entry {
	const char *name;
	fuse_ino_t ino;
	const struct fs_node_ops *kind;
	mode_t mode; /* of a directory the fs layer keeps (root_dir_*), else 0 */
};
/* Entry i of the root, or NULL past the last. */
const struct root_entry *root_entry_at(size_t i);
/* The entry called name, or NULL. */
const struct root_entry *root_entry_find(const char *name);
/* The kind of fixed directory ino, or NULL. */
const struct fs_node_ops *root_kind_of(fuse_ino_t ino);

/* The fixed directories the fs layer keeps (.vineyardfs/, streams/: their
 * mode in the root's table), as getattr and setattr of their kinds: only
 * their times change (root.c). */
int root_dir_getattr(fuse_ino_t ino, struct catalog_attr *a);
void root_dir_setattr(
    fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi);

#endif
