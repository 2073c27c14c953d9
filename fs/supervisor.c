/*
 * supervisor: see supervisor.h. Two halves: the supervisor process (mount,
 * fork, wait, restart or stop) and what a worker keeps in the shared
 * region for its successor.
 *
 * The supervisor holds the /dev/fuse descriptor and the state dir's lock
 * (the open file description the daemon locked before it forked, so the
 * lock is never free between two workers); the worker writes its pid in
 * the lock file, with a second line "supervisor PID". A worker that exits
 * while the connection is alive (killed, crashed, or any exit status) is
 * replaced unless the supervisor itself was told to stop. The connection
 * ends when the file system is unmounted: the worker's read gets ENODEV,
 * it exits, and poll(2) on the descriptor reports POLLERR.
 *
 * Control-file requests (.vineyardfs/ctl) live in the worker that read
 * them; a copy of each one not answered yet is kept here so a successor
 * can answer it: a request is kept once its write was answered, marked
 * answered before the successor could see it twice, and dropped with the
 * descriptor's RELEASE. Locks: slock guards the ctl table and the free
 * slot list; backing-table calls are serialized by passthrough.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/hmap.h"
#include "core/id.h"
#include "core/log.h"
#include "fs/daemon.h"
#include "fs/fs.h"
#include "fs/fuse_ext.h"
#include "fs/passthrough.h"
#include "fs/supervisor.h"

#define SV_MAGIC       0x76667376u /* "vsfv" */
#define SV_INIT_MAX    256	   /* INIT request or reply, header included */
#define SV_CTL_MAX     64	   /* control-file requests kept at once */
#define SV_CTL_TEXT    4096	   /* bytes of one kept request */
#define SV_BACKING_MAX (1u << 22)  /* backing ids kept (a sparse 64 MiB) */
#define SV_FAST_MS     2000	   /* a worker that dies sooner failed fast */
#define SV_FAST_FREE   2	   /* fast failures in a row restarted at once */
#define SV_FAST_MAX    8	   /* fast failures in a row before giving up */
#define SV_STOP_MS     10000	   /* SIGTERM, then this long, then SIGKILL */

/* One control-file request of an open descriptor (fh). */
struct sv_ctl {
	_Atomic uint64_t fh; /* 0: free slot; stored last when taken */
	uint32_t uid, gid;
	_Atomic uint32_t len;	   /* bytes of text; stored after them */
	_Atomic uint32_t answered; /* a read got the reply: a write starts anew */
	uint32_t overflow;	   /* longer than text: never revived */
	uint32_t pad;
	_Atomic uint64_t read_unique; /* a read that may be running it; 0: none */
	char text[SV_CTL_TEXT];
};

/* One passthrough backing id registered on the connection. */
struct sv_backing {
	_Atomic uint64_t blob_id; /* 0: free; stored after id */
	int32_t id;
	uint32_t pad;
};

struct sv_shared {
	uint32_t magic;
	uint32_t generation; /* workers started; set by the supervisor */
	uint32_t init_reqlen;
	_Atomic uint32_t init_replylen; /* 0 until both are saved */
	unsigned char init_req[SV_INIT_MAX];
	unsigned char init_reply[SV_INIT_MAX];
	_Atomic uint32_t nbacking; /* slots used so far */
	uint32_t pad;
	struct sv_ctl ctl[SV_CTL_MAX];
	struct sv_backing backing[SV_BACKING_MAX];
};

static struct sv_shared *sv; /* NULL: not supervised */
static unsigned sv_gen;	     /* this worker's generation; 0 in the supervisor */
static int sv_fd = -1;	     /* /dev/fuse */

static pthread_mutex_t slock = PTHREAD_MUTEX_INITIALIZER;
static int *free_slots; /* backing slots freed or found free; guarded by slock */
static size_t nfree, capfree;
static atomic_uint nreading; /* ctl records with a read_unique */
static struct hmap revived;  /* earlier worker's fh -> the one standing for it;
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

/* A ctl write being handled on this thread, recorded once answered. */
static __thread struct {
	uint64_t unique, fh;
	uint32_t uid, gid;
	const char *data;
	size_t size;
} pending_write;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the supervisor process ---- */

/* Add one option to a comma-separated list; -1 when it does not fit. */
static int
opt_add(char *list, size_t size, const char *opt, size_t len)
{
	size_t n = strlen(list);

	if (n + len + 2 > size)
		return -1;
	if (n > 0)
		list[n++] = ',';
	memcpy(list + n, opt, len);
	list[n + len] = '\0';
	return 0;
}

/* Is opt (len bytes) in the comma-separated list? */
static int
opt_has(const char *list, const char *opt, size_t len)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n == len && memcmp(p, opt, len) == 0)
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* The mount(2) arguments for -o options as libfuse 3.14 builds them
 * (lib/mount.c): flags nosuid,nodev unless asked otherwise; kernel
 * options; fsname as the source and fuse.SUBTYPE as the type. Options for
 * libfuse itself are left to the worker's session. */
static int
mount_args(const char *fuse_opts, char *kopts, size_t ksize, unsigned long *flags, char *source, size_t ssize,
    char *type, size_t tsize)
{
	static const struct {
		const char *opt;
		unsigned long flag;
		int on;
	} mflags[] = {
		{ "rw", MS_RDONLY, 0 },
		{ "ro", MS_RDONLY, 1 },
		{ "suid", MS_NOSUID, 0 },
		{ "nosuid", MS_NOSUID, 1 },
		{ "dev", MS_NODEV, 0 },
		{ "nodev", MS_NODEV, 1 },
		{ "exec", MS_NOEXEC, 0 },
		{ "noexec", MS_NOEXEC, 1 },
		{ "async", MS_SYNCHRONOUS, 0 },
		{ "sync", MS_SYNCHRONOUS, 1 },
		{ "atime", MS_NOATIME, 0 },
		{ "noatime", MS_NOATIME, 1 },
		{ "dirsync", MS_DIRSYNC, 1 },
	};
	static const char *const kprefix[] = {
		"blksize=", "max_read=", "context=", "fscontext=", "defcontext=", "rootcontext="
	};
	const char *p = fuse_opts;
	size_t i, n;
	int done;

	*flags = MS_NOSUID | MS_NODEV;
	snprintf(source, ssize, "vineyardfs");
	snprintf(type, tsize, "fuse.vineyardfs");
	if ((geteuid() == 0 && opt_add(kopts, ksize, "allow_other", 11) != 0) ||
	    opt_add(kopts, ksize, "default_permissions", 19) != 0)
		return -1;
	for (; *p != '\0'; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		done = 0;
		for (i = 0; !done && i < sizeof mflags / sizeof mflags[0]; i++) {
			if (strlen(mflags[i].opt) == n && memcmp(p, mflags[i].opt, n) == 0) {
				*flags = mflags[i].on ? *flags | mflags[i].flag : *flags & ~mflags[i].flag;
				done = 1;
			}
		}
		for (i = 0; !done && i < sizeof kprefix / sizeof kprefix[0]; i++)
			if (n > strlen(kprefix[i]) && strncmp(p, kprefix[i], strlen(kprefix[i])) == 0) {
				if (opt_add(kopts, ksize, p, n) != 0)
					return -1;
				done = 1;
			}
		if (done)
			continue;
		if ((n == 11 && memcmp(p, "allow_other", n) == 0) ||
		    (n == 19 && memcmp(p, "default_permissions", n) == 0)) {
			if (!opt_has(kopts, p, n) && opt_add(kopts, ksize, p, n) != 0)
				return -1;
		} else if (n > 7 && strncmp(p, "fsname=", 7) == 0)
			snprintf(source, ssize, "%.*s", (int)(n - 7), p + 7);
		else if (n > 8 && strncmp(p, "subtype=", 8) == 0)
			snprintf(type, tsize, "fuse.%.*s", (int)(n - 8), p + 8);
		else if (n == 12 && memcmp(p, "auto_unmount", n) == 0)
			log_warn("-o auto_unmount needs fusermount3; with --supervise it is ignored");
		/* Anything else is libfuse's (the worker's session checks it). */
	}
	return 0;
}

/* Open /dev/fuse and mount mnt on it; the descriptor or -1. */
static int
mount_fuse(const char *mnt, const char *fuse_opts)
{
	char kopts[1400], source[256], type[256];
	unsigned long flags;
	struct stat st;
	int fd;

	if (stat(mnt, &st) != 0) {
		log_error("mount point %s: %s", mnt, strerror(errno));
		return -1;
	}
	if ((fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) < 0) {
		log_error("cannot open /dev/fuse: %s", strerror(errno));
		return -1;
	}
	snprintf(kopts, sizeof kopts, "fd=%d,rootmode=%o,user_id=%u,group_id=%u", fd,
	    (unsigned)(st.st_mode & S_IFMT), (unsigned)getuid(), (unsigned)getgid());
	if (mount_args(fuse_opts, kopts, sizeof kopts, &flags, source, sizeof source, type, sizeof type) !=
	    0) {
		log_error("-o options too long");
		close(fd);
		return -1;
	}
	if (mount(source, mnt, type, flags, kopts) != 0) {
		int err = errno;

		log_error("cannot mount %s: %s%s", mnt, strerror(err),
		    err == EPERM ? " (--supervise mounts by itself and needs CAP_SYS_ADMIN)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

/* Has the connection ended (unmounted, or aborted)? */
static int
connection_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

static void
describe(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)%s", WTERMSIG(status),
		    strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

/* Wait for worker pid to exit (1, with *status), or with pid 0 for
 * timeout_ms (0). SIGTERM, SIGINT and SIGHUP set *stop and pass SIGTERM
 * on to the worker, then SIGKILL if it is still there SV_STOP_MS later. */
static int
wait_worker(pid_t pid, const sigset_t *set, int64_t timeout_ms, int *stop, int *status)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1, left;
	struct timespec ts;
	int sig;

	for (;;) {
		if (pid > 0 && waitpid(pid, status, WNOHANG) == pid)
			return 1;
		left = deadline >= 0 ? deadline - now_ms() : -1;
		if (deadline >= 0 && left <= 0) {
			if (pid <= 0)
				return 0;
			log_warn("supervisor: worker %d ignores SIGTERM: killing it", (int)pid);
			kill(pid, SIGKILL);
			deadline = -1;
			continue;
		}
		if (left >= 0) {
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
			sig = sigtimedwait(set, NULL, &ts);
		} else
			sig = sigwaitinfo(set, NULL);
		if (sig != SIGTERM && sig != SIGINT && sig != SIGHUP)
			continue; /* SIGCHLD, EINTR, EAGAIN: look again */
		if (!*stop)
			log_info("supervisor: got signal %d: stopping", sig);
		*stop = 1;
		if (pid <= 0)
			return 0;
		kill(pid, SIGTERM);
		deadline = now_ms() + SV_STOP_MS;
	}
}

/* In the child just forked: become worker gen. */
static void
become_worker(const sigset_t *old)
{
	struct sigaction sa;
	size_t i;

	sv_gen = sv->generation;
	/* Reads the dead worker was answering: the kernel sends them again. */
	for (i = 0; i < SV_CTL_MAX; i++)
		if (atomic_load(&sv->ctl[i].fh) != 0 && atomic_load(&sv->ctl[i].read_unique) != 0)
			atomic_fetch_add(&nreading, 1);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	/* No libfuse signal handlers in a worker: a signal ends it, and the
	 * supervisor starts the next one (see daemon.c). */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_SETMASK, old, NULL);
}

int
supervisor_run(const char *mnt, const char *fuse_opts, int foreground, int *ready_fd)
{
	int stop = 0, status = 1, wstatus = 0, nfast = 0, memfd;
	sigset_t set, old;
	char what[128];

	memfd = memfd_create("vineyardfs-supervisor", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, sizeof *sv) != 0 ||
	    (sv = mmap(NULL, sizeof *sv, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0)) == MAP_FAILED) {
		log_error("cannot set up the supervisor's shared memory: %s", strerror(errno));
		sv = NULL;
		if (memfd >= 0)
			close(memfd);
		return 1;
	}
	close(memfd); /* the mapping stays, in every worker too */
	sv->magic = SV_MAGIC;
	if ((sv_fd = mount_fuse(mnt, fuse_opts)) < 0)
		return 1;
	log_info("supervisor: mounted %s (pid %d); starting the worker", mnt, (int)getpid());
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);

	for (;;) {
		int64_t started;
		pid_t pid;

		sv->generation++;
		if ((pid = fork()) < 0) {
			log_error("supervisor: cannot fork a worker: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			become_worker(&old);
			return -1;
		}
		started = now_ms();
		if (*ready_fd >= 0) {
			/* The first worker tells the command; the supervisor
			 * detaches like the daemon does. */
			close(*ready_fd);
			*ready_fd = -1;
			if (!foreground)
				daemon_detach();
		}
		wait_worker(pid, &set, -1, &stop, &wstatus);
		describe(wstatus, what, sizeof what);
		if (connection_gone(sv_fd)) {
			log_info("supervisor: worker %d %s; the file system is unmounted", (int)pid, what);
			status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 1;
			if (atomic_load(&sv->init_replylen) != 0)
				status = 0;
			break;
		}
		if (stop) {
			log_info("supervisor: worker %d %s; unmounting %s", (int)pid, what, mnt);
			status = 0;
			break;
		}
		if (atomic_load(&sv->init_replylen) == 0) {
			log_error("supervisor: worker %d %s before it answered the kernel's "
				  "INIT; giving up",
			    (int)pid, what);
			status = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0 ? WEXITSTATUS(wstatus) : 1;
			break;
		}
		nfast = now_ms() - started < SV_FAST_MS ? nfast + 1 : 0;
		if (nfast > SV_FAST_MAX) {
			log_error("supervisor: worker %d %s; %d workers in a row died within %d "
				  "ms: giving up",
			    (int)pid, what, nfast, SV_FAST_MS);
			break;
		}
		log_warn("supervisor: worker %d %s; starting worker %u on the same connection", (int)pid,
		    what, sv->generation + 1);
		if (nfast > SV_FAST_FREE) {
			/* Then 100 ms, 200 ms, ... (a request that kills every
			 * worker it is resent to ends here) */
			wait_worker(0, &set, 100 << (nfast - SV_FAST_FREE - 1), &stop, &wstatus);
			if (stop)
				break;
		}
	}
	if (!connection_gone(sv_fd) && umount2(mnt, MNT_DETACH) != 0 && errno != EINVAL)
		log_warn("supervisor: cannot unmount %s: %s", mnt, strerror(errno));
	close(sv_fd); /* the last reference: the connection ends */
	sv_fd = -1;
	return status;
}

pid_t
supervisor_of(pid_t pid)
{
	char path[64], buf[4096];
	int ppid = 0, found = 0;
	ssize_t n, i;
	FILE *f;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(buf, sizeof buf, f) != NULL)
		if (sscanf(buf, "PPid: %d", &ppid) == 1)
			break;
	fclose(f);
	if (ppid <= 1)
		return 0;
	/* A supervisor runs "vineyardfs mount --supervise ..." (its workers
	 * too, but a worker's parent is not a worker). */
	snprintf(path, sizeof path, "/proc/%d/cmdline", ppid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n > 0)
		buf[n] = '\0';
	for (i = 0; n > 0 && i < n; i += (ssize_t)strlen(buf + i) + 1) {
		if (strcmp(buf + i, "--supervise") == 0)
			found = 1;
	}
	return found ? (pid_t)ppid : 0;
}

/* ---- a worker: what it inherits ---- */

unsigned
supervisor_generation(void)
{
	return sv_gen;
}

int
supervisor_fuse_fd(void)
{
	return sv_fd;
}

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

/* ---- passthrough backing ids ---- */

int
supervisor_backing_add(uint64_t blob_id, int backing_id)
{
	int slot = -1;

	if (sv == NULL || sv_gen == 0)
		return -1;
	pthread_mutex_lock(&slock);
	if (nfree > 0)
		slot = free_slots[--nfree];
	else if (atomic_load(&sv->nbacking) < SV_BACKING_MAX)
		slot = (int)atomic_fetch_add(&sv->nbacking, 1);
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

/* Remember a free slot; with slock held. */
static void
slot_free(int slot)
{
	if (nfree == capfree) {
		size_t cap = capfree ? capfree * 2 : 256;
		int *v = realloc(free_slots, cap * sizeof *v);

		if (v == NULL)
			return; /* the slot stays unused */
		free_slots = v;
		capfree = cap;
	}
	free_slots[nfree++] = slot;
}

void
supervisor_backing_del(int slot)
{
	if (sv == NULL || slot < 0)
		return;
	atomic_store(&sv->backing[slot].blob_id, 0);
	pthread_mutex_lock(&slock);
	slot_free(slot);
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
			slot_free((int)i);
			pthread_mutex_unlock(&slock);
		}
	}
}

/* ---- control-file requests ---- */

/* The record of ctl handle fh, or NULL; with slock held. */
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

static void
revived_destroy(void *obj)
{
	file_handle_free(obj);
}

/* An earlier worker's ctl handle fh, met in request in (READ or WRITE):
 * a handle for it, or NULL when it cannot go on (see the rules below). */
static struct fh *
revive_ctl(const struct fuse_in_header *in, uint64_t fh)
{
	uid_t uid = in->uid;
	gid_t gid = in->gid;
	struct sv_ctl *r;
	struct fh *h;
	char *text = NULL;
	size_t len = 0;

	pthread_mutex_lock(&slock);
	r = ctl_find(fh);
	if (r != NULL) {
		uid = r->uid;
		gid = r->gid;
	}
	/* A request too long to keep is lost, until a reply would end it. A
	 * read needs the request, not answered already (the rest of that
	 * reply is gone), and either never started or safe to run again. */
	if ((r != NULL && r->overflow && !atomic_load(&r->answered)) ||
	    (in->opcode == FUSE_READ &&
		(r == NULL || atomic_load(&r->answered) ||
		    (atomic_load(&r->read_unique) != 0 && !is_wait(r))))) {
		pthread_mutex_unlock(&slock);
		return NULL;
	}
	/* A write goes on with the request so far, or starts a new one. */
	if (r != NULL && !atomic_load(&r->answered) && (len = atomic_load(&r->len)) > 0 &&
	    (text = malloc(len)) != NULL)
		memcpy(text, r->text, len);
	pthread_mutex_unlock(&slock);
	if (len > 0 && text == NULL)
		return NULL;
	if ((h = file_handle_new(FH_CTL)) == NULL || (h->ctl = control_ctl_open(uid, gid)) == NULL ||
	    (len > 0 && control_ctl_write(h->ctl, text, len) < 0)) {
		if (h != NULL)
			file_handle_free(h);
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
	struct fh *h = revive_ctl(in, fh);

	if (h == NULL)
		return;
	if (handle_adopt(fh, h, revived_destroy) != 0) {
		file_handle_free(h); /* revived by another thread meanwhile */
		return;
	}
	log_info("revived control-file handle %llu of an earlier worker", (unsigned long long)fh);
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
	case FUSE_READDIRPLUS:
		need = sizeof(struct fuse_read_in);
		break;
	case FUSE_WRITE:
		need = sizeof(struct fuse_write_in);
		break;
	case FUSE_FLUSH:
		need = sizeof(struct fuse_flush_in);
		break;
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
		need = sizeof(struct fuse_release_in);
		break;
	default:
		return NULL;
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

	if (streams_is(in->nodeid) || (in->opcode == FUSE_READ && (rd->flags & O_ACCMODE) != O_RDONLY) ||
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

/* A free ctl record for fh, taken; with slock held. */
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

size_t
supervisor_request(void *buf, size_t len)
{
	struct fuse_in_header *in = buf;
	uint64_t *fhp, fh;
	struct sv_ctl *r;

	if (sv == NULL || sv_gen == 0)
		return len;
	pending_write.unique = 0;
	if ((fhp = fh_of(in, len)) == NULL)
		return len;
	if (handle_is_foreign(*fhp) && !map_fh(in, fhp)) {
		if (in->nodeid == FS_INO_CTL && (in->opcode == FUSE_READ || in->opcode == FUSE_WRITE))
			revive_ctl_handle(in, *fhp);
		else if (in->opcode == FUSE_READ || in->opcode == FUSE_READDIR ||
		    in->opcode == FUSE_READDIRPLUS)
			return open_again(in, len, *fhp);
	}
	if (in->nodeid != FS_INO_CTL)
		return len;
	fh = *fhp;
	switch (in->opcode) {
	case FUSE_READ:
		/* From here the request may have run: see revive_ctl. */
		pthread_mutex_lock(&slock);
		if ((r = ctl_find(fh)) != NULL && atomic_exchange(&r->read_unique, in->unique) == 0)
			atomic_fetch_add(&nreading, 1);
		pthread_mutex_unlock(&slock);
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
		pthread_mutex_lock(&slock);
		if ((r = ctl_find(fh)) != NULL) {
			if (atomic_exchange(&r->read_unique, 0) != 0)
				atomic_fetch_sub(&nreading, 1);
			atomic_store(&r->fh, 0);
		}
		pthread_mutex_unlock(&slock);
		break;
	}
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

void
supervisor_reply(const void *o)
{
	const struct fuse_out_header *out = o;
	struct sv_ctl *r;
	size_t i;

	if (sv == NULL || sv_gen == 0 || out->unique == 0)
		return;
	if (pending_write.unique != 0 && out->unique == pending_write.unique) {
		/* A ctl write was answered: keep its bytes, as control.c did. */
		pending_write.unique = 0;
		if (out->error != 0)
			return;
		pthread_mutex_lock(&slock);
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
		pthread_mutex_unlock(&slock);
		return;
	}
	if (atomic_load(&nreading) == 0)
		return;
	pthread_mutex_lock(&slock);
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
	pthread_mutex_unlock(&slock);
}
