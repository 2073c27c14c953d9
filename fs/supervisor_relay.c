/*
 * supervisor_relay: the process that writes a worker's notifications to
 * /dev/fuse for it (supervisor_i.h). The supervisor forks one just before
 * each worker; they share a SOCK_SEQPACKET pair: the worker sends a whole
 * FUSE notification, the relay writes it to the connection and sends back
 * what the write returned (0 or -errno, an int32_t).
 *
 * Why a process of its own: for an entry invalidation the kernel takes
 * the directory's lock, uninterruptibly. When the worker is killed while
 * a request holding that lock (a LOOKUP in it, say) was read by one of
 * its threads, nobody answers that request until the next worker takes
 * over and the kernel resends it. A thread of the worker waiting for the
 * lock would keep the worker from ever exiting (a process ends when its
 * last thread does), so the supervisor would wait for it forever and
 * never start the next. The relay may wait there instead: the worker
 * waits for the relay's answer in a read, which a kill ends.
 *
 * A relay ends when its worker's end of the pair is closed (the worker
 * exited), once its last write has returned.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "fs/supervisor_i.h"

#define RELAY_MAX 64 /* relays alive at once (old ones may be stuck) */

static pid_t relays[RELAY_MAX]; /* 0: free */

/* Close every descriptor from 3 up but a and b. */
static void
close_all_but(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0U, 0);
}

/* The relay process: notifications in, the write's result out. */
static _Noreturn void
relay_main(int devfd, int sock)
{
	unsigned char msg[SV_RELAY_MSG_MAX];
	struct sigaction sa;
	sigset_t none;
	int32_t rc;
	ssize_t n;

	close_all_but(devfd, sock); /* the state dir's lock, the worker's end */
	prctl(PR_SET_NAME, "vineyardfs-rly");
	/* Its worker ends it (by exiting); a terminal's ^C does not. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;) {
		n = recv(sock, msg, sizeof msg, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		rc = write(devfd, msg, (size_t)n) == n ? 0 : -errno;
		if (send(sock, &rc, sizeof rc, MSG_NOSIGNAL) != (ssize_t)sizeof rc)
			_exit(0);
	}
}

void
relay_start(int devfd, int *worker_end)
{
	int sp[2], i;
	pid_t pid;

	*worker_end = -1;
	for (i = 0; i < RELAY_MAX && relays[i] != 0; i++)
		;
	if (i == RELAY_MAX) {
		log_warn("supervisor: %d notification relays are still stuck in the kernel; the next "
			 "worker writes its own",
		    RELAY_MAX);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		log_warn("supervisor: no notification relay (socketpair: %s); the worker writes its own",
		    strerror(errno));
		return;
	}
	if ((pid = fork()) < 0) {
		log_warn("supervisor: no notification relay (fork: %s); the worker writes its own",
		    strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return;
	}
	if (pid == 0)
		relay_main(devfd, sp[1]);
	close(sp[1]);
	relays[i] = pid;
	*worker_end = sp[0];
}

int
relay_reap(void)
{
	int i, alive = 0;

	for (i = 0; i < RELAY_MAX; i++) {
		if (relays[i] == 0)
			continue;
		if (waitpid(relays[i], NULL, WNOHANG) == relays[i])
			relays[i] = 0;
		else
			alive++;
	}
	return alive;
}
