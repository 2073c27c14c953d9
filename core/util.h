/*
 * util: small helpers shared by core and fs: sizes, times, errors,
 * directories, base64.
 */
#ifndef VFS_UTIL_H
#define VFS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Parse "4G", "512M", "1.5g", "4096" (bytes, powers of 1024); 0 or -EINVAL. */
int util_parse_size(const char *s, uint64_t *out);
/* Format bytes as "1.5 GiB" into buf. */
void util_format_size(uint64_t bytes, char *buf, size_t len);
/* Wall-clock time in nanoseconds since the epoch. */
int64_t util_now_ns(void);
/* Nanoseconds since the epoch and back, before 1970 too. */
static inline int64_t
util_ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}
static inline struct timespec
util_ns_ts(int64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };

	if (ts.tv_nsec < 0) { /* tv_nsec is never negative */
		ts.tv_sec--;
		ts.tv_nsec += 1000000000;
	}
	return ts;
}
/* Monotonic time in nanoseconds. */
int64_t util_mono_ns(void);
/* Format a message into err (errlen bytes; NULL or 0: none) and return rc:
 * "return util_fail(err, errlen, -EINVAL, "line %d: ...", n);". */
int util_fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* mkdir -p with mode for the missing components; 0 or -errno. */
int util_mkdirs(const char *path, unsigned mode);
/* base64 of n bytes as a new NUL-terminated string (caller frees); NULL
 * when out of memory. */
char *util_base64(const void *data, size_t n);

#endif
