/* Reporters on hand-made results: the shown repetition, min/median/max,
 * text that is not UTF-8, and the three formats written for the same
 * results (JSON parses back, JUnit and HTML carry the same verdicts). */
#include "report/report.h"
#include "util/util.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>

static struct bl_scenario sc = {
    .file = "/x/demo.yaml",
    .name = "demo[a<b&\"c\"]",
    .base_name = "demo",
    .variant = "a<b&\"c\"",
    .arch = "x86_64",
    .backend = "qemu",
};

static void fake(struct bl_result *r, enum bl_outcome o, double hello_s, double dur_s)
{
	memset(r, 0, sizeof(*r));
	r->sc = &sc;
	r->outcome = o;
	r->emulator_status = -1;
	r->duration_ns = (int64_t)(dur_s * 1e9);
	for (int p = 0; p < BL_PH_COUNT; p++)
		r->phases[p].guest_s = -1;
	r->phases[BL_PH_SPAWN] = (struct bl_phase){true, 1000, -1};
	if (hello_s >= 0)
		r->phases[BL_PH_HELLO] =
		    (struct bl_phase){true, (int64_t)(hello_s * 1e9), hello_s / 4};
	r->phases[BL_PH_END] = (struct bl_phase){true, r->duration_ns, -1};
	if (o != BL_OUT_PASS)
		r->reason = xstrdup("step 1 (hello): bad \xff\xfe byte <here>");
	r->tail = xcalloc(3, sizeof(char *));
	r->tail[0] = xstrdup("plain line");
	r->tail[1] = xstrdup("bad utf-8: \xc3\x28 and \x01 control, ok: \xc3\xa9");
}

int main(void)
{
	struct bl_result a, b, c, d;
	fake(&a, BL_OUT_PASS, 1.0, 2.0);
	fake(&b, BL_OUT_PASS, 3.0, 4.0);
	fake(&c, BL_OUT_PASS, 2.0, 3.0);
	fake(&d, BL_OUT_PASS, 10.0, 11.0);
	struct bl_result *runs[] = {&a, &b, &c, &d};

	/* which repetition is shown */
	struct bl_variant_result v = {runs, 3};
	T_EQ_INT(bl_variant_main_index(&v), 3, "all passed: the last run is shown");
	b.outcome = BL_OUT_TIMEOUT;
	T_EQ_INT(bl_variant_main_index(&v), 2, "first run that did not pass is shown");
	T_OK(bl_variant_main(&v) == &b, "bl_variant_main is that run");
	b.outcome = BL_OUT_PASS;

	/* statistics: odd and even counts, phases missing in some runs */
	struct bl_stat st;
	bl_stat_phase_host(&v, BL_PH_HELLO, &st);
	T_EQ_INT(st.n, 3, "three runs reached agent-hello");
	T_OK(st.min == 1.0 && st.max == 3.0 && st.median == 2.0,
	     "odd count: min 1 median 2 max 3 (%g %g %g)", st.min, st.median, st.max);
	v.nruns = 4;
	bl_stat_phase_host(&v, BL_PH_HELLO, &st);
	T_OK(st.median == 2.5 && st.max == 10.0,
	     "even count: median is the mean of the middle two (%g)", st.median);
	bl_stat_phase_guest(&v, BL_PH_HELLO, &st);
	T_OK(st.n == 4 && st.median == 0.625, "guest clock median (%g)", st.median);
	bl_stat_phase_guest(&v, BL_PH_END, &st);
	T_EQ_INT(st.n, 0, "unknown guest times are left out");
	d.phases[BL_PH_HELLO].seen = false;
	bl_stat_phase_host(&v, BL_PH_HELLO, &st);
	T_OK(st.n == 3 && st.median == 2.0, "a run that never got there is left out");
	bl_stat_duration(&v, &st);
	T_OK(st.min == 2.0 && st.max == 11.0 && st.median == 3.5,
	     "duration min/median/max (%g %g %g)", st.min, st.median, st.max);

	/* JSON text that is not UTF-8 (the rest: tests/unit/test_xml.c) */
	json_t *j = bl_json_text("a\xff"
				 "b");
	T_EQ_STR(json_string_value(j),
		 "a\xef\xbf\xbd"
		 "b",
		 "bad byte becomes U+FFFD");
	json_decref(j);

	/* all formats, one failing variant */
	b.outcome = BL_OUT_TIMEOUT;
	char *dir = bl_mktemp_dir("report-test");
	struct bl_run_info info = {.run_id = "20260101-000000-1",
				   .dir = dir,
				   .start_wall = 0,
				   .jobs = 2,
				   .repeat = 4,
				   .command = "bootlab run x"};
	T_EQ_INT(bl_report_write_all(&info, &v, 1), 0, "every reporter writes");
	char *path = bl_path_join(dir, "report.json"), *text;
	size_t len;
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	T_OK(doc != NULL, "report.json parses back (%s)", doc ? "" : jerr.text);
	json_t *s0 = json_array_get(json_object_get(doc, "scenarios"), 0);
	T_EQ_STR(json_string_value(json_object_get(s0, "outcome")), "timeout",
		 "variant outcome: the shown run's");
	T_EQ_INT(json_integer_value(json_object_get(s0, "shown_run")), 2, "shown_run");
	T_EQ_INT(json_array_size(json_object_get(s0, "repetitions")), 4, "every repetition listed");
	T_EQ_STR(json_string_value(json_array_get(json_object_get(s0, "console_tail"), 1)),
		 "bad utf-8: \xef\xbf\xbd( and \x01 control, ok: \xc3\xa9",
		 "console tail kept, bad byte replaced");
	T_EQ_INT(json_integer_value(json_object_get(json_object_get(doc, "summary"), "timeout")), 1,
		 "summary counts");
	json_decref(doc);
	free(path);

	path = bl_path_join(dir, "junit.xml");
	T_OK(bl_read_file(path, &text, &len) == 0, "junit.xml written");
	T_OK(strstr(text, "name=\"demo[a&lt;b&amp;&quot;c&quot;]\"") != NULL,
	     "name escaped in XML");
	T_OK(strstr(text, "<failure type=\"timeout\"") != NULL, "failure element with the outcome");
	T_OK(strstr(text, "run 2 of 4: ") != NULL, "failure names the repetition");
	T_OK(strstr(text, "\xff") == NULL && strstr(text, "\x01") == NULL,
	     "no raw bad bytes in XML");
	T_OK(strstr(text, "&#x2401; control") != NULL && strstr(text, "&#xfffd;(") != NULL,
	     "control character and bad byte replaced in XML");
	/* the strings above are there; the whole file is also XML (tests/run
	 * runs the unit tests from the repository's top) */
	char *lint = xasprintf("o=$(xmllint --noout --schema tests/data/junit.xsd '%s' 2>&1) || "
			       "{ printf '%%s\\n' \"$o\" | sed 's/^/#   /'; exit 1; }",
			       path);
	T_EQ_INT(system(lint), 0, "junit.xml is well-formed and matches tests/data/junit.xsd");
	free(lint);
	free(text);
	free(path);

	path = bl_path_join(dir, "index.html");
	T_OK(bl_read_file(path, &text, &len) == 0, "index.html written");
	T_OK(strstr(text, "data-name=\"demo[a&lt;b&amp;&quot;c&quot;]\"") != NULL,
	     "name escaped in HTML");
	T_OK(strstr(text, "data-phase=\"agent-hello\"") != NULL, "timeline has the hello phase");
	T_OK(strstr(text, "&#x2401;") != NULL, "control character shown as a picture");
	T_OK(strstr(text, "<script") == NULL &&
		 strstr(text, "http://") == strstr(text, "http://www.w3.org/2000/svg"),
	     "no script, no external URL but the SVG namespace");
	free(text);
	free(path);
	bl_rm_rf(dir);
	free(dir);
	for (size_t i = 0; i < 4; i++)
		bl_result_release(runs[i]);
	return t_done();
}
