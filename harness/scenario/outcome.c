/* The names of outcomes and panic reasons: what a scenario's `outcome:`
 * and `panic: {reason:}` steps expect and what harness/session decides
 * and reports. They live here, not in harness/session, because the
 * session depends on the plan and not the other way round
 * (docs/architecture.md). */
#include "scenario/scenario.h"

#include <string.h>

static const char *const outcome_names[] = {
    [BL_OUT_PASS] = "pass",
    [BL_OUT_FAIL] = "fail",
    [BL_OUT_PANIC] = "panic",
    [BL_OUT_REBOOT] = "reboot",
    [BL_OUT_TIMEOUT] = "timeout",
    [BL_OUT_EMU_ERROR] = "emulator-error",
    [BL_OUT_SETUP_ERROR] = "setup-error",
    [BL_OUT_INTERRUPTED] = "interrupted",
    NULL,
};

static const char *const panic_names[] = {
    [BL_PANIC_NONE] = "none",
    [BL_PANIC_KILL_INIT] = "kill-init",
    [BL_PANIC_NO_INIT] = "no-init",
    [BL_PANIC_VFS] = "vfs",
    [BL_PANIC_REQUESTED_INIT] = "requested-init",
    [BL_PANIC_BUILTIN_UNPACK] = "builtin-unpack",
    [BL_PANIC_OTHER] = "other",
    NULL,
};

const char *const *bl_outcome_names(void)
{
	return outcome_names;
}

const char *bl_outcome_name(enum bl_outcome o)
{
	return outcome_names[o];
}

/* S's index in NAMES (NULL-terminated), or -1 */
static int find(const char *const *names, const char *s)
{
	for (int i = 0; s && names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

int bl_outcome_parse(const char *s, enum bl_outcome *o)
{
	int i = find(outcome_names, s);
	if (i >= 0)
		*o = (enum bl_outcome)i;
	return i >= 0 ? 0 : -1;
}

const char *const *bl_panic_reason_names(void)
{
	return panic_names;
}

const char *bl_panic_reason_name(enum bl_panic_reason r)
{
	return panic_names[r];
}

int bl_panic_reason_parse(const char *s, enum bl_panic_reason *r)
{
	int i = find(panic_names, s);
	if (i >= 0)
		*r = (enum bl_panic_reason)i;
	return i >= 0 ? 0 : -1;
}
