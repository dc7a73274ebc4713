/* index.html: one self-contained page (inline CSS and SVG, no script, no
 * external assets) with the verdicts and, per boot, a timeline of its
 * phases on the host clock, the guest clock where known, the steps, the
 * classified console events, the kernel reports (folded open, with their
 * bodies), the failure reason and the console tail. */
#include "report/report.h"
#include "console/console.h"
#include "util/util.h"

#include <string.h>
#include <time.h>

static double dmax(double a, double b)
{
	return a > b ? a : b;
}

static const char *outcome_class(enum bl_outcome o)
{
	switch (o) {
	case BL_OUT_PASS:
		return "pass";
	case BL_OUT_FAIL:
		return "fail";
	case BL_OUT_PANIC:
		return "panic";
	case BL_OUT_REBOOT:
		return "reboot";
	case BL_OUT_TIMEOUT:
		return "timeout";
	case BL_OUT_INTERRUPTED:
		return "interrupted";
	default:
		return "error";
	}
}

/* the variants' indexes, those that did not pass first, each group in run
 * order: a failure is the first thing the page shows */
static size_t *failing_first(const struct bl_variant_result *v, size_t n)
{
	size_t *order = xcalloc(n ? n : 1, sizeof(*order)), k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			if ((bl_variant_main(&v[i])->outcome == BL_OUT_PASS) == pass)
				order[k++] = i;
	return order;
}

static void badge(struct strbuf *sb, enum bl_outcome o)
{
	sb_addf(sb, "<span class=\"badge %s\">%s</span>", outcome_class(o), bl_outcome_name(o));
}

/* a variant's class: "flaky", else its shown run's outcome's */
static const char *variant_class(const struct bl_variant_result *v)
{
	return bl_variant_flaky(v) ? "flaky" : outcome_class(bl_variant_main(v)->outcome);
}

static void variant_badge(struct strbuf *sb, const struct bl_variant_result *v)
{
	sb_addf(sb, "<span class=\"badge %s\">%s</span>", variant_class(v),
		bl_variant_outcome_name(v));
}

/* PATH relative to the run's folder when it is in it */
static const char *rel_to_run(const struct bl_run_info *run, const char *path)
{
	const char *rel = bl_path_in(path, run->dir);
	return rel ? rel : path;
}

/* PATH (a file of the run) as a link, relative to the run's folder */
static void file_link(struct strbuf *sb, const struct bl_run_info *run, const char *path)
{
	const char *rel = rel_to_run(run, path);
	sb_adds(sb, "<a href=\"");
	bl_xml_escape(sb, rel);
	sb_adds(sb, "\">");
	bl_xml_escape(sb, rel);
	sb_adds(sb, "</a>");
}

/* --freeze: why and when the guest was held, and its memory dump */
static void frozen_line(struct strbuf *sb, const struct bl_frozen *f, const struct bl_run_info *run)
{
	if (!f->on)
		return;
	sb_addf(sb, "<p class=\"frozen\">frozen at %.3f s (", bl_ns_to_s(f->at_ns));
	bl_xml_escape(sb, bl_frozen_what(f->why));
	if (f->dump) {
		sb_adds(sb, "); memory dump: ");
		file_link(sb, run, f->dump);
	} else {
		sb_adds(sb, "); no memory dump");
	}
	sb_adds(sb, "</p>\n");
}

/* every repetition (and attempt) as a badge linking to its console log */
static void runs_line(struct strbuf *sb, const struct bl_variant_result *v,
		      const struct bl_run_info *run)
{
	sb_adds(sb, "<p class=\"runs\">runs: ");
	for (size_t i = 0; i < v->nruns; i++) {
		const struct bl_result *ri = v->runs[i];
		char att[32] = "";
		if (ri->attempt > 1)
			snprintf(att, sizeof(att), ", attempt %d", ri->attempt);
		if (ri->console_log) {
			sb_adds(sb, "<a href=\"");
			bl_xml_escape(sb, rel_to_run(run, ri->console_log));
			sb_adds(sb, "\">");
		}
		sb_addf(sb,
			"<span class=\"badge small %s\" title=\"run %zu%s: %s, %.3f s\">%zu</span>",
			outcome_class(ri->outcome), i + 1, att, bl_outcome_name(ri->outcome),
			bl_ns_to_s(ri->duration_ns), i + 1);
		sb_adds(sb, ri->console_log ? "</a> " : " ");
	}
	sb_adds(sb, "</p>\n");
}

/* a tick step giving 4 to 10 ticks over SPAN seconds */
static double tick_step(double span)
{
	static const double steps[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1,  2,
				       5,    10,   15,	 30,  60,  120,	 300, 600};
	for (size_t i = 0; i < BL_ARRAY_SIZE(steps); i++)
		if (span / steps[i] <= 10)
			return steps[i];
	return span / 10;
}

#define TL_W 960.0
#define TL_X0 16.0
#define TL_X1 (TL_W - 24.0)

/* The timeline of one boot: a bar from spawn to end split at each phase,
 * a marker per phase with its host and guest times, the steps as bars
 * under it and the classified console events as ticks. */
/* the timeline's geometry: time to x, the rows of the phase labels */
struct tl {
	double span; /* seconds the axis covers */
	int row[BL_PH_COUNT];
	bool right_anchor[BL_PH_COUNT];
	int nrows;
	double axis_y, step_y, stage1_y, height;
};

static double tl_x(const struct tl *t, double secs)
{
	return TL_X0 + (TL_X1 - TL_X0) * (secs / t->span);
}

/* the latest time anything happened: phases, steps, the boot's end */
static double tl_end(const struct bl_result *r)
{
	double end = bl_ns_to_s(r->duration_ns);
	for (int i = 0; i < BL_PH_COUNT; i++)
		if (r->phases[i].seen && bl_ns_to_s(r->phases[i].host_ns) > end)
			end = bl_ns_to_s(r->phases[i].host_ns);
	for (size_t i = 0; i < r->nsteps; i++)
		if (!r->steps[i].skipped && bl_ns_to_s(r->steps[i].end_ns) > end)
			end = bl_ns_to_s(r->steps[i].end_ns);
	return end <= 0 ? 1 : end;
}

/* phase labels: each on the first row where it does not run into the
 * label before it (widths estimated from the text: 11px bold names, 10px
 * times) */
static void tl_label_rows(struct tl *t, const struct bl_result *r)
{
	double row_end[BL_PH_COUNT];
	for (int k = 0; k < BL_PH_COUNT; k++)
		row_end[k] = -1e9;
	t->nrows = 1;
	for (int i = 0; i < BL_PH_COUNT; i++) {
		const struct bl_phase *p = &r->phases[i];
		if (!p->seen)
			continue;
		double x = tl_x(t, bl_ns_to_s(p->host_ns));
		double w = 7.0 * (double)strlen(bl_phase_name((enum bl_phase_id)i));
		double wt = p->guest_s >= 0 ? 6.0 * 22 : 6.0 * 7;
		if (wt > w)
			w = wt;
		double x0 = x + 3, x1 = x + 3 + w;
		if (x1 > TL_X1 + 20) { /* near the right edge: text to the left */
			t->right_anchor[i] = true;
			x0 = x - 3 - w, x1 = x - 3;
		}
		int k = 0;
		while (k < BL_PH_COUNT - 1 && row_end[k] + 6 > x0)
			k++;
		t->row[i] = k;
		if (x1 > row_end[k])
			row_end[k] = x1;
		if (k + 1 > t->nrows)
			t->nrows = k + 1;
	}
}

static void tl_layout(struct tl *t, const struct bl_result *r)
{
	memset(t, 0, sizeof(*t));
	t->span = tl_end(r) * 1.02;
	size_t nsteps_shown = 0;
	for (size_t i = 0; i < r->nsteps; i++)
		nsteps_shown += !r->steps[i].skipped;
	tl_label_rows(t, r);
	t->axis_y = 18 + 26.0 * t->nrows + 8;
	t->step_y = t->axis_y + 50;
	t->stage1_y = t->step_y + 16.0 * (double)nsteps_shown + 4;
	t->height = t->stage1_y + bl_html_stage1_height(r) + 26;
}

static void tl_axis(struct strbuf *sb, const struct tl *t)
{
	sb_addf(sb, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
		TL_X0, t->axis_y + 14, TL_X1, t->axis_y + 14);
	double tick = tick_step(t->span);
	for (int k = 0; k * tick <= t->span + 1e-9; k++) {
		double secs = k * tick, x = tl_x(t, secs);
		sb_addf(sb,
			"<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text class=\"ticklabel\" x=\"%.1f\" y=\"%.1f\">%gs</text>\n",
			x, t->axis_y + 14, x, t->axis_y + 19, x, t->axis_y + 30, secs);
	}
}

/* the phases: segments between consecutive phases reached */
static void tl_segments(struct strbuf *sb, const struct tl *t, const struct bl_result *r)
{
	int prev = -1;
	for (int i = 0; i < BL_PH_COUNT; i++) {
		const struct bl_phase *p = &r->phases[i];
		if (!p->seen)
			continue;
		double secs = bl_ns_to_s(p->host_ns);
		if (prev >= 0) {
			double t0 = bl_ns_to_s(r->phases[prev].host_ns);
			sb_addf(sb,
				"<rect class=\"seg seg-%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"12\">"
				"<title>%s \xe2\x86\x92 %s: %.3f s</title></rect>\n",
				bl_phase_name((enum bl_phase_id)prev), tl_x(t, t0), t->axis_y,
				dmax(tl_x(t, secs) - tl_x(t, t0), 0.5),
				bl_phase_name((enum bl_phase_id)prev),
				bl_phase_name((enum bl_phase_id)i), secs - t0);
		}
		prev = i;
	}
}

static void tl_phase(struct strbuf *sb, const struct tl *t, const struct bl_result *r, int i)
{
	const struct bl_phase *p = &r->phases[i];
	const char *name = bl_phase_name((enum bl_phase_id)i);
	double secs = bl_ns_to_s(p->host_ns), x = tl_x(t, secs);
	double ly = 18 + 26.0 * t->row[i];
	const char *anchor = t->right_anchor[i] ? "end" : "start";
	double lx = x + (t->right_anchor[i] ? -3 : 3);
	sb_addf(sb, "<g class=\"phase\" data-phase=\"%s\" data-host-s=\"%.6f\"", name, secs);
	if (p->guest_s >= 0)
		sb_addf(sb, " data-guest-s=\"%.6f\"", p->guest_s);
	sb_addf(sb, "><title>%s: host %.3f s", name, secs);
	if (p->guest_s >= 0)
		sb_addf(sb, ", guest %.3f s", p->guest_s);
	sb_adds(sb, "</title>");
	sb_addf(sb, "<line class=\"marker\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x,
		ly + 4, x, t->axis_y + 12);
	sb_addf(sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>", x, t->axis_y + 6);
	sb_addf(sb, "<text class=\"plabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>", lx,
		ly, anchor, name);
	sb_addf(sb, "<text class=\"ptime\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%.3fs", lx,
		ly + 12, anchor, secs);
	if (p->guest_s >= 0)
		sb_addf(sb, " \xc2\xb7 guest %.3fs", p->guest_s);
	sb_adds(sb, "</text></g>\n");
}

/* console events: ticks above the bar, panics in red */
static void tl_events(struct strbuf *sb, const struct tl *t, const struct bl_result *r)
{
	for (size_t i = 0; i < r->nevents; i++) {
		const struct bl_event *e = &r->events[i];
		double x = tl_x(t, bl_ns_to_s(e->host_ns));
		sb_addf(sb, "<g class=\"event ev-%s\"><title>", bl_event_type_name(e->c.type));
		sb_addf(sb, "%.3fs ", bl_ns_to_s(e->host_ns));
		bl_xml_escape(sb, e->line);
		sb_addf(sb, "</title><path d=\"M%.1f %.1f l-4 -7 h8 z\"/></g>\n", x, t->axis_y - 1);
	}
}

static void tl_step(struct strbuf *sb, const struct tl *t, const struct bl_step_result *s, double y)
{
	double t0 = bl_ns_to_s(s->start_ns), t1 = bl_ns_to_s(s->end_ns);
	double x0 = tl_x(t, t0), x1 = tl_x(t, t1);
	sb_addf(sb, "<g class=\"step %s\"><title>", s->passed ? "pass" : "fail");
	bl_xml_escape(sb, s->name);
	sb_addf(sb, ": %.3f\xe2\x80\x93%.3f s", t0, t1);
	if (s->message) {
		sb_adds(sb, " \xe2\x80\x94 ");
		bl_xml_escape(sb, s->message);
	}
	sb_addf(sb, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\"/>", x0, y,
		dmax(x1 - x0, 2));
	/* the name inside a wide bar, else beside it where there is room */
	double x;
	const char *anchor = "start", *cls = "slabel";
	if (x1 - x0 > 180)
		x = x0 + 4, cls = "slabel inside";
	else if (x1 < TL_X1 - 220)
		x = x1 + 4;
	else
		x = x0 - 4, anchor = "end";
	sb_addf(sb, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", cls, x, y + 9,
		anchor);
	bl_xml_escape(sb, s->name);
	sb_adds(sb, "</text></g>\n");
}

static void timeline(struct strbuf *sb, const struct bl_result *r)
{
	struct tl t;
	tl_layout(&t, r);
	sb_addf(sb,
		"<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f "
		"%.0f\" "
		"width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"boot timeline\">\n",
		TL_W, t.height, TL_W, t.height);
	tl_axis(sb, &t);
	tl_segments(sb, &t, r);
	for (int i = 0; i < BL_PH_COUNT; i++)
		if (r->phases[i].seen)
			tl_phase(sb, &t, r, i);
	tl_events(sb, &t, r);
	size_t k = 0;
	for (size_t i = 0; i < r->nsteps; i++)
		if (!r->steps[i].skipped)
			tl_step(sb, &t, &r->steps[i], t.step_y + 16.0 * (double)k++);
	struct bl_html_axis ax = {.x0 = TL_X0, .x1 = TL_X1, .span = t.span};
	bl_html_stage1(sb, r, &ax, t.stage1_y);
	sb_addf(sb,
		"<text class=\"axistitle\" x=\"%.1f\" y=\"%.1f\">host seconds since spawn</text>\n",
		TL_X0, t.height - 6);
	sb_adds(sb, "</svg>\n");
}

static void phase_table(struct strbuf *sb, const struct bl_variant_result *v)
{
	const struct bl_result *r = bl_variant_main(v);
	bool multi = v->nruns > 1;
	sb_adds(sb,
		"<table class=\"phases\"><thead><tr><th>phase</th><th>host s</th><th>guest s</th>");
	if (multi)
		sb_adds(sb, "<th>reached</th><th>min</th><th>median</th><th>max</th>");
	sb_adds(sb, "</tr></thead><tbody>\n");
	for (int i = 0; i < BL_PH_COUNT; i++) {
		struct bl_stat st;
		bl_stat_phase_host(v, (enum bl_phase_id)i, &st);
		const struct bl_phase *p = &r->phases[i];
		if (!p->seen && !st.n)
			continue;
		sb_addf(sb, "<tr class=\"phase-row\" data-phase=\"%s\"><td>%s</td>",
			bl_phase_name((enum bl_phase_id)i), bl_phase_name((enum bl_phase_id)i));
		if (p->seen)
			sb_addf(sb, "<td>%.3f</td>", bl_ns_to_s(p->host_ns));
		else
			sb_adds(sb, "<td>\xe2\x80\x94</td>");
		if (p->seen && p->guest_s >= 0)
			sb_addf(sb, "<td>%.3f</td>", p->guest_s);
		else
			sb_adds(sb, "<td class=\"unknown\">unknown</td>");
		if (multi)
			sb_addf(sb, "<td>%zu of %zu</td><td>%.3f</td><td>%.3f</td><td>%.3f</td>",
				st.n, v->nruns, st.min, st.median, st.max);
		sb_adds(sb, "</tr>\n");
	}
	sb_adds(sb, "</tbody></table>\n");
}

/* one kernel report, folded open: class, title, time, task, verdict, body */
static void kreport_details(struct strbuf *sb, const struct bl_kreport *k)
{
	sb_addf(sb, "<details open class=\"kreport %s\" data-class=\"%s\" data-signature=\"",
		k->fails ? "fails" : "allowed", bl_kclass_name(k->cls));
	bl_xml_escape(sb, k->signature);
	sb_addf(sb, "\"><summary><span class=\"kclass\">%s</span> <span class=\"ktitle\">",
		bl_kclass_name(k->cls));
	bl_xml_escape(sb, k->title);
	sb_adds(sb, "</span> <span class=\"kmeta\">");
	if (k->guest_s >= 0)
		sb_addf(sb, "[%.6f] ", k->guest_s);
	if (k->cpu >= 0)
		sb_addf(sb, "CPU %d ", k->cpu);
	if (k->pid >= 0)
		sb_addf(sb, "PID %d ", k->pid);
	if (k->task[0]) {
		sb_adds(sb, "task <span class=\"ktask\">");
		bl_xml_escape(sb, k->task);
		sb_adds(sb, "</span> ");
	}
	sb_addf(sb, "\xc2\xb7 console line %zu \xc2\xb7 %s%s%s</span></summary>", k->line,
		k->fails ? "fails the boot" : "allowed", k->truncated ? " \xc2\xb7 truncated" : "",
		k->panicked ? " \xc2\xb7 the kernel panicked" : "");
	sb_adds(sb, "<pre class=\"kbody\">");
	bl_xml_escape(sb, k->body);
	sb_adds(sb, "</pre></details>\n");
}

static void kreports_block(struct strbuf *sb, const struct bl_result *r)
{
	if (!r->nkreports)
		return;
	sb_addf(sb, "<div class=\"kreports\"><h3>kernel reports (%zu)</h3>\n", r->nkreports);
	for (size_t i = 0; i < r->nkreports; i++)
		kreport_details(sb, &r->kreports[i]);
	sb_adds(sb, "</div>\n");
}

static void scenario_section(struct strbuf *sb, const struct bl_variant_result *v, size_t idx,
			     const struct bl_run_info *run)
{
	const struct bl_result *r = bl_variant_main(v);
	const struct bl_scenario *sc = r->sc;
	sb_addf(sb, "<section class=\"scenario %s\" id=\"s%zu\" data-name=\"", variant_class(v),
		idx);
	bl_xml_escape(sb, sc->name);
	sb_addf(sb, "\" data-outcome=\"%s\">\n<h2>", bl_variant_outcome_name(v));
	variant_badge(sb, v);
	sb_adds(sb, " <span class=\"name\">");
	bl_xml_escape(sb, sc->name);
	sb_adds(sb, "</span></h2>\n<p class=\"meta\">");
	if (sc->description) {
		bl_xml_escape(sb, sc->description);
		sb_adds(sb, " \xc2\xb7 ");
	}
	bl_xml_escape(sb, sc->arch);
	sb_adds(sb, " \xc2\xb7 ");
	bl_xml_escape(sb, sc->backend);
	sb_addf(sb, " \xc2\xb7 %.3f s", bl_ns_to_s(r->duration_ns));
	if (v->nruns > 1)
		sb_addf(sb, " \xc2\xb7 run %zu of %zu shown", bl_variant_main_index(v), v->nruns);
	sb_adds(sb, " \xc2\xb7 <span class=\"file\">");
	bl_xml_escape(sb, sc->file);
	sb_adds(sb, "</span></p>\n");
	if (r->reason) {
		sb_addf(sb, "<p class=\"reason %s\">", r->outcome == BL_OUT_PASS ? "note" : "why");
		bl_xml_escape(sb, r->reason);
		sb_adds(sb, "</p>\n");
	}
	if (r->repro_dir) {
		sb_adds(sb, "<p class=\"repro\">boot it again: <code>bootlab repro ");
		bl_xml_escape(sb, r->repro_dir);
		sb_adds(sb, "</code></p>\n");
	}
	frozen_line(sb, &r->frozen, run);
	if (v->nruns > 1)
		runs_line(sb, v, run);
	if (r->phases[BL_PH_SPAWN].seen)
		timeline(sb, r);
	else
		sb_adds(sb, "<p class=\"noboot\">the emulator never started: no timeline</p>\n");
	phase_table(sb, v);

	if (r->nsteps) {
		sb_adds(sb, "<table "
			    "class=\"steps\"><thead><tr><th>step</th><th>result</th><th>s</"
			    "th><th>message</th></tr></thead><tbody>\n");
		for (size_t i = 0; i < r->nsteps; i++) {
			const struct bl_step_result *s = &r->steps[i];
			const char *res = bl_step_result_word(s);
			sb_addf(sb, "<tr class=\"%s\"><td>", res);
			bl_xml_escape(sb, s->name);
			sb_addf(sb, "</td><td>%s</td><td>", res);
			if (!s->skipped)
				sb_addf(sb, "%.3f\xe2\x80\x93%.3f", bl_ns_to_s(s->start_ns),
					bl_ns_to_s(s->end_ns));
			sb_adds(sb, "</td><td>");
			bl_xml_escape(sb, s->message);
			sb_adds(sb, "</td></tr>\n");
		}
		sb_adds(sb, "</tbody></table>\n");
	}
	kreports_block(sb, r);
	if (r->nevents) {
		sb_adds(
		    sb,
		    "<details class=\"events\"><summary>console events</summary><table><tbody>\n");
		for (size_t i = 0; i < r->nevents; i++) {
			const struct bl_event *e = &r->events[i];
			sb_addf(sb, "<tr class=\"ev-%s\"><td>%.3f</td><td>",
				bl_event_type_name(e->c.type), bl_ns_to_s(e->host_ns));
			if (e->guest_s >= 0)
				sb_addf(sb, "[%.6f]", e->guest_s);
			sb_addf(sb, "</td><td>%s</td><td>", bl_event_type_name(e->c.type));
			bl_xml_escape(sb, e->line);
			sb_adds(sb, "</td></tr>\n");
		}
		sb_adds(sb, "</tbody></table></details>\n");
	}
	bool has_tail = r->tail && r->tail[0];
	if (has_tail) {
		sb_addf(sb, "<details class=\"console\"%s><summary>console tail",
			r->outcome != BL_OUT_PASS ? " open" : "");
		if (r->console_log) {
			sb_adds(sb, " (full log: ");
			file_link(sb, run, r->console_log);
			sb_addc(sb, ')');
		}
		sb_adds(sb, "</summary><pre class=\"tail\">");
		for (size_t i = 0; r->tail[i]; i++) {
			bl_xml_escape(sb, r->tail[i]);
			sb_addc(sb, '\n');
		}
		sb_adds(sb, "</pre></details>\n");
	}
	sb_adds(sb, "</section>\n");
}

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}"
    "h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:0 0 4px}"
    ".meta,.run{color:#555;margin:2px 0 8px}.file{font-family:monospace;font-size:12px}"
    ".badge{display:inline-block;padding:1px "
    "8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px}"
    ".badge.small{padding:0 6px;font-size:11px}"
    ".pass{--c:#1a7f37}.fail{--c:#cf222e}.panic{--c:#a40e26}.timeout{--c:#bf8700}"
    ".reboot{--c:#8250df}.interrupted{--c:#6e7781}.error{--c:#6e40c9}.flaky{--c:#d4a72c}"
    ".badge{background:var(--c)}"
    "table{border-collapse:collapse;margin:6px 0 10px}td,th{padding:2px 10px;border-bottom:1px "
    "solid #ddd;text-align:left;vertical-align:top}"
    "th{font-weight:600;color:#444}"
    "table.verdicts td.reason{color:#555;max-width:640px}"
    "section.scenario{background:#fff;border:1px solid #ddd;border-left:6px solid "
    "var(--c);border-radius:6px;padding:12px 16px;margin:16px 0}"
    ".reason.why{background:#fff0f0;border:1px solid #f5c2c2;padding:6px "
    "10px;border-radius:4px;font-family:monospace;white-space:pre-wrap}"
    ".reason.note{color:#555;font-style:italic}"
    ".frozen{background:#eef4ff;border:1px solid #b9cdf5;padding:6px 8px;border-radius:4px}"
    "svg.timeline{display:block;max-width:100%;height:auto;margin:8px 0;font:11px "
    "system-ui,sans-serif}"
    ".axis{stroke:#888}.tick{stroke:#888}.ticklabel{fill:#666;text-anchor:middle;font-size:10px}."
    "axistitle{fill:#888;font-size:10px}"
    ".seg{fill:#8ab4f8}.seg-spawn{fill:#c6dafc}.seg-first-console{fill:#8ab4f8}.seg-run-init{fill:#"
    "669df6}"
    ".seg-agent-hello{fill:#4285f4}.seg-switch-root{fill:#1967d2}.seg-stage2-hello{fill:#174ea6}"
    ".phase circle{fill:#fff;stroke:#174ea6;stroke-width:2}.phase "
    ".marker{stroke:#bbb;stroke-dasharray:2 2}"
    ".plabel{font-weight:600;fill:#222}.ptime{fill:#555;font-size:10px}"
    ".event path{fill:#999}.event.ev-panic path,.event.ev-oops path,.event.ev-segfault "
    "path{fill:#cf222e}"
    ".step rect{fill:#1a7f37;opacity:.7}.step.fail "
    "rect{fill:#cf222e}.slabel{fill:#333;font-size:10px}.slabel.inside{fill:#fff;font-weight:600}"
    ".proc rect{fill:#8250df;opacity:.75}.proc.failed rect{fill:#cf222e}.proc.running "
    "rect{fill:#bf8700}.plabel1{fill:#333;font-size:9px;font-family:monospace}"
    ".obs-mark line{stroke:#1967d2;stroke-width:2}.mlabel{fill:#1967d2;font-size:10px}"
    ".obs-sys path{fill:#0a7d8c}.obs-umount path{fill:#6e7781}.obs-module path{fill:#bc4c00}"
    ".obs-block path{fill:#1f2328}"
    "tr.fail td{color:#cf222e}tr.skipped td{color:#999}td.unknown{color:#999}"
    "pre.tail{background:#111;color:#ddd;padding:8px;overflow-x:auto;font-size:12px}"
    "details{margin:4px 0}summary{cursor:pointer;color:#333}"
    "h3{font-size:14px;margin:8px 0 2px}"
    "details.kreport{border-left:4px solid #cf222e;padding-left:8px}"
    "details.kreport.allowed{border-left-color:#bf8700}"
    ".kclass{font-weight:600;text-transform:uppercase;font-size:11px}"
    ".ktitle{font-family:monospace}.kmeta{color:#555;font-size:12px}"
    "pre.kbody{background:#111;color:#ddd;padding:8px;overflow-x:auto;font-size:12px}";

static int html_write(const struct bl_run_info *run, const struct bl_variant_result *v, size_t n,
		      const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char ts[32];
	time_t t = (time_t)run->start_wall;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S UTC", &tm);
	size_t counts[BL_COUNT_NUM];
	bl_report_count(v, n, counts);

	sb_adds(&sb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width, "
		     "initial-scale=1\">\n<title>bootlab ");
	bl_xml_escape(&sb, run->run_id);
	sb_addf(&sb, ": %zu of %zu passed</title>\n<style>%s</style>\n</head><body>\n",
		counts[BL_OUT_PASS], n, css);
	sb_adds(&sb, "<header><h1>bootlab run ");
	bl_xml_escape(&sb, run->run_id);
	sb_adds(&sb, "</h1><p class=\"run\">");
	sb_addf(&sb, "%s \xc2\xb7 %.1f s \xc2\xb7 -j %d", ts, bl_ns_to_s(run->duration_ns),
		run->jobs);
	if (run->repeat > 1)
		sb_addf(&sb, " \xc2\xb7 --repeat %d", run->repeat);
	if (run->interrupted)
		sb_adds(&sb, " \xc2\xb7 <strong>interrupted</strong>");
	sb_adds(&sb, "<br><code>");
	bl_xml_escape(&sb, run->command);
	sb_adds(&sb, "</code></p>\n<p class=\"summary\">");
	sb_addf(&sb, "<strong>%zu of %zu passed</strong> ", counts[BL_OUT_PASS], n);
	for (int o = BL_OUT_PASS; o < BL_OUT_NUM; o++)
		if (counts[o]) {
			badge(&sb, (enum bl_outcome)o);
			sb_addf(&sb, " %zu ", counts[o]);
		}
	if (counts[BL_COUNT_FLAKY])
		sb_addf(&sb, "<span class=\"badge flaky\">flaky</span> %zu ",
			counts[BL_COUNT_FLAKY]);
	sb_adds(&sb, "</p></header>\n");

	sb_adds(&sb,
		"<table class=\"verdicts\"><thead><tr><th>scenario</th><th>outcome</th><th>s</th>"
		"<th>last phase</th><th>reason</th></tr></thead><tbody>\n");
	size_t *order = failing_first(v, n);
	for (size_t k = 0; k < n; k++) {
		size_t i = order[k];
		const struct bl_result *r = bl_variant_main(&v[i]);
		sb_addf(&sb, "<tr class=\"verdict %s\"><td><a href=\"#s%zu\">",
			variant_class(&v[i]), i);
		bl_xml_escape(&sb, r->sc->name);
		sb_adds(&sb, "</a></td><td>");
		variant_badge(&sb, &v[i]);
		sb_addf(&sb, "</td><td>%.2f</td><td>", bl_ns_to_s(r->duration_ns));
		bl_xml_escape(&sb, r->last_phase ? r->last_phase : "\xe2\x80\x94");
		sb_adds(&sb, "</td><td class=\"reason\">");
		bl_xml_escape(&sb, r->outcome == BL_OUT_PASS ? NULL : r->reason);
		sb_adds(&sb, "</td></tr>\n");
	}
	sb_adds(&sb, "</tbody></table>\n");
	for (size_t k = 0; k < n; k++)
		scenario_section(&sb, &v[order[k]], order[k], run);
	free(order);
	sb_adds(&sb, "<footer class=\"run\">report.json, junit.xml and the console logs are in "
		     "this folder.</footer>\n"
		     "</body></html>\n");
	int rc = bl_write_file_atomic(path, sb.buf, sb.len, 0644);
	sb_release(&sb);
	return rc;
}

const struct bl_reporter bl_reporter_html = {
    .name = "html",
    .file = "index.html",
    .write = html_write,
};
