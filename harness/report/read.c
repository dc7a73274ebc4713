/* report.json read back into the types a run makes (struct bl_run_info,
 * struct bl_variant_result, struct bl_result), for bootlab compare and
 * bootlab report merge. Every field read is checked for its type and
 * values; an error names the file and the field ("scenarios[2].outcome"). */
#include "report/report.h"
#include "console/console.h"
#include "util/util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define BOOTLAB_REPORT_SCHEMA "bootlab-report/1"

/* the kinds of JSON value a field may have */
enum {
	T_STR = 1,
	T_NULL = 2,
	T_NUM = 4,
	T_INT = 8,
	T_BOOL = 16,
	T_OBJ = 32,
	T_ARR = 64,
	T_OPT = 128, /* the field may be absent */
};

struct rd {
	const char *file;
	struct strbuf at; /* the field path being read, "scenarios[2]" */
};

static bool of_type(json_t *v, unsigned t)
{
	return ((t & T_STR) && json_is_string(v)) || ((t & T_NULL) && json_is_null(v)) ||
	       ((t & T_NUM) && json_is_number(v)) || ((t & T_INT) && json_is_integer(v)) ||
	       ((t & T_BOOL) && json_is_boolean(v)) || ((t & T_OBJ) && json_is_object(v)) ||
	       ((t & T_ARR) && json_is_array(v));
}

static int bad(struct rd *rd, const char *key, const char *what)
{
	return bl_err("'%s': field '%s%s%s': %s", rd->file, sb_str(&rd->at),
		      *sb_str(&rd->at) && *key ? "." : "", key, what);
}

/* OBJ's KEY when it is of the types T, into *OUT (NULL when absent and
 * T_OPT); else -1 naming the field */
static int get(struct rd *rd, json_t *obj, const char *key, unsigned t, json_t **out)
{
	json_t *v = json_object_get(obj, key);
	*out = v;
	if (!v)
		return (t & T_OPT) ? 0 : bad(rd, key, "missing");
	if (of_type(v, t))
		return 0;
	return bad(rd, key,
		   (t & T_ARR)	 ? "not a list"
		   : (t & T_OBJ) ? "not an object"
		   : (t & T_STR) ? "not a string"
		   : (t & T_INT) ? "not an integer"
		   : (t & T_NUM) ? "not a number"
				 : "not a boolean");
}

/* a string or null field as a new string (NULL for null or absent) */
static int get_str(struct rd *rd, json_t *obj, const char *key, unsigned opt, char **out)
{
	json_t *v;
	*out = NULL;
	if (get(rd, obj, key, T_STR | T_NULL | opt, &v) < 0)
		return -1;
	if (json_is_string(v))
		*out = xstrdup(json_string_value(v));
	return 0;
}

/* seconds (a number >= 0; -1 for null or absent when OPT allows them) */
static int get_secs(struct rd *rd, json_t *obj, const char *key, unsigned opt, double *out)
{
	json_t *v;
	*out = -1;
	if (get(rd, obj, key, T_NUM | opt, &v) < 0)
		return -1;
	if (!json_is_number(v))
		return 0;
	if (json_number_value(v) < 0)
		return bad(rd, key, "a negative time");
	*out = json_number_value(v);
	return 0;
}

static int64_t s_to_ns(double s)
{
	return s < 0 ? 0 : (int64_t)(s * 1e9 + 0.5);
}

/* enter the field KEY (index I when >= 0) for the messages; returns the
 * length to go back to */
static size_t enter(struct rd *rd, const char *key, long i)
{
	size_t len = rd->at.len;
	if (key)
		sb_addf(&rd->at, "%s%s", len ? "." : "", key);
	if (i >= 0)
		sb_addf(&rd->at, "[%ld]", i);
	return len;
}

static void leave(struct rd *rd, size_t len)
{
	rd->at.len = len;
	if (rd->at.buf)
		rd->at.buf[len] = 0;
}

/* a name out of a NULL-terminated list, or -1 naming the field */
static int name_in(struct rd *rd, json_t *obj, const char *key, const char *(*name)(int), int n,
		   int *out)
{
	json_t *v;
	if (get(rd, obj, key, T_STR, &v) < 0)
		return -1;
	for (int k = 0; k < n; k++)
		if (name(k) && !strcmp(name(k), json_string_value(v))) {
			*out = k;
			return 0;
		}
	char *what = xasprintf("unknown value '%s'", json_string_value(v));
	bad(rd, key, what);
	free(what);
	return -1;
}

static const char *phase_name_i(int i)
{
	return bl_phase_name((enum bl_phase_id)i);
}

static const char *outcome_name_i(int i)
{
	return bl_outcome_name((enum bl_outcome)i);
}

static const char *event_name_i(int i)
{
	return i == BL_EV_NONE ? NULL : bl_event_type_name((enum bl_event_type)i);
}

static const char *step_kind_i(int i)
{
	return bl_step_kind_name((enum bl_step_kind)i);
}

static const char *kclass_name_i(int i)
{
	return i == BL_KC_NONE ? NULL : bl_kclass_name((enum bl_kclass)i);
}

/* a path the report names relative to its folder (console_log, a kept
 * initrd) as a path under DIR; an absolute one as is when ABS_OK */
static int get_file(struct rd *rd, json_t *obj, const char *key, const char *dir, bool abs_ok,
		    char **out)
{
	char *rel;
	*out = NULL;
	if (get_str(rd, obj, key, T_OPT, &rel) < 0)
		return -1;
	if (!rel)
		return 0;
	if (rel[0] == '/' && abs_ok) {
		*out = rel;
		return 0;
	}
	bool climbs = rel[0] == '/' || !rel[0] || !strcmp(rel, "..") || !strncmp(rel, "../", 3) ||
		      strstr(rel, "/../") ||
		      (strlen(rel) >= 3 && !strcmp(rel + strlen(rel) - 3, "/.."));
	if (climbs) {
		char *what = xasprintf("'%s' is not a file in the report's folder", rel);
		bad(rd, key, what);
		free(what);
		free(rel);
		return -1;
	}
	*out = bl_path_join(dir, rel);
	free(rel);
	return 0;
}

static int read_phases(struct rd *rd, json_t *obj, struct bl_result *r)
{
	json_t *arr, *p;
	size_t i;
	if (get(rd, obj, "phases", T_ARR, &arr) < 0)
		return -1;
	json_array_foreach(arr, i, p)
	{
		size_t back = enter(rd, "phases", (long)i);
		int id;
		double host, guest;
		if (!json_is_object(p) ||
		    name_in(rd, p, "name", phase_name_i, BL_PH_COUNT, &id) < 0 ||
		    get_secs(rd, p, "host_s", 0, &host) < 0 ||
		    get_secs(rd, p, "guest_s", T_NULL, &guest) < 0)
			return json_is_object(p) ? -1 : bad(rd, "", "not an object");
		r->phases[id] =
		    (struct bl_phase){.seen = true, .host_ns = s_to_ns(host), .guest_s = guest};
		leave(rd, back);
	}
	return 0;
}

/* "exited N" / "killed by signal N (SIG)" back to a wait status */
static int emulator_status(const char *exit)
{
	int n;
	if (exit && sscanf(exit, "exited %d", &n) == 1)
		return (n & 0xff) << 8;
	if (exit && sscanf(exit, "killed by signal %d", &n) == 1)
		return n & 0x7f;
	return -1;
}

/* emulator.hotplugged, when there */
static int read_hotplugs(struct rd *rd, json_t *emu, struct bl_result *r)
{
	json_t *a, *h;
	size_t i;
	if (get(rd, emu, "hotplugged", T_ARR | T_OPT, &a) < 0 || !a)
		return 0;
	r->hotplugs = xcalloc(json_array_size(a) + 1, sizeof(*r->hotplugs));
	json_array_foreach(a, i, h)
	{
		struct bl_hotplug *p = &r->hotplugs[r->nhotplugs++];
		size_t back = enter(rd, "hotplugged", (long)i);
		if (get_str(rd, h, "disk", 0, &p->disk) < 0 ||
		    get_secs(rd, h, "at_s", 0, &p->at_s) < 0 ||
		    get_str(rd, h, "error", 0, &p->error) < 0)
			return -1;
		leave(rd, back);
	}
	return 0;
}

static int read_emulator(struct rd *rd, json_t *obj, struct bl_result *r)
{
	json_t *emu, *cpu, *kept, *up;
	char *exit = NULL;
	if (get(rd, obj, "emulator", T_OBJ, &emu) < 0)
		return -1;
	size_t back = enter(rd, "emulator", -1);
	if (get_str(rd, emu, "command", 0, &r->emulator_command) < 0 ||
	    get_str(rd, emu, "exit", 0, &exit) < 0 ||
	    get_str(rd, emu, "stderr", 0, &r->emulator_stderr) < 0 ||
	    get(rd, emu, "cpu", T_INT | T_NULL | T_OPT, &cpu) < 0 ||
	    get(rd, emu, "uploaded_bytes", T_INT | T_OPT, &up) < 0 ||
	    get_str(rd, emu, "work_dir", T_OPT, &r->work_dir) < 0 ||
	    get(rd, emu, "work_dir_kept", T_BOOL | T_OPT, &kept) < 0 ||
	    read_hotplugs(rd, emu, r) < 0) {
		free(exit);
		return -1;
	}
	r->emulator_status = emulator_status(exit);
	free(exit);
	r->emulator_cpu = json_is_integer(cpu) ? (int)json_integer_value(cpu) + 1 : 0;
	r->work_dir_kept = json_is_true(kept);
	r->emulator_uploaded = json_is_integer(up) ? json_integer_value(up) + 1 : 0;
	leave(rd, back);
	json_t *k;
	if (get(rd, obj, "kernel", T_OBJ, &k) < 0)
		return -1;
	back = enter(rd, "kernel", -1);
	if (get_str(rd, k, "image", 0, &r->kernel_image) < 0 ||
	    get_str(rd, k, "cmdline", 0, &r->kernel_cmdline) < 0)
		return -1;
	leave(rd, back);
	return 0;
}

/* the text between the last '(' and the ')' that ends S */
static void paren_detail(const char *s, char *out, size_t n)
{
	const char *o = strrchr(s, '(');
	size_t l = strlen(s);
	if (o && l && s[l - 1] == ')')
		snprintf(out, n, "%.*s", (int)(s + l - 1 - (o + 1)), o + 1);
	else
		snprintf(out, n, "%s", s);
}

static int read_panic_kill_init(struct rd *rd, json_t *p, struct bl_classified *c)
{
	json_t *code, *st, *sig, *core;
	if (get(rd, p, "exitcode", T_STR, &code) < 0 ||
	    get(rd, p, "exit_status", T_INT | T_NULL, &st) < 0 ||
	    get(rd, p, "signal", T_INT | T_NULL, &sig) < 0 ||
	    get(rd, p, "core_dumped", T_BOOL, &core) < 0)
		return -1;
	c->code = strtoll(json_string_value(code), NULL, 16);
	c->exit_status = json_is_integer(st) ? (int)json_integer_value(st) : -1;
	c->signal = json_is_integer(sig) ? (int)json_integer_value(sig) : -1;
	c->core = json_is_true(core);
	return 0;
}

static int read_panic(struct rd *rd, json_t *obj, struct bl_result *r)
{
	json_t *p, *reason, *desc;
	if (get(rd, obj, "panic", T_OBJ | T_NULL, &p) < 0 || json_is_null(p))
		return json_is_null(p) ? 0 : -1;
	size_t back = enter(rd, "panic", -1);
	struct bl_classified *c = &r->panic;
	*c = (struct bl_classified){
	    .type = BL_EV_PANIC, .code = -1, .exit_status = -1, .signal = -1};
	if (get(rd, p, "reason", T_STR, &reason) < 0 ||
	    get(rd, p, "description", T_STR, &desc) < 0 ||
	    get_str(rd, p, "message", 0, &r->panic_line) < 0)
		return -1;
	if (bl_panic_reason_parse(json_string_value(reason), &c->panic) < 0)
		return bad(rd, "reason", "not a panic reason");
	const char *d = json_string_value(desc);
	if (c->panic == BL_PANIC_KILL_INIT && read_panic_kill_init(rd, p, c) < 0)
		return -1;
	if (c->panic == BL_PANIC_REQUESTED_INIT &&
	    sscanf(d, "requested init %255s failed (error %lld)", c->detail, &c->code) == 2)
		;
	else if (c->panic == BL_PANIC_VFS || c->panic == BL_PANIC_BUILTIN_UNPACK)
		paren_detail(d, c->detail, sizeof(c->detail));
	else if (c->panic != BL_PANIC_KILL_INIT && c->panic != BL_PANIC_NO_INIT)
		snprintf(c->detail, sizeof(c->detail), "%s", d);
	r->panic_seen = true;
	leave(rd, back);
	return 0;
}

static int read_events(struct rd *rd, json_t *obj, struct bl_result *r)
{
	json_t *arr, *e;
	size_t i;
	if (get(rd, obj, "events", T_ARR, &arr) < 0)
		return -1;
	r->events = xcalloc(json_array_size(arr) + 1, sizeof(*r->events));
	json_array_foreach(arr, i, e)
	{
		size_t back = enter(rd, "events", (long)i);
		struct bl_event *ev = &r->events[r->nevents];
		int type;
		double host, guest;
		json_t *detail, *err;
		if (!json_is_object(e))
			return bad(rd, "", "not an object");
		if (name_in(rd, e, "type", event_name_i, BL_EV_MD_ACTIVE + 1, &type) < 0 ||
		    get_secs(rd, e, "host_s", 0, &host) < 0 ||
		    get_secs(rd, e, "guest_s", T_NULL, &guest) < 0 ||
		    get_str(rd, e, "line", 0, &ev->line) < 0 ||
		    get(rd, e, "detail", T_STR | T_OPT, &detail) < 0 ||
		    get(rd, e, "error", T_INT | T_OPT, &err) < 0)
			return -1;
		r->nevents++;
		ev->host_ns = s_to_ns(host);
		ev->guest_s = guest;
		ev->c =
		    (struct bl_classified){.type = (enum bl_event_type)type,
					   .code = err ? (long long)json_integer_value(err) : -1,
					   .exit_status = -1,
					   .signal = -1};
		if (detail)
			snprintf(ev->c.detail, sizeof(ev->c.detail), "%s",
				 json_string_value(detail));
		leave(rd, back);
	}
	return 0;
}

/* an integer field >= MIN, or -1 for null when NULL_OK */
static int get_int(struct rd *rd, json_t *obj, const char *key, bool null_ok, long long min,
		   long long *out)
{
	json_t *v;
	*out = -1;
	if (get(rd, obj, key, T_INT | (null_ok ? T_NULL : 0), &v) < 0)
		return -1;
	if (json_is_null(v))
		return 0;
	if (json_integer_value(v) < min)
		return bad(rd, key, "out of range");
	*out = json_integer_value(v);
	return 0;
}

static int get_bool(struct rd *rd, json_t *obj, const char *key, bool *out)
{
	json_t *v;
	if (get(rd, obj, key, T_BOOL, &v) < 0)
		return -1;
	*out = json_is_true(v);
	return 0;
}

/* a non-null string field, at most MAX bytes (0: any) */
static int get_text(struct rd *rd, json_t *obj, const char *key, size_t max, char **out)
{
	if (get_str(rd, obj, key, 0, out) < 0)
		return -1;
	if (!*out)
		return bad(rd, key, "null");
	if (max && strlen(*out) > max)
		return bad(rd, key, "too long");
	return 0;
}

static int read_frames(struct rd *rd, json_t *o, struct bl_kreport *k)
{
	json_t *arr, *f;
	size_t i;
	if (get(rd, o, "frames", T_ARR, &arr) < 0)
		return -1;
	if (json_array_size(arr) > BL_KREPORT_FRAMES) {
		char *what = xasprintf("more than %d frames", BL_KREPORT_FRAMES);
		bad(rd, "frames", what);
		free(what);
		return -1;
	}
	json_array_foreach(arr, i, f)
	{
		if (!json_is_string(f)) {
			size_t back = enter(rd, "frames", (long)i);
			bad(rd, "", "not a string");
			leave(rd, back);
			return -1;
		}
		k->frames[k->nframes++] = xstrdup(json_string_value(f));
	}
	return 0;
}

/* one of kernel_reports (docs/kernel-reports.md) */
static int read_kreport(struct rd *rd, json_t *o, struct bl_kreport *k)
{
	int cls;
	long long line, cpu, pid;
	char *task = NULL;
	k->cpu = k->pid = -1;
	if (!json_is_object(o))
		return bad(rd, "", "not an object");
	if (name_in(rd, o, "class", kclass_name_i, BL_KC_COUNT, &cls) < 0 ||
	    get_text(rd, o, "title", 0, &k->title) < 0 ||
	    get_text(rd, o, "signature", 0, &k->signature) < 0 ||
	    get_bool(rd, o, "fails", &k->fails) < 0 ||
	    get_int(rd, o, "line", false, 1, &line) < 0 ||
	    get_secs(rd, o, "guest_s", T_NULL, &k->guest_s) < 0 ||
	    get_int(rd, o, "cpu", true, 0, &cpu) < 0 || get_int(rd, o, "pid", true, 0, &pid) < 0 ||
	    get_str(rd, o, "task", 0, &task) < 0 || read_frames(rd, o, k) < 0 ||
	    get_bool(rd, o, "truncated", &k->truncated) < 0 ||
	    get_bool(rd, o, "panicked", &k->panicked) < 0 ||
	    get_text(rd, o, "body", 0, &k->body) < 0) {
		free(task);
		return -1;
	}
	k->cls = (enum bl_kclass)cls;
	k->line = (size_t)line;
	k->cpu = cpu > INT_MAX ? INT_MAX : (int)cpu;
	k->pid = pid > INT_MAX ? INT_MAX : (int)pid;
	bool long_task = task && strlen(task) >= sizeof(k->task);
	if (task && !long_task)
		memcpy(k->task, task, strlen(task) + 1);
	free(task);
	for (const char *b = k->body; (b = strchr(b, '\n')); b++)
		k->nlines++;
	return long_task ? bad(rd, "task", "too long") : 0;
}

/* kernel_reports (absent in reports written before it was added) */
static int read_kreports(struct rd *rd, json_t *obj, struct bl_result *r)
{
	json_t *arr, *o;
	size_t i;
	if (get(rd, obj, "kernel_reports", T_ARR | T_OPT, &arr) < 0)
		return -1;
	r->kreports = xcalloc(json_array_size(arr) + 1, sizeof(*r->kreports));
	json_array_foreach(arr, i, o)
	{
		size_t back = enter(rd, "kernel_reports", (long)i);
		/* counted first: a half-read report is released with the result */
		r->nkreports++;
		if (read_kreport(rd, o, &r->kreports[i]) < 0)
			return -1;
		leave(rd, back);
	}
	return 0;
}

static int read_step(struct rd *rd, json_t *s, struct bl_step_result *st)
{
	int kind;
	json_t *res, *reply;
	double start, end;
	if (!json_is_object(s))
		return bad(rd, "", "not an object");
	if (get_str(rd, s, "name", 0, &st->name) < 0 ||
	    name_in(rd, s, "kind", step_kind_i, BL_STEP_EXPECT_SCRIPT + 1, &kind) < 0 ||
	    get(rd, s, "result", T_STR, &res) < 0 ||
	    get_str(rd, s, "message", 0, &st->message) < 0 ||
	    get_secs(rd, s, "start_s", T_OPT, &start) < 0 ||
	    get_secs(rd, s, "end_s", T_OPT, &end) < 0 ||
	    get(rd, s, "reply", T_OBJ | T_OPT, &reply) < 0)
		return -1;
	if (!st->name)
		return bad(rd, "name", "null");
	st->kind = bl_step_kind_name((enum bl_step_kind)kind);
	const char *rv = json_string_value(res);
	st->skipped = !strcmp(rv, "skipped");
	st->passed = !strcmp(rv, "pass");
	if (!st->skipped && !st->passed && strcmp(rv, "fail"))
		return bad(rd, "result", "not pass, fail or skipped");
	st->start_ns = s_to_ns(start);
	st->end_ns = s_to_ns(end);
	st->reply = json_incref(reply);
	return 0;
}

static int read_steps(struct rd *rd, json_t *obj, struct bl_result *r)
{
	json_t *arr, *s;
	size_t i;
	if (get(rd, obj, "steps", T_ARR, &arr) < 0)
		return -1;
	r->steps = xcalloc(json_array_size(arr) + 1, sizeof(*r->steps));
	json_array_foreach(arr, i, s)
	{
		size_t back = enter(rd, "steps", (long)i);
		r->nsteps++;
		if (read_step(rd, s, &r->steps[i]) < 0)
			return -1;
		leave(rd, back);
	}
	return 0;
}

static int read_tail(struct rd *rd, json_t *obj, struct bl_result *r)
{
	json_t *arr, *l;
	size_t i;
	if (get(rd, obj, "console_tail", T_ARR, &arr) < 0)
		return -1;
	r->tail = xcalloc(json_array_size(arr) + 1, sizeof(*r->tail));
	json_array_foreach(arr, i, l)
	{
		if (!json_is_string(l)) {
			size_t back = enter(rd, "console_tail", (long)i);
			bad(rd, "", "not a string");
			leave(rd, back);
			return -1;
		}
		r->tail[i] = xstrdup(json_string_value(l));
	}
	return 0;
}

/* a repetition: what the brief entry (and a scenario's shown run) has */
/* libvirt: the host it booted on, and the lost host it was moved from */
static int read_moved(struct rd *rd, json_t *o, struct bl_result *r)
{
	json_t *m;
	if (get_str(rd, o, "connect", T_OPT, &r->connect) < 0 ||
	    get(rd, o, "moved_from", T_OBJ | T_OPT, &m) < 0)
		return -1;
	if (!m)
		return 0;
	size_t back = enter(rd, "moved_from", -1);
	if (get_str(rd, m, "connect", 0, &r->moved_from) < 0 ||
	    get_str(rd, m, "reason", 0, &r->moved_why) < 0)
		return -1;
	leave(rd, back);
	return 0;
}

static int read_brief(struct rd *rd, json_t *o, const char *dir, struct bl_result *r)
{
	int outcome;
	double dur;
	if (read_moved(rd, o, r) < 0 ||
	    name_in(rd, o, "outcome", outcome_name_i, BL_OUT_NUM, &outcome) < 0 ||
	    get_str(rd, o, "reason", 0, &r->reason) < 0 ||
	    get_secs(rd, o, "duration_s", 0, &dur) < 0 ||
	    get_str(rd, o, "last_phase", 0, &r->last_phase) < 0 ||
	    get_file(rd, o, "console_log", dir, false, &r->console_log) < 0 ||
	    read_phases(rd, o, r) < 0)
		return -1;
	r->outcome = (enum bl_outcome)outcome;
	r->duration_ns = s_to_ns(dur);
	return 0;
}

/* where it ran: "attempt" and "ran_on", or this report's run for reports
 * written before they were added */
static int read_ran_on(struct rd *rd, json_t *o, const struct bl_report_in *in, struct bl_result *r)
{
	json_t *att, *ro;
	if (get(rd, o, "attempt", T_INT | T_OPT, &att) < 0 ||
	    get(rd, o, "ran_on", T_OBJ | T_OPT, &ro) < 0)
		return -1;
	r->attempt = att ? (int)json_integer_value(att) : 1;
	if (r->attempt < 1)
		return bad(rd, "attempt", "less than 1");
	if (!ro) {
		r->ran_on = (struct bl_ran_on){xstrdup(in->info.run_id),
					       in->info.shard ? xstrdup(in->info.shard) : NULL,
					       xstrdup(in->info.host), r->attempt};
		return 0;
	}
	size_t back = enter(rd, "ran_on", -1);
	json_t *ra;
	if (get_str(rd, ro, "run_id", 0, &r->ran_on.run_id) < 0 ||
	    get_str(rd, ro, "shard", 0, &r->ran_on.shard) < 0 ||
	    get_str(rd, ro, "host", 0, &r->ran_on.host) < 0 ||
	    get(rd, ro, "attempt", T_INT, &ra) < 0)
		return -1;
	if (!r->ran_on.run_id)
		return bad(rd, "run_id", "null");
	r->ran_on.attempt = (int)json_integer_value(ra);
	leave(rd, back);
	return 0;
}

/* the plan a variant's results point at: its names as the report gives them */
static int read_plan(struct rd *rd, json_t *s, struct bl_scenario **out)
{
	char *name, *file, *base = NULL, *variant = NULL, *desc = NULL, *arch = NULL,
			   *backend = NULL;
	*out = NULL;
	if (get_str(rd, s, "name", 0, &name) < 0)
		return -1;
	int rc = -1;
	file = NULL;
	if (!name || !*name) {
		bad(rd, "name", "empty");
		goto out;
	}
	if (get_str(rd, s, "file", 0, &file) < 0)
		goto out;
	if (!file) {
		bad(rd, "file", "null");
		goto out;
	}
	if (get_str(rd, s, "base_name", 0, &base) < 0 ||
	    get_str(rd, s, "variant", 0, &variant) < 0 ||
	    get_str(rd, s, "description", 0, &desc) < 0 || get_str(rd, s, "arch", 0, &arch) < 0 ||
	    get_str(rd, s, "backend", 0, &backend) < 0)
		goto out;
	struct bl_scenario *sc = bl_plan_new(name, file);
	bl_plan_set(&sc->base_name, base ? base : name);
	bl_plan_set(&sc->variant, variant);
	bl_plan_set(&sc->description, desc);
	bl_plan_set(&sc->arch, arch);
	bl_plan_set(&sc->backend, backend);
	*out = sc;
	rc = 0;
out:
	free(name);
	free(file);
	free(base);
	free(variant);
	free(desc);
	free(arch);
	free(backend);
	return rc;
}

/* the shown run's fields beyond the brief ones */
static const char *obs_kind_i(int i)
{
	return bl_obs_kind_name((enum bl_obs_kind)i);
}

/* a list of strings, NULL-terminated (absent: NULL) */
static int get_strv(struct rd *rd, json_t *obj, const char *key, char ***out)
{
	json_t *arr, *v;
	size_t i;
	*out = NULL;
	if (get(rd, obj, key, T_ARR | T_OPT, &arr) < 0 || !arr)
		return arr ? -1 : 0;
	*out = xcalloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return bad(rd, key, "holds something else than strings");
		(*out)[i] = xstrdup(json_string_value(v));
	}
	return 0;
}

/* one stage-1 event; its time is guest_s as written (on the printk clock
 * when it was), so the observed clock offset is 0 */
static int read_obs_event(struct rd *rd, json_t *e, struct bl_obs_event *ev)
{
	int kind;
	double t;
	long long pid, ppid, status, sig;
	bool printk;
	json_t *exe;
	if (!json_is_object(e))
		return bad(rd, "", "not an object");
	if (name_in(rd, e, "event", obs_kind_i, BL_OBS_KIND_COUNT, &kind) < 0 ||
	    get_secs(rd, e, "guest_s", 0, &t) < 0 || get_bool(rd, e, "printk_clock", &printk) < 0 ||
	    get_strv(rd, e, "argv", &ev->argv) < 0 ||
	    get(rd, e, kind == BL_OBS_START ? "init" : "exe", T_STR | T_OPT, &exe) < 0)
		return -1;
	pid = ppid = sig = 0, status = -1;
	if ((json_object_get(e, "pid") && get_int(rd, e, "pid", false, 0, &pid) < 0) ||
	    (json_object_get(e, "ppid") && get_int(rd, e, "ppid", false, 0, &ppid) < 0) ||
	    (json_object_get(e, "status") && get_int(rd, e, "status", false, 0, &status) < 0) ||
	    (json_object_get(e, "signal") && get_int(rd, e, "signal", false, 1, &sig) < 0))
		return -1;
	if (pid > INT_MAX || ppid > INT_MAX || status > 255 || sig > 64)
		return bad(rd, "", "a pid, status or signal out of range");
	*ev = (struct bl_obs_event){.kind = (enum bl_obs_kind)kind,
				    .t_ns = s_to_ns(t),
				    .pid = (int)pid,
				    .ppid = (int)ppid,
				    .status = sig ? -1 : (int)status,
				    .signal = (int)sig,
				    .argv = ev->argv,
				    .exe = exe ? xstrdup(json_string_value(exe)) : NULL};
	if (bl_obs_kind_is_sys(ev->kind) && bl_obs_sys_parse(e, ev) < 0)
		return bad(rd, "", bl_errmsg());
	return 0;
}

/* "observed", for an observed boot (absent otherwise) */
static int read_observed(struct rd *rd, json_t *s, struct bl_result *r)
{
	json_t *obs, *arr, *e;
	long long dropped;
	size_t i;
	if (get(rd, s, "observed", T_OBJ | T_OPT, &obs) < 0 || !obs)
		return obs ? -1 : 0;
	size_t back = enter(rd, "observed", -1);
	if (get(rd, obs, "events", T_ARR, &arr) < 0 ||
	    get_int(rd, obs, "dropped", false, 0, &dropped) < 0)
		return -1;
	struct bl_observed *o = &r->observed;
	o->on = true;
	o->dropped = (size_t)dropped;
	if (get_str(rd, obs, "dropped_why", T_OPT, &o->dropped_why) < 0)
		return -1;
	o->ev = xcalloc(json_array_size(arr) + 1, sizeof(*o->ev));
	o->a = json_array_size(arr) + 1;
	json_array_foreach(arr, i, e)
	{
		size_t b = enter(rd, "events", (long)i);
		o->n++;
		if (read_obs_event(rd, e, &o->ev[i]) < 0)
			return -1;
		o->nsys += bl_obs_kind_is_sys(o->ev[i].kind);
		leave(rd, b);
	}
	leave(rd, back);
	return 0;
}

static const char *frozen_why_i(int i)
{
	static const char *const whys[] = {"panic", "deadline", "step-timeout"};
	return i >= 0 && i < (int)BL_ARRAY_SIZE(whys) ? whys[i] : NULL;
}

/* "frozen": why and when a guest was held (--freeze) and its memory dump,
 * or null (absent in reports written before it was added) */
static int read_frozen(struct rd *rd, json_t *s, const char *dir, struct bl_frozen *f)
{
	json_t *fo;
	if (get(rd, s, "frozen", T_OBJ | T_NULL | T_OPT, &fo) < 0)
		return -1;
	if (!json_is_object(fo))
		return 0;
	size_t back = enter(rd, "frozen", -1);
	int why;
	double at;
	if (name_in(rd, fo, "why", frozen_why_i, 3, &why) < 0 ||
	    get_secs(rd, fo, "at_s", 0, &at) < 0 ||
	    get_file(rd, fo, "dump", dir, false, &f->dump) < 0)
		return -1;
	leave(rd, back);
	f->on = true;
	f->why = frozen_why_i(why);
	f->at_ns = s_to_ns(at);
	return 0;
}

static int read_full(struct rd *rd, json_t *s, const char *dir, struct bl_result *r)
{
	double spawn;
	json_t *hello, *hello2;
	if (read_phases(rd, s, r) < 0 || read_emulator(rd, s, r) < 0 ||
	    get_file(rd, s, "initrd", dir, true, &r->initrd) < 0 ||
	    get_secs(rd, s, "spawn_s", T_OPT | T_NULL, &spawn) < 0 || read_panic(rd, s, r) < 0 ||
	    read_events(rd, s, r) < 0 || read_kreports(rd, s, r) < 0 || read_steps(rd, s, r) < 0 ||
	    get(rd, s, "hello", T_OBJ | T_NULL, &hello) < 0 ||
	    get(rd, s, "hello2", T_OBJ | T_NULL, &hello2) < 0 || read_tail(rd, s, r) < 0 ||
	    read_observed(rd, s, r) < 0 ||
	    get_file(rd, s, "repro", dir, false, &r->repro_dir) < 0 ||
	    read_frozen(rd, s, dir, &r->frozen) < 0)
		return -1;
	r->spawn_ns = spawn < 0 ? 0 : s_to_ns(spawn);
	r->hello = json_is_object(hello) ? json_incref(hello) : NULL;
	r->hello2 = json_is_object(hello2) ? json_incref(hello2) : NULL;
	return 0;
}

/* one variant: its plan, then each repetition (the shown one in full) */
static int read_variant(struct rd *rd, json_t *s, struct bl_report_in *in, size_t idx)
{
	json_t *reps, *shown;
	if (!json_is_object(s))
		return bad(rd, "", "not an object");
	int outcome;
	json_t *vo = json_object_get(s, "outcome");
	if (!(json_is_string(vo) && !strcmp(json_string_value(vo), "flaky")) &&
	    name_in(rd, s, "outcome", outcome_name_i, BL_OUT_NUM, &outcome) < 0)
		return -1;
	if (read_plan(rd, s, &in->plans[idx]) < 0 ||
	    get(rd, s, "repetitions", T_ARR | T_OPT, &reps) < 0 ||
	    get(rd, s, "shown_run", T_INT | T_OPT, &shown) < 0)
		return -1;
	size_t nreps = reps ? json_array_size(reps) : 0;
	size_t show = shown ? (size_t)json_integer_value(shown) : 1;
	if (show < 1 || show > (nreps ? nreps : 1))
		return bad(rd, "shown_run", "not one of the repetitions");
	struct bl_result **first = in->runs + in->nresults;
	for (size_t k = 0; k < (nreps ? nreps : 1); k++) {
		struct bl_result *r = &in->results[in->nresults++];
		r->sc = in->plans[idx];
		r->emulator_status = -1;
		r->start_wall = in->info.start_wall;
		for (int p = 0; p < BL_PH_COUNT; p++)
			r->phases[p].guest_s = -1;
		json_t *o = nreps ? json_array_get(reps, k) : s;
		size_t back = enter(rd, nreps ? "repetitions" : NULL, nreps ? (long)k : -1);
		if (!json_is_object(o))
			return bad(rd, "", "not an object");
		if (read_brief(rd, o, in->dir, r) < 0 || read_ran_on(rd, o, in, r) < 0)
			return -1;
		leave(rd, back);
		if (k + 1 == show && read_full(rd, s, in->dir, r) < 0)
			return -1;
		first[k] = r;
	}
	in->variants[in->nvariants++] = (struct bl_variant_result){first, nreps ? nreps : 1};
	return 0;
}

static int read_variants(struct rd *rd, struct bl_report_in *in)
{
	json_t *arr, *s;
	size_t i, total = 0;
	if (get(rd, in->doc, "scenarios", T_ARR, &arr) < 0)
		return -1;
	json_array_foreach(arr, i, s)
	{
		json_t *reps = json_object_get(s, "repetitions");
		total += json_is_array(reps) && json_array_size(reps) ? json_array_size(reps) : 1;
	}
	size_t n = json_array_size(arr);
	in->plans = xcalloc(n + 1, sizeof(*in->plans));
	in->variants = xcalloc(n + 1, sizeof(*in->variants));
	in->results = xcalloc(total + 1, sizeof(*in->results));
	in->runs = xcalloc(total + 1, sizeof(*in->runs));
	json_array_foreach(arr, i, s)
	{
		size_t back = enter(rd, "scenarios", (long)i);
		if (read_variant(rd, s, in, i) < 0)
			return -1;
		leave(rd, back);
	}
	return 0;
}

/* "2026-11-22T03:15:00Z" as unix seconds */
static int parse_started(const char *s, int64_t *out)
{
	struct tm tm = {0};
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (!end || *end)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int read_selection(struct rd *rd, struct bl_report_in *in)
{
	json_t *sel, *n, *d;
	if (get(rd, in->doc, "selection", T_OBJ | T_NULL | T_OPT, &sel) < 0 || !json_is_object(sel))
		return sel && !json_is_null(sel) ? -1 : 0;
	size_t back = enter(rd, "selection", -1);
	if (get(rd, sel, "variants", T_INT, &n) < 0 || get(rd, sel, "digest", T_STR, &d) < 0)
		return -1;
	if (strlen(json_string_value(d)) != 64)
		return bad(rd, "digest", "not a SHA-256 in hex");
	in->info.selection.n = (size_t)json_integer_value(n);
	memcpy(in->info.selection.digest, json_string_value(d), 65);
	leave(rd, back);
	return 0;
}

/* the run's own fields */
static int read_run(struct rd *rd, struct bl_report_in *in)
{
	json_t *id, *started, *jobs, *repeat, *retry, *intr, *host, *hn;
	double dur;
	json_t *doc = in->doc;
	if (get(rd, doc, "run_id", T_STR, &id) < 0 ||
	    get(rd, doc, "started", T_STR, &started) < 0 ||
	    get_secs(rd, doc, "duration_s", 0, &dur) < 0 ||
	    get_str(rd, doc, "command", 0, &in->command) < 0 ||
	    get(rd, doc, "jobs", T_INT, &jobs) < 0 || get(rd, doc, "repeat", T_INT, &repeat) < 0 ||
	    get(rd, doc, "retry", T_INT | T_OPT, &retry) < 0 ||
	    get(rd, doc, "interrupted", T_BOOL, &intr) < 0 ||
	    get_str(rd, doc, "shard", T_OPT, &in->shard) < 0 ||
	    get(rd, doc, "host", T_OBJ, &host) < 0 || read_selection(rd, in) < 0)
		return -1;
	size_t back = enter(rd, "host", -1);
	if (get(rd, host, "hostname", T_STR, &hn) < 0)
		return -1;
	leave(rd, back);
	in->info = (struct bl_run_info){
	    .run_id = json_string_value(id),
	    .dir = in->dir,
	    .duration_ns = s_to_ns(dur),
	    .command = in->command,
	    .jobs = (int)json_integer_value(jobs),
	    .repeat = (int)json_integer_value(repeat),
	    .retry = retry ? (int)json_integer_value(retry) : 0,
	    .interrupted = json_is_true(intr),
	    .shard = in->shard,
	    .host = json_string_value(hn),
	    .selection = in->info.selection,
	};
	if (parse_started(json_string_value(started), &in->info.start_wall) < 0)
		return bad(rd, "started", "not a time as 2026-11-22T03:15:00Z");
	return 0;
}

/* the document, and the schema tag */
static int load_doc(struct bl_report_in *in)
{
	json_error_t e;
	char *data;
	size_t len;
	if (bl_read_file(in->path, &data, &len) < 0)
		return -1; /* the message names the file */
	in->doc = json_loadb(data, len, 0, &e);
	free(data);
	if (!in->doc)
		return bl_err("'%s':%d:%d: not valid JSON: %s", in->path, e.line, e.column, e.text);
	const char *schema = json_string_value(json_object_get(in->doc, "schema"));
	if (!json_is_object(in->doc) || !schema)
		return bl_err("'%s': not a bootlab report (no \"schema\" field)", in->path);
	if (strncmp(schema, "bootlab-report/", 15))
		return bl_err("'%s': not a bootlab report (schema '%s')", in->path, schema);
	if (strcmp(schema, BOOTLAB_REPORT_SCHEMA))
		return bl_err("'%s': report schema '%s' is newer than this bootlab (%s)", in->path,
			      schema, BOOTLAB_REPORT_SCHEMA);
	return 0;
}

int bl_report_read(const char *arg, struct bl_report_in *in)
{
	*in = (struct bl_report_in){0};
	if (bl_is_dir(arg)) {
		in->path = bl_path_join(arg, "report.json");
		in->dir = xstrdup(arg);
		if (!bl_file_exists(in->path))
			return bl_err("'%s': a folder without a report.json", arg);
	} else {
		in->path = xstrdup(arg);
		const char *slash = strrchr(arg, '/');
		in->dir = slash ? xstrndup(arg, (size_t)(slash - arg)) : xstrdup(".");
	}
	if (load_doc(in) < 0)
		return -1;
	struct rd rd = {.file = in->path, .at = STRBUF_INIT};
	int rc = read_run(&rd, in) < 0 || read_variants(&rd, in) < 0 ? -1 : 0;
	sb_release(&rd.at);
	return rc;
}

void bl_report_in_release(struct bl_report_in *in)
{
	for (size_t i = 0; i < in->nresults; i++)
		bl_result_release(&in->results[i]);
	for (size_t i = 0; in->plans && i < json_array_size(json_object_get(in->doc, "scenarios"));
	     i++)
		if (in->plans[i])
			bl_scenario_free(in->plans[i]);
	free(in->plans);
	free(in->results);
	free(in->runs);
	free(in->variants);
	free(in->command);
	free(in->shard);
	free(in->path);
	free(in->dir);
	json_decref(in->doc);
	*in = (struct bl_report_in){0};
}
