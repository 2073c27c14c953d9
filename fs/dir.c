/*
 * dir: directory listings, of every kind of directory (node.h: its list
 * operation), and the requests no directory allows (mkdir, symlink, link)
 * or only names/ does (rename, the catalog's). A listing is taken whole at opendir, so offsets
 * stay valid however the directory changes while it is read; readdirplus
 * hands the kernel every entry's attributes at once, which is what makes
 * "ls -l" of a large directory cheap.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/vec.h"
#include "fs/node.h"

/* A directory listing, taken at opendir. */
struct dent {
	char *name;
	struct catalog_attr attr;
};

struct dh {
	struct fs_handle h; /* first: the handle's kind */
	struct dent *v;
	size_t n, cap;
};

static int
dh_add(void *arg, const char *name, const struct catalog_attr *attr)
{
	struct dh *d = arg;

	if (VEC_PUSH_ROOM(d->v, d->n, d->cap) != 0)
		return -ENOMEM;
	if ((d->v[d->n].name = strdup(name)) == NULL)
		return -ENOMEM;
	d->v[d->n].attr = *attr;
	d->n++;
	return 0;
}

static void
dh_destroy(struct fs_handle *h)
{
	struct dh *d = (struct dh *)h;
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	free(d);
}

static const struct fs_handle_ops dh_ops = {
	.name = "listing",
	.destroy = dh_destroy,
};

void
dir_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct fs_node_ops *k = node_of(ino);
	struct dh *d = calloc(1, sizeof *d);
	struct catalog_attr self;
	int rc;

	if (d == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	d->h.ops = &dh_ops;
	memset(&self, 0, sizeof self);
	self.ino = ino;
	self.mode = S_IFDIR | 0755;
	if ((rc = dh_add(d, ".", &self)) == 0 && (rc = dh_add(d, "..", &self)) == 0)
		rc = k->list != NULL ? k->list(ino, dh_add, d) : -ENOTDIR;
	if (rc != 0) {
		handle_free(&d->h);
		fuse_reply_err(req, -rc);
		return;
	}
	if ((rc = handle_register(&d->h, fi)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) != 0)
		handle_release(fi->fh);
}

static void
readdir_common(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi, int plus)
{
	struct fs_handle *h = handle_get(fi->fh);
	struct dh *d = h != NULL && h->ops == &dh_ops ? (struct dh *)h : NULL;
	char *buf = d != NULL ? malloc(size) : NULL;
	size_t used = 0, i;

	if (buf == NULL) {
		fuse_reply_err(req, d == NULL ? EBADF : ENOMEM);
		if (h != NULL)
			handle_put(fi->fh);
		return;
	}
	for (i = (size_t)off; i < d->n; i++) {
		const struct dent *de = &d->v[i];
		size_t n;

		if (plus) {
			struct fuse_entry_param e;
			int dot = de->name[0] == '.' &&
				  (de->name[1] == '\0' || (de->name[1] == '.' && de->name[2] == '\0'));

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
	handle_put(fi->fh);
}

void
dir_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	readdir_common(req, size, off, fi, 0);
}

void
dir_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	readdir_common(req, size, off, fi, 1);
}

void
dir_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	handle_release(fi->fh);
	fuse_reply_err(req, 0);
}

void
dir_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fuse_reply_err(req, EPERM);
}

void
dir_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

void
dir_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
	(void)ino, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

void
dir_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
    unsigned int flags)
{
	unsigned cflags = 0;

	if (flags & RENAME_NOREPLACE)
		cflags |= CATALOG_RENAME_NOREPLACE;
	if (flags & ~RENAME_NOREPLACE) {
		fuse_reply_err(req, EINVAL); /* RENAME_EXCHANGE, RENAME_WHITEOUT */
		return;
	}
	fuse_reply_err(req, -catalog_rename(fs.cat, parent, name, newparent, newname, cflags));
}
