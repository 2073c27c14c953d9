/*
 * control_keep: the requests of .vineyardfs/ctl not answered yet, kept
 * for the next worker under a supervisor (the table sv->ctl of the shared
 * region, supervisor_i.h), and revived by it: a filter of the I/O chain
 * (iochain.h). A request lives in the worker that read it; a copy is kept
 * once its write was answered, marked answered before a successor could
 * see it twice, and dropped with the descriptor's RELEASE. A successor
 * revives an earlier worker's ctl handle at its first READ or WRITE,
 * under its old number (handle_adopt). Unsupervised, it does nothing.
 *
 * Locks: klock guards the table.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/log.h"
#include "fs/control_keep.h"
#include "fs/fs.h"
#include "fs/fuse_ext.h"
#include "fs/supervisor.h"
#include "fs/supervisor_i.h"

static pthread_mutex_t klock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint nreading; /* ctl records with a read_unique */

/* A ctl write being handled on this thread, recorded once answered. */
static __thread struct {
	uint64_t unique, fh;
	uint32_t uid, gid;
	const char *data;
	size_t size;
} pending_write;

/* In a worker: reads the dead worker was answering; the kernel sends
 * them again. */
static int
keep_start(int devfd, int passthrough)
{
	size_t i;

	(void)devfd, (void)passthrough;
	if (sv == NULL || sv_gen == 0)
		return 0;
	for (i = 0; i < SV_CTL_MAX; i++)
		if (atomic_load(&sv->ctl[i].fh) != 0 && atomic_load(&sv->ctl[i].read_unique) != 0)
			atomic_fetch_add(&nreading, 1);
	return 0;
}

/* The record of ctl handle fh, or NULL; with klock held. */
static struct sv_ctl *
ctl_find(uint64_t fh)
{
	size_t i;

	for (i = 0; i < SV_CTL_MAX; i++)
		if (atomic_load(&sv->ctl[i].fh) == fh)
			return &sv->ctl[i];
	return NULL;
}

/* Is the kept request a wait (safe to run twice)? */
static int
is_wait(const struct sv_ctl *r)
{
	json_t *req = json_loadb(r->text, atomic_load(&r->len), 0, NULL);
	const char *op = json_string_value(json_object_get(req, "op"));
	int yes = op != NULL && strcmp(op, "wait") == 0;

	json_decref(req);
	return yes;
}

/* An earlier worker's ctl handle fh, met in request in (READ or WRITE):
 * a handle for it, or NULL when it cannot go on (see the rules below). */
static struct fs_handle *
revive_ctl(const struct fuse_in_header *in, uint64_t fh)
{
	uid_t uid = in->uid;
	gid_t gid = in->gid;
	struct sv_ctl *r;
	struct fs_handle *h;
	char *text = NULL;
	size_t len = 0;

	pthread_mutex_lock(&klock);
	r = ctl_find(fh);
	if (r != NULL) {
		uid = r->uid;
		gid = r->gid;
	}
	/* A request too long to keep is lost, until a reply would end it. A
	 * read needs the request, not answered already (the rest of that
	 * reply is gone), and either never started or safe to run again. */
	if ((r != NULL && r->overflow && !atomic_load(&r->answered)) ||
	    (in->opcode == FUSE_READ && (r == NULL || atomic_load(&r->answered) ||
					    (atomic_load(&r->read_unique) != 0 && !is_wait(r))))) {
		pthread_mutex_unlock(&klock);
		return NULL;
	}
	/* A write goes on with the request so far, or starts a new one. */
	if (r != NULL && !atomic_load(&r->answered) && (len = atomic_load(&r->len)) > 0 &&
	    (text = malloc(len)) != NULL)
		memcpy(text, r->text, len);
	pthread_mutex_unlock(&klock);
	if (len > 0 && text == NULL)
		return NULL;
	if ((h = control_ctl_open(uid, gid)) == NULL || (len > 0 && control_ctl_write(h, text, len) < 0)) {
		if (h != NULL)
			handle_free(h);
		free(text);
		return NULL;
	}
	free(text);
	return h;
}

/* Revive ctl handle fh of an earlier worker for request in (see
 * revive_ctl) under its old number. */
static void
revive_ctl_handle(const struct fuse_in_header *in, uint64_t fh)
{
	struct fs_handle *h = revive_ctl(in, fh);

	if (h == NULL)
		return;
	if (handle_adopt(fh, h) != 0) {
		handle_free(h); /* revived by another thread meanwhile */
		return;
	}
	log_info("revived control-file handle %llu of an earlier worker", (unsigned long long)fh);
}

/* A free ctl record for fh, taken; with klock held. */
static struct sv_ctl *
ctl_take(uint64_t fh, uint32_t uid, uint32_t gid)
{
	size_t i;

	for (i = 0; i < SV_CTL_MAX; i++) {
		struct sv_ctl *r = &sv->ctl[i];

		if (atomic_load(&r->fh) != 0)
			continue;
		r->uid = uid;
		r->gid = gid;
		atomic_store(&r->len, 0);
		atomic_store(&r->answered, 0);
		r->overflow = 0;
		atomic_store(&r->read_unique, 0);
		atomic_store(&r->fh, fh);
		return r;
	}
	return NULL;
}

static size_t
keep_request(void *buf, size_t len, size_t size)
{
	struct fuse_in_header *in = buf;
	size_t need;
	struct sv_ctl *r;
	uint64_t fh;

	(void)size;
	if (sv == NULL || sv_gen == 0)
		return len;
	pending_write.unique = 0;
	if (in->nodeid != INO_CTL)
		return len;
	switch (in->opcode) {
	case FUSE_READ: need = sizeof(struct fuse_read_in); break;
	case FUSE_WRITE: need = sizeof(struct fuse_write_in); break;
	case FUSE_RELEASE: need = sizeof(struct fuse_release_in); break;
	default: return len;
	}
	if (len < sizeof *in + need)
		return len;
	fh = *(const uint64_t *)(const void *)(in + 1); /* the first field of each */
	if (in->opcode != FUSE_RELEASE && handle_is_foreign(fh))
		revive_ctl_handle(in, fh);
	switch (in->opcode) {
	case FUSE_READ:
		/* From here the request may have run: see revive_ctl. */
		pthread_mutex_lock(&klock);
		if ((r = ctl_find(fh)) != NULL && atomic_exchange(&r->read_unique, in->unique) == 0)
			atomic_fetch_add(&nreading, 1);
		pthread_mutex_unlock(&klock);
		break;
	case FUSE_WRITE:
		pending_write.unique = in->unique;
		pending_write.fh = fh;
		pending_write.uid = in->uid;
		pending_write.gid = in->gid;
		pending_write.data = (const char *)(in + 1) + sizeof(struct fuse_write_in);
		pending_write.size = len - sizeof *in - sizeof(struct fuse_write_in);
		break;
	case FUSE_RELEASE:
		pthread_mutex_lock(&klock);
		if ((r = ctl_find(fh)) != NULL) {
			if (atomic_exchange(&r->read_unique, 0) != 0)
				atomic_fetch_sub(&nreading, 1);
			atomic_store(&r->fh, 0);
		}
		pthread_mutex_unlock(&klock);
		break;
	}
	return len;
}

/* A reply reached the kernel: a ctl write's (keep its bytes) or read's
 * (its request is answered). */
static void
keep_sent(const struct iochain_reply *rep)
{
	const struct fuse_out_header *out = rep->iov[0].iov_base;
	struct sv_ctl *r;
	size_t i;

	if (sv == NULL || sv_gen == 0 || out->unique == 0)
		return;
	if (pending_write.unique != 0 && out->unique == pending_write.unique) {
		/* A ctl write was answered: keep its bytes, as control.c did. */
		pending_write.unique = 0;
		if (out->error != 0)
			return;
		pthread_mutex_lock(&klock);
		if ((r = ctl_find(pending_write.fh)) == NULL)
			r = ctl_take(pending_write.fh, pending_write.uid, pending_write.gid);
		if (r != NULL) {
			uint32_t n = atomic_load(&r->len);

			if (atomic_load(&r->answered)) {
				atomic_store(&r->len, 0);
				n = 0;
				r->overflow = 0;
				atomic_store(&r->answered, 0);
			}
			if (n + pending_write.size > SV_CTL_TEXT)
				r->overflow = 1;
			else {
				memcpy(r->text + n, pending_write.data, pending_write.size);
				atomic_store(&r->len, n + (uint32_t)pending_write.size);
			}
		}
		pthread_mutex_unlock(&klock);
		return;
	}
	if (atomic_load(&nreading) == 0)
		return;
	pthread_mutex_lock(&klock);
	for (i = 0; i < SV_CTL_MAX; i++) {
		r = &sv->ctl[i];
		if (atomic_load(&r->fh) == 0 || atomic_load(&r->read_unique) != out->unique)
			continue;
		atomic_store(&r->read_unique, 0);
		atomic_fetch_sub(&nreading, 1);
		if (out->error == 0)
			atomic_store(&r->answered, 1);
		break;
	}
	pthread_mutex_unlock(&klock);
}

const struct iochain_filter control_keep_filter = {
	.name = "control_keep",
	.start = keep_start,
	.request = keep_request,
	.sent = keep_sent,
};
