/*
 * file: opening, reading and writing files. Data files (blobs and Blob
 * objects' names) pass through to the blob's tmpfs file when the kernel
 * allows it, and are otherwise served here from that file; generated files
 * (meta.json, the control files) are rendered at open and served from that
 * copy.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ino.h"
#include "fs/fs.h"
#include "fs/passthrough.h"
#include "fs/supervisor.h"

struct fh *
file_handle_new(int kind)
{
	struct fh *h = calloc(1, sizeof *h);

	if (h != NULL) {
		h->kind = kind;
		h->fd = -1;
	}
	return h;
}

/* Close a handle: the catalog learns of the release (which seals data
 * written through it) only once no request uses the handle any more. */
static void
fh_destroy(void *obj)
{
	struct fh *h = obj;

	if (h->fd >= 0)
		close(h->fd);
	if (h->kind == FH_DATA && h->opened)
		catalog_release(fs.cat, h->blob_id, h->writable);
	if (h->kind == FH_STREAM)
		stream_closed(h);
	control_ctl_free(h->ctl);
	free(h->text);
	free(h);
}

void
file_handle_free(struct fh *h)
{
	fh_destroy(h);
}

/* Give h a handle number in fi->fh; on failure h is destroyed. */
int
file_handle_register(struct fh *h, struct fuse_file_info *fi)
{
	uint64_t n = handle_add(h, fh_destroy);

	if (n == 0) {
		fh_destroy(h);
		return -ENOMEM;
	}
	fi->fh = n;
	return 0;
}

/* The passthrough backing id for h's blob, registering it at its first
 * open; 0 when the daemon serves the data, and then h gets an fd for it. */
static int
data_backing(struct fh *h)
{
	int backing = pt_backing_find(h->blob_id), fd = h->fd, rc;

	if (backing > 0)
		return backing;
	if (pt_active()) {
		if (fd < 0 && (rc = catalog_blob_fd(fs.cat, h->blob_id, h->writable, &fd)) != 0)
			return rc;
		backing = pt_backing_get(h->blob_id, fd);
		if (fd != h->fd)
			close(fd);
		if (backing != 0)
			return backing;
	}
	/* Served by the daemon: it needs a file of its own. */
	if (h->fd < 0 && (rc = catalog_blob_fd(fs.cat, h->blob_id, h->writable, &h->fd)) != 0)
		return rc;
	return 0;
}

/* Reply to an open of blob data, passing through when possible. */
static void
reply_data_open(
    fuse_req_t req, struct fh *h, struct fuse_file_info *fi, const struct fuse_entry_param *e, int sealed)
{
	int backing = data_backing(h);
	int rc, kept = !h->writable;
	uint64_t blob_id = h->blob_id;

	if (backing < 0) {
		fh_destroy(h);
		fuse_reply_err(req, -backing);
		return;
	}
	if ((rc = file_handle_register(h, fi)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->noflush = 1; /* sealing happens at release; flush has nothing to do */
	fi->keep_cache = backing == 0 && sealed;
	fi->direct_io = 0;
	if (backing > 0)
		pt_mark_reply(backing);
	/* For a successor's catalog, should this worker die while the kernel
	 * holds the file (a writer's unsealed blob dies with the worker).
	 * Before the reply: the RELEASE may come as soon as it is out. */
	if (kept)
		supervisor_open_add(fi->fh, blob_id);
	rc = e != NULL ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
	if (rc != 0) {
		/* The opener is gone (interrupted): undo. */
		if (kept)
			supervisor_open_del(fi->fh);
		handle_release(fi->fh);
	}
}

void
file_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct catalog_attr a;
	struct fh *h;
	int rc;

	if (parent == INO_STREAMS) {
		stream_create(req, name, mode, fi);
		return;
	}
	if (parent != INO_NAMES) {
		fuse_reply_err(req, EPERM); /* objects are born in names/ */
		return;
	}
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if ((h = file_handle_new(FH_DATA)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = catalog_create_blob_object(fs.cat, name, ctx->uid, ctx->gid, mode, &a, &h->blob_id, &h->fd);
	if (rc != 0) {
		fh_destroy(h);
		fuse_reply_err(req, -rc);
		return;
	}
	h->opened = 1;
	h->writable = 1;
	fs_attr_to_entry(&a, &e);
	reply_data_open(req, h, fi, &e, 0);
}

void
file_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct catalog_attr a;
	uint64_t blob_id;
	int fd, rc;

	(void)rdev;
	if (parent != INO_NAMES || !S_ISREG(mode)) {
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

void
file_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int writable = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct catalog_set trunc = CATALOG_SET_NONE;
	struct catalog_attr a;
	struct fh *h;
	int rc;

	if (ino_is_stream(ino)) {
		stream_open(req, ino, fi);
		return;
	}
	if (ino == INO_CTL) {
		const struct fuse_ctx *ctx = fuse_req_ctx(req);

		if ((h = file_handle_new(FH_CTL)) == NULL ||
		    (h->ctl = control_ctl_open(ctx->uid, ctx->gid)) == NULL) {
			if (h != NULL)
				fh_destroy(h);
			fuse_reply_err(req, ENOMEM);
			return;
		}
		if ((rc = file_handle_register(h, fi)) != 0) {
			fuse_reply_err(req, -rc);
			return;
		}
		fi->direct_io = 1; /* a conversation, not a file to cache */
		fi->noflush = 1;
		if (fuse_reply_open(req, fi) != 0)
			handle_release(fi->fh);
		return;
	}
	if (control_is(ino) ||
	    (!id_is_blob(ino) && ino > INO_LAST_DIR && id_view_of_ino(ino) == ID_VIEW_META)) {
		if (writable || (fi->flags & O_TRUNC)) {
			fuse_reply_err(req, EPERM);
			return;
		}
		if ((h = file_handle_new(FH_TEXT)) == NULL) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		rc = control_is(ino) ? control_render(ino, &h->text, &h->len)
				     : catalog_read_generated(fs.cat, ino, &h->text, &h->len);
		if (rc != 0) {
			fh_destroy(h);
			fuse_reply_err(req, -rc);
			return;
		}
		if ((rc = file_handle_register(h, fi)) != 0) {
			fuse_reply_err(req, -rc);
			return;
		}
		fi->direct_io = 1; /* generated anew at each open */
		fi->noflush = 1;
		if (fuse_reply_open(req, fi) != 0)
			handle_release(fi->fh);
		return;
	}
	if ((h = file_handle_new(FH_DATA)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((fi->flags & O_TRUNC) && !writable)
		writable = 1;
	/* With passthrough the kernel opens the blob file itself. */
	rc = catalog_open_data(fs.cat, ino, writable, &h->blob_id, pt_active() ? NULL : &h->fd);
	if (rc == -ENOENT && catalog_getattr(fs.cat, ino, &a) == 0)
		rc = S_ISDIR(a.mode) ? -EISDIR : -EPERM;
	if (rc != 0) {
		fh_destroy(h);
		fuse_reply_err(req, -rc);
		return;
	}
	h->opened = 1;
	h->writable = writable;
	trunc.size = 0;
	if ((fi->flags & O_TRUNC) && (rc = catalog_setattr(fs.cat, ino, h->fd, &trunc, &a)) != 0) {
		fh_destroy(h);
		fuse_reply_err(req, -rc);
		return;
	}
	reply_data_open(req, h, fi, NULL, !writable);
}

void
file_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fh *h = handle_get(fi->fh);
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);

	(void)ino;
	if (h == NULL) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (h->kind == FH_TEXT) {
		size_t n = off < (off_t)h->len ? h->len - (size_t)off : 0;

		fuse_reply_buf(req, h->text + (off < (off_t)h->len ? off : 0), n < size ? n : size);
	} else if (h->kind == FH_CTL) {
		/* The reply is read as a stream, whatever the file offset; it
		 * may come later, and the handle is put then. */
		control_ctl_read(req, fi->fh, h->ctl, size);
		return;
	} else if (h->kind == FH_STREAM) {
		stream_read(req, fi->fh, h, size, off); /* maybe later; puts */
		return;
	} else {
		atomic_fetch_add(&fs.n.reads, 1);
		atomic_fetch_add(&fs.n.read_bytes, size);
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = h->fd;
		bv.buf[0].pos = off;
		fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
	}
	handle_put(fi->fh);
}

void
file_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fh *h = handle_get(fi->fh);
	ssize_t n;

	(void)ino;
	if (h != NULL && h->kind == FH_STREAM) {
		stream_write(req, fi->fh, h, buf, size, off); /* maybe later; puts */
		return;
	}
	if (h != NULL && h->kind == FH_CTL) {
		n = control_ctl_write(h->ctl, buf, size);
		if (n < 0)
			fuse_reply_err(req, (int)-n);
		else
			fuse_reply_write(req, (size_t)n);
		goto out;
	}
	if (h == NULL || h->kind != FH_DATA || !h->writable) {
		fuse_reply_err(req, EBADF);
		goto out;
	}
	atomic_fetch_add(&fs.n.writes, 1);
	n = catalog_write(fs.cat, h->blob_id, h->fd, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else {
		atomic_fetch_add(&fs.n.write_bytes, (uint64_t)n);
		fuse_reply_write(req, (size_t)n);
	}
out:
	if (h != NULL)
		handle_put(fi->fh);
}

void
file_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *h = handle_get(fi->fh);

	(void)ino;
	if (h != NULL && h->kind == FH_STREAM)
		stream_flush(req, h);
	if (h != NULL)
		handle_put(fi->fh);
	fuse_reply_err(req, 0);
}

void
file_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	struct fh *h = handle_get(fi->fh);
	int rc;

	(void)ino;
	if (h == NULL || h->kind != FH_DATA || !h->writable)
		rc = -EBADF;
	else if (mode & ~FALLOC_FL_KEEP_SIZE)
		rc = -EOPNOTSUPP; /* no holes to punch in a blob being written */
	else
		rc = catalog_fallocate(fs.cat, h->blob_id, h->fd, mode, off, len);
	fuse_reply_err(req, -rc);
	if (h != NULL)
		handle_put(fi->fh);
}

void
file_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino, (void)datasync, (void)fi;
	fuse_reply_err(req, 0); /* tmpfs: nothing to write back */
}

void
file_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	handle_release(fi->fh);
	fuse_reply_err(req, 0);
}
