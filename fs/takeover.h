/*
 * takeover: the supervisor's filter of the I/O chain (iochain.h), which
 * carries a FUSE connection from one worker to the next. The kernel sends
 * INIT once per connection: the first worker keeps the request and the
 * reply the kernel accepted (supervisor.h); a restarted worker reads the
 * kept request first, swallows libfuse's reply (the kernel would refuse a
 * second one) and takes what was negotiated from the kept reply. Until
 * then its other threads wait at a gate, since libfuse answers anything
 * before INIT with EIO. Then FUSE_NOTIFY_RESEND makes the kernel queue
 * again the requests the dead worker had read and not answered. Requests
 * on earlier workers' handles are revived on the way (supervisor_request;
 * the control file's are control_keep.c's, the next filter).
 *
 * Unsupervised, it only asks for FUSE_HAS_RESEND when the kernel offers
 * it; the rest does nothing.
 */
#ifndef VFS_TAKEOVER_H
#define VFS_TAKEOVER_H

#include "fs/iochain.h"

extern const struct iochain_filter takeover_filter;

#endif
