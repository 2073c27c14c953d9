/*
 * attr: what every kind of inode shares: attributes into FUSE's
 * structures, how long the kernel may keep them, and a setattr's request
 * as a catalog change.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "fs/fs.h"

/* How long the kernel may trust an inode's attributes. Sealed things never
 * change. Data files being written change only through this mount, and the
 * kernel tracks those changes itself (passthrough and FUSE writes update its
 * size), so their attributes may be cached too; the catalog invalidates
 * what it changes behind the kernel's back. meta.json and the object
 * directories of unsealed objects change as the object does. */
static double
ttl_of(const struct catalog_attr *a)
{
	if (a->sealed)
		return FS_TTL_SEALED;
	if (S_ISREG(a->mode) && (id_is_blob(a->ino) || ino_view(a->ino) == INO_VIEW_DATA))
		return FS_TTL_SEALED;
	return FS_TTL_NONE;
}

void
fs_attr_to_stat(const struct catalog_attr *a, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_size = (off_t)a->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	st->st_atim = util_ns_ts(a->atime_ns);
	st->st_mtim = util_ns_ts(a->mtime_ns);
	st->st_ctim = util_ns_ts(a->ctime_ns);
}

void
fs_attr_to_entry(const struct catalog_attr *a, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof *e);
	e->ino = a->ino;
	fs_attr_to_stat(a, &e->attr);
	e->attr_timeout = ttl_of(a);
	/* Names change only through this mount or with an invalidation. */
	e->entry_timeout = FS_TTL_SEALED;
}

void
fs_attr_reply(fuse_req_t req, const struct catalog_attr *a, int uncached)
{
	struct stat st;

	fs_attr_to_stat(a, &st);
	fuse_reply_attr(req, &st, uncached ? FS_TTL_NONE : ttl_of(a));
}

void
fs_attr_set_of(const struct stat *attr, int to_set, struct catalog_set *set)
{
	*set = (struct catalog_set)CATALOG_SET_NONE;
	if (to_set & FUSE_SET_ATTR_SIZE)
		set->size = attr->st_size;
	if (to_set & FUSE_SET_ATTR_MODE)
		set->mode = attr->st_mode & 07777;
	if (to_set & FUSE_SET_ATTR_UID)
		set->uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		set->gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		set->atime_ns = util_now_ns();
	else if (to_set & FUSE_SET_ATTR_ATIME)
		set->atime_ns = util_ts_ns(&attr->st_atim);
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		set->mtime_ns = util_now_ns();
	else if (to_set & FUSE_SET_ATTR_MTIME)
		set->mtime_ns = util_ts_ns(&attr->st_mtim);
}
