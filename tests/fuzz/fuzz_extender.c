/*
 * fuzz_extender: libFuzzer target for the scheduler extender's request
 * parser (extender_args_parse): any body either parses into names and
 * nodes or is refused with a message; it never crashes or leaks. Built and
 * run by tests/fuzz/run.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/extender.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct extender_args a;
	char err[512];
	size_t i;

	err[0] = '\0';
	if (extender_args_parse((const char *)data, size, &a, err, sizeof err) != 0) {
		if (err[0] == '\0')
			abort(); /* a refusal says why */
		return 0;
	}
	for (i = 0; i < a.nrequired; i++)
		if (a.required[i][0] == '\0' || strchr(a.required[i], '/') != NULL)
			abort(); /* names are names */
	for (i = 0; i < a.nnodes; i++)
		if (a.nodes[i][0] == '\0')
			abort();
	extender_args_free(&a);
	return 0;
}
