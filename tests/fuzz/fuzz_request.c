/*
 * fuzz_request: libFuzzer target for the control protocol and the type
 * rules. Every input goes to types_validate (when it parses as JSON) and to
 * request_handle on a real catalog over a scratch directory (with streams);
 * the reply must always be one JSON object. Built and run by tests/fuzz/run.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/catalog.h"
#include "core/request.h"
#include "core/stream.h"
#include "core/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static catalog_t *
catalog(void)
{
	static catalog_t *cat;
	static char state[] = "/dev/shm/vineyardfs-fuzz.XXXXXX";
	char backing[sizeof state + 8];
	struct catalog_config cfg;

	if (cat != NULL)
		return cat;
	if (mkdtemp(state) == NULL)
		abort();
	snprintf(backing, sizeof backing, "%s/mem", state);
	memset(&cfg, 0, sizeof cfg);
	cfg.state_dir = state;
	cfg.backing_dir = backing;
	cfg.memory_limit = 64 << 20;
	cfg.instance_id = 1;
	if (catalog_open(&cfg, &cat) != 0)
		abort();
	return cat;
}

/* The streams of that catalog: object stream requests are fuzzed too. */
static streams_t *
streams(void)
{
	static streams_t *s;

	if (s == NULL && streams_create(catalog(), 0, &s) != 0)
		abort();
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request_wait w = { .streams = streams() };
	char err[512], *reply;
	json_t *doc;
	size_t len = 0;

	if ((doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL)) != NULL) {
		types_validate(doc, err, sizeof err);
		json_decref(doc);
	}
	reply = request_handle(catalog(), 1000, 1000, (const char *)data, size, &len, &w);
	if (reply == NULL && w.pending) {
		/* A wait for a name nobody makes: its timeout is a reply too. */
		if (request_wait_poll(catalog(), &w, 1, &reply, &len) != 1)
			abort();
	}
	if (reply == NULL)
		abort(); /* only out of memory may do that */
	doc = json_loadb(reply, len, 0, NULL);
	if (!json_is_object(doc) || !json_is_boolean(json_object_get(doc, "ok")))
		abort(); /* a reply that is not a JSON object */
	json_decref(doc);
	free(reply);
	return 0;
}
