/*
 * cmd_store: the commands about the whole store, answered by the daemon:
 * snapshot create (a control request, with a progress line drawn from
 * .vineyardfs/stats while it runs), pin, unpin, evict and load (where an
 * object's blobs live), and stat without an argument (the stats file).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cmd.h"
#include "cli/progress.h"
#include "core/util.h"

/* The progress line of a snapshot: the daemon's counters in
 * .vineyardfs/stats, read while the request waits for its reply. */
struct snap_watch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done; /* the reply came */
	char stats[PATH_MAX];
	const char *label;
};

/* A value of the stats file, or 0. */
static uint64_t
stats_value(FILE *f, const char *key)
{
	char line[256];
	size_t n = strlen(key);

	rewind(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ' ')
			return strtoull(line + n + 1, NULL, 10);
	return 0;
}

static void *
snap_watch(void *arg)
{
	struct snap_watch *w = arg;
	struct progress p;
	struct timespec until;
	uint64_t total = 0, done;
	FILE *f;

	pthread_mutex_lock(&w->lock);
	while (!w->done) {
		pthread_mutex_unlock(&w->lock);
		if ((f = fopen(w->stats, "r")) != NULL) {
			if (stats_value(f, "snapshot_running") == 1) {
				done = stats_value(f, "snapshot_bytes_done");
				if (total == 0 && (total = stats_value(f, "snapshot_bytes_total")) > 0)
					progress_start(&p, w->label, total);
				if (total > 0)
					progress_update(&p, done);
			}
			fclose(f);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&w->lock);
		if (!w->done)
			pthread_cond_timedwait(&w->cond, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	if (total > 0) {
		progress_update(&p, total);
		progress_end(&p);
	}
	return NULL;
}

/* snapshot create DIR: the daemon writes it (see vineyardfs(8)). */
static int
snapshot_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	struct snap_watch w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", "snapshot" };
	char dir[PATH_MAX], cwd[PATH_MAX], *text = NULL, *reply = NULL;
	json_t *req, *r;
	pthread_t th;
	int rc, watching;

	(void)self; /* its only subcommand, create, was checked by cli.c */
	(void)n;
	/* The daemon resolves nothing: give it an absolute path. */
	if (realpath(args[1], dir) == NULL) {
		if (errno != ENOENT)
			return cli_fail("%s: %s", args[1], strerror(errno));
		if (args[1][0] == '/')
			snprintf(dir, sizeof dir, "%s", args[1]);
		else if (getcwd(cwd, sizeof cwd) == NULL ||
			 snprintf(dir, sizeof dir, "%s/%s", cwd, args[1]) >= (int)sizeof dir)
			return cli_fail("%s: cannot make it an absolute path", args[1]);
	}
	req = json_pack("{s:s, s:s}", "op", "snapshot", "dir", dir);
	text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (text == NULL)
		return cli_fail("out of memory");
	snprintf(w.stats, sizeof w.stats, "%s/.vineyardfs/stats", vfs_mount_point(v));
	watching = isatty(STDERR_FILENO) && pthread_create(&th, NULL, snap_watch, &w) == 0;
	rc = vfs_request(v, text, &reply);
	free(text);
	if (watching) {
		pthread_mutex_lock(&w.lock);
		w.done = 1;
		pthread_cond_signal(&w.cond);
		pthread_mutex_unlock(&w.lock);
		pthread_join(th, NULL);
	}
	if (rc != 0) {
		free(reply);
		return cli_lib_fail(v, dir, rc);
	}
	if (o->json)
		printf("%s\n", reply);
	else if ((r = json_loads(reply, 0, NULL)) != NULL) {
		char copied[32], skipped[32];

		util_format_size(
		    (uint64_t)json_integer_value(json_object_get(r, "bytes_copied")), copied, sizeof copied);
		util_format_size((uint64_t)json_integer_value(json_object_get(r, "bytes_skipped")), skipped,
		    sizeof skipped);
		printf(
		    "%s: %lld objects, %lld names, %lld blobs; copied %lld blobs (%s), %lld already there (%s), "
		    "removed %lld unused, in %.1f s\n",
		    dir, (long long)json_integer_value(json_object_get(r, "objects")),
		    (long long)json_integer_value(json_object_get(r, "names")),
		    (long long)json_integer_value(json_object_get(r, "blobs")),
		    (long long)json_integer_value(json_object_get(r, "blobs_copied")), copied,
		    (long long)json_integer_value(json_object_get(r, "blobs_skipped")), skipped,
		    (long long)json_integer_value(json_object_get(r, "blobs_removed")),
		    json_real_value(json_object_get(r, "seconds")));
		json_decref(r);
	}
	free(reply);
	return 0;
}

/* pin, unpin, evict, load NAME|ID: where an object's blobs live. */
static int
residence_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	const char *cmd = self->name, *ref = args[0];
	char id[VFS_ID_SIZE], text[128], size[32], *reply = NULL;
	json_t *r;
	int rc;

	(void)n;
	if ((rc = vfs_resolve(v, ref, id)) != 0)
		return cli_lib_fail(v, ref, rc);
	snprintf(text, sizeof text, "{\"op\":\"%s\",\"id\":\"%s\"}", cmd, id);
	if ((rc = vfs_request(v, text, &reply)) != 0) {
		free(reply);
		return cli_lib_fail(v, ref, rc);
	}
	if (o->json)
		printf("%s\n", reply);
	else if ((r = json_loads(reply, 0, NULL)) != NULL) {
		util_format_size(
		    (uint64_t)json_integer_value(json_object_get(r, "bytes")), size, sizeof size);
		printf("%s: %s %lld blobs (%s)\n", ref,
		    strcmp(cmd, "pin") == 0	? "pinned"
		    : strcmp(cmd, "unpin") == 0 ? "unpinned"
		    : strcmp(cmd, "evict") == 0 ? "evicted"
						: "loaded",
		    (long long)json_integer_value(json_object_get(r, "blobs")), size);
		json_decref(r);
	}
	free(reply);
	return 0;
}

/* stat without an argument: the store's memory, spill and counters, from
 * .vineyardfs/stats ("key value" lines; --json: one object). */
int
cmd_store_stat(vfs_t *v, const struct cli_opts *o)
{
	static const char *const sizes[][2] = {
		{ "memory_limit_bytes", "memory limit" },
		{ "memory_used_bytes", "memory in use" },
		{ "bytes_sealed", "sealed bytes" },
		{ "bytes_in_memory", "  in memory" },
		{ "bytes_on_disk_only", "  on disk only" },
		{ "bytes_spilled", "  with a spill copy" },
		{ "bytes_pinned", "  pinned" },
		{ "bytes_releasing", "evicted, memory being released" },
	};
	char path[PATH_MAX], line[512], size[32];
	json_t *all = json_object();
	FILE *f;
	size_t i;

	snprintf(path, sizeof path, "%s/.vineyardfs/stats", vfs_mount_point(v));
	if (all == NULL || (f = fopen(path, "r")) == NULL) {
		json_decref(all);
		return cli_fail("%s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *sp = strchr(line, ' '), *end;
		unsigned long long n;

		line[strcspn(line, "\n")] = '\0';
		if (sp == NULL)
			continue;
		*sp++ = '\0';
		errno = 0;
		n = strtoull(sp, &end, 10);
		json_object_set_new(all, line,
		    *sp != '\0' && *end == '\0' && errno == 0 ? json_integer((json_int_t)n)
							      : json_string(sp));
	}
	fclose(f);
	if (o->json) {
		char *text = json_dumps(all, JSON_COMPACT);

		printf("%s\n", text ? text : "{}");
		free(text);
		json_decref(all);
		return 0;
	}
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		util_format_size(
		    (uint64_t)json_integer_value(json_object_get(all, sizes[i][0])), size, sizeof size);
		printf("%-20s %s\n", sizes[i][1], size);
	}
	printf("%-20s %s\n", "spill directory", json_string_value(json_object_get(all, "spill_dir")));
	if (json_is_integer(json_object_get(all, "spill_high_bytes"))) {
		char low[32];

		util_format_size((uint64_t)json_integer_value(json_object_get(all, "spill_high_bytes")), size,
		    sizeof size);
		util_format_size(
		    (uint64_t)json_integer_value(json_object_get(all, "spill_low_bytes")), low, sizeof low);
		printf("%-20s above %s, down to %s\n", "spill", size, low);
	}
	for (i = 0; i < 2; i++) {
		const char *what = i == 0 ? "spill" : "reload";
		char key[64], rate[32];

		snprintf(key, sizeof key, "%s_bytes", what);
		util_format_size((uint64_t)json_integer_value(json_object_get(all, key)), size, sizeof size);
		snprintf(key, sizeof key, "%s_bytes_per_second", what);
		util_format_size((uint64_t)json_integer_value(json_object_get(all, key)), rate, sizeof rate);
		snprintf(key, sizeof key, "%s_errors", what);
		printf("%-20s %lld (%s, %s/s), %lld errors\n", i == 0 ? "spills" : "reloads",
		    (long long)json_integer_value(json_object_get(all, i == 0 ? "spills" : "reloads")), size,
		    rate, (long long)json_integer_value(json_object_get(all, key)));
	}
	printf("%-20s %lld\n", "evictions", (long long)json_integer_value(json_object_get(all, "evictions")));
	printf("%-20s %lld objects, %lld names, %lld blobs\n", "store",
	    (long long)json_integer_value(json_object_get(all, "objects")),
	    (long long)json_integer_value(json_object_get(all, "names")),
	    (long long)json_integer_value(json_object_get(all, "blobs")));
	json_decref(all);
	return 0;
}

const struct cli_cmd cmd_snapshot_entry = {
	.name = "snapshot",
	.usage = "create DIR",
	.summary = "snapshot every sealed object (root only)",
	.min_args = 2,
	.max_args = 2,
	.exec = snapshot_exec,
};

const struct cli_cmd cmd_pin_entry = {
	.name = "pin",
	.usage = "NAME|ID",
	.summary = "keep an object's blobs in memory",
	.min_args = 1,
	.max_args = 1,
	.exec = residence_exec,
};

const struct cli_cmd cmd_unpin_entry = {
	.name = "unpin",
	.usage = "NAME|ID",
	.summary = "let an object's blobs be spilled again",
	.min_args = 1,
	.max_args = 1,
	.exec = residence_exec,
};

const struct cli_cmd cmd_evict_entry = {
	.name = "evict",
	.usage = "NAME|ID",
	.summary = "spill an object's blobs now (another member's: drop the fetched copy)",
	.min_args = 1,
	.max_args = 1,
	.exec = residence_exec,
};

const struct cli_cmd cmd_load_entry = {
	.name = "load",
	.usage = "NAME|ID",
	.summary = "bring an object's spilled blobs back into memory",
	.min_args = 1,
	.max_args = 1,
	.exec = residence_exec,
};
