/* index.html's stage-1 rows (docs/observe.md, "The timeline"): under the
 * kernel phases and the steps of an observed boot, one bar per program
 * the project's init and its children exec'd, its argv on hover, a row
 * of marks for the mounts, module loads and block devices of that time,
 * and a mark where the root changed. The guest's clock is put on the host axis
 * by the first phase that has both clocks. Everything from the guest goes
 * through bl_xml_escape(). */
#include "report/report.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define ROW_H 13.0
#define LABEL_MAX 48 /* bytes of argv drawn beside a bar */

/* host seconds minus guest seconds: the first phase with both clocks (the
 * kernel's run-init line: its printk time and its arrival) */
static bool guest_offset(const struct bl_result *r, double *off)
{
	for (int i = 0; i < BL_PH_COUNT; i++)
		if (r->phases[i].seen && r->phases[i].guest_s >= 0) {
			*off = bl_ns_to_s(r->phases[i].host_ns) - r->phases[i].guest_s;
			return true;
		}
	return false;
}

static size_t shown(size_t n)
{
	return n < BL_HTML_STAGE1_MAX ? n : BL_HTML_STAGE1_MAX;
}

/* a mount, module or block event that happened in stage 1 (not one of
 * those there at start) */
static bool sys_mark(const struct bl_obs_event *e)
{
	return bl_obs_kind_is_sys(e->kind) && !e->initial;
}

/* the row of mount, module and block marks: its height */
static double sys_row(const struct bl_observed *o)
{
	for (size_t i = 0; i < o->n; i++)
		if (sys_mark(&o->ev[i]))
			return ROW_H;
	return 0;
}

double bl_html_stage1_height(const struct bl_result *r)
{
	double off;
	if (!r->observed.on || !r->observed.n || !guest_offset(r, &off))
		return 0;
	size_t n = 0;
	free(bl_obs_spans(&r->observed, &n));
	return 30 + sys_row(&r->observed) + ROW_H * (double)shown(n);
}

static double ax_x(const struct bl_html_axis *ax, double host_s)
{
	double x = ax->x0 + (ax->x1 - ax->x0) * (host_s / ax->span);
	return x < ax->x0 ? ax->x0 : x > ax->x1 ? ax->x1 : x;
}

/* ARGV joined by spaces, escaped; at most MAX bytes, cut at a character */
static void add_argv(struct strbuf *sb, char *const *argv, size_t max)
{
	struct strbuf j = STRBUF_INIT;
	for (size_t i = 0; argv && argv[i]; i++)
		sb_addf(&j, "%s%s", i ? " " : "", argv[i]);
	size_t n = 0, len = j.len;
	while (n < len && n < max) {
		size_t c = bl_utf8_len(sb_str(&j) + n, len - n);
		if (n + (c ? c : 1) > max)
			break;
		n += c ? c : 1;
	}
	bl_xml_escape_n(sb, sb_str(&j), n);
	if (n < len)
		sb_adds(sb, "\xe2\x80\xa6");
	sb_release(&j);
}

static const char *span_class(const struct bl_obs_span *s)
{
	int f = bl_obs_span_failed(s);
	return f < 0 ? "running" : f ? "failed" : "ok";
}

/* how it ended, for the hover text */
static void add_end(struct strbuf *sb, const struct bl_obs_span *s)
{
	if (!s->end)
		sb_adds(sb, "still running when the observation ended");
	else if (s->end->kind == BL_OBS_EXEC)
		sb_adds(sb, "exec'd another program");
	else if (s->end->signal)
		sb_addf(sb, "killed by signal %d", s->end->signal);
	else
		sb_addf(sb, "exited %d", s->end->status);
}

static void bar(struct strbuf *sb, const struct bl_html_axis *ax, const struct bl_obs_span *s,
		double off, double y)
{
	double x0 = ax_x(ax, s->start_s + off), x1 = ax_x(ax, s->end_s + off);
	sb_addf(sb,
		"<g class=\"proc %s\" data-pid=\"%d\" data-start-s=\"%.6f\" data-end-s=\"%.6f\">"
		"<title>",
		span_class(s), s->exec->pid, s->start_s, s->end_s);
	add_argv(sb, s->exec->argv, 4096);
	sb_addf(sb, " (pid %d, parent %d): guest %.3f\xe2\x80\x93%.3f s, ", s->exec->pid,
		s->exec->ppid, s->start_s, s->end_s);
	add_end(sb, s);
	sb_addf(sb, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"9\"/>", x0, y,
		x1 - x0 < 2 ? 2 : x1 - x0);
	bool left = x1 > ax->x1 - 260;
	sb_addf(sb, "<text class=\"plabel1\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">",
		left ? x0 - 3 : x1 + 3, y + 8, left ? "end" : "start");
	add_argv(sb, s->exec->argv, LABEL_MAX);
	sb_adds(sb, "</text></g>\n");
}

/* "mount /dev/vda (ext4) on /mnt/root (ro,relatime)", escaped */
static void add_sys_text(struct strbuf *sb, const struct bl_obs_event *e)
{
	const struct bl_obs_mount *m = &e->mnt;
	sb_adds(sb, bl_obs_kind_name(e->kind));
	sb_addc(sb, ' ');
	if (e->kind == BL_OBS_MODULE || e->kind == BL_OBS_BLOCK) {
		static const char *const block_done[] = {"added", "removed", "changed"};
		bl_xml_escape(sb, e->dev.name);
		if (e->kind == BL_OBS_BLOCK)
			sb_addf(sb, " (%s) %s", bl_obs_devtype_name(e->dev.type),
				block_done[e->dev.action]);
		else if (e->dev.action == BL_OBS_REMOVE)
			sb_adds(sb, " unloaded");
		return;
	}
	bl_xml_escape(sb, m->source);
	sb_adds(sb, " (");
	bl_xml_escape(sb, m->fstype);
	if (m->from) {
		sb_adds(sb, ") from ");
		bl_xml_escape(sb, m->from);
		sb_adds(sb, " to ");
	} else {
		sb_adds(sb, e->kind == BL_OBS_UMOUNT ? ") from " : ") on ");
	}
	bl_xml_escape(sb, m->target);
	sb_adds(sb, " (");
	bl_xml_escape(sb, m->options);
	sb_addc(sb, ')');
}

/* a mark per mount, module or block event at Y (at most
 * BL_HTML_STAGE1_MAX), the event on hover */
static void sys_marks(struct strbuf *sb, const struct bl_html_axis *ax, const struct bl_observed *o,
		      double off, double y)
{
	size_t drawn = 0;
	for (size_t i = 0; i < o->n && drawn < BL_HTML_STAGE1_MAX; i++) {
		const struct bl_obs_event *e = &o->ev[i];
		if (!sys_mark(e))
			continue;
		double g = bl_obs_guest_s(o, e), x = ax_x(ax, g + off);
		sb_addf(sb, "<g class=\"obs-sys obs-%s\" data-guest-s=\"%.6f\"><title>",
			bl_obs_kind_name(e->kind), g);
		add_sys_text(sb, e);
		sb_addf(sb,
			" at guest %.3f s</title><path d=\"M%.1f %.1fl4 4.5-4 4.5-4-4.5z\"/></g>\n",
			g, x, y);
		drawn++;
	}
}

/* the root change: a line over the axis and the rows, the new init's
 * argv on hover */
static void root_mark(struct strbuf *sb, const struct bl_html_axis *ax, const struct bl_result *r,
		      double off, double y0, double y1)
{
	const struct bl_observed *o = &r->observed;
	const struct bl_obs_event *sw = bl_obs_switch_root(o);
	if (!sw)
		return;
	double g = bl_obs_guest_s(o, sw), x = ax_x(ax, g + off);
	const struct bl_obs_event *next = sw + 1 < o->ev + o->n ? sw + 1 : NULL;
	sb_addf(sb, "<g class=\"obs-mark obs-switch-root\" data-guest-s=\"%.6f\"><title>", g);
	sb_addf(sb, "root changed at guest %.3f s", g);
	if (next && next->kind == BL_OBS_EXEC) {
		sb_adds(sb, ": PID 1 exec'd ");
		add_argv(sb, next->argv, 4096);
	}
	sb_addf(sb,
		"</title><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		"<text class=\"mlabel\" x=\"%.1f\" y=\"%.1f\">root changed</text></g>\n",
		x, y0, x, y1, x + 3, y0 + 9);
}

void bl_html_stage1(struct strbuf *sb, const struct bl_result *r, const struct bl_html_axis *ax,
		    double y)
{
	double off;
	if (!bl_html_stage1_height(r) || !guest_offset(r, &off))
		return;
	size_t n = 0;
	struct bl_obs_span *v = bl_obs_spans(&r->observed, &n);
	sb_addf(sb, "<g class=\"stage1\" data-programs=\"%zu\" data-shown=\"%zu\">\n", n, shown(n));
	sb_addf(sb,
		"<text class=\"axistitle\" x=\"%.1f\" y=\"%.1f\">stage 1, observed: %zu programs%s"
		"</text>\n",
		ax->x0, y + 10, n, n > shown(n) ? " (the first ones drawn)" : "");
	double sys_h = sys_row(&r->observed), y0 = y + 18 + sys_h;
	if (sys_h)
		sys_marks(sb, ax, &r->observed, off, y + 18);
	for (size_t i = 0; i < shown(n); i++)
		bar(sb, ax, &v[i], off, y0 + ROW_H * (double)i);
	root_mark(sb, ax, r, off, y, y0 + ROW_H * (double)shown(n));
	sb_adds(sb, "</g>\n");
	free(v);
}
