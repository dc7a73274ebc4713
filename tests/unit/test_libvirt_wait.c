/* The deadline wait the libvirt backend runs its calls under
 * (harness/machine/libvirt_job.c): a waiter sees each stage a thread
 * reaches, gives up after its deadline (not before, not much after), and
 * a thread that reaches a stage after the waiter gave up learns that it
 * now owns the work. */
#include "machine/libvirt_int.h"
#include "t.h"
#include "util/util.h"

#include <stdlib.h>
#include <time.h>

struct work {
	struct bl_lv_wait w;
	int delay_ms[2]; /* before stage 1, then before stage 2 */
	bool gone[2];	 /* what bl_lv_wait_reached answered */
	bool *finished;	 /* set by the thread as its last act */
};

static void nap(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void *work_thread(void *arg)
{
	struct work *k = arg;
	for (int s = 0; s < 2; s++) {
		nap(k->delay_ms[s]);
		k->gone[s] = bl_lv_wait_reached(&k->w, s + 1);
	}
	bool gave_up = k->gone[1];
	bool *finished = k->finished;
	if (gave_up) { /* the waiter left: the thread frees the work */
		bl_lv_wait_destroy(&k->w);
		free(k);
	}
	__atomic_store_n(finished, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static struct work *start(int d1, int d2, bool *finished)
{
	struct work *k = xcalloc(1, sizeof(*k));
	bl_lv_wait_init(&k->w);
	k->delay_ms[0] = d1;
	k->delay_ms[1] = d2;
	k->finished = finished;
	*finished = false;
	if (bl_lv_thread(work_thread, k))
		abort();
	return k;
}

static double ms_since(long long t0)
{
	return (double)(bl_now_ns() - t0) / 1e6;
}

static void wait_finished(bool *finished)
{
	for (int i = 0; i < 500 && !__atomic_load_n(finished, __ATOMIC_SEQ_CST); i++)
		nap(10);
}

/* both stages in time: the waiter sees each, the thread is told nobody left */
static void test_in_time(void)
{
	bool fin;
	struct work *k = start(20, 20, &fin);
	pthread_mutex_lock(&k->w.mu);
	T_OK(bl_lv_wait_for(&k->w, 1, 5000), "in time: stage 1 is seen");
	T_OK(bl_lv_wait_for(&k->w, 2, 5000), "in time: stage 2 is seen");
	pthread_mutex_unlock(&k->w.mu);
	wait_finished(&fin);
	T_OK(fin && !k->gone[0] && !k->gone[1], "in time: the thread is told the boot still waits");
	bl_lv_wait_destroy(&k->w);
	free(k);
}

/* a stage already reached (or passed) is no wait at all */
static void test_already(void)
{
	bool fin;
	struct work *k = start(0, 0, &fin);
	wait_finished(&fin);
	long long t0 = bl_now_ns();
	pthread_mutex_lock(&k->w.mu);
	bool ok = bl_lv_wait_for(&k->w, 1, 5000) && bl_lv_wait_for(&k->w, 2, 5000);
	pthread_mutex_unlock(&k->w.mu);
	T_OK(ok && ms_since(t0) < 100, "a stage passed already returns at once (%.1f ms)",
	     ms_since(t0));
	bl_lv_wait_destroy(&k->w);
	free(k);
}

/* the second stage comes late: the waiter gives up at its deadline, and
 * the thread, reaching it later, owns the work and frees it */
static void test_late(void)
{
	bool fin;
	struct work *k = start(0, 600, &fin);
	pthread_mutex_lock(&k->w.mu);
	bool first = bl_lv_wait_for(&k->w, 1, 5000);
	long long t1 = bl_now_ns();
	bool second = bl_lv_wait_for(&k->w, 2, 150);
	double waited = ms_since(t1);
	k->w.abandoned = !second;
	pthread_mutex_unlock(&k->w.mu);
	T_OK(first, "late: the first stage is seen");
	T_OK(!second, "late: the second is not, after the deadline");
	T_OK(waited >= 149 && waited < 450,
	     "late: the waiter gave up at its deadline (%.0f ms of 150)", waited);
	wait_finished(&fin); /* k is freed by the thread: not touched here */
	T_OK(fin, "late: the thread ended on its own, owning the work (ASan: no leak, no reuse)");
}

int main(void)
{
	test_in_time();
	test_already();
	test_late();
	return t_done();
}
