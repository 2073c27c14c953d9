/*
 * catnode: the catalog's inodes as a node kind (node.h): objects/,
 * blobs/, names/, every object's files and every blob. Each request is
 * one catalog call; opening and creating files is file.c's, listings are
 * taken by dir.c. The root, .vineyardfs/ and streams/ share the
 * operations exported here where the catalog answers for them too. A
 * name missing from names/ is answered with a negative entry the kernel
 * keeps until the catalog invalidates it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/killpriv.h"
#include "fs/node.h"

int
catnode_getattr(fuse_ino_t ino, struct catalog_attr *a)
{
	return catalog_getattr(fs.cat, ino, a);
}

static void
catnode_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct catalog_attr a;
	int rc = catalog_lookup(fs.cat, parent, name, &a);

	if (rc == -ENOENT && parent == INO_NAMES) {
		/* A negative entry the kernel keeps: a name that appears other
		 * than through this mount's own create, link or rename (the
		 * kernel updates its entry for those) is invalidated by the
		 * catalog (catalog.h: inval_entry), so a stat or an open of a
		 * missing name costs one round trip, not one each time. */
		memset(&e, 0, sizeof e);
		e.entry_timeout = FS_TTL_SEALED;
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_attr_to_entry(&a, &e);
	fuse_reply_entry(req, &e);
}

void
catnode_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct fs_handle *h = fi != NULL ? handle_get(fi->fh) : NULL;
	struct catalog_set set;
	struct catalog_attr a;
	int rc;

	fs_attr_set_of(attr, to_set, &set);
	killpriv_amend(ino, fuse_req_ctx(req)->uid, 0, &set); /* a truncate, a chown */
	rc = catalog_setattr(fs.cat, ino, file_data_fd(h), &set, &a);
	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		fs_attr_reply(req, &a, 0);
	if (h != NULL)
		handle_put(fi->fh);
}

int
catnode_readlink(fuse_ino_t ino, char **target)
{
	return catalog_readlink(fs.cat, ino, target);
}

static int
catnode_list(fuse_ino_t dir, catalog_list_fn fn, void *arg)
{
	return catalog_list(fs.cat, dir, fn, arg);
}

void
catnode_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	int rc = catalog_unlink(fs.cat, parent, name, fuse_req_ctx(req)->uid);

	/* What it deleted is gone from the kernel's caches before rm
	 * returns: `rm names/x; ls objects/o…` does not see it. */
	if (rc == 0)
		notify_flush_unless(parent);
	fuse_reply_err(req, -rc);
}

void
catnode_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	int rc = catalog_rmdir(fs.cat, parent, name);

	if (rc == 0)
		notify_flush_unless(parent);
	fuse_reply_err(req, -rc);
}

int
catnode_getxattr(fuse_ino_t ino, const char *name, char **value, size_t *len)
{
	return catalog_xattr_get(fs.cat, ino, name, value, len);
}

int
catnode_listxattr(fuse_ino_t ino, char **names, size_t *len)
{
	return catalog_xattr_list(fs.cat, ino, names, len);
}

int
catnode_setxattr(fuse_ino_t ino, const char *name, const char *value, size_t size, int flags)
{
	return catalog_xattr_set(fs.cat, ino, name, value, size, flags);
}

int
catnode_removexattr(fuse_ino_t ino, const char *name)
{
	return catalog_xattr_remove(fs.cat, ino, name);
}

const struct fs_node_ops catnode_node = {
	.name = "catalog",
	.getattr = catnode_getattr,
	.lookup = catnode_lookup,
	.setattr = catnode_setattr,
	.readlink = catnode_readlink,
	.list = catnode_list,
	.create = file_create,
	.mknod = file_mknod,
	.unlink = catnode_unlink,
	.rmdir = catnode_rmdir,
	.open = file_open,
	.getxattr = catnode_getxattr,
	.listxattr = catnode_listxattr,
	.setxattr = catnode_setxattr,
	.removexattr = catnode_removexattr,
};
