/* report.json: the reference report (docs/report-schema.md). */
#include "report/report.h"
#include "console/console.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#define BOOTLAB_REPORT_SCHEMA "bootlab-report/1"

static json_t *str_or_null(const char *s)
{
	return bl_json_text(s);
}

static json_t *secs(double s)
{
	return s < 0 ? json_null() : json_real((double)(long long)(s * 1e6 + 0.5) / 1e6);
}

static char *iso_time(int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

static json_t *panic_json(const struct bl_result *r)
{
	if (!r->panic_seen)
		return json_null();
	const struct bl_classified *c = &r->panic;
	char d[300], code[16];
	bl_describe_panic(c, d, sizeof(d));
	json_t *p = json_object();
	json_object_set_new(p, "reason", json_string(bl_panic_reason_name(c->panic)));
	json_object_set_new(p, "message", bl_json_text(r->panic_line ? r->panic_line : ""));
	json_object_set_new(p, "description", bl_json_text(d));
	if (c->panic == BL_PANIC_KILL_INIT) {
		snprintf(code, sizeof(code), "0x%08llx", c->code);
		json_object_set_new(p, "exitcode", json_string(code));
		json_object_set_new(p, "exit_status",
				    c->exit_status >= 0 ? json_integer(c->exit_status)
							: json_null());
		json_object_set_new(p, "signal",
				    c->signal > 0 ? json_integer(c->signal) : json_null());
		json_object_set_new(p, "signal_name",
				    c->signal > 0 ? json_string(bl_signame(c->signal))
						  : json_null());
		json_object_set_new(p, "core_dumped", json_boolean(c->core));
	}
	return p;
}

/* PATH relative to the report folder when it is in it */
static const char *rel_path(const char *path, const char *report_dir)
{
	const char *rel = bl_path_in(path, report_dir);
	return rel ? rel : path;
}

/* the console log's path relative to the report folder */
static const char *rel_log(const struct bl_result *r, const char *report_dir)
{
	return rel_path(r->console_log, report_dir);
}

static json_t *phases_json(const struct bl_result *r)
{
	json_t *ph = json_array();
	for (int i = 0; i < BL_PH_COUNT; i++) {
		const struct bl_phase *p = &r->phases[i];
		if (!p->seen)
			continue;
		json_array_append_new(ph, json_pack("{s:s,s:o,s:o}", "name",
						    bl_phase_name((enum bl_phase_id)i), "host_s",
						    secs(bl_ns_to_s(p->host_ns)), "guest_s",
						    secs(p->guest_s)));
	}
	return ph;
}

static json_t *stat_json(const struct bl_stat *st)
{
	if (!st->n)
		return json_null();
	return json_pack("{s:o,s:o,s:o}", "min", secs(st->min), "median", secs(st->median), "max",
			 secs(st->max));
}

/* timing over the repetitions: min/median/max per phase */
static json_t *timing_json(const struct bl_variant_result *v)
{
	struct bl_stat st;
	json_t *t = json_object();
	bl_stat_duration(v, &st);
	json_object_set_new(t, "duration_s", stat_json(&st));
	json_t *ph = json_array();
	for (int i = 0; i < BL_PH_COUNT; i++) {
		bl_stat_phase_host(v, (enum bl_phase_id)i, &st);
		if (!st.n)
			continue;
		json_t *p = json_pack("{s:s,s:I,s:o}", "name", bl_phase_name((enum bl_phase_id)i),
				      "reached", (json_int_t)st.n, "host_s", stat_json(&st));
		bl_stat_phase_guest(v, (enum bl_phase_id)i, &st);
		json_object_set_new(p, "guest_s", stat_json(&st));
		json_array_append_new(ph, p);
	}
	json_object_set_new(t, "phases", ph);
	return t;
}

/* the host a run's report names: the one it was read back from, else this
 * machine's (new string) */
static char *run_host(const struct bl_run_info *run)
{
	if (run->host)
		return xstrdup(run->host);
	struct utsname u;
	uname(&u);
	return xstrdup(u.nodename);
}

/* the disks hot-plugged during the boot, when there were any */
static void hotplugs_json(json_t *emu, const struct bl_result *r)
{
	if (!r->nhotplugs)
		return;
	json_t *a = json_array();
	for (size_t i = 0; i < r->nhotplugs; i++)
		json_array_append_new(a, json_pack("{s:s, s:f, s:o}", "disk", r->hotplugs[i].disk,
						   "at_s", r->hotplugs[i].at_s, "error",
						   str_or_null(r->hotplugs[i].error)));
	json_object_set_new(emu, "hotplugged", a);
}

/* libvirt: "connect", the host R booted on, and "moved_from", the lost
 * host it left (docs/libvirt.md, "A host lost mid-run"); neither for a
 * local boot */
static void moved_json(json_t *o, const struct bl_result *r)
{
	if (r->connect)
		json_object_set_new(o, "connect", bl_json_text(r->connect));
	if (r->moved_from)
		json_object_set_new(o, "moved_from",
				    json_pack("{s:o,s:o}", "connect", bl_json_text(r->moved_from),
					      "reason", str_or_null(r->moved_why)));
}

/* R's attempt and where it ran: read back from another report, or RUN */
static void attempt_json(json_t *o, const struct bl_result *r, const struct bl_run_info *run)
{
	int attempt = r->attempt > 1 ? r->attempt : 1;
	json_object_set_new(o, "attempt", json_integer(attempt));
	const struct bl_ran_on *ro = &r->ran_on;
	char *host = ro->run_id ? xstrdup(ro->host ? ro->host : "") : run_host(run);
	json_object_set_new(o, "ran_on",
			    json_pack("{s:o,s:o,s:o,s:i}", "run_id",
				      bl_json_text(ro->run_id ? ro->run_id : run->run_id), "shard",
				      str_or_null(ro->run_id ? ro->shard : run->shard), "host",
				      bl_json_text(host), "attempt",
				      ro->run_id ? ro->attempt : attempt));
	free(host);
}

/* how many attempts V has: its highest attempt number */
static int attempts_of(const struct bl_variant_result *v)
{
	int n = 1;
	for (size_t i = 0; i < v->nruns; i++)
		if (v->runs[i]->attempt > n)
			n = v->runs[i]->attempt;
	return n;
}

/* one variant: the shown repetition in full, then every repetition in brief */
static json_t *variant_json(const struct bl_variant_result *v, const struct bl_run_info *run)
{
	const char *report_dir = run->dir;
	const struct bl_result *main_r = bl_variant_main(v);
	json_t *o = bl_result_to_json(main_r, report_dir);
	json_object_set_new(o, "outcome", json_string(bl_variant_outcome_name(v)));
	attempt_json(o, main_r, run);
	json_object_set_new(o, "attempts", json_integer(attempts_of(v)));
	json_object_set_new(o, "runs", json_integer((json_int_t)v->nruns));
	json_object_set_new(o, "shown_run", json_integer((json_int_t)bl_variant_main_index(v)));
	json_object_set_new(o, "timing", timing_json(v));
	json_t *reps = json_array();
	for (size_t i = 0; i < v->nruns; i++) {
		const struct bl_result *r = v->runs[i];
		json_t *j = json_object();
		json_object_set_new(j, "index", json_integer((json_int_t)i + 1));
		json_object_set_new(j, "outcome", json_string(bl_outcome_name(r->outcome)));
		json_object_set_new(j, "reason", str_or_null(r->reason));
		json_object_set_new(j, "duration_s", secs(bl_ns_to_s(r->duration_ns)));
		json_object_set_new(j, "last_phase", str_or_null(r->last_phase));
		json_object_set_new(j, "console_log", str_or_null(rel_log(r, report_dir)));
		json_object_set_new(j, "phases", phases_json(r));
		attempt_json(j, r, run);
		moved_json(j, r);
		json_array_append_new(reps, j);
	}
	json_object_set_new(o, "repetitions", reps);
	return o;
}

/* what a flooding guest made the session drop, or null */
static json_t *truncated_json(const struct bl_truncated *t)
{
	if (!t->log_bytes && !t->lines && !t->events && !t->replies)
		return json_null();
	return json_pack("{s:I,s:I,s:I,s:I}", "console_log_bytes", (json_int_t)t->log_bytes,
			 "console_lines", (json_int_t)t->lines, "events", (json_int_t)t->events,
			 "agent_lines", (json_int_t)t->replies);
}

/* a mount, umount, remount, module or block event's fields, named as
 * the observer sends them (docs/protocol.md) */
static void obs_sys_json(json_t *j, const struct bl_obs_event *e)
{
	const struct bl_obs_mount *m = &e->mnt;
	if (e->initial)
		json_object_set_new(j, "initial", json_true());
	if (e->kind == BL_OBS_MODULE) {
		json_object_set_new(j, "name", bl_json_text(e->dev.name));
		json_object_set_new(j, "action", json_string(bl_obs_action_name(e->dev.action)));
	} else if (e->kind == BL_OBS_BLOCK) {
		json_object_set_new(j, "action", json_string(bl_obs_action_name(e->dev.action)));
		json_object_set_new(j, "devname", bl_json_text(e->dev.name));
		json_object_set_new(j, "devtype", json_string(bl_obs_devtype_name(e->dev.type)));
		json_object_set_new(j, "devpath", bl_json_text(e->dev.path));
	} else {
		json_t *f =
		    json_pack("{s:i,s:i,s:o,s:o,s:o,s:o,s:o}", "mnt_id", m->id, "parent_id",
			      m->parent, "target", bl_json_text(m->target), "source",
			      bl_json_text(m->source), "fstype", bl_json_text(m->fstype), "options",
			      bl_json_text(m->options), "fs_options", bl_json_text(m->fs_options));
		json_object_update(j, f);
		json_decref(f);
		if (m->from)
			json_object_set_new(j, "from", bl_json_text(m->from));
	}
}

/* an observed boot's stage-1 events (docs/observe.md) */
static json_t *observed_json(const struct bl_observed *o)
{
	json_t *ev = json_array();
	for (size_t i = 0; i < o->n; i++) {
		const struct bl_obs_event *e = &o->ev[i];
		json_t *j =
		    json_pack("{s:s,s:f,s:b}", "event", bl_obs_kind_name(e->kind), "guest_s",
			      bl_obs_guest_s(o, e), "printk_clock", o->clock_known);
		if (e->pid > 0)
			json_object_set_new(j, "pid", json_integer(e->pid));
		if (e->kind == BL_OBS_EXEC || e->kind == BL_OBS_EXIT)
			json_object_set_new(j, "ppid", json_integer(e->ppid));
		if (e->kind == BL_OBS_EXEC) {
			json_t *a = json_array();
			for (size_t k = 0; e->argv && e->argv[k]; k++)
				json_array_append_new(a, bl_json_text(e->argv[k]));
			json_object_set_new(j, "argv", a);
		}
		if (e->exe)
			json_object_set_new(j, e->kind == BL_OBS_START ? "init" : "exe",
					    bl_json_text(e->exe));
		if (e->kind == BL_OBS_EXIT && e->signal)
			json_object_set_new(j, "signal", json_integer(e->signal));
		else if (e->kind == BL_OBS_EXIT)
			json_object_set_new(j, "status", json_integer(e->status));
		if (bl_obs_kind_is_sys(e->kind))
			obs_sys_json(j, e);
		json_array_append_new(ev, j);
	}
	json_t *obs = json_pack("{s:o,s:I}", "events", ev, "dropped", (json_int_t)o->dropped);
	if (o->dropped_why)
		json_object_set_new(obs, "dropped_why", bl_json_text(o->dropped_why));
	return obs;
}

/* --freeze: why and when the guest was held, and its memory dump */
static json_t *frozen_json(const struct bl_frozen *f, const char *report_dir)
{
	if (!f->on)
		return json_null();
	return json_pack("{s:s,s:o,s:o}", "why", f->why, "at_s", secs(bl_ns_to_s(f->at_ns)), "dump",
			 str_or_null(rel_path(f->dump, report_dir)));
}

json_t *bl_result_to_json(const struct bl_result *r, const char *report_dir)
{
	const struct bl_scenario *sc = r->sc;
	json_t *o = json_object();
	json_object_set_new(o, "name", bl_json_text(sc->name));
	json_object_set_new(o, "base_name", bl_json_text(sc->base_name ? sc->base_name : sc->name));
	json_object_set_new(o, "variant", str_or_null(sc->variant));
	json_object_set_new(o, "file", bl_json_text(sc->file));
	json_object_set_new(o, "description", str_or_null(sc->description));
	json_object_set_new(o, "arch", str_or_null(sc->arch));
	json_object_set_new(o, "backend", str_or_null(sc->backend));
	json_object_set_new(o, "outcome", json_string(bl_outcome_name(r->outcome)));
	json_object_set_new(o, "reason", str_or_null(r->reason));
	json_object_set_new(o, "duration_s", secs(bl_ns_to_s(r->duration_ns)));
	json_object_set_new(o, "spawn_s",
			    r->spawn_ns > 0 ? secs(bl_ns_to_s(r->spawn_ns)) : json_null());
	json_object_set_new(o, "last_phase", str_or_null(r->last_phase));

	json_t *emu = json_object();
	json_object_set_new(emu, "command", str_or_null(r->emulator_command));
	json_object_set_new(emu, "exit",
			    r->emulator_status >= 0
				? json_string(bl_describe_status(r->emulator_status))
				: json_null());
	json_object_set_new(
	    emu, "stderr",
	    str_or_null(r->emulator_stderr && *r->emulator_stderr ? r->emulator_stderr : NULL));
	json_object_set_new(emu, "cpu",
			    r->emulator_cpu > 0 ? json_integer(r->emulator_cpu - 1) : json_null());
	if (r->emulator_uploaded > 0)
		json_object_set_new(emu, "uploaded_bytes", json_integer(r->emulator_uploaded - 1));
	moved_json(emu, r);
	hotplugs_json(emu, r);
	json_object_set_new(emu, "work_dir", str_or_null(r->work_dir));
	json_object_set_new(emu, "work_dir_kept", json_boolean(r->work_dir_kept));
	json_object_set_new(o, "emulator", emu);
	json_object_set_new(o, "kernel",
			    json_pack("{s:o,s:o}", "image", str_or_null(r->kernel_image), "cmdline",
				      str_or_null(r->kernel_cmdline)));
	json_object_set_new(o, "initrd", str_or_null(rel_path(r->initrd, report_dir)));
	json_object_set_new(o, "repro", str_or_null(rel_path(r->repro_dir, report_dir)));
	json_object_set_new(o, "frozen", frozen_json(&r->frozen, report_dir));

	json_object_set_new(o, "phases", phases_json(r));
	json_object_set_new(o, "panic", panic_json(r));

	json_t *ev = json_array();
	for (size_t i = 0; i < r->nevents; i++) {
		const struct bl_event *e = &r->events[i];
		json_t *j = json_pack("{s:s,s:o,s:o,s:o}", "type", bl_event_type_name(e->c.type),
				      "host_s", secs(bl_ns_to_s(e->host_ns)), "guest_s",
				      secs(e->guest_s), "line", bl_json_text(e->line));
		if (e->c.detail[0])
			json_object_set_new(j, "detail", bl_json_text(e->c.detail));
		if (e->c.code >= 0 && e->c.type == BL_EV_EXEC_FAILED)
			json_object_set_new(j, "error", json_integer(e->c.code));
		json_array_append_new(ev, j);
	}
	json_object_set_new(o, "events", ev);
	json_t *kr = json_array();
	for (size_t i = 0; i < r->nkreports; i++)
		json_array_append_new(kr, bl_kreport_json(&r->kreports[i]));
	json_object_set_new(o, "kernel_reports", kr);

	json_t *steps = json_array();
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct bl_step_result *s = &r->steps[i];
		json_t *j = json_pack("{s:o,s:s,s:s}", "name", bl_json_text(s->name), "kind",
				      s->kind, "result",
				      s->skipped  ? "skipped"
				      : s->passed ? "pass"
						  : "fail");
		json_object_set_new(j, "message", str_or_null(s->message));
		if (!s->skipped) {
			json_object_set_new(j, "start_s", secs(bl_ns_to_s(s->start_ns)));
			json_object_set_new(j, "end_s", secs(bl_ns_to_s(s->end_ns)));
		}
		if (s->reply)
			json_object_set(j, "reply", s->reply);
		json_array_append_new(steps, j);
	}
	json_object_set_new(o, "steps", steps);
	json_object_set(o, "hello", r->hello ? r->hello : json_null());
	json_object_set(o, "hello2", r->hello2 ? r->hello2 : json_null());
	if (r->observed.on)
		json_object_set_new(o, "observed", observed_json(&r->observed));

	json_object_set_new(o, "console_log", str_or_null(rel_log(r, report_dir)));
	json_object_set_new(o, "truncated", truncated_json(&r->truncated));
	json_t *tail = json_array();
	for (size_t i = 0; r->tail && r->tail[i]; i++)
		json_array_append_new(tail, bl_json_text(r->tail[i]));
	json_object_set_new(o, "console_tail", tail);
	return o;
}

json_t *bl_report_to_json(const struct bl_run_info *run, const struct bl_variant_result *v,
			  size_t n)
{
	json_t *o = json_object();
	struct utsname u;
	uname(&u);
	char *started = iso_time(run->start_wall);
	json_object_set_new(o, "schema", json_string(BOOTLAB_REPORT_SCHEMA));
	json_object_set_new(o, "run_id", json_string(run->run_id));
	json_object_set_new(o, "started", json_string(started));
	free(started);
	json_object_set_new(o, "duration_s", secs(bl_ns_to_s(run->duration_ns)));
	json_object_set_new(o, "command", str_or_null(run->command));
	json_object_set_new(o, "jobs", json_integer(run->jobs));
	json_object_set_new(o, "repeat", json_integer(run->repeat > 0 ? run->repeat : 1));
	json_object_set_new(o, "retry", json_integer(run->retry));
	json_object_set_new(o, "interrupted", json_boolean(run->interrupted));
	json_object_set_new(o, "shard", str_or_null(run->shard));
	json_object_set_new(o, "selection",
			    run->selection.n
				? json_pack("{s:I,s:s}", "variants", (json_int_t)run->selection.n,
					    "digest", run->selection.digest)
				: json_null());
	if (run->nsources) {
		json_t *from = json_array();
		for (size_t i = 0; i < run->nsources; i++) {
			const struct bl_run_source *src = &run->sources[i];
			char *when = iso_time(src->start_wall);
			json_array_append_new(
			    from,
			    json_pack("{s:o,s:s,s:o,s:o,s:o}", "run_id", bl_json_text(src->run_id),
				      "started", when, "shard", str_or_null(src->shard), "host",
				      bl_json_text(src->host), "path", bl_json_text(src->path)));
			free(when);
		}
		json_object_set_new(o, "merged_from", from);
	}
	char *host = run_host(run);
	json_object_set_new(o, "host",
			    json_pack("{s:o,s:o,s:o}", "hostname", bl_json_text(host), "kernel",
				      bl_json_text(u.release), "machine", bl_json_text(u.machine)));
	free(host);
	static const enum bl_outcome all[] = {
	    BL_OUT_PASS,    BL_OUT_FAIL,      BL_OUT_PANIC,	  BL_OUT_REBOOT,
	    BL_OUT_TIMEOUT, BL_OUT_EMU_ERROR, BL_OUT_SETUP_ERROR, BL_OUT_INTERRUPTED};
	size_t counts[BL_COUNT_NUM];
	bl_report_count(v, n, counts);
	json_t *sum = json_object();
	json_object_set_new(sum, "total", json_integer((json_int_t)n));
	for (size_t k = 0; k < BL_ARRAY_SIZE(all); k++)
		json_object_set_new(sum, bl_outcome_name(all[k]),
				    json_integer((json_int_t)counts[all[k]]));
	json_object_set_new(sum, "flaky", json_integer((json_int_t)counts[BL_COUNT_FLAKY]));
	json_object_set_new(o, "summary", sum);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, variant_json(&v[i], run));
	json_object_set_new(o, "scenarios", arr);
	return o;
}

static int json_write(const struct bl_run_info *run, const struct bl_variant_result *v, size_t n,
		      const char *path)
{
	json_t *doc = bl_report_to_json(run, v, n);
	char *text =
	    json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(doc);
	if (!text)
		return bl_err("cannot encode the report");
	size_t len = strlen(text);
	char *withnl = xasprintf("%s\n", text);
	free(text);
	int rc = bl_write_file_atomic(path, withnl, len + 1, 0644);
	free(withnl);
	return rc;
}

const struct bl_reporter bl_reporter_json = {
    .name = "json",
    .file = "report.json",
    .write = json_write,
};

json_t *bl_kreport_json(const struct bl_kreport *r)
{
	json_t *frames = json_array();
	for (size_t i = 0; i < r->nframes; i++)
		json_array_append_new(frames, bl_json_text(r->frames[i]));
	json_t *o = json_object();
	json_object_set_new(o, "class", json_string(bl_kclass_name(r->cls)));
	json_object_set_new(o, "title", bl_json_text(r->title));
	json_object_set_new(o, "signature", json_string(r->signature));
	json_object_set_new(o, "fails", json_boolean(r->fails));
	json_object_set_new(o, "line", json_integer((json_int_t)r->line));
	json_object_set_new(o, "guest_s", secs(r->guest_s));
	json_object_set_new(o, "cpu", r->cpu >= 0 ? json_integer(r->cpu) : json_null());
	json_object_set_new(o, "pid", r->pid >= 0 ? json_integer(r->pid) : json_null());
	json_object_set_new(o, "task", r->task[0] ? bl_json_text(r->task) : json_null());
	json_object_set_new(o, "frames", frames);
	json_object_set_new(o, "truncated", json_boolean(r->truncated));
	json_object_set_new(o, "panicked", json_boolean(r->panicked));
	json_object_set_new(o, "body", bl_json_text(r->body));
	return o;
}
