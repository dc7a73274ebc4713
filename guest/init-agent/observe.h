/* observe.h: the stage-1 observer's parts (docs/observe.md): the tracer
 * (observe.c) and what it watches besides processes (observe_sys.c). */
#ifndef IA_OBSERVE_H
#define IA_OBSERVE_H

#include "agent.h"

#include <poll.h>

/* a new "observe" message EVENT (with "pid" when PID > 0) to fill and
 * send with ia_obs_send() */
struct ia_json *ia_obs_begin(const char *event, int pid);
void ia_obs_send(void);

/* observe_sys.c: PID 1's mount table (/proc/1/mountinfo through PROCFD)
 * and the kernel's uevents (module loads, block devices). _open sends
 * the mounts and block devices there at start as events flagged
 * "initial"; _sense sends what changed since, without waiting; _fds
 * fills two pollfds that wake up when something did, and _ready takes
 * their result (a poll() of the mount table consumes its change). */
void ia_obs_sys_open(int procfd);
void ia_obs_sys_fds(struct pollfd p[2]);
void ia_obs_sys_ready(const struct pollfd p[2]);
void ia_obs_sys_sense(void);
void ia_obs_sys_close(void);

#endif
