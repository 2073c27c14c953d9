/*
 * snapshot_restore: a restore runs before the catalog opens: blobs first,
 * each verified against its recorded CRC-32C as it is copied into the
 * store and renamed to its blob name (durable_write, durable_place), the
 * database last (meta_snap_install into a temp file, then durable_rename:
 * fsync, rename, fsync of the state dir). Until that rename the old database is in place, and the blob
 * files already restored are files it does not know: a failure removes
 * them, a crash leaves them to the start-up reconcile, which removes such
 * orphans.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "durable.h"
#include "id.h"
#include "log.h"
#include "meta.h"
#include "snapshot.h"
#include "snapshot_i.h"
#include "store.h"
#include "uring.h"
#include "util.h"

#define RESTORE_DB ".restore-meta.db" /* in the state dir, being restored */
#define RESTORE_PREFIX ".restore-"    /* blob files being restored */
#define STATE_DB "meta.db"	      /* as in catalog.c */
#define STATE_MEM "mem"		      /* as in catalog.c: the store's tmpfs */

/* A blob of the snapshot being restored. */
struct rblob {
	uint64_t id;
	uint64_t size;
	uint32_t crc;
	int placed; /* its file is in the store */
};

struct restore {
	const struct catalog_config *cfg;
	const char *dir;
	char state_db[PATH_MAX], store_path[PATH_MAX];
	meta_snap_t *snap; /* the snapshot's meta.db, read-only */
	struct rblob *blobs;
	size_t nblobs, cap;
	store_t *store;
	int storefd, srcfd, statefd;
	int mounted_here; /* the store's tmpfs was mounted by this restore */
	int made_store;	  /* the store dir was created by this restore */
	int tmp_db;
	struct uring *u;
	struct snapshot_result *res;
	char *err;
	size_t errlen;
};

/* Is path the root of a mount (its device differs from its parent's)? */
static int
is_mount_root(const char *path)
{
	char parent[PATH_MAX + 4];
	struct stat st, pst;

	snprintf(parent, sizeof parent, "%s/..", path);
	return stat(path, &st) == 0 && stat(parent, &pst) == 0 && st.st_dev != pst.st_dev;
}

/* meta_snap_blobs of the snapshot: each blob must have its checksum. */
static int
add_blob(void *arg, const struct meta_snap_blob *sb)
{
	struct restore *r = arg;
	char ids[ID_STR_LEN + 1];
	struct rblob *b;

	if (!sb->has_crc) {
		id_format(sb->id, ids);
		return util_fail(r->err, r->errlen, -EINVAL,
		    "%s/%s: blob %s has no checksum of its %llu bytes", r->dir, SNAPSHOT_DB, ids,
		    (unsigned long long)sb->size);
	}
	if (r->nblobs == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;

		if ((b = realloc(r->blobs, cap * sizeof *b)) == NULL)
			return util_fail(r->err, r->errlen, -ENOMEM, "out of memory");
		r->blobs = b;
		r->cap = cap;
	}
	b = &r->blobs[r->nblobs++];
	memset(b, 0, sizeof *b);
	b->id = sb->id;
	b->size = sb->size;
	b->crc = sb->crc32c;
	r->res->bytes += b->size;
	return 0;
}

/* Read the snapshot's blob table, each blob of its database checked
 * against it. */
static int
load_snapshot(struct restore *r)
{
	char path[PATH_MAX];
	uint64_t format = 0;
	int rc;

	snprintf(path, sizeof path, "%s/%s", r->dir, SNAPSHOT_DB);
	if (access(path, R_OK) != 0)
		return util_fail(
		    r->err, r->errlen, -errno, "%s: %s (no snapshot there?)", path, strerror(errno));
	if ((rc = meta_snap_open(path, 0, &r->snap, r->err, r->errlen)) != 0 ||
	    (rc = meta_snap_format(r->snap, &format, r->err, r->errlen)) != 0)
		return rc;
	if (format == 0 || format > SNAPSHOT_FORMAT)
		return util_fail(r->err, r->errlen, -EPROTO,
		    "%s has snapshot format %llu; this vineyardfs reads %d", path, (unsigned long long)format,
		    SNAPSHOT_FORMAT);
	if ((rc = meta_snap_count(
		 r->snap, &r->res->objects, &r->res->names, &r->res->blobs, r->err, r->errlen)) != 0)
		return rc;
	return meta_snap_blobs(r->snap, add_blob, r, r->err, r->errlen);
}

/* Refuse a state dir whose database holds objects. */
static int
check_state(struct restore *r)
{
	uint64_t n = 0;
	int rc;

	if (access(r->state_db, F_OK) != 0)
		return 0;
	if ((rc = meta_snap_state_objects(r->state_db, &n, r->err, r->errlen)) != 0)
		return rc;
	if (n > 0)
		return util_fail(r->err, r->errlen, -ENOTEMPTY,
		    "the state dir %s already holds %llu object%s; a restore needs an empty store (move the state dir "
		    "away, or give another --state-dir)",
		    r->cfg->state_dir, (unsigned long long)n, n == 1 ? "" : "s");
	return 0;
}

static int
open_store(struct restore *r)
{
	const char *mem = r->cfg->backing_dir;
	struct stat st;
	int rc;

	if (mem == NULL)
		snprintf(r->store_path, sizeof r->store_path, "%s/%s", r->cfg->state_dir, STATE_MEM);
	else
		snprintf(r->store_path, sizeof r->store_path, "%s", mem);
	r->made_store = stat(r->store_path, &st) != 0;
	r->mounted_here = mem == NULL && (r->made_store || !is_mount_root(r->store_path));
	if ((rc = store_open(r->store_path, r->cfg->memory_limit,
		 mem == NULL ? STORE_MOUNT | (r->cfg->huge_pages ? STORE_HUGE : 0) : 0, &r->store)) != 0)
		return util_fail(
		    r->err, r->errlen, rc, "cannot open the store at %s: %s", r->store_path, strerror(-rc));
	if ((r->storefd = open(r->store_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return util_fail(r->err, r->errlen, -errno, "%s: %s", r->store_path, strerror(errno));
	if (r->res->bytes > r->cfg->memory_limit) {
		char have[32], limit[32];

		util_format_size(r->res->bytes, have, sizeof have);
		util_format_size(r->cfg->memory_limit, limit, sizeof limit);
		return util_fail(r->err, r->errlen, -ENOSPC,
		    "the snapshot holds %s of blobs, more than the memory limit "
		    "of %s (--memory)",
		    have, limit);
	}
	return 0;
}

/* Copy one blob into the store, checking its size and checksum: into a
 * mapping of its file (the store is memory), fsynced for a backing dir
 * that is not; the store's directory is not: the database is installed
 * last, and a blob file it does not know is an orphan. */
static int
restore_blob(struct restore *r, struct rblob *b)
{
	char ids[ID_STR_LEN + 1], what[ID_STR_LEN + 8];
	struct durable d = {
		.u = r->u,
		.dirfd = r->storefd,
		.dir = r->store_path,
		.name = ids,
		.tmp = RESTORE_PREFIX,
		.what = what,
		.flags = DURABLE_MAPPED | DURABLE_VERIFY,
		.src = { .kind = DURABLE_SRC_FD, .fd = -1 },
		.size = b->size,
		.want = b->crc,
	};
	struct stat st;
	int rc;

	id_format(b->id, ids);
	snprintf(what, sizeof what, "blob %s", ids);
	if ((rc = durable_open_src(r->srcfd, ids, &d.src.fd)) != 0)
		return util_fail(r->err, r->errlen, rc, "blob %s is %s in %s/%s", ids,
		    rc == -ENOENT ? "missing" : strerror(-rc), r->dir, SNAPSHOT_BLOBS);
	if (fstat(d.src.fd, &st) != 0) {
		rc = util_fail(r->err, r->errlen, -errno, "blob %s in %s/%s: %s", ids, r->dir, SNAPSHOT_BLOBS,
		    strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size != b->size) {
		rc = util_fail(r->err, r->errlen, -EIO,
		    "blob %s in %s/%s has %lld bytes; the snapshot recorded %llu", ids, r->dir,
		    SNAPSHOT_BLOBS, (long long)st.st_size, (unsigned long long)b->size);
		goto out;
	}
	if ((rc = durable_write(&d, r->err, r->errlen)) != 0) {
		if (d.mismatch)
			rc = util_fail(r->err, r->errlen, -EIO,
			    "blob %s in %s/%s is corrupt: its CRC-32C is %08x, the snapshot recorded %08x",
			    ids, r->dir, SNAPSHOT_BLOBS, d.crc, b->crc);
		goto out;
	}
	if ((rc = durable_place(&d, r->err, r->errlen)) == 0)
		b->placed = 1;
out:
	close(d.src.fd);
	return rc;
}

/* The snapshot's database, less its own tables, as the state dir's. */
static int
install_db(struct restore *r)
{
	char tmp[PATH_MAX + 32], side[PATH_MAX + 32];
	static const char *const sides[] = { "-wal", "-shm", "-journal" };
	size_t i;
	int rc;

	snprintf(tmp, sizeof tmp, "%s/%s", r->cfg->state_dir, RESTORE_DB);
	snap_remove_prefixed(r->statefd, RESTORE_DB);
	r->tmp_db = 1;
	if ((rc = meta_snap_install(r->snap, tmp, r->err, r->errlen)) != 0)
		return rc;
	/* The old database closed cleanly (check_state): a log left beside
	 * it would be replayed into the new one. */
	for (i = 0; i < sizeof sides / sizeof sides[0]; i++) {
		snprintf(side, sizeof side, "%s%s", STATE_DB, sides[i]);
		if (unlinkat(r->statefd, side, 0) != 0 && errno != ENOENT)
			return util_fail(
			    r->err, r->errlen, -errno, "%s/%s: %s", r->cfg->state_dir, side, strerror(errno));
	}
	if ((rc = durable_rename(
		 r->u, r->statefd, r->cfg->state_dir, RESTORE_DB, STATE_DB, r->err, r->errlen)) != 0)
		return rc;
	r->tmp_db = 0;
	return 0;
}

/* Undo a failed restore: the blob files placed, the temp files, the
 * tmpfs if this restore mounted it. */
static void
restore_undo(struct restore *r)
{
	char ids[ID_STR_LEN + 1];
	size_t i;

	if (r->storefd >= 0) {
		for (i = 0; i < r->nblobs; i++) {
			if (!r->blobs[i].placed)
				continue;
			id_format(r->blobs[i].id, ids);
			unlinkat(r->storefd, ids, 0);
		}
		close(r->storefd);
		r->storefd = -1;
	}
	if (r->tmp_db && r->statefd >= 0)
		snap_remove_prefixed(r->statefd, RESTORE_DB);
	store_close(r->store);
	r->store = NULL;
	if (r->mounted_here && umount2(r->store_path, MNT_DETACH) != 0)
		log_warn("restore: cannot unmount %s: %s", r->store_path, strerror(errno));
	if (r->made_store)
		rmdir(r->store_path);
}

int
snapshot_restore(
    const struct catalog_config *cfg, const char *dir, struct snapshot_result *res, char *err, size_t errlen)
{
	struct restore r = { .cfg = cfg,
		.dir = dir,
		.storefd = -1,
		.srcfd = -1,
		.statefd = -1,
		.res = res,
		.err = err,
		.errlen = errlen };
	int64_t start = util_mono_ns();
	char path[PATH_MAX];
	size_t i;
	int rc;

	memset(res, 0, sizeof *res);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	snprintf(r.state_db, sizeof r.state_db, "%s/%s", cfg->state_dir, STATE_DB);
	if ((rc = load_snapshot(&r)) != 0 || (rc = check_state(&r)) != 0)
		goto out;
	if ((r.statefd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = util_fail(err, errlen, -errno, "%s: %s", cfg->state_dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof path, "%s/%s", dir, SNAPSHOT_BLOBS);
	if ((r.srcfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 &&
	    (errno != ENOENT || r.nblobs > 0)) {
		rc = util_fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = open_store(&r)) != 0 || (rc = snap_ring_open(&r.u, err, errlen)) != 0)
		goto out;
	/* What a restore that crashed left. */
	snap_remove_prefixed(r.storefd, RESTORE_PREFIX);
	for (i = 0; i < r.nblobs; i++) {
		if ((rc = restore_blob(&r, &r.blobs[i])) != 0)
			goto out;
		res->blobs_copied++;
		res->bytes_copied += r.blobs[i].size;
	}
	rc = install_db(&r);
out:
	if (rc != 0)
		restore_undo(&r);
	if (r.storefd >= 0)
		close(r.storefd);
	store_close(r.store);
	if (r.srcfd >= 0)
		close(r.srcfd);
	if (r.statefd >= 0)
		close(r.statefd);
	meta_snap_close(r.snap, NULL, 0);
	uring_close(r.u);
	free(r.blobs);
	res->elapsed_ns = util_mono_ns() - start;
	if (rc == 0)
		log_info(
		    "restored %llu objects, %llu names and %llu blobs (%llu bytes, checksums verified) from %s "
		    "in %.2f s",
		    (unsigned long long)res->objects, (unsigned long long)res->names,
		    (unsigned long long)res->blobs, (unsigned long long)res->bytes, dir,
		    (double)res->elapsed_ns / 1e9);
	else
		log_error("restore from %s failed: %s; the state dir %s is as it was", dir,
		    err != NULL ? err : strerror(-rc), cfg->state_dir);
	return rc;
}
