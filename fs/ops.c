/*
 * ops: the low-level FUSE operations. Inodes carry no state here: the
 * catalog answers every lookup by inode number, so forget needs no work.
 * Data files (blobs and Blob objects' names) pass through to the blob's
 * tmpfs file when the kernel allows it; generated files (meta.json, the
 * control files) are rendered at open and served from that copy.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/id.h"
#include "core/log.h"
#include "core/util.h"
#include "fs/fs.h"
#include "fs/passthrough.h"

struct fs_state fs;

enum fh_kind { FH_DATA, FH_TEXT };

/* An open file. */
struct fh {
	enum fh_kind kind;
	uint64_t blob_id; /* FH_DATA */
	int fd;		  /* FH_DATA: the blob file */
	int writable;
	char *text; /* FH_TEXT */
	size_t len;
};

/* A directory listing, taken at opendir. */
struct dent {
	char *name;
	struct catalog_attr attr;
};

struct dh {
	struct dent *v;
	size_t n, cap;
};

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
	st->st_mtim.tv_sec = a->mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = a->mtime_ns % 1000000000;
	st->st_ctim.tv_sec = a->ctime_ns / 1000000000;
	st->st_ctim.tv_nsec = a->ctime_ns % 1000000000;
	st->st_atim = st->st_mtim;
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
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct catalog_attr a;
	int rc;

	if (parent == CATALOG_INO_CONTROL) {
		rc = control_lookup(name, &e);
		if (rc != 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_entry(req, &e);
		return;
	}
	rc = catalog_lookup(fs.cat, parent, name, &a);
	if (rc == -ENOENT && parent == CATALOG_INO_NAMES) {
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
	struct fh *h = fi != NULL ? (struct fh *)fi->fh : NULL;
	int64_t size = -1, mode = -1, uid = -1, gid = -1, mtime = -1;
	struct catalog_attr a;
	int rc;

	if (control_is(ino) || ino <= CATALOG_INO_CONTROL) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE)
		size = attr->st_size;
	if (to_set & FUSE_SET_ATTR_MODE)
		mode = attr->st_mode & 07777;
	if (to_set & FUSE_SET_ATTR_UID)
		uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		mtime = util_now_ns();
	else if (to_set & FUSE_SET_ATTR_MTIME)
		mtime = (int64_t)attr->st_mtim.tv_sec * 1000000000 + attr->st_mtim.tv_nsec;
	rc = catalog_setattr(fs.cat, ino, h != NULL && h->kind == FH_DATA ? h->fd : -1, size, mode, uid,
	    gid, mtime, &a);
	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		reply_attr(req, &a);
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char *target;
	int rc = catalog_readlink(fs.cat, ino, &target);

	if (rc != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fuse_reply_readlink(req, target);
	free(target);
}

/* ---- directories ---- */

static int
dh_add(void *arg, const char *name, const struct catalog_attr *attr)
{
	struct dh *d = arg;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct dent *v = realloc(d->v, cap * sizeof *v);

		if (v == NULL)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	if ((d->v[d->n].name = strdup(name)) == NULL)
		return -ENOMEM;
	d->v[d->n].attr = *attr;
	d->n++;
	return 0;
}

static void
dh_free(struct dh *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	free(d);
}

static void
op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dh *d = calloc(1, sizeof *d);
	struct catalog_attr self;
	int rc;

	if (d == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memset(&self, 0, sizeof self);
	self.ino = ino;
	self.mode = S_IFDIR | 0755;
	if ((rc = dh_add(d, ".", &self)) == 0 && (rc = dh_add(d, "..", &self)) == 0) {
		if (ino == CATALOG_INO_CONTROL)
			rc = control_list(dh_add, d);
		else
			rc = catalog_list(fs.cat, ino, dh_add, d);
	}
	if (rc != 0) {
		dh_free(d);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)d;
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) != 0)
		dh_free(d);
}

static void
readdir_common(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi, int plus)
{
	struct dh *d = (struct dh *)fi->fh;
	char *buf = malloc(size);
	size_t used = 0, i;

	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (i = (size_t)off; i < d->n; i++) {
		const struct dent *de = &d->v[i];
		size_t n;

		if (plus) {
			struct fuse_entry_param e;
			int dot = de->name[0] == '.' && (de->name[1] == '\0' ||
							    (de->name[1] == '.' && de->name[2] == '\0'));

			fs_attr_to_entry(&de->attr, &e);
			if (dot) {
				/* The kernel neither caches nor counts these. */
				e.ino = 0;
				e.attr_timeout = e.entry_timeout = 0;
			}
			n = fuse_add_direntry_plus(req, buf + used, size - used, de->name, &e, (off_t)i + 1);
		} else {
			struct stat st;

			fs_attr_to_stat(&de->attr, &st);
			n = fuse_add_direntry(req, buf + used, size - used, de->name, &st, (off_t)i + 1);
		}
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	readdir_common(req, size, off, fi, 0);
}

static void
op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	readdir_common(req, size, off, fi, 1);
}

static void
op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	dh_free((struct dh *)fi->fh);
	fuse_reply_err(req, 0);
}

static void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -catalog_unlink(fs.cat, parent, name));
}

static void
op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -catalog_rmdir(fs.cat, parent, name));
}

static void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fuse_reply_err(req, EPERM);
}

static void
op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void
op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
	(void)ino, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void
op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
    const char *newname, unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fuse_reply_err(req, EPERM);
}

/* ---- files ---- */

static struct fh *
fh_new(enum fh_kind kind)
{
	struct fh *h = calloc(1, sizeof *h);

	if (h != NULL) {
		h->kind = kind;
		h->fd = -1;
	}
	return h;
}

static void
fh_free(struct fh *h)
{
	if (h->fd >= 0)
		close(h->fd);
	free(h->text);
	free(h);
}

/* Reply to an open of blob data, passing through when possible. */
static void
reply_data_open(fuse_req_t req, struct fh *h, struct fuse_file_info *fi, const struct fuse_entry_param *e,
    int sealed)
{
	int backing = pt_backing_get(h->blob_id, h->fd);
	int rc;

	if (backing < 0) {
		catalog_release(fs.cat, h->blob_id, h->writable);
		fh_free(h);
		fuse_reply_err(req, -backing);
		return;
	}
	fi->fh = (uintptr_t)h;
	fi->noflush = 1; /* sealing happens at release; flush has nothing to do */
	fi->keep_cache = backing == 0 && sealed;
	fi->direct_io = 0;
	if (backing > 0)
		pt_mark_reply(backing);
	rc = e != NULL ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
	if (rc != 0) {
		/* The opener is gone (interrupted): undo. */
		catalog_release(fs.cat, h->blob_id, h->writable);
		fh_free(h);
	}
}

static void
op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct catalog_attr a;
	struct fh *h;
	int rc;

	if (parent != CATALOG_INO_NAMES) {
		fuse_reply_err(req, EPERM); /* objects are born in names/ */
		return;
	}
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if ((h = fh_new(FH_DATA)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = catalog_create_blob_object(fs.cat, name, ctx->uid, ctx->gid, mode, &a, &h->blob_id, &h->fd);
	if (rc != 0) {
		fh_free(h);
		fuse_reply_err(req, -rc);
		return;
	}
	h->writable = 1;
	fs_attr_to_entry(&a, &e);
	reply_data_open(req, h, fi, &e, 0);
}

static void
op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct catalog_attr a;
	uint64_t blob_id;
	int fd, rc;

	(void)rdev;
	if (parent != CATALOG_INO_NAMES || !S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	rc = catalog_create_blob_object(fs.cat, name, ctx->uid, ctx->gid, mode, &a, &blob_id, &fd);
	if (rc != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	close(fd);
	catalog_release(fs.cat, blob_id, 1); /* seals it, empty */
	if ((rc = catalog_getattr(fs.cat, a.ino, &a)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_attr_to_entry(&a, &e);
	fuse_reply_entry(req, &e);
}

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int writable = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct catalog_attr a;
	struct fh *h;
	int rc;

	if (control_is(ino) || (!id_is_blob(ino) && ino > CATALOG_INO_CONTROL &&
				   id_view_of_ino(ino) == ID_VIEW_META)) {
		if (writable || (fi->flags & O_TRUNC)) {
			fuse_reply_err(req, EPERM);
			return;
		}
		if ((h = fh_new(FH_TEXT)) == NULL) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		rc = control_is(ino) ? control_render(ino, &h->text, &h->len)
				     : catalog_read_generated(fs.cat, ino, &h->text, &h->len);
		if (rc != 0) {
			fh_free(h);
			fuse_reply_err(req, -rc);
			return;
		}
		fi->fh = (uintptr_t)h;
		fi->direct_io = 1; /* generated anew at each open */
		fi->noflush = 1;
		if (fuse_reply_open(req, fi) != 0)
			fh_free(h);
		return;
	}
	if ((h = fh_new(FH_DATA)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((fi->flags & O_TRUNC) && !writable)
		writable = 1;
	rc = catalog_open_data(fs.cat, ino, writable, &h->blob_id, &h->fd);
	if (rc == -ENOENT && catalog_getattr(fs.cat, ino, &a) == 0)
		rc = S_ISDIR(a.mode) ? -EISDIR : -EPERM;
	if (rc != 0) {
		fh_free(h);
		fuse_reply_err(req, -rc);
		return;
	}
	h->writable = writable;
	if ((fi->flags & O_TRUNC) && ftruncate(h->fd, 0) != 0) {
		rc = errno;
		catalog_release(fs.cat, h->blob_id, h->writable);
		fh_free(h);
		fuse_reply_err(req, rc);
		return;
	}
	reply_data_open(req, h, fi, NULL, !writable);
}

static void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)fi->fh;
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);

	(void)ino;
	if (h->kind == FH_TEXT) {
		size_t n = off < (off_t)h->len ? h->len - (size_t)off : 0;

		fuse_reply_buf(req, h->text + (off < (off_t)h->len ? off : 0), n < size ? n : size);
		return;
	}
	atomic_fetch_add(&fs.n.reads, 1);
	atomic_fetch_add(&fs.n.read_bytes, size);
	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = h->fd;
	bv.buf[0].pos = off;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
}

static void
op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)fi->fh;
	ssize_t n;

	(void)ino;
	if (h->kind != FH_DATA || !h->writable) {
		fuse_reply_err(req, EBADF);
		return;
	}
	atomic_fetch_add(&fs.n.writes, 1);
	n = catalog_write(fs.cat, h->blob_id, h->fd, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else {
		atomic_fetch_add(&fs.n.write_bytes, (uint64_t)n);
		fuse_reply_write(req, (size_t)n);
	}
}

static void
op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino, (void)fi;
	fuse_reply_err(req, 0);
}

static void
op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino, (void)datasync, (void)fi;
	fuse_reply_err(req, 0); /* tmpfs: nothing to write back */
}

static void
op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)fi->fh;

	(void)ino;
	if (h->kind == FH_DATA) {
		close(h->fd);
		h->fd = -1;
		catalog_release(fs.cat, h->blob_id, h->writable);
	}
	fh_free(h);
	fuse_reply_err(req, 0);
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
	sv.f_bfree = sv.f_bavail = st.memory_used < st.memory_limit ? (st.memory_limit - st.memory_used) / 4096 : 0;
	sv.f_files = st.objects + st.blobs;
	sv.f_ffree = sv.f_favail = 1u << 30;
	sv.f_namemax = CATALOG_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

/* ---- extended attributes ---- */

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

static void
op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char *value = NULL;
	size_t len = 0;
	int rc = control_is(ino) ? -ENODATA : catalog_xattr_get(fs.cat, ino, name, &value, &len);

	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		reply_sized(req, value, len, size);
	free(value);
}

static void
op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *names = NULL;
	size_t len = 0;
	int rc = control_is(ino) ? 0 : catalog_xattr_list(fs.cat, ino, &names, &len);

	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		reply_sized(req, names, len, size);
	free(names);
}

static void
op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags)
{
	int rc = control_is(ino) ? -ENOTSUP : catalog_xattr_set(fs.cat, ino, name, value, size, flags);

	fuse_reply_err(req, -rc);
}

static void
op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	int rc = control_is(ino) ? -ENOTSUP : catalog_xattr_remove(fs.cat, ino, name);

	fuse_reply_err(req, -rc);
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.create = op_create,
};
