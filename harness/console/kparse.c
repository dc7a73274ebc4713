/* The stream parser: console lines in, struct bl_kreport out
 * (docs/kernel-reports.md, "How a report is cut out of the stream"). */
#include "console/internal.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* how far back a printk time may be from the newest one: CPUs print out of
 * order by microseconds, never by a tenth of a second */
#define STAMP_SLACK_S 0.1

struct bl_kparser {
	bool require_stamps, stamp_seen;
	double last_stamp;
	size_t line_no;
	/* the open report */
	bool open;
	struct bl_kreport cur;
	enum kend end;
	bool classed;			/* a line said its class (not only "cut here" or a rule) */
	bool in_trace;			/* after "Call Trace:" */
	bool seen_trace;		/* a frame was read */
	bool regs;			/* opened by a register dump (UML's faults) */
	char *guess[BL_KREPORT_FRAMES]; /* "? f+0x" frames: the only ones without an unwinder */
	size_t nguess;
	struct strbuf body;
	char head[256], head_func[128], message[256];
	char lock_func[128]; /* lockdep: where the first lock listed was taken */
	/* the last closed report may still take its register dump and panic */
	bool tail_ok;
	struct bl_kreport *v;
	size_t n;
};

struct bl_kparser *bl_kparser_new(void)
{
	struct bl_kparser *p = xcalloc(1, sizeof(*p));
	sb_init(&p->body);
	p->last_stamp = -1;
	return p;
}

void bl_kparser_require_stamps(struct bl_kparser *p, bool stamped)
{
	p->require_stamps = stamped;
}

const char *bl_printk_split(const char *line, double *t)
{
	*t = -1;
	if (*line != '[')
		return line;
	const char *s = line + 1;
	while (*s == ' ')
		s++;
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end != ']')
		return line;
	*t = v;
	s = end + 1;
	if (s[0] == '[' && strchr(s, ']') && strchr(s, ']') - s < 12)
		s = strchr(s, ']') + 1;
	return *s == ' ' ? s + 1 : s;
}

const char *bl_printk_embedded(const char *line)
{
	for (const char *p = *line ? strchr(line + 1, '[') : NULL; p; p = strchr(p + 1, '[')) {
		const char *q = p + 1;
		while (*q == ' ')
			q++;
		size_t ip = strspn(q, "0123456789");
		if (!ip || q[ip] != '.' || strspn(q + ip + 1, "0123456789") != 6 ||
		    strncmp(q + ip + 7, "] ", 2))
			continue;
		return p;
	}
	return NULL;
}

/* Only the kernel's lines: once printk times were seen, a line without one
 * is userspace's; a time more than STAMP_SLACK_S before the last one is a copy
 * (the kernel's clock does not go back). */
static bool from_kernel(struct bl_kparser *p, double t)
{
	if (t < 0)
		return !p->require_stamps && !p->stamp_seen;
	if (p->stamp_seen && t < p->last_stamp - STAMP_SLACK_S)
		return false;
	p->stamp_seen = true;
	if (t > p->last_stamp)
		p->last_stamp = t;
	return true;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/* lockdep names the task COMM/PID: "sh/28 is leaving the kernel with
 * locks still held!", "x/3 is trying to acquire lock:", "1 lock held by
 * kworker/0:2/141:"; and each lock where it was taken: ", at: FUNC+0x" */
static void lockdep_line(struct bl_kparser *p, const char *t)
{
	struct bl_kreport *r = &p->cur;
	const char *at = strstr(t, ", at: ");
	if (at && !p->lock_func[0])
		kframe_func(at + 6, p->lock_func, sizeof(p->lock_func));
	if (r->pid >= 0 || r->task[0])
		return;
	const char *start = t, *end = strstr(t, " is leaving the kernel");
	if (!end)
		end = strstr(t, " is trying to acquire lock");
	const char *by = end ? NULL : strstr(t, " held by ");
	if (by) {
		start = by + 9;
		end = strrchr(start, ':');
	}
	const char *slash = end ? memrchr(start, '/', (size_t)(end - start)) : NULL;
	if (!slash || slash == start || (size_t)(slash - start) >= sizeof(r->task))
		return;
	if (sscanf(slash + 1, "%d", &r->pid) == 1)
		snprintf(r->task, sizeof(r->task), "%.*s", (int)(slash - start), start);
}

/* what a report's lines say about where it happened */
static void note_line(struct bl_kparser *p, const char *t)
{
	struct bl_kreport *r = &p->cur;
	if (p->classed && r->cls == BL_KC_LOCKDEP)
		lockdep_line(p, t);
	const char *c = strstr(t, "CPU: ");
	if (c && strstr(c, " PID: ") && (r->cpu < 0 || !r->task[0])) {
		char comm[32] = "";
		sscanf(c, "CPU: %d PID: %d", &r->cpu, &r->pid);
		const char *cm = strstr(c, " Comm: ");
		if (cm && sscanf(cm, " Comm: %31s", comm) == 1)
			copy_str(r->task, sizeof(r->task), comm);
	}
	/* sched_show_task()'s line, in hung-task and blocked-task dumps:
	 * "task:sh              state:D stack:0     pid:27    ppid:1 ..." */
	const char *pid = !strncmp(t, "task:", 5) ? strstr(t, " pid:") : NULL;
	if (pid && r->pid < 0 && !r->task[0]) {
		char comm[32] = "";
		if (sscanf(t + 5, "%31s", comm) == 1 && sscanf(pid + 5, "%d", &r->pid) == 1)
			copy_str(r->task, sizeof(r->task), comm);
	}
	if (!strncmp(t, "Call Trace:", 11) || !strncmp(t, "Call trace:", 11)) {
		p->in_trace = true;
		return;
	}
	const char *rip = !strncmp(t, "RIP: ", 5) ? strchr(t + 5, ':') : NULL;
	if (!rip && !strncmp(t, "pc : ", 5))
		rip = t + 4;
	if (rip && !p->head_func[0])
		kframe_func(rip + 1, p->head_func, sizeof(p->head_func));
	char f[128];
	if (p->in_trace && r->nframes < BL_KREPORT_FRAMES && kframe_func(t, f, sizeof(f))) {
		r->frames[r->nframes++] = xstrdup(f);
		p->seen_trace = true;
	}
	const char *q = strstr(t, "? ");
	if (p->in_trace && q && p->nguess < BL_KREPORT_FRAMES && kframe_func(q + 2, f, sizeof(f))) {
		p->guess[p->nguess++] = xstrdup(f);
		p->seen_trace = true;
	}
}

static void add_line(struct bl_kparser *p, const char *t)
{
	sb_adds(&p->body, t);
	sb_addc(&p->body, '\n');
	p->cur.nlines++;
	note_line(p, t);
}

/* the function a head line names: "at FILE:LINE FUNC+0x", " in FUNC+0x" */
static void head_func_of(struct bl_kparser *p, const char *t)
{
	const char *at = strstr(t, " at ");
	const char *sp = at ? strchr(at + 4, ' ') : NULL;
	if (sp && kframe_func(sp + 1, p->head_func, sizeof(p->head_func)))
		return;
	const char *in = strstr(t, " in ");
	if (in)
		kframe_func(in + 4, p->head_func, sizeof(p->head_func));
}

static void set_head(struct bl_kparser *p, const struct kstart *k, const char *t)
{
	p->cur.cls = k->cls;
	p->end = k->end;
	p->classed = true;
	copy_str(p->head, sizeof(p->head), t);
	head_func_of(p, t);
}

static void open_report(struct bl_kparser *p, const struct kstart *k, const char *t, double ts)
{
	p->open = true;
	p->tail_ok = false;
	memset(&p->cur, 0, sizeof(p->cur));
	p->cur.cpu = p->cur.pid = -1;
	p->cur.guest_s = ts;
	p->cur.line = p->line_no;
	p->classed = p->in_trace = p->seen_trace = p->regs = false;
	p->head[0] = p->head_func[0] = p->message[0] = p->lock_func[0] = 0;
	sb_reset(&p->body);
	p->end = k->end;
	if (k->cls != BL_KC_NONE)
		set_head(p, k, t);
	else if (t[0] == '=')
		p->end = KEND_RULE;
	add_line(p, t);
}

static void close_report(struct bl_kparser *p, bool truncated)
{
	if (!p->open)
		return;
	p->open = false;
	if (!p->classed) { /* a marker nothing followed: no report */
		for (size_t i = 0; i < p->cur.nframes; i++)
			free(p->cur.frames[i]);
		for (size_t i = 0; i < p->nguess; i++)
			free(p->guess[i]);
		p->nguess = 0;
		return;
	}
	struct bl_kreport *r = &p->cur;
	/* a kernel without a reliable unwinder marks every frame '?' */
	if (!r->nframes) {
		memcpy(r->frames, p->guess, sizeof(p->guess));
		r->nframes = p->nguess;
	} else {
		for (size_t i = 0; i < p->nguess; i++)
			free(p->guess[i]);
	}
	p->nguess = 0;
	r->truncated = truncated;
	r->body = sb_detach(&p->body, NULL);
	ktitle_make(r, p->head, p->head_func, p->lock_func, p->message);
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n++] = *r;
	p->tail_ok = !truncated;
}

static bool is_end(const struct bl_kparser *p, const char *t)
{
	if (!strncmp(t, "---[ end trace", 14))
		return p->end == KEND_TRACE || p->end == KEND_RULE;
	if (!strncmp(t, "---[ end Kernel panic", 21))
		return true;
	return p->end == KEND_RULE && p->classed && !strncmp(t, "=======", 7);
}

/* a start while a report is open: part of it, or the next one */
static bool joins(const struct bl_kparser *p, const struct kstart *k)
{
	if (k->header || !p->classed)
		return true;
	/* list corruption and refcount print their message, then WARN or BUG */
	bool msg = p->cur.cls == BL_KC_LIST_CORRUPTION || p->cur.cls == BL_KC_REFCOUNT;
	if (msg && (k->cls == BL_KC_WARNING || k->cls == BL_KC_BUG) && !p->seen_trace)
		return true;
	/* the OOM killer's header and dump, then its kill; a stack overflow
	 * names itself twice */
	if (k->cls == BL_KC_OOM && p->cur.cls == BL_KC_OOM)
		return strncmp(p->head, "Out of memory", 13) != 0;
	return k->cls == p->cur.cls && k->cls == BL_KC_STACK_OVERFLOW;
}

static void join(struct bl_kparser *p, const struct kstart *k, const char *t)
{
	if (!p->classed && k->cls != BL_KC_NONE && !k->header) {
		set_head(p, k, t);
	} else if (!p->classed && k->header) {
		set_head(p, k, t);
	} else if (p->cur.cls == BL_KC_LIST_CORRUPTION || p->cur.cls == BL_KC_REFCOUNT) {
		if (!p->message[0])
			copy_str(p->message, sizeof(p->message), p->head);
		if (!p->head_func[0])
			head_func_of(p, t);
		p->end = KEND_TRACE;
	} else if (p->cur.cls == BL_KC_OOM && k->cls == BL_KC_OOM) {
		p->end = KEND_LINE; /* the kill ends it */
	}
	add_line(p, t);
}

static enum bl_kclass panic_class(const char *reason)
{
	if (!strncmp(reason, "stack-protector: ", 17))
		return BL_KC_STACK_PROTECTOR;
	return BL_KC_PANIC;
}

/* panics that end the report before them (kernel/panic.c callers) */
static bool consequence(const char *reason)
{
	static const char *const after_report[] = {
	    "Fatal exception",
	    "Attempted to kill init!",
	    "Oops",
	    "hung_task: blocked tasks",
	    "softlockup: hung tasks",
	    "panic_on_warn set",
	    "Hard LOCKUP",
	    "RCU Stall",
	    "Aiee, killing interrupt handler",
	    "System is deadlocked on memory",
	    "Out of memory",
	    "kernel: panic_on_warn set",
	    "Fatal hardware error",
	    "corrupted stack end detected",
	};
	for (size_t i = 0; i < BL_ARRAY_SIZE(after_report); i++)
		if (!strncmp(reason, after_report[i], strlen(after_report[i])))
			return true;
	return false;
}

static void on_panic(struct bl_kparser *p, const char *t, double ts)
{
	const char *reason = t + strlen("Kernel panic - not syncing: ");
	if (p->open) {
		p->cur.panicked = true;
		add_line(p, t);
		p->end = KEND_PANIC;
		return;
	}
	if (p->tail_ok && p->n && consequence(reason)) {
		struct bl_kreport *last = &p->v[p->n - 1];
		last->panicked = true;
		char *b = xasprintf("%s%s\n", last->body, t);
		free(last->body);
		last->body = b;
		last->nlines++;
		return;
	}
	struct kstart k = {panic_class(reason), KEND_PANIC, false};
	open_report(p, &k, t, ts);
}

/* a line after a closed report: its register dump goes on it, and the end
 * marker of the panic it caused, which ends it for good */
static bool onto_last(struct bl_kparser *p, const char *t)
{
	if (!p->tail_ok || !p->n)
		return false;
	struct bl_kreport *last = &p->v[p->n - 1];
	bool end = !strncmp(t, "---[ end Kernel", 15);
	struct kstart k;
	/* "BUG: ..." has the shape of a register line ("R10: ..."): a line
	 * that starts a report is never a tail */
	if (end ? !last->panicked : !kline_is_body(t) || kstart_line(t, &k))
		return false;
	char *b = xasprintf("%s%s\n", last->body, t);
	free(last->body);
	last->body = b;
	last->nlines++;
	p->tail_ok = !end;
	return true;
}

/* UML shows a kernel-mode fault as show_regs() ("Modules linked in:",
 * "Pid: N, comm: X", "RIP: 0033:FUNC+0x", registers), then panics with
 * "Kernel mode fault at addr A, ip B": the dump opened an unclassed
 * report (regs_marker), the panic classes it, a bug that panicked */
static bool regs_panic(struct bl_kparser *p, const char *t)
{
	static const char panic[] = "Kernel panic - not syncing: ";
	if (!p->regs || p->classed || strncmp(t, panic, sizeof(panic) - 1))
		return false;
	const char *reason = t + sizeof(panic) - 1;
	struct kstart k = {panic_class(reason), KEND_PANIC, false};
	if (!strncmp(reason, "Kernel mode fault", 17))
		k.cls = BL_KC_BUG;
	set_head(p, &k, t);
	p->cur.panicked = true;
	add_line(p, t);
	return true;
}

/* a register dump outside any report: UML's show_regs() before a panic */
static bool regs_marker(struct bl_kparser *p, const char *t, double ts)
{
	if (strncmp(t, "Modules linked in:", 18))
		return false;
	struct kstart k = {BL_KC_NONE, KEND_PANIC, false};
	open_report(p, &k, t, ts);
	p->regs = true;
	return true;
}

/* the open report takes T, or is closed by it: false when T is left over */
static bool feed_open(struct bl_kparser *p, const char *t)
{
	if (is_end(p, t)) {
		add_line(p, t);
		close_report(p, false);
		return true;
	}
	struct kstart k;
	if (kstart_line(t, &k)) {
		if (!joins(p, &k)) {
			close_report(p, false);
			return false;
		}
		join(p, &k, t);
		return true;
	}
	if (regs_panic(p, t))
		return true;
	if (!p->classed && p->cur.nlines >= 4 && !(p->regs && kline_is_body(t))) {
		/* a marker no report followed */
		close_report(p, false);
		return false;
	}
	bool body = kline_is_body(t);
	bool more = body || p->end == KEND_TRACE || p->end == KEND_RULE || p->end == KEND_PANIC ||
		    (p->end == KEND_AFTER && !p->seen_trace);
	if (!more) {
		close_report(p, false);
		return false;
	}
	if (p->end == KEND_AFTER && p->seen_trace && !body) {
		close_report(p, false);
		return false;
	}
	if (!body && !p->classed && !p->message[0])
		copy_str(p->message, sizeof(p->message), t);
	add_line(p, t);
	if (p->cur.nlines >= BL_KREPORT_MAX_LINES)
		close_report(p, true);
	return true;
}

void bl_kparser_feed(struct bl_kparser *p, const char *line)
{
	double ts;
	const char *t = bl_printk_split(line, &ts);
	const char *cut = ts < 0 ? bl_printk_embedded(line) : NULL;
	if (cut)
		t = bl_printk_split(cut, &ts);
	p->line_no++;
	if (!from_kernel(p, ts))
		return;
	if (p->open && feed_open(p, t))
		return;
	if (!strncmp(t, "Kernel panic - not syncing: ", 28)) {
		on_panic(p, t, ts);
		return;
	}
	if (regs_marker(p, t, ts))
		return;
	if (onto_last(p, t))
		return;
	p->tail_ok = false;
	struct kstart k;
	if (kstart_line(t, &k) || !strncmp(t, "=======", 7)) {
		if (!strncmp(t, "=======", 7))
			k = (struct kstart){BL_KC_NONE, KEND_RULE, false};
		open_report(p, &k, t, ts);
		if (p->end == KEND_LINE)
			close_report(p, false);
	}
}

/* a panic's end marker is often never printed: panic=-1 resets at once */
static bool expects_marker(const struct bl_kparser *p)
{
	return p->end == KEND_TRACE || p->end == KEND_RULE ||
	       ((p->end == KEND_PANIC || p->end == KEND_AFTER) && !p->seen_trace);
}

void bl_kparser_finish(struct bl_kparser *p)
{
	if (p->open)
		close_report(p, expects_marker(p));
}

const struct bl_kreport *bl_kparser_reports(const struct bl_kparser *p, size_t *n)
{
	*n = p->n;
	return p->v;
}

void bl_kparser_free(struct bl_kparser *p)
{
	if (!p)
		return;
	if (p->open) {
		p->classed = false;
		close_report(p, false);
	}
	for (size_t i = 0; i < p->n; i++)
		bl_kreport_release(&p->v[i]);
	free(p->v);
	sb_release(&p->body);
	free(p);
}
