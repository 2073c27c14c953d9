/*
 * redisbench PORT COUNT SIZE — the redis baseline for small objects: one
 * client, no pipelining, FLUSHALL (not timed), then SET k<i> for COUNT values
 * of SIZE bytes, then GET them back (checking length and the index stamped in
 * the first bytes, as smallfiles does). Prints "SET_NS GET_NS".
 */
#include <hiredis.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	unsigned long count, i;
	uint64_t t0, t1, t2, v;
	redisContext *c;
	redisReply *r;
	char key[32], *val;
	size_t size, k;

	if (argc != 4)
		die("usage: redisbench PORT COUNT SIZE");
	count = strtoul(argv[2], NULL, 0);
	size = strtoul(argv[3], NULL, 0);
	if (size < 8 || (val = malloc(size)) == NULL)
		die("bad size (at least 8) or out of memory");
	for (k = 0; k < size; k++)
		val[k] = (char)('a' + k % 26);
	c = redisConnect("127.0.0.1", atoi(argv[1]));
	if (c == NULL || c->err) {
		errno = 0;
		die("redis connect: %s", c ? c->errstr : "out of memory");
	}
	if ((r = redisCommand(c, "FLUSHALL")) == NULL)
		die("FLUSHALL");
	freeReplyObject(r);

	t0 = now_ns();
	for (i = 0; i < count; i++) {
		v = i;
		memcpy(val, &v, sizeof v);
		snprintf(key, sizeof key, "k%lu", i);
		r = redisCommand(c, "SET %s %b", key, val, size);
		if (r == NULL || r->type != REDIS_REPLY_STATUS) {
			errno = 0;
			die("SET %s failed", key);
		}
		freeReplyObject(r);
	}
	t1 = now_ns();
	for (i = 0; i < count; i++) {
		v = i;
		snprintf(key, sizeof key, "k%lu", i);
		r = redisCommand(c, "GET %s", key);
		if (r == NULL || r->type != REDIS_REPLY_STRING || r->len != size ||
		    memcmp(r->str, &v, sizeof v) != 0) {
			errno = 0;
			die("GET %s: wrong reply", key);
		}
		freeReplyObject(r);
	}
	t2 = now_ns();
	redisFree(c);
	printf("%llu %llu\n", (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1));
	return 0;
}
