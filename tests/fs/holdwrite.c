/*
 * holdwrite: an LD_PRELOAD library for mount tests that holds a daemon's
 * metadata commits back, to test what is reported while a commit is under
 * way and what a kill -9 then loses.
 *
 * While the file named by $VFS_HOLD_GATE exists, a pwrite64(2) to a file
 * whose path ends in "-wal" (SQLite's write-ahead log, written at every
 * commit) waits. The first write held creates "$VFS_HOLD_GATE.held", so
 * that a test can wait for it instead of sleeping. A write is held for 120 s
 * at most, so that a test that forgets the gate does not hang.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HOLD_MAX_S 120

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);

static int
is_wal(int fd)
{
	char link[64], path[4096];
	ssize_t len;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((len = readlink(link, path, sizeof path - 1)) < 4)
		return 0;
	path[len] = '\0';
	return strcmp(path + len - 4, "-wal") == 0;
}

static void
hold(const char *gate)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	time_t until = time(NULL) + HOLD_MAX_S;
	char held[4096];
	int fd;

	if (access(gate, F_OK) != 0)
		return;
	snprintf(held, sizeof held, "%s.held", gate);
	if ((fd = open(held, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0)
		close(fd);
	while (access(gate, F_OK) == 0 && time(NULL) < until)
		nanosleep(&tick, NULL);
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	const char *gate = getenv("VFS_HOLD_GATE");

	if (real == NULL)
		real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
	if (gate != NULL && *gate != '\0' && is_wal(fd))
		hold(gate);
	return real(fd, buf, n, off);
}
