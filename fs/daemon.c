/*
 * daemon: see daemon.h. Without -f the command forks at once; the child
 * sets everything up and mounts, then tells the parent through a pipe, so
 * "vineyardfs mount ... && ls MOUNTPOINT" always works and a failure is
 * reported by the command itself with its reason.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/magic.h>

#include "core/cluster.h"
#include "core/log.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "core/vec.h"
#include "fs/daemon.h"
#include "fs/fs.h"
#include "fs/options.h"
#include "fs/passthrough.h"
#include "fs/ring.h"
#include "fs/supervisor.h"
#include "include/vineyardfs.h"

void
daemon_detach(void)
{
	int fd;

	log_detach();
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (chdir("/") != 0) {
		/* not fatal */
	}
}

/* Take the state dir's lock; the fd stays open for the daemon's life. */
static int
lock_state(const char *dir)
{
	char path[PATH_MAX], buf[32];
	int fd, rc;
	ssize_t n;

	if ((rc = util_mkdirs(dir, 0755)) != 0) {
		log_error("cannot create state dir %s: %s", dir, strerror(-rc));
		return -1;
	}
	if (snprintf(path, sizeof path, "%s/lock", dir) >= (int)sizeof path) {
		log_error("state dir path too long: %s", dir);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(fd, buf, sizeof buf - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_error("state dir %s is in use by vineyardfs pid %s", dir, buf[0] ? buf : "?");
		close(fd);
		return -1;
	}
	return fd;
}

/* The pid that serves the mount; a supervised worker adds its supervisor's. */
static void
write_pid(int fd)
{
	char buf[64];
	int n = fs.generation == 0
		    ? snprintf(buf, sizeof buf, "%d\n", (int)getpid())
		    : snprintf(buf, sizeof buf, "%d\nsupervisor %d\n", (int)getpid(), (int)getppid());

	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		log_warn("cannot record the pid in the lock file: %s", strerror(errno));
}

/* Is mnt the mount point of a vineyardfs (per /proc/self/mountinfo)? */
static int
is_vineyardfs_mount(const char *mnt)
{
	char line[4096], point[PATH_MAX], fstype[64];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, f) != NULL) {
		char *sep = strstr(line, " - ");

		/* Fields: id parent dev root point opts ... - fstype source opts */
		if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		found = strcmp(point, mnt) == 0 && strcmp(fstype, "fuse.vineyardfs") == 0;
	}
	fclose(f);
	return found;
}

/* Deal with what is mounted on mnt already. A mount left by a crashed
 * daemon answers ENOTCONN: detach it. statfs(2) always reaches the FUSE
 * daemon, where stat(2) may be answered from the kernel's cache. A live
 * vineyardfs there is an error: mounting over it would hide it. */
static int
clear_stale_mount(const char *mnt)
{
	struct statfs sf;
	pid_t pid;

	if (statfs(mnt, &sf) == 0) {
		if (sf.f_type == FUSE_SUPER_MAGIC && is_vineyardfs_mount(mnt)) {
			log_error("%s is already a live vineyardfs mount; unmount it first", mnt);
			return -1;
		}
		return 0;
	}
	if (errno != ENOTCONN)
		return 0;
	if (umount2(mnt, MNT_DETACH) == 0) {
		log_warn("detached a stale mount at %s (its daemon had died)", mnt);
		return 0;
	}
	/* Without CAP_SYS_ADMIN, fusermount3 can still do it for its owner. */
	pid = fork();
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", "-uz", mnt, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (statfs(mnt, &sf) == 0 || errno != ENOTCONN) {
		log_warn("detached a stale mount at %s (its daemon had died)", mnt);
		return 0;
	}
	log_error("%s is a stale mount that cannot be detached; run fusermount3 -uz %s", mnt, mnt);
	return -1;
}

static void
hook_opened(void *arg, catalog_t *c)
{
	(void)arg;
	supervisor_opens_hold(c);
}

static void
hook_blob_freed(void *arg, uint64_t blob_id)
{
	(void)arg;
	pt_blob_freed(blob_id);
	park_kick(); /* a stream writer may be waiting for memory */
}

static void
hook_inval_entry(void *arg, uint64_t parent, const char *name)
{
	(void)arg;
	notify_entry(parent, name);
}

static void
hook_inval_attr(void *arg, uint64_t ino)
{
	(void)arg;
	if (ino <= INO_LAST_DIR)
		notify_attr(ino); /* a directory's times: coalesced */
	else
		notify_attr_now(ino); /* a file that went: before the reply */
}

struct tmp_names {
	char **v;
	size_t n, cap;
};

static int
collect_tmp(void *arg, const char *name, const struct catalog_attr *a)
{
	struct tmp_names *t = arg;

	(void)a;
	if (strncmp(name, VFS_TMP_PREFIX, strlen(VFS_TMP_PREFIX)) != 0)
		return 0;
	if (VEC_PUSH_ROOM(t->v, t->n, t->cap) != 0 || (t->v[t->n] = strdup(name)) == NULL)
		return -ENOMEM;
	t->n++;
	return 0;
}

/* A client that died while it built an object (a blob under a
 * .vfs-tmp-* name until its object holds it) leaves that Blob object;
 * no client of the previous daemon can still be using it: remove it. */
static void
drop_client_temporaries(void)
{
	struct tmp_names t = { NULL, 0, 0 };
	size_t i, gone = 0;

	if (catalog_list(fs.cat, INO_NAMES, collect_tmp, &t) != 0)
		log_warn("cannot list the temporaries clients left: out of memory");
	for (i = 0; i < t.n; i++) {
		if (catalog_unlink(fs.cat, INO_NAMES, t.v[i], 0) == 0)
			gone++;
		free(t.v[i]);
	}
	free(t.v);
	if (gone > 0)
		log_info("removed %zu temporary object%s that clients left unfinished (%s*)", gone,
		    gone == 1 ? "" : "s", VFS_TMP_PREFIX);
}

static void
hook_names_changed(void *arg, uint64_t id)
{
	(void)arg;
	park_kick();
	cluster_kick(fs.cluster, id); /* publish-all publishes it */
}

static void
hook_object_deleted(void *arg, uint64_t id)
{
	(void)arg;
	cluster_object_deleted(fs.cluster, id);
}

static void
hook_name_dropped(void *arg, const char *name, uint64_t id)
{
	(void)arg;
	cluster_name_dropped(fs.cluster, name, id);
}

/* Before the catalog opens (its hooks may call us): the member, no
 * thread yet. */
static int
cluster_setup(const struct options *o)
{
	struct cluster_config cc = {
		.etcd = o->etcd,
		.name = o->cluster != NULL ? o->cluster : "default",
		.listen = o->listen,
		.node = o->node_name,
		.key_file = o->cluster_key,
		.ttl = o->cluster_ttl,
		.publish_all = o->publish_all,
		.prefetch = o->prefetch,
		.memory = o->memory,
	};
	int rc;

	if (o->etcd == NULL)
		return 0;
	if ((rc = cluster_create(&cc, &fs.cluster)) != 0)
		log_error("cannot set up the cluster member: %s", strerror(-rc));
	return rc;
}

/* Tell the waiting parent how it went: "" for ready, else a reason. */
static void
tell_parent(int fd, const char *msg)
{
	if (fd < 0)
		return;
	if (write(fd, msg, strlen(msg) + 1) < 0) {
		/* The parent is gone; nothing to tell. */
	}
	close(fd);
}

/* Parent side of the detach: wait for the child's word. */
static int
wait_child(pid_t pid, int fd)
{
	char buf[512];
	ssize_t n, got = 0;
	int status;

	while (got < (ssize_t)sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
	if (got > 0 && buf[0] == '\0')
		return 0;
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return WEXITSTATUS(status);
	return 1;
}

int
daemon_mount_main(int argc, char **argv)
{
	struct catalog_config cfg;
	struct options o;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *loop = NULL;
	char mnt[PATH_MAX], state[PATH_MAX], opts[1200], logpath[PATH_MAX], restore[PATH_MAX];
	char devfd_path[32];
	const char *fuse_mnt = mnt; /* a supervised worker's: /dev/fd/N */
	int ready_fd = -1, lock_fd = -1, rc, status = 1;
	uint64_t first_seq;

	if ((rc = options_parse(argc, argv, &o)) != 0)
		return rc;
	log_set_debug(o.debug);
	if (realpath(o.mountpoint, mnt) == NULL) {
		if (errno != ENOTCONN) {
			fprintf(stderr, "vineyardfs: mount point %s: %s\n", o.mountpoint, strerror(errno));
			return 1;
		}
		snprintf(mnt, sizeof mnt, "%s", o.mountpoint);
	}
	if (util_mkdirs(o.state_dir, 0755) != 0 || realpath(o.state_dir, state) == NULL) {
		fprintf(stderr, "vineyardfs: state dir %s: %s\n", o.state_dir, strerror(errno));
		return 1;
	}
	if (o.restore_dir != NULL && realpath(o.restore_dir, restore) == NULL) {
		fprintf(stderr, "vineyardfs: --restore %s: %s\n", o.restore_dir, strerror(errno));
		return 1;
	}
	if (!o.foreground) {
		int p[2];
		pid_t pid;

		if (pipe2(p, O_CLOEXEC) != 0) {
			perror("vineyardfs: pipe");
			return 1;
		}
		if ((pid = fork()) < 0) {
			perror("vineyardfs: fork");
			return 1;
		}
		if (pid > 0) {
			close(p[1]);
			return wait_child(pid, p[0]);
		}
		close(p[0]);
		ready_fd = p[1];
		setsid();
		/* Until it detaches, the daemon logs to the terminal and the file. */
		if (snprintf(logpath, sizeof logpath, "%s/vineyardfs.log", state) < (int)sizeof logpath &&
		    (rc = log_open_file(logpath)) != 0)
			log_warn("cannot open the log file %s: %s", logpath, strerror(-rc));
	}
	if ((lock_fd = lock_state(state)) < 0)
		goto out;
	if (clear_stale_mount(mnt) != 0)
		goto out;
	if (o.supervise) {
		/* The supervisor mounts and stays there to the end; each worker
		 * it forks comes back to serve the connection it holds. */
		if ((rc = supervisor_run(mnt, o.fuse_opts, o.foreground ? NULL : daemon_detach, &ready_fd)) >=
		    0) {
			status = rc;
			goto out;
		}
		snprintf(devfd_path, sizeof devfd_path, "/dev/fd/%d", supervisor_fuse_fd());
		fuse_mnt = devfd_path;
		if ((fs.generation = supervisor_generation()) > 1)
			o.restore_dir = NULL; /* the first worker restored it */
	}

	if (ring_setup(o.fuse_uring, o.supervise) != 0)
		goto out; /* logged, with the reason */
	memset(&cfg, 0, sizeof cfg);
	cfg.state_dir = state;
	cfg.backing_dir = o.backing_dir;
	cfg.memory_limit = o.memory;
	cfg.instance_id = o.instance_id;
	cfg.spill_dir = o.spill_dir;
	cfg.spill_high = o.spill_high;
	cfg.spill_low = o.spill_low;
	cfg.spill_ahead = o.spill_ahead;
	cfg.huge_pages = o.huge_pages;
	cfg.blob_freed = hook_blob_freed;
	cfg.inval_entry = hook_inval_entry;
	cfg.inval_attr = hook_inval_attr;
	cfg.names_changed = hook_names_changed;
	cfg.object_deleted = hook_object_deleted;
	cfg.name_dropped = hook_name_dropped;
	cfg.opened = hook_opened;
	cfg.cluster = o.etcd != NULL ? (o.cluster != NULL ? o.cluster : "default") : NULL;
	if (cluster_setup(&o) != 0)
		goto out;
	if (o.restore_dir != NULL) {
		struct snapshot_result res;
		char err[1024];

		if (snapshot_restore(&cfg, restore, &res, err, sizeof err) != 0)
			goto out; /* logged, with the reason */
	}
	if ((rc = catalog_open(&cfg, &fs.cat)) != 0) {
		log_error("cannot open the store in %s: %s", state, strerror(-rc));
		goto out;
	}
	fs.start_ns = util_now_ns();
	drop_client_temporaries();
	/* Joining never holds the mount back: etcd away, the member thread
	 * keeps trying (core/cluster.h). */
	if (fs.cluster != NULL && (rc = cluster_start(fs.cluster, fs.cat)) != 0) {
		log_error("cannot start the cluster member: %s", strerror(-rc));
		goto out;
	}
	fs.stream_wait_ms = o.stream_wait_ms;
	/* Past the numbers of the workers before this one (stream.h). */
	first_seq = fs.generation > 1 ? (uint64_t)(fs.generation - 1) * STREAM_SEQ_EPOCH : 0;
	if ((rc = streams_create(fs.cat, first_seq, &fs.streams)) != 0) {
		log_error("cannot set up streams: %s", strerror(-rc));
		goto out;
	}

	snprintf(opts, sizeof opts, "-ofsname=vineyardfs,subtype=vineyardfs%s%s%s",
	    geteuid() == 0 ? ",allow_other,default_permissions" : ",default_permissions",
	    o.fuse_opts[0] ? "," : "", o.fuse_opts);
	if (fuse_opt_add_arg(&args, "vineyardfs") != 0 || fuse_opt_add_arg(&args, opts) != 0 ||
	    (o.debug && fuse_opt_add_arg(&args, "-odebug") != 0)) {
		log_error("out of memory");
		goto out;
	}
	fs.se = fuse_session_new(&args, &fs_ops, sizeof fs_ops, NULL);
	if (fs.se == NULL) {
		log_error("cannot create the FUSE session (bad -o option?)");
		goto out;
	}
	/* A supervised worker keeps the default actions: a signal ends it. */
	if (fs.generation == 0 && fuse_set_signal_handlers(fs.se) != 0) {
		log_error("cannot install signal handlers");
		goto out;
	}
	if (fuse_session_mount(fs.se, fuse_mnt) != 0) {
		log_error("cannot mount on %s (is /dev/fuse there, and the mount point a directory?)", mnt);
		goto out;
	}
	ring_session(fs.se);
	if ((rc = iochain_install(fs.se, fuse_session_fd(fs.se), o.passthrough)) != 0) {
		log_error("cannot install the FUSE I/O hook: %s", strerror(-rc));
		goto out_unmount;
	}
	if ((rc = notify_start(fs.se)) != 0) {
		log_error("cannot start the notifier thread: %s", strerror(-rc));
		goto out_unmount;
	}
	if ((rc = park_start()) != 0) {
		log_error("cannot start the thread of waiting requests: %s", strerror(-rc));
		notify_stop();
		goto out_unmount;
	}
	if (o.metrics != NULL && (rc = metrics_http_start(o.metrics)) != 0) {
		park_stop();
		notify_stop();
		goto out_unmount; /* logged */
	}
	write_pid(lock_fd);
	log_info("mounted %s (state %s, memory limit %llu bytes)", mnt, state, (unsigned long long)o.memory);
	if (!o.foreground) {
		daemon_detach();
		tell_parent(ready_fd, "");
		ready_fd = -1;
	}
	loop = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(loop, 0);
	/* A supervised worker keeps its idle threads: a request on an
	 * earlier worker's handle waits on the thread that read it for that
	 * thread's next read (supervisor_request), and libfuse ends a thread
	 * that finds itself idle beyond the limit, request and all. */
	if (fs.generation == 0)
		fuse_loop_cfg_set_idle_threads(loop, 8);
	fuse_loop_cfg_set_max_threads(loop, 32);
	rc = fuse_session_loop_mt(fs.se, loop);
	fuse_loop_cfg_destroy(loop);
	log_info("unmounting %s%s", mnt, rc != 0 ? " (session ended with an error)" : "");
	status = 0;
	metrics_http_stop();
	ring_quiesce(); /* no handler runs on the ring from here on */
	park_stop();	/* its last replies may be ring requests' */
	notify_stop();
	handle_close_all();
	ring_stop();
out_unmount:
	fuse_session_unmount(fs.se);
out:
	if (fs.se != NULL) {
		if (fs.generation == 0)
			fuse_remove_signal_handlers(fs.se);
		fuse_session_destroy(fs.se);
	}
	fuse_opt_free_args(&args);
	cluster_destroy(fs.cluster); /* before the catalog it mirrors into */
	fs.cluster = NULL;
	streams_destroy(fs.streams);
	catalog_close(fs.cat);
	if (lock_fd >= 0)
		close(lock_fd);
	tell_parent(ready_fd, "failed");
	return status;
}

/* Wait for pid to exit, up to timeout_ms. */
static int
wait_pid_exit(pid_t pid, int timeout_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p;

	if (pfd < 0)
		return errno == ESRCH ? 0 : -errno;
	p.fd = pfd;
	p.events = POLLIN;
	p.revents = 0;
	while (poll(&p, 1, timeout_ms) < 0) {
		if (errno != EINTR) {
			int err = errno;

			close(pfd);
			return -err;
		}
	}
	close(pfd);
	return (p.revents & POLLIN) ? 0 : -ETIMEDOUT;
}

/* The daemon's pid, from .vineyardfs/stats. */
static pid_t
daemon_pid(const char *mnt)
{
	char path[PATH_MAX], line[256];
	pid_t pid = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/.vineyardfs/stats", mnt);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "pid %d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

int
daemon_umount_main(int argc, char **argv)
{
	const char *mnt;
	pid_t pid, sup;
	int lazy = 0, i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-l") == 0 || strcmp(argv[i], "--lazy") == 0)
			lazy = 1;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: vineyardfs umount [-l|--lazy] MOUNTPOINT\n");
			return 0;
		} else {
			fprintf(stderr, "usage: vineyardfs umount [-l|--lazy] MOUNTPOINT\n");
			return 2;
		}
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: vineyardfs umount [-l|--lazy] MOUNTPOINT\n");
		return 2;
	}
	mnt = argv[i];
	pid = daemon_pid(mnt);
	sup = pid > 0 ? supervisor_of(pid) : 0; /* exits after its worker */
	if (umount2(mnt, lazy ? MNT_DETACH : 0) != 0) {
		int err = errno;

		if (err == EPERM) {
			pid_t c = fork();
			int status;

			if (c == 0) {
				execlp("fusermount3", "fusermount3", lazy ? "-uz" : "-u", mnt, (char *)NULL);
				_exit(127);
			}
			if (c < 0 || waitpid(c, &status, 0) != c || !WIFEXITED(status) ||
			    WEXITSTATUS(status) != 0) {
				fprintf(stderr, "vineyardfs: cannot unmount %s\n", mnt);
				return 1;
			}
		} else {
			fprintf(stderr, "vineyardfs: cannot unmount %s: %s\n", mnt, strerror(err));
			return 1;
		}
	}
	if (pid > 0 && wait_pid_exit(pid, 30000) != 0) {
		fprintf(stderr, "vineyardfs: daemon pid %d did not exit after the unmount\n", (int)pid);
		return 1;
	}
	if (sup > 0 && wait_pid_exit(sup, 30000) != 0) {
		fprintf(stderr, "vineyardfs: supervisor pid %d did not exit after the unmount\n", (int)sup);
		return 1;
	}
	return 0;
}
