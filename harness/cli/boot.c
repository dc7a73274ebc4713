/* bootlab boot: one interactive boot with the console on the terminal,
 * for reproducing a panic by hand. No scenario, no agent: the kernel, the
 * user's archives (stacked in the order given) and a command line. The
 * guest's console is copied to stdout as it comes and stdin goes to the
 * guest (the terminal in raw mode, restored on every way out; Ctrl-] ends
 * the boot). When the guest ends, the last line says the typed outcome:
 *
 *   outcome: panic (attempted to kill init, exit status 7)
 *
 * and the exit status is 0 only for pass. */
#include "cli/cli.h"
#include "kernel/kernel.h"
#include "scenario/scenario.h"
#include "session/session.h"
#include "util/util.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const char boot_usage[] =
    "usage: bootlab boot --kernel K [--initrd A]... [--append STR] [--arch A]\n"
    "                    [--backend B] [--machine M] [--memory SIZE] [--timeout T]\n"
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
    "  --timeout T      end the boot after T (e.g. 30s, 5m; default 10m; 0 = 24h)\n"
    "  -h, --help       this text\n"
    "\n"
    "exit status: 0 when the outcome is pass (the guest powered off or\n"
    "rebooted), 1 for panic, fail or timeout, 2 bad usage, 3 emulator or setup\n"
    "error\n";

static struct termios saved_tio;
static int tio_saved;

static void tty_restore(void)
{
	if (tio_saved)
		tcsetattr(0, TCSAFLUSH, &saved_tio);
	tio_saved = 0;
}

static void on_signal(int sig)
{
	if (tio_saved)
		tcsetattr(0, TCSAFLUSH, &saved_tio);
	bl_session_interrupt();
}

static void tty_raw(void)
{
	if (!isatty(0) || tcgetattr(0, &saved_tio) < 0)
		return;
	struct termios t = saved_tio;
	cfmakeraw(&t);
	/* keep \n -> \r\n for our own output; the guest's console sends \r\n */
	t.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(0, TCSAFLUSH, &t) == 0) {
		tio_saved = 1;
		atexit(tty_restore);
	}
}

static int parse_size_mb(const char *s, int *mb)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v <= 0)
		return -1;
	double mul = 1.0 / (1024 * 1024);
	switch (*end) {
	case 'K':
	case 'k':
		mul = 1.0 / 1024;
		end++;
		break;
	case 'M':
	case 'm':
		mul = 1;
		end++;
		break;
	case 'G':
	case 'g':
		mul = 1024;
		end++;
		break;
	case 0:
		break;
	default:
		return -1;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end || v * mul < 16 || v * mul > 65536)
		return -1;
	*mb = (int)(v * mul);
	return 0;
}

static int parse_duration_ms(const char *s, int *ms)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v < 0)
		return -1;
	double mul = 1000;
	if (!strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "s") || !*end)
		mul = 1000;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else if (!strcmp(end, "h"))
		mul = 3600000;
	else
		return -1;
	double t = v * mul;
	if (t > 86400000.0)
		return -1;
	*ms = t == 0 ? 86400000 : (int)t;
	return 0;
}

int cmd_boot(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"kernel", required_argument, NULL, 'k'},  {"initrd", required_argument, NULL, 'i'},
	    {"append", required_argument, NULL, 'a'},  {"arch", required_argument, NULL, 'A'},
	    {"backend", required_argument, NULL, 'b'}, {"machine", required_argument, NULL, 'M'},
	    {"memory", required_argument, NULL, 'm'},  {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	const char *kernel = NULL, *append = NULL, *arch = NULL, *backend = NULL, *machine = NULL;
	struct strlist initrds = STRLIST_INIT;
	int memory_mb = 256, timeout_ms = 600000, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			kernel = optarg;
			break;
		case 'i':
			sl_push(&initrds, optarg);
			break;
		case 'a':
			append = optarg;
			break;
		case 'A':
			arch = optarg;
			break;
		case 'b':
			backend = optarg;
			break;
		case 'M':
			machine = optarg;
			break;
		case 'm':
			if (parse_size_mb(optarg, &memory_mb) < 0)
				die("boot: bad size '%s' for --memory (16M to 64G, e.g. 256M)",
				    optarg);
			break;
		case 't':
			if (parse_duration_ms(optarg, &timeout_ms) < 0)
				die("boot: bad duration '%s' for --timeout (e.g. 30s, 5m; at most "
				    "24h)",
				    optarg);
			break;
		case 'h':
			fputs(boot_usage, stdout);
			sl_release(&initrds);
			return BL_EXIT_OK;
		default:
			fprintf(stderr, "bootlab boot: unknown option '%s'\n%s", argv[optind - 1],
				boot_usage);
			sl_release(&initrds);
			return BL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bootlab boot: unexpected argument '%s'\n%s", argv[optind],
			boot_usage);
		sl_release(&initrds);
		return BL_EXIT_USAGE;
	}
	if (!kernel) {
		fprintf(stderr, "bootlab boot: --kernel is required\n%s", boot_usage);
		sl_release(&initrds);
		return BL_EXIT_USAGE;
	}
	if (arch) {
		const char *a = bl_kernel_arch_name(arch);
		if (!a || !strcmp(a, "um"))
			die("boot: unknown arch '%s' (x86_64, aarch64; UML is --backend uml)",
			    arch);
		arch = a;
	}
	if (backend && strcmp(backend, "qemu") && strcmp(backend, "uml"))
		die("boot: unknown backend '%s' (qemu, uml)", backend);
	for (size_t i = 0; i < initrds.n; i++)
		if (access(initrds.v[i], R_OK) < 0)
			die("boot: cannot read initrd '%s'", initrds.v[i]);

	/* the kernel: a cached default build by arch name, or an image whose
	 * arch is read from its bytes */
	const char *built = bl_kernel_arch_name(kernel);
	char *kpath = NULL;
	const char *karch = built;
	struct bl_kernel k = {0};
	if (!built || access(kernel, F_OK) == 0) {
		built = NULL;
		if (access(kernel, R_OK) < 0)
			die("boot: cannot read kernel '%s'", kernel);
		if (bl_kernel_distro(kernel, NULL, &k) < 0) {
			fprintf(stderr, "bootlab boot: %s\n", bl_errmsg());
			sl_release(&initrds);
			return BL_EXIT_USAGE;
		}
		karch = k.arch;
		kpath = realpath(kernel, NULL);
	}
	if (!backend)
		backend = karch && !strcmp(karch, "um") ? "uml" : "qemu";
	if (!arch)
		arch = karch && strcmp(karch, "um") ? karch : "x86_64";

	/* a scenario with no steps: the session runs until the guest ends */
	struct bl_archive_spec *as = xcalloc(initrds.n ? initrds.n : 1, sizeof(*as));
	for (size_t i = 0; i < initrds.n; i++) {
		as[i].name = xasprintf("initrd%zu", i + 1);
		as[i].raw = realpath(initrds.v[i], NULL);
	}
	struct bl_scenario sc = {
	    .file = "bootlab boot",
	    .name = "boot",
	    .base_name = "boot",
	    .arch = (char *)arch,
	    .backend = (char *)backend,
	    .machine = (char *)machine,
	    .kernel = {.kind = built ? "build" : "image", .image = kpath},
	    .archives = as,
	    .narchives = initrds.n,
	    .cmdline = (char *)append,
	    .memory_mb = memory_mb,
	    .timeout_ms = timeout_ms,
	};
	int rc = BL_EXIT_INFRA;
	char *workdir = bl_mktemp_dir("boot");
	struct bl_prepared prep;
	struct bl_result r = {0};
	if (!workdir) {
		fprintf(stderr, "bootlab boot: %s\n", bl_errmsg());
		goto out;
	}
	if (bl_prepare(&sc, workdir, &prep) < 0) {
		printf("outcome: setup-error (%s)\n", bl_errmsg());
		rc = bl_err_last_kind() == BL_EK_INFRA ? BL_EXIT_INFRA : BL_EXIT_USAGE;
		goto out;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	tty_raw();
	struct bl_session_opts so = {
	    .workdir = workdir,
	    .echo_console = true,
	    .interactive = true,
	};
	bl_session_run(&sc, &prep, &so, &r);
	tty_restore();
	fflush(stdout);

	/* the outcome on a line of its own, after whatever the guest printed */
	const char *name = bl_outcome_name(r.outcome);
	if (r.outcome == BL_OUT_PANIC) {
		char d[300];
		bl_describe_panic(&r.panic, d, sizeof(d));
		printf("\noutcome: panic (%s)\n", d);
	} else if (r.outcome == BL_OUT_PASS) {
		printf("\noutcome: pass\n");
	} else {
		printf("\noutcome: %s (%s)\n", name, r.reason ? r.reason : "");
	}
	rc = r.outcome == BL_OUT_PASS						? BL_EXIT_OK
	     : r.outcome == BL_OUT_EMU_ERROR || r.outcome == BL_OUT_SETUP_ERROR ? BL_EXIT_INFRA
										: BL_EXIT_FAIL;
	bl_result_release(&r);
	bl_prepared_release(&prep);
out:
	if (workdir)
		bl_rm_rf(workdir);
	free(workdir);
	for (size_t i = 0; i < initrds.n; i++) {
		free(as[i].name);
		free(as[i].raw);
	}
	free(as);
	free(kpath);
	bl_kernel_release(&k);
	sl_release(&initrds);
	return rc;
}
