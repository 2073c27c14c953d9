/*
 * log: one line per message, "2026-11-25T19:53:15.293Z vineyardfs[pid]:
 * level: text". Thread safe: each line is formatted into one buffer and
 * written with one call.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_debug_on;
static int log_fd = -1; /* a second copy of each line, or -1 */

static const char *const level_names[] = { "debug", "info", "warning", "error" };

void
log_set_debug(int on)
{
	log_debug_on = on;
}

static void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char buf[2048], line[2200], when[32];
	struct timespec ts;
	struct tm tm;
	int n;

	if (lvl == LOG_LVL_DEBUG && !log_debug_on)
		return;
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof line, "%s.%03ldZ vineyardfs[%d]: %s: %s\n", when, ts.tv_nsec / 1000000,
	    (int)getpid(), level_names[lvl], buf);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
	if (log_fd >= 0 && write(log_fd, line, (size_t)n) < 0) {
		/* likewise */
	}
}

int
log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	log_fd = fd;
	return 0;
}

void
log_detach(void)
{
	if (log_fd < 0)
		return;
	dup2(log_fd, STDERR_FILENO);
	close(log_fd);
	log_fd = -1;
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
