/*
 * root: the root directory, whose entries come from the table below (a
 * name, a fixed inode number, the kind that serves it), and the fixed
 * directories the fs layer keeps itself (.vineyardfs/, streams/): their
 * attributes are constant but for the times, which rsync and touch set.
 * The root's own attributes, like objects/, blobs/ and names/, are the
 * catalog's.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "fs/node.h"

/* mode: of the directories kept here (root_dir_getattr). */
static const struct root_entry entries[] = {
	{ "objects", INO_OBJECTS, &catnode_node, 0 },
	{ "blobs", INO_BLOBS, &catnode_node, 0 },
	{ "names", INO_NAMES, &catnode_node, 0 },
	{ ".vineyardfs", INO_CONTROL, &control_dir_node, 0555 },
	{ "streams", INO_STREAMS, &streamnode_dir, 01777 },
};

#define NENTRIES (sizeof entries / sizeof entries[0])

const struct root_entry *
root_entry_at(size_t i)
{
	return i < NENTRIES ? &entries[i] : NULL;
}

const struct fs_node_ops *
root_kind_of(fuse_ino_t ino)
{
	size_t i;

	for (i = 0; i < NENTRIES; i++)
		if (entries[i].ino == ino)
			return entries[i].kind;
	return NULL;
}

const struct root_entry *
root_entry_find(const char *name)
{
	size_t i;

	for (i = 0; i < NENTRIES; i++)
		if (strcmp(entries[i].name, name) == 0)
			return &entries[i];
	return NULL;
}

static void
root_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	const struct root_entry *r = root_entry_find(name);
	struct fuse_entry_param e;
	struct catalog_attr a;
	int rc = r != NULL ? r->kind->getattr(r->ino, &a) : -ENOENT;

	(void)parent;
	if (rc != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_attr_to_entry(&a, &e);
	fuse_reply_entry(req, &e);
}

static int
root_list(fuse_ino_t dir, catalog_list_fn fn, void *arg)
{
	struct catalog_attr a;
	size_t i;
	int rc;

	(void)dir;
	for (i = 0; i < NENTRIES; i++) {
		if ((rc = entries[i].kind->getattr(entries[i].ino, &a)) != 0 ||
		    (rc = fn(arg, entries[i].name, &a)) != 0)
			return rc;
	}
	return 0;
}

const struct fs_node_ops root_node = {
	.name = "root",
	.getattr = catnode_getattr,
	.lookup = root_lookup,
	.setattr = catnode_setattr,
	.readlink = catnode_readlink,
	.list = root_list,
	.unlink = catnode_unlink,
	.rmdir = catnode_rmdir,
	.getxattr = catnode_getxattr,
	.listxattr = catnode_listxattr,
	.setxattr = catnode_setxattr,
	.removexattr = catnode_removexattr,
};

/* ---- the fs layer's fixed directories ---- */

/* Their times, by inode number; CATALOG_KEEP: the mount's start. */
static struct {
	_Atomic int64_t atime_ns, mtime_ns, ctime_ns;
} times[INO_LAST_DIR + 1] = {
	[0 ... INO_LAST_DIR] = { CATALOG_KEEP, CATALOG_KEEP, CATALOG_KEEP },
};

static int64_t
time_or_start(_Atomic int64_t *t)
{
	int64_t v = atomic_load(t);

	return v != CATALOG_KEEP ? v : fs.start_ns;
}

int
root_dir_getattr(fuse_ino_t ino, struct catalog_attr *a)
{
	size_t i;

	for (i = 0; i < NENTRIES && entries[i].ino != ino; i++)
		;
	if (i == NENTRIES || entries[i].mode == 0)
		return -ENOENT;
	memset(a, 0, sizeof *a);
	a->ino = ino;
	a->mode = S_IFDIR | entries[i].mode;
	a->nlink = 2;
	a->sealed = 1; /* the kernel may cache it: only its times change */
	a->atime_ns = time_or_start(&times[ino].atime_ns);
	a->mtime_ns = time_or_start(&times[ino].mtime_ns);
	a->ctime_ns = time_or_start(&times[ino].ctime_ns);
	return 0;
}

/* As catalog_setattr does for its fixed directories: only the times
 * change, and ctime moves to now, never backwards. */
void
root_dir_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct catalog_set set;
	struct catalog_attr a;
	int64_t now = util_now_ns(), was;
	int rc;

	(void)fi;
	fs_attr_set_of(attr, to_set, &set);
	if ((rc = root_dir_getattr(ino, &a)) != 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (set.size != CATALOG_KEEP || set.mode != CATALOG_KEEP || set.uid != CATALOG_KEEP ||
	    set.gid != CATALOG_KEEP) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (set.atime_ns != CATALOG_KEEP)
		atomic_store(&times[ino].atime_ns, set.atime_ns);
	if (set.mtime_ns != CATALOG_KEEP)
		atomic_store(&times[ino].mtime_ns, set.mtime_ns);
	was = a.ctime_ns;
	atomic_store(&times[ino].ctime_ns, now > was ? now : was + 1);
	root_dir_getattr(ino, &a);
	fs_attr_reply(req, &a, 0);
}
