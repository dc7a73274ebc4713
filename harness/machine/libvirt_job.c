/* libvirt backend: work on a detached thread, waited for with a deadline
 * (libvirt_int.h). libvirt.c's start and libvirt_pool.c's uploads use it:
 * a daemon that takes a call and never answers must not hang the boot. */
#include "machine/libvirt_int.h"
#include "util/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void bl_lv_wait_init(struct bl_lv_wait *w)
{
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->stage = 0;
	w->abandoned = false;
}

void bl_lv_wait_destroy(struct bl_lv_wait *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

bool bl_lv_wait_for(struct bl_lv_wait *w, int stage, long long ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += (time_t)(ms / 1000);
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (w->stage < stage)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &dl) == ETIMEDOUT)
			return w->stage >= stage;
	return true;
}

bool bl_lv_wait_reached(struct bl_lv_wait *w, int stage)
{
	pthread_mutex_lock(&w->mu);
	w->stage = stage;
	bool gone = w->abandoned;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return gone;
}

int bl_lv_thread(void *(*fn)(void *), void *arg)
{
	pthread_t th;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	/* the thread must not take the signals the run command handles */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&th, &a, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	return e;
}

/* ---- is a host there at all ---- */

struct probe {
	struct bl_lv_wait w; /* stage 1: the answer is in */
	char *uri;
	int rc;
	char err[512];
};

static void probe_free(struct probe *q)
{
	bl_lv_wait_destroy(&q->w);
	free(q->uri);
	free(q);
}

static void *probe_thread(void *arg)
{
	struct probe *q = arg;
	virConnectPtr c = virConnectOpen(q->uri);
	if (c) {
		virConnectClose(c);
	} else {
		snprintf(q->err, sizeof(q->err), "%s", bl_lv_errmsg());
		q->rc = -1;
	}
	if (bl_lv_wait_reached(&q->w, 1))
		probe_free(q);
	return NULL;
}

int bl_libvirt_host_answers(const char *uri, int timeout_ms)
{
	const char *dlerr = bl_lv_load();
	if (dlerr)
		return bl_err("libvirt backend: cannot load libvirt: %s", dlerr);
	struct probe *q = xcalloc(1, sizeof(*q));
	bl_lv_wait_init(&q->w);
	q->uri = xstrdup(uri);
	int e = bl_lv_thread(probe_thread, q);
	if (e) {
		probe_free(q);
		errno = e;
		return bl_err_errno("libvirt: cannot start a thread to reach '%s'", uri);
	}
	pthread_mutex_lock(&q->w.mu);
	bool done = bl_lv_wait_for(&q->w, 1, timeout_ms);
	q->w.abandoned = !done;
	pthread_mutex_unlock(&q->w.mu);
	if (!done) /* the thread frees q */
		return bl_err("libvirt: '%s' took no connection within %g s", uri,
			      timeout_ms / 1000.0);
	int rc = q->rc ? bl_err("libvirt: cannot connect to '%s': %s", uri, q->err) : 0;
	probe_free(q);
	return rc;
}
