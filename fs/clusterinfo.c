/*
 * clusterinfo: .vineyardfs/cluster, rendered at each open from the
 * member's status (core/cluster.h): who this member is, whether etcd
 * answers and how current the mirror is (the last revision seen, the
 * lists made), the publishes queued, then one "member" line per member
 * the mirror knows. One "key value" line each, as stats; a store that is
 * alone says "cluster -".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/cluster.h"
#include "fs/fs.h"

static const char *
yes(const json_t *st, const char *key)
{
	return json_is_true(json_object_get(st, key)) ? "yes" : "no";
}

static void
line(FILE *f, const json_t *st, const char *key, const char *label)
{
	const json_t *v = json_object_get(st, key);

	if (json_is_string(v))
		fprintf(f, "%s %s\n", label, json_string_value(v)[0] ? json_string_value(v) : "-");
	else if (json_is_integer(v))
		fprintf(f, "%s %lld\n", label, (long long)json_integer_value(v));
	else if (json_is_real(v))
		fprintf(f, "%s %.3f\n", label, json_real_value(v));
}

int
clusterinfo_render(char **text, size_t *len)
{
	static const char *const keys[][2] = { { "cluster", "cluster" }, { "node", "node" },
		{ "instance", "instance_id" }, { "peer", "peer" }, { "etcd", "etcd" },
		{ "ttl", "ttl_seconds" }, { "revision", "revision" }, { "lists", "lists" },
		{ "seconds_since_contact", "seconds_since_contact" }, { "queued", "publishes_queued" },
		{ "published", "objects_published" }, { "publishes", "publishes" },
		{ "name_conflicts", "name_conflicts" }, { "rejoins", "rejoins" },
		{ "last_error", "last_error" } };
	const json_t *mirror, *cache, *prefetch, *m;
	char *buf = NULL;
	size_t size = 0, i;
	const char *inst;
	json_t *st;
	FILE *f;

	if ((f = open_memstream(&buf, &size)) == NULL)
		return -ENOMEM;
	if (fs.cluster == NULL) {
		fprintf(f, "cluster -\n");
		goto out;
	}
	if ((st = cluster_status(fs.cluster)) == NULL) {
		fclose(f);
		free(buf);
		return -ENOMEM;
	}
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		line(f, st, keys[i][0], keys[i][1]);
	fprintf(f, "etcd_reachable %s\n", yes(st, "reachable"));
	fprintf(f, "joined %s\n", yes(st, "joined"));
	fprintf(f, "watching %s\n", yes(st, "watching"));
	mirror = json_object_get(st, "mirror");
	line(f, mirror, "objects", "mirror_objects");
	line(f, mirror, "blobs", "mirror_blobs");
	line(f, mirror, "names", "mirror_names");
	line(f, mirror, "pending_names", "mirror_pending_names");
	cache = json_object_get(st, "cache");
	line(f, cache, "copies", "cache_copies");
	line(f, cache, "copy_bytes", "cache_copy_bytes");
	line(f, cache, "drops", "cache_drops");
	line(f, cache, "drop_bytes", "cache_drop_bytes");
	prefetch = json_object_get(st, "prefetch");
	fprintf(f, "prefetch %s\n", yes(prefetch, "on"));
	line(f, prefetch, "queued", "prefetch_queued");
	line(f, prefetch, "blobs", "prefetch_blobs");
	line(f, prefetch, "bytes", "prefetch_bytes");
	line(f, prefetch, "skips", "prefetch_skips");
	line(f, prefetch, "errors", "prefetch_errors");
	json_object_foreach ((json_t *)json_object_get(st, "members"), inst, m) {
		const char *node = json_string_value(json_object_get(m, "node"));
		const char *peer = json_string_value(json_object_get(m, "peer"));

		fprintf(f, "member %s %s %s %s\n", inst, node ? node : "-", peer && *peer ? peer : "-",
		    json_is_true(json_object_get(m, "live")) ? "live" : "gone");
	}
	json_decref(st);
out:
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*text = buf;
	*len = size;
	return 0;
}
