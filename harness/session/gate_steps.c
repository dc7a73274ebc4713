/* The steps of bootlab gate's plan, made here for the gate and again for
 * `bootlab repro` of a gate's repro folder (its repro.json's `gate`,
 * docs/repro.md): a LUKS passphrase typed at its prompt when there is
 * one, then pass when the agent on the root disk says hello as stage 2,
 * read /proc/mdstat there for a degraded stack, and power off. */
#include "session/session.h"
#include "util/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_gate_passphrase_check(const char *p)
{
	size_t n = strlen(p);
	if (!n)
		return bl_err("empty");
	if (n > BL_GATE_PASSPHRASE_MAX)
		return bl_err("longer than %d bytes", BL_GATE_PASSPHRASE_MAX);
	if (strpbrk(p, "\n\r"))
		return bl_err("holds a line break (it is typed as one line)");
	return 0;
}

/* wait for the prompt (a console line or an unfinished one), then type
 * the passphrase */
static int add_passphrase(struct bl_scenario *sc, const struct bl_gate_steps *gs)
{
	struct bl_step *st = bl_plan_add_step(sc, BL_STEP_CONSOLE_WAIT, "a passphrase prompt");
	st->regex = xstrdup("[Pp]assphrase");
	if (bl_regcomp(&st->re, st->regex, REG_EXTENDED | REG_NOSUB) < 0)
		return bl_err("cannot compile the passphrase prompt's regex");
	st->timeout_ms = gs->hello_timeout_ms;
	st = bl_plan_add_step(sc, BL_STEP_CONSOLE_SEND, "type the passphrase");
	st->text = xasprintf("%s\n", gs->passphrase);
	st->quiet_ms = 500; /* cryptsetup's terminal set-up flushes earlier input */
	return 0;
}

/* step names as the scenario loader makes them */
int bl_plan_gate_steps(struct bl_scenario *sc, const struct bl_gate_steps *gs)
{
	if (gs->passphrase && add_passphrase(sc, gs) < 0)
		return -1;
	struct bl_step *st =
	    bl_plan_add_step(sc, BL_STEP_HELLO, "the initramfs switched to the root disk");
	st->stage = 2;
	st->timeout_ms = gs->hello_timeout_ms;
	int n = 2;
	if (gs->read_mdstat) {
		st = bl_plan_add_step(sc, BL_STEP_AGENT, "2: agent read /proc/mdstat");
		st->request = json_pack("{s:s,s:s}", "op", "read", "path", "/proc/mdstat");
		n++;
	}
	char name[32];
	snprintf(name, sizeof(name), "%d: agent poweroff", n++);
	st = bl_plan_add_step(sc, BL_STEP_AGENT, name);
	st->request = json_pack("{s:s}", "op", "poweroff");
	snprintf(name, sizeof(name), "%d: outcome pass", n);
	st = bl_plan_add_step(sc, BL_STEP_EXPECT_OUTCOME, name);
	st->outcome = xstrdup("pass");
	bl_gate_steps_free(sc->gate);
	sc->gate = xcalloc(1, sizeof(*sc->gate));
	sc->gate->hello_timeout_ms = gs->hello_timeout_ms;
	sc->gate->passphrase = gs->passphrase ? xstrdup(gs->passphrase) : NULL;
	sc->gate->read_mdstat = gs->read_mdstat;
	return 0;
}
