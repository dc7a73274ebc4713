/* harness/console, private: what the parser (kparse.c) and the title
 * maker (ktitle.c) share. */
#ifndef BL_CONSOLE_INTERNAL_H
#define BL_CONSOLE_INTERNAL_H

#include "console/console.h"

#include <stdbool.h>

/* how a report's body ends */
enum kend {
	KEND_TRACE, /* "---[ end trace" */
	KEND_RULE,  /* a line of '=' (KASAN, KFENCE, UBSAN) */
	KEND_PANIC, /* "---[ end Kernel panic" */
	KEND_AFTER, /* the first unrelated line once the call trace was seen */
	KEND_LINE,  /* the first unrelated line */
};

/* what a line that starts a report says */
struct kstart {
	enum bl_kclass cls; /* BL_KC_NONE: a marker that opens a report whose class comes later */
	enum kend end;
	bool header; /* an Oops header line: part of an open report */
};

/* the class a line starts, if any */
bool kstart_line(const char *text, struct kstart *out);
bool kline_is_body(const char *text);
/* the function of a frame line ("  ? foo+0x1/0x2" gives nothing: unreliable) */
bool kframe_func(const char *text, char *out, size_t n);
/* after the report closed: its title and signature from its first line,
 * the function its head names (may be ""), its message and frames; a
 * lockdep report whose top frames are all lockdep's own (or that has no
 * call trace) is placed where its first lock was taken (lock_func, may
 * be "") */
void ktitle_make(struct bl_kreport *r, const char *head, const char *head_func,
		 const char *lock_func, const char *message);

#endif
