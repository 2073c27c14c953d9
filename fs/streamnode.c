/*
 * streamnode: streams/ and its streams as node kinds (node.h); core/stream.h
 * does the work. Stream
 * files are direct I/O and served here: reads past what is written are
 * parked (park.c) until the writer adds bytes or closes; a write that
 * finds no memory for a new chunk is parked until memory frees, or fails
 * with ENOSPC after --stream-wait. A writer that dies (killed, or exits
 * with a non-zero status) without closing fails the stream: FLUSH comes
 * from the exiting process, whose /proc entry then shows PF_EXITING and
 * its exit code.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/ino.h"
#include "core/log.h"
#include "fs/node.h"

#define PF_EXITING 0x00000004	      /* include/linux/sched.h */
#define ENTRY_TARGET "../../objects/" /* an object stream's entry links there */

/* An open stream: its writer or one of its readers. */
struct stream_handle {
	struct fs_handle h; /* first: the handle's kind */
	uint64_t ino;
	int writable;
	int opened; /* counted by streams_open_*: closed with the handle */
	int died;   /* a writer: how the last flusher was exiting */
};

static const struct fs_handle_ops stream_ops;

static struct stream_handle *
handle_new(int writable)
{
	struct stream_handle *h = calloc(1, sizeof *h);

	if (h != NULL) {
		h->h.ops = &stream_ops;
		h->writable = writable;
	}
	return h;
}

/* What stat(2) and listings show of a stream: a file, or for an object
 * stream a directory of its objects. */
static void
stream_attr_of(const struct stream_attr *sa, struct catalog_attr *a)
{
	memset(a, 0, sizeof *a);
	a->ino = sa->ino;
	a->mode = S_IFREG | sa->mode;
	a->nlink = 1;
	if (sa->objects) {
		a->mode = S_IFDIR | sa->mode | ((sa->mode & 0444) >> 2);
		a->nlink = 2;
	}
	a->uid = sa->uid;
	a->gid = sa->gid;
	a->size = sa->size;
	a->mtime_ns = sa->mtime_ns;
	a->ctime_ns = sa->ctime_ns;
}

static void
stream_to_stat(const struct stream_attr *sa, struct stat *st)
{
	struct catalog_attr a;

	stream_attr_of(sa, &a);
	fs_attr_to_stat(&a, st);
}

/* An object stream's entry: a symbolic link to its object. */
static void
entry_attr(uint64_t ino, struct catalog_attr *a)
{
	memset(a, 0, sizeof *a);
	a->ino = ino;
	a->mode = S_IFLNK | 0777;
	a->nlink = 1;
	a->size = strlen(ENTRY_TARGET) + ID_STR_LEN;
	a->sealed = 1; /* pushed objects stay: the kernel may cache it */
}

/* An entry the kernel must look up again each time: streams come, grow
 * and change state. */
static void
stream_entry(const struct stream_attr *a, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof *e);
	e->ino = a->ino;
	stream_to_stat(a, &e->attr);
}

static void
sdir_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct stream_attr a;
	int rc;

	(void)parent;
	/* A name read before its writer comes is a pending stream. */
	if ((rc = streams_lookup(fs.streams, name, 1, &a)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	stream_entry(&a, &e);
	streams_ref(fs.streams, a.ino); /* the kernel's, until it forgets it */
	if (fuse_reply_entry(req, &e) != 0)
		streams_forget(fs.streams, a.ino, 1);
}

static int
stream_getattr(fuse_ino_t ino, struct catalog_attr *ca)
{
	struct stream_attr a;
	uint64_t id;
	int rc;

	if ((rc = streams_getattr(fs.streams, ino, &a)) == 0)
		stream_attr_of(&a, ca);
	else if ((rc = streams_entry_target(fs.streams, ino, &id)) == 0)
		entry_attr(ino, ca);
	return rc;
}

static void
stream_lookup(fuse_req_t req, fuse_ino_t dir, const char *name)
{
	struct fuse_entry_param e;
	struct catalog_attr a;
	uint64_t ino, id;
	int rc;

	if ((rc = streams_entry_lookup(fs.streams, dir, name, &ino, &id)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	entry_attr(ino, &a);
	fs_attr_to_entry(&a, &e);
	fuse_reply_entry(req, &e);
}

static int
stream_readlink(fuse_ino_t ino, char **target)
{
	char ids[ID_STR_LEN + 1];
	uint64_t id;
	int rc;

	if ((rc = streams_entry_target(fs.streams, ino, &id)) != 0)
		return rc;
	id_format(id, ids);
	if (asprintf(target, ENTRY_TARGET "%s", ids) < 0)
		return -ENOMEM;
	return 0;
}

/* A listing's callback and its argument. */
struct list_ctx {
	catalog_list_fn fn;
	void *arg;
};

static int
entry_one(void *arg, const char *name, uint64_t ino, uint64_t id)
{
	struct list_ctx *lc = arg;
	struct catalog_attr a;

	(void)id;
	entry_attr(ino, &a);
	return lc->fn(lc->arg, name, &a);
}

static int
stream_entries(fuse_ino_t dir, catalog_list_fn fn, void *arg)
{
	struct list_ctx lc = { fn, arg };

	return streams_entries(fs.streams, dir, entry_one, &lc);
}

static int
list_one(void *arg, const char *name, const struct stream_attr *sa)
{
	struct list_ctx *lc = arg;
	struct catalog_attr a;

	stream_attr_of(sa, &a);
	return lc->fn(lc->arg, name, &a);
}

static int
sdir_list(fuse_ino_t dir, catalog_list_fn fn, void *arg)
{
	struct list_ctx lc = { fn, arg };

	(void)dir;
	return streams_list(fs.streams, list_one, &lc);
}

/* The mode a writer that opens an existing (pending) stream would give a
 * file it creates: OPEN carries no mode, since a lookup in streams/ always
 * finds the name, so take 0666 less the process's umask (0644 when its
 * /proc entry cannot say). */
static mode_t
writer_mode(pid_t pid)
{
	char path[64], line[128];
	unsigned long mask = 022;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL)
			if (sscanf(line, "Umask: %lo", &mask) == 1)
				break;
		fclose(f);
	}
	return (mode_t)(0666 & ~mask);
}

/* Open ino for h's direction and reply (entry e for a create). */
static void
open_reply(fuse_req_t req, struct stream_handle *h, uint64_t ino, struct fuse_file_info *fi,
    const struct fuse_entry_param *e)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stream_attr a;
	int rc;

	h->ino = ino;
	if (h->writable)
		rc = streams_open_write(fs.streams, ino, ctx->uid, ctx->gid,
		    e != NULL ? e->attr.st_mode : writer_mode(ctx->pid), &a);
	else
		rc = streams_open_read(fs.streams, ino);
	if (rc != 0) {
		handle_free(&h->h);
		fuse_reply_err(req, -rc);
		return;
	}
	h->opened = 1;
	if ((rc = handle_register(&h->h, fi)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->direct_io = 1; /* no page cache: it grows under the readers */
	fi->nonseekable = 0;
	if (e != NULL) {
		struct fuse_entry_param e2 = *e;

		stream_to_stat(&a, &e2.attr);
		streams_ref(fs.streams, ino);
		if (fuse_reply_create(req, &e2, fi) != 0) {
			streams_forget(fs.streams, ino, 1);
			handle_release(fi->fh);
		}
	} else if (fuse_reply_open(req, fi) != 0)
		handle_release(fi->fh);
}

static void
sdir_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	struct stream_attr a;
	struct stream_handle *h;
	int rc;

	(void)parent;
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if ((rc = streams_lookup(fs.streams, name, 1, &a)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if ((h = handle_new(1)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	stream_entry(&a, &e);
	e.attr.st_mode = mode & 07777;
	open_reply(req, h, a.ino, fi, &e);
}

static void
stream_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;
	struct stream_handle *h;

	if (acc == O_RDWR) {
		fuse_reply_err(req, EINVAL); /* a writer or a reader, not both */
		return;
	}
	if ((h = handle_new(acc == O_WRONLY)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	open_reply(req, h, ino, fi, NULL);
}

/* A read waiting for bytes (park_fn). */
struct read_wait {
	uint64_t fh;
	uint64_t ino;
	off_t off;
	size_t size;
};

/* Answer a read if its bytes (or the end) are there; 0 if not yet. */
static int
read_answer(fuse_req_t req, uint64_t ino, off_t off, size_t size)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
	size_t len;
	off_t at;
	int fd, rc = streams_read(fs.streams, ino, off, size, &fd, &at, &len);

	if (rc == -EAGAIN)
		return 0;
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (rc == 0)
		fuse_reply_buf(req, NULL, 0);
	else {
		bv.buf[0].size = len;
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = fd;
		bv.buf[0].pos = at;
		fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
	}
	return 1;
}

static int
read_check(void *arg, fuse_req_t req, enum park_why why)
{
	struct read_wait *w = arg;

	if (why != PARK_INTERRUPTED && read_answer(req, w->ino, w->off, w->size) == 0)
		return 0;
	handle_put(w->fh);
	free(w);
	return 1;
}

static void
stream_read(fuse_req_t req, uint64_t fh, struct fs_handle *fsh, size_t size, off_t off)
{
	struct stream_handle *h = (struct stream_handle *)fsh;
	struct read_wait *w;
	int rc;

	if (h->writable) {
		fuse_reply_err(req, EBADF);
	} else if (read_answer(req, h->ino, off, size) == 0) {
		if ((w = malloc(sizeof *w)) == NULL) {
			fuse_reply_err(req, ENOMEM);
		} else {
			*w = (struct read_wait){ fh, h->ino, off, size };
			if ((rc = park_add(req, read_check, w, -1)) == 0)
				return; /* the handle is put when answered */
			free(w);
			fuse_reply_err(req, -rc);
		}
	}
	handle_put(fh);
}

/* A write waiting for memory (park_fn); it owns a copy of the bytes. */
struct write_wait {
	uint64_t fh;
	uint64_t ino;
	off_t off;
	size_t size;
	char data[];
};

static int
write_check(void *arg, fuse_req_t req, enum park_why why)
{
	struct write_wait *w = arg;
	ssize_t n = -ENOSPC;

	if (why == PARK_CHANGED) {
		if ((n = streams_write(fs.streams, w->ino, w->data, w->size, w->off)) == -ENOSPC)
			return 0;
	}
	if (why == PARK_TIMEOUT) {
		char msg[96];

		/* Its readers must not take what they have for all of it. */
		snprintf(
		    msg, sizeof msg, "a write found no memory in %ld s (ENOSPC)", fs.stream_wait_ms / 1000);
		streams_fail(fs.streams, w->ino, msg);
		park_kick();
	}
	if (why != PARK_INTERRUPTED) {
		if (n < 0)
			fuse_reply_err(req, (int)-n);
		else
			fuse_reply_write(req, (size_t)n);
		if (n > 0)
			park_kick(); /* readers */
	}
	handle_put(w->fh);
	free(w);
	return 1;
}

static void
stream_write(fuse_req_t req, uint64_t fh, struct fs_handle *fsh, const char *buf, size_t size, off_t off)
{
	struct stream_handle *h = (struct stream_handle *)fsh;
	struct write_wait *w;
	ssize_t n;
	int rc;

	if (!h->writable) {
		fuse_reply_err(req, EBADF);
		handle_put(fh);
		return;
	}
	n = streams_write(fs.streams, h->ino, buf, size, off);
	if (n == -ENOSPC) {
		/* Backpressure: wait for memory, with the bytes copied. */
		if ((w = malloc(sizeof *w + size)) == NULL)
			n = -ENOMEM;
		else {
			w->fh = fh;
			w->ino = h->ino;
			w->off = off;
			w->size = size;
			memcpy(w->data, buf, size);
			if ((rc = park_add(req, write_check, w, fs.stream_wait_ms)) == 0)
				return;
			free(w);
			n = rc;
		}
	}
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else {
		fuse_reply_write(req, (size_t)n);
		park_kick(); /* readers waiting for these bytes */
	}
	handle_put(fh);
}

/* How process pid is ending: 0 if it is not (a close), else its exit
 * code as wait(2) reports it (a signal in the low bits). */
static int
exiting_status(pid_t pid)
{
	char path[64], buf[4096], *p, *save = NULL;
	unsigned long flags = 0;
	long code = 0;
	FILE *f;
	int field;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	/* After the command name in parentheses: state is field 3, flags 9,
	 * exit_code 52. */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return 0;
	for (field = 3, p = strtok_r(p + 1, " ", &save); p != NULL; field++, p = strtok_r(NULL, " ", &save)) {
		if (field == 9)
			flags = strtoul(p, NULL, 10);
		else if (field == 52)
			code = strtol(p, NULL, 10);
	}
	return (flags & PF_EXITING) ? (int)code : 0;
}

static void
stream_flush(fuse_req_t req, struct fs_handle *fsh)
{
	struct stream_handle *h = (struct stream_handle *)fsh;

	if (h->writable)
		h->died = exiting_status(fuse_req_ctx(req)->pid);
}

/* The handle's last user is gone: the writer's close, or a reader's. */
static void
stream_destroy(struct fs_handle *fsh)
{
	struct stream_handle *h = (struct stream_handle *)fsh;
	char why[96];

	if (!h->opened)
		goto out;
	if (!h->writable)
		streams_close_read(fs.streams, h->ino);
	else {
		if ((h->died & 0x7f) != 0)
			snprintf(why, sizeof why, "its writer was killed by signal %d", h->died & 0x7f);
		else if (h->died != 0)
			snprintf(why, sizeof why, "its writer exited with status %d", (h->died >> 8) & 0xff);
		streams_close_write(fs.streams, h->ino, h->died != 0 ? why : NULL);
		park_kick(); /* readers at the end */
	}
out:
	free(h);
}

static const struct fs_handle_ops stream_ops = {
	.name = "stream",
	.read = stream_read,
	.write = stream_write,
	.flush = stream_flush,
	.destroy = stream_destroy,
};

static void
remove_stream(fuse_req_t req, const char *name, int dir)
{
	struct stream_attr a;
	int rc = streams_lookup(fs.streams, name, 0, &a);

	/* An object stream is a directory: rmdir (rm -r) removes it, unlink
	 * does not; a byte stream the other way round. */
	if (rc == 0 && a.objects != dir)
		rc = dir ? -ENOTDIR : -EISDIR;
	if (rc == 0)
		rc = streams_unlink(fs.streams, name, fuse_req_ctx(req)->uid);
	/* The object it became is gone from the kernel's caches before rm
	 * returns. */
	if (rc == 0)
		notify_flush_unless(INO_STREAMS);
	fuse_reply_err(req, -rc);
	if (rc == 0)
		park_kick(); /* readers of a pending stream removed get EIO */
}

/* user.vineyard.* of a stream: state, size, chunks, id, error. */
static const char *const xnames[] = { "user.vineyard.state", "user.vineyard.size", "user.vineyard.chunks",
	"user.vineyard.id", "user.vineyard.error" };

/* Value or NUL-separated names into buf; length or -errno. */
static int
xattr_get(fuse_ino_t ino, const char *name, char *buf, size_t len)
{
	struct stream_attr a;
	int rc, n;

	if ((rc = streams_getattr(fs.streams, ino, &a)) != 0)
		return rc;
	if (strcmp(name, xnames[0]) == 0)
		n = snprintf(buf, len, "%s", streams_state_name(a.state));
	else if (strcmp(name, xnames[1]) == 0)
		n = snprintf(buf, len, "%llu", (unsigned long long)a.size);
	else if (strcmp(name, xnames[2]) == 0)
		n = snprintf(buf, len, "%u", a.chunks);
	else if (strcmp(name, xnames[3]) == 0 && a.object_id != 0) {
		id_format(a.object_id, buf);
		n = (int)strlen(buf);
	} else if (strcmp(name, xnames[4]) == 0 && a.error[0] != '\0')
		n = snprintf(buf, len, "%s", a.error);
	else
		return -ENODATA;
	return n;
}

static int
xattr_list(fuse_ino_t ino, char *buf, size_t len)
{
	struct stream_attr a;
	size_t used = 0, i, k;
	int rc;

	if ((rc = streams_getattr(fs.streams, ino, &a)) != 0)
		return rc;
	for (i = 0; i < sizeof xnames / sizeof xnames[0]; i++) {
		if ((i == 3 && a.object_id == 0) || (i == 4 && a.error[0] == '\0'))
			continue;
		k = strlen(xnames[i]) + 1;
		if (used + k > len)
			return -ERANGE;
		memcpy(buf + used, xnames[i], k);
		used += k;
	}
	return (int)used;
}

/* The xattrs into a buffer of their own, as node.h has them. */
static int
stream_getxattr(fuse_ino_t ino, const char *name, char **value, size_t *len)
{
	char *buf = malloc(256);
	int rc = buf != NULL ? xattr_get(ino, name, buf, 256) : -ENOMEM;

	if (rc < 0) {
		free(buf);
		return rc;
	}
	*value = buf;
	*len = (size_t)rc;
	return 0;
}

static int
stream_listxattr(fuse_ino_t ino, char **names, size_t *len)
{
	char *buf = malloc(256);
	int rc = buf != NULL ? xattr_list(ino, buf, 256) : -ENOMEM;

	if (rc < 0) {
		free(buf);
		return rc;
	}
	*names = buf;
	*len = (size_t)rc;
	return 0;
}

/* "> streams/s" truncates an empty stream: nothing to do; anything else
 * would rewrite what readers may have read. */
static void
stream_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct catalog_attr a;
	int rc;

	(void)fi;
	if ((rc = stream_getattr(ino, &a)) != 0)
		fuse_reply_err(req, -rc);
	else if ((to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			       FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) != 0 ||
		 ((to_set & FUSE_SET_ATTR_SIZE) && (uint64_t)attr->st_size != a.size))
		fuse_reply_err(req, EPERM);
	else
		fs_attr_reply(req, &a, 1);
}

static void
stream_forget(fuse_ino_t ino, uint64_t n)
{
	streams_forget(fs.streams, ino, n);
}

static void
stream_unlink(fuse_req_t req, fuse_ino_t dir, const char *name)
{
	fuse_reply_err(req, -streams_entry_unlink(fs.streams, dir, name, fuse_req_ctx(req)->uid));
}

static void
sdir_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	remove_stream(req, name, 0);
}

static void
sdir_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	remove_stream(req, name, 1);
}

/* streams/ itself. */
const struct fs_node_ops streamnode_dir = {
	.name = "streams",
	.getattr = root_dir_getattr,
	.lookup = sdir_lookup,
	.setattr = root_dir_setattr,
	.list = sdir_list,
	.create = sdir_create,
	.unlink = sdir_unlink,
	.rmdir = sdir_rmdir,
	.getxattr = catnode_getxattr,
	.listxattr = catnode_listxattr,
	.setxattr = catnode_setxattr,
	.removexattr = catnode_removexattr,
};

/* A stream (a file, or an object stream's directory) or an object
 * stream's entry (a symbolic link). */
const struct fs_node_ops streamnode_node = {
	.name = "stream",
	.uncached = 1,
	.getattr = stream_getattr,
	.lookup = stream_lookup,
	.setattr = stream_setattr,
	.readlink = stream_readlink,
	.forget = stream_forget,
	.list = stream_entries,
	.unlink = stream_unlink,
	.open = stream_open,
	.getxattr = stream_getxattr,
	.listxattr = stream_listxattr,
};
