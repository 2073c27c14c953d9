/*
 * killpriv: the daemon clears the set-user-ID and set-group-ID bits of a
 * file itself, where the kernel would at a write, a truncate or a chown,
 * and says so in the INIT reply (FUSE_HANDLE_KILLPRIV_V2, asked for by a
 * filter of the I/O chain, iochain.h: libfuse 3.14 cannot). The kernel
 * then marks a file that has neither bit (nor security.capability, which
 * the store never has) after its first write and no longer asks for
 * security.capability at every write(2), a GETXATTR round trip each:
 * writes that pass through to the blob never reach the daemon, so the
 * bits go when a writer opens the file instead (killpriv_amend).
 */
#ifndef VFS_KILLPRIV_H
#define VFS_KILLPRIV_H

#include <sys/types.h>

#include "fs/fs.h"
#include "fs/iochain.h"

extern const struct iochain_filter killpriv_filter;

/* Did this connection's INIT reply take the job (FUSE_HANDLE_KILLPRIV_V2)? */
int killpriv_negotiated(void);
/* The bits a write or truncate by uid (chown: by anyone) clears from
 * mode, as the kernel does: S_ISUID, and S_ISGID with group execute; none
 * for a write or truncate by root (the daemon sees a uid, not
 * CAP_FSETID). */
mode_t killpriv_bits(mode_t mode, uid_t uid, int chown);
/* Amend set, a change of ino by uid (write: ino is being opened for
 * writing), so that it clears the bits the kernel left to the daemon;
 * nothing when not negotiated or set changes the mode itself. */
void killpriv_amend(uint64_t ino, uid_t uid, int write, struct catalog_set *set);

#endif
