/* harness/scenario internal: one merged mapping -> one validated plan. */
#ifndef BL_SCENARIO_PLAN_H
#define BL_SCENARIO_PLAN_H

#include "scenario/scenario.h"
#include "scenario/tree.h"

/* NAME is the base name, VARIANT the part inside [] or NULL, FILE the
 * absolute path of the top file. Returns NULL with bl_errmsg() set. */
struct bl_scenario *sc_build(const struct ynode *root, const char *name, const char *variant,
			     const char *file);

#endif
