/*
 * catalog_seal: sealing a blob when its last writer lets go. The seal
 * happens in memory at once (the blob is immutable from then on) and its
 * rows (the blob, its object, members and names) are committed to SQLite;
 * only then does it show as sealed (xattr, meta.json, waits), for a crash
 * before the commit loses it as it loses any unsealed blob.
 *
 * catalog_release commits before it returns. catalog_release_deferred,
 * which the mount uses for the kernel's RELEASE (close(2) does not wait
 * for it), queues the rows for the sealer's thread instead: it commits
 * every queued seal in one transaction, so a burst of small creates pays
 * for one commit, and the next request need not wait for SQLite. Every
 * other metadata transaction flushes the queue first (catalog_tx_begin),
 * so a rename or a delete never lands ahead of the seal it changes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_i.h"
#include "log.h"
#include "util.h"

/* The rows a seal writes, copied so that they can be written after the
 * catalog lock is dropped: the next create need not wait for the commit. */
struct seal_job {
	uint64_t blob_id;
	struct meta_blob blob;
	struct meta_object obj; /* obj.typename and .fields are owned copies */
	int has_obj;
	struct cmember *members; /* owned copies */
	unsigned nmembers;
	char **names; /* owned copies */
	unsigned nnames;
	int rc;		       /* of its commit */
	struct seal_job *next; /* in the sealer's lists */
};

static void
job_free(struct seal_job *j)
{
	unsigned i;

	for (i = 0; i < j->nmembers; i++)
		free(j->members[i].name);
	for (i = 0; i < j->nnames; i++)
		free(j->names[i]);
	free(j->members);
	free(j->names);
	free((char *)j->obj.typename);
	free((char *)j->obj.fields);
}

/* Copy o's rows into j; 0 or -ENOMEM. */
static int
job_fill(struct seal_job *j, const struct cobject *o)
{
	unsigned i;

	catalog_object_to_meta(o, &j->obj);
	j->obj.typename = strdup(o->typename);
	j->obj.fields = strdup(o->fields != NULL ? o->fields : "{}");
	j->members = calloc(o->nmembers + 1, sizeof *j->members);
	j->names = calloc(o->nnames + 1, sizeof *j->names);
	j->has_obj = 1;
	if (j->obj.typename == NULL || j->obj.fields == NULL || j->members == NULL || j->names == NULL)
		return -ENOMEM;
	for (; j->nmembers < o->nmembers; j->nmembers++) {
		j->members[j->nmembers].id = o->members[j->nmembers].id;
		if ((j->members[j->nmembers].name = strdup(o->members[j->nmembers].name)) == NULL)
			return -ENOMEM;
	}
	for (i = 0; i < o->nnames; i++, j->nnames++)
		if ((j->names[i] = strdup(o->names[i])) == NULL)
			return -ENOMEM;
	return 0;
}

/* Write a seal's rows inside an open transaction. */
static int
job_write(catalog_t *c, const struct seal_job *j)
{
	unsigned i;
	int rc;

	if ((rc = meta_blob_put(c->meta, &j->blob)) != 0)
		return rc;
	if (!j->has_obj)
		return 0;
	if ((rc = meta_object_put(c->meta, &j->obj)) != 0)
		return rc;
	for (i = 0; i < j->nmembers; i++)
		if ((rc = meta_member_put(c->meta, j->obj.id, j->members[i].name, j->members[i].id)) != 0)
			return rc;
	for (i = 0; i < j->nnames; i++)
		if ((rc = meta_name_put(c->meta, j->names[i], j->obj.id)) != 0)
			return rc;
	return 0;
}

/* Seal b in memory and copy its rows into j; with the catalog lock held.
 * 1: sealed, its rows to be committed; 0: discarded instead (logged). */
static int
seal_start(catalog_t *c, struct cblob *b, struct seal_job *j)
{
	struct cobject *o = b->owner;
	struct catalog_attr now;
	uint64_t used = 0;
	char msg[160];

	memset(j, 0, sizeof *j);
	if (b->cut_short || store_full(c->store)) {
		store_usage(c->store, &used);
		snprintf(msg, sizeof msg, "a write went past the memory limit (%llu of %llu bytes in use)",
		    (unsigned long long)used, (unsigned long long)c->cfg.memory_limit);
		catalog_blob_discard_locked(c, b, msg);
		return 0;
	}
	/* Its times are its file's: the last write's, or what utimensat
	 * set since (a copy that keeps its source's times). */
	if (catalog_blob_stat(c, b, &now) != 0) {
		catalog_blob_discard_locked(c, b, "its file is gone");
		return 0;
	}
	if (catalog_blob_reserve(c, b, now.size) != 0) {
		catalog_blob_discard_locked(c, b, "sealing it would pass the memory limit");
		return 0;
	}
	b->size = now.size;
	b->atime_ns = now.atime_ns;
	b->mtime_ns = now.mtime_ns;
	b->ctime_ns = now.ctime_ns;
	b->sealed = b->saving = 1;
	j->blob_id = b->id;
	catalog_blob_to_meta(b, &j->blob);
	if (o != NULL && catalog_object_data_blob(c, o) == b) {
		o->sealed = o->saving = 1;
		o->nbytes = now.size;
		o->atime_ns = b->atime_ns;
		o->mtime_ns = b->mtime_ns;
		o->ctime_ns = b->ctime_ns;
		if (job_fill(j, o) != 0) {
			job_free(j);
			b->sealed = o->sealed = 0;
			catalog_blob_discard_locked(c, b, "out of memory while sealing it");
			return 0;
		}
	}
	c->nunsealed--;
	c->nsealed++;
	/* Its bytes now count as sealed: counted in first, so that usage
	 * never dips meanwhile. */
	catalog_blob_resident(c, b, 1);
	catalog_blob_reserve(c, b, 0);
	c->blob_bytes += b->size;
	b->used_ns = util_now_ns();
	c->seals++;
	/* No invalidation: the kernel saw every byte written, and the
	 * attributes of data files do not change at sealing (the times were
	 * the file's already). */
	return 1;
}

/* After the commit (rc): the blob shows as sealed and its names are
 * ready, or it is discarded; without the catalog lock. */
static void
seal_done(catalog_t *c, const struct seal_job *j, int rc)
{
	char ids[ID_STR_LEN + 1];
	struct cblob *b;
	uint64_t oid = 0;

	if (rc == 0) {
		pthread_mutex_lock(&c->lock);
		if ((b = catalog_blob_find(c, j->blob_id)) != NULL) {
			b->saving = 0;
			if (b->owner != NULL && catalog_object_data_blob(c, b->owner) == b) {
				b->owner->saving = 0;
				oid = b->owner->id;
			}
		}
		pthread_mutex_unlock(&c->lock);
		catalog_names_changed(c, oid);
		catalog_spill_kick(c); /* more in memory: past the high-water mark? */
		return;
	}
	id_format(j->blob_id, ids);
	log_error("cannot record the seal of blob %s: %s", ids, strerror(-rc));
	pthread_mutex_lock(&c->lock);
	if ((b = catalog_blob_find(c, j->blob_id)) != NULL && !b->deleted) {
		b->opens++; /* keep b alive through the discard */
		catalog_blob_discard_locked(c, b, "its metadata could not be written");
		b->opens--;
		catalog_blob_maybe_free(c, b);
	}
	pthread_mutex_unlock(&c->lock);
}

/* Let go of one open of blob_id; the last writer's release seals it.
 * *queued: its rows go to the sealer's queue (1 returned: queued; set
 * to 0 when it cannot be).
 * Else, on 1, *j holds them and the transaction they go in is begun
 * (under the catalog lock, so that no other transaction comes between
 * the seal in memory and its rows; *rc its result): see seal_now. */
static int
release(catalog_t *c, uint64_t blob_id, int writable, struct seal_job *j, int *rc, int *queued)
{
	struct seal_job *q = NULL;
	struct csealer *s = &c->sealer;
	struct cblob *b;
	int sealing = 0;

	if (*queued && (q = calloc(1, sizeof *q)) == NULL)
		*queued = 0; /* out of memory: seal at once instead */
	pthread_mutex_lock(&c->lock);
	if ((b = catalog_blob_find(c, blob_id)) == NULL) {
		pthread_mutex_unlock(&c->lock);
		free(q);
		return 0;
	}
	if (writable && b->writers > 0)
		b->writers--;
	/* This handle still counts as an open while sealing, so a discard
	 * cannot free b under our feet. */
	if (writable && b->writers == 0 && !b->sealed && !b->deleted)
		sealing = seal_start(c, b, *queued ? q : j);
	if (b->opens > 0)
		b->opens--;
	b->used_ns = util_now_ns();
	catalog_blob_maybe_free(c, b);
	if (sealing && *queued) {
		/* Queued under the catalog lock: whoever sees b sealed and then
		 * begins a transaction finds its rows in the queue. */
		pthread_mutex_lock(&s->lock);
		*s->pending_tail = q;
		s->pending_tail = &q->next;
		s->queued++;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		q = NULL;
	} else if (sealing)
		*rc = catalog_tx_begin(c);
	pthread_mutex_unlock(&c->lock);
	free(q);
	return sealing;
}

/* Write and commit the rows of a seal that release began (rc: its
 * transaction's begin), without the catalog lock. */
static void
seal_now(catalog_t *c, struct seal_job *j, int rc)
{
	if (rc == 0) {
		if ((rc = job_write(c, j)) == 0)
			rc = catalog_tx_commit(c);
		else
			catalog_tx_rollback(c);
	}
	job_free(j);
	seal_done(c, j, rc);
}

void
catalog_release(catalog_t *c, uint64_t blob_id, int writable)
{
	struct seal_job j;
	int rc = 0, queued = 0;

	if (release(c, blob_id, writable, &j, &rc, &queued))
		seal_now(c, &j, rc);
}

void
catalog_release_deferred(catalog_t *c, uint64_t blob_id, int writable)
{
	struct seal_job j;
	int rc = 0, queued = c->sealer.running;

	/* Without the sealer (not running, or no memory for the job) the
	 * seal is committed at once, as catalog_release does. */
	if (release(c, blob_id, writable, &j, &rc, &queued) && !queued)
		seal_now(c, &j, rc);
}

/* Write the jobs from first up to end (NULL: all) in one transaction;
 * each one's rc is the transaction's. */
static void
commit_run(catalog_t *c, struct seal_job *first, const struct seal_job *end)
{
	struct seal_job *j;
	int rc;

	if ((rc = meta_begin(c->meta)) == 0) {
		for (j = first; j != end && rc == 0; j = j->next)
			rc = job_write(c, j);
		if (rc == 0)
			rc = meta_commit(c->meta); /* rolls back itself on failure */
		else
			meta_rollback(c->meta);
	}
	for (j = first; j != end; j = j->next)
		j->rc = rc;
}

/* Commit jobs in one transaction; on failure, each in its own, so that
 * one bad row does not cost the others their seal. */
static void
commit_jobs(catalog_t *c, struct seal_job *jobs)
{
	struct seal_job *j;

	commit_run(c, jobs, NULL);
	if (jobs->rc != 0 && jobs->next != NULL)
		for (j = jobs; j != NULL; j = j->next)
			commit_run(c, j, j->next);
}

void
catalog_seal_flush(catalog_t *c)
{
	struct csealer *s = &c->sealer;
	struct seal_job *jobs, *last;

	if (!s->running)
		return;
	pthread_mutex_lock(&s->lock);
	jobs = s->pending;
	s->pending = NULL;
	s->pending_tail = &s->pending;
	pthread_mutex_unlock(&s->lock);
	if (jobs == NULL)
		return;
	commit_jobs(c, jobs);
	for (last = jobs; last->next != NULL; last = last->next)
		;
	pthread_mutex_lock(&s->lock);
	last->next = s->written;
	s->written = jobs;
	s->commits++;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void *
sealer_main(void *arg)
{
	catalog_t *c = arg;
	struct csealer *s = &c->sealer;
	struct seal_job *done, *j;
	unsigned n;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->pending == NULL && s->written == NULL && !s->stop)
			pthread_cond_wait(&s->cond, &s->lock);
		if (s->pending == NULL && s->written == NULL)
			break; /* stopping, and nothing left */
		if (s->pending != NULL) {
			pthread_mutex_unlock(&s->lock);
			pthread_mutex_lock(&c->meta_lock);
			catalog_seal_flush(c);
			pthread_mutex_unlock(&c->meta_lock);
			pthread_mutex_lock(&s->lock);
		}
		done = s->written;
		s->written = NULL;
		pthread_mutex_unlock(&s->lock);
		for (n = 0; (j = done) != NULL; n++) {
			done = j->next;
			seal_done(c, j, j->rc);
			job_free(j);
			free(j);
		}
		pthread_mutex_lock(&s->lock);
		s->queued -= n;
		if (s->queued == 0)
			pthread_cond_broadcast(&s->idle);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int
catalog_sealer_start(catalog_t *c)
{
	struct csealer *s = &c->sealer;
	int rc;

	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	pthread_cond_init(&s->idle, NULL);
	s->pending_tail = &s->pending;
	s->running = 1; /* before the thread runs: its flushes look */
	if ((rc = pthread_create(&s->thread, NULL, sealer_main, c)) != 0) {
		log_error("cannot start the sealer thread: %s", strerror(rc));
		s->running = 0;
		pthread_cond_destroy(&s->idle);
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		return -rc;
	}
	return 0;
}

void
catalog_seal_stats(catalog_t *c, struct catalog_stats *st)
{
	struct csealer *s = &c->sealer;

	if (!s->running)
		return;
	pthread_mutex_lock(&s->lock);
	st->seal_commits = s->commits;
	st->seals_queued = s->queued;
	pthread_mutex_unlock(&s->lock);
}

void
catalog_seal_wait(catalog_t *c)
{
	struct csealer *s = &c->sealer;

	if (!s->running)
		return;
	pthread_mutex_lock(&s->lock);
	while (s->queued > 0)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

void
catalog_sealer_stop(catalog_t *c)
{
	struct csealer *s = &c->sealer;

	if (!s->running)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	s->running = 0;
	pthread_cond_destroy(&s->idle);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}
