/*
 * cmd_cluster: the commands about the cluster a mount belongs to
 * (vineyardfs(8), CLUSTER): publish an object, and show the members and
 * how current this member's view is.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cmd.h"

/* How long publish waits for etcd's answer before it says "queued". */
#define PUBLISH_WAIT_MS 10000

/* publish NAME|ID: queued by the daemon, then etcd's answer awaited a
 * while (a name taken in the cluster is EEXIST). */
static int
publish_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	const char *ref = args[0];
	int rc;

	(void)self;
	(void)n;
	rc = vfs_publish(v, ref, PUBLISH_WAIT_MS);
	if (rc == -EINPROGRESS) {
		if (o->json)
			printf("{\"ok\":true,\"state\":\"queued\"}\n");
		else
			printf("%s: queued: etcd has not answered yet; it is published when etcd answers\n",
			    ref);
		return 0;
	}
	if (rc != 0)
		return cli_fail("%s: %s%s%s", ref, strerror(-rc), *vfs_error(v) ? ": " : "", vfs_error(v));
	if (o->json)
		printf("{\"ok\":true,\"state\":\"published\"}\n");
	else
		printf("%s: published\n", ref);
	return 0;
}

/* cluster: .vineyardfs/cluster as it is ("key value" lines), or with
 * --json the daemon's status object. */
static int
cluster_exec(const struct cli_cmd *self, vfs_t *v, const struct cli_opts *o, char **args, int n)
{
	char path[PATH_MAX], line[1024], *reply = NULL;
	FILE *f;
	int rc;

	(void)self;
	(void)args;
	(void)n;
	if (o->json) {
		rc = vfs_request(v, "{\"op\":\"cluster\"}", &reply);
		if (rc != 0) {
			free(reply);
			return cli_lib_fail(v, "cluster", rc);
		}
		printf("%s", reply);
		free(reply);
		return 0;
	}
	snprintf(path, sizeof path, "%s/.vineyardfs/cluster", vfs_mount_point(v));
	if ((f = fopen(path, "r")) == NULL)
		return cli_fail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL)
		fputs(line, stdout);
	fclose(f);
	return 0;
}

const struct cli_cmd cmd_publish_entry = {
	.name = "publish",
	.usage = "NAME|ID",
	.summary = "publish an object to the mount's cluster",
	.min_args = 1,
	.max_args = 1,
	.exec = publish_exec,
};

const struct cli_cmd cmd_cluster_entry = {
	.name = "cluster",
	.usage = "",
	.summary = "show the cluster's members and this member's view",
	.min_args = 0,
	.max_args = 0,
	.exec = cluster_exec,
};
