/*
 * log: one line per message, "vineyardfs[pid]: level: text". Thread safe:
 * each message is formatted into one buffer and written with one call.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int log_debug_on;

static const char *const level_names[] = { "debug", "info", "warning", "error" };

void
log_set_debug(int on)
{
	log_debug_on = on;
}

static void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char buf[2048];
	int n;

	if (lvl == LOG_LVL_DEBUG && !log_debug_on)
		return;
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		return;
	fprintf(stderr, "vineyardfs[%d]: %s: %s\n", (int)getpid(), level_names[lvl], buf);
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
