/* What an `expect:` can find in the agent's hello and replies: every field
 * docs/protocol.md documents (and guest/init-agent writes), with the JSON
 * types it can have. An expectation on a field that is never there, or with
 * a value of a type the field never has, can never pass: it is refused when
 * the file loads, at its position. */
#include "scenario/check.h"
#include "scenario/plan.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

enum { T_STR = 1, T_NUM = 2, T_BOOL = 4, T_NULL = 8, T_ARR = 16, T_OBJ = 32 };

struct rfield;
struct rtype {
	unsigned is;		     /* T_* bits: what the value can be */
	const struct rtype *elem;    /* T_ARR: what its elements are */
	const struct rfield *fields; /* T_OBJ: every field it can have */
};

struct rfield {
	const char *name;
	const struct rtype *type;
};

static const struct rtype t_str = {T_STR}, t_num = {T_NUM}, t_bool = {T_BOOL};
static const struct rtype t_str_null = {T_STR | T_NULL}, t_num_null = {T_NUM | T_NULL};
static const struct rtype t_strs = {T_ARR, &t_str};

#define OBJ(name, ...)                                                                             \
	static const struct rfield name##_f[] = {__VA_ARGS__, {NULL, NULL}};                       \
	static const struct rtype name = {T_OBJ, NULL, name##_f}
#define LIST(name, of) static const struct rtype name = {T_ARR, &of}

/* a module load (hello `modules`, op modules `results`), an md member */
OBJ(t_module, {"path", &t_str}, {"ok", &t_bool}, {"errno", &t_num}, {"error", &t_str},
    {"via", &t_str});
LIST(t_modules, t_module);
OBJ(t_member, {"member", &t_str}, {"ok", &t_bool}, {"errno", &t_num}, {"error", &t_str});
LIST(t_members, t_member);
OBJ(t_fd, {"fd", &t_num}, {"open", &t_bool}, {"rdev", &t_str}, {"type", &t_str});
LIST(t_fds, t_fd);
OBJ(t_rootfs, {"magic", &t_str}, {"type", &t_str}, {"mode", &t_str});
OBJ(t_root, {"device", &t_str}, {"fstype", &t_str});
OBJ(t_entry, {"name", &t_str}, {"type", &t_str});
LIST(t_entries, t_entry);
OBJ(t_mount, {"source", &t_str}, {"target", &t_str}, {"fstype", &t_str}, {"options", &t_str});
LIST(t_mounts, t_mount);

static const struct rfield hello_f[] = {
    {"type", &t_str},	{"v", &t_num},	       {"stage", &t_num},   {"pid", &t_num},
    {"arch", &t_str},	{"kernel", &t_str},    {"channel", &t_str}, {"fds", &t_fds},
    {"argv", &t_strs},	{"env", &t_strs},      {"cmdline", &t_str}, {"boottime_ns", &t_num},
    {"now_ns", &t_num}, {"rootfs", &t_rootfs}, {"modlist", &t_str}, {"modules", &t_modules},
    {"errno", &t_num},	{"error", &t_str},     {"root", &t_root},   {"since_switch_ns", &t_num},
    {NULL, NULL}};
static const struct rfield stat_f[] = {{"type", &t_str},  {"mode", &t_str},   {"uid", &t_num},
				       {"gid", &t_num},	  {"size", &t_num},   {"nlink", &t_num},
				       {"ino", &t_num},	  {"dev", &t_str},    {"rdev", &t_str},
				       {"mtime", &t_num}, {"target", &t_str}, {NULL, NULL}};
static const struct rfield read_f[] = {
    {"data", &t_str}, {"hex", &t_str}, {"size", &t_num}, {"truncated", &t_bool}, {NULL, NULL}};
static const struct rfield sha256_f[] = {{"sha256", &t_str}, {"size", &t_num}, {NULL, NULL}};
static const struct rfield list_f[] = {{"entries", &t_entries}, {NULL, NULL}};
static const struct rfield target_f[] = {{"target", &t_str}, {NULL, NULL}};
static const struct rfield size_f[] = {{"size", &t_num}, {NULL, NULL}};
static const struct rfield copy_f[] = {{"files", &t_num}, {"bytes", &t_num}, {NULL, NULL}};
static const struct rfield mounts_f[] = {{"mounts", &t_mounts}, {NULL, NULL}};
static const struct rfield modules_f[] = {{"results", &t_modules}, {NULL, NULL}};
static const struct rfield md_f[] = {{"added", &t_members},   {"readded", &t_members},
				     {"members", &t_strs},    {"state", &t_str_null},
				     {"mdstat", &t_str_null}, {NULL, NULL}};
static const struct rfield run_f[] = {{"status", &t_num_null}, {"signal", &t_num_null},
				      {"output", &t_str},      {"truncated", &t_bool},
				      {"timed_out", &t_bool},  {NULL, NULL}};
static const struct rfield action_f[] = {{"action", &t_str}, {NULL, NULL}};
static const struct rfield none_f[] = {{NULL, NULL}};

/* every reply has these; an error reply has nothing else */
static const struct rfield reply_f[] = {{"id", &t_num},	   {"ok", &t_bool},	{"errno", &t_num},
					{"error", &t_str}, {"message", &t_str}, {NULL, NULL}};

/* each op's own result fields (docs/protocol.md, "Requests from the harness") */
static const struct {
	const char *op;
	const struct rfield *fields;
} op_fields[] = {
    {"info", hello_f},	   {"stat", stat_f},	   {"read", read_f},	    {"sha256", sha256_f},
    {"list", list_f},	   {"readlink", target_f}, {"write", size_f},	    {"mkdir", none_f},
    {"mknod", none_f},	   {"symlink", none_f},	   {"chmod", none_f},	    {"copy", copy_f},
    {"mount", none_f},	   {"umount", none_f},	   {"mounts", mounts_f},    {"modules", modules_f},
    {"md_assemble", md_f}, {"run", run_f},	   {"switch_root", none_f}, {"pivot_root", none_f},
    {"kill", none_f},	   {"sync", none_f},	   {"poweroff", action_f},  {"reboot", action_f},
};

static const struct rfield *find(const struct rfield *f, const char *name)
{
	for (; f && f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

/* "text", "a list of text", "a number or null", "{name, type}"... into SB */
static void describe(struct strbuf *sb, const struct rtype *t)
{
	switch (t->is & ~T_NULL) {
	case T_STR:
		sb_adds(sb, "text");
		break;
	case T_NUM:
		sb_adds(sb, "a number");
		break;
	case T_BOOL:
		sb_adds(sb, "true or false");
		break;
	case T_ARR:
		sb_adds(sb, "a list of ");
		describe(sb, t->elem);
		break;
	default: /* a mapping: {its, fields} */
		for (const struct rfield *f = t->fields; f->name; f++)
			sb_addf(sb, "%s%s", f == t->fields ? "{" : ", ", f->name);
		sb_adds(sb, "}");
		break;
	}
	if (t->is & T_NULL)
		sb_adds(sb, " or null");
}

static unsigned json_kind(const json_t *v)
{
	if (json_is_string(v))
		return T_STR;
	if (json_is_number(v))
		return T_NUM;
	if (json_is_boolean(v))
		return T_BOOL;
	if (json_is_null(v))
		return T_NULL;
	return json_is_array(v) ? T_ARR : T_OBJ;
}

/* the names of FIELDS (and MORE, which may be NULL), NULL-terminated */
static const char **names(const struct rfield *fields, const struct rfield *more)
{
	size_t n = 0;
	const char **v = xcalloc(32, sizeof(*v));
	for (const struct rfield *f = fields; f && f->name && n < 31; f++)
		v[n++] = f->name;
	for (const struct rfield *f = more; f && f->name && n < 31; f++)
		v[n++] = f->name;
	return v;
}

static int unknown_field(const struct ynode *k, const char *name, const char *in,
			 const struct rfield *fields, const struct rfield *more)
{
	const char **v = names(fields, more);
	const char *sug = ck_suggest(name, v);
	if (sug)
		yerr(k, "%s has no field '%s' (did you mean '%s'?)", in, name, sug);
	else
		yerr(k, "%s has no field '%s' (it has %s)", in, name,
		     v[0] ? ck_list(v) : "no fields");
	free(v);
	return -1;
}

/* can JSON value V ever be (or, in a mapping, be part of) a value of type
 * T? Mappings are checked key by key: each given key must be a field. */
static bool fits(const json_t *v, const struct rtype *t)
{
	unsigned k = json_kind(v);
	const char *key;
	size_t i;
	json_t *el;
	if (!(t->is & k))
		return false;
	if (k == T_ARR)
		json_array_foreach(v, i, el) if (!fits(el, t->elem)) return false;
	if (k == T_OBJ)
		json_object_foreach((json_t *)v, key, el)
		{
			const struct rfield *f = find(t->fields, key);
			if (!f || !fits(el, f->type))
				return false;
		}
	return true;
}

/* the type at the end of K's field path, starting in TOP (or MORE); NULL
 * when it is not known. -1 when the path can never lead anywhere: a field
 * IN ("the hello") never has, a list indexed by a name, a scalar's field */
static int walk(const struct ynode *k, const char *in, const struct rfield *top,
		const struct rfield *more, const struct rtype **out)
{
	char *copy = xstrdup(k->s), *save = NULL;
	const struct rtype *t = NULL;
	int rc = 0;
	for (char *tok = strtok_r(copy, ".", &save); tok && !rc; tok = strtok_r(NULL, ".", &save)) {
		const struct rfield *f = NULL;
		if (t && t->is == T_ARR) {
			if (tok[0] < '0' || tok[0] > '9' || tok[strspn(tok, "0123456789")])
				rc = yerr(k, "'%s': a list is indexed by number, not '%s'", k->s,
					  tok);
			t = t->elem;
			continue;
		}
		if (t && !t->fields) {
			struct strbuf sb = STRBUF_INIT;
			describe(&sb, t);
			rc = yerr(k, "'%s': '%s' is never there ('%.*s' is %s)", k->s, tok,
				  (int)(tok - copy - 1), k->s, sb_str(&sb));
			sb_release(&sb);
			continue;
		}
		if (!(f = find(t ? t->fields : top, tok)) && !t)
			f = find(more, tok);
		if (f) {
			t = f->type;
			continue;
		}
		char *where =
		    t ? xasprintf("'%.*s' in %s", (int)(tok - copy - 1), k->s, in) : xstrdup(in);
		rc = unknown_field(k, tok, where, t ? t->fields : top, t ? NULL : more);
		free(where);
	}
	free(copy);
	*out = t;
	return rc;
}

/* what ST's expectations look into: the fields of the hello, or of the
 * reply to its op (TOP, then MORE), named in IN; false for an op the agent
 * does not know */
static bool doc_fields(const struct bl_step *st, const struct rfield **top,
		       const struct rfield **more, char in[64])
{
	*top = hello_f;
	*more = NULL;
	snprintf(in, 64, "the hello");
	if (st->kind != BL_STEP_AGENT)
		return true;
	const char *op = json_string_value(json_object_get(st->request, "op"));
	for (size_t i = 0; i < BL_ARRAY_SIZE(op_fields); i++)
		if (op && !strcmp(op_fields[i].op, op)) {
			*top = st->expect_error ? reply_f : op_fields[i].fields;
			*more = st->expect_error ? NULL : reply_f;
			snprintf(in, 64, "%s reply to '%s'", st->expect_error ? "an error" : "the",
				 op);
			return true;
		}
	return false;
}

/* AS compares field K with a value (at V) that WANT never is; ELEM: WANT is
 * the type of the list's elements */
static int misfit(const struct bl_assert *as, const struct ynode *k, const struct ynode *v,
		  const struct rtype *want, bool elem)
{
	const char *verb = elem ? "is never in" : "never equals";
	if (want->is == T_BOOL && json_is_string(as->value))
		return yerr(v,
			    "'%s' is true or false, so '%s' %s it (yes, no, on and off are "
			    "text in YAML 1.2)",
			    k->s, json_string_value(as->value), verb);
	struct strbuf sb = STRBUF_INIT;
	describe(&sb, want);
	char *val = json_dumps(as->value, JSON_COMPACT | JSON_ENCODE_ANY);
	yerr(v, "'%s' %s %s, so %s %s it%s", k->s, elem ? "holds" : "is", sb_str(&sb),
	     val ? val : "this", verb,
	     json_is_null(as->value) ? " (an empty value is null; write \"\" for empty text)" : "");
	free(val);
	sb_release(&sb);
	return -1;
}

int sc_check_expect(const struct bl_step *st, const struct bl_assert *as, const struct ynode *k,
		    const struct ynode *v)
{
	const struct rfield *top, *more;
	const struct rtype *t;
	char in[64];
	if (!doc_fields(st, &top, &more, in))
		return 0;
	if (walk(k, in, top, more, &t))
		return -1;
	/* matches, and contains on what is not a list, compare the field's
	 * text: anything can */
	bool elem = as->op == BL_AS_CONTAINS && t && t->is == T_ARR;
	if (!t || (as->op != BL_AS_EQUALS && !elem))
		return 0;
	const struct rtype *want = elem ? t->elem : t;
	return fits(as->value, want) ? 0 : misfit(as, k, v, want, elem);
}
