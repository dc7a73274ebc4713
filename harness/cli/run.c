/* bootlab run: load scenarios, boot each variant (in parallel with -j),
 * print one line per variant, write reports/<run-id>/. */
#include "cli/cli.h"
#include "report/report.h"
#include "scenario/scenario.h"
#include "session/session.h"
#include "util/util.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
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
    "  --keep             keep the work folders of variants that did not pass\n"
    "  --connect URI[#N]  libvirt backend: boot on this host, N at once (default 1);\n"
    "                     repeat to spread the variants over several hosts\n"
    "  --repeat N         boot each variant N times; the report gives min/median/max\n"
    "                     per phase (bootlab compare reads it)\n"
    "  --list             print the variants that would run (after --filter and\n"
    "                     --shard), one per line, and boot nothing\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 all passed, 1 some did not, 2 bad usage or scenario file,\n"
    "3 infrastructure failure (no emulator, kernel build failed)\n";

struct job {
	struct bl_scenario *sc;
	size_t variant; /* index into the run's variants */
	int run;	/* 1-based repetition, 0 without --repeat */
	struct bl_result r;
	bool infra;
	bool bad_input; /* the scenario asked for something impossible (found while preparing) */
	char *workdir;
	int state; /* JOB_* (under the pool lock) */
	bool printed;
	int64_t started_ns;
};

enum { JOB_PENDING, JOB_RUNNING, JOB_DONE };

struct host {
	char *uri;
	int slots;
};

struct pool {
	struct job *jobs;
	struct host *hosts; /* --connect; each worker thread serves one host */
	size_t nhosts;
	size_t n, next, done;
	size_t threads_left;
	pthread_mutex_t lock;
	const char *report_dir;
	bool keep;
	bool live; /* the main thread draws a status block */
	int repeat;
};

static void print_line(struct pool *p, struct job *j)
{
	struct bl_result *r = &j->r;
	const char *verdict = r->outcome == BL_OUT_PASS ? "PASS" : "FAIL";
	char extra[160] = "", name[300];
	if (r->phases[BL_PH_HELLO2].seen)
		snprintf(extra, sizeof(extra), "  stage-2 hello %.3fs",
			 bl_ns_to_s(r->phases[BL_PH_HELLO2].host_ns));
	else if (r->phases[BL_PH_HELLO].seen)
		snprintf(extra, sizeof(extra), "  hello %.3fs",
			 bl_ns_to_s(r->phases[BL_PH_HELLO].host_ns));
	if (p->repeat > 1)
		snprintf(name, sizeof(name), "%s #%d", j->sc->name, j->run);
	else
		snprintf(name, sizeof(name), "%s", j->sc->name);
	printf("%s  %-40s %-14s %6.2fs%s\n", verdict, name, bl_outcome_name(r->outcome),
	       bl_ns_to_s(r->duration_ns), extra);
	if (r->reason)
		printf("      %s\n", r->reason);
	fflush(stdout);
	j->printed = true;
}

static void run_job(struct pool *p, struct job *j, const char *connect)
{
	struct bl_prepared prep = {0};
	struct bl_session_opts so = {.report_dir = p->report_dir,
				     .kill_grace_ms = 2000,
				     .connect = connect,
				     .run_index = j->run};
	j->workdir = bl_mktemp_dir("run");
	if (!j->workdir) {
		j->r.sc = j->sc;
		j->r.outcome = BL_OUT_SETUP_ERROR;
		j->r.reason = xstrdup(bl_errmsg());
		j->r.emulator_status = -1;
		j->infra = true;
		return;
	}
	so.workdir = j->workdir;
	if (bl_prepare(j->sc, j->workdir, &prep) < 0) {
		j->r.sc = j->sc;
		j->r.outcome = BL_OUT_SETUP_ERROR;
		j->r.reason = xstrdup(bl_errmsg());
		j->r.emulator_status = -1;
		j->infra = bl_err_last_kind() == BL_EK_INFRA;
		j->bad_input = !j->infra;
	} else {
		bl_session_run(j->sc, &prep, &so, &j->r);
		if (j->r.outcome == BL_OUT_EMU_ERROR)
			j->infra = true;
	}
	bl_prepared_release(&prep);
	if (p->keep && j->r.outcome != BL_OUT_PASS) {
		fprintf(stderr, "bootlab: kept work folder of '%s': %s\n", j->sc->name, j->workdir);
	} else {
		bl_rm_rf(j->workdir);
	}
}

struct worker_arg {
	struct pool *p;
	const char *connect;
};

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct pool *p = wa->p;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		if (p->next >= p->n || bl_session_interrupted()) {
			p->threads_left--;
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		struct job *j = &p->jobs[p->next++];
		j->state = JOB_RUNNING;
		j->started_ns = bl_now_ns();
		pthread_mutex_unlock(&p->lock);
		run_job(p, j, wa->connect);
		pthread_mutex_lock(&p->lock);
		p->done++;
		j->state = JOB_DONE;
		if (!p->live)
			print_line(p, j);
		pthread_mutex_unlock(&p->lock);
	}
}

/* ---- live status on a terminal ---- */

/* the last phase a running boot reached (its worker is writing R: only
 * the seen flags are read, one byte each) */
static const char *live_phase(struct bl_result *r)
{
	for (int i = BL_PH_COUNT - 1; i >= 0; i--)
		if (__atomic_load_n(&r->phases[i].seen, __ATOMIC_RELAXED))
			return bl_phase_name((enum bl_phase_id)i);
	return "prepare";
}

static int term_cols(void)
{
	struct winsize ws;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 80;
}

/* One frame: erase the previous status block, print the results that came
 * in since, then one line per running boot. Called with the lock held. */
static int live_draw(struct pool *p, int prev_lines, bool final)
{
	if (prev_lines > 0)
		printf("\033[%dA\r\033[J", prev_lines);
	for (size_t i = 0; i < p->n; i++)
		if (p->jobs[i].state == JOB_DONE && !p->jobs[i].printed)
			print_line(p, &p->jobs[i]);
	if (final) {
		fflush(stdout);
		return 0;
	}
	int cols = term_cols(), lines = 0;
	int64_t now = bl_now_ns();
	for (size_t i = 0; i < p->n; i++) {
		struct job *j = &p->jobs[i];
		if (j->state != JOB_RUNNING)
			continue;
		char name[300], line[512];
		if (p->repeat > 1)
			snprintf(name, sizeof(name), "%s #%d", j->sc->name, j->run);
		else
			snprintf(name, sizeof(name), "%s", j->sc->name);
		int len = snprintf(line, sizeof(line), "RUN   %-40s %-14s %6.1fs", name,
				   live_phase(&j->r), bl_ns_to_s(now - j->started_ns));
		if (len >= cols)
			line[cols - 1] = 0; /* never wrap: the next frame moves up by lines */
		printf("%s\n", line);
		lines++;
	}
	size_t waiting = p->n - p->next;
	if (bl_session_interrupted()) {
		printf("  interrupted: stopping the running boots\n");
		lines++;
	} else if (waiting) {
		printf("  %zu waiting, %zu of %zu done\n", waiting, p->done, p->n);
		lines++;
	}
	fflush(stdout);
	return lines;
}

static void live_loop(struct pool *p)
{
	int prev = 0;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		bool over = p->threads_left == 0;
		prev = live_draw(p, prev, over);
		pthread_mutex_unlock(&p->lock);
		if (over)
			return;
		struct timespec ts = {0, 250 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static char *make_run_id(void)
{
	char buf[64];
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y%m%d-%H%M%S", &tm);
	return xasprintf("%s-%d", buf, (int)getpid());
}

/* FNV-1a of the name: a split that does not move when files are added */
static unsigned long stable_hash(const char *s)
{
	unsigned long h = 1469598103934665603UL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211UL;
	return h;
}

int cmd_run(int argc, char **argv)
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
	    {"list", no_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *report_root = "reports", *filter = NULL;
	struct bl_load_opts lo = {0};
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned shard_i = 0, shard_n = 0;
	bool keep = false, list = false;
	long repeat = 1;
	struct host *hosts = NULL;
	size_t nhosts = 0, ahosts = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'R':
			report_root = optarg;
			break;
		case 'a':
			lo.arch = optarg;
			break;
		case 'b':
			lo.backend = optarg;
			break;
		case 'j': {
			char *end;
			jobs = strtol(optarg, &end, 10);
			if (*end || jobs < 1 || jobs > 256)
				die("run: -j takes a number from 1 to 256, not '%s'", optarg);
			break;
		}
		case 'f':
			filter = optarg;
			break;
		case 's':
			if (sscanf(optarg, "%u/%u", &shard_i, &shard_n) != 2 || shard_n == 0 ||
			    shard_i < 1 || shard_i > shard_n)
				die("run: --shard takes I/N with 1 <= I <= N, not '%s'", optarg);
			break;
		case 'k':
			keep = true;
			break;
		case 'r': {
			char *end;
			repeat = strtol(optarg, &end, 10);
			if (*end || repeat < 1 || repeat > 1000)
				die("run: --repeat takes a number from 1 to 1000, not '%s'",
				    optarg);
			break;
		}
		case 'l':
			list = true;
			break;
		case 'c': {
			BL_GROW(hosts, nhosts, ahosts);
			struct host *h = &hosts[nhosts++];
			char *hash = strrchr(optarg, '#');
			h->slots = 1;
			if (hash) {
				char *end;
				long n = strtol(hash + 1, &end, 10);
				if (*end || n < 1 || n > 256)
					die("run: --connect URI#N takes N from 1 to 256, not '%s'",
					    hash + 1);
				h->slots = (int)n;
				h->uri = xstrndup(optarg, (size_t)(hash - optarg));
			} else {
				h->uri = xstrdup(optarg);
			}
			if (!*h->uri)
				die("run: --connect needs a libvirt URI");
			break;
		}
		case 'h':
			fputs(run_usage, stdout);
			return 0;
		default:
			fputs(run_usage, stderr);
			return BL_EXIT_USAGE;
		}
	}
	if (nhosts && !lo.backend)
		lo.backend = "libvirt";
	if (nhosts && strcmp(lo.backend, "libvirt"))
		die("run: --connect goes with the libvirt backend, not '%s'", lo.backend);
	if (optind >= argc) {
		fprintf(stderr, "bootlab run: no scenario file given\n");
		fputs(run_usage, stderr);
		return BL_EXIT_USAGE;
	}
	if (jobs < 1)
		jobs = 1;
	regex_t fre;
	if (filter && regcomp(&fre, filter, REG_EXTENDED | REG_NOSUB) != 0)
		die("run: --filter: bad regular expression '%s'", filter);

	struct bl_scenario_set set = {0};
	for (int i = optind; i < argc; i++) {
		if (bl_scenario_load(argv[i], &lo, &set) < 0) {
			fprintf(stderr, "bootlab: %s\n", bl_errmsg());
			bl_scenario_set_release(&set);
			return BL_EXIT_USAGE;
		}
	}

	/* the variants this run boots, after --filter and --shard */
	struct bl_scenario **vars = xcalloc(set.n ? set.n : 1, sizeof(*vars));
	size_t nvars = 0;
	for (size_t i = 0; i < set.n; i++) {
		struct bl_scenario *sc = set.v[i];
		if (filter && regexec(&fre, sc->name, 0, NULL, 0) != 0)
			continue;
		if (shard_n && stable_hash(sc->name) % shard_n != shard_i - 1)
			continue;
		vars[nvars++] = sc;
	}
	if (filter)
		regfree(&fre);
	if (list) {
		for (size_t i = 0; i < nvars; i++)
			printf("%s\n", vars[i]->name);
		free(vars);
		bl_scenario_set_release(&set);
		return BL_EXIT_OK;
	}
	if (!nvars) {
		fprintf(stderr, "bootlab run: no scenario variant left to run\n");
		free(vars);
		bl_scenario_set_release(&set);
		return BL_EXIT_USAGE;
	}

	/* every variant once, then again for each repetition */
	struct pool p = {0};
	pthread_mutex_init(&p.lock, NULL);
	p.repeat = (int)repeat;
	p.jobs = xcalloc(nvars * (size_t)repeat, sizeof(*p.jobs));
	for (long k = 0; k < repeat; k++)
		for (size_t i = 0; i < nvars; i++) {
			struct job *j = &p.jobs[p.n++];
			j->sc = vars[i];
			j->variant = i;
			j->run = repeat > 1 ? (int)k + 1 : 0;
		}

	char *run_id = make_run_id();
	char *dir = xasprintf("%s/%s", report_root, run_id);
	if (bl_mkdir_p(dir, 0755) < 0) {
		fprintf(stderr, "bootlab: %s\n", bl_errmsg());
		free(run_id);
		free(dir);
		free(p.jobs);
		free(vars);
		bl_scenario_set_release(&set);
		return BL_EXIT_INFRA;
	}
	p.report_dir = dir;
	p.keep = keep;
	const char *term = getenv("TERM");
	p.live = isatty(1) && !(term && !strcmp(term, "dumb"));

	bl_session_catch_signals();

	int64_t t0 = bl_now_ns();
	struct bl_run_info info = {
	    .run_id = run_id,
	    .dir = dir,
	    .start_wall = (int64_t)time(NULL),
	    .jobs = (int)jobs,
	    .repeat = (int)repeat,
	};
	struct strbuf cmd = STRBUF_INIT;
	sb_adds(&cmd, "bootlab");
	for (int i = 0; i < argc; i++)
		sb_addf(&cmd, " %s", argv[i]);
	info.command = cmd.buf;

	/* one worker per boot slot: -j of them, or each host's slots */
	size_t nthreads = (size_t)jobs;
	if (nhosts) {
		nthreads = 0;
		for (size_t i = 0; i < nhosts; i++)
			nthreads += (size_t)hosts[i].slots;
	}
	if (nthreads > p.n)
		nthreads = p.n;
	p.threads_left = nthreads;
	pthread_t *th = xcalloc(nthreads, sizeof(*th));
	struct worker_arg *wa = xcalloc(nthreads, sizeof(*wa));
	/* hosts' slots taken round-robin, so every host gets work early */
	const char **slot_uri = xcalloc(nthreads ? nthreads : 1, sizeof(char *));
	for (size_t round = 0, k = 0; nhosts && k < nthreads; round++)
		for (size_t h = 0; h < nhosts && k < nthreads; h++)
			if ((size_t)hosts[h].slots > round)
				slot_uri[k++] = hosts[h].uri;
	for (size_t i = 0; i < nthreads; i++) {
		wa[i].p = &p;
		wa[i].connect = slot_uri[i];
	}
	if (nthreads == 1 && !p.live) {
		/* one boot slot and no live display: this thread boots (a thread
		 * and its malloc arena cost ~0.2 ms before the emulator starts) */
		worker(&wa[0]);
	} else {
		for (size_t i = 0; i < nthreads; i++)
			pthread_create(&th[i], NULL, worker, &wa[i]);
		if (p.live)
			live_loop(&p);
		for (size_t i = 0; i < nthreads; i++)
			pthread_join(th[i], NULL);
	}
	free(th);
	free(wa);
	free(slot_uri);
	info.duration_ns = bl_now_ns() - t0;
	info.interrupted = bl_session_interrupted();

	/* what finished goes into the report, even after Ctrl-C: each variant
	 * with the repetitions that ran */
	struct bl_result **runs = xcalloc(p.n, sizeof(*runs));
	struct bl_variant_result *vr = xcalloc(nvars, sizeof(*vr));
	size_t nvr = 0, nruns = 0, npass = 0, nboots = 0;
	bool infra = false, bad_input = false;
	for (size_t v = 0; v < nvars; v++) {
		struct bl_result **first = runs + nruns;
		size_t k = 0;
		for (size_t i = 0; i < p.n; i++) {
			if (p.jobs[i].variant != v || !p.jobs[i].r.sc)
				continue;
			first[k++] = &p.jobs[i].r;
			infra |= p.jobs[i].infra;
			bad_input |= p.jobs[i].bad_input;
			nboots++;
		}
		nruns += k;
		if (!k)
			continue;
		vr[nvr].runs = first;
		vr[nvr].nruns = k;
		npass += bl_variant_main(&vr[nvr])->outcome == BL_OUT_PASS;
		nvr++;
	}
	int rc = bl_report_write_all(&info, vr, nvr);
	if (rc < 0)
		fprintf(stderr, "bootlab: %s\n", bl_errmsg());
	/* reports/latest -> the newest run */
	char *latest = xasprintf("%s/latest", report_root);
	unlink(latest);
	if (symlink(run_id, latest) < 0)
		bl_debug("cannot point '%s' at '%s'", latest, run_id);
	free(latest);

	if (repeat > 1)
		printf("%zu of %zu passed (%zu boots)%s; report: %s/report.json\n", npass, nvr,
		       nboots, bl_session_interrupted() ? " (interrupted)" : "", dir);
	else
		printf("%zu of %zu passed%s; report: %s/report.json\n", npass, nvr,
		       bl_session_interrupted() ? " (interrupted)" : "", dir);
	int status = BL_EXIT_OK;
	if (rc < 0 || infra)
		status = BL_EXIT_INFRA;
	else if (bad_input)
		status = BL_EXIT_USAGE;
	else if (npass != nvr || nboots != p.n)
		status = BL_EXIT_FAIL;

	for (size_t i = 0; i < p.n; i++) {
		if (p.jobs[i].r.sc)
			bl_result_release(&p.jobs[i].r);
		free(p.jobs[i].workdir);
	}
	free(runs);
	free(vr);
	free(vars);
	free(p.jobs);
	sb_release(&cmd);
	free(run_id);
	free(dir);
	bl_scenario_set_release(&set);
	for (size_t i = 0; i < nhosts; i++)
		free(hosts[i].uri);
	free(hosts);
	return status;
}
