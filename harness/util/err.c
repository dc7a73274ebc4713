/* Per-thread error message, set where an error happens, printed once where
 * it is consumed. */
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static __thread char errbuf[16384]; /* a scenario file's errors, one a line */
static __thread enum bl_errkind errkind;
int bl_verbose;

static int set_msg(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
	char tmp[sizeof(errbuf)];
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	snprintf(errbuf, sizeof(errbuf), "%s%s%s", prefix ? prefix : "", tmp, suffix ? suffix : "");
	return -1;
}

int bl_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	errkind = BL_EK_INPUT;
	set_msg(NULL, fmt, ap, NULL);
	va_end(ap);
	return -1;
}

int bl_err_errno(const char *fmt, ...)
{
	int e = errno;
	char suffix[256];
	va_list ap;
	snprintf(suffix, sizeof(suffix), ": %s", strerror(e));
	va_start(ap, fmt);
	errkind = BL_EK_INPUT;
	set_msg(NULL, fmt, ap, suffix);
	va_end(ap);
	errno = e;
	return -1;
}

int bl_err_prefix(const char *fmt, ...)
{
	char pre[1024], old[sizeof(errbuf)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	snprintf(old, sizeof(old), "%s", errbuf);
	snprintf(errbuf, sizeof(errbuf), "%.1000s: %.15000s", pre, old);
	return -1;
}

const char *bl_errmsg(void)
{
	return errbuf[0] ? errbuf : "unknown error";
}

void bl_err_kind(enum bl_errkind k)
{
	errkind = k;
}

enum bl_errkind bl_err_last_kind(void)
{
	return errkind;
}

void die(const char *fmt, ...)
{
	va_list ap;
	fputs("bootlab ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(BL_EXIT_USAGE);
}

void bl_warn(const char *fmt, ...)
{
	va_list ap;
	fputs("bootlab: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void bl_debug(const char *fmt, ...)
{
	va_list ap;
	if (!bl_verbose)
		return;
	fputs("bootlab: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
