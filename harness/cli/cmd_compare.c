/* bootlab compare OLD/report.json NEW/report.json: per scenario variant
 * and phase, the host time before and after, the difference in seconds
 * and in percent. Medians when the reports come from --repeat. Then the
 * kernel reports that are new in NEW (by signature), and for observed
 * boots the time each stage-1 program (by argv[0]) took. */
#include "cli/cli.h"
#include "console/console.h"
#include "report/report.h"
#include "util/util.h"

#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char compare_usage[] =
    "usage: bootlab compare [OPTIONS] OLD/report.json NEW/report.json\n"
    "\n"
    "For every scenario variant in either report, print each phase's host time\n"
    "(seconds since spawn; the median over repetitions of --repeat runs) in OLD\n"
    "and NEW, the difference in seconds and in percent of OLD, the duration, and\n"
    "the outcomes when they changed. A folder stands for its report.json.\n"
    "Then each kernel report (docs/kernel-reports.md) of a variant's shown run in\n"
    "NEW whose signature the same variant's shown run in OLD lacks, and a count.\n"
    "For an observed boot (--observe, docs/observe.md): the root change's guest\n"
    "time and, per program of stage 1 (argv[0]), the time its runs took in OLD\n"
    "and NEW, the largest differences first.\n"
    "\n"
    "options:\n"
    "  --filter REGEX   only variants whose name matches\n"
    "  -h, --help       this text\n"
    "\n"
    "exit status: 0 compared, 2 bad usage or a file that is not a bootlab report\n";

static const char *const phase_order[] = {"spawn",	 "first-console", "run-init", "agent-hello",
					  "switch-root", "stage2-hello",  "end"};

struct rep {
	struct bl_report_in in; /* the report read back and checked (harness/report/read.c) */
	json_t *scenarios;	/* borrowed from in.doc */
};

/* read and check the report; compare reads its timings from the document */
static int rep_load(const char *arg, struct rep *r)
{
	if (bl_report_read(arg, &r->in) < 0)
		return -1;
	r->scenarios = json_object_get(r->in.doc, "scenarios");
	return 0;
}

static json_t *find_scenario(json_t *scenarios, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(scenarios, i, s)
	{
		if (!strcmp(json_string_value(json_object_get(s, "name")), name))
			return s;
	}
	return NULL;
}

/* a phase's host time: timing's median when there, else the phase itself;
 * -1 when the phase was not reached */
static double phase_s(json_t *sc, const char *phase)
{
	if (!sc)
		return -1;
	json_t *list = json_object_get(json_object_get(sc, "timing"), "phases");
	bool timing = json_is_array(list);
	if (!timing)
		list = json_object_get(sc, "phases");
	size_t i;
	json_t *p;
	json_array_foreach(list, i, p)
	{
		const char *n = json_string_value(json_object_get(p, "name"));
		if (!n || strcmp(n, phase))
			continue;
		json_t *v = json_object_get(p, "host_s");
		if (timing)
			v = json_object_get(v, "median");
		return json_is_number(v) ? json_number_value(v) : -1;
	}
	return -1;
}

static double duration_s(json_t *sc)
{
	if (!sc)
		return -1;
	json_t *v =
	    json_object_get(json_object_get(json_object_get(sc, "timing"), "duration_s"), "median");
	if (!json_is_number(v))
		v = json_object_get(sc, "duration_s");
	return json_is_number(v) ? json_number_value(v) : -1;
}

/* a row, then NOTE on the same line */
static void row_note(const char *label, double a, double b, const char *note)
{
	if (a < 0 && b < 0)
		return;
	char as[32] = "-", bs[32] = "-", ds[32] = "", ps[32] = "";
	if (a >= 0)
		snprintf(as, sizeof(as), "%.3f", a);
	if (b >= 0)
		snprintf(bs, sizeof(bs), "%.3f", b);
	if (a >= 0 && b >= 0) {
		snprintf(ds, sizeof(ds), "%+.3f", b - a);
		if (a > 0)
			snprintf(ps, sizeof(ps), "%+.1f%%", (b - a) / a * 100);
		else
			snprintf(ps, sizeof(ps), "n/a");
	} else {
		snprintf(ds, sizeof(ds), a < 0 ? "new" : "gone");
	}
	printf("  %-16s %10s %10s %10s %9s%s\n", label, as, bs, ds, ps, note);
}

static void row(const char *label, double a, double b)
{
	row_note(label, a, b, "");
}

/* the shown run of the variant NAME in R (typed, read.c), or NULL */
static const struct bl_result *shown_run(const struct rep *r, const char *name)
{
	for (size_t i = 0; i < r->in.nvariants; i++) {
		const struct bl_result *m = bl_variant_main(&r->in.variants[i]);
		if (!strcmp(m->sc->name, name))
			return m;
	}
	return NULL;
}

/* does one of R's first N kernel reports have the signature SIG? */
static bool has_signature_in(const struct bl_result *r, size_t n, const char *sig)
{
	for (size_t i = 0; r && i < n && i < r->nkreports; i++)
		if (!strcmp(r->kreports[i].signature, sig))
			return true;
	return false;
}

/* N's kernel reports whose signature O (NULL: none) lacks, a line each;
 * how many */
static size_t new_kreports(const struct bl_result *o, const struct bl_result *n)
{
	size_t count = 0;
	for (size_t i = 0; n && i < n->nkreports; i++) {
		const struct bl_kreport *k = &n->kreports[i];
		/* a signature once, however often the kernel repeated it */
		if (has_signature_in(o, o ? o->nkreports : 0, k->signature) ||
		    has_signature_in(n, i, k->signature))
			continue;
		printf("  new kernel report: %s %s: %s%s\n", k->signature, bl_kclass_name(k->cls),
		       k->title, k->fails ? "" : " (allowed)");
		count++;
	}
	return count;
}

/* ---- stage 1 of observed boots (docs/observe.md): per argv[0] ---- */
#define STAGE1_ROWS 30

struct s1_row {
	const char *name;
	const struct bl_obs_prog *o, *n; /* NULL: it did not run there */
	double diff;			 /* NEW's time minus OLD's */
};

static int s1_cmp(const void *a, const void *b)
{
	double x = fabs(((const struct s1_row *)a)->diff),
	       y = fabs(((const struct s1_row *)b)->diff);
	return x < y   ? 1
	       : x > y ? -1
		       : strcmp(((const struct s1_row *)a)->name, ((const struct s1_row *)b)->name);
}

static const struct bl_obs_prog *prog_in(const struct bl_obs_prog *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

/* every program of either side, the largest differences first */
static struct s1_row *s1_rows(const struct bl_obs_prog *po, size_t no, const struct bl_obs_prog *pn,
			      size_t nn, size_t *n)
{
	struct s1_row *v = xcalloc(no + nn + 1, sizeof(*v));
	*n = 0;
	for (size_t i = 0; i < nn; i++)
		v[(*n)++] = (struct s1_row){pn[i].name, prog_in(po, no, pn[i].name), &pn[i], 0};
	for (size_t i = 0; i < no; i++)
		if (!prog_in(pn, nn, po[i].name))
			v[(*n)++] = (struct s1_row){po[i].name, &po[i], NULL, 0};
	for (size_t i = 0; i < *n; i++)
		v[i].diff = (v[i].n ? v[i].n->total_s : 0) - (v[i].o ? v[i].o->total_s : 0);
	qsort(v, *n, sizeof(*v), s1_cmp);
	return v;
}

static void s1_print(const struct s1_row *r)
{
	struct strbuf name = STRBUF_INIT; /* the guest's words, escaped */
	sb_add_terminal(&name, r->name);
	char note[96];
	int k = snprintf(note, sizeof(note), "  runs %zu -> %zu", r->o ? r->o->runs : 0,
			 r->n ? r->n->runs : 0);
	if ((r->o && r->o->failed) || (r->n && r->n->failed))
		snprintf(note + k, sizeof(note) - (size_t)k, ", failed %zu -> %zu",
			 r->o ? r->o->failed : 0, r->n ? r->n->failed : 0);
	row_note(sb_str(&name), r->o ? r->o->total_s : -1, r->n ? r->n->total_s : -1, note);
	sb_release(&name);
}

/* the root change's guest time, -1 when there was none */
static double root_s(const struct bl_result *r)
{
	const struct bl_obs_event *e = r ? bl_obs_switch_root(&r->observed) : NULL;
	return e ? bl_obs_guest_s(&r->observed, e) : -1;
}

/* the stage-1 programs of two observed shown runs: each argv[0]'s time
 * (its runs added up, guest seconds) in OLD and NEW */
static void compare_stage1(const struct bl_result *ro, const struct bl_result *rn)
{
	bool oo = ro && ro->observed.on, on = rn && rn->observed.on;
	if (!oo && !on)
		return;
	size_t no = 0, nn = 0, nrows;
	struct bl_obs_prog *po = oo ? bl_obs_programs(&ro->observed, &no) : NULL;
	struct bl_obs_prog *pn = on ? bl_obs_programs(&rn->observed, &nn) : NULL;
	struct s1_row *rows = s1_rows(po, no, pn, nn, &nrows);
	printf("  stage 1 (observed; guest s)%s\n", oo && on ? ""
						    : oo     ? ": not in NEW"
							     : ": not in OLD");
	row("root change", root_s(oo ? ro : NULL), root_s(on ? rn : NULL));
	for (size_t i = 0; i < nrows && i < STAGE1_ROWS; i++)
		s1_print(&rows[i]);
	if (nrows > STAGE1_ROWS)
		printf("  (%zu more programs, with smaller differences)\n", nrows - STAGE1_ROWS);
	free(rows);
	free(po);
	free(pn);
}

static size_t compare_one(const char *name, json_t *o, json_t *n, const struct bl_result *ro,
			  const struct bl_result *rn)
{
	printf("%s", name);
	if (!o)
		printf("  (only in NEW)");
	else if (!n)
		printf("  (only in OLD)");
	const char *oo = o ? json_string_value(json_object_get(o, "outcome")) : NULL;
	const char *no = n ? json_string_value(json_object_get(n, "outcome")) : NULL;
	if (oo && no && strcmp(oo, no))
		printf("  outcome %s -> %s", oo, no);
	else if (oo || no)
		printf("  %s", oo ? oo : no);
	json_int_t orun = o ? json_integer_value(json_object_get(o, "runs")) : 0;
	json_int_t nrun = n ? json_integer_value(json_object_get(n, "runs")) : 0;
	if (o && n && (orun > 1 || nrun > 1))
		printf("  (median of %lld -> %lld runs)", (long long)(orun ? orun : 1),
		       (long long)(nrun ? nrun : 1));
	else if (orun > 1 || nrun > 1)
		printf("  (median of %lld runs)", (long long)(orun > nrun ? orun : nrun));
	printf("\n  %-16s %10s %10s %10s %9s\n", "phase", "old s", "new s", "diff s", "diff %");
	for (size_t i = 0; i < BL_ARRAY_SIZE(phase_order); i++)
		row(phase_order[i], phase_s(o, phase_order[i]), phase_s(n, phase_order[i]));
	row("duration", duration_s(o), duration_s(n));
	compare_stage1(ro, rn);
	size_t fresh = new_kreports(ro, rn);
	printf("\n");
	return fresh;
}

int cmd_compare(int argc, char **argv)
{
	const char *filter = NULL;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(compare_usage, stdout);
			return BL_EXIT_OK;
		} else if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
			filter = argv[++i];
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "bootlab compare: unknown option '%s'\n", argv[i]);
			fputs(compare_usage, stderr);
			return BL_EXIT_USAGE;
		} else {
			break;
		}
	}
	if (argc - i != 2) {
		fprintf(stderr, "bootlab compare: need two reports, OLD and NEW\n");
		fputs(compare_usage, stderr);
		return BL_EXIT_USAGE;
	}
	regex_t re;
	if (filter && bl_regcomp(&re, filter, REG_EXTENDED | REG_NOSUB) < 0) {
		fprintf(stderr, "bootlab compare: --filter: bad regular expression '%s': %s\n",
			filter, bl_errmsg());
		return BL_EXIT_USAGE;
	}
	struct rep old = {0}, new = {0};
	int status = BL_EXIT_OK;
	if (rep_load(argv[i], &old) < 0 || rep_load(argv[i + 1], &new) < 0) {
		fprintf(stderr, "bootlab compare: %s\n", bl_errmsg());
		status = BL_EXIT_USAGE;
		goto out;
	}
	printf("OLD %s (%s)\nNEW %s (%s)\n\n", old.in.path, old.in.info.run_id, new.in.path,
	       new.in.info.run_id);
	size_t k, shown = 0, fresh = 0;
	json_t *s;
	/* NEW's order, then what only OLD has */
	json_array_foreach(new.scenarios, k, s)
	{
		const char *name = json_string_value(json_object_get(s, "name"));
		if (filter && regexec(&re, name, 0, NULL, 0))
			continue;
		fresh += compare_one(name, find_scenario(old.scenarios, name), s,
				     shown_run(&old, name), shown_run(&new, name));
		shown++;
	}
	json_array_foreach(old.scenarios, k, s)
	{
		const char *name = json_string_value(json_object_get(s, "name"));
		if ((filter && regexec(&re, name, 0, NULL, 0)) ||
		    find_scenario(new.scenarios, name))
			continue;
		compare_one(name, s, NULL, shown_run(&old, name), NULL);
		shown++;
	}
	if (!shown)
		printf("no scenario variant to compare\n");
	else
		printf("%zu new kernel report%s in NEW\n", fresh, fresh == 1 ? "" : "s");
out:
	if (filter)
		regfree(&re);
	bl_report_in_release(&old.in);
	bl_report_in_release(&new.in);
	return status;
}
