/* bootlab repro REPORT_DIR/VARIANT: boot a variant of a run again from
 * its repro folder (docs/repro.md): the same kernel, initrd and disk
 * images (each checked against its SHA-256), the same machine and kernel
 * command line, the scenario's steps when its file is unchanged (a gate's
 * steps made again from the record), with the console on this terminal. The last lines are the
 * outcome and whether it is the one recorded. */
#include "cli/cli.h"
#include "session/session.h"
#include "util/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char repro_usage[] =
    "usage: bootlab repro [--gdb] [--freeze[=T] [--dump-memory]] REPORT_DIR/VARIANT\n"
    "\n"
    "Boot a variant of a run again from its repro folder, which bootlab run and\n"
    "gate keep in the report folder for every variant that did not pass (for\n"
    "every variant with --keep): the same kernel, initrd and disks (checked\n"
    "against their SHA-256), machine and kernel command line, and the\n"
    "scenario's steps when its file is unchanged (a gate's own steps for a\n"
    "gate's boot). The console is on this terminal (stdin goes to the guest;\n"
    "Ctrl-] ends the boot). The last lines are the outcome and the recorded\n"
    "one.\n"
    "\n"
    "options:\n"
    "  --gdb        QEMU's gdb stub on a free port, the guest stopped until gdb\n"
    "               continues; prints the gdb command with the kernel's vmlinux\n"
    "               (adds nokaslr; the boot's deadline becomes 24h)\n"
    "  --freeze[=T] QEMU only: a guest that panics (panic=0 instead of -1) or\n"
    "               reaches a deadline is stopped, not ended, and held for T\n"
    "               (default 1h) or until SIGINT/SIGTERM, Ctrl-] or QEMU exits;\n"
    "               prints QEMU's pid, its monitor.sock and qmp.sock and the gdb\n"
    "               command (adds nokaslr; docs/repro.md)\n"
    "  --dump-memory  with --freeze: the frozen guest's memory as an ELF core in\n"
    "               the repro folder, repro-<id>.core\n"
    "  -h, --help   this text\n"
    "\n"
    "exit status: as bootlab boot's (0 pass, 1 panic, reboot, fail or timeout),\n"
    "2 bad usage or a repro folder that is incomplete or no longer matches its\n"
    "hashes, 3 emulator or setup error, 130 interrupted\n";

/* a plan made in memory: a gate's steps made again, or none */
static struct bl_scenario *memory_plan(const struct bl_repro *rec)
{
	struct bl_scenario *sc = bl_plan_new(rec->variant, "bootlab repro");
	sc->timeout_ms = rec->timeout_ms;
	if (rec->gate && bl_plan_gate_steps(sc, rec->gate) < 0) {
		bl_scenario_free(sc);
		return NULL;
	}
	return sc;
}

/* the variant named REC->variant of its scenario file (unchanged: its
 * hash was checked), or the plan made in memory again */
static struct bl_scenario *repro_plan(const struct bl_repro *rec, struct bl_scenario_set *set)
{
	struct bl_scenario *sc = NULL;
	if (!rec->scenario) {
		if (!(sc = memory_plan(rec)))
			return NULL;
	} else if (bl_scenario_load(rec->scenario, NULL, set) < 0) {
		return NULL;
	}
	for (size_t i = 0; i < set->n && !sc; i++)
		if (!strcmp(set->v[i]->name, rec->variant))
			sc = set->v[i];
	if (!sc) {
		struct strbuf name = STRBUF_INIT; /* a report may come from anywhere */
		sb_add_terminal(&name, rec->variant);
		bl_err("%s/repro.json: field 'variant': '%s' has no variant '%s'", rec->dir,
		       rec->scenario, sb_str(&name));
		sb_release(&name);
		return NULL;
	}
	/* the run's --arch/--backend do not change a variant's name: the
	 * record says where it booted */
	bl_plan_set(&sc->arch, rec->arch);
	bl_plan_set(&sc->backend, rec->backend);
	sc->observe = rec->observe;
	return sc;
}

/* the first step that failed, which says that the steps ran again (a
 * boot deadline's reason names none) */
static void failed_step(const struct bl_result *r)
{
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct bl_step_result *s = &r->steps[i];
		if (s->passed || s->skipped)
			continue;
		struct strbuf name = STRBUF_INIT, why = STRBUF_INIT; /* escaped */
		sb_add_terminal(&name, s->name);
		sb_add_terminal(&why, s->message ? s->message : "failed");
		printf("step '%s': %s\n", sb_str(&name), sb_str(&why));
		sb_release(&name);
		sb_release(&why);
		return;
	}
}

/* the recorded outcome and this one's, and whether they are the same */
static void repro_verdict(const struct bl_repro *rec, const struct bl_result *r)
{
	failed_step(r);
	struct strbuf sb = STRBUF_INIT; /* the guest's words, escaped */
	sb_add_terminal(&sb, rec->reason ? rec->reason : "");
	printf("recorded: %s (%s)\n", bl_outcome_name(rec->outcome), sb_str(&sb));
	printf("repro: %s outcome (%s)\n", rec->outcome == r->outcome ? "same" : "different",
	       bl_outcome_name(r->outcome));
	sb_release(&sb);
}

/* the options of bootlab repro */
struct repro_args {
	const char *dir;
	bool gdb;
	struct bl_freeze_opts freeze;
};

static int repro_boot(const struct bl_repro *rec, const struct bl_scenario *sc, const char *workdir,
		      const struct repro_args *a)
{
	struct bl_prepared prep;
	if (bl_repro_prepare(rec, workdir, &prep) < 0) {
		bl_prepared_release(&prep);
		fprintf(stderr, "bootlab repro: %s\n", bl_errmsg());
		return BL_EXIT_INFRA;
	}
	struct bl_result r = {0};
	int rc = cli_session("repro", sc, &prep, workdir, a->gdb, &a->freeze, &r);
	if (r.sc)
		repro_verdict(rec, &r);
	bl_result_release(&r);
	bl_prepared_release(&prep);
	return rc;
}

/* the options: -1 to go on with DIR, else the exit status */
static int repro_parse(int argc, char **argv, struct repro_args *a)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"gdb", no_argument, NULL, 'g'},
	    {"freeze", optional_argument, NULL, CLI_OPT_FREEZE},
	    {"dump-memory", no_argument, NULL, CLI_OPT_DUMP_MEMORY},
	    {NULL, 0, NULL, 0}};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'g') {
			a->gdb = true;
			continue;
		}
		if (c == CLI_OPT_FREEZE || c == CLI_OPT_DUMP_MEMORY) {
			if (cli_freeze_option("repro", &a->freeze, c, optarg) < 0)
				return BL_EXIT_USAGE;
			continue;
		}
		if (c != 'h')
			return cli_option_error("repro", c, argv, repro_usage);
		fputs(repro_usage, stdout);
		return BL_EXIT_OK;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "bootlab repro: %s\n%s",
			optind < argc ? "one repro folder, please" : "a repro folder is required",
			repro_usage);
		return BL_EXIT_USAGE;
	}
	a->dir = argv[optind];
	return -1;
}

int cmd_repro(int argc, char **argv)
{
	struct repro_args a = {.freeze.hold_ms = BL_FREEZE_HOLD_MS};
	int rc = repro_parse(argc, argv, &a);
	if (rc >= 0)
		return rc;
	const char *dir = a.dir;
	struct bl_repro rec;
	struct bl_scenario_set set = {0};
	struct bl_scenario *sc = NULL;
	char *workdir = NULL, *dump = NULL;
	if (bl_repro_read(dir, &rec) < 0 || !(sc = repro_plan(&rec, &set))) {
		fprintf(stderr, "bootlab repro: %s\n", bl_errmsg());
		rc = BL_EXIT_USAGE;
	} else if ((rc = cli_freeze_check("repro", &a.freeze, rec.backend)) != 0) {
		/* refused, said */
	} else if (!(workdir = bl_mktemp_dir("repro"))) {
		fprintf(stderr, "bootlab repro: %s\n", bl_errmsg());
		rc = BL_EXIT_INFRA;
	} else {
		if (a.gdb)
			sc->timeout_ms = CLI_GDB_TIMEOUT_MS;
		if (a.freeze.dump)
			a.freeze.dump_path = dump = cli_freeze_dump_path(dir, "repro");
		rc = repro_boot(&rec, sc, workdir, &a);
		bl_rm_rf(workdir);
		free(workdir);
	}
	free(dump);
	if (sc && !rec.scenario)
		bl_scenario_free(sc);
	bl_scenario_set_release(&set);
	bl_repro_release(&rec);
	return rc;
}
