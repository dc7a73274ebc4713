/* harness/console: kernel reports in a console stream.
 *
 * A console log (bootlab's, a serial capture, dmesg output with or without
 * printk times) is fed line by line to a parser, which turns every report
 * the kernel printed (WARNING, BUG, Oops, KASAN, lockdep, hung task, panic,
 * ...) into a typed struct bl_kreport: its class, a short title, a stable
 * signature, the guest time, the task and CPU, the call trace's top frames
 * and the whole multi-line body. Lines of other CPUs or of userspace in the
 * middle of a report do not end it; a report cut short by the end of the
 * stream is kept and marked truncated. docs/kernel-reports.md says which
 * lines start, continue and end each class, and what a guest can fake.
 * Depends on util only, so that scenario (fail-on: class names), session,
 * report and cli can all use it. */
#ifndef BL_CONSOLE_H
#define BL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

enum bl_kclass {
	BL_KC_NONE,
	BL_KC_WARNING,	       /* WARNING: CPU: N PID: N at FILE:LINE FUNC */
	BL_KC_BUG,	       /* kernel BUG at, BUG: unable to handle page fault, NULL deref */
	BL_KC_OOPS,	       /* Oops: / Internal error: Oops without a BUG line before it */
	BL_KC_GPF,	       /* general protection fault */
	BL_KC_KASAN,	       /* BUG: KASAN: */
	BL_KC_UBSAN,	       /* UBSAN: */
	BL_KC_KFENCE,	       /* BUG: KFENCE: */
	BL_KC_LOCKDEP,	       /* WARNING: possible circular locking dependency ... */
	BL_KC_RCU_STALL,       /* rcu: INFO: ... detected stalls */
	BL_KC_SOFT_LOCKUP,     /* BUG: soft lockup - CPU#N stuck */
	BL_KC_HARD_LOCKUP,     /* Watchdog detected hard LOCKUP */
	BL_KC_HUNG_TASK,       /* INFO: task X:N blocked for more than N seconds. */
	BL_KC_OOM,	       /* X invoked oom-killer / Out of memory: Killed process */
	BL_KC_SCHED_ATOMIC,    /* BUG: scheduling while atomic */
	BL_KC_SLEEP_ATOMIC,    /* BUG: sleeping function called from invalid context */
	BL_KC_LIST_CORRUPTION, /* list_add corruption / list_del corruption */
	BL_KC_REFCOUNT,	       /* refcount_t: ... */
	BL_KC_STACK_PROTECTOR, /* stack-protector: Kernel stack is corrupted in: */
	BL_KC_STACK_OVERFLOW,  /* stack guard page was hit / kernel stack overflow */
	BL_KC_PANIC,	       /* Kernel panic - not syncing: (not the end of a report above) */
	BL_KC_MODULE,	       /* Unknown symbol, version magic, signature */
	BL_KC_INIT,	       /* the initramfs and init messages steps expect */
	BL_KC_COUNT,
};

/* "warning", "kasan", "soft-lockup" ...; NULL for an out-of-range value */
const char *bl_kclass_name(enum bl_kclass c);
/* the class named NAME, or BL_KC_NONE */
enum bl_kclass bl_kclass_parse(const char *name);

/* which classes fail a boot: a bit per class */
struct bl_kpolicy {
	unsigned fail; /* 1u << class */
};
/* every class but BL_KC_INIT (steps expect those messages) */
struct bl_kpolicy bl_kpolicy_default(void);
bool bl_kpolicy_fails(const struct bl_kpolicy *p, enum bl_kclass c);
/* "warning,kasan" or "all"/"default"/"none": set (ALLOW false) or clear
 * those bits; 0, or -1 with bl_errmsg() naming the unknown class */
int bl_kpolicy_apply(struct bl_kpolicy *p, const char *list, bool allow);

/* `--fail-on CLASSES` and `--allow CLASSES` given in order on a command
 * line, to lay over a scenario's policy: classes they name fail or not,
 * the others keep the scenario's choice */
struct bl_kpolicy_override {
	unsigned fail, allow;
};
/* one option's LIST (ALLOW: --allow); -1 with bl_errmsg() naming the
 * unknown class and listing the valid ones */
int bl_kpolicy_override_add(struct bl_kpolicy_override *o, const char *list, bool allow);
void bl_kpolicy_override_apply(const struct bl_kpolicy_override *o, struct bl_kpolicy *p);

#define BL_KREPORT_FRAMES 8
#define BL_KREPORT_MAX_LINES 400 /* a longer body is cut and marked truncated */

struct bl_kreport {
	enum bl_kclass cls;
	char *title;	 /* "WARNING in lkdtm_WARNING" */
	char *signature; /* 16 hex digits over class, title and top frames */
	double guest_s;	 /* printk time of the first line, -1 without */
	size_t line;	 /* 1-based line number of the first line in the stream */
	int cpu, pid;	 /* -1 unknown */
	char task[32];	 /* "" unknown */
	char *frames[BL_KREPORT_FRAMES];
	size_t nframes;
	char *body; /* every line of the report, printk times removed, '\n' after each */
	size_t nlines;
	bool truncated; /* the stream ended before the report's end marker */
	bool panicked;	/* the kernel panicked because of it */
	bool fails;	/* it fails the boot by the policy in force: set by the judge
			   (the session, console check), false from the parser */
};

/* a console line's printk time ("[    1.234567] ", then a caller id
 * "[    T1] " when the kernel prints one): the text after them, and the
 * time in *GUEST_S (-1 and LINE itself without one) */
const char *bl_printk_split(const char *line, double *guest_s);
/* where in LINE, after its first byte, a printk record starts ("[" and
 * a time "%5lu.%06lu" and "] "), or NULL: the kernel's output that cut
 * into a line of the guest's programs (the parser reads the line from
 * there) */
const char *bl_printk_embedded(const char *line);

/* the class of report that the kernel line TEXT (printk time removed)
 * starts, or BL_KC_NONE (a `cut here` marker, a line inside a report) */
enum bl_kclass bl_kline_class(const char *text);

struct bl_kparser;
/* a parser for one stream (one boot) */
struct bl_kparser *bl_kparser_new(void);
/* Once a line with a printk time was seen, lines without one are
 * userspace's. STAMPED true says so from the start (a file that has
 * printk times anywhere, a boot with printk.time=1). */
void bl_kparser_require_stamps(struct bl_kparser *p, bool stamped);
/* one console line, without its newline (a host time column or a
 * "kernel: " syslog prefix is the caller's to strip) */
void bl_kparser_feed(struct bl_kparser *p, const char *line);
/* the stream ended: a report still open is closed, truncated when it
 * lacks its end marker */
void bl_kparser_finish(struct bl_kparser *p);
/* the reports closed so far, in order (borrowed) */
const struct bl_kreport *bl_kparser_reports(const struct bl_kparser *p, size_t *n);
void bl_kparser_free(struct bl_kparser *p);

/* parse a whole log (bootlab's console log with its host time column,
 * dmesg, a serial capture): reports appended to *OUT (caller frees each
 * with bl_kreport_release, then the array) */
void bl_kreports_from_text(const char *text, struct bl_kreport **out, size_t *n);
void bl_kreport_release(struct bl_kreport *r);
/* DST: a deep copy of SRC */
void bl_kreport_copy(struct bl_kreport *dst, const struct bl_kreport *src);

/* ---- lines of the guest's programs (userland.c) ---- */
/* An initramfs that gives up starts an emergency shell and waits on the
 * console for someone to type: the boot then only ends at its deadline.
 * These name, from a console line without its printk time, the two tells
 * a timeout's reason quotes. Any program can print them, so they explain a
 * failure and never make one. */
/* whether LINE is an initramfs generator's emergency-shell banner */
bool bl_console_shell_banner(const char *line);
/* systemd's "[FAILED] ..." or "[ TIME ] ..." status line in LINE, colours
 * removed, as "Failed to start X" or "Timed out waiting for device X"
 * (caller frees), or NULL */
char *bl_console_unit_failure(const char *line);

#endif
