/* The kernel report classifier (harness/console) over the corpus in
 * tests/data/kreports/: each NAME.log has a NAME.expect with one line per
 * report, "class|title|truncated|panicked|pid|task". The hand-written logs
 * are public reports written out from their published text (LKDTM's,
 * syzbot's); qemu-*.log are bootlab's own console logs of real LKDTM
 * crashes (scenarios/kernel-reports.yaml). Then the policy, and random and
 * mutated streams, which must neither crash nor grow without bound. */
#include "console/console.h"
#include "corpus.h"
#include "t.h"
#include "util/util.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static char *summary(const struct bl_kreport *r, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++)
		sb_addf(&sb, "%s|%s|%d|%d|%d|%s\n", bl_kclass_name(r[i].cls), r[i].title,
			r[i].truncated, r[i].panicked, r[i].pid, r[i].task);
	return sb_detach(&sb, NULL);
}

static void corpus_log(const char *name, char *data, const char *want, void *arg)
{
	(void)arg;
	struct bl_kreport *r = NULL;
	size_t nr = 0;
	bl_kreports_from_text(data, &r, &nr);
	char *got = summary(r, nr);
	T_EQ_STR(got, want, "reports of %s", name);
	for (size_t i = 0; i < nr; i++) {
		T_OK(r[i].body && r[i].nlines > 0 && strlen(r[i].signature) == 16,
		     "%s: report %zu has a body and a signature", name, i);
		bl_kreport_release(&r[i]);
	}
	free(r);
	free(got);
}

/* the reports of LOG (free with release_all) */
static struct bl_kreport *reports_of(const char *log, size_t *n)
{
	struct bl_kreport *r = NULL;
	*n = 0;
	bl_kreports_from_text(log, &r, n);
	return r;
}

static void release_all(struct bl_kreport *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bl_kreport_release(&r[i]);
	free(r);
}

static void test_details(void)
{
	const char *log = "[    3.0] ------------[ cut here ]------------\n"
			  "[    3.1] WARNING: CPU: 1 PID: 9 at a.c:1 foo+0x1/0x2\n"
			  "[    3.2] CPU: 1 PID: 9 Comm: x Not tainted 6.1.0 #1\n"
			  "userspace line in the middle\n"
			  "[    3.3] Call Trace:\n"
			  "[    3.3]  ? bar+0x1/0x2\n"
			  "[    3.3]  foo+0x1/0x2\n"
			  "[    3.3]  baz+0x1/0x2\n"
			  "[    3.4] ---[ end trace 0000000000000000 ]---\n";
	size_t n;
	struct bl_kreport *r = reports_of(log, &n);
	T_EQ_INT(n, 1, "one report across a userspace line");
	if (n == 1) {
		T_OK(r[0].guest_s > 2.99 && r[0].guest_s < 3.01, "guest time of the first line");
		T_EQ_INT(r[0].cpu, 1, "cpu");
		T_EQ_INT(r[0].line, 1, "first line number");
		T_EQ_INT(r[0].nframes, 2, "unreliable '?' frames skipped");
		T_OK(!strstr(r[0].body, "userspace"), "userspace line not in the body");
		T_EQ_INT(r[0].nlines, 8, "body lines");
	}
	struct bl_kreport *r2 = NULL;
	size_t n2 = 0;
	bl_kreports_from_text(log, &r2, &n2);
	T_OK(n2 == 1 && n == 1 && !strcmp(r[0].signature, r2[0].signature),
	     "same report, same signature");
	for (size_t i = 0; i < n; i++)
		bl_kreport_release(&r[i]);
	for (size_t i = 0; i < n2; i++)
		bl_kreport_release(&r2[i]);
	free(r);
	free(r2);
}

static void test_imitation(void)
{
	/* echo "Kernel panic - not syncing: x" > /dev/console after the kernel's
	 * stamped lines: no stamp, not the kernel's; a stamp from the past:
	 * not the kernel's either */
	const char *log = "[    1.000000] Run /init as init process\n"
			  "Kernel panic - not syncing: fake\n"
			  "[    0.500000] Kernel panic - not syncing: fake with an old time\n"
			  "[    2.000000] reboot: Power down\n";
	struct bl_kreport *r = NULL;
	size_t n = 0;
	bl_kreports_from_text(log, &r, &n);
	T_EQ_INT(n, 0, "userspace imitations of a panic are not reports");
	for (size_t i = 0; i < n; i++)
		bl_kreport_release(&r[i]);
	free(r);
}

static void test_mid_line(void)
{
	/* the kernel's panic cutting into a line a program had not ended */
	const char *log = "[    1.000000] Run /init as init process\n"
			  "no newline yet[    1.200000] Kernel panic - not syncing: Attempted to "
			  "kill init! exitcode=0x00000100\n"
			  "[    1.210000] Kernel Offset: disabled\n";
	size_t n;
	struct bl_kreport *r = reports_of(log, &n);
	T_EQ_INT(n, 1, "a panic starting mid-line is a report");
	T_OK(n == 1 && r[0].line == 2, "on the line it cut into (line %zu)", n ? r[0].line : 0);
	T_OK(n == 1 && r[0].guest_s > 1.19 && !strncmp(r[0].title, "Kernel panic", 12),
	     "the panic, at the kernel's time (%s)", n ? r[0].title : "");
	release_all(r, n);
}

static void test_regs_dump(void)
{
	/* UML's show_regs() outside a report: a register dump, then a panic
	 * classes it; without the panic it is no report, and a "Modules
	 * linked in:" inside a WARNING does not split it */
	const char *dump = "[    0.02] Modules linked in:\n"
			   "[    0.02] Pid: 17, comm: sh Not tainted 6.1.192\n"
			   "[    0.02] RIP: 0033:foo_fault+0x2/0xa\n"
			   "[    0.02] RSP: 000000007cb2bdd8  EFLAGS: 00010246\n"
			   "[    0.02] RAX: 0 RBX: 0 RCX: 0\n"
			   "[    0.02] RDX: 0 RSI: 0 RDI: 0\n";
	char *log = xasprintf("%s[    0.02] Kernel panic - not syncing: Kernel mode fault at addr "
			      "0x0, ip 0x601d9e1f\n",
			      dump);
	size_t n;
	struct bl_kreport *r = reports_of(log, &n);
	T_OK(n == 1 && r[0].cls == BL_KC_BUG && r[0].panicked &&
		 !strcmp(r[0].title, "Kernel mode fault in foo_fault") && r[0].line == 1,
	     "register dump and a kernel-mode-fault panic: one bug (%s)", n ? r[0].title : "");
	release_all(r, n);
	free(log);
	log = xasprintf("%s[    0.03] reboot: System halted\n", dump);
	r = reports_of(log, &n);
	T_EQ_INT(n, 0, "a register dump alone is no report");
	release_all(r, n);
	free(log);
	r = reports_of("[    3.0] ------------[ cut here ]------------\n"
		       "[    3.1] WARNING: CPU: 1 PID: 9 at a.c:1 foo+0x1/0x2\n"
		       "[    3.1] Modules linked in:\n"
		       "[    3.2] CPU: 1 PID: 9 Comm: x Not tainted 6.1.0 #1\n"
		       "[    3.4] ---[ end trace 0000000000000000 ]---\n",
		       &n);
	T_OK(n == 1 && r[0].nlines == 5, "\"Modules linked in:\" inside a WARNING stays in it");
	release_all(r, n);
}

static void test_report_after_report(void)
{
	/* a closed report takes the register lines after it, never a line
	 * that starts the next report ("BUG:" looks like "R10:") */
	size_t n;
	struct bl_kreport *r =
	    reports_of("[    3.0] ------------[ cut here ]------------\n"
		       "[    3.1] WARNING: CPU: 1 PID: 9 at a.c:1 foo+0x1/0x2\n"
		       "[    3.4] ---[ end trace 0000000000000000 ]---\n"
		       "[    3.5] BUG: scheduling while atomic: sh/28/0x00000002\n"
		       "[    3.5] CPU: 0 PID: 28 Comm: sh Not tainted 6.1.192 #1\n",
		       &n);
	T_OK(n == 2 && r[1].cls == BL_KC_SCHED_ATOMIC && r[0].nlines == 3,
	     "a BUG right after a WARNING's end is a report of its own (%zu)", n);
	release_all(r, n);
}

static void test_policy(void)
{
	struct bl_kpolicy p = bl_kpolicy_default();
	T_OK(bl_kpolicy_fails(&p, BL_KC_WARNING), "default: a warning fails");
	T_OK(!bl_kpolicy_fails(&p, BL_KC_INIT), "default: init messages do not");
	T_EQ_INT(bl_kpolicy_apply(&p, "warning,hung-task", true), 0, "--allow list");
	T_OK(!bl_kpolicy_fails(&p, BL_KC_WARNING) && !bl_kpolicy_fails(&p, BL_KC_HUNG_TASK) &&
		 bl_kpolicy_fails(&p, BL_KC_KASAN),
	     "allowed classes do not fail, others still do");
	T_EQ_INT(bl_kpolicy_apply(&p, "warnig", false), -1, "unknown class refused");
	T_OK(strstr(bl_errmsg(), "'warnig'") != NULL, "the message names it");
	T_EQ_INT(bl_kpolicy_apply(&p, "none", true) + bl_kpolicy_apply(&p, "all", false), 0, "all");
	T_OK(bl_kpolicy_fails(&p, BL_KC_INIT), "all: init messages fail too");
	for (int c = BL_KC_NONE + 1; c < BL_KC_COUNT; c++)
		T_EQ_INT(bl_kclass_parse(bl_kclass_name((enum bl_kclass)c)), c,
			 "class name %s parses back", bl_kclass_name((enum bl_kclass)c));
}

/* the panic a report causes, and its end marker, go on that report */
static void test_panic_end(void)
{
	const char *log =
	    "[    5.0] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
	    "[    5.1] Oops: 0002 [#1] PREEMPT SMP\n"
	    "[    5.1] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0 #1\n"
	    "[    5.2] RIP: 0010:foo+0x2a/0x60\n"
	    "[    5.2] Call Trace:\n"
	    "[    5.2]  foo+0x1/0x2\n"
	    "[    5.3] ---[ end trace 0000000000000000 ]---\n"
	    "[    5.4] RIP: 0010:foo+0x2a/0x60\n"
	    "[    5.5] Kernel panic - not syncing: Fatal exception\n"
	    "[    5.6] Kernel Offset: disabled\n"
	    "[    5.7] ---[ end Kernel panic - not syncing: Fatal exception ]---\n"
	    "[    6.0] ---[ end Kernel panic - not syncing: Fatal exception ]---\n";
	size_t n;
	struct bl_kreport *r = reports_of(log, &n);
	T_EQ_INT(n, 1, "a BUG, its panic and the panic's end: one report");
	if (n == 1) {
		const char *end = "---[ end Kernel panic - not syncing: Fatal exception ]---\n";
		size_t bl = strlen(r[0].body), el = strlen(end);
		T_OK(r[0].panicked && bl > el && !strcmp(r[0].body + bl - el, end),
		     "the panic's end marker closes the body");
		T_EQ_INT(r[0].nlines, 11, "the second end marker is not its");
	}
	release_all(r, n);
}

/* --fail-on and --allow over a scenario's policy */
static void test_override(void)
{
	struct bl_kpolicy_override o = {0};
	struct bl_kpolicy p = bl_kpolicy_default();
	T_EQ_INT(bl_kpolicy_override_add(&o, "all", true) +
		     bl_kpolicy_override_add(&o, "warning", false),
		 0, "--allow all --fail-on warning");
	bl_kpolicy_override_apply(&o, &p);
	T_EQ_INT(p.fail, 1u << BL_KC_WARNING, "exactly warning fails");
	o = (struct bl_kpolicy_override){0};
	p = (struct bl_kpolicy){.fail = 1u << BL_KC_BUG};
	T_EQ_INT(bl_kpolicy_override_add(&o, "warning,init", false) +
		     bl_kpolicy_override_add(&o, "init", true),
		 0, "--fail-on warning,init --allow init");
	bl_kpolicy_override_apply(&o, &p);
	T_EQ_INT(p.fail, (1u << BL_KC_BUG) | (1u << BL_KC_WARNING),
		 "the scenario's bug stays, warning added, the later --allow init wins");
	T_EQ_INT(bl_kpolicy_override_add(&o, "oops,kasn", false), -1, "unknown class refused");
	T_OK(strstr(bl_errmsg(), "'kasn'") && strstr(bl_errmsg(), "hung-task"),
	     "the message names it and lists the classes");
	bl_kpolicy_override_apply(&o, &p);
	T_OK(!bl_kpolicy_fails(&p, BL_KC_OOPS), "a refused list changes nothing");
}

/* random and mutated streams: no crash (ASan), bounded bodies */
static void test_fuzz(void)
{
	static const char *const pieces[] = {"------------[ cut here ]------------",
					     "WARNING: CPU: 0 PID: 1 at x:1 f+0x1/0x2",
					     "==================",
					     "BUG: KASAN: x in f+0x1/0x2",
					     "Call Trace:",
					     " f+0x1/0x2",
					     "Kernel panic - not syncing: x",
					     "---[ end trace 0 ]---",
					     "Oops: 0000 [#1]",
					     "INFO: task a:1 blocked for more than 1 seconds.",
					     "random text",
					     "RIP: 0010:",
					     "refcount_t: x",
					     " invoked oom-killer: ",
					     "",
					     "[",
					     "[ 1.0]",
					     "+0x",
					     "---[ end Kernel"};
	unsigned seed = 12345;
	size_t worst = 0, total = 0;
	for (int round = 0; round < 200; round++) {
		struct bl_kparser *p = bl_kparser_new();
		for (int i = 0; i < 300; i++) {
			seed = seed * 1103515245 + 12345;
			char line[160];
			const char *a = pieces[(seed >> 8) % BL_ARRAY_SIZE(pieces)];
			snprintf(line, sizeof(line), "[%5u.%06u] %s%c", i, seed % 1000000, a,
				 (char)((seed >> 20) & 0x7f));
			if (seed & 0x10000)
				line[(seed >> 3) % (strlen(line) + 1)] = (char)(seed >> 24);
			bl_kparser_feed(p, (seed & 0x20000) ? line + 15 : line);
		}
		bl_kparser_finish(p);
		size_t n;
		const struct bl_kreport *r = bl_kparser_reports(p, &n);
		for (size_t i = 0; i < n; i++) {
			if (r[i].nlines > worst)
				worst = r[i].nlines;
			if (!r[i].title || !r[i].signature)
				worst = ~(size_t)0;
		}
		total += n;
		bl_kparser_free(p);
	}
	T_OK(worst <= BL_KREPORT_MAX_LINES + 2, "fuzz: %zu reports, bodies at most %zu lines",
	     total, worst);
}

int main(void)
{
	test_details();
	test_imitation();
	test_regs_dump();
	test_report_after_report();
	test_mid_line();
	test_policy();
	test_panic_end();
	test_override();
	test_fuzz();
	size_t n = t_corpus("tests/data/kreports", corpus_log, NULL);
	T_OK(n >= 10, "kernel report corpus present (%zu logs)", n);
	return t_done();
}
