/*
 * table: vineyard::Tables (man vineyardfs.7) for put and get.
 * table_put.c makes packed tables (one blob, an Arrow IPC file, with
 * BufferViews into it) from CSV columns and from .arrow files;
 * table_get.c reads any table's tree back (BufferViews or blobs, mapped
 * once each) and writes it as CSV or as an Arrow IPC file.
 */
#ifndef VFS_TABLE_H
#define VFS_TABLE_H

#include <stddef.h>

#include <jansson.h>

#include "cli/csv.h"
#include "include/vineyardfs.h"

/* A packed Table of the columns t read from CSV, named name (or not, if
 * NULL); its id. 0 or 1 (the failure printed; nothing is left behind). */
int table_put_csv(vfs_t *v, const struct csv_table *t, const char *name, char id[VFS_ID_SIZE]);
/* A packed Table of the Arrow IPC file open at src (size bytes, for the
 * messages called file): its bytes copied once into the ipc_ blob. */
int table_put_ipc(vfs_t *v, int src, const char *file, size_t size, const char *name, char id[VFS_ID_SIZE]);
/* Table ref (its metadata tree meta) to out: CSV, or an Arrow IPC file
 * when arrow (a packed table's ipc_ bytes as they are). 0 or 1. */
int table_get(vfs_t *v, const char *ref, const json_t *meta, int out, const char *what, int arrow);

#endif
