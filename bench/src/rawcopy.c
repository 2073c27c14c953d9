/*
 * rawcopy: the raw TCP copy that bench/cluster compares a fetch with, and
 * a file hand-off between two members. One binary, three modes:
 *
 *   rawcopy send FILE            listen on a free port of 127.0.0.1, print
 *                                the port, serve FILE once with sendfile(2)
 *   rawcopy recv PORT DEST SIZE [huge]
 *                                connect to 127.0.0.1:PORT, create DEST
 *                                (O_EXCL), fallocate SIZE bytes, map it and
 *                                recv(MSG_WAITALL) into the mapping; prints
 *                                "BYTES NS", NS from before the connect to
 *                                the last byte, the fallocate included (a
 *                                fetch allocates its pages too). With huge:
 *                                no fallocate; the mapping asks for huge
 *                                pages and each 2 MiB is populated just
 *                                before it is received into, as the
 *                                daemon's fetch does (core/durable.c)
 *   rawcopy read FILE            open FILE, read it whole with 1 MiB reads;
 *                                prints "BYTES OPEN_NS TOTAL_NS" (a remote
 *                                object's open is its fetch)
 *
 * The receiver writes into a preallocated tmpfs file as the issue's
 * baseline does: fresh tmpfs pages, not TCP, cost most on this machine
 * (notes/cluster.md), so a baseline that skipped them would not be one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

/* Bytes per recv: large enough that the calls cost nothing. */
#define CHUNK (2u << 20)

static struct sockaddr_in
loopback(unsigned port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int
do_send(const char *path)
{
	struct sockaddr_in a = loopback(0);
	socklen_t alen = sizeof a;
	struct stat st;
	off_t off = 0;
	int lfd, cfd, fd;
	ssize_t n;

	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) != 0)
		die("send: %s", path);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(lfd, 1) != 0 || getsockname(lfd, (struct sockaddr *)&a, &alen) != 0)
		die("send: listen on 127.0.0.1");
	printf("%u\n", ntohs(a.sin_port));
	fflush(stdout);
	if ((cfd = accept(lfd, NULL, NULL)) < 0)
		die("send: accept");
	while (off < st.st_size) {
		n = sendfile(cfd, fd, &off, (size_t)(st.st_size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("send: sendfile after %lld of %lld bytes", (long long)off, (long long)st.st_size);
	}
	close(cfd);
	close(lfd);
	close(fd);
	return 0;
}

static int
do_recv(unsigned port, const char *dest, uint64_t size, int huge)
{
	struct sockaddr_in a = loopback(port);
	uint64_t t0, off = 0, n;
	unsigned char *map;
	ssize_t got;
	int s, fd;

	t0 = now_ns();
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0)
		die("recv: connect to 127.0.0.1:%u", port);
	if ((fd = open(dest, O_RDWR | O_CREAT | O_EXCL, 0644)) < 0)
		die("recv: create %s", dest);
	if (huge ? ftruncate(fd, (off_t)size) != 0 : fallocate(fd, 0, 0, (off_t)size) != 0)
		die("recv: allocate %llu bytes for %s", (unsigned long long)size, dest);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("recv: map %s", dest);
	if (huge)
		madvise(map, size, MADV_HUGEPAGE);
	while (off < size) {
		n = size - off < CHUNK ? size - off : CHUNK;
		if (huge && madvise(map + off, n, MADV_POPULATE_WRITE) != 0)
			die("recv: populate %s", dest);
		got = recv(s, map + off, n, MSG_WAITALL);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			die("recv: after %llu of %llu bytes", (unsigned long long)off,
			    (unsigned long long)size);
		off += (uint64_t)got;
	}
	printf("%llu %llu\n", (unsigned long long)off, (unsigned long long)(now_ns() - t0));
	munmap(map, size);
	close(fd);
	close(s);
	return 0;
}

static int
do_read(const char *path)
{
	uint64_t t0, t1;
	long long total = 0;
	char *buf;
	ssize_t n;
	int fd;

	/* Touched once, so that no first-fault cost lands in the loop. */
	if (posix_memalign((void **)&buf, 4096, 1 << 20) != 0)
		die("posix_memalign");
	memset(buf, 0, 1 << 20);
	t0 = now_ns();
	if ((fd = open(path, O_RDONLY)) < 0)
		die("read: open %s", path);
	t1 = now_ns();
	while ((n = read(fd, buf, 1 << 20)) > 0)
		total += n;
	if (n < 0)
		die("read: %s", path);
	close(fd);
	printf("%lld %llu %llu\n", total, (unsigned long long)(t1 - t0), (unsigned long long)(now_ns() - t0));
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "send") == 0)
		return do_send(argv[2]);
	if ((argc == 5 || (argc == 6 && strcmp(argv[5], "huge") == 0)) && strcmp(argv[1], "recv") == 0)
		return do_recv(
		    (unsigned)strtoul(argv[2], NULL, 10), argv[3], strtoull(argv[4], NULL, 10), argc == 6);
	if (argc == 3 && strcmp(argv[1], "read") == 0)
		return do_read(argv[2]);
	errno = 0;
	die("usage: rawcopy send FILE | recv PORT DEST SIZE [huge] | read FILE");
}
