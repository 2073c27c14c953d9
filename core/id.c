/*
 * id: allocation, formatting and parsing of object and blob ids. The
 * layout is in id.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "id.h"

#define SEQ_MAX 0xffff
#define TIME_MAX UINT64_C(0xffffffff)
#define ID_PAYLOAD_MASK ((UINT64_C(1) << INO_VIEW_SHIFT) - 1)

static uint64_t
now_seconds(void)
{
	time_t t = time(NULL);

	return t > ID_EPOCH ? (uint64_t)(t - ID_EPOCH) : 0;
}

void
id_gen_init(struct id_gen *g, unsigned instance, uint64_t last)
{
	g->instance = instance & ID_INSTANCE_MAX;
	g->time = 0;
	g->seq = SEQ_MAX;
	if (last != 0) {
		last &= ID_PAYLOAD_MASK;
		g->time = (last >> ID_TIME_SHIFT) & TIME_MAX;
		g->seq = last & SEQ_MAX;
	}
}

static uint64_t
next_payload(struct id_gen *g)
{
	uint64_t now = now_seconds();

	if (now > g->time) {
		g->time = now;
		g->seq = 0;
	} else if (g->seq >= SEQ_MAX) {
		g->time++; /* borrow the next second */
		g->seq = 0;
	} else
		g->seq++;
	return g->instance << ID_INSTANCE_SHIFT | (g->time & TIME_MAX) << ID_TIME_SHIFT | g->seq;
}

uint64_t
id_next_object(struct id_gen *g)
{
	return next_payload(g);
}

uint64_t
id_next_blob(struct id_gen *g)
{
	return next_payload(g) | ID_BLOB_BIT;
}

void
id_format(uint64_t id, char *buf)
{
	snprintf(buf, ID_STR_LEN + 1, "%c%016llx", id_is_blob(id) ? 'b' : 'o', (unsigned long long)id);
}

int
id_parse(const char *s, uint64_t *id)
{
	uint64_t v = 0;
	int i;

	if (s == NULL || (s[0] != 'o' && s[0] != 'b') || strlen(s) != ID_STR_LEN)
		return -EINVAL;
	for (i = 1; i < ID_STR_LEN; i++) {
		int c = s[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	if ((s[0] == 'b') != id_is_blob(v))
		return -EINVAL;
	if (!id_is_blob(v) && (v & INO_VIEW_MASK) != 0)
		return -EINVAL;
	*id = v;
	return 0;
}
