/* Report classes, their names, the fail policy, and whole logs parsed at
 * once (docs/kernel-reports.md). */
#include "console/console.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static const char *const class_names[BL_KC_COUNT] = {
    [BL_KC_NONE] = "none",
    [BL_KC_WARNING] = "warning",
    [BL_KC_BUG] = "bug",
    [BL_KC_OOPS] = "oops",
    [BL_KC_GPF] = "gpf",
    [BL_KC_KASAN] = "kasan",
    [BL_KC_UBSAN] = "ubsan",
    [BL_KC_KFENCE] = "kfence",
    [BL_KC_LOCKDEP] = "lockdep",
    [BL_KC_RCU_STALL] = "rcu-stall",
    [BL_KC_SOFT_LOCKUP] = "soft-lockup",
    [BL_KC_HARD_LOCKUP] = "hard-lockup",
    [BL_KC_HUNG_TASK] = "hung-task",
    [BL_KC_OOM] = "oom",
    [BL_KC_SCHED_ATOMIC] = "scheduling-while-atomic",
    [BL_KC_SLEEP_ATOMIC] = "sleep-in-atomic",
    [BL_KC_LIST_CORRUPTION] = "list-corruption",
    [BL_KC_REFCOUNT] = "refcount",
    [BL_KC_STACK_PROTECTOR] = "stack-protector",
    [BL_KC_STACK_OVERFLOW] = "stack-overflow",
    [BL_KC_PANIC] = "panic",
    [BL_KC_MODULE] = "module",
    [BL_KC_INIT] = "init",
};

const char *bl_kclass_name(enum bl_kclass c)
{
	return (unsigned)c < BL_KC_COUNT ? class_names[c] : NULL;
}

enum bl_kclass bl_kclass_parse(const char *name)
{
	for (int c = BL_KC_NONE + 1; c < BL_KC_COUNT; c++)
		if (!strcmp(name, class_names[c]))
			return (enum bl_kclass)c;
	return BL_KC_NONE;
}

static unsigned all_classes(void)
{
	return ((1u << BL_KC_COUNT) - 1) & ~1u;
}

struct bl_kpolicy bl_kpolicy_default(void)
{
	return (struct bl_kpolicy){.fail = all_classes() & ~(1u << BL_KC_INIT)};
}

bool bl_kpolicy_fails(const struct bl_kpolicy *p, enum bl_kclass c)
{
	return (unsigned)c < BL_KC_COUNT && c != BL_KC_NONE && (p->fail & (1u << c));
}

static unsigned class_bits(const char *name)
{
	if (!strcmp(name, "all"))
		return all_classes();
	if (!strcmp(name, "default"))
		return bl_kpolicy_default().fail;
	if (!strcmp(name, "none"))
		return 0;
	enum bl_kclass c = bl_kclass_parse(name);
	return c == BL_KC_NONE ? ~0u : 1u << c;
}

/* the bits of a class list ("warning,kasan", "all"); -1 with bl_errmsg()
 * naming an unknown class */
static int list_bits(const char *list, unsigned *out)
{
	char *copy = xstrdup(list), *save = NULL;
	int rc = 0;
	*out = 0;
	for (char *w = strtok_r(copy, ", ", &save); w && !rc; w = strtok_r(NULL, ", ", &save)) {
		unsigned bits = class_bits(w);
		if (bits == ~0u)
			rc = bl_err("unknown kernel report class '%s' (one of: warning, bug, oops, "
				    "gpf, kasan, ubsan, kfence, lockdep, rcu-stall, soft-lockup, "
				    "hard-lockup, hung-task, oom, scheduling-while-atomic, "
				    "sleep-in-atomic, list-corruption, refcount, stack-protector, "
				    "stack-overflow, panic, module, init; or all, default, none)",
				    w);
		else
			*out |= bits;
	}
	free(copy);
	return rc;
}

int bl_kpolicy_apply(struct bl_kpolicy *p, const char *list, bool allow)
{
	struct bl_kpolicy_override o = {0};
	if (bl_kpolicy_override_add(&o, list, allow) < 0)
		return -1;
	bl_kpolicy_override_apply(&o, p);
	return 0;
}

int bl_kpolicy_override_add(struct bl_kpolicy_override *o, const char *list, bool allow)
{
	unsigned bits;
	if (list_bits(list, &bits) < 0)
		return -1;
	/* the later option wins for the classes both name */
	if (allow) {
		o->allow |= bits;
		o->fail &= ~bits;
	} else {
		o->fail |= bits;
		o->allow &= ~bits;
	}
	return 0;
}

void bl_kpolicy_override_apply(const struct bl_kpolicy_override *o, struct bl_kpolicy *p)
{
	p->fail = (p->fail & ~o->allow) | o->fail;
}

void bl_kreport_release(struct bl_kreport *r)
{
	free(r->title);
	free(r->signature);
	free(r->body);
	for (size_t i = 0; i < r->nframes; i++)
		free(r->frames[i]);
	memset(r, 0, sizeof(*r));
}

void bl_kreport_copy(struct bl_kreport *dst, const struct bl_kreport *src)
{
	*dst = *src;
	dst->title = xstrdup(src->title);
	dst->signature = xstrdup(src->signature);
	dst->body = xstrdup(src->body);
	for (size_t f = 0; f < src->nframes; f++)
		dst->frames[f] = xstrdup(src->frames[f]);
}

/* the kernel's text of a log line: without bootlab's host time column
 * ("%10.6f  ") or a syslog "... kernel: " prefix */
static const char *log_text(const char *line)
{
	size_t n = strlen(line);
	if (n > 12 && line[10] == ' ' && line[11] == ' ' && line[9] >= '0' && line[9] <= '9')
		return line + 12;
	const char *k = strstr(line, " kernel: ");
	return k ? k + 9 : line;
}

static bool has_stamp(const char *t)
{
	double s;
	bl_printk_split(t, &s);
	return s >= 0;
}

void bl_kreports_from_text(const char *text, struct bl_kreport **out, size_t *n)
{
	char *copy = xstrdup(text);
	bool stamped = false;
	for (const char *p = copy; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (has_stamp(log_text(p)))
			stamped = true;
	struct bl_kparser *kp = bl_kparser_new();
	bl_kparser_require_stamps(kp, stamped);
	/* every line, empty ones too: report line numbers are the file's */
	for (char *line = copy; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		char *cr = strchr(line, '\r');
		if (cr)
			*cr = 0;
		bl_kparser_feed(kp, log_text(line));
		line = nl ? nl + 1 : NULL;
	}
	bl_kparser_finish(kp);
	size_t k;
	const struct bl_kreport *r = bl_kparser_reports(kp, &k);
	*out = xrealloc(*out, (*n + k) * sizeof(**out));
	for (size_t i = 0; i < k; i++)
		bl_kreport_copy(&(*out)[(*n)++], &r[i]);
	bl_kparser_free(kp);
	free(copy);
}
