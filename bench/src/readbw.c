/*
 * readbw FILE [BUFSIZE] — read FILE from start to end with read(2) into one
 * buffer of BUFSIZE bytes (default 1 MiB). Prints "BYTES NS": bytes read and
 * the time from open to close, so the open round trip is included.
 */
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	size_t bufsize = 1 << 20;
	uint64_t t0, t1;
	long long total = 0;
	ssize_t n;
	char *buf;
	int fd;

	if (argc < 2 || argc > 3)
		die("usage: readbw FILE [BUFSIZE]");
	if (argc == 3)
		bufsize = strtoul(argv[2], NULL, 0);
	/* Page-aligned, and touched once, so that no first-fault cost lands in the loop. */
	if (posix_memalign((void **)&buf, 4096, bufsize) != 0)
		die("posix_memalign");
	memset(buf, 0, bufsize);

	t0 = now_ns();
	if ((fd = open(argv[1], O_RDONLY)) < 0)
		die("open %s", argv[1]);
	while ((n = read(fd, buf, bufsize)) > 0)
		total += n;
	if (n < 0)
		die("read %s", argv[1]);
	close(fd);
	t1 = now_ns();
	printf("%lld %llu\n", total, (unsigned long long)(t1 - t0));
	return 0;
}
