/* libvirt backend: work on a detached thread, waited for with a deadline
 * (libvirt_int.h). libvirt.c's start and libvirt_pool.c's uploads use it:
 * a daemon that takes a call and never answers must not hang the boot. */
#include "machine/libvirt_int.h"

#include <errno.h>
#include <signal.h>
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
