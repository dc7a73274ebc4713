/* bootlab run: load scenarios, pick the variants (--filter, --shard) and
 * hand them to the run engine (harness/session/run.c), which boots them in
 * parallel with -j and prints one line per variant; then write
 * reports/<run-id>/. */
#include "cli/cli.h"
#include "console/console.h"
#include "report/report.h"
#include "scenario/scenario.h"
#include "session/session.h"
#include "util/util.h"

#include <getopt.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char run_usage[] =
    "usage: bootlab run [OPTIONS] SCENARIO.yaml...\n"
    "\n"
    "Boot every scenario (and each variant of a matrix), check its steps, print\n"
    "one line per variant and write reports/<run-id>/ (report.json, junit.xml,\n"
    "index.html, one console log per variant). On a terminal a status block shows\n"
    "each running boot, its phase and elapsed time. Ctrl-C stops the boots and\n"
    "still writes the report of what ran.\n"
    "\n"
    "options:\n"
    "  --report-dir DIR   write DIR/<run-id>/ instead of reports/<run-id>/\n"
    "  --arch ARCH        override the scenarios' architecture (x86_64, aarch64)\n"
    "  --backend NAME     override the scenarios' backend (qemu, uml, libvirt)\n"
    "  -j, --jobs N       boots at once (default: number of cores)\n"
    "  --filter REGEX     only variants whose name matches\n"
    "  --shard I/N        only the I-th of N stable shares of the variants (1-based)\n"
    "  --keep             keep the work folders of variants that did not pass, and\n"
    "                     a repro folder for every variant (bootlab repro)\n"
    "  --connect URI[#N]  libvirt backend: boot on this host, N at once (default 1);\n"
    "                     repeat to spread the variants over several hosts\n"
    "  --repeat N         boot each variant N times; the report gives min/median/max\n"
    "                     per phase (bootlab compare reads it)\n"
    "  --retry N          boot a variant that did not pass again, up to N times; one\n"
    "                     that then passes is flaky (reported, exit status 0)\n"
    "  --fail-on CLASSES  kernel reports of these classes fail a boot, whatever\n"
    "                     the scenario's fail-on: says (a comma-separated list of\n"
    "                     classes, or all, default, none: docs/kernel-reports.md)\n"
    "  --allow CLASSES    kernel reports of these classes do not fail a boot;\n"
    "                     --fail-on and --allow apply in order, the last wins\n"
    "  --freeze[=T]       QEMU only: a variant that fails by a panic (panic=0\n"
    "                     instead of -1) or a deadline is stopped, not ended, and\n"
    "                     held for T (default 1h) or until SIGINT/SIGTERM (which\n"
    "                     also stops the run) or QEMU exits; prints QEMU's pid, its\n"
    "                     monitor.sock and qmp.sock and the gdb command (adds\n"
    "                     nokaslr); report.json says 'frozen' (docs/repro.md)\n"
    "  --dump-memory      with --freeze: a frozen variant's memory as an ELF core\n"
    "                     beside its console log, NAME.core\n"
    "  --list             print the variants that would run (after --filter and\n"
    "                     --shard), one per line, and boot nothing\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 all passed, 1 some did not, 2 bad usage or scenario file,\n"
    "3 infrastructure failure (no emulator, kernel build failed), 130 interrupted\n"
    "(Ctrl-C, SIGTERM: the report holds what ran)\n";

struct run_args {
	const char *report_root, *filter;
	struct bl_load_opts lo;
	long jobs, repeat, retry;
	unsigned shard_i, shard_n;
	const char *shard; /* --shard's argument */
	bool keep, list;
	struct bl_kpolicy_override kpolicy; /* --fail-on, --allow */
	struct bl_run_host *hosts;	    /* --connect */
	size_t nhosts, ahosts;
	struct strlist uris;	      /* owns the hosts' URIs */
	struct bl_freeze_opts freeze; /* --freeze, --dump-memory */
};

/* --connect URI[#N] */
static void parse_connect(struct run_args *a, const char *arg)
{
	BL_GROW(a->hosts, a->nhosts, a->ahosts);
	struct bl_run_host *h = &a->hosts[a->nhosts++];
	const char *hash = strrchr(arg, '#');
	h->slots = 1;
	if (hash) {
		char *end;
		long n = strtol(hash + 1, &end, 10);
		if (*end || n < 1 || n > 256)
			die("run: --connect URI#N takes N from 1 to 256, not '%s'", hash + 1);
		h->slots = (int)n;
		sl_push_nocopy(&a->uris, xstrndup(arg, (size_t)(hash - arg)));
	} else {
		sl_push(&a->uris, arg);
	}
	h->uri = a->uris.v[a->uris.n - 1];
	if (!*h->uri)
		die("run: --connect needs a libvirt URI");
}

static void parse_shard(struct run_args *a, const char *arg)
{
	if (sscanf(arg, "%u/%u", &a->shard_i, &a->shard_n) != 2 || a->shard_n == 0 ||
	    a->shard_i < 1 || a->shard_i > a->shard_n)
		die("run: --shard takes I/N with 1 <= I <= N, not '%s'", arg);
	a->shard = arg;
}

/* the options into A: -1 to go on, else the exit status */
static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option longopts[] = {
	    {"report-dir", required_argument, NULL, 'R'},
	    {"arch", required_argument, NULL, 'a'},
	    {"backend", required_argument, NULL, 'b'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"filter", required_argument, NULL, 'f'},
	    {"shard", required_argument, NULL, 's'},
	    {"keep", no_argument, NULL, 'k'},
	    {"connect", required_argument, NULL, 'c'},
	    {"repeat", required_argument, NULL, 'r'},
	    {"retry", required_argument, NULL, 'T'},
	    {"list", no_argument, NULL, 'l'},
	    {"fail-on", required_argument, NULL, 'F'},
	    {"allow", required_argument, NULL, 'A'},
	    {"freeze", optional_argument, NULL, CLI_OPT_FREEZE},
	    {"dump-memory", no_argument, NULL, CLI_OPT_DUMP_MEMORY},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'R':
			a->report_root = optarg;
			break;
		case 'a':
			a->lo.arch = optarg;
			break;
		case 'b':
			a->lo.backend = optarg;
			break;
		case 'j':
			a->jobs = cli_count("run", optarg, 256, "-j");
			break;
		case 'f':
			a->filter = optarg;
			break;
		case 's':
			parse_shard(a, optarg);
			break;
		case 'k':
			a->keep = true;
			break;
		case 'r':
			a->repeat = cli_count("run", optarg, 1000, "--repeat");
			break;
		case 'T':
			a->retry = cli_count("run", optarg, 100, "--retry");
			break;
		case 'l':
			a->list = true;
			break;
		case 'c':
			parse_connect(a, optarg);
			break;
		case 'F':
		case 'A':
			if (cli_kpolicy_option("run", &a->kpolicy, c == 'A', optarg) < 0)
				return BL_EXIT_USAGE;
			break;
		case CLI_OPT_FREEZE:
		case CLI_OPT_DUMP_MEMORY:
			if (cli_freeze_option("run", &a->freeze, c, optarg) < 0)
				return BL_EXIT_USAGE;
			break;
		case 'h':
			fputs(run_usage, stdout);
			return BL_EXIT_OK;
		default:
			return cli_option_error("run", c, argv, run_usage);
		}
	}
	if (a->nhosts && !a->lo.backend)
		a->lo.backend = "libvirt";
	if (a->nhosts && strcmp(a->lo.backend, "libvirt"))
		die("run: --connect goes with the libvirt backend, not '%s'", a->lo.backend);
	if (optind >= argc) {
		fprintf(stderr, "bootlab run: no scenario file given\n");
		fputs(run_usage, stderr);
		return BL_EXIT_USAGE;
	}
	return -1;
}

/* FNV-1a of the name: a split that does not move when files are added */
static unsigned long stable_hash(const char *s)
{
	unsigned long h = 1469598103934665603UL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211UL;
	return h;
}

/* the variants this run boots, after --filter (FRE or NULL) and --shard;
 * caller frees the array, the variants are SET's. SEL: what --filter
 * picked before --shard split it, for the report (bootlab report merge
 * checks that shards come from one choice). */
static struct bl_scenario **select_variants(const struct run_args *a, const regex_t *fre,
					    const struct bl_scenario_set *set, size_t *n,
					    struct bl_selection *sel)
{
	struct bl_scenario **vars = xcalloc(set->n ? set->n : 1, sizeof(*vars));
	*n = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct bl_scenario *sc = set->v[i];
		if (fre && regexec(fre, sc->name, 0, NULL, 0) != 0)
			continue;
		vars[(*n)++] = sc;
	}
	bl_selection_of(vars, *n, sel);
	size_t k = 0;
	for (size_t i = 0; i < *n; i++)
		if (!a->shard_n || stable_hash(vars[i]->name) % a->shard_n == a->shard_i - 1)
			vars[k++] = vars[i];
	*n = k;
	return vars;
}

/* every scenario file given, after the options */
static int load_files(int argc, char **argv, const struct bl_load_opts *lo,
		      struct bl_scenario_set *set)
{
	for (int i = optind; i < argc; i++) {
		if (bl_scenario_load(argv[i], lo, set) < 0) {
			fprintf(stderr, "bootlab run: %s\n", bl_errmsg());
			return -1;
		}
	}
	return 0;
}

int cmd_run_report(const struct bl_run *run)
{
	int rc = bl_report_write_run(run);
	if (rc < 0)
		fprintf(stderr, "bootlab run: %s\n", bl_errmsg());
	bl_run_print_summary(run);
	return bl_run_status(run, rc == 0);
}

static int run_boots(const struct run_args *a, int argc, char **argv, struct bl_scenario **vars,
		     size_t n, const struct bl_selection *sel)
{
	struct bl_run_opts o = {
	    .report_root = a->report_root,
	    .argc = argc,
	    .argv = argv,
	    .jobs = (int)a->jobs,
	    .repeat = (int)a->repeat,
	    .retry = (int)a->retry,
	    .shard = a->shard,
	    .selection = *sel,
	    .keep = a->keep,
	    .hosts = a->hosts,
	    .nhosts = a->nhosts,
	    .freeze = a->freeze.on ? &a->freeze : NULL,
	};
	struct bl_run run;
	if (bl_run_variants(vars, n, &o, &run) < 0) {
		fprintf(stderr, "bootlab run: %s\n", bl_errmsg());
		return BL_EXIT_INFRA;
	}
	int status = cmd_run_report(&run);
	bl_run_release(&run);
	return status;
}

/* the variants picked: listed (--list) or booted */
static int run_selected(const struct run_args *a, int argc, char **argv, struct bl_scenario **vars,
			size_t n, const struct bl_selection *sel)
{
	if (a->list) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", vars[i]->name);
		return BL_EXIT_OK;
	}
	if (!n) {
		fprintf(stderr, "bootlab run: no scenario variant left to run\n");
		return BL_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++) {
		if (bl_freeze_check(&a->freeze, vars[i]->backend) < 0) {
			fprintf(stderr, "bootlab run: variant '%s': %s\n", vars[i]->name,
				bl_errmsg());
			return BL_EXIT_USAGE;
		}
	}
	return run_boots(a, argc, argv, vars, n, sel);
}

/* load the files, pick the variants, boot them */
static int run_files(const struct run_args *a, int argc, char **argv)
{
	regex_t fre;
	if (a->filter && bl_regcomp(&fre, a->filter, REG_EXTENDED | REG_NOSUB) < 0)
		die("run: --filter: bad regular expression '%s': %s", a->filter, bl_errmsg());
	struct bl_scenario_set set = {0};
	int rc = BL_EXIT_USAGE;
	if (load_files(argc, argv, &a->lo, &set) == 0) {
		size_t n;
		struct bl_selection sel;
		struct bl_scenario **vars =
		    select_variants(a, a->filter ? &fre : NULL, &set, &n, &sel);
		for (size_t i = 0; i < n; i++)
			bl_kpolicy_override_apply(&a->kpolicy, &vars[i]->kpolicy);
		rc = run_selected(a, argc, argv, vars, n, &sel);
		free(vars);
	}
	if (a->filter)
		regfree(&fre);
	bl_scenario_set_release(&set);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = {.report_root = "reports",
			     .jobs = sysconf(_SC_NPROCESSORS_ONLN),
			     .repeat = 1,
			     .freeze.hold_ms = BL_FREEZE_HOLD_MS};
	int rc = parse_args(argc, argv, &a);
	if (a.jobs < 1)
		a.jobs = 1;
	if (rc < 0)
		rc = run_files(&a, argc, argv);
	free(a.hosts);
	sl_release(&a.uris);
	return rc;
}
