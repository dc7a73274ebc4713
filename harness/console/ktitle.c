/* Which lines start a report, which belong to one, and the title and
 * signature of a closed one (docs/kernel-reports.md, "Titles"). */
#include "console/internal.h"
#include "util/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static const struct {
	const char *text;
	bool anywhere; /* else a prefix */
	enum bl_kclass cls;
	enum kend end;
} start_table[] = {
    {"WARNING: possible circular locking dependency", false, BL_KC_LOCKDEP, KEND_AFTER},
    {"WARNING: possible recursive locking", false, BL_KC_LOCKDEP, KEND_AFTER},
    {"WARNING: inconsistent lock state", false, BL_KC_LOCKDEP, KEND_AFTER},
    {"WARNING: held lock freed", false, BL_KC_LOCKDEP, KEND_AFTER},
    {"WARNING: bad unlock balance", false, BL_KC_LOCKDEP, KEND_AFTER},
    {"WARNING: suspicious RCU usage", false, BL_KC_LOCKDEP, KEND_AFTER},
    {"WARNING: lock held when returning to user space", false, BL_KC_LOCKDEP, KEND_AFTER},
    {"WARNING: possible irq lock inversion dependency", false, BL_KC_LOCKDEP, KEND_AFTER},
    {"-unsafe lock order detected", true, BL_KC_LOCKDEP, KEND_AFTER},
    {"WARNING: Nested lock was not taken", false, BL_KC_LOCKDEP, KEND_AFTER},
    {"WARNING: bad contention detected", false, BL_KC_LOCKDEP, KEND_AFTER},
    {"WARNING: chain_key collision", false, BL_KC_LOCKDEP, KEND_AFTER},
    {" still has locks held!", true, BL_KC_LOCKDEP, KEND_AFTER},
    {"WARNING: ", false, BL_KC_WARNING, KEND_TRACE},
    {"BUG: KASAN: ", false, BL_KC_KASAN, KEND_RULE},
    {"BUG: KFENCE: ", false, BL_KC_KFENCE, KEND_RULE},
    {"UBSAN: ", false, BL_KC_UBSAN, KEND_RULE},
    {"BUG: soft lockup", true, BL_KC_SOFT_LOCKUP, KEND_AFTER},
    {"BUG: scheduling while atomic", false, BL_KC_SCHED_ATOMIC, KEND_AFTER},
    {"BUG: sleeping function called from invalid context", false, BL_KC_SLEEP_ATOMIC, KEND_AFTER},
    {"stack guard page was hit", true, BL_KC_STACK_OVERFLOW, KEND_TRACE},
    {"kernel stack overflow", true, BL_KC_STACK_OVERFLOW, KEND_TRACE},
    {"kernel BUG at ", false, BL_KC_BUG, KEND_TRACE},
    {"BUG: ", false, BL_KC_BUG, KEND_TRACE},
    {"general protection fault", false, BL_KC_GPF, KEND_TRACE},
    {"Unable to handle kernel ", false, BL_KC_BUG, KEND_TRACE},
    {"Watchdog detected hard LOCKUP", true, BL_KC_HARD_LOCKUP, KEND_AFTER},
    {"detected stalls on CPUs", true, BL_KC_RCU_STALL, KEND_AFTER},
    {"self-detected stall on CPU", true, BL_KC_RCU_STALL, KEND_AFTER},
    {" invoked oom-killer: ", true, BL_KC_OOM, KEND_AFTER},
    {"Out of memory: Killed process", false, BL_KC_OOM, KEND_LINE},
    {"Memory cgroup out of memory: Killed process", false, BL_KC_OOM, KEND_LINE},
    {"list_add corruption", false, BL_KC_LIST_CORRUPTION, KEND_AFTER},
    {"list_del corruption", false, BL_KC_LIST_CORRUPTION, KEND_AFTER},
    {"refcount_t: ", false, BL_KC_REFCOUNT, KEND_AFTER},
    {": Unknown symbol ", true, BL_KC_MODULE, KEND_LINE},
    {": disagrees about version of symbol ", true, BL_KC_MODULE, KEND_LINE},
    {": version magic '", true, BL_KC_MODULE, KEND_LINE},
    {": module verification failed: ", true, BL_KC_MODULE, KEND_LINE},
    {"Loading of unsigned module is rejected", false, BL_KC_MODULE, KEND_LINE},
    {"Initramfs unpacking failed: ", false, BL_KC_INIT, KEND_LINE},
    {"Warning: unable to open an initial console.", false, BL_KC_INIT, KEND_LINE},
    {"Failed to execute ", false, BL_KC_INIT, KEND_LINE},
    {"VFS: Cannot open root device ", false, BL_KC_INIT, KEND_LINE},
};

/* lines that go on an open report's head: Oops headers */
static bool oops_header(const char *t)
{
	return starts(t, "Oops") || starts(t, "invalid opcode: ") ||
	       starts(t, "Internal error: ") || starts(t, "stack segment: ") ||
	       starts(t, "double fault: ");
}

static bool hung_task(const char *t)
{
	return starts(t, "INFO: task ") && strstr(t, " blocked for more than ");
}

bool kstart_line(const char *t, struct kstart *o)
{
	*o = (struct kstart){BL_KC_NONE, KEND_TRACE, false};
	if (strstr(t, "------------[ cut here ]------------"))
		return true;
	if (oops_header(t)) {
		o->cls = BL_KC_OOPS;
		o->header = true;
		return true;
	}
	if (hung_task(t)) {
		o->cls = BL_KC_HUNG_TASK;
		o->end = KEND_AFTER;
		return true;
	}
	for (size_t i = 0; i < BL_ARRAY_SIZE(start_table); i++) {
		bool hit = start_table[i].anywhere ? strstr(t, start_table[i].text) != NULL
						   : starts(t, start_table[i].text);
		if (hit) {
			o->cls = start_table[i].cls;
			o->end = start_table[i].end;
			return true;
		}
	}
	return false;
}

enum bl_kclass bl_kline_class(const char *text)
{
	struct kstart k;
	return kstart_line(text, &k) ? k.cls : BL_KC_NONE;
}

static const char *const body_prefixes[] = {
    "CPU:",
    "Hardware name:",
    "RIP:",
    "RSP:",
    "RAX:",
    "RDX:",
    "RBP:",
    "R10:",
    "R13:",
    "FS:",
    "CS:",
    "CR2:",
    "DR0:",
    "DR3:",
    "DR6:",
    "Call Trace:",
    "Call trace:",
    "<TASK>",
    "</TASK>",
    "<IRQ>",
    "</IRQ>",
    "<NMI>",
    "</NMI>",
    "Modules linked in:",
    "Code:",
    "Kernel Offset:",
    "PKRU:",
    "Workqueue:",
    "irq event stamp:",
    "hardirqs last",
    "softirqs last",
    "Stack:",
    "pc :",
    "lr :",
    "sp :",
    "pstate:",
    "Mem abort info:",
    "Data abort info:",
    "---[ ",
    "task:",
    "Tainted:",
    "Read of size",
    "Write of size",
    "The buggy address",
    "Allocated by",
    "Freed by",
    "Memory state around",
    "Last potentially related",
    "Showing ",
    "Mem-Info:",
    "stack backtrace:",
    "index ",
    "shift exponent ",
    "load of value",
    "CR2: ",
    "x2",
    "x1",
    "x0",
    "x3",
    "x4",
    "x5",
    "x6",
    "x7",
    "x8",
    "x9",
    "ESR =",
    "FAR =",
    "EC =",
    "SET =",
    "ISV =",
    "CM =",
    "WnR =",
};

bool kline_is_body(const char *t)
{
	if (*t == ' ' || *t == '\t' || bl_prefix_in(t, body_prefixes, BL_ARRAY_SIZE(body_prefixes)))
		return true;
	/* register dumps: "R10: ...", "FS:  ..." */
	return isupper((unsigned char)t[0]) && isalnum((unsigned char)t[1]) &&
	       (t[2] == ':' || (isalnum((unsigned char)t[2]) && t[3] == ':'));
}

bool kframe_func(const char *t, char *out, size_t n)
{
	while (*t == ' ' || *t == '\t')
		t++;
	if (starts(t, "? ") || *t == '<' || *t == '[')
		return false;
	size_t l = strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.");
	if (!l || strncmp(t + l, "+0x", 3) || l >= n)
		return false;
	/* gcc's parts of a function: foo.cold, foo.isra.0, foo.constprop.0 */
	const char *dot = memchr(t, '.', l);
	if (dot && dot > t)
		l = (size_t)(dot - t);
	memcpy(out, t, l);
	out[l] = 0;
	return true;
}

/* frames that report or route a problem, never its place */
static const char *const plumbing[] = {
    "dump_stack",
    "__warn",
    "warn_",
    "report_bug",
    "handle_bug",
    "exc_",
    "asm_exc_",
    "do_trap",
    "do_error_trap",
    "die",
    "__die",
    "oops_",
    "kasan_",
    "__kasan",
    "__asan",
    "ubsan_",
    "__ubsan",
    "print_",
    "__might",
    "might_",
    "__schedule",
    "schedule",
    "io_schedule",
    "refcount_warn_saturate",
    "__list_add_valid",
    "__list_del_entry_valid",
    "lock_acquire",
    "__lock_acquire",
    "lock_release",
    "check_",
    "validate_chain",
    "_raw_",
    "__mutex_lock",
    "mutex_lock",
    "panic",
    "show_",
    "__stack_chk_fail",
    "rcu_",
    "watchdog",
    "bit_wait",
    "dump_header",
    "oom_",
    "out_of_memory",
    "debug_check_",
    "mark_lock",
    "mark_held_locks",
    "trace_hardirqs_",
    "__local_bh_enable",
    "local_bh_enable",
    "lockdep_",
    "__raw_spin_lock_init",
    "__rwlock_init",
    "__mutex_init",
    "__init_rwsem",
    "__schedule_bug",
    "preempt_count",
};

static bool is_plumbing(const char *f)
{
	return bl_prefix_in(f, plumbing, BL_ARRAY_SIZE(plumbing)) != NULL;
}

static const char *place(const struct bl_kreport *r, const char *head_func)
{
	if (head_func && *head_func && !is_plumbing(head_func))
		return head_func;
	for (size_t i = 0; i < r->nframes; i++)
		if (!is_plumbing(r->frames[i]))
			return r->frames[i];
	return NULL;
}

/* HEAD up to the first of STOPS after SKIP bytes */
static char *stem(const char *head, size_t skip, const char *const *stops)
{
	size_t n = strlen(head);
	for (; *stops; stops++) {
		const char *s = strstr(head + (skip < n ? skip : n), *stops);
		if (s && (size_t)(s - head) < n)
			n = (size_t)(s - head);
	}
	while (n && (head[n - 1] == '.' || head[n - 1] == ' ' || head[n - 1] == '!'))
		n--;
	return xstrndup(head, n);
}

static char *base_title(const struct bl_kreport *r, const char *head, const char *message)
{
	static const char *const cut[] = {" in ", ", address", " for address", " at ", " - ",
					  ": 0",  " on CPU",   " on cpu",      " [#",  " (",
					  NULL};
	switch (r->cls) {
	case BL_KC_WARNING:
		return xstrdup("WARNING");
	case BL_KC_BUG:
		if (starts(head, "kernel BUG"))
			return xstrdup("kernel BUG");
		if (starts(head, "Kernel panic - not syncing: ")) /* UML's "Kernel mode fault" */
			return stem(head + 28, 0, cut);
		return stem(head, 5, cut);
	case BL_KC_GPF:
		return xstrdup("general protection fault");
	case BL_KC_OOPS:
		return xstrdup("Oops");
	case BL_KC_LOCKDEP: /* "COMM/PID still has locks held!": not the problem's name */
		if (strstr(head, " still has locks held!"))
			return xstrdup("task exited with locks held");
		return stem(head + 9, 0, cut);
	case BL_KC_HUNG_TASK:
		return xstrdup("INFO: task hung");
	case BL_KC_RCU_STALL:
		return xstrdup("INFO: rcu detected stall");
	case BL_KC_SOFT_LOCKUP:
		return xstrdup("BUG: soft lockup");
	case BL_KC_HARD_LOCKUP:
		return xstrdup("hard LOCKUP");
	case BL_KC_STACK_OVERFLOW:
		return xstrdup("kernel stack overflow");
	case BL_KC_LIST_CORRUPTION:
	case BL_KC_REFCOUNT: {
		static const char *const msg_cut[] = {". ", " (", NULL};
		return stem(*message ? message : head, 0, msg_cut);
	}
	case BL_KC_SCHED_ATOMIC: /* then "COMM/PID/PREEMPT_COUNT": not the problem's name */
		return xstrdup("BUG: scheduling while atomic");
	case BL_KC_KASAN:
	case BL_KC_KFENCE:
	case BL_KC_UBSAN:
	case BL_KC_SLEEP_ATOMIC:
		return stem(head, strchr(head, ':') ? (size_t)(strchr(head, ':') - head) + 2 : 0,
			    cut);
	default:
		return NULL;
	}
}

/* classes whose title is their whole first line (no call trace to name a
 * place): panics, module and init messages, OOM kills */
static char *line_title(const struct bl_kreport *r, const char *head)
{
	if (r->cls == BL_KC_OOM) {
		const char *k = strstr(r->body, "Killed process ");
		const char *open = k ? strchr(k, '(') : NULL,
			   *close = open ? strchr(open, ')') : NULL;
		if (close)
			return xasprintf("Out of memory: killed %.*s", (int)(close - open - 1),
					 open + 1);
		return xstrdup("Out of memory");
	}
	if (r->cls == BL_KC_STACK_PROTECTOR) {
		const char *in = strstr(head, "corrupted in: ");
		char f[128] = "";
		if (in && kframe_func(in + 14, f, sizeof(f)))
			return xasprintf("stack-protector: Kernel stack is corrupted in %s", f);
	}
	static const char *const cut[] = {" (err ", NULL};
	return stem(head, 0, cut);
}

static void make_signature(struct bl_kreport *r)
{
	struct bl_sha256 h;
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, bl_kclass_name(r->cls));
	bl_sha256_update_str(&h, r->title);
	for (size_t i = 0; i < r->nframes && i < 3; i++)
		bl_sha256_update_str(&h, r->frames[i]);
	char hex[65];
	bl_sha256_final_hex(&h, hex);
	r->signature = xstrndup(hex, 16);
}

void ktitle_make(struct bl_kreport *r, const char *head, const char *head_func,
		 const char *lock_func, const char *message)
{
	char *base = base_title(r, head, message);
	if (base) {
		const char *at = place(r, head_func);
		if (!at && lock_func && *lock_func && !is_plumbing(lock_func))
			at = lock_func;
		r->title = at ? xasprintf("%s in %s", base, at) : xstrdup(base);
		free(base);
	} else {
		r->title = line_title(r, head);
	}
	make_signature(r);
}
