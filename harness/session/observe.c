/* The project's stage-1 init, observed (docs/observe.md): the observer's
 * "observe" messages as typed events, and why PID 1 exited told from
 * them. */
#include "session/session.h"
#include "util/util.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define ARGV_SHOWN 160 /* bytes of a command line shown in a reason */
#define LAST_COMMANDS 5

double bl_obs_guest_s(const struct bl_observed *o, const struct bl_obs_event *e)
{
	return (double)(e->t_ns + (o->clock_known ? o->clock_ns : 0)) / 1e9;
}

static const char *base(const char *p)
{
	const char *b = p ? strrchr(p, '/') : NULL;
	return b ? b + 1 : p ? p : "";
}

/* the last exec of PID before event END, or NULL */
static const struct bl_obs_event *exec_of(const struct bl_observed *o, int pid, size_t end)
{
	for (size_t i = end; i-- > 0;)
		if (o->ev[i].kind == BL_OBS_EXEC && o->ev[i].pid == pid)
			return &o->ev[i];
	return NULL;
}

/* "mount -o ro /dev/vda /mnt/root", quoted and cut, into SB; a fork
 * that exec'd nothing by its pid */
static void add_command(struct strbuf *sb, const struct bl_obs_event *ex, int pid)
{
	struct strbuf c = STRBUF_INIT;
	if (!ex) {
		sb_addf(sb, "a subshell of PID 1 (pid %d, no exec)", pid);
		return;
	}
	for (size_t i = 0; ex && ex->argv && ex->argv[i]; i++)
		sb_addf(&c, "%s%s", i ? " " : "", ex->argv[i]);
	if (c.len > ARGV_SHOWN)
		sb_addf(sb, "\"%.*s...\"", ARGV_SHOWN, sb_str(&c));
	else
		sb_addf(sb, "\"%s\"", sb_str(&c));
	sb_release(&c);
}

static void add_status(struct strbuf *sb, const struct bl_obs_event *ex)
{
	if (ex->signal) {
		const char *n = sigabbrev_np(ex->signal);
		sb_addf(sb, "killed by signal %d%s%s", ex->signal, n ? " SIG" : "", n ? n : "");
	} else {
		sb_addf(sb, "exited %d", ex->status);
	}
}

/* "/init (busybox sh)": the init the observer ran, then the program
 * PID 1 was: its executable and, for a script, the interpreter's name */
static void add_init(struct strbuf *sb, const struct bl_observed *o, const struct bl_obs_event *ex)
{
	const char *init =
	    o->n && o->ev[0].kind == BL_OBS_START && o->ev[0].exe ? o->ev[0].exe : "/init";
	sb_adds(sb, init);
	if (!ex || !ex->argv || !ex->argv[0])
		return;
	const char *exe = base(ex->exe ? ex->exe : ex->argv[0]), *a0 = base(ex->argv[0]);
	if (strcmp(a0, exe))
		sb_addf(sb, " (%s %s)", exe, a0);
	else if (ex->argv[1] && ex->argv[2] && !strcmp(ex->argv[2], init))
		sb_addf(sb, " (%s %s)", exe, ex->argv[1]); /* #!/bin/busybox sh */
	else if (strcmp(exe, base(init)))
		sb_addf(sb, " (%s)", exe);
}

/* event I is the end of a command: a program PID 1 or its descendants
 * exec'd, or a fork of PID 1 that exec'd nothing (a subshell, a busybox
 * applet run without exec); not PID 1 itself, nor the forks of other
 * programs that exec'd nothing (a failed helper) */
static bool command_end(const struct bl_observed *o, size_t i)
{
	const struct bl_obs_event *e = &o->ev[i];
	return e->kind == BL_OBS_EXIT && e->pid != 1 && (e->ppid == 1 || exec_of(o, e->pid, i));
}

/* The index of the exit of the command that failed last before event
 * END, or (size_t)-1; *FROM: the first of the last LAST_COMMANDS commands;
 * EXECD: only a program that was exec'd (not a subshell of PID 1).
 * The last failure, not the first: scripts test conditions with commands
 * that exit non-zero (`if grep -q ...`), and the failure that ended PID 1
 * is the one closest to its end (docs/observe.md). */
static size_t last_failed(const struct bl_observed *o, size_t end, size_t *from, bool execd)
{
	size_t n = 0, failed = (size_t)-1;
	for (size_t i = end; i-- > 0 && (n < LAST_COMMANDS || failed == (size_t)-1);) {
		if (!command_end(o, i))
			continue;
		if (n < LAST_COMMANDS) {
			n++;
			*from = i;
		}
		if (failed == (size_t)-1 && (o->ev[i].status != 0 || o->ev[i].signal) &&
		    (!execd || exec_of(o, o->ev[i].pid, i)))
			failed = i;
	}
	return failed;
}

/* console lines of the guest's programs (no printk time) that came from
 * the command's start to the next program's start after its end */
static void add_console(struct strbuf *sb, const struct bl_observed *o, size_t fail,
			char *const *tail, size_t ntail, size_t total)
{
	const struct bl_obs_event *ex = exec_of(o, o->ev[fail].pid, fail);
	size_t from = ex ? ex->console : o->ev[fail].console, to = total;
	for (size_t i = fail + 1; i < o->n; i++)
		if (o->ev[i].kind == BL_OBS_EXEC) {
			to = o->ev[i].console;
			break;
		}
	int shown = 0;
	for (size_t l = from; l < to && shown < 2; l++) {
		if (l + ntail < total)
			continue; /* no longer in the tail */
		const char *line = tail[ntail - (total - l)];
		double t;
		if (!*line || bl_printk_split(line, &t) != line || t >= 0)
			continue;
		sb_adds(sb, shown++ ? " | " : "; console: \"");
		sb_adds(sb, line);
	}
	if (shown)
		sb_addc(sb, '"');
}

char *bl_obs_why_init_died(const struct bl_observed *o, char *const *tail, size_t ntail,
			   size_t total)
{
	size_t end = o->n;
	while (end > 0 && !(o->ev[end - 1].kind == BL_OBS_EXIT && o->ev[end - 1].pid == 1))
		end--;
	if (!end)
		return NULL;
	end--;
	struct strbuf sb = STRBUF_INIT;
	add_init(&sb, o, exec_of(o, 1, end));
	sb_addc(&sb, ' ');
	add_status(&sb, &o->ev[end]);
	size_t from = end, fail = last_failed(o, end, &from, false);
	if (fail != (size_t)-1) {
		sb_adds(&sb, ": ");
		add_command(&sb, exec_of(o, o->ev[fail].pid, fail), o->ev[fail].pid);
		sb_addc(&sb, ' ');
		add_status(&sb, &o->ev[fail]);
		sb_addf(&sb, " at %.2f s", bl_obs_guest_s(o, &o->ev[fail]));
		add_console(&sb, o, fail, tail, ntail, total);
	}
	const char *sep = "; last commands: ";
	for (size_t i = from; i < end; i++) {
		if (!command_end(o, i))
			continue;
		sb_adds(&sb, sep);
		add_command(&sb, exec_of(o, o->ev[i].pid, i), o->ev[i].pid);
		sb_addc(&sb, ' ');
		add_status(&sb, &o->ev[i]);
		sep = ", ";
	}
	if (from == end)
		sb_adds(&sb, "; it ran no other program");
	return sb_detach(&sb, NULL);
}

/* event I, an exec, is the program its pid still ran at the end: no
 * later exec or exit of that pid */
static bool still_runs(const struct bl_observed *o, size_t i)
{
	for (size_t k = i + 1; k < o->n; k++)
		if (o->ev[k].pid == o->ev[i].pid &&
		    (o->ev[k].kind == BL_OBS_EXEC || o->ev[k].kind == BL_OBS_EXIT))
			return false;
	return true;
}

#define STILL_SHOWN 3

static bool same_argv(const struct bl_obs_event *a, const struct bl_obs_event *b)
{
	size_t i = 0;
	if (!a || !b || !a->argv || !b->argv)
		return false;
	for (; a->argv[i] && b->argv[i]; i++)
		if (strcmp(a->argv[i], b->argv[i]))
			return false;
	return !a->argv[i] && !b->argv[i];
}

/* "; last failed: "blkid ..." exited 2 at 37.60 s (12 times since 25.10 s)":
 * a stage 1 that waits for something retries what fails */
static void add_last_failure(struct strbuf *sb, const struct bl_observed *o)
{
	size_t from = o->n, fail = last_failed(o, o->n, &from, true);
	if (fail == (size_t)-1)
		return;
	const struct bl_obs_event *ex = exec_of(o, o->ev[fail].pid, fail), *first = &o->ev[fail];
	size_t times = 0;
	for (size_t i = 0; i <= fail; i++)
		if (command_end(o, i) && (o->ev[i].status || o->ev[i].signal) &&
		    (i == fail || same_argv(exec_of(o, o->ev[i].pid, i), ex)) && !times++)
			first = &o->ev[i];
	sb_adds(sb, sb->len ? "; last failed: " : "stage 1 last failed: ");
	add_command(sb, ex, o->ev[fail].pid);
	sb_addc(sb, ' ');
	add_status(sb, &o->ev[fail]);
	sb_addf(sb, " at %.2f s", bl_obs_guest_s(o, &o->ev[fail]));
	if (times > 1)
		sb_addf(sb, " (%zu times since %.2f s)", times, bl_obs_guest_s(o, first));
}

#define DEVICES_SHOWN 8

/* "; block devices: vda, vda1": the block devices there at the end (the
 * root a stage 1 waits for is often one that never came) */
static void add_block_devices(struct strbuf *sb, const struct bl_observed *o)
{
	size_t shown = 0, more = 0;
	for (size_t i = 0; i < o->n; i++) {
		const struct bl_obs_event *e = &o->ev[i];
		bool gone = false;
		if (e->kind != BL_OBS_BLOCK || e->dev.action == BL_OBS_REMOVE)
			continue;
		for (size_t k = i + 1; k < o->n && !gone; k++)
			gone = o->ev[k].kind == BL_OBS_BLOCK &&
			       !strcmp(o->ev[k].dev.name, e->dev.name);
		if (gone)
			continue; /* removed, added again or changed: the later one counts */
		if (shown++ < DEVICES_SHOWN)
			sb_addf(sb, "%s%s",
				shown > 1 ? ", "
				: sb->len ? "; block devices: "
					  : "stage 1 block devices: ",
				e->dev.name);
		else
			more++;
	}
	if (more)
		sb_addf(sb, " and %zu more", more);
}

char *bl_obs_still_running(const struct bl_observed *o)
{
	struct strbuf sb = STRBUF_INIT;
	int shown = 0;
	for (size_t i = 0; i < o->n; i++)
		if (o->ev[i].kind == BL_OBS_SWITCH_ROOT)
			return NULL; /* stage 1 was left */
	for (size_t i = o->n; i-- > 0 && shown < STILL_SHOWN;) {
		const struct bl_obs_event *e = &o->ev[i];
		if (e->kind != BL_OBS_EXEC || e->pid == 1 || !still_runs(o, i))
			continue;
		sb_adds(&sb, shown++ ? ", " : "stage 1 still running: ");
		add_command(&sb, e, e->pid);
		sb_addf(&sb, " (pid %d, started at %.2f s)", e->pid, bl_obs_guest_s(o, e));
	}
	add_last_failure(&sb, o);
	add_block_devices(&sb, o);
	return sb.len ? sb_detach(&sb, NULL) : (sb_release(&sb), NULL);
}
