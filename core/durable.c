/*
 * durable: see durable.h for the sequence. The copy itself is uring.c's;
 * here is which of its copies fits the source and the destination (and the
 * receive from a socket, which is not a file copy), and
 * the file work around it: the temp file, its blocks, the fsyncs through
 * the same ring (so that tests fail them with struct uring_faults), the
 * renames, and the removal of whatever a failure leaves.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "crc32c.h"
#include "durable.h"
#include "log.h"
#include "uring.h"
#include "util.h"

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The reason into err, or to the log when there is no err. */
static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	if (err != NULL && errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	else {
		vsnprintf(buf, sizeof buf, fmt, ap);
		log_error("%s", buf);
	}
	va_end(ap);
	return rc;
}

/* The temp file's name: d->tmp + d->name. */
static int
tmp_name(const struct durable *d, char buf[NAME_MAX + 1])
{
	int n = snprintf(buf, NAME_MAX + 1, "%s%s", d->tmp, d->name);

	return n < 0 || n > NAME_MAX ? -ENAMETOOLONG : 0;
}

static const char *
what(const struct durable *d)
{
	return d->what != NULL ? d->what : d->name;
}

/* Open name in dirfd with flags, O_DIRECT added when direct, unless the
 * file system refuses it (EINVAL): then without. */
static int
open_maybe_direct(int dirfd, const char *name, int flags, int direct)
{
	int fd = openat(dirfd, name, flags | (direct ? O_DIRECT : 0), 0600);

	if (fd < 0 && direct && errno == EINVAL)
		fd = openat(dirfd, name, flags, 0600);
	return fd < 0 ? -errno : fd;
}

int
durable_open_src(int dirfd, const char *name, int *fd)
{
	*fd = open_maybe_direct(dirfd, name, O_RDONLY | O_CLOEXEC, 1);
	return *fd < 0 ? *fd : 0;
}

/* Bytes received per call: large enough that the calls cost nothing,
 * small enough that the CRC reads them back from the cache. */
#define RECV_CHUNK (2u << 20)

/* The d->size bytes waiting on the socket d->src.fd, received into a
 * mapping of dst (a tmpfs file) with their CRC into d->crc. Fresh tmpfs
 * pages, not TCP, are what costs here (notes/cluster.md): a page faulted
 * in by the copy inside recv costs more than one populated just before,
 * so each chunk's pages are populated before it is received into (with
 * huge pages where the file system gives them). */
static int
recv_mapped(struct durable *d, int dst, char *msg, size_t len)
{
	uint64_t off = 0, n;
	uint32_t crc = 0;
	unsigned char *map;
	struct timeval tv = { 0 };
	socklen_t tvlen = sizeof tv;
	int64_t t0, limit_ns = 0;
	ssize_t got;
	int rc = 0;

	if (!(d->flags & DURABLE_MAPPED))
		return fail(msg, len, -EINVAL, "a socket source needs a mapped destination");
	if (d->size == 0) {
		d->crc = 0;
		return 0;
	}
	if (ftruncate(dst, (off_t)d->size) != 0)
		return fail(msg, len, -errno, "size dst to %llu bytes: %s", (unsigned long long)d->size,
		    strerror(errno));
	map = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, dst, 0);
	if (map == MAP_FAILED)
		return fail(msg, len, -errno, "map dst: %s", strerror(errno));
	madvise(map, d->size, MADV_HUGEPAGE);
	if (getsockopt(d->src.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &tvlen) == 0)
		limit_ns = (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
	while (off < d->size) {
		n = d->size - off < RECV_CHUNK ? d->size - off : RECV_CHUNK;
		/* Refused (no room): the receive faults the pages and says so. */
		madvise(map + off, n, MADV_POPULATE_WRITE);
		t0 = util_mono_ns();
		got = recv(d->src.fd, map + off, n, MSG_WAITALL);
		if (got < 0 && errno == EINTR)
			continue;
		/* Short with MSG_WAITALL: the time limit ran out with part of
		 * the chunk in (or a signal came). The next receive would wait
		 * the whole limit again: a stall is one limit, not two. */
		if (got > 0 && (size_t)got < n && limit_ns > 0 && util_mono_ns() - t0 >= limit_ns) {
			off += (uint64_t)got;
			rc = fail(msg, len, -ETIMEDOUT, "after %llu of %llu bytes: %s",
			    (unsigned long long)off, (unsigned long long)d->size, strerror(ETIMEDOUT));
			break;
		}
		if (got < 0) {
			/* The kernel's copy into a page tmpfs has no room for
			 * fails with EFAULT; a receive time limit, EAGAIN. */
			rc = errno == EFAULT ? -ENOSPC : errno == EAGAIN ? -ETIMEDOUT : -errno;
			fail(msg, len, rc, "after %llu of %llu bytes: %s", (unsigned long long)off,
			    (unsigned long long)d->size,
			    rc == -ENOSPC ? "no room in dst's file system" : strerror(-rc));
			break;
		}
		if (got == 0) {
			rc = fail(msg, len, -ECONNRESET, "the peer closed after %llu of %llu bytes",
			    (unsigned long long)off, (unsigned long long)d->size);
			break;
		}
		crc = crc32c_update(crc, map + off, (size_t)got);
		off += (uint64_t)got;
	}
	munmap(map, d->size);
	if (rc == 0)
		d->crc = crc;
	return rc;
}

/* The bytes of d->src into dst, with their CRC: the copy of uring.c that
 * needs no bounce buffer where one is not needed. */
static int
copy_bytes(struct durable *d, int dst, char *msg, size_t len)
{
	int fl;

	if (d->src.kind == DURABLE_SRC_SOCKET)
		return recv_mapped(d, dst, msg, len);
	if (d->src.kind == DURABLE_SRC_MEM)
		return uring_write_mem(d->u, d->src.mem, dst, d->size, &d->crc, msg, len);
	if (d->src.kind != DURABLE_SRC_FD)
		return fail(msg, len, -EINVAL, "unknown source kind %d", (int)d->src.kind);
	if (d->flags & DURABLE_MAPPED)
		return uring_copy_mapped(d->u, d->src.fd, dst, d->size, &d->crc, msg, len);
	if ((fl = fcntl(d->src.fd, F_GETFL)) < 0)
		return fail(msg, len, -errno, "src fd: %s", strerror(errno));
	return ((fl & O_DIRECT) ? uring_copy : uring_copy_from_mapped)(
	    d->u, d->src.fd, dst, d->size, &d->crc, msg, len);
}

int
durable_write(struct durable *d, char *err, size_t errlen)
{
	char tmp[NAME_MAX + 1], msg[256];
	int rc;

	d->fd = -1;
	d->crc = 0;
	d->mismatch = 0;
	if ((rc = tmp_name(d, tmp)) != 0)
		return fail(err, errlen, rc, "%s/%s%s: %s", d->dir, d->tmp, d->name, strerror(-rc));
	rc = open_maybe_direct(d->dirfd, tmp,
	    ((d->flags & DURABLE_MAPPED) ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC | O_CLOEXEC,
	    (d->flags & DURABLE_DIRECT) != 0);
	if (rc < 0)
		return fail(err, errlen, rc, "cannot create %s/%s: %s", d->dir, tmp, strerror(-rc));
	d->fd = rc;
	/* The blocks first: a full disk says so at once, and O_DIRECT writes
	 * into allocated extents go faster (ext4 here: about 15 %). */
	if (!(d->flags & DURABLE_MAPPED) && d->size > 0 && fallocate(d->fd, 0, 0, (off_t)d->size) != 0 &&
	    errno != EOPNOTSUPP)
		rc = fail(err, errlen, -errno, "cannot allocate %llu bytes for %s/%s: %s",
		    (unsigned long long)d->size, d->dir, tmp, strerror(errno));
	else if ((rc = copy_bytes(d, d->fd, msg, sizeof msg)) != 0)
		fail(err, errlen, rc, "copying %s to %s: %s", what(d), d->dir, msg);
	else if ((d->flags & DURABLE_VERIFY) && d->crc != d->want) {
		d->mismatch = 1;
		rc = fail(err, errlen, -EIO, "%s has CRC-32C %08x where %08x was recorded", what(d), d->crc,
		    d->want);
	}
	if (rc != 0)
		durable_abort(d);
	return rc;
}

void
durable_abort(struct durable *d)
{
	char tmp[NAME_MAX + 1];

	if (d->fd < 0)
		return;
	close(d->fd);
	d->fd = -1;
	if (tmp_name(d, tmp) == 0)
		unlinkat(d->dirfd, tmp, 0);
}

int
durable_place(struct durable *d, char *err, size_t errlen)
{
	char tmp[NAME_MAX + 1];
	int rc = 0;

	if (d->fd < 0)
		return fail(err, errlen, -EBADF, "%s in %s: nothing written to place", what(d), d->dir);
	tmp_name(d, tmp); /* durable_write made it */
	if (!(d->flags & DURABLE_NOSYNC) && (rc = uring_fsync(d->u, d->fd)) != 0) {
		fail(err, errlen, rc, "fsync of %s in %s: %s", what(d), d->dir, strerror(-rc));
		goto out;
	}
	rc = close(d->fd) != 0 ? -errno : 0;
	d->fd = -1;
	if (rc != 0) {
		fail(err, errlen, rc, "close of %s/%s: %s", d->dir, tmp, strerror(-rc));
		goto out;
	}
	if (renameat(d->dirfd, tmp, d->dirfd, d->name) != 0)
		rc = fail(
		    err, errlen, -errno, "rename of %s/%s to %s: %s", d->dir, tmp, d->name, strerror(errno));
out:
	if (rc != 0) {
		if (d->fd >= 0)
			close(d->fd);
		d->fd = -1;
		unlinkat(d->dirfd, tmp, 0);
	}
	return rc;
}

int
durable_sync_dir(struct uring *u, int dirfd, const char *dir, char *err, size_t errlen)
{
	int rc = uring_fsync(u, dirfd);

	return rc == 0 ? 0 : fail(err, errlen, rc, "fsync of %s: %s", dir, strerror(-rc));
}

int
durable_copy(struct durable *d, char *err, size_t errlen)
{
	int rc;

	if ((rc = durable_write(d, err, errlen)) != 0 || (rc = durable_place(d, err, errlen)) != 0)
		return rc;
	if (!(d->flags & DURABLE_NOSYNC) && (rc = durable_sync_dir(d->u, d->dirfd, d->dir, err, errlen)) != 0)
		unlinkat(d->dirfd, d->name, 0); /* not known to last: as if never made */
	return rc;
}

int
durable_rename(
    struct uring *u, int dirfd, const char *dir, const char *tmp, const char *name, char *err, size_t errlen)
{
	int fd = openat(dirfd, tmp, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		rc = fail(err, errlen, -errno, "%s/%s: %s", dir, tmp, strerror(errno));
		goto fail;
	}
	rc = uring_fsync(u, fd);
	close(fd);
	if (rc != 0) {
		fail(err, errlen, rc, "fsync of %s/%s: %s", dir, tmp, strerror(-rc));
		goto fail;
	}
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		rc = fail(err, errlen, -errno, "rename of %s/%s to %s: %s", dir, tmp, name, strerror(errno));
		goto fail;
	}
	if ((rc = uring_fsync(u, dirfd)) != 0)
		return fail(err, errlen, rc, "fsync of %s (after %s was renamed into place): %s", dir, name,
		    strerror(-rc));
	return 0;
fail:
	unlinkat(dirfd, tmp, 0);
	return rc;
}
