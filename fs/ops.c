/*
 * ops: the low-level FUSE operations table, and the requests on inodes
 * themselves (lookup, attributes, links, statfs). Inodes carry no state
 * here: the catalog answers every lookup by inode number, so forget needs
 * no work, except for streams (stream.h). Directory, file and xattr
 * requests are in dir.c, file.c and xattr.c.
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
#include "fs/fs.h"
#include "fs/passthrough.h"

struct fs_state fs;

/* How long the kernel may trust an inode's attributes. Sealed things never
 * change. Data files being written change only through this mount, and the
 * kernel tracks those changes itself (passthrough and FUSE writes update its
 * size), so their attributes may be cached too; the catalog invalidates
 * what it changes behind the kernel's back. meta.json and the object
 * directories of unsealed objects change as the object does. */
static double
ttl_of(const struct catalog_attr *a)
{
	if (a->sealed)
		return FS_TTL_SEALED;
	if (S_ISREG(a->mode) && (id_is_blob(a->ino) || id_view_of_ino(a->ino) == ID_VIEW_DATA))
		return FS_TTL_SEALED;
	return FS_TTL_NONE;
}

void
fs_attr_to_stat(const struct catalog_attr *a, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_size = (off_t)a->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	st->st_atim = util_ns_ts(a->atime_ns);
	st->st_mtim = util_ns_ts(a->mtime_ns);
	st->st_ctim = util_ns_ts(a->ctime_ns);
}

void
fs_attr_to_entry(const struct catalog_attr *a, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof *e);
	e->ino = a->ino;
	fs_attr_to_stat(a, &e->attr);
	e->attr_timeout = ttl_of(a);
	/* Names change only through this mount or with an invalidation. */
	e->entry_timeout = FS_TTL_SEALED;
}

static void
reply_attr(fuse_req_t req, const struct catalog_attr *a)
{
	struct stat st;

	fs_attr_to_stat(a, &st);
	fuse_reply_attr(req, &st, ttl_of(a));
}

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
	struct fuse_entry_param e;
	struct catalog_attr a;
	int rc;

	/* The kernel lets names up to 1024 bytes through; none can exist. */
	if (strlen(name) > CATALOG_NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	if (parent == INO_STREAMS) {
		stream_lookup(req, name);
		return;
	}
	if (ino_is_stream(parent)) {
		stream_entry_lookup(req, parent, name);
		return;
	}
	if (parent == INO_CONTROL) {
		rc = control_lookup(name, &e);
		if (rc != 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_entry(req, &e);
		return;
	}
	rc = catalog_lookup(fs.cat, parent, name, &a);
	if (rc == -ENOENT && parent == INO_NAMES) {
		/* A negative entry that expires at once: names appear and go. */
		memset(&e, 0, sizeof e);
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

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct catalog_attr a;
	struct stat st;
	int rc;

	(void)fi;
	if (ino_is_stream(ino)) {
		if ((rc = stream_getattr(ino, &st)) != 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_attr(req, &st, FS_TTL_NONE);
		return;
	}
	if (control_is(ino)) {
		if ((rc = control_getattr(ino, &st)) != 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_attr(req, &st, FS_TTL_NONE);
		return;
	}
	if ((rc = catalog_getattr(fs.cat, ino, &a)) != 0)
		fuse_reply_err(req, -rc);
	else
		reply_attr(req, &a);
}

static void
op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct fh *h = fi != NULL ? handle_get(fi->fh) : NULL;
	struct catalog_set set = CATALOG_SET_NONE;
	struct catalog_attr a;
	int rc;

	if (ino == INO_CTL && (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
					    FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) == 0) {
		/* "echo ... > ctl" truncates first: nothing to truncate. */
		struct stat st;

		control_getattr(ino, &st);
		fuse_reply_attr(req, &st, FS_TTL_NONE);
		goto out;
	}
	if (ino_is_stream(ino)) {
		/* "> streams/s" truncates an empty stream: nothing to do;
		 * anything else would rewrite what readers may have read. */
		struct stat st;

		if ((rc = stream_getattr(ino, &st)) != 0)
			fuse_reply_err(req, -rc);
		else if ((to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
				       FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) != 0 ||
			 ((to_set & FUSE_SET_ATTR_SIZE) && attr->st_size != st.st_size))
			fuse_reply_err(req, EPERM);
		else
			fuse_reply_attr(req, &st, FS_TTL_NONE);
		goto out;
	}
	if (control_is(ino)) {
		fuse_reply_err(req, EPERM);
		goto out;
	}
	if (to_set & FUSE_SET_ATTR_SIZE)
		set.size = attr->st_size;
	if (to_set & FUSE_SET_ATTR_MODE)
		set.mode = attr->st_mode & 07777;
	if (to_set & FUSE_SET_ATTR_UID)
		set.uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		set.gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		set.atime_ns = util_now_ns();
	else if (to_set & FUSE_SET_ATTR_ATIME)
		set.atime_ns = util_ts_ns(&attr->st_atim);
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		set.mtime_ns = util_now_ns();
	else if (to_set & FUSE_SET_ATTR_MTIME)
		set.mtime_ns = util_ts_ns(&attr->st_mtim);
	rc = catalog_setattr(fs.cat, ino, h != NULL && h->kind == FH_DATA ? h->fd : -1, &set, &a);
	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		reply_attr(req, &a);
out:
	if (h != NULL)
		handle_put(fi->fh);
}

/* Only streams come and go with the kernel's references: the catalog
 * answers every other inode number whenever it is asked. */
static void
op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	if (ino_is_stream(ino))
		streams_forget(fs.streams, ino, nlookup);
	fuse_reply_none(req);
}

static void
op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (ino_is_stream(forgets[i].ino))
			streams_forget(fs.streams, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char *target, buf[64];
	int rc;

	if (ino_is_stream(ino)) {
		if ((rc = stream_readlink(ino, buf, sizeof buf)) != 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_readlink(req, buf);
		return;
	}
	rc = catalog_readlink(fs.cat, ino, &target);

	if (rc != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fuse_reply_readlink(req, target);
	free(target);
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
	.mknod = file_mknod,
	.mkdir = dir_mkdir,
	.unlink = dir_unlink,
	.rmdir = dir_rmdir,
	.symlink = dir_symlink,
	.rename = dir_rename,
	.link = dir_link,
	.open = file_open,
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
	.setxattr = xattr_set,
	.getxattr = xattr_get,
	.listxattr = xattr_list,
	.removexattr = xattr_remove,
	.create = file_create,
};
