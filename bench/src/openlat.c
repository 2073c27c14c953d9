/*
 * openlat FILE [ITERATIONS] — the latency of getting at an object's bytes:
 * open, mmap the whole file, read its first byte, munmap, close; ITERATIONS
 * times (default 1000, after 20 unmeasured warm-up rounds). Prints
 * "MEDIAN_NS P10_NS P90_NS".
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void
once(const char *path)
{
	volatile const unsigned char *c;
	struct stat st;
	void *p;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		die("open %s", path);
	if (fstat(fd, &st) < 0)
		die("fstat %s", path);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap %s", path);
	c = p;
	(void)c[0]; /* volatile: the load, and so the page fault, happens */
	munmap(p, (size_t)st.st_size);
	close(fd);
}

int
main(int argc, char **argv)
{
	unsigned long iters = 1000, i;
	uint64_t *lat, t0;

	if (argc < 2 || argc > 3)
		die("usage: openlat FILE [ITERATIONS]");
	if (argc == 3)
		iters = strtoul(argv[2], NULL, 0);
	if (iters == 0 || (lat = calloc(iters, sizeof *lat)) == NULL)
		die("bad iteration count or out of memory");
	for (i = 0; i < 20; i++)
		once(argv[1]);
	for (i = 0; i < iters; i++) {
		t0 = now_ns();
		once(argv[1]);
		lat[i] = now_ns() - t0;
	}
	qsort(lat, iters, sizeof *lat, cmp_u64);
	printf("%llu %llu %llu\n", (unsigned long long)lat[iters / 2], (unsigned long long)lat[iters / 10],
	    (unsigned long long)lat[iters * 9 / 10]);
	return 0;
}
