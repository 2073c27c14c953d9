/*
 * control: .vineyardfs/ and its files, as node kinds (node.h), from the
 * table below: ctl (the request/response file: write a JSON request, read
 * the JSON reply on the same descriptor; see core/request.h; a wait is
 * parked, see park.c), and generated files rendered at each open: stats
 * (stats.c: counters, memory, which data path is in force), version and
 * cluster (clusterinfo.c: membership and how current the mirror is).
 * A new generated file is a row here, its number in core/ino.h, and its
 * render function in a file of its own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/request.h"
#include "core/vec.h"
#include "fs/node.h"

static int render_version(char **text, size_t *len);

/* The files, in listing order. A generated file is rendered at each open
 * by its render function (caller frees the text); ctl has none: it is a
 * conversation (below). */
static const struct {
	const char *name;
	fuse_ino_t ino;
	mode_t mode;
	int (*render)(char **text, size_t *len);
} files[] = {
	{ "ctl", INO_CTL, 0666, NULL },
	{ "stats", INO_STATS, 0444, stats_render },
	{ "version", INO_VERSION, 0444, render_version },
	{ "cluster", INO_CLUSTER, 0444, clusterinfo_render },
	{ "metrics", INO_METRICS, 0444, metrics_render },
};

#define NFILES (sizeof files / sizeof files[0])

/* A request being written or a reply being read on one open of ctl. */
struct ctl {
	struct fs_handle h;   /* first: the handle's kind */
	pthread_mutex_t lock; /* guards the rest */
	uid_t uid;
	gid_t gid;
	char *req;
	size_t reqlen, reqcap; /* vec.h */
	char *reply;
	size_t replylen, replypos;
	struct request_wait wait; /* wait.pending: a read is parked */
	uint64_t fh;		  /* of the parked read */
	size_t want;		  /* bytes the parked read asked for */
};

static int
render_version(char **text, size_t *len)
{
	if (asprintf(text, "vineyardfs %s\n", PACKAGE_VERSION) < 0)
		return -ENOMEM;
	*len = strlen(*text);
	return 0;
}

/* The row of file ino, or NFILES. */
static size_t
row_of(fuse_ino_t ino)
{
	size_t i;

	for (i = 0; i < NFILES && files[i].ino != ino; i++)
		;
	return i;
}

/* A control file's attributes; -ENOENT for a number no file has. */
static int
cfile_attr(fuse_ino_t ino, struct catalog_attr *a)
{
	size_t i = row_of(ino);

	if (i == NFILES)
		return -ENOENT;
	memset(a, 0, sizeof *a);
	a->ino = ino;
	a->mode = S_IFREG | files[i].mode;
	a->nlink = 1;
	a->mtime_ns = a->ctime_ns = fs.start_ns;
	/* Size 0: the contents change; files are opened with direct I/O. */
	return 0;
}

static void
cdir_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct catalog_attr a;
	size_t i;

	(void)parent;
	for (i = 0; i < NFILES; i++) {
		if (strcmp(files[i].name, name) == 0) {
			cfile_attr(files[i].ino, &a);
			fs_attr_to_entry(&a, &e);
			e.attr_timeout = FS_TTL_NONE;
			fuse_reply_entry(req, &e);
			return;
		}
	}
	fuse_reply_err(req, ENOENT);
}

static int
cdir_list(fuse_ino_t dir, catalog_list_fn fn, void *arg)
{
	struct catalog_attr a;
	size_t i;
	int rc;

	(void)dir;
	for (i = 0; i < NFILES; i++) {
		cfile_attr(files[i].ino, &a);
		if ((rc = fn(arg, files[i].name, &a)) != 0)
			return rc;
	}
	return 0;
}

/* .vineyardfs/ itself. */
const struct fs_node_ops control_dir_node = {
	.name = "control directory",
	.getattr = root_dir_getattr,
	.lookup = cdir_lookup,
	.setattr = root_dir_setattr,
	.list = cdir_list,
	.getxattr = catnode_getxattr,
	.listxattr = catnode_listxattr,
	.setxattr = catnode_setxattr,
	.removexattr = catnode_removexattr,
};

static const struct fs_handle_ops ctl_ops;

struct fs_handle *
control_ctl_open(uid_t uid, gid_t gid)
{
	struct ctl *t = calloc(1, sizeof *t);

	if (t == NULL)
		return NULL;
	t->h.ops = &ctl_ops;
	pthread_mutex_init(&t->lock, NULL);
	t->uid = uid;
	t->gid = gid;
	t->wait.streams = fs.streams;
	t->wait.cluster = fs.cluster;
	return &t->h;
}

static void
ctl_destroy(struct fs_handle *h)
{
	struct ctl *t = (struct ctl *)h;

	if (t->wait.producing != 0) {
		/* The producer went (closed, exited, killed) without closing
		 * its stream: what it pushed may not be all. */
		streams_close_write(fs.streams, t->wait.producing,
		    "its producer closed the control file without stream_close");
		park_kick();
	}
	pthread_mutex_destroy(&t->lock);
	free(t->req);
	free(t->reply);
	free(t);
}

ssize_t
control_ctl_write(struct fs_handle *h, const char *buf, size_t size)
{
	struct ctl *t = (struct ctl *)h;
	ssize_t rc = (ssize_t)size;

	pthread_mutex_lock(&t->lock);
	if (t->wait.pending) {
		pthread_mutex_unlock(&t->lock);
		return -EBUSY; /* the request is being answered */
	}
	if (t->reply != NULL) {
		/* Writing after the reply starts the next request. */
		free(t->reply);
		t->reply = NULL;
		t->replylen = t->replypos = 0;
		t->reqlen = 0;
	}
	if (t->reqlen + size > REQUEST_MAX)
		rc = -EFBIG;
	else if (vec_reserve(&t->req, &t->reqcap, t->reqlen + size, 1) != 0)
		rc = -ENOMEM;
	else {
		memcpy(t->req + t->reqlen, buf, size);
		t->reqlen += size;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* Send up to size bytes of t's reply, from where the last read stopped;
 * with t->lock held. */
static void
reply_part(fuse_req_t req, struct ctl *t, size_t size)
{
	size_t n = t->replylen - t->replypos < size ? t->replylen - t->replypos : size;

	fuse_reply_buf(req, t->reply + t->replypos, n);
	t->replypos += n;
}

/* The park thread's look at a waiting ctl (see park_fn). */
static int
wait_check(void *arg, fuse_req_t req, enum park_why why)
{
	struct ctl *t = arg;
	uint64_t fh = t->fh;
	char *reply = NULL;
	size_t len = 0;

	if (why != PARK_INTERRUPTED &&
	    request_wait_poll(fs.cat, &t->wait, why == PARK_TIMEOUT, &reply, &len) == 0)
		return 0;
	pthread_mutex_lock(&t->lock);
	t->wait.pending = 0;
	if (why != PARK_INTERRUPTED) {
		/* Interrupted, the request stays: the next read waits again. */
		if (reply == NULL)
			fuse_reply_err(req, ENOMEM);
		else {
			t->reply = reply;
			t->replylen = len;
			t->replypos = 0;
			reply_part(req, t, t->want);
		}
	}
	pthread_mutex_unlock(&t->lock);
	handle_put(fh);
	return 1;
}

/* Answer a read of ctl; the reply is read as a stream, whatever the file
 * offset. The first read handles the request; a wait that cannot be
 * answered yet is parked, and handle fh is put when it is answered. */
static void
ctl_read(fuse_req_t req, uint64_t fh, struct fs_handle *h, size_t size, off_t off)
{
	struct ctl *t = (struct ctl *)h;
	int rc;

	(void)off;
	pthread_mutex_lock(&t->lock);
	if (t->wait.pending) {
		pthread_mutex_unlock(&t->lock);
		fuse_reply_err(req, EBUSY); /* one read at a time waits */
		handle_put(fh);
		return;
	}
	if (t->reply == NULL) {
		/* The first read answers what was written. */
		t->reply = request_handle(
		    fs.cat, t->uid, t->gid, t->req != NULL ? t->req : "", t->reqlen, &t->replylen, &t->wait);
		t->replypos = 0;
		if (t->reply == NULL && t->wait.pending) {
			t->fh = fh;
			t->want = size;
			pthread_mutex_unlock(&t->lock);
			if ((rc = park_add(req, wait_check, t, t->wait.timeout_ms)) != 0) {
				pthread_mutex_lock(&t->lock);
				t->wait.pending = 0;
				pthread_mutex_unlock(&t->lock);
				log_warn("cannot park a wait for \"%s\": %s", t->wait.name, strerror(-rc));
				fuse_reply_err(req, -rc);
				handle_put(fh);
			}
			return;
		}
		/* What the request changed is gone from the kernel's caches
		 * before its caller sees the reply; waiters look again (a
		 * push, a close). */
		notify_flush();
		park_kick();
		if (t->reply == NULL) {
			pthread_mutex_unlock(&t->lock);
			fuse_reply_err(req, ENOMEM);
			handle_put(fh);
			return;
		}
	}
	reply_part(req, t, size);
	pthread_mutex_unlock(&t->lock);
	handle_put(fh);
}

static void
ctl_write(fuse_req_t req, uint64_t fh, struct fs_handle *h, const char *buf, size_t size, off_t off)
{
	ssize_t n = control_ctl_write(h, buf, size);

	(void)off;
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
	handle_put(fh);
}

static const struct fs_handle_ops ctl_ops = {
	.name = "ctl",
	.read = ctl_read,
	.write = ctl_write,
	.destroy = ctl_destroy,
};

/* "echo ... > ctl" truncates first: nothing to truncate. The other files
 * change by no one's hand. */
static void
cfile_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct catalog_attr a;

	(void)attr, (void)fi;
	if (ino == INO_CTL &&
	    (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			  FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) == 0 &&
	    cfile_attr(ino, &a) == 0)
		fs_attr_reply(req, &a, 1);
	else
		fuse_reply_err(req, EPERM);
}

static void
cfile_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int writable = (fi->flags & O_ACCMODE) != O_RDONLY;
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct catalog_attr a;
	struct fs_handle *h;
	char *text;
	size_t len;
	int rc;

	if ((rc = cfile_attr(ino, &a)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (files[row_of(ino)].render != NULL) {
		if (writable || (fi->flags & O_TRUNC))
			fuse_reply_err(req, EPERM);
		else if ((rc = files[row_of(ino)].render(&text, &len)) != 0)
			fuse_reply_err(req, -rc);
		else
			file_reply_text(req, fi, text, len);
		return;
	}
	if ((h = control_ctl_open(ctx->uid, ctx->gid)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((rc = handle_register(h, fi)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->direct_io = 1; /* a conversation, not a file to cache */
	fi->noflush = 1;
	if (fuse_reply_open(req, fi) != 0)
		handle_release(fi->fh);
}

/* A file of .vineyardfs/: ctl, or one rendered at each open. */
const struct fs_node_ops control_file_node = {
	.name = "control file",
	.uncached = 1,
	.getattr = cfile_attr,
	.setattr = cfile_setattr,
	.open = cfile_open,
};
