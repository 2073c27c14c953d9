/*
 * supervisor_worker: the worker's side of supervisor.h, what a worker
 * keeps in the shared region (supervisor_i.h) for its successor and what
 * it takes over from its predecessors: the INIT exchange, the passthrough
 * backing ids, the opens of blob data, and the file handles of earlier
 * workers that can be revived (the control file's are control_keep.c's).
 *
 * Read-only opens of blob data are kept from before the open's reply to
 * the RELEASE of its handle: the kernel may hold such a file (passthrough,
 * a mapping) without ever sending a request for it, and the spill must not
 * evict a blob the kernel still holds. A new catalog counts no opens, so a
 * restarted worker counts the kept ones, and releases each at its RELEASE.
 * A worker killed between keeping an open and its reply leaves one that
 * is never released: its blob then stays in memory, the safer way to err.
 *
 * Locks: slock guards the free slot lists, open_fhs and revived;
 * backing-table calls are serialized by passthrough.c. The catalog's lock
 * comes before slock (the catalog's blob_freed hook frees backing slots).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/hmap.h"
#include "core/log.h"
#include "core/vec.h"
#include "fs/fs.h"
#include "fs/fuse_ext.h"
#include "fs/supervisor.h"
#include "fs/supervisor_i.h"

static pthread_mutex_t slock = PTHREAD_MUTEX_INITIALIZER;
/* Free slots of a table, reused before its high-water mark grows. */
struct slots {
	int *v;
	size_t n, cap;
};
static struct slots backing_free; /* guarded by slock */
static struct slots open_free;	  /* guarded by slock */
/* fh -> slot of its sv->opens record, and whether this worker counted
 * it at start (an earlier worker's open); guarded by slock. */
static struct hmap open_fhs;
#define OPEN_ENTRY(slot, held) ((void *)(uintptr_t)(((uintptr_t)(slot) + 1) << 1 | (held)))
#define OPEN_SLOT(e) ((int)(((uintptr_t)(e) >> 1) - 1))
#define OPEN_HELD(e) ((int)((uintptr_t)(e)&1))
static struct hmap revived; /* earlier worker's fh -> the one standing for it;
				guarded by slock */

/* Our own requests (an OPEN to revive a handle) are numbered apart from
 * the kernel's (which count up from 0; the resend bit is 1 << 63). */
#define SV_UNIQUE_OWN (UINT64_C(1) << 62)
static atomic_uint_least64_t own_seq;

/* A request held back on this thread while its handle is opened again. */
static __thread struct {
	void *req; /* NULL: none */
	size_t len;
	uint64_t fh;	 /* the earlier worker's handle in it */
	uint64_t unique; /* of our OPEN, until answered; then 0 */
} held;

/* ---- INIT ---- */

const void *
supervisor_init_request(size_t *len)
{
	if (sv == NULL || sv_gen <= 1 || atomic_load(&sv->init_replylen) == 0)
		return NULL;
	*len = sv->init_reqlen;
	return sv->init_req;
}

const void *
supervisor_init_reply(size_t *len)
{
	if (sv == NULL || (*len = atomic_load(&sv->init_replylen)) == 0)
		return NULL;
	return sv->init_reply;
}

void
supervisor_init_save(const void *req, size_t reqlen, const void *reply, size_t replylen)
{
	if (sv == NULL || sv_gen == 0 || atomic_load(&sv->init_replylen) != 0)
		return;
	if (reqlen > SV_INIT_MAX || replylen > SV_INIT_MAX || replylen == 0) {
		log_error("the INIT exchange does not fit the supervisor's record: no restarts");
		return;
	}
	memcpy(sv->init_req, req, reqlen);
	memcpy(sv->init_reply, reply, replylen);
	sv->init_reqlen = (uint32_t)reqlen;
	atomic_store(&sv->init_replylen, (uint32_t)replylen);
}

/* ---- free slots of the backing and open tables ---- */

/* Take a free slot: one freed or found free, else the next past the
 * table's high-water mark *used (below max); -1 when full. With slock. */
static int
slots_take(struct slots *s, _Atomic uint32_t *used, uint32_t max)
{
	if (s->n > 0)
		return s->v[--s->n];
	if (atomic_load(used) < max)
		return (int)atomic_fetch_add(used, 1);
	return -1;
}

/* Remember a free slot; with slock held. */
static void
slots_put(struct slots *s, int slot)
{
	if (VEC_PUSH_ROOM(s->v, s->n, s->cap) != 0)
		return; /* the slot stays unused */
	s->v[s->n++] = slot;
}

/* ---- passthrough backing ids ---- */

int
supervisor_backing_add(uint64_t blob_id, int backing_id)
{
	int slot = -1;

	if (sv == NULL || sv_gen == 0)
		return -1;
	pthread_mutex_lock(&slock);
	slot = slots_take(&backing_free, &sv->nbacking, SV_BACKING_MAX);
	pthread_mutex_unlock(&slock);
	if (slot < 0) {
		log_warn("the supervisor's table of backing ids is full: a restart may "
			 "lose one");
		return -1;
	}
	sv->backing[slot].id = backing_id;
	atomic_store(&sv->backing[slot].blob_id, blob_id);
	return slot;
}

void
supervisor_backing_del(int slot)
{
	if (sv == NULL || slot < 0)
		return;
	atomic_store(&sv->backing[slot].blob_id, 0);
	pthread_mutex_lock(&slock);
	slots_put(&backing_free, slot);
	pthread_mutex_unlock(&slock);
}

void
supervisor_backing_foreach(void (*fn)(void *arg, uint64_t blob_id, int backing_id, int slot), void *arg)
{
	uint32_t i, n;

	if (sv == NULL || sv_gen <= 1)
		return;
	n = atomic_load(&sv->nbacking);
	for (i = 0; i < n; i++) {
		uint64_t blob = atomic_load(&sv->backing[i].blob_id);

		if (blob != 0)
			fn(arg, blob, sv->backing[i].id, (int)i);
		else {
			pthread_mutex_lock(&slock);
			slots_put(&backing_free, (int)i);
			pthread_mutex_unlock(&slock);
		}
	}
}

/* ---- opens of blob data ---- */

void
supervisor_open_add(uint64_t fh, uint64_t blob_id)
{
	static atomic_int warned;
	int slot;

	/* Our own OPEN reviving an earlier handle: the kernel knows only
	 * that one's number, whose open is kept already. */
	if (sv == NULL || sv_gen == 0 || held.unique != 0)
		return;
	pthread_mutex_lock(&slock);
	if ((slot = slots_take(&open_free, &sv->nopens, SV_OPENS_MAX)) >= 0) {
		sv->opens[slot].blob_id = blob_id;
		atomic_store(&sv->opens[slot].fh, fh);
		if (hmap_insert(&open_fhs, fh, OPEN_ENTRY(slot, 0)) != 0) {
			atomic_store(&sv->opens[slot].fh, 0);
			slots_put(&open_free, slot);
			slot = -1;
		}
	}
	pthread_mutex_unlock(&slock);
	if (slot < 0 && atomic_exchange(&warned, 1) == 0)
		log_warn("the supervisor's table of open files is full: after a restart, a blob "
			 "still open may be evicted");
}

void
supervisor_open_del(uint64_t fh)
{
	uint64_t blob_id = 0;
	void *e;

	if (sv == NULL || sv_gen == 0)
		return;
	pthread_mutex_lock(&slock);
	if ((e = hmap_find(&open_fhs, fh)) != NULL) {
		struct sv_open *r = &sv->opens[OPEN_SLOT(e)];

		hmap_remove(&open_fhs, fh, e);
		if (OPEN_HELD(e))
			blob_id = r->blob_id;
		atomic_store(&r->fh, 0);
		slots_put(&open_free, OPEN_SLOT(e));
	}
	pthread_mutex_unlock(&slock);
	/* An earlier worker's open, counted by supervisor_opens_hold; this
	 * worker's own are released with their handle. */
	if (blob_id != 0)
		catalog_release(fs.cat, blob_id, 0);
}

void
supervisor_opens_hold(catalog_t *c)
{
	unsigned kept = 0, gone = 0;
	uint32_t i, n;

	if (sv == NULL || sv_gen <= 1)
		return;
	n = atomic_load(&sv->nopens);
	for (i = 0; i < n; i++) {
		struct sv_open *r = &sv->opens[i];
		uint64_t fh = atomic_load(&r->fh);
		int rc = -ENOENT;

		/* Not under slock: the catalog's lock comes first. */
		if (fh != 0 && (rc = catalog_hold(c, r->blob_id)) == 0) {
			pthread_mutex_lock(&slock);
			rc = hmap_insert(&open_fhs, fh, OPEN_ENTRY(i, 1));
			pthread_mutex_unlock(&slock);
			if (rc != 0)
				catalog_release(c, r->blob_id, 0);
		}
		if (rc == 0) {
			kept++;
			continue;
		}
		/* Free, or its blob is gone (or out of memory: then a
		 * RELEASE finds nothing, as before this table). */
		if (fh != 0) {
			atomic_store(&r->fh, 0);
			gone++;
		}
		pthread_mutex_lock(&slock);
		slots_put(&open_free, (int)i);
		pthread_mutex_unlock(&slock);
	}
	if (kept + gone > 0)
		log_info("open files of earlier workers: %u counted until released, %u dropped (their "
			 "blobs are gone)",
		    kept, gone);
}

/* Where the file handle of request in is, for the requests that may
 * carry one of an earlier worker; NULL for the others. */
static uint64_t *
fh_of(struct fuse_in_header *in, size_t len)
{
	size_t need;

	switch (in->opcode) {
	case FUSE_READ:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS: need = sizeof(struct fuse_read_in); break;
	case FUSE_WRITE: need = sizeof(struct fuse_write_in); break;
	case FUSE_FLUSH: need = sizeof(struct fuse_flush_in); break;
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR: need = sizeof(struct fuse_release_in); break;
	default: return NULL;
	}
	/* fh is the first field of each of these. */
	return len >= sizeof *in + need ? (uint64_t *)(void *)(in + 1) : NULL;
}

/* Point a request at the handle that stands for an earlier worker's:
 * 1 when it did. A release ends the pairing. */
static int
map_fh(struct fuse_in_header *in, uint64_t *fhp)
{
	void *n;

	pthread_mutex_lock(&slock);
	n = hmap_find(&revived, *fhp);
	if (n != NULL && (in->opcode == FUSE_RELEASE || in->opcode == FUSE_RELEASEDIR))
		hmap_remove(&revived, *fhp, n);
	pthread_mutex_unlock(&slock);
	if (n == NULL)
		return 0;
	*fhp = (uint64_t)(uintptr_t)n;
	return 1;
}

/* Turn request in (a read or a listing on earlier worker's handle fh) into
 * an OPEN or OPENDIR of its inode, holding the request back for this
 * thread's next read; the new handle then stands for fh. Only what an
 * open rebuilds whole qualifies: directory listings, generated files,
 * blob data read through the daemon (not streams, which live in memory,
 * nor files open for writing, whose unsealed blob went with the worker). */
static size_t
open_again(struct fuse_in_header *in, size_t len, uint64_t fh)
{
	const struct fuse_read_in *rd = (const void *)(in + 1);
	struct fuse_open_in *open = (void *)(in + 1);
	uint32_t opcode = in->opcode == FUSE_READ ? FUSE_OPEN : FUSE_OPENDIR;

	if (ino_is_stream(in->nodeid) || (in->opcode == FUSE_READ && (rd->flags & O_ACCMODE) != O_RDONLY) ||
	    (held.req = malloc(len)) == NULL)
		return len;
	memcpy(held.req, in, len);
	held.len = len;
	held.fh = fh;
	held.unique = SV_UNIQUE_OWN | (2 * atomic_fetch_add(&own_seq, 1));
	in->len = sizeof *in + sizeof *open;
	in->opcode = opcode;
	in->unique = held.unique;
	memset(open, 0, sizeof *open);
	open->flags = O_RDONLY | (opcode == FUSE_OPENDIR ? O_DIRECTORY : 0);
	return in->len;
}

size_t
supervisor_request(void *buf, size_t len)
{
	struct fuse_in_header *in = buf;
	uint64_t *fhp;

	if (sv == NULL || sv_gen == 0)
		return len;
	if ((fhp = fh_of(in, len)) == NULL)
		return len;
	if (in->opcode == FUSE_RELEASE)
		supervisor_open_del(*fhp); /* the kernel's number, before map_fh */
	/* ctl's handles are control_keep.c's to revive. */
	if (handle_is_foreign(*fhp) && !map_fh(in, fhp) && in->nodeid != INO_CTL &&
	    (in->opcode == FUSE_READ || in->opcode == FUSE_READDIR || in->opcode == FUSE_READDIRPLUS))
		return open_again(in, len, *fhp);
	return len;
}

size_t
supervisor_held(void *buf, size_t size)
{
	struct fuse_in_header *in = buf;
	size_t len = held.len;

	if (held.req == NULL || len > size)
		return 0;
	held.unique = 0; /* answered, or never will be */
	memcpy(buf, held.req, len);
	free(held.req);
	held.req = NULL;
	held.len = 0;
	map_fh(in, fh_of(in, len)); /* unpaired when the open failed: EBADF */
	return len;
}

int
supervisor_swallow(const struct iovec *iov, int count)
{
	const struct fuse_out_header *out = iov[0].iov_base;
	const struct fuse_open_out *o;
	uint64_t n;
	int rc;

	if (held.unique == 0 || out->unique != held.unique)
		return 0;
	held.unique = 0;
	if (out->error != 0 || count != 2 || iov[1].iov_len < sizeof *o)
		return 1;
	o = iov[1].iov_base;
	n = o->fh;
	pthread_mutex_lock(&slock);
	rc = hmap_find(&revived, held.fh) != NULL ? -EEXIST
						  : hmap_insert(&revived, held.fh, (void *)(uintptr_t)n);
	pthread_mutex_unlock(&slock);
	if (rc != 0)
		handle_release(n); /* another thread revived it first */
	else
		log_info("revived handle %llu of an earlier worker as %llu (inode %llu)",
		    (unsigned long long)held.fh, (unsigned long long)n,
		    (unsigned long long)((const struct fuse_in_header *)held.req)->nodeid);
	return 1;
}

/* ---- notifications through the relay ---- */

int
supervisor_notify(const void *msg, size_t len)
{
	static pthread_mutex_t rlock = PTHREAD_MUTEX_INITIALIZER;
	int32_t rc = -ENOTCONN;
	ssize_t n = -1;

	if (len > SV_RELAY_MSG_MAX)
		return -EMSGSIZE;
	pthread_mutex_lock(&rlock);
	if (sv_notify_fd >= 0) {
		if (send(sv_notify_fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len)
			while ((n = recv(sv_notify_fd, &rc, sizeof rc, 0)) < 0 && errno == EINTR)
				;
		if (n != (ssize_t)sizeof rc) {
			log_warn("the notification relay is gone; this worker writes its own");
			close(sv_notify_fd);
			sv_notify_fd = -1;
			rc = -ENOTCONN;
		}
	}
	pthread_mutex_unlock(&rlock);
	return rc;
}
