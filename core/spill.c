/*
 * spill: a spill directory's files, written out and read back (see
 * spill.h). Knows blobs only by id, size and CRC; the catalog decides
 * which to write and records them. The copies run without any lock; the
 * idle rings and the armed faults are guarded by spill.lock.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "durable.h"
#include "id.h"
#include "log.h"
#include "spill.h"
#include "uring.h"
#include "util.h"

#define SPILL_RINGS 4 /* rings kept for reuse */
#define TMP_PREFIX ".tmp-"
#define LOCK_FILE ".vineyardfs-spill.lock" /* one store per spill directory */

struct spill {
	char dir[PATH_MAX];
	int dirfd;
	int lockfd;			  /* LOCK_FILE, flocked while the store is open */
	int direct;			  /* O_DIRECT works in dir */
	pthread_mutex_t lock;		  /* guards the fields below */
	struct uring *rings[SPILL_RINGS]; /* idle rings */
	unsigned nrings;
	struct uring_faults faults; /* for the next ring handed out */
	int faults_armed;
};

/* ---- rings ---- */

static int
ring_get(struct spill *sp, struct uring **out)
{
	struct uring *u = NULL;
	int rc = 0;

	pthread_mutex_lock(&sp->lock);
	if (sp->nrings > 0)
		u = sp->rings[--sp->nrings];
	pthread_mutex_unlock(&sp->lock);
	if (u == NULL && (rc = uring_open(&u, 0)) != 0) {
		log_error("spill: cannot set up io_uring: %s", strerror(-rc));
		return rc;
	}
	pthread_mutex_lock(&sp->lock);
	if (sp->faults_armed) {
		uring_set_faults(u, &sp->faults);
		sp->faults_armed = 0;
	}
	pthread_mutex_unlock(&sp->lock);
	*out = u;
	return 0;
}

static void
ring_put(struct spill *sp, struct uring *u)
{
	uring_set_faults(u, NULL);
	pthread_mutex_lock(&sp->lock);
	if (sp->nrings < SPILL_RINGS) {
		sp->rings[sp->nrings++] = u;
		u = NULL;
	}
	pthread_mutex_unlock(&sp->lock);
	uring_close(u);
}

void
spill_set_faults(spill_t *sp, const struct uring_faults *f)
{
	pthread_mutex_lock(&sp->lock);
	sp->faults_armed = f != NULL;
	if (f != NULL)
		sp->faults = *f;
	pthread_mutex_unlock(&sp->lock);
}

/* ---- files ---- */

static void
file_names(uint64_t id, char name[ID_STR_LEN + 1], char tmp[ID_STR_LEN + sizeof TMP_PREFIX])
{
	id_format(id, name);
	if (tmp != NULL)
		snprintf(tmp, ID_STR_LEN + sizeof TMP_PREFIX, TMP_PREFIX "%s", name);
}

int
spill_file_check(spill_t *sp, uint64_t id, uint64_t size)
{
	char name[ID_STR_LEN + 1];
	struct stat st;

	file_names(id, name, NULL);
	if (fstatat(sp->dirfd, name, &st, 0) != 0)
		return -errno;
	return (uint64_t)st.st_size == size ? 0 : -EIO;
}

int
spill_file_open(spill_t *sp, uint64_t id, int *fd)
{
	char name[ID_STR_LEN + 1];

	file_names(id, name, NULL);
	*fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC | (sp->direct ? O_DIRECT : 0));
	return *fd >= 0 ? 0 : -errno;
}

void
spill_file_remove(spill_t *sp, uint64_t id)
{
	char name[ID_STR_LEN + 1];

	file_names(id, name, NULL);
	if (unlinkat(sp->dirfd, name, 0) != 0 && errno != ENOENT)
		log_warn("cannot remove spill file %s/%s: %s", sp->dir, name, strerror(errno));
}

/* ---- writing out ---- */

int
spill_batch_begin(spill_t *sp, struct spill_batch *b, char *err, size_t errlen)
{
	int rc;

	b->sp = sp;
	b->ring = NULL;
	b->written = 0;
	if ((rc = ring_get(sp, &b->ring)) != 0)
		util_fail(err, errlen, rc, "no io_uring: %s", strerror(-rc));
	return rc;
}

int
spill_write(struct spill_batch *b, uint64_t id, int src, uint64_t size, void **map, uint32_t *crc, char *err,
    size_t errlen)
{
	struct spill *sp = b->sp;
	char name[ID_STR_LEN + 1];
	/* Written from a mapping of the blob, which the caller keeps: its
	 * pages go with it (mem_release). The directory's fsync waits for
	 * the end of the batch. */
	struct durable d = {
		.u = b->ring,
		.dirfd = sp->dirfd,
		.dir = sp->dir,
		.name = name,
		.tmp = TMP_PREFIX,
		.flags = sp->direct ? DURABLE_DIRECT : 0,
		.src = { .kind = DURABLE_SRC_MEM },
		.size = size,
	};
	int rc;

	file_names(id, name, NULL);
	if ((rc = uring_map_src(src, size, map, err, errlen)) != 0)
		return rc;
	d.src.mem = *map;
	if ((rc = durable_write(&d, err, errlen)) == 0 && (rc = durable_place(&d, err, errlen)) == 0) {
		*crc = d.crc;
		b->written++;
	}
	return rc;
}

int
spill_batch_end(struct spill_batch *b, char *err, size_t errlen)
{
	int rc = 0;

	if (b->written > 0)
		rc = durable_sync_dir(b->ring, b->sp->dirfd, b->sp->dir, err, errlen);
	if (b->ring != NULL)
		ring_put(b->sp, b->ring);
	b->ring = NULL;
	return rc;
}

/* ---- reading back ---- */

int
spill_read(spill_t *sp, store_t *store, uint64_t id, uint64_t size, int has_crc, uint32_t want, char *err,
    size_t errlen)
{
	char name[ID_STR_LEN + 1];
	struct uring *u = NULL;
	/* Into the store's tmpfs: read straight into a mapping of the new
	 * file, its CRC summed in place, no fallocate (the caller made room,
	 * and reserving would zero every page before the copy writes it: a
	 * fifth of the reload's time), no fsync (memory). Renamed into place
	 * complete: a crash mid-reload leaves a temp the reconcile removes. */
	struct durable d = {
		.dirfd = store_dirfd(store),
		.dir = store_dir(store),
		.name = name,
		.tmp = TMP_PREFIX,
		.flags = DURABLE_MAPPED | DURABLE_NOSYNC | (has_crc ? DURABLE_VERIFY : 0),
		.src = { .kind = DURABLE_SRC_FD, .fd = -1 },
		.size = size,
		.want = want,
	};
	int rc;

	file_names(id, name, NULL);
	d.src.fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC | (sp->direct ? O_DIRECT : 0));
	if (d.src.fd < 0)
		return util_fail(
		    err, errlen, -errno, "cannot open %s/%s: %s", sp->dir, name, strerror(errno));
	if ((rc = ring_get(sp, &u)) != 0)
		util_fail(err, errlen, rc, "no io_uring: %s", strerror(-rc));
	else {
		d.u = u;
		rc = durable_copy(&d, err, errlen);
		ring_put(sp, u);
	}
	if (rc != 0 && d.mismatch)
		rc = util_fail(err, errlen, -EIO, "%s/%s is corrupt: CRC-32C %08x, recorded %08x", sp->dir,
		    name, d.crc, want);
	close(d.src.fd);
	return rc;
}

/* ---- the directory ---- */

/* Does O_DIRECT work for files in dirfd? */
static int
direct_works(int dirfd)
{
	static const char probe[] = TMP_PREFIX "probe";
	int fd = openat(dirfd, probe, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);

	if (fd < 0)
		return 0;
	close(fd);
	unlinkat(dirfd, probe, 0);
	return 1;
}

int
spill_open(const char *dir, spill_t **out)
{
	struct spill *sp = calloc(1, sizeof *sp);
	int rc;

	if (sp == NULL)
		return -ENOMEM;
	snprintf(sp->dir, sizeof sp->dir, "%s", dir);
	sp->lockfd = -1;
	if ((sp->dirfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = -errno;
		log_error("cannot open the spill directory %s: %s", sp->dir, strerror(errno));
		free(sp);
		return rc;
	}
	/* Two stores in one spill directory would remove each other's files. */
	if ((sp->lockfd = openat(sp->dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(sp->lockfd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_error("spill directory %s: %s", sp->dir,
		    rc == -EBUSY ? "in use by another vineyardfs store" : strerror(-rc));
		if (sp->lockfd >= 0)
			close(sp->lockfd);
		close(sp->dirfd);
		free(sp);
		return rc;
	}
	sp->direct = direct_works(sp->dirfd);
	pthread_mutex_init(&sp->lock, NULL);
	*out = sp;
	return 0;
}

void
spill_close(spill_t *sp)
{
	if (sp == NULL)
		return;
	while (sp->nrings > 0)
		uring_close(sp->rings[--sp->nrings]);
	close(sp->lockfd);
	close(sp->dirfd);
	pthread_mutex_destroy(&sp->lock);
	free(sp);
}

const char *
spill_dir(const spill_t *sp)
{
	return sp->dir;
}

int
spill_direct(const spill_t *sp)
{
	return sp->direct;
}

int
spill_clean(spill_t *sp, int (*owned)(void *arg, uint64_t id), void *arg)
{
	struct dirent *e;
	int removed = 0;
	DIR *d;
	int fd, rc;

	if ((fd = openat(sp->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(fd)) == NULL) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		log_error("cannot read the spill directory %s: %s", sp->dir, strerror(-rc));
		return rc;
	}
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		uint64_t id;

		if (strncmp(n, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 && strlen(n) > strlen(TMP_PREFIX)) {
			if (unlinkat(sp->dirfd, n, 0) == 0)
				removed++;
			continue;
		}
		if (id_parse(n, &id) != 0 || !id_is_blob(id))
			continue;
		if (!owned(arg, id) && unlinkat(sp->dirfd, n, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
