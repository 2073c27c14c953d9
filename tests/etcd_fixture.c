/*
 * etcd_fixture: see etcd_fixture.h.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/etcd.h"
#include "tests/etcd_fixture.h"

int
etcd_fixture_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

void
etcd_fixture_init(struct etcd_fixture *f, const char *dir)
{
	snprintf(f->dir, sizeof f->dir, "%s", dir);
	f->client_port = etcd_fixture_free_port();
	f->peer_port = etcd_fixture_free_port();
	snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", f->client_port);
	f->pid = -1;
}

void
etcd_fixture_start(struct etcd_fixture *f)
{
	char data[512], log[512], purl[64], cluster[96];
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	struct etcd_range r;
	time_t until;
	etcd_t *e;
	int fd, rc = -1;

	snprintf(data, sizeof data, "%s/etcd-data", f->dir);
	snprintf(log, sizeof log, "%s/etcd.log", f->dir);
	snprintf(purl, sizeof purl, "http://127.0.0.1:%d", f->peer_port);
	snprintf(cluster, sizeof cluster, "t=%s", purl);
	if ((f->pid = fork()) == 0) {
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(ETCD_FIXTURE_BIN, "etcd", "--name", "t", "--data-dir", data, "--listen-client-urls",
		    f->url, "--advertise-client-urls", f->url, "--listen-peer-urls", purl,
		    "--initial-advertise-peer-urls", purl, "--initial-cluster", cluster,
		    "--initial-cluster-state", "new", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(f->pid, 0);
	ck_assert_int_eq(etcd_open(f->url, 2000, &e), 0);
	for (until = time(NULL) + ETCD_FIXTURE_DEADLINE_S; time(NULL) < until;) {
		if ((rc = etcd_get(e, "x", 1, 0, 0, &r)) == 0) {
			etcd_range_free(&r);
			break;
		}
		ck_assert_msg(waitpid(f->pid, NULL, WNOHANG) == 0, "etcd exited at start; see %s", log);
		nanosleep(&tick, NULL);
	}
	etcd_close(e);
	ck_assert_msg(
	    rc == 0, "etcd did not answer within %d s (last: %d); see %s", ETCD_FIXTURE_DEADLINE_S, rc, log);
}

void
etcd_fixture_stop(struct etcd_fixture *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
		f->pid = -1;
	}
}

static char root[64];

void
etcd_fixture_mkdir(char *dir, size_t len)
{
	ck_assert_msg(root[0] != '\0', "no root: etcd_fixture_main makes it");
	snprintf(dir, len, "%s/t.XXXXXX", root);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

int
etcd_fixture_main(Suite *s)
{
	char cmd[128];
	SRunner *sr;
	int failed;

	if (access(ETCD_FIXTURE_BIN, X_OK) != 0) {
		printf("SKIP: %s is missing (Debian's etcd-server)\n", ETCD_FIXTURE_BIN);
		return 77;
	}
	snprintf(root, sizeof root, "/tmp/vfs-check-etcd.XXXXXX");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp /tmp/vfs-check-etcd.XXXXXX");
		return 99;
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	return failed == 0 ? 0 : 1;
}
