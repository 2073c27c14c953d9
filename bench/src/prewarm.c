/*
 * prewarm MIB: touch MIB MiB of anonymous memory, one byte a page, and
 * free it. On a VM whose balloon reports free pages to the host, memory
 * the guest freed a few seconds ago is given back, and touching it again
 * costs a host fault per page (2 GiB: 2.8 s first, 1.0 s again at once,
 * 2.0 s after 5 s idle, on the project's VM). The benchmarks run this just
 * before each timed run, baselines and vineyardfs alike, so that no run
 * pays for what the previous one freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int
main(int argc, char **argv)
{
	size_t n, off;
	char *m;

	if (argc != 2 || (n = strtoull(argv[1], NULL, 10) << 20) == 0) {
		fprintf(stderr, "usage: prewarm MIB\n");
		return 2;
	}
	m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		perror("prewarm: mmap");
		return 1;
	}
	for (off = 0; off < n; off += 4096)
		m[off] = 1;
	munmap(m, n);
	return 0;
}
