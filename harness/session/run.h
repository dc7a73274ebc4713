/* harness/session, private: the run engine's jobs and boot-slot pool,
 * shared by run.c (the pool) and progress.c (what the terminal shows).
 * Other stages use session.h. */
#ifndef BL_SESSION_RUN_H
#define BL_SESSION_RUN_H

#include "session/session.h"
#include "util/util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum { JOB_PENDING, JOB_RUNNING, JOB_DONE };

struct bl_run_job {
	struct bl_scenario *sc;
	size_t variant; /* index into the run's variants */
	int run;	/* 1-based repetition, 0 without --repeat */
	int attempt;	/* 1-based: --retry boots a variant that did not pass again */
	struct bl_result r;
	bool infra;
	bool bad_input; /* the scenario asked for something impossible (found while preparing) */
	char *workdir;
	char *moved_from, *moved_why; /* its host was lost: into r once booted again */
	int state;		      /* JOB_* (under the pool lock) */
	bool printed;
	int64_t started_ns;
};

struct pool {
	struct bl_run_job *jobs;
	size_t n, next, done;
	size_t threads_left;
	size_t running;		   /* jobs being booted */
	struct bl_run_job **again; /* a lost host's jobs, to boot on another (n slots) */
	size_t nagain;
	const struct bl_run_host *hosts; /* --connect: the libvirt hosts, or none */
	bool *lost;			 /* hosts[i] stopped taking connections */
	size_t nhosts;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a job ended or was queued again */
	const char *report_dir;
	bool keep;
	bool live; /* the main thread draws a status block */
	const struct bl_freeze_opts *freeze;
	int repeat;
};

/* hosts.c: with the pool lock held, whether the host URI is lost */
bool bl_pool_host_lost(const struct pool *p, const char *uri);
/* hosts.c: J booted on host URI and did not pass: when URI no longer
 * takes connections it is lost, and J (its result dropped) is queued to
 * boot on another host that is not; true then. Takes the lock itself. */
bool bl_pool_move_if_lost(struct pool *p, struct bl_run_job *j, const char *uri);

/* progress.c: whether stdout wants the live status block (a terminal) */
bool bl_progress_live_wanted(void);
/* the result line of a finished job; with the pool lock held */
void bl_progress_line(struct pool *p, struct bl_run_job *j);
/* redraw the status block until every slot is done (the main thread) */
void bl_progress_live(struct pool *p);

#endif
