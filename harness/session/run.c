/* The run engine: a pool of boot slots (-j N, or each libvirt host's
 * slots) takes the jobs (every variant once, then again per repetition),
 * each job prepares and boots one variant, and the results are grouped
 * per variant in memory for the front ends (bootlab run, bootlab gate)
 * and the reports. One line is printed per boot as it ends; on a terminal
 * a status block shows the running boots (progress.c). */
#include "session/run.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void job_fail(struct bl_run_job *j)
{
	j->r.sc = j->sc;
	j->r.outcome = BL_OUT_SETUP_ERROR;
	j->r.reason = xstrdup(bl_errmsg());
	j->r.emulator_status = -1;
}

/* What the report names must still be there when it is read: an initrd
 * bootlab made in the work folder is copied beside the console log when
 * the boot did not pass (NAME.initrd), else named as gone (NULL). A
 * user's own file stays as it is. */
static void keep_initrd(struct bl_run_job *j, bool keep_workdir)
{
	struct bl_result *r = &j->r;
	if (!j->workdir)
		return;
	r->work_dir = xstrdup(j->workdir);
	r->work_dir_kept = keep_workdir;
	if (!bl_path_in(r->initrd, j->workdir) || keep_workdir)
		return;
	const char *suffix = ".console.log";
	size_t n = r->console_log ? strlen(r->console_log) : 0;
	char *kept = NULL;
	if (r->outcome != BL_OUT_PASS && n > strlen(suffix) &&
	    !strcmp(r->console_log + n - strlen(suffix), suffix)) {
		kept = xasprintf("%.*s.initrd", (int)(n - strlen(suffix)), r->console_log);
		if (bl_copy_file(r->initrd, kept) < 0) {
			bl_warn("cannot keep the initrd of '%s': %s", r->sc->name, bl_errmsg());
			free(kept);
			kept = NULL;
		}
	}
	free(r->initrd);
	r->initrd = kept;
}

/* what it takes to boot it again, in its repro folder (repro.c) */
static void keep_repro(struct bl_run_job *j, const struct bl_prepared *prep)
{
	j->r.repro_dir = bl_repro_write(j->sc, prep, &j->r, j->workdir);
	if (!j->r.repro_dir)
		bl_warn("cannot keep the repro folder of '%s': %s", j->sc->name, bl_errmsg());
}

/* one boot: a private work folder, the plan's artifacts, the session */
static void run_job(struct pool *p, struct bl_run_job *j, const char *connect)
{
	struct bl_prepared prep = {0};
	struct bl_session_opts so = {.report_dir = p->report_dir,
				     .kill_grace_ms = 2000,
				     .connect = connect,
				     .run_index = j->run,
				     .attempt = j->attempt,
				     .freeze = p->freeze};
	j->workdir = bl_mktemp_dir("run");
	if (!j->workdir) {
		job_fail(j);
		j->infra = true;
		return;
	}
	so.workdir = j->workdir;
	if (bl_prepare(j->sc, j->workdir, &prep) < 0) {
		job_fail(j);
		j->infra = bl_err_last_kind() == BL_EK_INFRA;
		j->bad_input = !j->infra;
	} else {
		bl_session_run(j->sc, &prep, &so, &j->r);
		j->infra = j->r.outcome == BL_OUT_EMU_ERROR;
	}
	j->r.attempt = j->attempt;
	if (j->r.sc && connect)
		j->r.connect = xstrdup(connect);
	if (j->r.sc && j->moved_from) { /* booted again after its host was lost */
		j->r.moved_from = j->moved_from;
		j->r.moved_why = j->moved_why;
		j->moved_from = j->moved_why = NULL;
	}
	if (j->r.sc)
		keep_initrd(j, p->keep && j->r.outcome != BL_OUT_PASS);
	if (j->r.sc && j->r.emulator_argv.n && (p->keep || j->r.outcome != BL_OUT_PASS))
		keep_repro(j, &prep);
	bl_prepared_release(&prep);
	if (p->keep && j->r.outcome != BL_OUT_PASS)
		fprintf(stderr, "bootlab: kept work folder of '%s': %s\n", j->sc->name, j->workdir);
	else
		bl_rm_rf(j->workdir);
}

struct slot {
	struct pool *p;
	const char *connect; /* libvirt URI of this slot's host, or NULL */
};

/* with the lock held: the next job for a slot of host URI (NULL: a local
 * slot), a lost host's job first; NULL when the slot is done: Ctrl-C, its
 * host lost, or no job left that a lost host could still hand back */
static struct bl_run_job *job_take(struct pool *p, const char *uri)
{
	for (;;) {
		if (bl_session_interrupted() || bl_pool_host_lost(p, uri))
			return NULL;
		if (p->nagain)
			return p->again[--p->nagain];
		if (p->next < p->n)
			return &p->jobs[p->next++];
		if (!p->running || !p->nhosts)
			return NULL;
		pthread_cond_wait(&p->changed, &p->lock);
	}
}

/* one boot slot: takes the next job until none is left or Ctrl-C */
static void *slot_main(void *arg)
{
	struct slot *sl = arg;
	struct pool *p = sl->p;
	pthread_mutex_lock(&p->lock);
	for (struct bl_run_job *j; (j = job_take(p, sl->connect));) {
		j->state = JOB_RUNNING;
		j->started_ns = bl_now_ns();
		p->running++;
		pthread_mutex_unlock(&p->lock);
		run_job(p, j, sl->connect);
		bool moved = sl->connect && bl_pool_move_if_lost(p, j, sl->connect);
		pthread_mutex_lock(&p->lock);
		p->running--;
		if (!moved) {
			p->done++;
			j->state = JOB_DONE;
			if (!p->live)
				bl_progress_line(p, j);
		}
		pthread_cond_broadcast(&p->changed);
	}
	p->threads_left--;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* the boot slots: -j of them, or each host's, taken round-robin so every
 * host gets work early; never more than there are jobs */
static struct slot *slots_plan(struct pool *p, const struct bl_run_opts *o, size_t *n)
{
	size_t ns = (size_t)(o->jobs > 0 ? o->jobs : 1);
	if (o->nhosts) {
		ns = 0;
		for (size_t i = 0; i < o->nhosts; i++)
			ns += (size_t)o->hosts[i].slots;
	}
	if (ns > p->n)
		ns = p->n;
	struct slot *sl = xcalloc(ns ? ns : 1, sizeof(*sl));
	for (size_t i = 0; i < ns; i++)
		sl[i].p = p;
	for (size_t round = 0, k = 0; o->nhosts && k < ns; round++)
		for (size_t h = 0; h < o->nhosts && k < ns; h++)
			if ((size_t)o->hosts[h].slots > round)
				sl[k++].connect = o->hosts[h].uri;
	*n = ns;
	return sl;
}

static void pool_run(struct pool *p, const struct bl_run_opts *o)
{
	size_t ns;
	struct slot *sl = slots_plan(p, o, &ns);
	p->threads_left = ns;
	if (ns == 1 && !p->live) {
		/* one boot slot and no live display: this thread boots (a thread
		 * and its malloc arena cost ~0.2 ms before the emulator starts) */
		slot_main(&sl[0]);
		free(sl);
		return;
	}
	pthread_t *th = xcalloc(ns ? ns : 1, sizeof(*th));
	for (size_t i = 0; i < ns; i++)
		pthread_create(&th[i], NULL, slot_main, &sl[i]);
	if (p->live)
		bl_progress_live(p);
	for (size_t i = 0; i < ns; i++)
		pthread_join(th[i], NULL);
	free(th);
	free(sl);
}

char *bl_run_id_new(void)
{
	char buf[64];
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y%m%d-%H%M%S", &tm);
	return xasprintf("%s-%d", buf, (int)getpid());
}

/* the run's id, report folder and the command line the report shows */
static int run_open(struct bl_run *run, const struct bl_run_opts *o)
{
	run->run_id = bl_run_id_new();
	run->dir = xasprintf("%s/%s", o->report_root, run->run_id);
	if (bl_mkdir_p(run->dir, 0755) < 0)
		return -1;
	struct strbuf cmd = STRBUF_INIT;
	sb_adds(&cmd, "bootlab");
	for (int i = 0; i < o->argc; i++)
		sb_addf(&cmd, " %s", o->argv[i]);
	run->command = sb_detach(&cmd, NULL);
	run->report_root = o->report_root;
	run->info = (struct bl_run_info){
	    .run_id = run->run_id,
	    .dir = run->dir,
	    .start_wall = (int64_t)time(NULL),
	    .command = run->command,
	    .jobs = o->jobs,
	    .repeat = o->repeat,
	    .retry = o->retry,
	    .shard = o->shard,
	    .selection = o->selection,
	};
	return 0;
}

/* the jobs of ATTEMPT for the variants whose WANT[i] is set: each once,
 * then again for each repetition */
static void jobs_plan(struct bl_run *run, struct bl_scenario *const *vars, size_t n,
		      const bool *want, int repeat, int attempt)
{
	for (int k = 0; k < repeat; k++)
		for (size_t i = 0; i < n; i++) {
			if (!want[i])
				continue;
			struct bl_run_job *j = &run->jobs[run->njobs++];
			j->sc = vars[i];
			j->variant = i;
			j->run = repeat > 1 ? k + 1 : 0;
			j->attempt = attempt;
		}
}

/* WANT[i]: variant i had a boot among JOBS[from..] that did not pass;
 * false for all when the run was interrupted */
static size_t jobs_failed(const struct bl_run *run, size_t from, size_t n, bool *want)
{
	size_t k = 0;
	memset(want, 0, n * sizeof(*want));
	for (size_t i = from; i < run->njobs && !bl_session_interrupted(); i++) {
		const struct bl_run_job *j = &run->jobs[i];
		if (j->r.sc && j->r.outcome != BL_OUT_PASS && !j->bad_input && !want[j->variant]) {
			want[j->variant] = true;
			k++;
		}
	}
	return k;
}

/* what finished, even after Ctrl-C: each variant with the repetitions
 * that ran */
static void run_group(struct bl_run *run, size_t nvars)
{
	run->runs = xcalloc(run->njobs + 1, sizeof(*run->runs));
	run->variants = xcalloc(nvars + 1, sizeof(*run->variants));
	size_t nruns = 0;
	for (size_t v = 0; v < nvars; v++) {
		struct bl_result **first = run->runs + nruns;
		size_t k = 0;
		bool pass = true;
		/* a variant's boots in the order they ran: attempt by attempt */
		for (size_t i = 0; i < run->njobs; i++) {
			struct bl_run_job *j = &run->jobs[i];
			if (j->variant != v || !j->r.sc)
				continue;
			first[k++] = &j->r;
			pass &= j->r.outcome == BL_OUT_PASS;
			run->infra |= j->infra;
			run->bad_input |= j->bad_input;
		}
		nruns += k;
		if (!k)
			continue;
		run->variants[run->nvariants] = (struct bl_variant_result){first, k};
		run->nflaky += bl_variant_flaky(&run->variants[run->nvariants]);
		run->nvariants++;
		run->npass += pass;
	}
	run->nboots = nruns;
}

/* boot the jobs from FROM on, in the pool */
static void pool_attempt(struct bl_run *run, const struct bl_run_opts *o, size_t from, int repeat)
{
	struct pool p = {
	    .jobs = run->jobs + from,
	    .n = run->njobs - from,
	    .report_dir = run->dir,
	    .keep = o->keep,
	    .freeze = o->freeze,
	    /* a held boot (--freeze) prints where it is: no status block over it */
	    .live = bl_progress_live_wanted() && !o->freeze,
	    .repeat = repeat,
	    .hosts = o->hosts,
	    .nhosts = o->nhosts,
	};
	p.again = xcalloc(p.n + 1, sizeof(*p.again));
	p.lost = xcalloc(p.nhosts + 1, sizeof(*p.lost));
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.changed, NULL);
	pool_run(&p, o);
	pthread_cond_destroy(&p.changed);
	pthread_mutex_destroy(&p.lock);
	free(p.again);
	free(p.lost);
}

int bl_run_variants(struct bl_scenario *const *vars, size_t n, const struct bl_run_opts *o,
		    struct bl_run *run)
{
	*run = (struct bl_run){0};
	if (run_open(run, o) < 0) {
		bl_run_release(run);
		return -1;
	}
	int repeat = o->repeat > 0 ? o->repeat : 1;
	int retry = o->retry > 0 ? o->retry : 0;
	run->jobs = xcalloc(n * (size_t)repeat * (size_t)(retry + 1) + 1, sizeof(*run->jobs));
	bool *want = xcalloc(n + 1, sizeof(*want));
	for (size_t i = 0; i < n; i++)
		want[i] = true;
	bl_session_catch_signals();
	int64_t t0 = bl_now_ns();
	/* attempt 1 boots every variant; each further one those that did not pass */
	for (int attempt = 1, from = 0; attempt <= retry + 1; attempt++) {
		if (attempt > 1 && !jobs_failed(run, (size_t)from, n, want))
			break;
		from = (int)run->njobs;
		jobs_plan(run, vars, n, want, repeat, attempt);
		pool_attempt(run, o, (size_t)from, repeat);
	}
	free(want);
	run->info.duration_ns = bl_now_ns() - t0;
	run->info.interrupted = bl_session_interrupted();
	run_group(run, n);
	return 0;
}

void bl_run_print_summary(const struct bl_run *run)
{
	const char *intr = run->info.interrupted ? " (interrupted)" : "";
	char flaky[48] = "", boots[48] = "";
	if (run->nflaky)
		snprintf(flaky, sizeof(flaky), ", %zu flaky", run->nflaky);
	if (run->nboots != run->nvariants)
		snprintf(boots, sizeof(boots), " (%zu boots)", run->nboots);
	printf("%zu of %zu passed%s%s%s; report: %s/report.json\n", run->npass, run->nvariants,
	       flaky, boots, intr, run->info.dir);
	printf("html: %s/index.html\n", run->info.dir);
	fflush(stdout);
}

int bl_run_status(const struct bl_run *run, bool report_ok)
{
	if (run->info.interrupted)
		return BL_EXIT_INTERRUPTED;
	if (!report_ok || run->infra)
		return BL_EXIT_INFRA;
	if (run->bad_input)
		return BL_EXIT_USAGE;
	/* a flaky variant passed on its last chance: the run passes */
	if (run->npass + run->nflaky != run->nvariants || run->nboots != run->njobs)
		return BL_EXIT_FAIL;
	return BL_EXIT_OK;
}

void bl_run_release(struct bl_run *run)
{
	for (size_t i = 0; i < run->njobs; i++) {
		if (run->jobs[i].r.sc)
			bl_result_release(&run->jobs[i].r);
		free(run->jobs[i].workdir);
		free(run->jobs[i].moved_from);
		free(run->jobs[i].moved_why);
	}
	free(run->jobs);
	free(run->runs);
	free(run->variants);
	free(run->run_id);
	free(run->dir);
	free(run->command);
	*run = (struct bl_run){0};
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void bl_selection_of(struct bl_scenario *const *vars, size_t n, struct bl_selection *sel)
{
	const char **names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = vars[i]->name;
	qsort(names, n, sizeof(*names), cmp_str);
	struct bl_sha256 h;
	bl_sha256_init(&h);
	for (size_t i = 0; i < n; i++)
		bl_sha256_update_str(&h, names[i]);
	bl_sha256_final_hex(&h, sel->digest);
	sel->n = n;
	free(names);
}
