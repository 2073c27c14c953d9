/*
 * control_keep: the requests of .vineyardfs/ctl a restarted worker must
 * still answer, kept across workers by a filter of the I/O chain (see
 * control_keep.c).
 */
#ifndef VFS_CONTROL_KEEP_H
#define VFS_CONTROL_KEEP_H

#include "fs/iochain.h"

extern const struct iochain_filter control_keep_filter;

#endif
