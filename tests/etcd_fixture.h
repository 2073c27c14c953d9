/*
 * etcd_fixture: a real etcd (Debian's etcd-server) for the Check programs
 * that need one. It runs on two free ports of 127.0.0.1 with its data and
 * log under a directory of the test's, and is killed at the end: nothing
 * else is reached. Every wait is bounded.
 */
#ifndef VFS_ETCD_FIXTURE_H
#define VFS_ETCD_FIXTURE_H

#include <check.h>
#include <sys/types.h>

#define ETCD_FIXTURE_BIN "/usr/bin/etcd"
#define ETCD_FIXTURE_DEADLINE_S 60 /* generous: the machine may be busy */

struct etcd_fixture {
	char dir[256]; /* the data dir is dir/etcd-data, the log dir/etcd.log */
	int client_port, peer_port;
	char url[64]; /* http://127.0.0.1:client_port */
	pid_t pid;    /* -1: not running */
};

/* A port nobody listens on now (the kernel's choice of a free one). */
int etcd_fixture_free_port(void);
/* Choose f's ports and URL for an etcd with its files under dir. */
void etcd_fixture_init(struct etcd_fixture *f, const char *dir);
/* Start etcd (again, after a stop: same ports, same data dir) and return
 * once it answers a read; fails the test if it does not in time. */
void etcd_fixture_start(struct etcd_fixture *f);
/* Kill it (SIGKILL) and reap it; no-op when not running. */
void etcd_fixture_stop(struct etcd_fixture *f);
/* A test program's main: run suite s, or skip (77) without an etcd
 * binary; the exit status. Every test's directory (etcd_fixture_mkdir)
 * is under one root that goes at the end, also after a failed test
 * (whose teardown Check does not run). */
int etcd_fixture_main(Suite *s);
/* A new empty directory for one test, its path in dir (len bytes). */
void etcd_fixture_mkdir(char *dir, size_t len);

#endif
