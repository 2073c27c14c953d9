/*
 * uring: a copy is cut into URING_CHUNK chunks, each carried by a slot that
 * owns one ring buffer: read the chunk, then write it, then the slot is
 * free for the next chunk. Up to depth slots are in flight at once, so
 * reads of later chunks overlap writes of earlier ones. Completions arrive
 * in any order; the CRC is taken in file order, so a slot whose chunk
 * finished early waits (holding its buffer) until the chunks before it are
 * summed. Summing comes after the next requests are submitted, so the
 * disk is busy while the CPU sums (inline, it cost 8 % of a 1 GiB spill). Short transfers are resubmitted for the rest; with O_DIRECT the
 * rest restarts at the aligned offset below, rewriting a few bytes. Test
 * faults are decided when a request is queued: a failure replaces the
 * result of the request, which still runs; a short one is queued short. After
 * an error nothing new is submitted and the requests in flight are drained
 * before uring_copy returns: the kernel never writes into a buffer the
 * next call reuses.
 *
 * uring_read_mem is the same without the writes: each chunk is read
 * straight into its place in the caller's memory (a slot's buffer is that
 * place), and its slot is free as soon as the chunk is read: a bitmap of
the chunks read says which are ready to be summed. uring_write_mem
 * is the same without the reads: each chunk is written from its place in
 * the caller's memory, summed as it starts.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/uring.h"
#include "core/util.h"

/* Resubmissions in a row that move nothing before a transfer is given up:
 * an injected or O_DIRECT short transfer costs one, a source that has
 * ended costs them all. */
#define MAX_STALLS 3

#define ALIGN_DOWN(x) ((x) & ~(uint64_t)(URING_ALIGN - 1))
#define ALIGN_UP(x) ALIGN_DOWN((x) + URING_ALIGN - 1)

enum slot_state {
	SLOT_FREE,
	SLOT_READ,    /* a read of the chunk is in flight */
	SLOT_WRITE,   /* the chunk is read; a write of it is in flight */
	SLOT_WRITTEN, /* written, waiting for the chunks before it to be summed */
};

struct slot {
	char *buf;     /* URING_CHUNK bytes of the ring's buffers */
	uint64_t off;  /* where the chunk starts, in src and in dst */
	uint32_t len;  /* bytes of data in the chunk */
	uint32_t want; /* bytes the current request moves in all: len, or padded */
	uint32_t done; /* bytes moved so far by the current state's requests */
	int state;     /* enum slot_state */
	int stalls;    /* resubmissions in a row that moved nothing */
	int summed;    /* the chunk's bytes are in the CRC */
	int fail;      /* tests: the request in flight completes with this -errno */
};

struct uring {
	struct io_uring ring;
	unsigned depth;
	char *bufs; /* depth * URING_CHUNK bytes, URING_ALIGN-aligned */
	struct slot *slots;
	struct uring_faults faults;
	unsigned nread, nwrite, nfsync; /* requests since uring_set_faults */
	unsigned injected;
	int broken; /* submitting or waiting failed: requests may be lost */
};

/* One uring_copy in progress. */
struct copy {
	struct uring *u;
	char *mem;	     /* uring_read_mem: the destination; NULL: dst */
	uint64_t *read;	     /* uring_read_mem with a CRC: a bit per chunk read */
	const char *src_mem; /* uring_write_mem: the source; NULL: src */
	int src, dst;
	int src_direct, dst_direct;
	uint64_t size;
	uint64_t next;	 /* offset of the next chunk to start */
	uint64_t summed; /* bytes in crc so far, all before this offset */
	uint32_t crc;
	int want_crc;
	unsigned inflight; /* requests submitted and not yet completed */
	int rc;		   /* the first error; nothing new is submitted after it */
	char *err;
	size_t errlen;
};

int
uring_open(struct uring **out, unsigned depth)
{
	struct uring *u;
	unsigned i;
	int rc;

	*out = NULL;
	if (depth == 0)
		depth = URING_DEPTH;
	if (depth > URING_MAX_DEPTH)
		return -EINVAL;
	u = calloc(1, sizeof *u);
	if (u == NULL)
		return -ENOMEM;
	u->depth = depth;
	u->slots = calloc(depth, sizeof *u->slots);
	if (u->slots == NULL) {
		free(u);
		return -ENOMEM;
	}
	rc = -posix_memalign((void **)&u->bufs, URING_ALIGN, (size_t)depth * URING_CHUNK);
	if (rc != 0) {
		u->bufs = NULL;
		goto out;
	}
	for (i = 0; i < depth; i++)
		u->slots[i].buf = u->bufs + (size_t)i * URING_CHUNK;
	rc = io_uring_queue_init(depth, &u->ring, 0);
	if (rc == 0)
		*out = u;
out:
	if (rc != 0) {
		free(u->bufs);
		free(u->slots);
		free(u);
	}
	return rc;
}

void
uring_close(struct uring *u)
{
	if (u == NULL)
		return;
	io_uring_queue_exit(&u->ring);
	free(u->bufs);
	free(u->slots);
	free(u);
}

void
uring_set_faults(struct uring *u, const struct uring_faults *f)
{
	memset(&u->faults, 0, sizeof u->faults);
	if (f != NULL)
		u->faults = *f;
	u->nread = u->nwrite = u->nfsync = 0;
	u->injected = 0;
}

unsigned
uring_faults_injected(const struct uring *u)
{
	return u->injected;
}

/* Count one request of a kind; return the -errno it is to fail with (0:
 * none) and cut *len as the faults say. A cut request really moves fewer
 * bytes, so the short result comes from the kernel itself. */
static int
inject(struct uring *u, unsigned *count, unsigned fail_at, unsigned short_at, uint32_t *len, int direct)
{
	unsigned n = ++*count;
	uint32_t cut = *len / 2;

	if (n == fail_at) {
		u->injected++;
		return u->faults.err > 0 ? -u->faults.err : -EIO;
	}
	/* O_DIRECT lengths stay aligned, else the kernel says EINVAL. */
	if (direct)
		cut = (uint32_t)ALIGN_DOWN(cut);
	if (n == short_at && cut > 0) {
		u->injected++;
		*len = cut;
	}
	return 0;
}

static int copy_fail(struct copy *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Keep the first error only: later ones are usually its echoes. */
static int
copy_fail(struct copy *c, int rc, const char *fmt, ...)
{
	va_list ap;

	if (c->rc != 0)
		return c->rc;
	c->rc = rc;
	if (c->err != NULL && c->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Queue the rest of the slot's current request (submitted by the loop). */
static void
queue(struct copy *c, struct slot *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->u->ring);
	struct uring_faults *f = &c->u->faults;
	uint32_t len = s->want - s->done;

	if (sqe == NULL) {
		/* One request per slot and as many entries as slots. */
		s->state = SLOT_FREE;
		copy_fail(c, -EBUSY, "io_uring submission queue full");
		return;
	}
	if (s->state == SLOT_READ) {
		s->fail = inject(c->u, &c->u->nread, f->fail_read_at, f->short_read_at, &len, c->src_direct);
		io_uring_prep_read(sqe, c->src, s->buf + s->done, len, s->off + s->done);
	} else {
		s->fail =
		    inject(c->u, &c->u->nwrite, f->fail_write_at, f->short_write_at, &len, c->dst_direct);
		io_uring_prep_write(sqe, c->dst, s->buf + s->done, len, s->off + s->done);
	}
	io_uring_sqe_set_data(sqe, s);
}

/* Add res bytes to the slot's progress; 1 when the request is not done
 * yet and should be resubmitted, 0 when done, -1 when it stalled. */
static int
advance(struct slot *s, int res, uint32_t target, int direct)
{
	uint32_t now = s->done + (uint32_t)res;

	if (now >= target) {
		s->done = now;
		return 0;
	}
	if (direct)
		now = (uint32_t)ALIGN_DOWN(now);
	s->stalls = now <= s->done ? s->stalls + 1 : 0;
	s->done = now;
	return s->stalls > MAX_STALLS ? -1 : 1;
}

/* uring_read_mem: whether the chunk at off is read; mark it read. */
static int
chunk_read(struct copy *c, uint64_t off)
{
	uint64_t k = off / URING_CHUNK;

	return (int)(c->read[k / 64] >> (k % 64) & 1);
}

static void
chunk_read_set(struct copy *c, uint64_t off)
{
	uint64_t k = off / URING_CHUNK;

	c->read[k / 64] |= (uint64_t)1 << (k % 64);
}

/* Sum every chunk that is read and next in file order; free the written.
 * Returns how many slots it freed. */
static unsigned
sum_ready(struct copy *c)
{
	struct slot *s;
	unsigned i, freed = 0;

	if (c->read != NULL) {
		/* In place: the chunks read are in the bitmap, in c->mem. */
		while (c->summed < c->size && chunk_read(c, c->summed)) {
			uint64_t len = c->size - c->summed < URING_CHUNK ? c->size - c->summed : URING_CHUNK;

			c->crc = crc32c_update(c->crc, c->mem + c->summed, len);
			c->summed += len;
		}
		return 0;
	}
	for (i = 0; i < c->u->depth; i++) {
		s = &c->u->slots[i];
		if ((s->state != SLOT_WRITE && s->state != SLOT_WRITTEN) || s->summed || s->off != c->summed)
			continue;
		c->crc = crc32c_update(c->crc, s->buf, s->len);
		c->summed += s->len;
		s->summed = 1;
		if (s->state == SLOT_WRITTEN) {
			s->state = SLOT_FREE;
			freed++;
		}
		i = (unsigned)-1; /* the next chunk may be in any slot */
	}
	return freed;
}

/* A result that is no progress: retry on EINTR/EAGAIN, else fail the copy
 * with the errno the kernel gave. 1 when res was one, 0 for a byte count. */
static int
not_progress(struct copy *c, struct slot *s, int res, const char *what)
{
	if (res == -EINTR || res == -EAGAIN) {
		queue(c, s);
		return 1;
	}
	if (res < 0) {
		s->state = SLOT_FREE;
		copy_fail(c, res, "%s at byte %llu: %s", what, (unsigned long long)(s->off + s->done),
		    strerror(-res));
		return 1;
	}
	return 0;
}

static void
read_done(struct copy *c, struct slot *s, int res)
{
	uint32_t wlen;
	int more;

	if (not_progress(c, s, res, "read of src"))
		return;
	more = res == 0 ? -1 : advance(s, res, s->len, c->src_direct);
	if (more < 0) {
		s->state = SLOT_FREE;
		copy_fail(c, -EIO, "src ends at byte %llu, short of the %llu bytes to copy",
		    (unsigned long long)(s->off + s->done), (unsigned long long)c->size);
		return;
	}
	if (more > 0) {
		queue(c, s);
		return;
	}
	if (c->mem != NULL) {
		/* In place: the slot is free; the bitmap keeps it for the sum. */
		if (c->read != NULL)
			chunk_read_set(c, s->off);
		s->state = SLOT_FREE;
		return;
	}
	/* O_DIRECT writes whole blocks: pad with zeros, truncated at the end. */
	wlen = c->dst_direct ? (uint32_t)ALIGN_UP(s->len) : s->len;
	memset(s->buf + s->len, 0, wlen - s->len);
	s->state = SLOT_WRITE;
	s->want = wlen;
	s->done = 0;
	s->stalls = 0;
	s->summed = !c->want_crc;
	queue(c, s);
}

static void
write_done(struct copy *c, struct slot *s, int res)
{
	int more;

	if (not_progress(c, s, res, "write of dst"))
		return;
	more = advance(s, res, s->want, c->dst_direct);
	if (more < 0) {
		s->state = SLOT_FREE;
		copy_fail(c, -EIO, "write of dst at byte %llu makes no progress",
		    (unsigned long long)(s->off + s->done));
		return;
	}
	if (more > 0) {
		queue(c, s);
		return;
	}
	s->state = s->summed ? SLOT_FREE : SLOT_WRITTEN;
}

static void
complete(struct copy *c, struct slot *s, int res)
{
	if (s->fail != 0)
		res = s->fail;
	if (c->rc != 0) {
		/* Draining after an error: only let the buffer go. */
		s->state = SLOT_FREE;
		return;
	}
	if (s->state == SLOT_READ)
		read_done(c, s, res);
	else
		write_done(c, s, res);
}

/* Start chunks in free slots while there is anything left to start. */
static void
start_chunks(struct copy *c)
{
	struct slot *s;
	unsigned i;

	for (i = 0; i < c->u->depth && c->rc == 0 && c->next < c->size; i++) {
		s = &c->u->slots[i];
		if (s->state != SLOT_FREE)
			continue;
		s->off = c->next;
		s->len = c->size - c->next < URING_CHUNK ? (uint32_t)(c->size - c->next) : URING_CHUNK;
		s->buf = c->mem != NULL ? c->mem + s->off : c->u->bufs + (size_t)i * URING_CHUNK;
		s->done = 0;
		s->stalls = 0;
		c->next += s->len;
		if (c->src_mem != NULL) {
			/* Written from where it is; O_DIRECT writes the block
			 * the chunk ends in whole (the caller's memory holds it). */
			s->buf = (char *)c->src_mem + s->off;
			s->want = c->dst_direct ? (uint32_t)ALIGN_UP(s->len) : s->len;
			s->summed = !c->want_crc;
			s->state = SLOT_WRITE;
			queue(c, s);
			continue;
		}
		/* O_DIRECT reads whole blocks; a src longer than size is fine. */
		s->want = c->src_direct ? (uint32_t)ALIGN_UP(s->len) : s->len;
		s->summed = 0;
		s->state = SLOT_READ;
		queue(c, s);
	}
}

/* Submit what is queued; on failure the ring is unusable (requests left in
 * its queue would run later, on fds the caller may have closed). */
static int
submit(struct copy *c)
{
	int n;

	while (io_uring_sq_ready(&c->u->ring) > 0) {
		n = io_uring_submit(&c->u->ring);
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n <= 0) {
			c->u->broken = 1;
			return copy_fail(
			    c, n < 0 ? n : -EIO, "io_uring_submit: %s", strerror(n < 0 ? -n : EIO));
		}
		c->inflight += (unsigned)n;
	}
	return 0;
}

static int
fd_flags(int fd, int *direct)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	*direct = (fl & O_DIRECT) != 0;
	return 0;
}

/* Run c to its end: chunks started, completions handled, everything in
 * flight drained after an error. */
static void
run(struct copy *c)
{
	struct uring *u = c->u;
	struct io_uring_cqe *cqe;
	struct slot *s;
	unsigned i;
	int rc;

	for (i = 0; i < u->depth; i++)
		u->slots[i].state = SLOT_FREE;
	for (;;) {
		start_chunks(c);
		if (submit(c) < 0)
			break;
		/* Sum while the disk works; freed slots start chunks first. */
		if (sum_ready(c) > 0)
			continue;
		if (c->inflight == 0)
			break;
		rc = io_uring_wait_cqe(&u->ring, &cqe);
		if (rc == -EINTR)
			continue;
		if (rc < 0) {
			u->broken = 1;
			copy_fail(c, rc, "io_uring_wait_cqe: %s", strerror(-rc));
			break;
		}
		s = io_uring_cqe_get_data(cqe);
		rc = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		c->inflight--;
		complete(c, s, rc);
	}
}

/* Check, run and finish c: the one body of uring_copy, uring_read_mem and
 * uring_write_mem. */
static int
go(struct copy *c, uint32_t *crc)
{
	const void *mem = c->mem != NULL ? (const void *)c->mem : (const void *)c->src_mem;
	struct stat st;
	int rc;

	if (c->u->broken)
		return util_fail(c->err, c->errlen, -EIO, "the io_uring failed earlier; open another");
	if (c->src >= 0 && (rc = fd_flags(c->src, &c->src_direct)) < 0)
		return util_fail(c->err, c->errlen, rc, "src fd: %s", strerror(-rc));
	if (c->dst >= 0 && (rc = fd_flags(c->dst, &c->dst_direct)) < 0)
		return util_fail(c->err, c->errlen, rc, "dst fd: %s", strerror(-rc));
	if (mem != NULL && (c->mem != NULL ? c->src_direct : c->dst_direct) &&
	    ((uintptr_t)mem & (URING_ALIGN - 1)) != 0)
		return util_fail(
		    c->err, c->errlen, -EINVAL, "O_DIRECT needs memory aligned to %u bytes", URING_ALIGN);
	if (c->mem != NULL && c->want_crc) {
		c->read = calloc((size_t)(c->size / URING_CHUNK / 64 + 1), sizeof *c->read);
		if (c->read == NULL)
			return util_fail(
			    c->err, c->errlen, -ENOMEM, "no memory for the bitmap of chunks read");
	}
	run(c);
	free(c->read);
	c->read = NULL;
	if (c->rc != 0)
		return c->rc;
	if (c->want_crc && c->summed != c->size)
		return util_fail(c->err, c->errlen, -EIO, "checksummed %llu of %llu bytes",
		    (unsigned long long)c->summed, (unsigned long long)c->size);
	if (c->dst >= 0 && fstat(c->dst, &st) == 0 && S_ISREG(st.st_mode) &&
	    ftruncate(c->dst, (off_t)c->size) < 0)
		return util_fail(c->err, c->errlen, -errno, "truncate dst to %llu bytes: %s",
		    (unsigned long long)c->size, strerror(errno));
	if (crc != NULL)
		*crc = c->crc;
	return 0;
}

int
uring_copy(struct uring *u, int src_fd, int dst_fd, uint64_t size, uint32_t *crc, char *err, size_t errlen)
{
	struct copy c = {
		.u = u,
		.src = src_fd,
		.dst = dst_fd,
		.size = size,
		.want_crc = crc != NULL,
		.err = err,
		.errlen = errlen,
	};

	return go(&c, crc);
}

int
uring_read_mem(struct uring *u, int src_fd, void *dst, uint64_t size, uint32_t *crc, char *err, size_t errlen)
{
	struct copy c = {
		.u = u,
		.mem = dst,
		.src = src_fd,
		.dst = -1,
		.size = size,
		.want_crc = crc != NULL,
		.err = err,
		.errlen = errlen,
	};

	return go(&c, crc);
}

int
uring_write_mem(
    struct uring *u, const void *src, int dst_fd, uint64_t size, uint32_t *crc, char *err, size_t errlen)
{
	struct copy c = {
		.u = u,
		.src_mem = src,
		.src = -1,
		.dst = dst_fd,
		.size = size,
		.want_crc = crc != NULL,
		.err = err,
		.errlen = errlen,
	};

	return go(&c, crc);
}

int
uring_map_src(int src_fd, uint64_t size, void **map, char *err, size_t errlen)
{
	struct stat st;

	*map = NULL;
	if (size == 0)
		return 0;
	if (fstat(src_fd, &st) != 0)
		return util_fail(err, errlen, -errno, "src fd: %s", strerror(errno));
	if ((uint64_t)st.st_size < size)
		return util_fail(err, errlen, -EIO, "src ends at byte %llu, short of the %llu bytes to copy",
		    (unsigned long long)st.st_size, (unsigned long long)size);
	/* The whole pages: past the end of the file they read as zeros. */
	*map = mmap(NULL, ALIGN_UP(size), PROT_READ, MAP_SHARED, src_fd, 0);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return util_fail(err, errlen, -errno, "map src: %s", strerror(errno));
	}
	return 0;
}

void
uring_unmap(void *map, uint64_t size)
{
	if (map != NULL)
		munmap(map, ALIGN_UP(size));
}

int
uring_copy_from_mapped(
    struct uring *u, int src_fd, int dst_fd, uint64_t size, uint32_t *crc, char *err, size_t errlen)
{
	void *map;
	int rc;

	if (size == 0)
		return uring_copy(u, src_fd, dst_fd, 0, crc, err, errlen);
	if ((rc = uring_map_src(src_fd, size, &map, err, errlen)) != 0)
		return rc;
	rc = uring_write_mem(u, map, dst_fd, size, crc, err, errlen);
	uring_unmap(map, size);
	return rc;
}

/* Pages allocated ahead of the reads into a mapping: POPULATE_THREADS
 * threads take POPULATE_STEP steps in turn. */
#define POPULATE_STEP (8u << 20)
#define POPULATE_THREADS 2

struct populate {
	char *map;
	uint64_t len;
	atomic_int stop; /* set by the copy when it is done with the mapping */
	struct populate_part {
		struct populate *p;
		unsigned k; /* this thread takes steps k, k + POPULATE_THREADS, ... */
		pthread_t thread;
		int started;
	} parts[POPULATE_THREADS];
};

static void *
populate_run(void *arg)
{
	struct populate_part *part = arg;
	struct populate *p = part->p;
	uint64_t off, n;

	for (off = (uint64_t)part->k * POPULATE_STEP; off < p->len && !atomic_load(&p->stop);
	     off += (uint64_t)POPULATE_THREADS * POPULATE_STEP) {
		n = p->len - off < POPULATE_STEP ? p->len - off : POPULATE_STEP;
		/* Refused (no room, say): the reads fault the pages in and
		 * report it. */
		if (madvise(p->map + off, n, MADV_POPULATE_WRITE) != 0)
			break;
	}
	return NULL;
}

int
uring_copy_mapped(
    struct uring *u, int src_fd, int dst_fd, uint64_t size, uint32_t *crc, char *err, size_t errlen)
{
	uint64_t len = ALIGN_UP(size);
	struct populate p = { .len = len };
	unsigned k;
	int rc;

	if (size == 0)
		return uring_copy(u, src_fd, dst_fd, 0, crc, err, errlen);
	if (ftruncate(dst_fd, (off_t)len) != 0)
		return util_fail(err, errlen, -errno, "size dst to %llu bytes: %s", (unsigned long long)len,
		    strerror(errno));
	p.map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dst_fd, 0);
	if (p.map == MAP_FAILED)
		return util_fail(err, errlen, -errno, "map dst: %s", strerror(errno));
	/* Huge pages where the file system gives them on request (the store's
	 * tmpfs: huge=advise), allocated by two threads while the reads run
	 * (which fault in the pages they reach first). On a VM that hands
	 * freed memory back to its host, a fresh page costs a host fault per
	 * 4 KiB, and most of all a huge page, made of blocks the host took
	 * back. Reading 1 GiB here (the reads alone: 0.42-0.44 s), after 3 s
	 * idle: 1.2-2.0 s with all of it allocated first, 1.9-2.1 s with one
	 * thread beside the reads, 0.62-0.78 s with two (small pages:
	 * 0.63-0.75 s); with memory the host still backs, 0.45 s (small
	 * pages: 0.66-0.72 s). */
	madvise(p.map, len, MADV_HUGEPAGE);
	for (k = 0; k < POPULATE_THREADS; k++) {
		p.parts[k].p = &p;
		p.parts[k].k = k;
		p.parts[k].started = pthread_create(&p.parts[k].thread, NULL, populate_run, &p.parts[k]) == 0;
	}
	rc = uring_read_mem(u, src_fd, p.map, size, crc, err, errlen);
	atomic_store(&p.stop, 1);
	for (k = 0; k < POPULATE_THREADS; k++)
		if (p.parts[k].started)
			pthread_join(p.parts[k].thread, NULL);
	munmap(p.map, len);
	/* The kernel pins the mapping's pages to read into them; a file
	 * system out of room for one fails the read with EFAULT. */
	if (rc == -EFAULT)
		rc = util_fail(err, errlen, -ENOSPC, "no room in dst's file system for the bytes read");
	if (rc == 0 && ftruncate(dst_fd, (off_t)size) != 0)
		rc = util_fail(err, errlen, -errno, "truncate dst to %llu bytes: %s",
		    (unsigned long long)size, strerror(errno));
	return rc;
}

int
uring_fsync(struct uring *u, int fd)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	uint32_t len = 0;
	int fail, rc;

	if (u->broken)
		return -EIO;
	fail = inject(u, &u->nfsync, u->faults.fail_fsync_at, 0, &len, 0);
	sqe = io_uring_get_sqe(&u->ring);
	if (sqe == NULL)
		return -EBUSY;
	io_uring_prep_fsync(sqe, fd, 0);
	do
		rc = io_uring_submit(&u->ring);
	while (rc == -EINTR || rc == -EAGAIN);
	if (rc != 1) {
		u->broken = 1;
		return rc < 0 ? rc : -EIO;
	}
	do
		rc = io_uring_wait_cqe(&u->ring, &cqe);
	while (rc == -EINTR);
	if (rc < 0) {
		u->broken = 1;
		return rc;
	}
	rc = fail != 0 ? fail : cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	return rc < 0 ? rc : 0;
}
