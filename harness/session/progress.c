/* What a run shows while it boots: one result line per boot as it ends,
 * and on a terminal a status block of the running boots, redrawn in place
 * (each result line printed once, above the block). */
#include "session/run.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

bool bl_progress_live_wanted(void)
{
	const char *term = getenv("TERM");
	return isatty(1) && !(term && !strcmp(term, "dumb"));
}

/* "name", "name #N" for a repetition, "name (attempt K)" for --retry's */
static void job_name(const struct pool *p, const struct bl_run_job *j, char *buf, size_t n)
{
	char rep[24] = "", att[32] = "";
	if (p->repeat > 1)
		snprintf(rep, sizeof(rep), " #%d", j->run);
	if (j->attempt > 1)
		snprintf(att, sizeof(att), " (attempt %d)", j->attempt);
	snprintf(buf, n, "%s%s%s", j->sc->name, rep, att);
}

void bl_progress_line(struct pool *p, struct bl_run_job *j)
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
	job_name(p, j, name, sizeof(name));
	printf("%s  %-40s %-14s %6.2fs%s\n", verdict, name, bl_outcome_name(r->outcome),
	       bl_ns_to_s(r->duration_ns), extra);
	if (r->reason)
		printf("      %s\n", r->reason);
	fflush(stdout);
	j->printed = true;
}

/* the last phase a running boot reached (its slot is writing R: only the
 * seen flags are read, one byte each) */
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

/* one line per running boot; how many */
static int live_running(struct pool *p)
{
	int cols = term_cols(), lines = 0;
	int64_t now = bl_now_ns();
	for (size_t i = 0; i < p->n; i++) {
		struct bl_run_job *j = &p->jobs[i];
		if (j->state != JOB_RUNNING)
			continue;
		char name[300], line[512];
		job_name(p, j, name, sizeof(name));
		int len = snprintf(line, sizeof(line), "RUN   %-40s %-14s %6.1fs", name,
				   live_phase(&j->r), bl_ns_to_s(now - j->started_ns));
		if (len >= cols)
			line[cols - 1] = 0; /* never wrap: the next frame moves up by lines */
		printf("%s\n", line);
		lines++;
	}
	return lines;
}

/* One frame: erase the previous status block, print the results that came
 * in since, then one line per running boot. Called with the lock held. */
static int live_draw(struct pool *p, int prev_lines, bool final)
{
	if (prev_lines > 0)
		printf("\033[%dA\r\033[J", prev_lines);
	for (size_t i = 0; i < p->n; i++)
		if (p->jobs[i].state == JOB_DONE && !p->jobs[i].printed)
			bl_progress_line(p, &p->jobs[i]);
	if (final) {
		fflush(stdout);
		return 0;
	}
	int lines = live_running(p);
	size_t waiting = p->n - p->next + p->nagain;
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

void bl_progress_live(struct pool *p)
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
