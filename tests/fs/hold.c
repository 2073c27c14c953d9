/*
 * hold: an LD_PRELOAD library for mount tests that holds a daemon at a
 * chosen point, to test what it reports meanwhile and what a kill -9 there
 * loses, without racing it.
 *
 * - While the file named by $VFS_HOLD_GATE exists, a pwrite64(2) to a file
 *   whose path ends in "-wal" (SQLite's write-ahead log, written at every
 *   commit) waits: a metadata commit is held back.
 * - While the file named by $VFS_HOLD_RENAME_GATE exists, a renameat(2) of
 *   a name that starts with ".tmp-" waits: a durable copy (spill, snapshot)
 *   is held with its temporary file complete but not yet in place.
 *
 * The first call held creates "GATE.held", so that a test can wait for it
 * instead of sleeping. A call is held for 120 s at most, so that a test
 * that forgets its gate does not hang.
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
int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

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

/* Wait while gate exists (if it is set). */
static void
hold(const char *gate)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	time_t until = time(NULL) + HOLD_MAX_S;
	char held[4096];
	int fd;

	if (gate == NULL || *gate == '\0' || access(gate, F_OK) != 0)
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

int
renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	static int (*real)(int, const char *, int, const char *);
	const char *base = strrchr(oldpath, '/');

	if (real == NULL)
		real = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
	base = base != NULL ? base + 1 : oldpath;
	if (strncmp(base, ".tmp-", 5) == 0)
		hold(getenv("VFS_HOLD_RENAME_GATE"));
	return real(olddirfd, oldpath, newdirfd, newpath);
}
