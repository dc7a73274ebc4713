/* bootlab boot: one interactive boot with the console on the terminal,
 * for reproducing a panic by hand. No scenario, no agent: the kernel, the
 * user's archives (stacked in the order given) and a command line. The
 * guest's console is copied to stdout as it comes and stdin goes to the
 * guest (the terminal in raw mode, restored on every way out; Ctrl-] ends
 * the boot). When the guest ends, the last line says the typed outcome:
 *
 *   outcome: panic (attempted to kill init, exit status 7)
 *
 * and the exit status is 0 only for pass: the guest powered off or halted
 * by itself, or a console line matched --expect (docs/machines.md, "How a
 * boot ends"). */
#include "cli/cli.h"
#include "kernel/kernel.h"
#include "scenario/scenario.h"
#include "session/session.h"
#include "util/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char boot_usage[] =
    "usage: bootlab boot --kernel K [--initrd A]... [--append STR] [--arch A]\n"
    "                    [--backend B] [--machine M] [--memory SIZE] [--timeout T]\n"
    "                    [--expect REGEX] [--observe] [--gdb]\n"
    "                    [--freeze[=T] [--dump-memory]]\n"
    "\n"
    "Boot kernel K once with the console on this terminal (stdin goes to the\n"
    "guest; Ctrl-] ends the boot). The archives are stacked in the order given\n"
    "into one initrd. When the guest ends, the last line is its typed outcome,\n"
    "e.g. 'outcome: panic (attempted to kill init, exit status 7)'.\n"
    "\n"
    "options:\n"
    "  --kernel K       bzImage, vmlinux, arm64 Image, a UML linux binary, or\n"
    "                   x86_64|aarch64|um for bootlab's cached default build\n"
    "  --initrd A       an archive (repeatable; stacked in order)\n"
    "  --append STR     kernel command line words (bootlab adds console=,\n"
    "                   panic=-1 unless given)\n"
    "  --arch A         x86_64 or aarch64 (default: the kernel's)\n"
    "  --backend B      qemu or uml (default: uml for a UML kernel, else qemu)\n"
    "  --machine M      QEMU machine: microvm, q35, pc, virt (default: by kernel)\n"
    "  --memory SIZE    guest memory, e.g. 256M (default 256M)\n"
    "  --timeout T      end the boot after T (1ms to 24h, e.g. 30s, 5m; default 10m)\n"
    "  --expect REGEX   pass as soon as a console line matches REGEX (extended\n"
    "                   regex), then end the boot\n"
    "  --observe        trace the initrd's own init in stage 1 (every program it\n"
    "                   runs and how it ended; why PID 1 exited: docs/observe.md)\n"
    "  --gdb            QEMU's gdb stub on a free port, the guest stopped until gdb\n"
    "                   continues; prints the gdb command with the kernel's vmlinux\n"
    "                   (adds nokaslr; the deadline is 24h unless --timeout)\n"
    "  --freeze[=T]     QEMU only: a guest that panics (panic=0 instead of -1) or\n"
    "                   reaches the deadline is stopped, not ended, and held for T\n"
    "                   (default 1h) or until SIGINT/SIGTERM, Ctrl-] or QEMU exits;\n"
    "                   prints QEMU's pid, its monitor.sock and qmp.sock and the gdb\n"
    "                   command (adds nokaslr; docs/repro.md)\n"
    "  --dump-memory    with --freeze: the frozen guest's memory as an ELF core,\n"
    "                   ./boot-<id>.core\n"
    "  -h, --help       this text\n"
    "\n"
    "exit status: 0 when the outcome is pass (the guest powered off or halted\n"
    "by itself, or --expect matched), 1 for panic, reboot (the guest restarted\n"
    "and nothing asked it to), fail or timeout, 2 bad usage, 3 emulator or\n"
    "setup error, 130 interrupted (Ctrl-], Ctrl-C, SIGTERM)\n";

/* --memory: 16M to 64G, in MiB */
static int parse_memory(const char *s, int *mb)
{
	unsigned long long bytes;
	if (bl_parse_size(s, &bytes) < 0)
		return -1;
	if (bytes < (16ULL << 20) || bytes > (64ULL << 30))
		return bl_err("memory '%s' is out of range (16M to 64G)", s);
	*mb = (int)(bytes >> 20);
	return 0;
}

struct boot_args {
	const char *kernel, *append, *arch, *backend, *machine, *expect;
	struct strlist initrds;
	int memory_mb, timeout_ms;
	bool observe, gdb, timeout_set;
	struct bl_freeze_opts freeze; /* --freeze, --dump-memory */
};

/* the options into A: -1 to go on, else the exit status */
static int boot_parse(struct boot_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"kernel", required_argument, NULL, 'k'},
	    {"initrd", required_argument, NULL, 'i'},
	    {"append", required_argument, NULL, 'a'},
	    {"arch", required_argument, NULL, 'A'},
	    {"backend", required_argument, NULL, 'b'},
	    {"machine", required_argument, NULL, 'M'},
	    {"memory", required_argument, NULL, 'm'},
	    {"timeout", required_argument, NULL, 't'},
	    {"expect", required_argument, NULL, 'e'},
	    {"observe", no_argument, NULL, 'O'},
	    {"gdb", no_argument, NULL, 'g'},
	    {"freeze", optional_argument, NULL, CLI_OPT_FREEZE},
	    {"dump-memory", no_argument, NULL, CLI_OPT_DUMP_MEMORY},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			a->kernel = optarg;
			break;
		case 'i':
			sl_push(&a->initrds, optarg);
			break;
		case 'a':
			a->append = optarg;
			break;
		case 'A':
			a->arch = optarg;
			break;
		case 'b':
			a->backend = optarg;
			break;
		case 'M':
			a->machine = optarg;
			break;
		case 'e':
			a->expect = optarg;
			break;
		case 'O':
			a->observe = true;
			break;
		case 'g':
			a->gdb = true;
			break;
		case CLI_OPT_FREEZE:
		case CLI_OPT_DUMP_MEMORY:
			if (cli_freeze_option("boot", &a->freeze, c, optarg) < 0)
				return BL_EXIT_USAGE;
			break;
		case 'm':
			if (parse_memory(optarg, &a->memory_mb) < 0)
				die("boot: --memory: %s", bl_errmsg());
			break;
		case 't':
			if (bl_parse_duration(optarg, &a->timeout_ms) < 0)
				die("boot: --timeout: %s (every boot has a deadline)", bl_errmsg());
			a->timeout_set = true;
			break;
		case 'h':
			fputs(boot_usage, stdout);
			return BL_EXIT_OK;
		default:
			return cli_option_error("boot", c, argv, boot_usage);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bootlab boot: unexpected argument '%s'\n%s", argv[optind],
			boot_usage);
		return BL_EXIT_USAGE;
	}
	if (!a->kernel) {
		fprintf(stderr, "bootlab boot: --kernel is required\n%s", boot_usage);
		return BL_EXIT_USAGE;
	}
	return -1;
}

static void boot_check(struct boot_args *a)
{
	if (a->arch) {
		const char *name = bl_kernel_arch_name(a->arch);
		if (!name || !strcmp(name, "um"))
			die("boot: unknown arch '%s' (x86_64, aarch64; UML is --backend uml)",
			    a->arch);
		a->arch = name;
	}
	if (a->backend && strcmp(a->backend, "qemu") && strcmp(a->backend, "uml"))
		die("boot: unknown backend '%s' (qemu, uml)", a->backend);
	for (size_t i = 0; i < a->initrds.n; i++)
		if (access(a->initrds.v[i], R_OK) < 0)
			die("boot: cannot read initrd '%s': %s", a->initrds.v[i], strerror(errno));
}

/* The kernel into SC: a cached default build by arch name, or an image
 * whose arch is read from its bytes; the backend and arch follow from it
 * unless given. -1 with a message for an image that is not a kernel. */
static int boot_kernel(const struct boot_args *a, struct bl_scenario *sc)
{
	const char *karch = bl_kernel_arch_name(a->kernel);
	struct bl_kernel k = {0};
	if (!karch || access(a->kernel, F_OK) == 0) {
		if (access(a->kernel, R_OK) < 0)
			die("boot: cannot read kernel '%s': %s", a->kernel, strerror(errno));
		if (bl_kernel_distro(a->kernel, NULL, &k) < 0) {
			bl_kernel_release(&k);
			return -1;
		}
		karch = k.arch;
		bl_plan_set(&sc->kernel.kind, "image");
		sc->kernel.image = realpath(a->kernel, NULL);
	}
	bool uml = karch && !strcmp(karch, "um");
	bl_plan_set(&sc->backend, a->backend ? a->backend : uml ? "uml" : "qemu");
	bl_plan_set(&sc->arch, a->arch ? a->arch : karch && !uml ? karch : "x86_64");
	bl_kernel_release(&k);
	return 0;
}

/* --expect: one console step over the whole boot; the boot ends when it
 * matches. -1 with a message for a regex that does not compile. */
static int boot_expect(const struct boot_args *a, struct bl_scenario *sc)
{
	struct bl_step *st = bl_plan_add_step(sc, BL_STEP_CONSOLE_WAIT, "expect");
	st->timeout_ms = a->timeout_ms;
	if (bl_regcomp(&st->re, a->expect, REG_EXTENDED | REG_NEWLINE | REG_NOSUB) < 0)
		return bl_err("bad regex for --expect '%s': %s", a->expect, bl_errmsg());
	st->regex = xstrdup(a->expect); /* the plan frees what compiled */
	return 0;
}

/* a plan with no steps (the session runs until the guest ends) or with
 * --expect's console step */
static struct bl_scenario *boot_plan(const struct boot_args *a)
{
	struct bl_scenario *sc = bl_plan_new("boot", "bootlab boot");
	if (boot_kernel(a, sc) < 0) {
		bl_scenario_free(sc);
		return NULL;
	}
	bl_plan_set(&sc->machine, a->machine);
	bl_plan_set(&sc->cmdline, a->append);
	sc->memory_mb = a->memory_mb;
	sc->timeout_ms = a->gdb && !a->timeout_set ? CLI_GDB_TIMEOUT_MS : a->timeout_ms;
	sc->observe = a->observe;
	for (size_t i = 0; i < a->initrds.n; i++) {
		char name[32], *path = realpath(a->initrds.v[i], NULL);
		snprintf(name, sizeof(name), "initrd%zu", i + 1);
		bl_plan_add_raw(sc, name, path ? path : a->initrds.v[i]);
		free(path);
	}
	if (a->expect && boot_expect(a, sc) < 0) {
		bl_scenario_free(sc);
		return NULL;
	}
	return sc;
}

/* prepare SC in WORKDIR and boot it with the console on this terminal */
static int boot_session(const struct bl_scenario *sc, const char *workdir, bool gdb,
			const struct bl_freeze_opts *freeze)
{
	struct bl_prepared prep;
	if (bl_prepare(sc, workdir, &prep) < 0) {
		/* what bl_prepare() filled in before it failed */
		bl_prepared_release(&prep);
		printf("outcome: setup-error (%s)\n", bl_errmsg());
		return bl_err_last_kind() == BL_EK_INFRA ? BL_EXIT_INFRA : BL_EXIT_USAGE;
	}
	struct bl_result r = {0};
	int rc = cli_session("boot", sc, &prep, workdir, gdb, freeze, &r);
	bl_result_release(&r);
	bl_prepared_release(&prep);
	return rc;
}

/* --dump-memory: ./boot-<id>.core, named absolute (the hold prints it) */
static char *boot_dump_path(void)
{
	char *cwd = getcwd(NULL, 0);
	char *path = cli_freeze_dump_path(cwd ? cwd : ".", "boot");
	free(cwd);
	return path;
}

int cmd_boot(int argc, char **argv)
{
	struct boot_args a = {
	    .memory_mb = 256, .timeout_ms = 600000, .freeze.hold_ms = BL_FREEZE_HOLD_MS};
	int rc = boot_parse(&a, argc, argv);
	if (rc >= 0) {
		sl_release(&a.initrds);
		return rc;
	}
	boot_check(&a);
	struct bl_scenario *sc = boot_plan(&a);
	char *workdir = NULL;
	char *dump = NULL;
	if (!sc) {
		fprintf(stderr, "bootlab boot: %s\n", bl_errmsg());
		rc = BL_EXIT_USAGE;
	} else if ((rc = cli_freeze_check("boot", &a.freeze, sc->backend)) != 0) {
		/* refused, said */
	} else if (!(workdir = bl_mktemp_dir("boot"))) {
		fprintf(stderr, "bootlab boot: %s\n", bl_errmsg());
		rc = BL_EXIT_INFRA;
	} else {
		if (a.freeze.dump)
			a.freeze.dump_path = dump = boot_dump_path();
		rc = boot_session(sc, workdir, a.gdb, &a.freeze);
		bl_rm_rf(workdir);
		free(workdir);
	}
	free(dump);
	bl_scenario_free(sc);
	sl_release(&a.initrds);
	return rc;
}
