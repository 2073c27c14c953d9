/*
 * xattr: extended attribute requests; the catalog owns their meaning.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/ino.h"
#include "fs/fs.h"

static void
reply_sized(fuse_req_t req, const char *data, size_t len, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, data, len);
}

void
xattr_get(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char *value = NULL;
	size_t len = 0;
	int rc;

	if (ino_is_stream(ino)) {
		char buf[256];

		if ((rc = stream_xattr_get(ino, name, buf, sizeof buf)) < 0)
			fuse_reply_err(req, -rc);
		else
			reply_sized(req, buf, (size_t)rc, size);
		return;
	}
	rc = control_is(ino) ? -ENODATA : catalog_xattr_get(fs.cat, ino, name, &value, &len);

	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		reply_sized(req, value, len, size);
	free(value);
}

void
xattr_list(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *names = NULL;
	size_t len = 0;
	int rc;

	if (ino_is_stream(ino)) {
		char buf[256];

		if ((rc = stream_xattr_list(ino, buf, sizeof buf)) < 0)
			fuse_reply_err(req, -rc);
		else
			reply_sized(req, buf, (size_t)rc, size);
		return;
	}
	rc = control_is(ino) ? 0 : catalog_xattr_list(fs.cat, ino, &names, &len);

	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		reply_sized(req, names, len, size);
	free(names);
}

void
xattr_set(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags)
{
	int rc = control_is(ino) || ino_is_stream(ino)
		     ? -ENOTSUP
		     : catalog_xattr_set(fs.cat, ino, name, value, size, flags);

	fuse_reply_err(req, -rc);
}

void
xattr_remove(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	int rc = control_is(ino) || ino_is_stream(ino) ? -ENOTSUP : catalog_xattr_remove(fs.cat, ino, name);

	fuse_reply_err(req, -rc);
}
