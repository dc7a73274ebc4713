/* harness/report: results -> files under reports/<run-id>/.
 *
 * One file per format (json.c, junit.c, html.c), registered in report.c.
 * Each reporter writes atomically (temporary file, then rename). The JSON
 * report is the reference: its schema is docs/report-schema.md and
 * docs/report.schema.json. stats.c holds what the formats share: a
 * variant's verdict over its repetitions and min/median/max per phase;
 * markup.c what junit.xml and index.html share; their text goes through
 * bl_xml_escape() (harness/util/xml.c). */
#ifndef BL_REPORT_H
#define BL_REPORT_H

#include "session/session.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* struct bl_run_info and struct bl_variant_result, what a run made (its
 * engine is harness/session/run.c), are in session.h */

/* the repetition a report shows in detail: the first that did not pass,
 * else the last one (borrowed) */
const struct bl_result *bl_variant_main(const struct bl_variant_result *v);
/* its 1-based index */
size_t bl_variant_main_index(const struct bl_variant_result *v);

/* min/median/max of one measure over the repetitions that have it; the
 * median of an even count is the mean of the two middle values */
struct bl_stat {
	size_t n; /* repetitions that have the value */
	double min, median, max;
};
/* phase P's host time (seconds since spawn) over V's repetitions */
void bl_stat_phase_host(const struct bl_variant_result *v, enum bl_phase_id p, struct bl_stat *out);
/* phase P's guest time (-1 unknown values left out) */
void bl_stat_phase_guest(const struct bl_variant_result *v, enum bl_phase_id p,
			 struct bl_stat *out);
/* whole boot duration */
void bl_stat_duration(const struct bl_variant_result *v, struct bl_stat *out);

/* A JSON string for S even when S is not valid UTF-8 (console lines are
 * whatever the guest printed): bad bytes become U+FFFD. New reference;
 * json null for NULL. */
json_t *bl_json_text(const char *s);

/* a kernel report as JSON (docs/kernel-reports.md, "JSON"): class, title,
 * signature, fails (its verdict by the policy in force), line, guest_s,
 * cpu, pid, task, frames, truncated, panicked, body */
struct bl_kreport;
json_t *bl_kreport_json(const struct bl_kreport *r);
/* the first report of R that fails its boot, or NULL */
const struct bl_kreport *bl_result_failing_kreport(const struct bl_result *r);

/* COUNTS[o]: how many of the N variants' main repetitions ended in o,
 * but the flaky variants (bl_variant_flaky()), counted in
 * COUNTS[BL_COUNT_FLAKY] */
#define BL_OUT_NUM (BL_OUT_INTERRUPTED + 1)
#define BL_COUNT_FLAKY BL_OUT_NUM
#define BL_COUNT_NUM (BL_OUT_NUM + 1)
void bl_report_count(const struct bl_variant_result *v, size_t n, size_t counts[BL_COUNT_NUM]);
/* a variant's outcome in the reports: "flaky", else its shown
 * repetition's (static) */
const char *bl_variant_outcome_name(const struct bl_variant_result *v);
/* an emulator or setup error, not a test failure */
bool bl_outcome_is_error(enum bl_outcome o);
/* "skipped", "pass" or "fail" (static) */
const char *bl_step_result_word(const struct bl_step_result *s);

struct bl_reporter {
	const char *name; /* "json" */
	const char *file; /* "report.json" */
	int (*write)(const struct bl_run_info *run, const struct bl_variant_result *v, size_t n,
		     const char *path);
};

/* the report as a JSON document (new reference) */
json_t *bl_report_to_json(const struct bl_run_info *run, const struct bl_variant_result *v,
			  size_t n);
/* one repetition's result as JSON (new reference) */
json_t *bl_result_to_json(const struct bl_result *r, const char *report_dir);
/* write every registered format into run->dir; 0 or -1 (first error) */
int bl_report_write_all(const struct bl_run_info *run, const struct bl_variant_result *v, size_t n);
/* a run's reports: every format into its folder, then REPORT_ROOT/latest
 * pointed at it; 0 or -1 (the first error; latest is moved anyway) */
int bl_report_write_run(const struct bl_run *run);

/* ---- read.c: a report.json read back ---- */
struct bl_report_in {
	char *path; /* the report.json */
	char *dir;  /* its folder; console logs are named under it */
	json_t *doc;
	struct bl_run_info info; /* strings borrowed from doc and below */
	char *command, *shard;
	struct bl_scenario **plans; /* one per variant (bl_plan_new: names only) */
	struct bl_result *results;  /* every repetition; the shown one in full */
	size_t nresults;
	struct bl_result **runs;
	struct bl_variant_result *variants;
	size_t nvariants;
};
/* ARG (a report.json, or a folder holding one) into IN. Every field read
 * is checked; -1 with a message naming the file and the field
 * ("'r/report.json': field 'scenarios[2].outcome': unknown value 'x'").
 * Release IN in either case. */
int bl_report_read(const char *arg, struct bl_report_in *in);
void bl_report_in_release(struct bl_report_in *in);

/* ---- merge.c: bootlab report merge ---- */
struct bl_merged {
	/* what the summary line and the exit status read (bl_run_print_summary,
	 * bl_run_status): info (dir: the merged folder), variants, counts */
	struct bl_run run;
	/* owned */
	struct bl_result **runs; /* borrowed from the inputs */
	struct bl_variant_result *variants;
	const struct bl_run_source *sources;
	char *run_id, *command, *tmp, *dest;
};
/* The N reports IN (read back; they must stay until bl_merge_release)
 * merged into the new folder DEST: report.json, junit.xml, index.html and
 * every console log. They must come from one choice of variants (the
 * "selection" of each run); a variant's boots are kept once per attempt,
 * its attempts numbered in the order the inputs started. DEST is made
 * whole or not at all. COMMAND: how bootlab was invoked, for the report. */
int bl_report_merge(struct bl_report_in *in, size_t n, const char *dest, const char *command,
		    struct bl_merged *out);
void bl_merge_release(struct bl_merged *m);

extern const struct bl_reporter bl_reporter_json;
extern const struct bl_reporter bl_reporter_junit;
extern const struct bl_reporter bl_reporter_html;

/* html_stage1.c, for html.c: an observed boot's stage-1 rows in its
 * timeline (docs/observe.md). The timeline's host axis: x0 at 0 s, x1 at
 * SPAN seconds. */
struct bl_html_axis {
	double x0, x1, span;
};
#define BL_HTML_STAGE1_MAX 300 /* programs drawn; the rest counted */
/* the rows' height; 0 when R was not observed, saw nothing, or has no
 * phase with both clocks to put the guest's on the host's */
double bl_html_stage1_height(const struct bl_result *r);
/* the rows at Y: a mark per mount, module or block event (g.obs-sys.obs-KIND),
 * a bar per program (g.proc.ok|failed|running, its argv and how it ended in
 * the title) and the root change (g.obs-switch-root) */
void bl_html_stage1(struct strbuf *sb, const struct bl_result *r, const struct bl_html_axis *ax,
		    double y);
#endif
