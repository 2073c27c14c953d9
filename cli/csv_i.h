/*
 * csv_i: what csv_read.c and csv_write.c share beyond csv.h.
 */
#ifndef VFS_CSV_I_H
#define VFS_CSV_I_H

#define CSV_SHOW_MAX 40 /* bytes of a field or name quoted in a message */

/* s, cut to CSV_SHOW_MAX bytes (at a character) and with control
 * characters as '?', into out (at least CSV_SHOW_MAX + 4 bytes): a line
 * of its own. Returns out. */
const char *csv_show(char *out, const char *s);

#endif
