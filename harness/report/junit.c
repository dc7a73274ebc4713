/* junit.xml: one testsuite per scenario file, one testcase per variant;
 * failures carry the reason and the console tail. */
#include "report/report.h"
#include "util/util.h"

#include <string.h>
#include <time.h>

static void xml_text(struct strbuf *sb, const char *s)
{
	bl_markup_text(sb, s, BL_MARKUP_XML);
}

static int junit_write(const struct bl_run_info *run, const struct bl_variant_result *v, size_t n,
		       const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	size_t counts[BL_OUT_NUM];
	bl_report_count(v, n, counts);
	size_t errors = counts[BL_OUT_EMU_ERROR] + counts[BL_OUT_SETUP_ERROR];
	size_t failures = n - counts[BL_OUT_PASS] - errors;
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
	sb_addf(&sb,
		"  <testsuite name=\"bootlab.%s\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		"skipped=\"0\" time=\"%.3f\" timestamp=\"%s\">\n",
		run->run_id, n, failures, errors, bl_ns_to_s(run->duration_ns), ts);
	for (size_t i = 0; i < n; i++) {
		const struct bl_result *r = bl_variant_main(&v[i]);
		const struct bl_scenario *sc = r->sc;
		double total = 0;
		for (size_t k = 0; k < v[i].nruns; k++)
			total += bl_ns_to_s(v[i].runs[k]->duration_ns);
		sb_adds(&sb, "    <testcase classname=\"");
		const char *file = strrchr(sc->file, '/');
		xml_text(&sb, file ? file + 1 : sc->file);
		sb_adds(&sb, "\" name=\"");
		xml_text(&sb, sc->name);
		sb_addf(&sb, "\" time=\"%.3f\">\n", total);
		if (r->outcome != BL_OUT_PASS) {
			const char *tag = bl_outcome_is_error(r->outcome) ? "error" : "failure";
			sb_addf(&sb, "      <%s type=\"%s\" message=\"", tag,
				bl_outcome_name(r->outcome));
			xml_text(&sb, r->reason);
			sb_adds(&sb, "\">");
			if (v[i].nruns > 1)
				sb_addf(&sb, "run %zu of %zu: ", bl_variant_main_index(&v[i]),
					v[i].nruns);
			xml_text(&sb, r->reason);
			sb_adds(&sb, "\n\nlast console lines:\n");
			for (size_t k = 0; r->tail && r->tail[k]; k++) {
				xml_text(&sb, r->tail[k]);
				sb_addc(&sb, '\n');
			}
			sb_addf(&sb, "</%s>\n", tag);
		}
		sb_adds(&sb, "      <system-out>");
		for (size_t k = 0; v[i].nruns > 1 && k < v[i].nruns; k++) {
			const struct bl_result *rk = v[i].runs[k];
			sb_addf(&sb, "run %zu: %s %.3fs", k + 1, bl_outcome_name(rk->outcome),
				bl_ns_to_s(rk->duration_ns));
			if (rk->reason) {
				sb_adds(&sb, " (");
				xml_text(&sb, rk->reason);
				sb_adds(&sb, ")");
			}
			sb_addc(&sb, '\n');
		}
		for (size_t k = 0; k < r->nsteps; k++) {
			const struct bl_step_result *s = &r->steps[k];
			sb_addf(&sb, "step %zu %s: %s", k + 1, s->name, bl_step_result_word(s));
			if (s->message) {
				sb_adds(&sb, " (");
				xml_text(&sb, s->message);
				sb_adds(&sb, ")");
			}
			sb_addc(&sb, '\n');
		}
		if (r->console_log) {
			sb_adds(&sb, "console log: ");
			xml_text(&sb, r->console_log);
			sb_addc(&sb, '\n');
		}
		sb_adds(&sb, "</system-out>\n");
		sb_adds(&sb, "    </testcase>\n");
	}
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
