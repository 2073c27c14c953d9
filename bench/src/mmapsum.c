/*
 * mmapsum FILE — map FILE read-only (MAP_SHARED) and add up all its 8-byte
 * words. Prints "BYTES NS SUM"; the time covers open, mmap, the page faults,
 * munmap and close. SUM lets the caller check that two files hold the same
 * bytes and keeps the compiler from dropping the loop.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	const uint64_t *w;
	uint64_t t0, t1, sum = 0;
	struct stat st;
	size_t n, i;
	void *p;
	int fd;

	if (argc != 2)
		die("usage: mmapsum FILE");
	t0 = now_ns();
	if ((fd = open(argv[1], O_RDONLY)) < 0)
		die("open %s", argv[1]);
	if (fstat(fd, &st) < 0)
		die("fstat %s", argv[1]);
	if (st.st_size == 0)
		die("%s is empty", argv[1]);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap %s", argv[1]);
	w = p;
	n = (size_t)st.st_size / 8;
	/* Four independent sums so the loop is bound by memory, not by one add chain. */
	{
		uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;

		for (i = 0; i + 4 <= n; i += 4) {
			s0 += w[i];
			s1 += w[i + 1];
			s2 += w[i + 2];
			s3 += w[i + 3];
		}
		for (; i < n; i++)
			s0 += w[i];
		sum = s0 + s1 + s2 + s3;
	}
	munmap(p, (size_t)st.st_size);
	close(fd);
	t1 = now_ns();
	printf("%lld %llu %016llx\n", (long long)st.st_size, (unsigned long long)(t1 - t0),
	    (unsigned long long)sum);
	return 0;
}
