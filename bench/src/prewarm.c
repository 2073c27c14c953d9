/*
 * prewarm MIB: touch MIB MiB of anonymous memory, one byte a page, and
 * free it. On a VM whose balloon reports free pages to the host, memory
 * the guest freed a few seconds ago is given back, and touching it again
 * costs a host fault per page (2 GiB: 2.8 s first, 1.0 s again at once,
 * 2.0 s after 5 s idle, on the project's VM). The benchmarks run this just
 * before each timed run, baselines and vineyardfs alike, so that no run
 * pays for what the previous one freed.
 *
 * prewarm MIB huge: the same with huge pages (MADV_HUGEPAGE), for runs
 * that take huge pages (a fetch into the store). Free page reporting hands
 * back free blocks of 2 MiB and more, which is what a huge page is made
 * of, and a small-page prewarm did not bring them back: 1 GiB received
 * into huge tmpfs pages took 2.8 to 6.4 s after one, 1.1 to 1.3 s after
 * this (bench/cluster's receive, at load 7); into small pages, 2.2 to
 * 3.1 s and 1.5 to 1.9 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int
main(int argc, char **argv)
{
	size_t n, off;
	char *m;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "huge") != 0) ||
	    (n = strtoull(argv[1], NULL, 10) << 20) == 0) {
		fprintf(stderr, "usage: prewarm MIB [huge]\n");
		return 2;
	}
	m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		perror("prewarm: mmap");
		return 1;
	}
	if (argc == 3)
		madvise(m, n, MADV_HUGEPAGE);
	for (off = 0; off < n; off += 4096)
		m[off] = 1;
	munmap(m, n);
	return 0;
}
