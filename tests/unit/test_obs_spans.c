/* The programs of an observed stage 1 as spans and per argv[0]
 * (harness/session/obs_spans.c), from "observe" messages as the observer
 * sends them, through the same parser as a boot (bl_obs_add). */
#include "session/session.h"
#include "t.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>

/* one stage 1: /init runs sleep (ok), false (exits 1), sleep again
 * (killed by 9), starts udevd (never ends), then switches the root */
static const char *const msgs[] = {
    "{\"event\":\"start\",\"t_ns\":900000000,\"init\":\"/init\"}",
    "{\"event\":\"exec\",\"t_ns\":1000000000,\"pid\":1,\"ppid\":0,\"argv\":[\"/init\"]}",
    "{\"event\":\"exec\",\"t_ns\":1100000000,\"pid\":5,\"ppid\":1,\"argv\":[\"sleep\",\"1\"]}",
    "{\"event\":\"exit\",\"t_ns\":2100000000,\"pid\":5,\"ppid\":1,\"status\":0}",
    "{\"event\":\"exec\",\"t_ns\":2200000000,\"pid\":6,\"ppid\":1,\"argv\":[\"false\"]}",
    "{\"event\":\"exit\",\"t_ns\":2250000000,\"pid\":6,\"ppid\":1,\"status\":1}",
    "{\"event\":\"exec\",\"t_ns\":2300000000,\"pid\":7,\"ppid\":1,\"argv\":[\"sleep\",\"9\"]}",
    "{\"event\":\"exit\",\"t_ns\":2400000000,\"pid\":7,\"ppid\":1,\"signal\":9}",
    "{\"event\":\"exec\",\"t_ns\":2500000000,\"pid\":8,\"ppid\":1,\"argv\":[\"udevd\"]}",
    "{\"event\":\"exec\",\"t_ns\":3000000000,\"pid\":1,\"ppid\":0,\"argv\":[\"switch_root\"]}",
    "{\"event\":\"switch_root\",\"t_ns\":3100000000,\"pid\":1}",
    "{\"event\":\"exec\",\"t_ns\":3100000000,\"pid\":1,\"ppid\":0,\"argv\":[\"/sbin/init\"]}",
};

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

static void check_spans(const struct bl_observed *o)
{
	size_t n = 0;
	struct bl_obs_span *s = bl_obs_spans(o, &n);
	T_EQ_INT(n, 7, "a span per exec");
	T_OK(s[0].end == &o->ev[9] && near(s[0].end_s, 3.0),
	     "PID 1's /init ends at its next exec (switch_root), 3.0 s");
	T_EQ_INT(bl_obs_span_failed(&s[0]), 0, "an exec'd-over program did not fail");
	T_OK(near(s[1].end_s - s[1].start_s, 1.0), "sleep 1 ran 1.0 s, to its exit");
	T_EQ_INT(bl_obs_span_failed(&s[1]), 0, "exit 0: not failed");
	T_EQ_INT(bl_obs_span_failed(&s[2]), 1, "exit 1: failed");
	T_EQ_INT(bl_obs_span_failed(&s[3]), 1, "killed by a signal: failed");
	T_OK(!s[4].end && near(s[4].end_s, 3.1), "udevd never ended: it reaches the last event");
	T_EQ_INT(bl_obs_span_failed(&s[4]), -1, "... and is still running");
	free(s);
}

static void check_programs(const struct bl_observed *o)
{
	size_t n = 0;
	struct bl_obs_prog *p = bl_obs_programs(o, &n);
	T_EQ_INT(n, 6, "six names: /init sleep false udevd switch_root /sbin/init");
	T_EQ_STR(p[1].name, "sleep", "in the order they first ran");
	T_OK(p[1].runs == 2 && p[1].failed == 1 && near(p[1].total_s, 1.1),
	     "sleep: 2 runs, 1 failed, 1.1 s together");
	T_OK(p[2].runs == 1 && p[2].failed == 1, "false: 1 run, failed");
	free(p);
	const struct bl_obs_event *sw = bl_obs_switch_root(o);
	T_OK(sw && near(bl_obs_guest_s(o, sw), 3.1), "the root change at 3.1 s");
}

int main(void)
{
	struct bl_observed o = {.on = true};
	for (size_t i = 0; i < BL_ARRAY_SIZE(msgs); i++) {
		json_t *m = json_loads(msgs[i], 0, NULL);
		bl_obs_add(&o, m, 0);
		json_decref(m);
	}
	T_EQ_INT(o.n, BL_ARRAY_SIZE(msgs), "every message parsed");
	check_spans(&o);
	check_programs(&o);
	struct bl_observed none = {.on = true};
	size_t n = 9;
	T_OK(!bl_obs_spans(&none, &n) && n == 0 && !bl_obs_switch_root(&none),
	     "nothing observed: no span, no root change");
	bl_obs_release(&o);
	return t_done();
}
