/*
 * notify: kernel cache invalidations. The catalog asks for them while it
 * holds its lock, often inside a request whose directory the kernel has
 * locked; sending them from that thread could deadlock, so they are queued
 * and sent by a thread of their own.
 *
 * Entries are sent one by one, in order; under --supervise the
 * supervisor's relay process writes them (supervisor_relay.c says why:
 * the kernel may keep such a write waiting across a crash of this
 * worker). The attributes of the fixed directories (their times move with
 * every create) are coalesced: at most one invalidation per directory
 * every NOTIFY_ATTR_MS, so that a stream of creates costs the kernel a
 * few hundred writes a second, not one each.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <linux/fuse.h>

#include "core/log.h"
#include "core/util.h"
#include "fs/fs.h"
#include "fs/supervisor.h"

struct note {
	struct note *next;
	uint64_t parent;
	char *name;
};

static pthread_mutex_t nlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ncond = PTHREAD_COND_INITIALIZER;
static struct note *head, **tail = &head; /* guarded by nlock */
static int stopping, running;		  /* guarded by nlock */
static uint64_t nqueued, nsent;		  /* guarded by nlock */
static uint64_t sending;		  /* parent of the note being sent, 0: none; nlock */
static pthread_cond_t nsent_cond = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static struct fuse_session *nse;

#define NOTIFY_ATTR_MS 10
#define NOTIFY_ATTR_INOS 64   /* inodes below this are coalesced */
static uint64_t attr_pending; /* bit i: inode i is stale; nlock */
static int64_t attr_sent_ns;  /* the last batch (monotonic); nlock */

/* Send the pending attribute invalidations, with nlock held; or, if the
 * last batch is too recent, say in how many ns to try again (else 0). */
static int64_t
send_attrs(void)
{
	int64_t now = util_mono_ns();
	uint64_t bits = attr_pending;
	unsigned i;

	if (bits == 0 || stopping)
		return 0;
	if (now - attr_sent_ns < NOTIFY_ATTR_MS * 1000000)
		return attr_sent_ns + NOTIFY_ATTR_MS * 1000000 - now;
	attr_pending = 0;
	attr_sent_ns = now;
	pthread_mutex_unlock(&nlock);
	for (i = 0; i < NOTIFY_ATTR_INOS; i++)
		if (bits & (UINT64_C(1) << i))
			fuse_lowlevel_notify_inval_inode(nse, i, -1, 0); /* attributes only */
	pthread_mutex_lock(&nlock);
	return 0;
}

/* FUSE_NOTIFY_INVAL_ENTRY as it goes on the wire. */
struct entry_msg {
	struct fuse_out_header h;
	struct fuse_notify_inval_entry_out e;
	char name[4096];
};

/* Invalidate parent's entry name: through the relay when there is one. */
static void
send_entry(uint64_t parent, const char *name)
{
	struct entry_msg m;
	size_t len = strlen(name);

	if (len < sizeof m.name) {
		memset(&m, 0, offsetof(struct entry_msg, name));
		m.h.len = (uint32_t)(offsetof(struct entry_msg, name) + len + 1);
		m.h.error = FUSE_NOTIFY_INVAL_ENTRY;
		m.e.parent = parent;
		m.e.namelen = (uint32_t)len;
		memcpy(m.name, name, len + 1);
		if (supervisor_notify(&m, m.h.len) != -ENOTCONN)
			return; /* written, or refused (the kernel had no such entry) */
	}
	fuse_lowlevel_notify_inval_entry(nse, parent, name, len);
}

static void *
notify_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&nlock);
	for (;;) {
		struct note *n;
		int64_t wait_ns = send_attrs();

		if (head == NULL && stopping)
			break;
		if (head == NULL) {
			if (wait_ns > 0) {
				struct timespec ts = util_ns_ts(util_now_ns() + wait_ns);

				pthread_cond_timedwait(&ncond, &nlock, &ts);
			} else if (attr_pending == 0)
				pthread_cond_wait(&ncond, &nlock);
			continue;
		}
		n = head;
		head = n->next;
		if (head == NULL)
			tail = &head;
		sending = n->parent;
		pthread_mutex_unlock(&nlock);
		send_entry(n->parent, n->name);
		free(n->name);
		free(n);
		pthread_mutex_lock(&nlock);
		sending = 0;
		nsent++;
		pthread_cond_broadcast(&nsent_cond);
	}
	pthread_mutex_unlock(&nlock);
	return NULL;
}

int
notify_start(struct fuse_session *se)
{
	int rc;

	nse = se;
	if ((rc = pthread_create(&thread, NULL, notify_main, NULL)) != 0)
		return -rc;
	running = 1;
	return 0;
}

void
notify_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&nlock);
	stopping = 1;
	pthread_cond_broadcast(&nsent_cond);
	/* Nothing is listening any more: drop what is queued. */
	while (head != NULL) {
		struct note *n = head;

		head = n->next;
		free(n->name);
		free(n);
	}
	tail = &head;
	pthread_cond_signal(&ncond);
	pthread_mutex_unlock(&nlock);
	pthread_join(thread, NULL);
	running = 0;
}

void
notify_entry(uint64_t parent, const char *name)
{
	struct note *n = calloc(1, sizeof *n);

	if (n == NULL || (n->name = strdup(name)) == NULL) {
		free(n);
		log_warn("out of memory: a kernel cache invalidation was dropped");
		return;
	}
	n->parent = parent;
	pthread_mutex_lock(&nlock);
	if (!running || stopping) {
		pthread_mutex_unlock(&nlock);
		free(n->name);
		free(n);
		return;
	}
	*tail = n;
	tail = &n->next;
	nqueued++;
	pthread_cond_signal(&ncond);
	pthread_mutex_unlock(&nlock);
}

void
notify_attr_now(uint64_t ino)
{
	int rc;

	pthread_mutex_lock(&nlock);
	rc = running && !stopping;
	pthread_mutex_unlock(&nlock);
	/* No lock of the kernel's is taken for attributes: safe from any
	 * request. -ENOENT: the kernel did not know the inode. */
	if (rc && (rc = fuse_lowlevel_notify_inval_inode(nse, ino, -1, 0)) != 0 && rc != -ENOENT)
		log_debug("attribute invalidation of inode %llu: %s", (unsigned long long)ino, strerror(-rc));
}

void
notify_attr(uint64_t ino)
{
	if (ino >= NOTIFY_ATTR_INOS) {
		log_warn("notify_attr: inode %llu is not a fixed one; not sent", (unsigned long long)ino);
		return;
	}
	pthread_mutex_lock(&nlock);
	if (running && !stopping && !(attr_pending & (UINT64_C(1) << ino))) {
		attr_pending |= UINT64_C(1) << ino;
		pthread_cond_signal(&ncond);
	}
	pthread_mutex_unlock(&nlock);
}

void
notify_flush_unless(uint64_t locked)
{
	struct note *n;
	uint64_t upto;

	pthread_mutex_lock(&nlock);
	upto = nqueued;
	for (n = head; n != NULL; n = n->next)
		if (n->parent == locked)
			break;
	/* One of them, or the one being sent, would wait for the directory
	 * our caller holds. */
	while (n == NULL && sending != locked && running && !stopping && nsent < upto)
		pthread_cond_wait(&nsent_cond, &nlock);
	pthread_mutex_unlock(&nlock);
}

void
notify_flush(void)
{
	uint64_t upto;

	pthread_mutex_lock(&nlock);
	upto = nqueued;
	while (running && !stopping && nsent < upto)
		pthread_cond_wait(&nsent_cond, &nlock);
	pthread_mutex_unlock(&nlock);
}
