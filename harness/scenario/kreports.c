/* `fail-on:` and `expect-report:`: which kernel reports fail a boot, and
 * which the scenario provokes on purpose (docs/kernel-reports.md). Class
 * names are harness/console's. */
#include "scenario/check.h"
#include "scenario/plan.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

/* one class name (or all, default, none) at V into P */
static int add_class(const struct ynode *v, struct bl_kpolicy *p)
{
	char *name = NULL;
	if (ck_text(v, "fail-on", &name))
		return -1;
	int rc = bl_kpolicy_apply(p, name, false);
	free(name);
	return rc ? yerr(v, "%s", bl_errmsg()) : 0;
}

/* `fail-on: [warning, kasan]` or `fail-on: warning`: exactly those classes */
static int build_fail_on(struct bl_scenario *s, const struct ynode *x)
{
	s->kpolicy.fail = 0;
	if (x->kind == Y_SCALAR)
		return add_class(x, &s->kpolicy);
	if (ck_seq(x, "fail-on"))
		return -1;
	for (size_t i = 0; i < x->n; i++)
		if (add_class(x->kv[i], &s->kpolicy))
			return -1;
	return 0;
}

static int build_one_expect(struct sc_build *b, const struct ynode *m, struct bl_expect_report *e)
{
	static const char *const keys[] = {"class", "title", NULL};
	if (ck_map(m, "expect-report") || ck_keys(m, keys, "expect-report"))
		return -1;
	e->pos = sc_pos(b, m);
	const struct ynode *c = ymap_get(m, "class");
	if (!c)
		return yerr(m, "expect-report needs a 'class'");
	char *name = NULL;
	if (ck_text(c, "class", &name))
		return -1;
	e->cls = bl_kclass_parse(name);
	free(name);
	if (e->cls == BL_KC_NONE) {
		struct bl_kpolicy p = {0};
		bl_kpolicy_apply(&p, c->s, false);
		return yerr(c, "%s", bl_errmsg());
	}
	const struct ynode *t = ymap_get(m, "title");
	if (t && ck_regex(t, "title", &e->title, &e->title_re))
		return -1;
	return 0;
}

/* `expect-report: {class: warning, title: REGEX}` or a list of them */
static int build_expect(struct sc_build *b, const struct ynode *x)
{
	struct bl_scenario *s = b->s;
	size_t n = x->kind == Y_SEQ ? x->n : 1;
	s->expect_reports = xcalloc(n, sizeof(*s->expect_reports));
	for (size_t i = 0; i < n; i++) {
		if (build_one_expect(b, x->kind == Y_SEQ ? x->kv[i] : x, &s->expect_reports[i]))
			return -1;
		s->nexpect_reports++;
	}
	return 0;
}

int sc_kreports(struct sc_build *b, const struct ynode *fail_on, const struct ynode *expect)
{
	b->s->kpolicy = bl_kpolicy_default();
	int rc = 0;
	if (fail_on && build_fail_on(b->s, fail_on))
		rc = sc_fail(b);
	if (expect && build_expect(b, expect))
		rc = sc_fail(b);
	return rc;
}

void sc_kreports_free(struct bl_scenario *s)
{
	for (size_t i = 0; i < s->nexpect_reports; i++) {
		if (s->expect_reports[i].title)
			regfree(&s->expect_reports[i].title_re);
		free(s->expect_reports[i].title);
	}
	free(s->expect_reports);
}
