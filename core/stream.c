/*
 * stream: see stream.h. A stream holds its chunks open for writing in the
 * catalog (catalog_blob_create) until it completes, so they stay unsealed
 * and are discarded by a restart; a chunk is started only when there is
 * memory for all of it, and a write that finds none (then, or half-way
 * after all: nothing is reserved ahead) gets ENOSPC with nothing written,
 * which the fs layer makes a wait. Streams are few: a list under one lock.
 * This file is the registry (lookup, references, states, unlink) and byte
 * streams; object streams are stream_objects.c, sharing stream_i.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "id.h"
#include "log.h"
#include "stream.h"
#include "stream_i.h"
#include "util.h"
#include "vec.h"

#define STREAM_TYPENAME "ByteStream"

int
streams_is(uint64_t ino)
{
	return ino_view(ino) == INO_VIEW_STREAM && !id_is_blob(ino);
}

const char *
streams_state_name(enum stream_state st)
{
	static const char *const names[] = { "pending", "open", "complete", "failed" };

	return names[st];
}

int
streams_create(catalog_t *c, uint64_t first_seq, streams_t **out)
{
	streams_t *s = calloc(1, sizeof *s);

	if (s == NULL)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->cat = c;
	s->seq = first_seq;
	*out = s;
	return 0;
}

static void
stream_free(streams_t *s, struct stream *st)
{
	unsigned i;

	for (i = 0; i < st->nchunks; i++) {
		if (st->chunks[i].fd >= 0)
			close(st->chunks[i].fd);
		if (st->chunks[i].held)
			catalog_release(s->cat, st->chunks[i].blob_id, 0);
	}
	free(st->chunks);
	free(st->objs);
	free(st->hidden);
	free(st->name);
	free(st);
}

void
streams_destroy(streams_t *s)
{
	struct stream *st;

	if (s == NULL)
		return;
	while ((st = s->list) != NULL) {
		s->list = st->next;
		stream_free(s, st);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static struct stream *
by_name(streams_t *s, const char *name)
{
	struct stream *st;

	for (st = s->list; st != NULL; st = st->next)
		if (st->name != NULL && strcmp(st->name, name) == 0)
			return st;
	return NULL;
}

struct stream *
stream_by_ino(streams_t *s, uint64_t ino)
{
	struct stream *st;

	for (st = s->list; st != NULL; st = st->next)
		if (st->ino == ino)
			return st;
	return NULL;
}

static void
fill_attr(const struct stream *st, struct stream_attr *a)
{
	memset(a, 0, sizeof *a);
	a->ino = st->ino;
	a->state = st->state;
	a->size = st->size;
	a->chunks = st->nchunks;
	a->uid = st->uid;
	a->gid = st->gid;
	a->mode = st->mode;
	a->mtime_ns = st->mtime_ns;
	a->ctime_ns = st->ctime_ns;
	a->object_id = st->object_id;
	a->readers = st->readers;
	a->objects = st->objects;
	a->count = st->nobjs;
	snprintf(a->error, sizeof a->error, "%s", st->error);
}

/* Free st once unlinked and unused; with the lock held. */
static void
maybe_free(streams_t *s, struct stream *st)
{
	struct stream **p;

	if (st->name != NULL || st->writer || st->readers > 0)
		return;
	for (p = &s->list; *p != NULL; p = &(*p)->next)
		if (*p == st) {
			*p = st->next;
			break;
		}
	stream_free(s, st);
}

int
streams_lookup(streams_t *s, const char *name, int create, struct stream_attr *a)
{
	struct stream *st;
	int rc = 0;

	/* The rules of names/, where a complete stream's object is named;
	 * a listing would show a second "." or "..". */
	if (catalog_name_check(name) != 0)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	if ((st = by_name(s, name)) == NULL) {
		if (!create)
			rc = -ENOENT;
		else if ((st = calloc(1, sizeof *st)) == NULL || (st->name = strdup(name)) == NULL) {
			free(st);
			rc = -ENOMEM;
		} else {
			st->ino = ino_of(++s->seq << STREAM_INO_SHIFT, INO_VIEW_STREAM);
			st->mode = 0666; /* anyone may become its writer */
			st->ctime_ns = st->mtime_ns = util_now_ns();
			st->next = s->list;
			s->list = st;
		}
	}
	if (rc == 0)
		fill_attr(st, a);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void
streams_ref(streams_t *s, uint64_t ino)
{
	struct stream *st;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, ino)) != NULL)
		st->nlookup++;
	pthread_mutex_unlock(&s->lock);
}

void
streams_forget(streams_t *s, uint64_t ino, uint64_t n)
{
	struct stream *st;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, ino)) != NULL) {
		st->nlookup = n < st->nlookup ? st->nlookup - n : 0;
		if (st->nlookup == 0 && st->state == STREAM_PENDING && st->readers == 0 && !st->writer &&
		    st->name != NULL) {
			free(st->name); /* only looked at: it goes */
			st->name = NULL;
			maybe_free(s, st);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

unsigned
streams_count(streams_t *s)
{
	struct stream *st;
	unsigned n = 0;

	pthread_mutex_lock(&s->lock);
	for (st = s->list; st != NULL; st = st->next)
		n++;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int
streams_getattr(streams_t *s, uint64_t ino, struct stream_attr *a)
{
	struct stream *st;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, ino)) == NULL)
		rc = -ENOENT;
	else
		fill_attr(st, a);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
streams_list(streams_t *s, int (*fn)(void *arg, const char *name, const struct stream_attr *a), void *arg)
{
	struct stream_attr a;
	struct stream *st;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	for (st = s->list; st != NULL && rc == 0; st = st->next) {
		if (st->name == NULL || (st->state == STREAM_PENDING && st->readers == 0))
			continue;
		fill_attr(st, &a);
		rc = fn(arg, st->name, &a);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
streams_open_write(streams_t *s, uint64_t ino, uid_t uid, gid_t gid, mode_t mode, struct stream_attr *a)
{
	struct stream *st;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, ino)) == NULL || st->name == NULL)
		rc = -ENOENT;
	else if (st->objects)
		rc = -EISDIR;
	else if (st->state == STREAM_OPEN)
		rc = -EBUSY;
	else if (st->state != STREAM_PENDING)
		rc = -EPERM; /* complete or failed: delete it first */
	else {
		st->state = STREAM_OPEN;
		st->writer = 1;
		st->uid = uid;
		st->gid = gid;
		st->mode = mode & 07777;
		st->ctime_ns = st->mtime_ns = util_now_ns();
		fill_attr(st, a);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Start a chunk, with the lock held, when there is memory for all of it.
 * On a store whose tmpfs the kernel limits nothing is reserved: reserving
 * (fallocate) gives the chunk huge pages, zeroed and then written over in
 * pieces, which tripled the daemon's CPU for a stream on this VM (transport
 * of 2 GiB: 203 ticks with small pages, 334-630 with huge); a write that
 * finds no memory after all waits as one that finds no room for a chunk
 * does (ENOSPC). Elsewhere the catalog counts, and the reservation is how. */
static int
chunk_start(streams_t *s, struct stream *st)
{
	uint64_t id;
	int fd, rc, reserve = !catalog_kernel_limited(s->cat);

	if ((rc = VEC_PUSH_ROOM(st->chunks, st->nchunks, st->cap)) != 0)
		return rc;
	if (!reserve && (rc = catalog_room(s->cat, STREAM_CHUNK)) != 0)
		return rc;
	if ((rc = catalog_blob_create(s->cat, st->uid, st->gid, st->mode, &id, &fd)) != 0)
		return rc;
	if (reserve && (rc = catalog_fallocate(s->cat, id, fd, 0, 0, STREAM_CHUNK)) != 0) {
		close(fd);
		catalog_blob_discard(s->cat, id,
		    rc == -ENOSPC ? "no memory for a stream chunk (the writer waits)"
				  : "a stream chunk could not be reserved");
		return rc;
	}
	st->chunks[st->nchunks].blob_id = id;
	st->chunks[st->nchunks].fd = fd;
	st->nchunks++;
	return 0;
}

ssize_t
streams_write(streams_t *s, uint64_t ino, const void *buf, size_t size, off_t off)
{
	struct stream *st;
	size_t done = 0;
	ssize_t rc = 0;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, ino)) == NULL || !st->writer) {
		rc = -EBADF;
		goto out;
	}
	if (st->state == STREAM_FAILED) {
		rc = -EIO;
		goto out;
	}
	if ((uint64_t)off != st->size) {
		rc = -EINVAL; /* a stream is written in order */
		goto out;
	}
	while (done < size) {
		uint64_t at = st->size % STREAM_CHUNK;
		size_t n = size - done < STREAM_CHUNK - at ? size - done : STREAM_CHUNK - at;
		ssize_t w;

		if (st->size == (uint64_t)st->nchunks * STREAM_CHUNK && (rc = chunk_start(s, st)) != 0)
			break;
		w = pwrite(st->chunks[st->nchunks - 1].fd, (const char *)buf + done, n, (off_t)at);
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)w;
		st->size += (uint64_t)w;
	}
	if (done > 0) {
		st->mtime_ns = util_now_ns();
		rc = (ssize_t)done;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Seal st's chunks and make its object; with the lock held. On failure
 * the stream fails (its bytes stay readable). */
static void
complete(streams_t *s, struct stream *st)
{
	char ids[ID_STR_LEN + 1], key[32], err[256];
	json_t *members = json_object(), *fields;
	struct catalog_set trim = CATALOG_SET_NONE;
	struct catalog_attr ca;
	uint64_t tail = st->size % STREAM_CHUNK, id;
	unsigned i;
	int rc;

	if (st->objects) {
		json_decref(members);
		if ((rc = stream_objects_complete(s, st, &id, err, sizeof err)) != 0) {
			snprintf(st->error, sizeof st->error, "its Sequence could not be made: %.120s", err);
			goto fail;
		}
		st->object_id = id;
		st->state = STREAM_COMPLETE;
		return;
	}
	/* The last chunk shrinks to what was written. */
	trim.size = (int64_t)tail;
	if (st->nchunks > 0 && tail != 0 &&
	    (rc = catalog_setattr(s->cat, st->chunks[st->nchunks - 1].blob_id, st->chunks[st->nchunks - 1].fd,
		 &trim, &ca)) != 0) {
		snprintf(st->error, sizeof st->error, "cannot trim its last chunk: %s", strerror(-rc));
		goto fail;
	}
	for (i = 0; i < st->nchunks; i++) {
		/* The stream's hold as writer ends with the seal; as reader it
		 * holds the chunk on: its fd keeps the pages, which spilling
		 * must not count as freed. */
		catalog_release(s->cat, st->chunks[i].blob_id, 1);
		st->chunks[i].held = catalog_hold(s->cat, st->chunks[i].blob_id) == 0;
		id_format(st->chunks[i].blob_id, ids);
		snprintf(key, sizeof key, "__chunk_-%u", i);
		json_object_set_new(members, key, json_string(ids));
	}
	fields = json_pack("{s:I, s:I, s:I}", "size_", (json_int_t)st->size, "chunks_",
	    (json_int_t)st->nchunks, "chunk_size_", (json_int_t)STREAM_CHUNK);
	rc = catalog_create_object(s->cat, STREAM_TYPENAME, fields, members, st->name, st->uid, st->gid,
	    st->mode, &id, err, sizeof err);
	if (rc == -EEXIST) /* its name is taken in names/: by id only */
		rc = catalog_create_object(s->cat, STREAM_TYPENAME, fields, members, NULL, st->uid, st->gid,
		    st->mode, &id, err, sizeof err);
	json_decref(fields);
	json_decref(members);
	if (rc != 0) {
		snprintf(st->error, sizeof st->error, "its object could not be made: %.120s", err);
		goto fail;
	}
	st->object_id = id;
	st->state = STREAM_COMPLETE;
	return;
fail:
	log_warn("stream %s failed at its close: %s", st->name ? st->name : "(unlinked)", st->error);
	st->state = STREAM_FAILED;
}

/* Fail st with why; with the lock held. */
static void
fail_stream(struct stream *st, const char *why)
{
	snprintf(st->error, sizeof st->error, "%s", why);
	st->state = STREAM_FAILED;
	log_warn("stream %s failed after %llu bytes: %s", st->name ? st->name : "(unlinked)",
	    (unsigned long long)st->size, why);
}

void
streams_fail(streams_t *s, uint64_t ino, const char *why)
{
	struct stream *st;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, ino)) != NULL && st->state == STREAM_OPEN)
		fail_stream(st, why);
	pthread_mutex_unlock(&s->lock);
}

void
streams_close_write(streams_t *s, uint64_t ino, const char *why)
{
	struct stream *st;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, ino)) != NULL && st->writer) {
		st->writer = 0;
		if (st->state == STREAM_FAILED)
			; /* failed while open: it stays so */
		else if (why != NULL)
			fail_stream(st, why);
		else
			complete(s, st);
		maybe_free(s, st);
	}
	pthread_mutex_unlock(&s->lock);
}

int
streams_open_read(streams_t *s, uint64_t ino)
{
	struct stream *st;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, ino)) == NULL || st->name == NULL)
		rc = -ENOENT;
	else
		st->readers++;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void
streams_close_read(streams_t *s, uint64_t ino)
{
	struct stream *st;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, ino)) != NULL && st->readers > 0) {
		st->readers--;
		maybe_free(s, st);
	}
	pthread_mutex_unlock(&s->lock);
}

int
streams_read(streams_t *s, uint64_t ino, off_t off, size_t size, int *fd, off_t *fdoff, size_t *len)
{
	struct stream *st;
	uint64_t at, in;
	int rc;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, ino)) == NULL)
		rc = -EBADF;
	else if ((uint64_t)off < st->size) {
		at = (uint64_t)off % STREAM_CHUNK;
		in = st->size - (uint64_t)off;
		*fd = st->chunks[(uint64_t)off / STREAM_CHUNK].fd;
		*fdoff = (off_t)at;
		*len = size;
		if (*len > in)
			*len = (size_t)in;
		if (*len > STREAM_CHUNK - at)
			*len = (size_t)(STREAM_CHUNK - at); /* the rest comes with the next read */
		rc = 1;
	} else if (st->state == STREAM_COMPLETE)
		rc = 0;
	else if (st->state == STREAM_FAILED)
		rc = -EIO;
	else
		rc = -EAGAIN; /* pending or open: more may come */
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
streams_unlink(streams_t *s, const char *name, uid_t uid)
{
	struct stream *st;
	unsigned i;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if ((st = by_name(s, name)) == NULL)
		rc = -ENOENT;
	else if (st->writer)
		rc = -EBUSY;
	else if (st->state == STREAM_COMPLETE && st->object_id != 0) {
		rc = catalog_delete_object(s->cat, st->object_id, uid, CATALOG_DELETE_DEEP);
		if (rc == -ENOENT)
			rc = 0; /* its object went already */
	} else if (st->state == STREAM_FAILED)
		for (i = 0; i < st->nchunks; i++)
			catalog_blob_discard(s->cat, st->chunks[i].blob_id, "its failed stream was removed");
	else if (st->state == STREAM_PENDING && st->readers > 0)
		fail_stream(st, "removed before a writer came"); /* none can now: EIO, not EAGAIN forever */
	if (rc == 0) {
		free(st->name);
		st->name = NULL;
		maybe_free(s, st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
