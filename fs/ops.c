/*
 * ops: the low-level FUSE operations table. Every request on an inode is
 * dispatched once, to the operations of its kind (node.h: node_of);
 * requests on open files go to their handle's kind (file.c, dir.c for
 * listings). Inodes carry no state here: each kind answers by inode
 * number, so forget matters only to streams. Extended attributes the
 * store never has (security.*, POSIX ACLs) are refused here, for every
 * kind, the way their callers cache.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "core/ino.h"
#include "core/log.h"
#include "core/util.h"
#include "fs/node.h"
#include "fs/passthrough.h"

struct fs_state fs;

static void
op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Writeback caching disables passthrough; sealed data needs no write
	 * cache and unsealed data goes straight to tmpfs. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	conn->max_write = 1 << 20;
	if (pt_active())
		log_info("data path: passthrough (the kernel reads and writes blob files directly)");
	else
		log_info("data path: fallback (the daemon serves reads and writes): %s", pt_reason());
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	const struct fs_node_ops *k = node_of(parent);

	/* The kernel lets names up to 1024 bytes through; none can exist. */
	if (strlen(name) > CATALOG_NAME_MAX)
		fuse_reply_err(req, ENAMETOOLONG);
	else if (k->lookup == NULL)
		fuse_reply_err(req, ENOTDIR);
	else
		k->lookup(req, parent, name);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct fs_node_ops *k = node_of(ino);
	struct catalog_attr a;
	int rc;

	(void)fi;
	if ((rc = k->getattr(ino, &a)) != 0)
		fuse_reply_err(req, -rc);
	else
		fs_attr_reply(req, &a, k->uncached);
}

static void
op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	const struct fs_node_ops *k = node_of(ino);

	if (k->setattr == NULL)
		fuse_reply_err(req, EPERM);
	else
		k->setattr(req, ino, attr, to_set, fi);
}

/* Only streams come and go with the kernel's references: the catalog
 * answers every other inode number whenever it is asked. */
static void
op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	const struct fs_node_ops *k = node_of(ino);

	if (k->forget != NULL)
		k->forget(ino, nlookup);
	fuse_reply_none(req);
}

static void
op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	const struct fs_node_ops *k;
	size_t i;

	for (i = 0; i < count; i++)
		if ((k = node_of(forgets[i].ino))->forget != NULL)
			k->forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	const struct fs_node_ops *k = node_of(ino);
	char *target = NULL;
	int rc = k->readlink != NULL ? k->readlink(ino, &target) : -EINVAL;

	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
	free(target);
}

static void
op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	const struct fs_node_ops *k = node_of(parent);

	(void)rdev;
	if (k->mknod == NULL)
		fuse_reply_err(req, EPERM);
	else
		k->mknod(req, parent, name, mode);
}

static void
op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	const struct fs_node_ops *k = node_of(parent);

	if (k->create == NULL)
		fuse_reply_err(req, EPERM); /* objects are born in names/ */
	else
		k->create(req, parent, name, mode, fi);
}

static void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	const struct fs_node_ops *k = node_of(parent);

	if (k->unlink == NULL)
		fuse_reply_err(req, EPERM);
	else
		k->unlink(req, parent, name);
}

static void
op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	const struct fs_node_ops *k = node_of(parent);

	if (k->rmdir == NULL)
		fuse_reply_err(req, ENOTDIR);
	else
		k->rmdir(req, parent, name);
}

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct fs_node_ops *k = node_of(ino);

	if (k->open == NULL)
		fuse_reply_err(req, EISDIR);
	else
		k->open(req, ino, fi);
}

static void
reply_sized(fuse_req_t req, const char *data, size_t len, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, data, len);
}

/* The security.* and ACL attributes the store never has. The kernel asks
 * for security.capability at the first write to every inode, and ls -l
 * for security.selinux and system.posix_acl_access of every entry; the
 * kernel caches no answer of ours (ENOSYS would stop every getxattr, the
 * store's own included), but callers do: coreutils' ls stops asking a
 * device that answers EOPNOTSUPP, where ENODATA makes it ask for each
 * file. For the kernel, EOPNOTSUPP means "no capability" and "no ACL"
 * just as ENODATA did. */
static int
xattr_never(const char *name)
{
	return strncmp(name, "security.", 9) == 0 || strncmp(name, "system.posix_acl_", 17) == 0;
}

static void
op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	const struct fs_node_ops *k = node_of(ino);
	char *value = NULL;
	size_t len = 0;
	int rc = xattr_never(name)     ? -EOPNOTSUPP
		 : k->getxattr != NULL ? k->getxattr(ino, name, &value, &len)
				       : -ENODATA;

	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		reply_sized(req, value, len, size);
	free(value);
}

static void
op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	const struct fs_node_ops *k = node_of(ino);
	char *names = NULL;
	size_t len = 0;
	int rc = k->listxattr != NULL ? k->listxattr(ino, &names, &len) : 0;

	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		reply_sized(req, names, len, size);
	free(names);
}

static void
op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags)
{
	const struct fs_node_ops *k = node_of(ino);

	fuse_reply_err(req, k->setxattr != NULL ? -k->setxattr(ino, name, value, size, flags) : ENOTSUP);
}

static void
op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	const struct fs_node_ops *k = node_of(ino);

	fuse_reply_err(req, k->removexattr != NULL ? -k->removexattr(ino, name) : ENOTSUP);
}

static void
op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct catalog_stats st;
	struct statvfs sv;

	(void)ino;
	catalog_stats(fs.cat, &st);
	memset(&sv, 0, sizeof sv);
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_blocks = st.memory_limit / 4096;
	sv.f_bfree = sv.f_bavail =
	    st.memory_used < st.memory_limit ? (st.memory_limit - st.memory_used) / 4096 : 0;
	sv.f_files = st.objects + st.blobs;
	sv.f_ffree = sv.f_favail = 1u << 30;
	sv.f_namemax = CATALOG_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.mknod = op_mknod,
	.mkdir = dir_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = dir_symlink,
	.rename = dir_rename,
	.link = dir_link,
	.open = op_open,
	.read = file_read,
	.write = file_write,
	.flush = file_flush,
	.release = file_release,
	.fsync = file_fsync,
	.fallocate = file_fallocate,
	.opendir = dir_opendir,
	.readdir = dir_readdir,
	.readdirplus = dir_readdirplus,
	.releasedir = dir_releasedir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.create = op_create,
};
