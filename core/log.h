/*
 * log: the leveled logger. Messages go to stderr and, for a daemon, to
 * <state-dir>/vineyardfs.log too; once the daemon detaches, only to the
 * file. Debug messages only when log_set_debug(1) (-d/--debug).
 */
#ifndef VFS_LOG_H
#define VFS_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_DEBUG,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
};

/* Enable or disable debug messages. */
void log_set_debug(int on);
/* Also write every message to path (appending); 0 or -errno. */
int log_open_file(const char *path);
/* Make the log file the process's stderr and stop the second copy (a
 * daemon detaching from its terminal). */
void log_detach(void);
/* Log one message; a trailing newline is added. */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log and exit(1): start-up failures and broken invariants only. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
