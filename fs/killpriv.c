/*
 * killpriv: see killpriv.h. The filter notes whether the kernel's INIT
 * offers FUSE_HANDLE_KILLPRIV_V2 and sets it in the reply. A restarted
 * worker under a supervisor sees the connection's INIT replayed
 * (takeover.c) and its reply pass here before takeover swallows it, so it
 * knows what the connection negotiated.
 */
#include "config.h"

#include <stdatomic.h>
#include <sys/stat.h>

#include <linux/fuse.h>

#include "core/log.h"
#include "fs/fuse_ext.h"
#include "fs/killpriv.h"

static atomic_int offered;    /* the INIT request offered it */
static atomic_int negotiated; /* the INIT reply took it */

int
killpriv_negotiated(void)
{
	return atomic_load(&negotiated);
}

mode_t
killpriv_bits(mode_t mode, uid_t uid, int chown)
{
	mode_t kill = 0;

	if (!S_ISREG(mode) || (uid == 0 && !chown))
		return 0;
	if (mode & S_ISUID)
		kill |= S_ISUID;
	if ((mode & S_ISGID) && (mode & S_IXGRP))
		kill |= S_ISGID;
	return kill;
}

void
killpriv_amend(uint64_t ino, uid_t uid, int write, struct catalog_set *set)
{
	int chown = set->uid != CATALOG_KEEP || set->gid != CATALOG_KEEP;
	struct catalog_attr a;
	mode_t kill;

	if (!killpriv_negotiated() || set->mode != CATALOG_KEEP)
		return;
	if (!write && !chown && set->size == CATALOG_KEEP)
		return;
	if (catalog_getattr(fs.cat, ino, &a) != 0 || (kill = killpriv_bits(a.mode, uid, chown)) == 0)
		return;
	set->mode = (int64_t)(a.mode & 07777 & ~kill);
}

static int
killpriv_start(int devfd, int passthrough)
{
	(void)devfd, (void)passthrough;
	atomic_store(&offered, 0);
	atomic_store(&negotiated, 0);
	return 0;
}

static size_t
killpriv_request(void *buf, size_t len, size_t size)
{
	const struct fuse_in_header *in = buf;
	const struct fuse_ext_init_in *init = (const void *)(in + 1);

	(void)size;
	if (in->opcode == FUSE_INIT && len >= sizeof *in + offsetof(struct fuse_ext_init_in, flags2))
		atomic_store(&offered, (init->flags & FUSE_HANDLE_KILLPRIV_V2) != 0);
	return len;
}

static int
killpriv_reply(struct iochain_reply *r)
{
	const struct fuse_out_header *out = r->iov[0].iov_base;
	struct fuse_ext_init_out *init;
	size_t len;

	if (r->opcode != FUSE_INIT || out->error != 0 || iochain_reply_body(r, &len) == NULL ||
	    len < offsetof(struct fuse_ext_init_out, max_background) || !atomic_load(&offered))
		return 0;
	if (iochain_reply_own(r) != 0) {
		log_warn(
		    "the INIT reply cannot be amended: the kernel asks for security.capability at every write");
		return 0;
	}
	init = (void *)r->body;
	init->flags |= FUSE_HANDLE_KILLPRIV_V2;
	atomic_store(&negotiated, 1);
	return 0;
}

const struct iochain_filter killpriv_filter = {
	.name = "killpriv",
	.start = killpriv_start,
	.request = killpriv_request,
	.reply = killpriv_reply,
};
