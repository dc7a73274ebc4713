/* junit.xml: one testsuite per scenario file, one testcase per variant;
 * failures carry the reason (or the title of the kernel report that failed
 * the boot), the failing kernel reports' bodies and the console tail.
 * Every text and attribute value goes through bl_xml_escape(). */
#include "report/report.h"
#include "console/console.h"
#include "util/util.h"

#include <string.h>
#include <time.h>

/* " (S)" escaped; nothing for NULL */
static void junit_paren(struct strbuf *sb, const char *s)
{
	if (!s)
		return;
	sb_adds(sb, " (");
	bl_xml_escape(sb, s);
	sb_addc(sb, ')');
}

/* "kernel report (CLASS): TITLE [TIME] task T pid N", escaped */
static void junit_kreport_line(struct strbuf *sb, const struct bl_kreport *k)
{
	sb_addf(sb, "kernel report (%s%s): ", bl_kclass_name(k->cls), k->fails ? "" : ", allowed");
	bl_xml_escape(sb, k->title);
	if (k->guest_s >= 0)
		sb_addf(sb, " [%.6f]", k->guest_s);
	if (k->task[0]) {
		sb_adds(sb, " task ");
		bl_xml_escape(sb, k->task);
	}
	if (k->pid >= 0)
		sb_addf(sb, " pid %d", k->pid);
	if (k->truncated)
		sb_adds(sb, " (truncated)");
	sb_addc(sb, '\n');
}

/* the failure or error element of the shown repetition R of V: its
 * message is the title of the kernel report that failed the boot, else
 * the reason (an observed boot's reason, which says why init died and
 * ends with the kernel's report, always); the text holds the reason, the failing reports' bodies
 * and the console tail */
static void junit_failure(struct strbuf *sb, const struct bl_variant_result *v,
			  const struct bl_result *r)
{
	const char *tag = bl_outcome_is_error(r->outcome) ? "error" : "failure";
	const struct bl_kreport *fk = r->observed.on ? NULL : bl_result_failing_kreport(r);
	sb_addf(sb, "      <%s type=\"%s\" message=\"", tag, bl_outcome_name(r->outcome));
	bl_xml_escape(sb, fk ? fk->title : r->reason);
	sb_adds(sb, "\">");
	if (v->nruns > 1)
		sb_addf(sb, "run %zu of %zu: ", bl_variant_main_index(v), v->nruns);
	bl_xml_escape(sb, r->reason);
	for (size_t k = 0; k < r->nkreports; k++) {
		if (!r->kreports[k].fails)
			continue;
		sb_adds(sb, "\n\n");
		junit_kreport_line(sb, &r->kreports[k]);
		bl_xml_escape(sb, r->kreports[k].body);
	}
	sb_adds(sb, "\n\nlast console lines:\n");
	for (size_t k = 0; r->tail && r->tail[k]; k++) {
		bl_xml_escape(sb, r->tail[k]);
		sb_addc(sb, '\n');
	}
	sb_addf(sb, "</%s>\n", tag);
}

/* system-out: every repetition's verdict (a flaky variant's first), the
 * shown one's steps, kernel reports (a line each), where --freeze held it
 * and log */
static void junit_system_out(struct strbuf *sb, const struct bl_variant_result *v,
			     const struct bl_result *r)
{
	sb_adds(sb, "      <system-out>");
	if (bl_variant_flaky(v))
		sb_adds(sb, "flaky: passed on one attempt, not on another\n");
	for (size_t k = 0; v->nruns > 1 && k < v->nruns; k++) {
		const struct bl_result *rk = v->runs[k];
		sb_addf(sb, "run %zu", k + 1);
		if (rk->attempt > 1)
			sb_addf(sb, " (attempt %d)", rk->attempt);
		sb_addf(sb, ": %s %.3fs", bl_outcome_name(rk->outcome),
			bl_ns_to_s(rk->duration_ns));
		junit_paren(sb, rk->reason);
		sb_addc(sb, '\n');
	}
	for (size_t k = 0; k < r->nsteps; k++) {
		const struct bl_step_result *s = &r->steps[k];
		/* generated names already start with the number ("1: hello") */
		char num[32];
		snprintf(num, sizeof(num), "%zu: ", k + 1);
		if (strncmp(s->name, num, strlen(num)))
			sb_adds(sb, num);
		bl_xml_escape(sb, s->name);
		sb_addf(sb, ": %s", bl_step_result_word(s));
		junit_paren(sb, s->message);
		sb_addc(sb, '\n');
	}
	for (size_t k = 0; k < r->nkreports; k++)
		junit_kreport_line(sb, &r->kreports[k]);
	if (r->frozen.on) {
		sb_adds(sb, "frozen: ");
		bl_xml_escape(sb, bl_frozen_what(r->frozen.why));
		sb_addf(sb, " at %.3f s; ", bl_ns_to_s(r->frozen.at_ns));
		sb_adds(sb, r->frozen.dump ? "memory dump: " : "no memory dump");
		bl_xml_escape(sb, r->frozen.dump);
		sb_addc(sb, '\n');
	}
	if (r->console_log) {
		sb_adds(sb, "console log: ");
		bl_xml_escape(sb, r->console_log);
		sb_addc(sb, '\n');
	}
	sb_adds(sb, "</system-out>\n");
}

static void junit_case(struct strbuf *sb, const struct bl_variant_result *v)
{
	const struct bl_result *r = bl_variant_main(v);
	const struct bl_scenario *sc = r->sc;
	double total = 0;
	for (size_t k = 0; k < v->nruns; k++)
		total += bl_ns_to_s(v->runs[k]->duration_ns);
	sb_adds(sb, "    <testcase classname=\"");
	const char *file = strrchr(sc->file, '/');
	bl_xml_escape(sb, file ? file + 1 : sc->file);
	sb_adds(sb, "\" name=\"");
	bl_xml_escape(sb, sc->name);
	sb_addf(sb, "\" time=\"%.3f\">\n", total);
	/* a flaky variant passed in the end: no failure, its runs in system-out */
	if (r->outcome != BL_OUT_PASS && !bl_variant_flaky(v))
		junit_failure(sb, v, r);
	junit_system_out(sb, v, r);
	sb_adds(sb, "    </testcase>\n");
}

static int junit_write(const struct bl_run_info *run, const struct bl_variant_result *v, size_t n,
		       const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	size_t counts[BL_COUNT_NUM];
	bl_report_count(v, n, counts);
	size_t errors = counts[BL_OUT_EMU_ERROR] + counts[BL_OUT_SETUP_ERROR];
	size_t failures = n - counts[BL_OUT_PASS] - counts[BL_COUNT_FLAKY] - errors;
	char ts[32];
	time_t t = (time_t)run->start_wall;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	sb_adds(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	sb_addf(&sb,
		"<testsuites name=\"bootlab\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		"time=\"%.3f\">\n",
		n, failures, errors, bl_ns_to_s(run->duration_ns));
	sb_adds(&sb, "  <testsuite name=\"bootlab.");
	bl_xml_escape(&sb, run->run_id);
	sb_addf(&sb,
		"\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"%.3f\" "
		"timestamp=\"%s\">\n",
		n, failures, errors, bl_ns_to_s(run->duration_ns), ts);
	for (size_t i = 0; i < n; i++)
		junit_case(&sb, &v[i]);
	sb_adds(&sb, "  </testsuite>\n</testsuites>\n");
	int rc = bl_write_file_atomic(path, sb.buf, sb.len, 0644);
	sb_release(&sb);
	return rc;
}

const struct bl_reporter bl_reporter_junit = {
    .name = "junit",
    .file = "junit.xml",
    .write = junit_write,
};
