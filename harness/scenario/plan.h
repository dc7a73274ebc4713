/* harness/scenario internal: one merged mapping -> one validated plan. */
#ifndef BL_SCENARIO_PLAN_H
#define BL_SCENARIO_PLAN_H

#include "scenario/scenario.h"
#include "scenario/tree.h"

/* the plan being built, and the file names its positions point to */
struct sc_build {
	struct bl_scenario *s;
	char **files; /* becomes s->srcfiles */
	size_t nfiles;
};

/* where N was written, its file name owned by B */
struct bl_srcpos sc_pos(struct sc_build *b, const struct ynode *n);

/* NAME is the base name, VARIANT the part inside [] or NULL, FILE the
 * absolute path of the top file. Returns NULL with bl_errmsg() set. */
struct bl_scenario *sc_plan(const struct ynode *root, const char *name, const char *variant,
			    const char *file);

/* disks.c: `disks:` and `arrays:` (either may be NULL) -> b->s->disks */
int sc_disks(struct sc_build *b, const struct ynode *disks, const struct ynode *arrays);
/* does any filesystem of the plan hold the agent? */
bool sc_disks_have_agent(const struct bl_disk_plan *p);

#endif
