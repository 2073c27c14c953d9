/*
 * arrow_ipc: see arrow_ipc.h. What the writer (arrow_ipc_write.c) and the
 * reader (arrow_ipc_read.c) share: the check that an array's buffers fit
 * its type and length, and freeing what they return.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "arrow_ipc.h"
#include "arrow_ipc_i.h"
#include "util.h"

/* A bound on any length or size: far above any file, and far enough below
 * 2^64 that the sums and products below cannot wrap. */
#define SIZE_LIMIT (1ull << 48)

int
arrow_ipc_check_array(
    const struct arrow_type *t, const struct arrow_ipc_array *a, const char *what, char *err, size_t errlen)
{
	const struct arrow_value_type *v = &t->value;
	unsigned want, i;
	uint64_t bits = (a->length + 7) / 8, need;

	if (a->length >= SIZE_LIMIT)
		return util_fail(err, errlen, -EINVAL, "%s: length %llu is too large", what,
		    (unsigned long long)a->length);
	for (i = 0; i < a->nbuffers && i < ARROW_IPC_MAX_BUFFERS; i++)
		if (a->buffers[i].size >= SIZE_LIMIT)
			return util_fail(err, errlen, -EINVAL, "%s: buffer %u's size is too large", what, i);
	want = !t->dictionary && (v->kind == ARROW_STRING || v->kind == ARROW_BINARY) ? 3 : 2;
	if (a->nbuffers != want)
		return util_fail(
		    err, errlen, -EINVAL, "%s: %u buffers, its type has %u", what, a->nbuffers, want);
	if (a->null_count > a->length)
		return util_fail(err, errlen, -EINVAL, "%s: null count %llu above its length %llu", what,
		    (unsigned long long)a->null_count, (unsigned long long)a->length);
	if (a->null_count > 0 && a->buffers[0].size < bits)
		return util_fail(err, errlen, -EINVAL,
		    "%s: validity of %llu bytes, %llu slots with nulls need %llu", what,
		    (unsigned long long)a->buffers[0].size, (unsigned long long)a->length,
		    (unsigned long long)bits);
	if (a->buffers[0].size != 0 && a->buffers[0].size < bits)
		return util_fail(err, errlen, -EINVAL, "%s: validity of %llu bytes, %llu slots need %llu",
		    what, (unsigned long long)a->buffers[0].size, (unsigned long long)a->length,
		    (unsigned long long)bits);
	if (t->dictionary)
		need = a->length * (t->index_width / 8);
	else if (v->kind == ARROW_BOOL)
		need = bits;
	else if (want == 3)
		need = a->length == 0 ? 0 : (a->length + 1) * (v->width / 8);
	else
		need = a->length * arrow_value_size(v);
	if (a->buffers[1].size < need)
		return util_fail(err, errlen, -EINVAL, "%s: %s of %llu bytes, %llu slots need %llu", what,
		    t->dictionary ? "indices"
		    : want == 3	  ? "offsets"
				  : "values",
		    (unsigned long long)a->buffers[1].size, (unsigned long long)a->length,
		    (unsigned long long)need);
	return 0;
}

void
arrow_ipc_layout_free(struct arrow_ipc_layout *l)
{
	unsigned i;

	for (i = 0; i < l->npieces; i++)
		free(l->pieces[i].data);
	free(l->pieces);
	l->pieces = NULL;
	l->npieces = 0;
}

void
arrow_ipc_desc_free(struct arrow_ipc_desc *d)
{
	unsigned i;

	for (i = 0; i < d->nfields && d->fields != NULL; i++)
		free(d->fields[i].name);
	free(d->fields);
	for (i = 0; i < d->nbatches && d->batches != NULL; i++)
		free(d->batches[i].columns);
	free(d->batches);
	free(d->dicts);
	d->fields = NULL;
	d->dicts = NULL;
	d->batches = NULL;
	d->nfields = d->ndicts = d->nbatches = 0;
}
