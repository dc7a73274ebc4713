/* The observer's "observe" messages (docs/protocol.md, "observe") as
 * typed events. The guest is not trusted: every field is checked for its
 * type, range and size, and a message that fails is dropped with a
 * message naming the field; a hostile guest's flood stops at the caps. */
#include "session/session.h"
#include "util/util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define PATH_BYTES 4096 /* a path, an argument, mount options */
#define NAME_BYTES 255	/* a device's name, a file system type */
#define MODULE_BYTES 64 /* a module's name (the kernel's MODULE_NAME_LEN is 56) */
#define ARGV_MAX 4096	/* arguments of a program */

static const char *const kind_names[] = {
    [BL_OBS_START] = "start",	[BL_OBS_EXEC] = "exec",
    [BL_OBS_EXIT] = "exit",	[BL_OBS_SWITCH_ROOT] = "switch_root",
    [BL_OBS_MOUNT] = "mount",	[BL_OBS_UMOUNT] = "umount",
    [BL_OBS_MOVE] = "move",	[BL_OBS_REMOUNT] = "remount",
    [BL_OBS_MODULE] = "module", [BL_OBS_BLOCK] = "block",
};
static const char *const devtype_names[] = {
    [BL_OBS_DISK] = "disk", [BL_OBS_PARTITION] = "partition"};
static const char *const action_names[] = {
    [BL_OBS_ADD] = "add", [BL_OBS_REMOVE] = "remove", [BL_OBS_CHANGE] = "change"};

const char *bl_obs_kind_name(enum bl_obs_kind k)
{
	return kind_names[k];
}

static int name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

int bl_obs_kind_parse(const char *name)
{
	return name_index(kind_names, BL_ARRAY_SIZE(kind_names), name);
}

bool bl_obs_kind_is_sys(enum bl_obs_kind k)
{
	return k >= BL_OBS_MOUNT;
}

const char *bl_obs_devtype_name(enum bl_obs_devtype t)
{
	return devtype_names[t];
}

const char *bl_obs_action_name(enum bl_obs_action a)
{
	return action_names[a];
}

/* KEY, an integer in [MIN, MAX], into *OUT (left alone when absent and OPT) */
static int get_int(json_t *msg, const char *key, bool opt, long long min, long long max, int *out)
{
	json_t *v = json_object_get(msg, key);
	if (!v)
		return opt ? 0 : bl_err("field '%s': missing", key);
	if (!json_is_integer(v))
		return bl_err("field '%s': not an integer", key);
	long long x = json_integer_value(v);
	if (x < min || x > max)
		return bl_err("field '%s': %lld is not in [%lld, %lld]", key, x, min, max);
	*out = (int)x;
	return 0;
}

/* V, a string of at most MAX bytes with no NUL, as a new string in *OUT */
static int text_of(json_t *v, const char *key, size_t max, char **out)
{
	if (!json_is_string(v))
		return bl_err("field '%s': not a string", key);
	size_t len = json_string_length(v);
	if (len > max)
		return bl_err("field '%s': %zu bytes, more than %zu", key, len, max);
	if (strlen(json_string_value(v)) != len)
		return bl_err("field '%s': holds a NUL byte", key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* KEY's string into *OUT (NULL when absent and OPT) */
static int get_text(json_t *msg, const char *key, bool opt, size_t max, char **out)
{
	json_t *v = json_object_get(msg, key);
	if (!v)
		return opt ? 0 : bl_err("field '%s': missing", key);
	return text_of(v, key, max, out);
}

/* S is a name: letters, digits and the bytes of EXTRA, at least one */
static int check_name(const char *key, const char *s, const char *extra)
{
	if (!*s)
		return bl_err("field '%s': empty", key);
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr(extra, *s))
			return bl_err("field '%s': a byte 0x%02x not allowed in it", key,
				      (unsigned char)*s);
	return 0;
}

static int check_path(const char *key, const char *s)
{
	return s && s[0] != '/' ? bl_err("field '%s': not an absolute path", key) : 0;
}

/* one of NAMES, as its index */
static int get_enum(json_t *msg, const char *key, const char *const *names, size_t n, int *out)
{
	json_t *v = json_object_get(msg, key);
	if (!json_is_string(v))
		return bl_err("field '%s': %s", key, v ? "not a string" : "missing");
	*out = name_index(names, n, json_string_value(v));
	return *out < 0 ? bl_err("field '%s': not one of the values it may have", key) : 0;
}

static int parse_mount(json_t *m, struct bl_obs_mount *mt, enum bl_obs_kind kind)
{
	if (get_int(m, "mnt_id", false, 0, INT_MAX, &mt->id) < 0 ||
	    get_int(m, "parent_id", false, 0, INT_MAX, &mt->parent) < 0 ||
	    get_text(m, "target", false, PATH_BYTES, &mt->target) < 0 ||
	    get_text(m, "source", false, PATH_BYTES, &mt->source) < 0 ||
	    get_text(m, "fstype", false, NAME_BYTES, &mt->fstype) < 0 ||
	    get_text(m, "options", false, PATH_BYTES, &mt->options) < 0 ||
	    get_text(m, "fs_options", false, PATH_BYTES, &mt->fs_options) < 0 ||
	    get_text(m, "from", kind != BL_OBS_MOVE, PATH_BYTES, &mt->from) < 0)
		return -1;
	if (mt->from && kind != BL_OBS_MOVE)
		return bl_err("field 'from': only a move has one");
	return check_path("target", mt->target) < 0 || check_path("from", mt->from) < 0 ||
		       check_name("fstype", mt->fstype, "._-") < 0
		   ? -1
		   : 0;
}

static int parse_block(json_t *m, struct bl_obs_dev *d)
{
	int action, type;
	if (get_enum(m, "action", action_names, BL_ARRAY_SIZE(action_names), &action) < 0 ||
	    get_enum(m, "devtype", devtype_names, BL_ARRAY_SIZE(devtype_names), &type) < 0 ||
	    get_text(m, "devname", false, NAME_BYTES, &d->name) < 0 ||
	    get_text(m, "devpath", false, PATH_BYTES, &d->path) < 0 ||
	    check_name("devname", d->name, "._-:/+") < 0 || check_path("devpath", d->path) < 0)
		return -1;
	d->action = (enum bl_obs_action)action;
	d->type = (enum bl_obs_devtype)type;
	return 0;
}

/* a load ("action" add, or none: reports before unloads were seen) or an
 * unload ("remove") */
static int parse_module(json_t *m, struct bl_obs_dev *d)
{
	int action = BL_OBS_ADD;
	if ((json_object_get(m, "action") &&
	     get_enum(m, "action", action_names, BL_OBS_CHANGE, &action) < 0) ||
	    get_text(m, "name", false, MODULE_BYTES, &d->name) < 0)
		return -1;
	d->action = (enum bl_obs_action)action;
	return check_name("name", d->name, "_-");
}

int bl_obs_sys_parse(json_t *msg, struct bl_obs_event *e)
{
	json_t *init = json_object_get(msg, "initial");
	if (init && !json_is_boolean(init))
		return bl_err("field 'initial': not a boolean");
	e->initial = json_is_true(init);
	if (e->initial && e->kind != BL_OBS_MOUNT && e->kind != BL_OBS_BLOCK)
		return bl_err("field 'initial': a %s event is never there at start",
			      bl_obs_kind_name(e->kind));
	switch (e->kind) {
	case BL_OBS_MOUNT:
	case BL_OBS_UMOUNT:
	case BL_OBS_MOVE:
	case BL_OBS_REMOUNT:
		return parse_mount(msg, &e->mnt, e->kind);
	case BL_OBS_MODULE:
		return parse_module(msg, &e->dev);
	case BL_OBS_BLOCK:
		return parse_block(msg, &e->dev);
	default:
		return bl_err("'%s' is not a mount, module or block event",
			      bl_obs_kind_name(e->kind));
	}
}

/* exec's argv: a list of strings */
static int parse_argv(json_t *m, struct bl_obs_event *e)
{
	json_t *a = json_object_get(m, "argv");
	if (!json_is_array(a))
		return bl_err("field 'argv': %s", a ? "not a list" : "missing");
	if (json_array_size(a) > ARGV_MAX)
		return bl_err("field 'argv': more than %d arguments", ARGV_MAX);
	e->argv = xcalloc(json_array_size(a) + 1, sizeof(char *));
	for (size_t i = 0; i < json_array_size(a); i++)
		if (text_of(json_array_get(a, i), "argv", PATH_BYTES, &e->argv[i]) < 0)
			return -1;
	return 0;
}

/* start, exec, exit, switch_root */
static int parse_process(json_t *m, struct bl_obs_event *e)
{
	bool has_pid = e->kind != BL_OBS_START;
	e->status = -1;
	if (get_int(m, "pid", !has_pid, 1, INT_MAX, &e->pid) < 0 ||
	    get_int(m, "ppid", true, 0, INT_MAX, &e->ppid) < 0)
		return -1;
	if (e->kind == BL_OBS_START)
		return get_text(m, "init", true, PATH_BYTES, &e->exe);
	if (e->kind == BL_OBS_EXEC)
		return parse_argv(m, e) < 0 ? -1 : get_text(m, "exe", true, PATH_BYTES, &e->exe);
	if (e->kind != BL_OBS_EXIT)
		return 0;
	if (get_int(m, "signal", true, 1, 64, &e->signal) < 0 ||
	    get_int(m, "status", e->signal != 0, 0, 255, &e->status) < 0)
		return -1;
	if (e->signal)
		e->status = -1;
	return 0;
}

static int parse_event(json_t *m, struct bl_obs_event *e)
{
	json_t *t = json_object_get(m, "t_ns");
	int kind = bl_obs_kind_parse(json_string_value(json_object_get(m, "event")));
	if (kind < 0)
		return bl_err("field 'event': missing, or not an event bootlab knows");
	e->kind = (enum bl_obs_kind)kind;
	if (!json_is_integer(t) || json_integer_value(t) < 0)
		return bl_err("field 't_ns': %s", t ? "not an integer >= 0" : "missing");
	e->t_ns = json_integer_value(t);
	return bl_obs_kind_is_sys(e->kind) ? bl_obs_sys_parse(m, e) : parse_process(m, e);
}

static int check_caps(const struct bl_observed *o, const struct bl_obs_event *e)
{
	if (o->n >= BL_OBS_EVENTS_MAX)
		return bl_err("more than %d events", BL_OBS_EVENTS_MAX);
	if (bl_obs_kind_is_sys(e->kind) && o->nsys >= BL_OBS_SYS_MAX)
		return bl_err("more than %d mount, module and block events", BL_OBS_SYS_MAX);
	return 0;
}

int bl_obs_add(struct bl_observed *o, json_t *msg, size_t mark)
{
	struct bl_obs_event e = {.console = mark};
	if (parse_event(msg, &e) < 0 || check_caps(o, &e) < 0) {
		bl_obs_event_release(&e);
		if (!o->dropped++)
			o->dropped_why = xstrdup(bl_errmsg());
		return -1;
	}
	BL_GROW(o->ev, o->n, o->a);
	o->ev[o->n++] = e;
	o->nsys += bl_obs_kind_is_sys(e.kind);
	return 0;
}

void bl_obs_event_release(struct bl_obs_event *e)
{
	for (size_t j = 0; e->argv && e->argv[j]; j++)
		free(e->argv[j]);
	free(e->argv);
	free(e->exe);
	char *s[] = {e->mnt.target,	e->mnt.source, e->mnt.fstype, e->mnt.options,
		     e->mnt.fs_options, e->mnt.from,   e->dev.name,   e->dev.path};
	for (size_t i = 0; i < BL_ARRAY_SIZE(s); i++)
		free(s[i]);
	memset(e, 0, sizeof(*e));
}

void bl_obs_release(struct bl_observed *o)
{
	for (size_t i = 0; i < o->n; i++)
		bl_obs_event_release(&o->ev[i]);
	free(o->ev);
	free(o->dropped_why);
	memset(o, 0, sizeof(*o));
}
