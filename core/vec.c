/*
 * vec: see vec.h. The array pointer is passed as void * and moved with
 * memcpy, so any pointer type works without a cast through void **.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

int
vec_reserve(void *arrayp, size_t *cap, size_t want, size_t size)
{
	size_t n = *cap > 0 ? *cap : VEC_FIRST_CAP;
	void *a, *p;

	if (want <= *cap)
		return 0;
	while (n < want) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	if (size == 0 || n > SIZE_MAX / size)
		return -ENOMEM;
	memcpy(&a, arrayp, sizeof a);
	if ((p = realloc(a, n * size)) == NULL)
		return -ENOMEM;
	memcpy(arrayp, &p, sizeof p);
	*cap = n;
	return 0;
}
