/* harness/session, private: one boot's state, shared by the poll loop
 * (loop.c: console, agent channel, emulator, deadlines) and the steps that
 * wait on it (steps.c). Other stages use session.h. */
#ifndef BL_SESSION_LOOP_H
#define BL_SESSION_LOOP_H

#include "machine/machine.h"
#include "session/session.h"
#include "util/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SESS_TAIL_LINES 40
/* What a guest can make bootlab hold (docs/protocol.md, "What a guest can
 * fake"): console lines kept for console waits (consumed or not: the
 * oldest go first), classified events and the bytes of each event's line
 * kept, console log bytes. */
#define SESS_LINES_MAX_BYTES (4u << 20)
#define SESS_EVENTS_MAX 1000
#define SESS_EVENT_LINE_MAX 1024
#define SESS_LOG_MAX_BYTES (8u << 20)
/* bootlab gate: how long its initramfs's emergency shell may stay quiet
 * before the gate stops waiting (loop.c, shell_stop_ns) */
#define SESS_SHELL_QUIET_NS 10000000000LL
/* framed console lines: "@@BL1@@ <nonce> <json>" */
#define SESS_FRAME "@@BL1@@ "

struct sess {
	const struct bl_scenario *sc;
	const struct bl_session_opts *opts;
	struct bl_result *r;
	struct bl_machine m;
	int64_t t0;
	int64_t boot_deadline;

	struct strbuf con; /* partial console line */
	struct bl_console_ctx console_ctx;
	struct bl_kparser *kp; /* the kernel's reports (harness/console) */
	struct strbuf ag;      /* partial agent line */
	struct strlist lines;  /* console lines for console-wait steps, at most
				  SESS_LINES_MAX_BYTES (the oldest are dropped) */
	size_t lines_bytes;
	size_t line_cursor;
	char *tail[SESS_TAIL_LINES];
	size_t ntail;
	size_t ncon; /* console lines so far (the tail holds the last ntail) */
	FILE *log;

	int next_id;
	json_t *replies;  /* id (string) -> reply, not yet consumed */
	int *outstanding; /* ids sent, no reply yet, in the order sent */
	size_t noutstanding, aoutstanding;
	char frame[48];		/* "@@BL1@@ <nonce> ": what framed console lines start with */
	bool agent_via_console; /* the last hello came framed on the console */
	bool port_hello;	/* a hello came on the agent port: no console framing */
	size_t log_bytes;	/* written to the console log */
	bool panic_seen;
	int64_t panic_ns;
	int64_t con_last_ns; /* when the console last sent bytes (0: never) */
	bool panic_end;
	int64_t panic_end_ns;	/* when the "---[ end Kernel panic" trailer came */
	int64_t panic_grace_ns; /* how long after the panic line the boot may still run */
	bool con_eof, ag_eof;
	bool ended; /* emulator exited or stopped */
	bool poweroff_requested;
	int64_t down_ns;	  /* when the guest said it is resetting/halting */
	int64_t down_grace_ns;	  /* how long the emulator then has to go by itself */
	bool unasked_restart;	  /* "reboot: Restarting system", no poweroff asked for */
	char *restart_words;	  /* a restart nobody asked for: the guest's last lines before it */
	char *shell_line;	  /* the first emergency-shell banner a program printed */
	char *unit_failure;	  /* the first unit systemd said failed or timed out */
	bool stdin_eof;		  /* interactive: stdin closed, stop reading it */
	struct strbuf stdin_held; /* interactive: input read before the guest can take it */
	bool printk_seen;	  /* a console line with printk's time came */
	bool guest_reads;	  /* init runs, or the guest's programs print: input can go */
	int64_t quiet_send_ns;	  /* quiet kernel: when held input goes anyway, else 0 */
	bool clock_known;	  /* the agent's "clock": printk time = boottime + offset */
	int64_t clock_offset_ns;
	struct strbuf emu_err;

	int script_fd; /* expect-script relay, or -1 */
	/* the running expect script's pidfd, or -1: its exit wakes the poll
	 * (its relay's end of file can come before it can be reaped) */
	int script_pidfd;

	/* --freeze (freeze.c) */
	bool freeze_on;	      /* a panic or a deadline stops the guest, not ends it */
	bool frozen;	      /* QMP `stop` done: the guest is held as it was */
	struct bl_frozen frz; /* why and when, for the result if the boot is held */
	struct bl_qmp qmp;    /* the private QMP channel, open once frozen or
				 hot-plugging (sess_qmp) */
	bool qmp_open;
	/* disks to hot-plug (the plan's disk_late_ms), each done once */
	const char *const *late_disk;
	const int *late_ms;
	bool *plugged;
	size_t nlate;
	struct bl_machine_plan fplan; /* the plan as started (no command line): what the
					 hold prints; its strings are the prepared boot's */
};

/* Set up S for one boot and start its machine: 0, or -1 with R's outcome
 * and reason saying why it could not start. sess_close() either way. */
int sess_open(struct sess *s, const struct bl_scenario *sc, const struct bl_prepared *prep,
	      const struct bl_session_opts *opts, struct bl_result *r);
/* stop the machine if it runs, hand the console tail and timings to the
 * result, release S */
void sess_close(struct sess *s);
/* the private QMP channel, opened (greeting, capabilities) the first
 * time; -1 with a message */
int sess_qmp(struct sess *s);
/* ---- freeze.c ---- */
/* how long after the panic trailer the guest is frozen: its last console
 * bytes are out by then */
#define SESS_FREEZE_AFTER_PANIC_NS 100000000LL
/* --freeze's words in PLAN (before the machine starts): panic=0, nokaslr,
 * QEMU's monitors and a gdb stub; -1 with a message */
int sess_freeze_plan(struct sess *s, struct bl_machine_plan *plan);
/* QMP `stop` now, WHY ("panic", "deadline", "step-timeout") recorded;
 * -1 with a warning (the caller ends the machine) */
int sess_freeze(struct sess *s, const char *why);
/* after the steps: freeze a guest that panicked or ran out of time (STOP)
 * if it is not yet; true when it is frozen */
bool sess_freeze_end(struct sess *s, enum bl_stop stop);
/* after the outcome: a frozen boot that did not pass is dumped (on
 * request) and held until a signal, the hold time or QEMU's exit */
void sess_freeze_hold(struct sess *s);

/* ns since the spawn */
int64_t sess_since(struct sess *s);
void sess_phase(struct sess *s, enum bl_phase_id p, double guest_s);
void sess_end_machine(struct sess *s);
/* the console ended: the kernel's reports into the result */
void sess_take_kreports(struct sess *s);

/* why a wait cannot go on (BL_STOP_DONE: it can); a panic stops it
 * unless PANIC_OK */
enum bl_stop sess_blocked(struct sess *s, bool panic_ok);
/* The one wait of a session: run the loop until READY(S, ARG) holds
 * (BL_STOP_DONE), the session is blocked (sess_blocked) or DEADLINE
 * (absolute, CLOCK_MONOTONIC) passes (BL_STOP_STEP_TIMEOUT). READY is
 * asked first, so what already happened counts. */
enum bl_stop sess_wait(struct sess *s, int64_t deadline, bool panic_ok,
		       bool (*ready)(struct sess *s, void *arg), void *arg);
/* a READY for sess_wait: the emulator is gone */
bool sess_ended(struct sess *s, void *arg);

/* send a copy of REQ with a fresh id (*ID) on the agent's channel */
int sess_send(struct sess *s, const json_t *req, int *id);
/* the reply to request ID (or to a line the agent could not parse), taken
 * out of the session; caller decrefs; NULL when none came yet */
json_t *sess_take_reply(struct sess *s, int id);
/* read what FD has into SB: bytes read, 0 (nothing now, or end: *EOF set),
 * -1 on an error (*EOF set) */
int sess_read(int fd, struct strbuf *sb, bool *eof);

#endif
