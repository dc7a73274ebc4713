/* harness/scenario internal: one merged mapping -> one validated plan. */
#ifndef BL_SCENARIO_PLAN_H
#define BL_SCENARIO_PLAN_H

#include "scenario/scenario.h"
#include "scenario/tree.h"

/* a file's errors are all reported, up to this many */
#define SC_MAX_ERRORS 20

/* the plan being built, the file names its positions point to, and the
 * errors found so far (one "FILE:LINE:COL: message" a line) */
struct sc_build {
	struct bl_scenario *s;
	char **files; /* becomes s->srcfiles */
	size_t nfiles;
	struct strbuf errs;
	int nerrs;
};

/* record bl_errmsg() as one more error of the file; -1 */
int sc_fail(struct sc_build *b);

/* where N was written, its file name owned by B */
struct bl_srcpos sc_pos(struct sc_build *b, const struct ynode *n);

/* NAME is the base name, VARIANT the part inside [] or NULL, FILE the
 * absolute path of the top file. Returns NULL with bl_errmsg() set. */
struct bl_scenario *sc_plan(const struct ynode *root, const char *name, const char *variant,
			    const char *file);

/* reply.c: refuse expectation AS of step ST (K its key, V its value) when
 * it can never pass: a field the hello or the op's reply never has, or a
 * value of another type than the field's (docs/protocol.md) */
int sc_check_expect(const struct bl_step *st, const struct bl_assert *as, const struct ynode *k,
		    const struct ynode *v);

/* disks.c: `disks:` and `arrays:` (either may be NULL) -> b->s->disks */
int sc_disks(struct sc_build *b, const struct ynode *disks, const struct ynode *arrays);
/* kreports.c: `fail-on:` and `expect-report:` (either may be NULL) ->
 * b->s->kpolicy and expect_reports; errors recorded in B, -1 */
int sc_kreports(struct sc_build *b, const struct ynode *fail_on, const struct ynode *expect);
void sc_kreports_free(struct bl_scenario *s);
/* does any filesystem of the plan hold the agent? */
bool sc_disks_have_agent(const struct bl_disk_plan *p);

#endif
