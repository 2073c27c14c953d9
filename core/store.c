/*
 * store: blob files in a tmpfs. A dedicated tmpfs is mounted at the store
 * directory unless one is already there (left by an earlier daemon), in
 * which case it is resized to the current limit. Files are created 0600 and
 * owned by the daemon: users reach them only through the FUSE mount.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "id.h"
#include "log.h"
#include "store.h"
#include "util.h"

struct store {
	char *dir;
	int dirfd;
	int dedicated; /* a tmpfs of our own: the kernel enforces the limit */
	int huge;      /* STORE_HUGE: its files may use huge pages */
	uint64_t limit;
	uint64_t page;
};

int
store_dirfd(const store_t *s)
{
	return s->dirfd;
}

const char *
store_dir(const store_t *s)
{
	return s->dir;
}

int
store_kernel_limited(const store_t *s)
{
	return s->dedicated;
}

/* Is dir the root of a tmpfs mount? */
static int
is_tmpfs_root(const char *dir)
{
	char parent[PATH_MAX];
	struct statfs sf;
	struct stat st, pst;

	if (statfs(dir, &sf) != 0 || sf.f_type != TMPFS_MAGIC)
		return 0;
	if (snprintf(parent, sizeof parent, "%s/..", dir) >= (int)sizeof parent)
		return 0;
	if (stat(dir, &st) != 0 || stat(parent, &pst) != 0)
		return 0;
	return st.st_dev != pst.st_dev;
}

static int
mount_with(const char *dir, int remount, const char *opts)
{
	return mount("vineyardfs", dir, "tmpfs",
		   MS_NOSUID | MS_NODEV | MS_NOEXEC | (remount ? MS_REMOUNT : 0), opts) == 0
		   ? 0
		   : -errno;
}

static int
mount_tmpfs(store_t *s)
{
	char opts[128];
	uint64_t size = (s->limit + s->page - 1) / s->page * s->page + s->page;
	int remount = is_tmpfs_root(s->dir), rc;

	/* One page of headroom: a writer that fills the limit exactly still
	 * leaves the fs non-full, so "full" means "someone went past it".
	 * Huge pages: see store.h; huge=advise gives them only to mappings
	 * that ask (reloads and restores do). A kernel without transparent
	 * huge pages refuses the option: then without it. */
	snprintf(opts, sizeof opts, "size=%llu,mode=0700,nr_inodes=0", (unsigned long long)size);
	if ((rc = mount_with(
		 s->dir, remount, strcat(opts, s->huge ? ",huge=within_size" : ",huge=advise"))) == -EINVAL) {
		*strrchr(opts, ',') = '\0';
		if (s->huge)
			log_warn("the kernel takes no huge pages for tmpfs: small pages for the store");
		rc = mount_with(s->dir, remount, opts);
	}
	if (rc != 0) {
		log_error("cannot %s tmpfs at %s: %s%s", remount ? "resize the" : "mount a", s->dir,
		    strerror(-rc),
		    rc == -EPERM ? " (needs CAP_SYS_ADMIN; or pass --backing-dir on a tmpfs)" : "");
		return rc;
	}
	if (remount)
		log_info("reusing the tmpfs at %s (data of the previous daemon), limit %llu bytes", s->dir,
		    (unsigned long long)s->limit);
	else
		log_info("mounted a tmpfs at %s, limit %llu bytes", s->dir, (unsigned long long)s->limit);
	return 0;
}

int
store_open(const char *dir, uint64_t limit, unsigned flags, store_t **out)
{
	store_t *s = calloc(1, sizeof *s);
	int rc;

	if (s == NULL || (s->dir = strdup(dir)) == NULL) {
		free(s);
		return -ENOMEM;
	}
	s->dirfd = -1;
	s->limit = limit;
	s->page = (uint64_t)sysconf(_SC_PAGESIZE);
	s->huge = (flags & STORE_HUGE) != 0;
	if ((rc = util_mkdirs(dir, 0700)) != 0) {
		log_error("cannot create %s: %s", dir, strerror(-rc));
		goto fail;
	}
	if (flags & STORE_MOUNT) {
		if ((rc = mount_tmpfs(s)) != 0)
			goto fail;
		s->dedicated = 1;
	} else {
		struct statfs sf;

		if (statfs(dir, &sf) == 0 && sf.f_type != TMPFS_MAGIC)
			log_warn("backing directory %s is not on tmpfs: blob data lives in "
				 "its page cache and on its disk",
			    dir);
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		rc = -errno;
		log_error("cannot open %s: %s", dir, strerror(errno));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return rc;
}

void
store_close(store_t *s)
{
	if (s == NULL)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->dir);
	free(s);
}

static void
blob_name(uint64_t id, char *buf)
{
	id_format(id, buf);
}

int
store_blob_create(store_t *s, uint64_t id, int *fd)
{
	char name[ID_STR_LEN + 1];

	blob_name(id, name);
	*fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (*fd < 0) {
		int err = errno;

		log_error("cannot create blob file %s/%s: %s", s->dir, name, strerror(err));
		return -err;
	}
	return 0;
}

int
store_blob_open(store_t *s, uint64_t id, int flags, int *fd)
{
	char name[ID_STR_LEN + 1];

	blob_name(id, name);
	*fd = openat(s->dirfd, name, flags | O_CLOEXEC);
	if (*fd < 0) {
		int err = errno;

		if (err != ENOENT)
			log_error("cannot open blob file %s/%s: %s", s->dir, name, strerror(err));
		return -err;
	}
	return 0;
}

int
store_blob_remove(store_t *s, uint64_t id)
{
	char name[ID_STR_LEN + 1];

	blob_name(id, name);
	return store_remove_name(s, name);
}

int
store_remove_name(store_t *s, const char *name)
{
	if (unlinkat(s->dirfd, name, 0) != 0) {
		int err = errno;

		if (err != ENOENT)
			log_error("cannot remove %s/%s: %s", s->dir, name, strerror(err));
		return -err;
	}
	return 0;
}

int
store_blob_stat(store_t *s, uint64_t id, struct stat *st)
{
	char name[ID_STR_LEN + 1];

	blob_name(id, name);
	return fstatat(s->dirfd, name, st, 0) == 0 ? 0 : -errno;
}

int
store_blob_size(store_t *s, uint64_t id, uint64_t *size)
{
	struct stat st;
	int rc;

	if ((rc = store_blob_stat(s, id, &st)) == 0)
		*size = (uint64_t)st.st_size;
	return rc;
}

int
store_blob_set_times(store_t *s, uint64_t id, const struct timespec ts[2])
{
	char name[ID_STR_LEN + 1];

	blob_name(id, name);
	return utimensat(s->dirfd, name, ts, 0) == 0 ? 0 : -errno;
}

int
store_usage(store_t *s, uint64_t *used)
{
	struct statvfs sv;

	if (!s->dedicated)
		return -ENOTSUP;
	if (fstatvfs(s->dirfd, &sv) != 0)
		return -errno;
	*used = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
	return 0;
}

int
store_full(store_t *s)
{
	struct statvfs sv;

	if (!s->dedicated || fstatvfs(s->dirfd, &sv) != 0)
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize < s->page;
}

int
store_scan(store_t *s, int (*fn)(void *arg, const char *name, uint64_t id), void *arg)
{
	int fd = dup(s->dirfd);
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (fd < 0)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		uint64_t id = 0;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (id_parse(de->d_name, &id) != 0 || !id_is_blob(id))
			id = 0;
		if ((rc = fn(arg, de->d_name, id)) != 0)
			break;
	}
	closedir(d);
	return rc;
}
