/*
 * ring: see ring.h. Each queue has a thread, pinned to its CPU, that leads
 * the queue's io_uring: it alone submits and reaps while it holds the
 * ring_lock. An entry is a header buffer and a payload buffer the kernel
 * fills with one request; the leader rebuilds the request as /dev/fuse
 * would give it (in_header, the opcode's struct, then the payload, which
 * is not moved: the payload buffer has headroom in front) and hands it to
 * libfuse.
 *
 * Replies find their entry by unique id in a table filled before libfuse
 * sees the request (the reply can race in from another thread). A reply
 * made on the queue's CPU while nobody leads its ring (the leader
 * answering its own request) is queued for the leader's next wait; one
 * from another thread goes on the queue's done list, and the leader is
 * woken by an eventfd it reads through the ring.
 *
 * A handler that blocks (an open that fetches from a peer) would hold up
 * every request on its CPU: each queue has helpers, pinned there too,
 * which lead the ring while its leader has been away too long.
 *
 * Locks: tlock guards the table; each queue's lock its done list, its
 * ring_lock the ring and the entry counts (held by the leader, let go
 * while it processes a request). An entry between its CQE and its commit
 * belongs to whoever holds it: the processing thread, then the replying
 * thread, then the done list.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <liburing.h>

#include "core/hmap.h"
#include "core/log.h"
#include "core/util.h"
#include "fs/fs.h"
#include "fs/fuse_ext.h"
#include "fs/fuse_uring_proto.h"
#include "fs/ring.h"

#define RING_PARAM "/sys/module/fuse/parameters/enable_uring"
#define RING_ENTS 8	   /* entries a queue starts with */
#define RING_LOW 4	   /* fewer free than this: register RING_ENTS more */
#define RING_MAX 1024	   /* entries per queue at most (each holds a parked request) */
#define RING_HELPERS 2	   /* threads per queue that lead while its leader is stuck */
#define RING_TICK_MS 50	   /* how long the ring may stay unled */
#define RING_HEADROOM 4096 /* in front of the payload: in_header + op struct */
#define RING_MIN_PAYLOAD 8192
#define RING_IDLE_SAMPLE_MS 10 /* how often a leader reads /proc/loadavg */
#define EV_TAG ((uint64_t)1)   /* user_data of the eventfd read; entries are pointers */

struct queue;

struct ent {
	struct queue *q;
	struct fuse_uring_req_header *hdr;
	char *area;	     /* mmap: RING_HEADROOM, the payload, then hdr */
	uint64_t commit_id;  /* of the request in userspace */
	struct ent *next;    /* on the done list */
	struct ent *all;     /* every entry of the queue, for the unmap */
	struct iovec iov[2]; /* REGISTER's, read at submit */
};

struct queue {
	int qid;
	pthread_t thread;
	int started;
	struct io_uring ring;
	int efd;	  /* replies from other threads wake the thread */
	uint64_t efd_buf; /* the eventfd read's target */
	pthread_mutex_t lock;
	struct ent *done; /* guarded by lock: replies to commit */
	/* The ring, its entries and counts belong to whoever holds ring_lock
	 * (the leader); it is let go while a request is processed. */
	pthread_mutex_t ring_lock;
	struct ent *ents;	     /* every entry, through ->all */
	unsigned nents, busy;	     /* registered; holding a request */
	_Atomic int64_t released_ns; /* when ring_lock was last let go */
	/* Helpers (helper_main), woken through wcond while requests run. */
	pthread_t helpers[RING_HELPERS];
	unsigned nhelpers;
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	atomic_int watching;
	/* The leader's last look at /proc/loadavg (cpu_idle_somewhere). */
	int64_t idle_sampled_ns;
	int idle_cpu;
	int sched_idle; /* the leader's policy is SCHED_IDLE now */
};

static int ring_mode = RING_OFF;
static const char *why = "not negotiated yet";
static atomic_int on; /* every queue registered */
static atomic_int stopping;
static atomic_int quiescing; /* ring_quiesce: no handler starts any more */
static atomic_int inflight;  /* handlers running on the ring threads */
static int offered;	     /* the kernel's INIT offered the ring */
static size_t payload_size;  /* from the INIT reply */
static int devfd = -1;
static struct fuse_session *session;
static int loadavg_fd = -1; /* /proc/loadavg, for submit_and_wait */
static unsigned ncpus_online;
static int wait_idle = 1; /* VINEYARDFS_RING_WAIT=normal clears it */
static struct queue *queues;
static unsigned nqueues;
static atomic_uint registered; /* queues whose entries are registered */
static atomic_int catching;    /* the table is in use: replies may be ring requests' */
static atomic_int replying;    /* replies between the table and their commit */
static atomic_uint failed;
static atomic_uint_fast64_t nrequests; /* requests that came through the ring */

static pthread_mutex_t tlock = PTHREAD_MUTEX_INITIALIZER;
static struct hmap table; /* unique -> struct ent *; guarded by tlock */

static __thread struct queue *my_queue; /* set on a queue's thread */

int
ring_active(void)
{
	return atomic_load(&on);
}

uint64_t
ring_requests(void)
{
	return atomic_load(&nrequests);
}

const char *
ring_reason(void)
{
	return ring_active() ? "" : why;
}

int
ring_mode_parse(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return RING_AUTO;
	if (strcmp(s, "on") == 0)
		return RING_ON;
	if (strcmp(s, "off") == 0)
		return RING_OFF;
	return -1;
}

void
ring_session(struct fuse_session *se)
{
	session = se;
}

/* The module parameter: 1 Y, 0 N, -1 absent (no CONFIG_FUSE_IO_URING). */
static int
param_get(void)
{
	char c = 0;
	int fd = open(RING_PARAM, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y' || c == '1';
}

int
ring_setup(int mode, int supervised)
{
	int p = param_get(), fd;

	ring_mode = mode;
	if (mode == RING_OFF) {
		why = "disabled by --fuse-uring off";
		return 0;
	}
	if (supervised) {
		ring_mode = RING_OFF;
		why = "not under --supervise (a restarted worker cannot take over ring entries)";
		if (mode == RING_ON) {
			log_error("--fuse-uring on cannot be used with --supervise: %s", why);
			return -EINVAL;
		}
		return 0;
	}
	if (p < 0) {
		why = "the kernel has no FUSE over io_uring (needs Linux 6.14+ with CONFIG_FUSE_IO_URING)";
		if (mode == RING_ON) {
			log_error("--fuse-uring on: %s", why);
			return -EOPNOTSUPP;
		}
		return 0;
	}
	if (p == 0 && mode == RING_AUTO) {
		ring_mode = RING_OFF;
		why = "the fuse module's enable_uring is N (echo Y > " RING_PARAM
		      ", or mount with --fuse-uring on as root)";
		log_info("FUSE over io_uring not used: %s", why);
		return 0;
	}
	if (p == 0) {
		/* Asked for it explicitly: the one case that changes the system. */
		fd = open(RING_PARAM, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "Y", 1) != 1) {
			int err = errno;

			if (fd >= 0)
				close(fd);
			log_error("--fuse-uring on: cannot set %s to Y: %s (as root: echo Y > %s)",
			    RING_PARAM, strerror(err), RING_PARAM);
			return -err;
		}
		close(fd);
		log_info("set %s to Y for --fuse-uring on", RING_PARAM);
	}
	return 0;
}

/* Put a commit of e's reply (or its first fetch) on q's ring. */
static int
prep_cmd(struct queue *q, struct ent *e, uint32_t op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	struct fuse_uring_cmd_req *cmd;

	if (sqe == NULL) {
		io_uring_submit(&q->ring);
		if ((sqe = io_uring_get_sqe(&q->ring)) == NULL)
			return -EBUSY;
	}
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, devfd, NULL, 0, 0);
	sqe->cmd_op = op;
	cmd = (struct fuse_uring_cmd_req *)sqe->cmd;
	memset(cmd, 0, sizeof *cmd);
	cmd->qid = (uint16_t)q->qid;
	cmd->commit_id = e->commit_id;
	if (op == FUSE_IO_URING_CMD_REGISTER) {
		e->iov[0].iov_base = e->hdr;
		e->iov[0].iov_len = sizeof *e->hdr;
		e->iov[1].iov_base = e->area + RING_HEADROOM;
		e->iov[1].iov_len = payload_size;
		sqe->addr = (uint64_t)(uintptr_t)e->iov;
		sqe->len = 2;
	} else
		q->busy--;
	io_uring_sqe_set_data(sqe, e);
	return 0;
}

static void
prep_efd(struct queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (sqe == NULL) {
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	if (sqe == NULL)
		return; /* cannot happen: the ring has room for every entry and this */
	io_uring_prep_read(sqe, q->efd, &q->efd_buf, sizeof q->efd_buf, 0);
	io_uring_sqe_set_data64(sqe, EV_TAG);
}

/* Copy the reply (iov, count) into e's buffers. */
static void
fill(struct ent *e, const struct iovec *iov, int count)
{
	struct fuse_out_header *out = (void *)e->hdr->in_out;
	char *p = e->area + RING_HEADROOM;
	size_t body = 0;
	int k;

	for (k = 1; k < count; k++)
		body += iov[k].iov_len;
	memcpy(out, iov[0].iov_base, sizeof *out);
	if (body > payload_size) {
		log_error("a reply of %zu bytes does not fit the ring's payload of %zu; answering EIO", body,
		    payload_size);
		out->error = -EIO;
		body = 0;
	} else
		for (k = 1; k < count; k++) {
			memcpy(p, iov[k].iov_base, iov[k].iov_len);
			p += iov[k].iov_len;
		}
	out->len = (uint32_t)(sizeof *out + body);
	e->hdr->ring_ent_in_out.payload_sz = (uint32_t)body;
}

/* Send e's reply (filled) back with its next fetch: on the queue's CPU
 * with nobody leading (the usual case: the leader answering its own
 * request), it goes with the leader's next wait; else the leader is woken
 * to commit it. */
static void
commit(struct ent *e)
{
	struct queue *q = e->q;
	uint64_t one = 1;

	if (my_queue == q && pthread_mutex_trylock(&q->ring_lock) == 0) {
		if (prep_cmd(q, e, FUSE_IO_URING_CMD_COMMIT_AND_FETCH) != 0)
			log_error("ring queue %d: no room to commit a reply", q->qid);
		pthread_mutex_unlock(&q->ring_lock);
		return;
	}
	pthread_mutex_lock(&q->lock);
	e->next = q->done;
	q->done = e;
	pthread_mutex_unlock(&q->lock);
	if (write(q->efd, &one, sizeof one) != (ssize_t)sizeof one)
		log_error("cannot wake ring queue %d: %s", q->qid, strerror(errno));
}

ssize_t
ring_reply(const struct iovec *iov, int count)
{
	const struct fuse_out_header *out = iov[0].iov_base;
	struct ent *e = NULL;
	size_t total = 0;
	int k;

	if (!atomic_load(&catching) || out->unique == 0)
		return 0; /* a notification, or the ring is not in use */
	pthread_mutex_lock(&tlock);
	if (atomic_load(&catching) && (e = hmap_find(&table, out->unique)) != NULL) {
		hmap_remove(&table, out->unique, e);
		atomic_fetch_add(&replying, 1); /* ring_stop waits for it */
	}
	pthread_mutex_unlock(&tlock);
	if (e == NULL)
		return 0; /* came through /dev/fuse (before the ring, or an INTERRUPT's) */
	for (k = 0; k < count; k++)
		total += iov[k].iov_len;
	fill(e, iov, count);
	commit(e);
	atomic_fetch_sub(&replying, 1);
	return (ssize_t)total;
}

/* A request arrived in e: rebuild it in front of its payload and let
 * libfuse handle it (its reply comes back through ring_reply). */
static void
process(struct ent *e)
{
	const struct fuse_in_header *in = (const void *)e->hdr->in_out;
	uint32_t pay = e->hdr->ring_ent_in_out.payload_sz;
	char *payload = e->area + RING_HEADROOM, *start;
	struct fuse_buf fb;
	size_t oplen, len;
	int rc;

	if (in->len < sizeof *in + pay || (oplen = in->len - sizeof *in - pay) > FUSE_URING_OP_IN_OUT_SZ ||
	    pay > payload_size) {
		log_error("ring queue %d: a malformed request (len %u, payload %u)", e->q->qid, in->len, pay);
		return; /* leaves the entry; the kernel times the request out at unmount */
	}
	start = payload - oplen - sizeof *in;
	memcpy(start, in, sizeof *in);
	memcpy(start + sizeof *in, e->hdr->op_in, oplen);
	e->commit_id = e->hdr->ring_ent_in_out.commit_id;
	pthread_mutex_lock(&tlock);
	rc = hmap_insert(&table, in->unique, e);
	pthread_mutex_unlock(&tlock);
	if (rc != 0) {
		struct fuse_out_header err = { .len = sizeof err, .error = -ENOMEM, .unique = in->unique };
		struct iovec v = { &err, sizeof err };

		log_error("ring queue %d: out of memory for a request; answering ENOMEM", e->q->qid);
		fill(e, &v, 1);
		commit(e);
		return;
	}
	len = iochain_request(start, in->len, RING_HEADROOM - (size_t)(start - e->area) + payload_size);
	atomic_fetch_add_explicit(&nrequests, 1, memory_order_relaxed);
	memset(&fb, 0, sizeof fb);
	fb.mem = start;
	fb.size = len;
	fuse_session_process_buf(session, &fb);
}

/* A request that came after ring_quiesce: the session is over and the
 * daemon is freeing what handlers use, so it is answered ENOTCONN, as the
 * kernel answers it once the mount is gone. FORGETs need no handle and
 * expect no answer: they go through. */
static void
refuse(struct ent *e)
{
	const struct fuse_in_header *in = (const void *)e->hdr->in_out;
	struct fuse_out_header err = { .len = sizeof err, .error = -ENOTCONN, .unique = in->unique };
	struct iovec v = { &err, sizeof err };

	if (in->opcode == FUSE_FORGET || in->opcode == FUSE_BATCH_FORGET) {
		process(e);
		return;
	}
	fill(e, &v, 1);
	commit(e);
}

/* Commit what other threads answered. */
static void
drain(struct queue *q)
{
	struct ent *e, *next;

	pthread_mutex_lock(&q->lock);
	e = q->done;
	q->done = NULL;
	pthread_mutex_unlock(&q->lock);
	for (; e != NULL; e = next) {
		next = e->next;
		if (prep_cmd(q, e, FUSE_IO_URING_CMD_COMMIT_AND_FETCH) != 0)
			log_error("ring queue %d: no room to commit a reply", q->qid);
	}
}

/* RING_ENTS more entries for q, registered at its next submit. A parked
 * request keeps its entry until answered, so the queue grows while few
 * are free. */
static int
add_entries(struct queue *q)
{
	size_t size = RING_HEADROOM + payload_size + sizeof(struct fuse_uring_req_header);
	unsigned i;
	int rc;

	for (i = 0; i < RING_ENTS; i++) {
		struct ent *e = calloc(1, sizeof *e);

		if (e == NULL)
			return -ENOMEM;
		e->q = q;
		/* Untouched pages cost nothing: most requests use a few. */
		e->area = mmap(
		    NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (e->area == MAP_FAILED) {
			log_error(
			    "ring queue %d: cannot map an entry's buffers: %s", q->qid, strerror(errno));
			free(e);
			return -ENOMEM;
		}
		e->hdr = (void *)(e->area + RING_HEADROOM + payload_size);
		e->all = q->ents;
		q->ents = e;
		if ((rc = prep_cmd(q, e, FUSE_IO_URING_CMD_REGISTER)) != 0)
			return rc;
		q->nents++;
	}
	return 0;
}

static int
queue_setup(struct queue *q)
{
	struct io_uring_cqe *cqe;
	int rc;
	if ((rc = io_uring_queue_init(RING_ENTS * 2 + 4, &q->ring, IORING_SETUP_SQE128)) < 0) {
		log_error("ring queue %d: io_uring_queue_init: %s", q->qid, strerror(-rc));
		return rc;
	}
	if ((rc = add_entries(q)) != 0)
		return rc;
	prep_efd(q);
	if ((rc = io_uring_submit(&q->ring)) < 0) {
		log_error("ring queue %d: cannot register its entries: %s", q->qid, strerror(-rc));
		return rc;
	}
	/* A REGISTER the kernel refuses completes at once; a good one waits
	 * for a request. */
	while (io_uring_peek_cqe(&q->ring, &cqe) == 0) {
		if (cqe->user_data != EV_TAG && cqe->res < 0) {
			log_error("ring queue %d: REGISTER: %s", q->qid, strerror(-cqe->res));
			return cqe->res;
		}
		break; /* a request already: the loop handles it */
	}
	return 0;
}

static void
unmap(struct queue *q)
{
	struct ent *e, *next;

	for (e = q->ents; e != NULL; e = next) {
		next = e->all;
		munmap(e->area, RING_HEADROOM + payload_size + sizeof *e->hdr);
		free(e);
	}
	q->ents = NULL;
}

/* Some CPU idle? From the running count of /proc/loadavg (this thread
 * included), read at most every RING_IDLE_SAMPLE_MS; 0 when unknown. */
static int
cpu_idle_somewhere(struct queue *q)
{
	char buf[128], *slash;
	int64_t now = util_mono_ns();
	ssize_t n;
	long running;

	if (now - q->idle_sampled_ns < RING_IDLE_SAMPLE_MS * 1000000LL)
		return q->idle_cpu;
	q->idle_sampled_ns = now;
	q->idle_cpu = 0;
	if (loadavg_fd < 0 || (n = pread(loadavg_fd, buf, sizeof buf - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	/* "0.12 0.10 0.05 2/345 6789": running/total is the fourth field. */
	if ((slash = strchr(buf, '/')) == NULL)
		return 0;
	while (slash > buf && slash[-1] >= '0' && slash[-1] <= '9')
		slash--;
	running = strtol(slash, NULL, 10);
	q->idle_cpu = running < (long)ncpus_online;
	return q->idle_cpu;
}

/* The leader's wait for the next request, which also sends the replies
 * prepared (COMMIT_AND_FETCH). A reply wakes its caller while this thread
 * still runs on the caller's CPU, so the scheduler moves the caller to an
 * idle CPU, if there is one, and every round trip then wakes a halted CPU
 * (tens of µs on a VM). A leader that is SCHED_IDLE leaves its CPU
 * counted as free: the caller stays, and preempts it. So the leader is
 * SCHED_IDLE while some CPU is idle, and stays so while it handles the
 * next request (its caller waits for it; switching back and forth cost
 * 1.2 µs a request here). Without an idle CPU it is a normal thread: on a
 * busy CPU a SCHED_IDLE thread waits behind every other task, and the
 * caller stays anyway. */
static int
submit_and_wait(struct queue *q)
{
	struct sched_param sp = { 0 };
	int idle = wait_idle && cpu_idle_somewhere(q);

	if (idle != q->sched_idle && sched_setscheduler(0, idle ? SCHED_IDLE : SCHED_OTHER, &sp) == 0)
		q->sched_idle = idle;
	return io_uring_submit_and_wait(&q->ring, 1);
}

/* Lead q's ring (ring_lock held, and held again on return): wait for the
 * next request (up to ts; NULL: no limit) and process it with the ring
 * unlocked, so that a helper can lead meanwhile. 1: one processed; 0:
 * the time ran out; -1: the ring is stopping. */
static int
lead(struct queue *q, struct __kernel_timespec *ts)
{
	struct io_uring_cqe *cqe;
	struct ent *e = NULL;
	uint64_t tag;
	int rc, res;

	while (e == NULL) {
		if (atomic_load(&stopping))
			return -1;
		if (q->nents - q->busy < RING_LOW && q->nents < RING_MAX && add_entries(q) != 0)
			log_warn("ring queue %d: cannot add entries (%u, all busy)", q->qid, q->nents);
		if (io_uring_peek_cqe(&q->ring, &cqe) != 0) {
			if (ts != NULL)
				rc = io_uring_submit_and_wait_timeout(&q->ring, &cqe, 1, ts, NULL);
			else
				rc = submit_and_wait(q);
			if (rc == -ETIME)
				return 0;
			if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
				log_error("ring queue %d: %s", q->qid, strerror(-rc));
				atomic_store(&stopping, 1);
				return -1;
			}
			if (io_uring_peek_cqe(&q->ring, &cqe) != 0)
				continue;
		}
		tag = cqe->user_data;
		res = cqe->res;
		io_uring_cqe_seen(&q->ring, cqe);
		if (tag == EV_TAG) {
			drain(q);
			prep_efd(q);
		} else if (res == -ENOTCONN) { /* unmounted */
			atomic_store(&stopping, 1);
		} else if (res < 0) {
			log_error("ring queue %d: an entry failed: %s", q->qid, strerror(-res));
		} else {
			e = (void *)(uintptr_t)tag;
			q->busy++;
		}
	}
	if (!atomic_load(&q->watching)) {
		/* A request runs: the helpers watch for a stall (at most once a
		 * second, see helper_main). */
		pthread_mutex_lock(&q->wlock);
		atomic_store(&q->watching, 1);
		pthread_cond_broadcast(&q->wcond);
		pthread_mutex_unlock(&q->wlock);
	}
	atomic_store(&q->released_ns, util_mono_ns());
	pthread_mutex_unlock(&q->ring_lock);
	/* Counted before quiescing is read, so ring_quiesce either sees
	 * this handler or this thread sees it quiescing. */
	atomic_fetch_add(&inflight, 1);
	if (atomic_load(&quiescing))
		refuse(e);
	else
		process(e);
	atomic_fetch_sub(&inflight, 1);
	pthread_mutex_lock(&q->ring_lock);
	return 1;
}

static void
pin(struct queue *q)
{
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(q->qid, &cpus);
	if (pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus) != 0)
		log_debug("ring queue %d: cannot pin to its CPU (offline?)", q->qid);
}

/* A helper of q: while requests run, it looks every RING_TICK_MS whether
 * the ring has been left unled that long (its leader in a handler that
 * blocks, such as an open that fetches from a peer) and then leads it for
 * a while itself, so other requests on this CPU go on. */
static void *
helper_main(void *arg)
{
	struct queue *q = arg;
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = RING_TICK_MS * 1000000L };
	struct timespec tick = { .tv_sec = 0, .tv_nsec = RING_TICK_MS * 1000000L };
	unsigned quiet = 0;

	my_queue = q;
	pin(q);
	while (!atomic_load(&stopping)) {
		pthread_mutex_lock(&q->wlock);
		while (!atomic_load(&q->watching) && !atomic_load(&stopping))
			pthread_cond_wait(&q->wcond, &q->wlock);
		pthread_mutex_unlock(&q->wlock);
		nanosleep(&tick, NULL);
		if (pthread_mutex_trylock(&q->ring_lock) != 0) {
			quiet++; /* led: nobody is stuck */
		} else {
			/* Unled: its leader is in a handler; it may stop
			 * watching only once the ring is led again. */
			quiet = 0;
			if (util_mono_ns() - atomic_load(&q->released_ns) > RING_TICK_MS * 1000000L) {
				while (lead(q, &ts) > 0)
					;
				atomic_store(&q->released_ns, util_mono_ns());
			}
			pthread_mutex_unlock(&q->ring_lock);
		}
		if (quiet > 1000 / RING_TICK_MS) {
			atomic_store(&q->watching, 0);
			quiet = 0;
		}
	}
	return NULL;
}

static void *
queue_main(void *arg)
{
	struct queue *q = arg;
	unsigned i;

	my_queue = q;
	pin(q);
	pthread_mutex_lock(&q->ring_lock);
	if (queue_setup(q) != 0) {
		pthread_mutex_unlock(&q->ring_lock);
		atomic_fetch_add(&failed, 1);
		return NULL;
	}
	for (i = 0; i < RING_HELPERS; i++)
		if (pthread_create(&q->helpers[i], NULL, helper_main, q) == 0)
			q->nhelpers++;
	if (atomic_fetch_add(&registered, 1) + 1 == nqueues && atomic_load(&failed) == 0) {
		atomic_store(&on, 1);
		log_info("FUSE over io_uring: %u queues, %d entries each to start", nqueues, RING_ENTS);
	}
	while (lead(q, NULL) >= 0)
		;
	pthread_mutex_unlock(&q->ring_lock);
	pthread_mutex_lock(&q->wlock);
	pthread_cond_broadcast(&q->wcond);
	pthread_mutex_unlock(&q->wlock);
	for (i = 0; i < q->nhelpers; i++)
		pthread_join(q->helpers[i], NULL);
	io_uring_queue_exit(&q->ring);
	return NULL;
}

/* The highest possible CPU + 1: the kernel has one queue per possible CPU. */
static unsigned
possible_cpus(void)
{
	char buf[256], *p;
	unsigned long hi = 0, v;
	ssize_t n;
	int fd = open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return (unsigned)sysconf(_SC_NPROCESSORS_CONF);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (p = buf; *p != '\0';) {
		v = strtoul(p, &p, 10);
		hi = v > hi ? v : hi;
		if (*p == '-' || *p == ',')
			p++;
		else
			break;
	}
	return (unsigned)hi + 1;
}

/* After the INIT reply reached the kernel: a thread per queue. */
static void
start_queues(void)
{
	const char *env;
	unsigned i;
	int rc;

	nqueues = possible_cpus();
	ncpus_online = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if ((env = getenv("VINEYARDFS_RING_WAIT")) != NULL && strcmp(env, "normal") == 0) {
		wait_idle = 0;
		log_info("FUSE over io_uring: the ring threads run as normal threads (VINEYARDFS_RING_WAIT)");
	}
	if ((loadavg_fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC)) < 0)
		log_warn(
		    "cannot open /proc/loadavg (%s): ring threads wait as normal threads", strerror(errno));
	hmap_init(&table);
	atomic_store(&catching, 1);
	if ((queues = calloc(nqueues, sizeof *queues)) == NULL) {
		why = "out of memory for the ring queues";
		goto fail;
	}
	for (i = 0; i < nqueues; i++) {
		struct queue *q = &queues[i];

		q->qid = (int)i;
		q->ring.ring_fd = -1;
		pthread_mutex_init(&q->lock, NULL);
		pthread_mutex_init(&q->ring_lock, NULL);
		pthread_mutex_init(&q->wlock, NULL);
		pthread_cond_init(&q->wcond, NULL);
		if ((q->efd = eventfd(0, EFD_CLOEXEC)) < 0 ||
		    (rc = pthread_create(&q->thread, NULL, queue_main, q)) != 0) {
			why = "cannot start the ring threads";
			goto fail;
		}
		q->started = 1;
	}
	why = "the ring queues did not register";
	return;
fail:
	log_error("FUSE over io_uring: %s; requests stay on /dev/fuse", why);
	if (ring_mode == RING_ON)
		fuse_session_exit(session);
}

/* The kernel's INIT: is the ring on offer? */
static size_t
filter_request(void *buf, size_t len, size_t size)
{
	const struct fuse_in_header *in = buf;
	const struct fuse_ext_init_in *init = (const void *)(in + 1);

	(void)size;
	if (in->opcode != FUSE_INIT || len < sizeof *in + offsetof(struct fuse_ext_init_in, unused))
		return len;
	offered = (init->flags & FUSE_INIT_EXT) && (init->flags2 & FUSE_URING_INIT_FLAG2);
	if (ring_mode != RING_OFF && !offered)
		why = "the kernel's INIT does not offer FUSE over io_uring";
	return len;
}

/* The INIT reply asks for the ring; the payload buffers fit max_write. */
static int
filter_reply(struct iochain_reply *r)
{
	const struct fuse_out_header *out = r->iov[0].iov_base;
	struct fuse_ext_init_out *init;
	size_t len;

	if (r->opcode != FUSE_INIT || out->error != 0 || ring_mode == RING_OFF || !offered)
		return 0;
	init = iochain_reply_body(r, &len);
	if (init == NULL || len < sizeof *init || !(init->flags & FUSE_INIT_EXT) ||
	    iochain_reply_own(r) != 0) {
		why = "libfuse did not negotiate the extended INIT";
		return 0;
	}
	init = (void *)r->body;
	init->flags2 |= FUSE_URING_INIT_FLAG2;
	payload_size = init->max_write;
	if ((size_t)init->max_pages * 4096 > payload_size)
		payload_size = (size_t)init->max_pages * 4096;
	if (payload_size < RING_MIN_PAYLOAD)
		payload_size = RING_MIN_PAYLOAD;
	return 0;
}

static void
filter_sent(const struct iochain_reply *r)
{
	const struct fuse_ext_init_out *init;
	size_t len;

	if (r->opcode != FUSE_INIT || ring_mode == RING_OFF || payload_size == 0)
		return;
	init = iochain_reply_body(r, &len);
	if (init != NULL && len >= sizeof *init && (init->flags2 & FUSE_URING_INIT_FLAG2))
		start_queues();
}

static int
filter_start(int fd, int passthrough)
{
	(void)passthrough;
	devfd = fd;
	return 0;
}

void
ring_quiesce(void)
{
	int64_t since = util_mono_ns();
	int told = 0;

	atomic_store(&quiescing, 1);
	while (atomic_load(&inflight) > 0) {
		if (!told && util_mono_ns() - since > 5000000000LL) {
			log_warn("unmounting: waiting for %d request(s) still running on the ring",
			    atomic_load(&inflight));
			told = 1;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

void
ring_stop(void)
{
	unsigned i;
	uint64_t one = 1;

	atomic_store(&stopping, 1);
	atomic_store(&on, 0);
	/* No reply finds an entry from now on; those that did are done
	 * before the entries go. */
	pthread_mutex_lock(&tlock);
	atomic_store(&catching, 0);
	pthread_mutex_unlock(&tlock);
	while (atomic_load(&replying) > 0)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	for (i = 0; i < nqueues && queues != NULL; i++) {
		if (!queues[i].started)
			continue;
		if (write(queues[i].efd, &one, sizeof one) < 0) {
			/* the thread is gone already */
		}
		pthread_join(queues[i].thread, NULL);
		close(queues[i].efd);
		unmap(&queues[i]);
	}
	if (loadavg_fd >= 0)
		close(loadavg_fd);
	loadavg_fd = -1;
	why = "stopped";
}

const struct iochain_filter ring_filter = {
	.name = "ring",
	.start = filter_start,
	.request = filter_request,
	.reply = filter_reply,
	.sent = filter_sent,
};
