/*
 * stream_objects: object streams (see stream.h). A producer appends
 * existing sealed objects by id and consumers take them in order; in the
 * namespace the stream is a directory of its objects so far, "0", "1",
 * ... (symbolic links), entry i at the stream's inode plus i + 1. rm -r
 * hides entries (the rmdir of the stream deletes); on completion the
 * objects become the members of a Sequence. The registry, the states and
 * the locking are stream.c's.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "id.h"
#include "stream.h"
#include "stream_i.h"
#include "util.h"
#include "vec.h"

/* The object stream whose entry ino is, and the entry's index. */
static struct stream *
by_entry(streams_t *s, uint64_t ino, unsigned *index)
{
	uint64_t base = ino & ~((UINT64_C(1) << STREAM_INO_SHIFT) - 1);
	struct stream *st = stream_by_ino(s, base);

	if (st == NULL || !st->objects || ino == base || ino - base - 1 >= st->nobjs)
		return NULL;
	*index = (unsigned)(ino - base - 1);
	return st;
}

int
stream_objects_complete(streams_t *s, struct stream *st, uint64_t *id, char *err, size_t errlen)
{
	json_t *members = json_object(), *fields = json_pack("{s:I}", "size_", (json_int_t)st->nobjs);
	char ids[ID_STR_LEN + 1], key[32];
	unsigned i;
	int rc;

	for (i = 0; i < st->nobjs; i++) {
		id_format(st->objs[i], ids);
		snprintf(key, sizeof key, "__elements_-%u", i);
		json_object_set_new(members, key, json_string(ids));
	}
	rc = catalog_create_object(
	    s->cat, "Sequence", fields, members, st->name, st->uid, st->gid, st->mode, id, err, errlen);
	if (rc == -EEXIST)
		rc = catalog_create_object(
		    s->cat, "Sequence", fields, members, NULL, st->uid, st->gid, st->mode, id, err, errlen);
	json_decref(fields);
	json_decref(members);
	return rc;
}

int
streams_objects_open(streams_t *s, const char *name, uid_t uid, gid_t gid, mode_t mode, uint64_t *ino)
{
	struct stream_attr a;
	struct stream *st;
	int rc;

	if ((rc = streams_lookup(s, name, 1, &a)) != 0)
		return rc;
	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, a.ino)) == NULL)
		rc = -ENOENT; /* unlinked meanwhile */
	else if (st->state == STREAM_OPEN)
		rc = st->objects ? -EBUSY : -ENOTDIR;
	else if (st->state != STREAM_PENDING)
		rc = st->objects ? -EPERM : -ENOTDIR;
	else {
		st->objects = 1;
		st->state = STREAM_OPEN;
		st->writer = 1;
		st->uid = uid;
		st->gid = gid;
		st->mode = mode & 07777;
		st->ctime_ns = st->mtime_ns = util_now_ns();
		*ino = st->ino;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
streams_push(streams_t *s, uint64_t ino, uid_t uid, uint64_t object_id)
{
	struct catalog_attr ca;
	struct stream *st;
	int rc = 0;

	if (id_is_blob(object_id))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, ino)) == NULL || !st->objects || !st->writer || st->state != STREAM_OPEN)
		rc = -EBADF;
	else if (uid != 0 && uid != st->uid)
		rc = -EACCES;
	else if (st->nobjs >= STREAM_OBJECTS_MAX)
		rc = -E2BIG;
	else if ((rc = catalog_getattr(s->cat, ino_of(object_id, INO_VIEW_OBJECT), &ca)) != 0)
		; /* no such object */
	else if (!ca.sealed)
		rc = -EAGAIN; /* still being written: push it once sealed */
	else if (uid != 0 && ca.uid != uid)
		rc = -EACCES;
	else
		rc = VEC_PUSH_ROOM(st->objs, st->nobjs, st->objcap);
	if (rc == 0) {
		st->objs[st->nobjs] = object_id;
		rc = (int)st->nobjs++;
		st->mtime_ns = util_now_ns();
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
streams_next(streams_t *s, const char *name, unsigned index, uint64_t *id)
{
	struct stream_attr a;
	struct stream *st;
	int rc;

	if ((rc = streams_lookup(s, name, 1, &a)) != 0)
		return rc;
	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, a.ino)) == NULL)
		rc = -ENOENT;
	else if (!st->objects && st->state != STREAM_PENDING)
		rc = -ENOTDIR; /* a byte stream */
	else if (index < st->nobjs) {
		*id = st->objs[index];
		rc = 1;
	} else if (st->state == STREAM_COMPLETE)
		rc = 0;
	else if (st->state == STREAM_FAILED)
		rc = -EIO;
	else
		rc = -EAGAIN;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
streams_entry_lookup(streams_t *s, uint64_t dir, const char *name, uint64_t *ino, uint64_t *id)
{
	struct stream *st;
	unsigned long i;
	char *end;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, dir)) == NULL || !st->objects)
		rc = -ENOTDIR;
	else {
		i = strtoul(name, &end, 10);
		if (*name >= '0' && *name <= '9' && *end == '\0' && (name[0] != '0' || name[1] == '\0') &&
		    i < st->nobjs && (st->hidden == NULL || !st->hidden[i])) {
			*ino = st->ino + i + 1;
			*id = st->objs[i];
			rc = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
streams_entries(
    streams_t *s, uint64_t dir, int (*fn)(void *arg, const char *name, uint64_t ino, uint64_t id), void *arg)
{
	struct stream *st;
	char name[16];
	unsigned i;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if ((st = stream_by_ino(s, dir)) == NULL || !st->objects)
		rc = -ENOTDIR;
	for (i = 0; rc == 0 && st != NULL && i < st->nobjs; i++) {
		if (st->hidden != NULL && st->hidden[i])
			continue;
		snprintf(name, sizeof name, "%u", i);
		rc = fn(arg, name, st->ino + i + 1, st->objs[i]);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
streams_entry_unlink(streams_t *s, uint64_t dir, const char *name, uid_t uid)
{
	struct stream *st;
	uint64_t ino, id;
	unsigned i;
	int rc;

	if ((rc = streams_entry_lookup(s, dir, name, &ino, &id)) != 0)
		return rc;
	pthread_mutex_lock(&s->lock);
	if ((st = by_entry(s, ino, &i)) == NULL)
		rc = -ENOENT;
	else if (st->state != STREAM_COMPLETE && st->state != STREAM_FAILED)
		rc = -EBUSY; /* objects may still come: rmdir after the close */
	else if (uid != 0 && uid != st->uid)
		rc = -EACCES;
	else if (st->hidden == NULL && (st->hidden = calloc(st->nobjs, 1)) == NULL)
		rc = -ENOMEM;
	else
		st->hidden[i] = 1;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
streams_entry_target(streams_t *s, uint64_t ino, uint64_t *id)
{
	struct stream *st;
	unsigned i;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if ((st = by_entry(s, ino, &i)) == NULL)
		rc = -ENOENT;
	else
		*id = st->objs[i];
	pthread_mutex_unlock(&s->lock);
	return rc;
}
