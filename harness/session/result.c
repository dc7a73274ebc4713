/* Names of phases, and releasing results (outcome names: scenario/outcome.c). */
#include "session/session.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static const char *const phase_names[] = {
    [BL_PH_SPAWN] = "spawn",
    [BL_PH_CONSOLE] = "first-console",
    [BL_PH_RUN_INIT] = "run-init",
    [BL_PH_HELLO] = "agent-hello",
    [BL_PH_SWITCH_ROOT] = "switch-root",
    [BL_PH_HELLO2] = "stage2-hello",
    [BL_PH_END] = "end",
};

const char *bl_phase_name(enum bl_phase_id p)
{
	return phase_names[p];
}

void bl_result_release(struct bl_result *r)
{
	free(r->reason);
	free(r->panic_line);
	for (size_t i = 0; i < r->nkreports; i++)
		bl_kreport_release(&r->kreports[i]);
	free(r->kreports);
	for (size_t i = 0; i < r->nevents; i++)
		free(r->events[i].line);
	free(r->events);
	for (size_t i = 0; i < r->nsteps; i++) {
		free(r->steps[i].name);
		free(r->steps[i].message);
		json_decref(r->steps[i].reply);
	}
	free(r->steps);
	free(r->console_log);
	for (size_t i = 0; r->tail && r->tail[i]; i++)
		free(r->tail[i]);
	free(r->tail);
	free(r->last_phase);
	free(r->emulator_command);
	for (size_t i = 0; i < r->nhotplugs; i++) {
		free(r->hotplugs[i].disk);
		free(r->hotplugs[i].error);
	}
	free(r->hotplugs);
	free(r->connect);
	free(r->moved_from);
	free(r->moved_why);
	sl_release(&r->emulator_argv);
	free(r->kernel_cmdline);
	free(r->emulator_stderr);
	json_decref(r->hello);
	json_decref(r->hello2);
	bl_obs_release(&r->observed);
	free(r->kernel_image);
	free(r->initrd);
	free(r->work_dir);
	free(r->repro_dir);
	free(r->frozen.dump);
	free(r->ran_on.run_id);
	free(r->ran_on.shard);
	free(r->ran_on.host);
	memset(r, 0, sizeof(*r));
}

/* whether every repetition of attempt A passed; false when it has none */
static bool attempt_passed(const struct bl_variant_result *v, int a)
{
	bool any = false;
	for (size_t i = 0; i < v->nruns; i++) {
		const struct bl_result *r = v->runs[i];
		if ((r->attempt > 1 ? r->attempt : 1) != a)
			continue;
		any = true;
		if (r->outcome != BL_OUT_PASS)
			return false;
	}
	return any;
}

bool bl_variant_flaky(const struct bl_variant_result *v)
{
	bool passed = false, failed = false;
	for (size_t i = 0; i < v->nruns; i++) {
		int a = v->runs[i]->attempt > 1 ? v->runs[i]->attempt : 1;
		if (attempt_passed(v, a))
			passed = true;
		else
			failed = true;
	}
	return passed && failed;
}
