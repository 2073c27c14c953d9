/*
 * dir: directory requests. A listing is taken whole at opendir, so offsets
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

#include "fs/fs.h"

/* A directory listing, taken at opendir. */
struct dent {
	char *name;
	struct catalog_attr attr;
};

struct dh {
	struct dent *v;
	size_t n, cap;
};

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
dh_destroy(void *obj)
{
	dh_free(obj);
}

void
dir_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
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
		if (ino == INO_CONTROL)
			rc = control_list(dh_add, d);
		else if (ino == INO_STREAMS)
			rc = stream_list(dh_add, d);
		else if (ino_is_stream(ino))
			rc = stream_entries(ino, dh_add, d);
		else
			rc = catalog_list(fs.cat, ino, dh_add, d);
	}
	if (rc != 0) {
		dh_free(d);
		fuse_reply_err(req, -rc);
		return;
	}
	if ((fi->fh = handle_add(d, dh_destroy)) == 0) {
		dh_free(d);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) != 0)
		handle_release(fi->fh);
}

static void
readdir_common(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi, int plus)
{
	struct dh *d = handle_get(fi->fh);
	char *buf = d != NULL ? malloc(size) : NULL;
	size_t used = 0, i;

	if (buf == NULL) {
		fuse_reply_err(req, d == NULL ? EBADF : ENOMEM);
		if (d != NULL)
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
dir_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (parent == INO_STREAMS)
		stream_unlink(req, name, 0);
	else if (ino_is_stream(parent))
		fuse_reply_err(req, -streams_entry_unlink(fs.streams, parent, name, fuse_req_ctx(req)->uid));
	else {
		int rc = catalog_unlink(fs.cat, parent, name, fuse_req_ctx(req)->uid);

		/* What it deleted is gone from the kernel's caches before rm
		 * returns: `rm names/x; ls objects/o…` does not see it. */
		if (rc == 0)
			notify_flush_unless(parent);
		fuse_reply_err(req, -rc);
	}
}

void
dir_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (parent == INO_STREAMS)
		stream_unlink(req, name, 1);
	else {
		int rc = catalog_rmdir(fs.cat, parent, name);

		if (rc == 0)
			notify_flush_unless(parent);
		fuse_reply_err(req, -rc);
	}
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
