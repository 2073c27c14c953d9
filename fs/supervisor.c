/*
 * supervisor: see supervisor.h. This file is the supervisor process:
 * mount, fork, wait, restart or stop; what a worker keeps in the shared
 * region for its successor is in supervisor_worker.c, the region's layout
 * in supervisor_i.h.
 *
 * The supervisor holds the /dev/fuse descriptor and the state dir's lock
 * (the open file description the daemon locked before it forked, so the
 * lock is never free between two workers); the worker writes its pid in
 * the lock file, with a second line "supervisor PID". A worker that exits
 * while the connection is alive (killed, crashed, or any exit status) is
 * replaced unless the supervisor itself was told to stop. The connection
 * ends when the file system is unmounted: the worker's read gets ENODEV,
 * it exits, and poll(2) on the descriptor reports POLLERR. Before each
 * worker it forks the process that writes that worker's notifications
 * (supervisor_relay.c), and reaps it after the worker.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "fs/supervisor.h"
#include "fs/supervisor_i.h"

#define SV_FAST_MS 2000	 /* a worker that dies sooner failed fast */
#define SV_FAST_FREE 2	 /* fast failures in a row restarted at once */
#define SV_FAST_MAX 8	 /* fast failures in a row before giving up */
#define SV_STOP_MS 10000 /* SIGTERM, then this long, then SIGKILL */

struct sv_shared *sv; /* see supervisor_i.h */
unsigned sv_gen;
int sv_fd = -1;
int sv_notify_fd = -1;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
		relay_reap();
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

/* The workers are gone: let their relays finish their last writes. One
 * still in the kernel after SV_STOP_MS waits for a directory whose request
 * nobody will answer; it ends when that request does (its caller is
 * interrupted, or the connection aborted in /sys/fs/fuse/connections). */
static void
wait_relays(const sigset_t *set)
{
	int64_t deadline = now_ms() + SV_STOP_MS, left;
	struct timespec ts;
	int alive;

	while ((alive = relay_reap()) > 0 && (left = deadline - now_ms()) > 0) {
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		sigtimedwait(set, NULL, &ts);
	}
	if (alive > 0)
		log_warn("supervisor: %d notification relay(s) still wait in the kernel for a directory "
			 "lock; leaving them",
		    alive);
}

/* In the child just forked: become worker gen. */
static void
become_worker(const sigset_t *old)
{
	struct sigaction sa;

	sv_gen = sv->generation;
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
supervisor_run(const char *mnt, const char *fuse_opts, void (*detach)(void), int *ready_fd)
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
		relay_start(sv_fd, &sv_notify_fd);
		if ((pid = fork()) < 0) {
			log_error("supervisor: cannot fork a worker: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			become_worker(&old);
			return -1;
		}
		if (sv_notify_fd >= 0)
			close(sv_notify_fd); /* the relay sees EOF when the worker exits */
		sv_notify_fd = -1;
		started = now_ms();
		if (*ready_fd >= 0) {
			/* The first worker tells the command; the supervisor
			 * detaches like the daemon does. */
			close(*ready_fd);
			*ready_fd = -1;
			if (detach != NULL)
				detach();
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
	if (sv_notify_fd >= 0)
		close(sv_notify_fd);
	sv_notify_fd = -1;
	close(sv_fd); /* with the relays', the last reference: the connection ends */
	sv_fd = -1;
	wait_relays(&set);
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
