/*
 * smallfiles create|read|unlink DIR PREFIX COUNT SIZE — one client,
 * sequential, the way an application stores small objects as files:
 *   create: open(O_CREAT|O_WRONLY|O_EXCL, 0644) + one write of SIZE + close
 *   read:   open(O_RDONLY) + one read of SIZE + close (checks length and the
 *           index stamped in the first bytes)
 *   unlink: unlink
 * on DIR/PREFIX<i> for i in 0..COUNT-1. Prints "COUNT NS".
 */
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"

/* The content of object i: a fixed pattern with i in the first 8 bytes. */
static void
fill(char *buf, size_t size, unsigned long i)
{
	uint64_t v = i;

	memcpy(buf, &v, size < sizeof v ? size : sizeof v);
}

int
main(int argc, char **argv)
{
	char path[4096], *buf, *want;
	unsigned long count, i;
	size_t size;
	uint64_t t0, t1;
	ssize_t n;
	int fd, mode;

	if (argc != 6)
		die("usage: smallfiles create|read|unlink DIR PREFIX COUNT SIZE");
	if (strcmp(argv[1], "create") == 0)
		mode = 0;
	else if (strcmp(argv[1], "read") == 0)
		mode = 1;
	else if (strcmp(argv[1], "unlink") == 0)
		mode = 2;
	else
		die("unknown mode %s", argv[1]);
	count = strtoul(argv[4], NULL, 0);
	size = strtoul(argv[5], NULL, 0);
	if (size == 0 || (buf = malloc(size + 1)) == NULL || (want = malloc(size)) == NULL)
		die("bad size or out of memory");
	for (i = 0; i < size; i++)
		want[i] = (char)('a' + i % 26);

	t0 = now_ns();
	for (i = 0; i < count; i++) {
		snprintf(path, sizeof path, "%s/%s%lu", argv[2], argv[3], i);
		switch (mode) {
		case 0:
			fill(want, size, i);
			fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
			if (fd < 0)
				die("create %s", path);
			if ((n = write(fd, want, size)) != (ssize_t)size)
				die("write %s (%zd)", path, n);
			if (close(fd) < 0)
				die("close %s", path);
			break;
		case 1:
			fill(want, size, i);
			if ((fd = open(path, O_RDONLY)) < 0)
				die("open %s", path);
			/* Ask for one byte more than the size to see a longer file. */
			if ((n = read(fd, buf, size + 1)) != (ssize_t)size)
				die("read %s (%zd)", path, n);
			if (memcmp(buf, want, size < 8 ? size : 8) != 0) {
				errno = 0;
				die("%s: wrong content", path);
			}
			close(fd);
			break;
		default:
			if (unlink(path) < 0)
				die("unlink %s", path);
		}
	}
	t1 = now_ns();
	printf("%lu %llu\n", count, (unsigned long long)(t1 - t0));
	return 0;
}
