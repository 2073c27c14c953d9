/*
 * smallfiles create|read|unlink DIR PREFIX COUNT SIZE [lat] — one client,
 * sequential, the way an application stores small objects as files:
 *   create: open(O_CREAT|O_WRONLY|O_EXCL, 0644) + one write of SIZE + close
 *   read:   open(O_RDONLY) + one read of SIZE + close (checks length and the
 *           index stamped in the first bytes)
 *   unlink: unlink
 * on DIR/PREFIX<i> for i in 0..COUNT-1. Prints "COUNT NS", and with lat
 * also each operation's latency at the median, p99, p99.9 and the maximum
 * (ns): "COUNT NS P50 P99 P999 MAX".
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

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	char path[4096], *buf, *want;
	unsigned long count, i;
	size_t size;
	uint64_t t0, t1;
	uint64_t *lats = NULL;
	ssize_t n;
	int fd, mode, lat;

	if (argc != 6 && !(argc == 7 && strcmp(argv[6], "lat") == 0))
		die("usage: smallfiles create|read|unlink DIR PREFIX COUNT SIZE [lat]");
	lat = argc == 7;
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
	if (count == 0 || size == 0 || (buf = malloc(size + 1)) == NULL || (want = malloc(size)) == NULL)
		die("bad count or size, or out of memory");
	for (i = 0; i < size; i++)
		want[i] = (char)('a' + i % 26);

	if (lat && (lats = calloc(count, sizeof *lats)) == NULL)
		die("out of memory");
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		uint64_t op0 = lat ? now_ns() : 0;

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
		if (lat)
			lats[i] = now_ns() - op0;
	}
	t1 = now_ns();
	printf("%lu %llu", count, (unsigned long long)(t1 - t0));
	if (lat) {
		qsort(lats, count, sizeof *lats, cmp_u64);
		printf(" %llu %llu %llu %llu", (unsigned long long)lats[count / 2],
		    (unsigned long long)lats[count * 99 / 100], (unsigned long long)lats[count * 999 / 1000],
		    (unsigned long long)lats[count - 1]);
	}
	printf("\n");
	return 0;
}
