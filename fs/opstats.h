/*
 * opstats: FUSE requests counted and timed per opcode (opstats.c), a
 * filter of the I/O chain.
 */
#ifndef VFS_OPSTATS_H
#define VFS_OPSTATS_H

#include <stdio.h>

#include "fs/iochain.h"

extern const struct iochain_filter opstats_filter;

/* The Prometheus families of the FUSE requests (core/metrics.h). */
void opstats_write(FILE *f);

#endif
