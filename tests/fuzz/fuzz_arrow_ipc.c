/*
 * fuzz_arrow_ipc: libFuzzer target for the Arrow IPC file reader
 * (arrow_ipc_read): any image either reads into a description whose every
 * buffer lies inside the image, or is refused with a message; it never
 * reads outside the image, crashes or leaks. Built and run by
 * tests/fuzz/run.sh from corpus_arrow/ (a file apache-arrow wrote, one the
 * core's writer laid out).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arrow_ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every buffer of a inside [0, size). */
static void
inside(const struct arrow_ipc_array *a, size_t size)
{
	unsigned k;

	for (k = 0; k < a->nbuffers; k++)
		if (a->buffers[k].offset > size || a->buffers[k].size > size - a->buffers[k].offset)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arrow_ipc_desc d;
	char err[512];
	unsigned i, j;

	err[0] = '\0';
	if (arrow_ipc_read(data, size, &d, err, sizeof err) != 0) {
		if (err[0] == '\0')
			abort(); /* a refusal says why */
		return 0;
	}
	for (i = 0; i < d.ndicts; i++) {
		if (d.dicts[i].field >= d.nfields || !d.fields[d.dicts[i].field].type.dictionary)
			abort();
		inside(&d.dicts[i].values, size);
	}
	for (i = 0; i < d.nbatches; i++)
		for (j = 0; j < d.nfields; j++)
			inside(&d.batches[i].columns[j], size);
	arrow_ipc_desc_free(&d);
	return 0;
}
