/*
 * arrowcol FILE COLUMN: the time to read one column of an Arrow IPC file
 * the way a zero-copy reader does: open, mmap the whole file, parse the
 * footer and the messages (vineyardfs's own reader, core/arrow_ipc), then
 * sum every value of COLUMN (an int64, timestamp or double column) in
 * every batch, touching no other column's pages. Prints "SUM SECONDS
 * MINOR_FAULTS": the same sum for two files means the same values.
 * Built by bench/arrow against the build tree's libvfscore.a.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arrow_ipc.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct arrow_ipc_desc d;
	struct rusage ru0, ru1;
	char err[256];
	struct stat st;
	double t0, sum = 0;
	unsigned f, b;
	void *img;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: arrowcol FILE COLUMN\n");
		return 2;
	}
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now();
	if ((fd = open(argv[1], O_RDONLY)) < 0 || fstat(fd, &st) != 0) {
		perror(argv[1]);
		return 1;
	}
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (img == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (arrow_ipc_read(img, (size_t)st.st_size, &d, err, sizeof err) != 0) {
		fprintf(stderr, "arrowcol: %s: %s\n", argv[1], err);
		return 1;
	}
	for (f = 0; f < d.nfields && strcmp(d.fields[f].name, argv[2]) != 0; f++)
		;
	if (f == d.nfields || d.fields[f].type.dictionary || !arrow_is_fixed(&d.fields[f].type.value) ||
	    d.fields[f].type.value.width != 64) {
		fprintf(stderr, "arrowcol: no 64-bit fixed-width column %s in %s\n", argv[2], argv[1]);
		return 1;
	}
	for (b = 0; b < d.nbatches; b++) {
		const struct arrow_ipc_array *a = &d.batches[b].columns[f];
		const unsigned char *v = (const unsigned char *)img + a->buffers[1].offset;
		uint64_t i, n = a->length;

		if (a->buffers[1].size < n * 8) {
			fprintf(stderr, "arrowcol: batch %u: short values buffer\n", b);
			return 1;
		}
		if (d.fields[f].type.value.kind == ARROW_FLOAT)
			for (i = 0; i < n; i++)
				sum += ((const double *)(const void *)v)[i];
		else
			for (i = 0; i < n; i++)
				sum += (double)((const int64_t *)(const void *)v)[i];
	}
	printf("%.17g %.6f", sum, now() - t0);
	getrusage(RUSAGE_SELF, &ru1);
	printf(" %ld\n", ru1.ru_minflt - ru0.ru_minflt);
	arrow_ipc_desc_free(&d);
	munmap(img, (size_t)st.st_size);
	close(fd);
	return 0;
}
