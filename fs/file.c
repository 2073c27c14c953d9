/*
 * file: the catalog's files, opened, read and written, and the requests
 * on open files of any kind (dispatched through their handle's ops, see
 * fs.h). Data files (blobs and Blob objects' names) pass through to the
 * blob's tmpfs file when the kernel allows it, and are otherwise served
 * here from that file: data_path decides which, once per open; a
 * writer's open clears the set-user-ID bits its writes would
 * (killpriv.h), since those writes may never reach the daemon. Generated
 * files (meta.json, and the control files for control.c) are rendered at
 * open and served from that copy.
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
#include "fs/killpriv.h"
#include "fs/passthrough.h"
#include "fs/supervisor.h"

/* An open blob: its bytes, through passthrough or served from fd. */
struct data_handle {
	struct fs_handle h; /* first: the handle's kind */
	uint64_t blob_id;
	int fd;	    /* the blob file, or -1 (passthrough) */
	int opened; /* counted by catalog_open_data: released with the handle */
	int writable;
};

/* A generated file, rendered at open. */
struct text_handle {
	struct fs_handle h;
	char *text;
	size_t len;
};

static const struct fs_handle_ops data_ops, text_ops;

static struct data_handle *
data_new(void)
{
	struct data_handle *d = calloc(1, sizeof *d);

	if (d != NULL) {
		d->h.ops = &data_ops;
		d->fd = -1;
	}
	return d;
}

/* Close a data handle: the catalog learns of the release (which seals
 * data written through it) only once no request uses the handle any
 * more. The seal's commit is left to the catalog's sealer: close(2) did
 * not wait for this release, and the next request need not wait for
 * SQLite either. */
static void
data_destroy(struct fs_handle *h)
{
	struct data_handle *d = (struct data_handle *)h;

	if (d->fd >= 0)
		close(d->fd);
	if (d->opened)
		catalog_release_deferred(fs.cat, d->blob_id, d->writable);
	free(d);
}

int
file_data_fd(struct fs_handle *h)
{
	return h != NULL && h->ops == &data_ops ? ((struct data_handle *)h)->fd : -1;
}

/* How h's blob is served, decided here once for every open and create:
 * through passthrough when the connection has it (the blob's backing file
 * registered at its first open, from h's fd, which is then not needed),
 * else by the daemon from h's fd. The backing id, 0 for the daemon, or
 * -errno (a blob that passes through for others must not be served
 * here: the kernel refuses to mix the two on one file). */
static int
data_path(struct data_handle *h)
{
	int backing = pt_backing_get(h->blob_id, h->fd);

	if (backing > 0) {
		close(h->fd);
		h->fd = -1;
	}
	return backing;
}

/* Reply to an open of blob data, passing through when possible. */
static void
reply_data_open(fuse_req_t req, struct data_handle *h, struct fuse_file_info *fi,
    const struct fuse_entry_param *e, int sealed)
{
	int backing = data_path(h);
	int rc, kept = !h->writable;
	uint64_t blob_id = h->blob_id;

	if (backing < 0) {
		handle_free(&h->h);
		fuse_reply_err(req, -backing);
		return;
	}
	if ((rc = handle_register(&h->h, fi)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->noflush = 1; /* sealing happens at release; flush has nothing to do */
	fi->keep_cache = backing == 0 && sealed;
	fi->direct_io = 0;
	if (backing > 0)
		pt_open_reply(fi->fh, backing);
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

static void
text_destroy(struct fs_handle *h)
{
	struct text_handle *t = (struct text_handle *)h;

	free(t->text);
	free(t);
}

static void
text_read(fuse_req_t req, uint64_t fh, struct fs_handle *h, size_t size, off_t off)
{
	struct text_handle *t = (struct text_handle *)h;
	size_t n = off < (off_t)t->len ? t->len - (size_t)off : 0;

	fuse_reply_buf(req, t->text + (off < (off_t)t->len ? off : 0), n < size ? n : size);
	handle_put(fh);
}

static const struct fs_handle_ops text_ops = {
	.name = "text",
	.read = text_read,
	.destroy = text_destroy,
};

void
file_reply_text(fuse_req_t req, struct fuse_file_info *fi, char *text, size_t len)
{
	struct text_handle *t = calloc(1, sizeof *t);
	int rc;

	if (t == NULL) {
		free(text);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	t->h.ops = &text_ops;
	t->text = text;
	t->len = len;
	if ((rc = handle_register(&t->h, fi)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->direct_io = 1; /* generated anew at each open */
	fi->noflush = 1;
	if (fuse_reply_open(req, fi) != 0)
		handle_release(fi->fh);
}

void
file_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct catalog_attr a;
	struct data_handle *h;
	int rc;

	if (parent != INO_NAMES) {
		fuse_reply_err(req, EPERM); /* objects are born in names/ */
		return;
	}
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if ((h = data_new()) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Its creator writes it next: a write the daemon does not see. */
	if (killpriv_negotiated())
		mode &= ~killpriv_bits(mode, ctx->uid, 0);
	rc = catalog_create_blob_object(fs.cat, name, ctx->uid, ctx->gid, mode, &a, &h->blob_id, &h->fd);
	if (rc != 0) {
		handle_free(&h->h);
		fuse_reply_err(req, -rc);
		return;
	}
	h->opened = 1;
	h->writable = 1;
	fs_attr_to_entry(&a, &e);
	reply_data_open(req, h, fi, &e, 0);
}

void
file_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct catalog_attr a;
	uint64_t blob_id;
	int fd, rc;

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
	struct catalog_set change = CATALOG_SET_NONE;
	struct catalog_attr a;
	struct data_handle *h;
	int rc;

	if (ino_class(ino) == INO_CLASS_OBJECT && ino_view(ino) == INO_VIEW_META) {
		char *text;
		size_t len;

		if (writable || (fi->flags & O_TRUNC))
			fuse_reply_err(req, EPERM);
		else if ((rc = catalog_read_generated(fs.cat, ino, &text, &len)) != 0)
			fuse_reply_err(req, -rc);
		else
			file_reply_text(req, fi, text, len);
		return;
	}
	if ((h = data_new()) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((fi->flags & O_TRUNC) && !writable)
		writable = 1;
	rc = catalog_open_data(fs.cat, ino, writable, &h->blob_id, &h->fd);
	if (rc == -ENOENT && catalog_getattr(fs.cat, ino, &a) == 0)
		rc = S_ISDIR(a.mode) ? -EISDIR : -EPERM;
	if (rc != 0) {
		handle_free(&h->h);
		fuse_reply_err(req, -rc);
		return;
	}
	h->opened = 1;
	h->writable = writable;
	if (fi->flags & O_TRUNC)
		change.size = 0;
	/* Writes that pass through never reach the daemon: a writer's open
	 * clears the bits its first write would (killpriv.h). */
	if (writable)
		killpriv_amend(ino, fuse_req_ctx(req)->uid, 1, &change);
	if ((change.size != CATALOG_KEEP || change.mode != CATALOG_KEEP) &&
	    (rc = catalog_setattr(fs.cat, ino, h->fd, &change, &a)) != 0) {
		handle_free(&h->h);
		fuse_reply_err(req, -rc);
		return;
	}
	reply_data_open(req, h, fi, NULL, !writable);
}

static void
data_read(fuse_req_t req, uint64_t fh, struct fs_handle *h, size_t size, off_t off)
{
	struct data_handle *d = (struct data_handle *)h;
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);

	atomic_fetch_add(&fs.n.reads, 1);
	atomic_fetch_add(&fs.n.read_bytes, size);
	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = d->fd;
	bv.buf[0].pos = off;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
	handle_put(fh);
}

static void
data_write(fuse_req_t req, uint64_t fh, struct fs_handle *h, const char *buf, size_t size, off_t off)
{
	struct data_handle *d = (struct data_handle *)h;
	ssize_t n;

	if (!d->writable) {
		fuse_reply_err(req, EBADF);
		goto out;
	}
	atomic_fetch_add(&fs.n.writes, 1);
	n = catalog_write(fs.cat, d->blob_id, d->fd, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else {
		atomic_fetch_add(&fs.n.write_bytes, (uint64_t)n);
		fuse_reply_write(req, (size_t)n);
	}
out:
	handle_put(fh);
}

static const struct fs_handle_ops data_ops = {
	.name = "data",
	.read = data_read,
	.write = data_write,
	.destroy = data_destroy,
};

void
file_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_handle *h = handle_get(fi->fh);

	(void)ino;
	if (h != NULL && h->ops->read != NULL) {
		h->ops->read(req, fi->fh, h, size, off); /* maybe later; puts */
		return;
	}
	fuse_reply_err(req, EBADF);
	if (h != NULL)
		handle_put(fi->fh);
}

void
file_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_handle *h = handle_get(fi->fh);

	(void)ino;
	if (h != NULL && h->ops->write != NULL) {
		h->ops->write(req, fi->fh, h, buf, size, off); /* maybe later; puts */
		return;
	}
	fuse_reply_err(req, EBADF);
	if (h != NULL)
		handle_put(fi->fh);
}

void
file_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_handle *h = handle_get(fi->fh);

	(void)ino;
	if (h != NULL && h->ops->flush != NULL)
		h->ops->flush(req, h);
	if (h != NULL)
		handle_put(fi->fh);
	fuse_reply_err(req, 0);
}

void
file_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	struct fs_handle *h = handle_get(fi->fh);
	struct data_handle *d = h != NULL && h->ops == &data_ops ? (struct data_handle *)h : NULL;
	int rc;

	(void)ino;
	if (d == NULL || !d->writable)
		rc = -EBADF;
	else if (mode & ~FALLOC_FL_KEEP_SIZE)
		rc = -EOPNOTSUPP; /* no holes to punch in a blob being written */
	else
		rc = catalog_fallocate(fs.cat, d->blob_id, d->fd, mode, off, len);
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
