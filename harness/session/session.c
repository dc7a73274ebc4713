/* One boot: the poll loop over console, agent channel, emulator exit and
 * deadlines, and the steps it feeds. Every wait has an absolute deadline
 * on CLOCK_MONOTONIC; the emulator is always stopped and reaped before
 * bl_session_run returns. */
#include "machine/machine.h"
#include "session/session.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TAIL_LINES 40
#define MAX_LINE 65536
/* After a panic line: with panic=0 the guest spins forever, so the boot
 * ends at the "---[ end Kernel panic" trailer or after PANIC_HANG_MS; with
 * panic=-1 or panic=N the emulator exits by itself (-no-reboot), which we
 * wait for (N s plus PANIC_EXIT_MS), so its own exit is what the report
 * shows. */
#define PANIC_HANG_MS 1500
#define PANIC_EXIT_MS 10000
#define DEFAULT_STEP_MS 30000

/* set by the run command's signal handling: stop everything cleanly */
volatile int bl_session_interrupted;

struct sess {
	const struct bl_scenario *sc;
	const struct bl_session_opts *opts;
	struct bl_result *r;
	struct bl_machine m;
	int64_t t0;
	int64_t boot_deadline;

	struct strbuf con; /* partial console line */
	struct bl_console_ctx console_ctx;
	struct strbuf ag;  /* partial agent line */
	struct strlist lines; /* every console line, for console-wait steps */
	size_t line_cursor;
	char *tail[TAIL_LINES];
	size_t ntail;
	FILE *log;

	int next_id;
	json_t *replies;   /* id (string) -> reply, not yet consumed */
	bool agent_via_console;
	bool panic_seen;
	int64_t panic_ns;
	bool panic_end;
	int64_t panic_grace_ns; /* how long after the panic line the boot may still run */
	bool con_eof, ag_eof;
	bool ended;        /* emulator exited or stopped */
	bool poweroff_requested;
	int64_t down_ns;   /* when the guest said it is resetting/halting, after a poweroff */
	bool stdin_eof;    /* interactive: stdin closed, stop reading it */
	struct strbuf emu_err;

	/* expect-script relay */
	int script_fd;
};

static int64_t since(struct sess *s)
{
	return bl_now_ns() - s->t0;
}

static void phase(struct sess *s, enum bl_phase_id p, double guest_s)
{
	struct bl_phase *ph = &s->r->phases[p];
	if (ph->seen)
		return;
	ph->seen = true;
	ph->host_ns = since(s);
	ph->guest_s = guest_s;
	free(s->r->last_phase);
	s->r->last_phase = xstrdup(bl_phase_name(p));
}

static void add_event(struct sess *s, const struct bl_classified *c, const char *line, double guest_s)
{
	struct bl_result *r = s->r;
	BL_GROW(r->events, r->nevents, r->aevents);
	struct bl_event *e = &r->events[r->nevents++];
	e->host_ns = since(s);
	e->guest_s = guest_s;
	e->c = *c;
	e->line = xstrdup(line);
}

static void tail_push(struct sess *s, const char *line)
{
	if (s->ntail == TAIL_LINES) {
		free(s->tail[0]);
		memmove(s->tail, s->tail + 1, (TAIL_LINES - 1) * sizeof(char *));
		s->ntail--;
	}
	s->tail[s->ntail++] = xstrdup(line);
}

static void handle_agent_line(struct sess *s, const char *line);

static void handle_console_line(struct sess *s, char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		line[--n] = 0;
	if (!strncmp(line, "@@BL1@@ ", 8)) {
		/* the agent's last-resort channel: framed lines on the console */
		s->agent_via_console = true;
		handle_agent_line(s, line + 8);
		return;
	}
	int64_t t = since(s);
	if (s->log)
		fprintf(s->log, "%10.6f  %s\n", bl_ns_to_s(t), line);
	sl_push(&s->lines, line);
	tail_push(s, line);

	double guest_s;
	const char *text = bl_printk_split(line, &guest_s);
	struct bl_classified c;
	bl_classify_console(&s->console_ctx, text, &c);
	if (c.type == BL_EV_NONE)
		return;
	if (c.type == BL_EV_RUN_INIT)
		phase(s, BL_PH_RUN_INIT, guest_s);
	if (c.type == BL_EV_PANIC && !s->panic_seen) {
		s->panic_seen = true;
		s->panic_ns = bl_now_ns();
		s->r->panic_seen = true;
		s->r->panic = c;
		s->r->panic_line = xstrdup(text);
	}
	if (c.type == BL_EV_PANIC_END)
		s->panic_end = true;
	/* the guest is going down as asked: no need to wait for the emulator
	 * (libvirt takes seconds to notice a reset) */
	if (s->poweroff_requested && (c.type == BL_EV_RESTART || c.type == BL_EV_SYSTEM_HALTED) &&
	    !s->down_ns)
		s->down_ns = bl_now_ns();
	add_event(s, &c, text, guest_s);
}

static void handle_agent_line(struct sess *s, const char *line)
{
	json_error_t jerr;
	json_t *msg = json_loads(line, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!msg || !json_is_object(msg)) {
		struct bl_classified c = {.type = BL_EV_NONE};
		snprintf(c.detail, sizeof(c.detail), "malformed agent line: %s", jerr.text);
		bl_debug("agent: malformed line '%s'", line);
		json_decref(msg);
		return;
	}
	const char *type = json_string_value(json_object_get(msg, "type"));
	json_t *id = json_object_get(msg, "id");
	if (type && !strcmp(type, "hello")) {
		json_int_t stage = json_integer_value(json_object_get(msg, "stage"));
		json_int_t bt = json_integer_value(json_object_get(msg, "boottime_ns"));
		double guest = bt > 0 ? (double)bt / 1e9 : -1;
		if (stage >= 2) {
			json_decref(s->r->hello2);
			s->r->hello2 = json_incref(msg);
			phase(s, BL_PH_HELLO2, guest);
		} else {
			json_decref(s->r->hello);
			s->r->hello = json_incref(msg);
			phase(s, BL_PH_HELLO, guest);
		}
	} else if (type && !strcmp(type, "log")) {
		const char *m = json_string_value(json_object_get(msg, "message"));
		if (s->log)
			fprintf(s->log, "%10.6f  [agent] %s\n", bl_ns_to_s(since(s)), m ? m : "");
	} else if (json_is_integer(id)) {
		char key[32];
		snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(id));
		json_object_set(s->replies, key, msg);
	} else if (json_is_null(id)) {
		/* the agent could not parse something we sent */
		json_object_set(s->replies, "null", msg);
	}
	json_decref(msg);
}

/* split complete lines out of BUF, hand each to FN */
static void drain_lines(struct sess *s, struct strbuf *buf, void (*fn)(struct sess *, char *))
{
	size_t start = 0;
	for (size_t i = 0; i < buf->len; i++) {
		if (buf->buf[i] != '\n')
			continue;
		buf->buf[i] = 0;
		fn(s, buf->buf + start);
		start = i + 1;
	}
	if (start) {
		memmove(buf->buf, buf->buf + start, buf->len - start);
		buf->len -= start;
		buf->buf[buf->len] = 0;
	}
	if (buf->len > MAX_LINE) { /* a line without end: take it as it is */
		fn(s, buf->buf);
		sb_reset(buf);
	}
}

static void agent_line_cb(struct sess *s, char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\r'))
		line[--n] = 0;
	if (n)
		handle_agent_line(s, line);
}

static int read_into(int fd, struct strbuf *sb, bool *eof)
{
	char buf[16384];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		*eof = true;
		return -1;
	}
	if (n == 0) {
		*eof = true;
		return 0;
	}
	sb_add(sb, buf, (size_t)n);
	return (int)n;
}

static void end_machine(struct sess *s)
{
	if (s->ended)
		return;
	bl_machine_stop(&s->m, s->opts->kill_grace_ms > 0 ? s->opts->kill_grace_ms : 2000);
	s->ended = true;
	phase(s, BL_PH_END, -1);
}

/* One round of the loop: wait until something happens or UNTIL (absolute
 * ns), then process it. */
static void pump(struct sess *s, int64_t until)
{
	struct pollfd p[6];
	int np = 0, icon = -1, iag = -1, ierr = -1, iscript = -1, iin = -1;
	bool pidfd = false;
	if (!s->ended) {
		if (s->m.console_fd >= 0 && !s->con_eof)
			icon = np, p[np++] = (struct pollfd){.fd = s->m.console_fd, .events = POLLIN};
		if (s->m.agent_fd >= 0 && !s->ag_eof)
			iag = np, p[np++] = (struct pollfd){.fd = s->m.agent_fd, .events = POLLIN};
		if (s->m.stderr_fd >= 0)
			ierr = np, p[np++] = (struct pollfd){.fd = s->m.stderr_fd, .events = POLLIN};
		if (s->script_fd >= 0)
			iscript = np, p[np++] = (struct pollfd){.fd = s->script_fd, .events = POLLIN};
		if (s->opts->interactive && !s->stdin_eof)
			iin = np, p[np++] = (struct pollfd){.fd = 0, .events = POLLIN};
		/* the emulator's exit wakes the poll at once (machine.h) */
		if (s->m.pidfd > 0 && !s->m.exited) {
			p[np++] = (struct pollfd){.fd = s->m.pidfd, .events = POLLIN};
			pidfd = true;
		}
	}
	int64_t now = bl_now_ns();
	int64_t wake = until;
	if (s->panic_seen && s->panic_ns + s->panic_grace_ns < wake)
		wake = s->panic_ns + s->panic_grace_ns;
	if (s->down_ns && s->down_ns + 100000000LL < wake)
		wake = s->down_ns + 100000000LL;
	/* poll the emulator's exit at least every 20 ms once channels are closed */
	int ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
	if (!s->ended && !pidfd && (s->con_eof || np == 0) && ms > 20)
		ms = 20;
	if (!s->ended && ms > 200)
		ms = 200; /* also check for an exited emulator and interruptions */
	int r = np ? poll(p, (nfds_t)np, ms) : (usleep((useconds_t)ms * 1000), 0);
	if (r > 0) {
		if (icon >= 0 && (p[icon].revents & (POLLIN | POLLHUP | POLLERR))) {
			size_t before = s->con.len;
			int n = read_into(s->m.console_fd, &s->con, &s->con_eof);
			if (n > 0) {
				phase(s, BL_PH_CONSOLE, -1);
				/* bootlab boot: the bytes as they come (prompts have no newline) */
				if (s->opts->echo_console && write(1, s->con.buf + before, (size_t)n) < 0)
					bl_debug("console: stdout write failed");
				if (s->script_fd >= 0 && write(s->script_fd, s->con.buf + before, (size_t)n) < 0)
					bl_debug("expect script: write failed");
				drain_lines(s, &s->con, handle_console_line);
			}
		}
		if (iag >= 0 && (p[iag].revents & (POLLIN | POLLHUP | POLLERR))) {
			read_into(s->m.agent_fd, &s->ag, &s->ag_eof);
			drain_lines(s, &s->ag, agent_line_cb);
		}
		if (ierr >= 0 && (p[ierr].revents & (POLLIN | POLLHUP | POLLERR))) {
			bool eof = false;
			read_into(s->m.stderr_fd, &s->emu_err, &eof);
			if (eof) {
				close(s->m.stderr_fd);
				s->m.stderr_fd = -1;
			}
		}
		if (iscript >= 0 && (p[iscript].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[4096];
			ssize_t n = read(s->script_fd, buf, sizeof(buf));
			if (n > 0 && s->m.console_fd >= 0) {
				if (write(s->m.console_fd, buf, (size_t)n) < 0)
					bl_debug("console: write failed");
			} else if (n <= 0) {
				close(s->script_fd);
				s->script_fd = -1;
			}
		}
		if (iin >= 0 && (p[iin].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[1024];
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EINTR)) {
				s->stdin_eof = true; /* the guest goes on without input */
			} else if (n > 0) {
				/* Ctrl-] ends the boot, as in telnet */
				char *esc = memchr(buf, 0x1d, (size_t)n);
				if (esc) {
					n = esc - buf;
					bl_session_interrupted = 1;
				}
				if (n > 0 && s->m.console_fd >= 0 &&
				    write(s->m.console_fd, buf, (size_t)n) < 0)
					bl_debug("console: write failed");
			}
		}
	}
	if (!s->ended && bl_machine_poll_exit(&s->m)) {
		/* collect what is still buffered in the channels */
		for (int i = 0; i < 50 && s->m.console_fd >= 0 && !s->con_eof; i++) {
			struct pollfd q = {.fd = s->m.console_fd, .events = POLLIN};
			if (poll(&q, 1, 0) <= 0)
				break;
			if (read_into(s->m.console_fd, &s->con, &s->con_eof) <= 0)
				break;
			drain_lines(s, &s->con, handle_console_line);
		}
		for (int i = 0; i < 50 && s->m.agent_fd >= 0 && !s->ag_eof; i++) {
			struct pollfd q = {.fd = s->m.agent_fd, .events = POLLIN};
			if (poll(&q, 1, 0) <= 0)
				break;
			if (read_into(s->m.agent_fd, &s->ag, &s->ag_eof) <= 0)
				break;
			drain_lines(s, &s->ag, agent_line_cb);
		}
		if (s->m.stderr_fd >= 0) {
			bool eof = false;
			struct pollfd q = {.fd = s->m.stderr_fd, .events = POLLIN};
			while (poll(&q, 1, 0) > 0 && read_into(s->m.stderr_fd, &s->emu_err, &eof) > 0)
				;
		}
		if (s->con.len) {
			char *rest = xstrdup(s->con.buf);
			sb_reset(&s->con);
			handle_console_line(s, rest);
			free(rest);
		}
		s->r->emulator_status = s->m.status;
		end_machine(s);
	}
	/* after "reboot: Restarting system" the emulator has nothing left to say */
	if (!s->ended && s->down_ns && bl_now_ns() >= s->down_ns + 100000000LL)
		end_machine(s);
	/* a panic with panic=0 hangs the guest: end it as a panic, not a timeout */
	if (!s->ended && s->panic_seen &&
	    (s->panic_end || bl_now_ns() >= s->panic_ns + s->panic_grace_ns))
		end_machine(s);
}

/* ---- agent requests ---- */

static int send_request(struct sess *s, json_t *req_template, int *id_out)
{
	json_t *req = json_deep_copy(req_template);
	int id = ++s->next_id;
	json_object_set_new(req, "id", json_integer(id));
	char *text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	int fd = s->agent_via_console ? s->m.console_fd : s->m.agent_fd;
	struct strbuf line = STRBUF_INIT;
	if (s->agent_via_console)
		sb_adds(&line, "@@BL1@@ ");
	sb_adds(&line, text);
	sb_addc(&line, '\n');
	free(text);
	size_t off = 0;
	int rc = 0;
	while (off < line.len) {
		ssize_t n = write(fd, line.buf + off, line.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = bl_err_errno("cannot send to the agent");
			break;
		}
		off += (size_t)n;
	}
	sb_release(&line);
	*id_out = id;
	return rc;
}

static json_t *take_reply(struct sess *s, int id)
{
	char key[32];
	snprintf(key, sizeof(key), "%d", id);
	json_t *r = json_object_get(s->replies, key);
	if (!r)
		r = json_object_get(s->replies, "null");
	if (!r)
		return NULL;
	json_incref(r);
	json_object_del(s->replies, json_object_get(s->replies, key) ? key : "null");
	return r;
}

/* why a wait cannot go on, or NULL */
static const char *blocked(struct sess *s, bool panic_ok)
{
	if (bl_session_interrupted)
		return "interrupted";
	if (s->panic_seen && !panic_ok)
		return "panic";
	if (s->ended)
		return "ended";
	if (bl_now_ns() >= s->boot_deadline)
		return "deadline";
	return NULL;
}

static int check_asserts(const struct bl_step *st, json_t *doc)
{
	for (size_t i = 0; i < st->nasserts; i++)
		if (bl_assert_check(&st->asserts[i], doc) < 0)
			return -1;
	return 0;
}

/* Why a step could not finish: records the message and the stop cause. */
static int step_blocked(struct sess *s, struct bl_step_result *sr, const char *why, const char *what)
{
	if (!strcmp(why, "panic")) {
		char d[300];
		bl_describe_panic(&s->r->panic, d, sizeof(d));
		sr->message = xasprintf("kernel panic (%s) while waiting for %s", d, what);
	} else if (!strcmp(why, "ended")) {
		sr->message = xasprintf("the emulator exited (%s) while waiting for %s",
					bl_describe_status(s->m.status), what);
	} else if (!strcmp(why, "step-timeout")) {
		sr->message = xasprintf("timed out waiting for %s", what);
	} else {
		sr->message = xasprintf("%s while waiting for %s",
					!strcmp(why, "deadline") ? "boot deadline reached" : why, what);
	}
	return -1;
}

static int run_script_step(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
			   int64_t deadline);

static int run_step(struct sess *s, const struct bl_step *st, struct bl_step_result *sr)
{
	int64_t deadline = bl_now_ns() + (int64_t)(st->timeout_ms > 0 ? st->timeout_ms : DEFAULT_STEP_MS) * 1000000;
	if (deadline > s->boot_deadline)
		deadline = s->boot_deadline;
	const char *why;

	switch (st->kind) {
	case BL_STEP_HELLO: {
		char what[64];
		snprintf(what, sizeof(what), "the agent's %shello", st->stage == 2 ? "stage-2 " : "");
		for (;;) {
			json_t *h = st->stage == 2 ? s->r->hello2 : st->stage == 1 ? s->r->hello
				    : (s->r->hello2 ? s->r->hello2 : s->r->hello);
			if (h) {
				sr->reply = json_incref(h);
				if (check_asserts(st, h) < 0) {
					sr->message = xstrdup(bl_errmsg());
					return -1;
				}
				return 0;
			}
			if ((why = blocked(s, false)))
				return step_blocked(s, sr, why, what);
			if (bl_now_ns() >= deadline) {
				/* a refused switch_root answers with an error: say so */
				json_t *err = NULL;
				const char *k;
				json_t *v;
				json_object_foreach(s->replies, k, v) if (!json_is_true(json_object_get(v, "ok"))) err = v;
				if (err)
					sr->message = xasprintf("no %s; the agent answered: %s", what,
								json_string_value(json_object_get(err, "message")));
				else
					step_blocked(s, sr, "step-timeout", what);
				return -1;
			}
			pump(s, deadline);
		}
	}
	case BL_STEP_CONSOLE_WAIT: {
		char what[300];
		snprintf(what, sizeof(what), "a console line matching /%s/", st->regex);
		for (;;) {
			for (; s->line_cursor < s->lines.n; s->line_cursor++) {
				if (regexec(&st->re, s->lines.v[s->line_cursor], 0, NULL, 0) == 0) {
					sr->reply = json_pack("{s:s}", "line", s->lines.v[s->line_cursor]);
					s->line_cursor++;
					return 0;
				}
			}
			/* a console wait may look for the panic itself */
			if ((why = blocked(s, true)))
				return step_blocked(s, sr, why, what);
			if (bl_now_ns() >= deadline)
				return step_blocked(s, sr, "step-timeout", what);
			pump(s, deadline);
		}
	}
	case BL_STEP_CONSOLE_SEND: {
		if ((why = blocked(s, false)))
			return step_blocked(s, sr, why, "the console");
		size_t len = strlen(st->text);
		if (write(s->m.console_fd, st->text, len) != (ssize_t)len) {
			sr->message = xasprintf("cannot write to the console: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	case BL_STEP_AGENT: {
		const char *op = json_string_value(json_object_get(st->request, "op"));
		char what[300];
		snprintf(what, sizeof(what), "the agent's reply to '%s'", op ? op : "?");
		/* the agent must have said hello before it can take requests */
		while (!s->r->hello && !s->r->hello2) {
			if ((why = blocked(s, false)))
				return step_blocked(s, sr, why, "the agent's hello");
			if (bl_now_ns() >= deadline)
				return step_blocked(s, sr, "step-timeout", "the agent's hello");
			pump(s, deadline);
		}
		if ((why = blocked(s, false)))
			return step_blocked(s, sr, why, what);
		if (op && !strcmp(op, "switch_root"))
			phase(s, BL_PH_SWITCH_ROOT, -1);
		if (op && (!strcmp(op, "poweroff") || !strcmp(op, "reboot")))
			s->poweroff_requested = true;
		int id;
		if (send_request(s, st->request, &id) < 0) {
			sr->message = xstrdup(bl_errmsg());
			return -1;
		}
		if (st->no_reply)
			return 0;
		for (;;) {
			json_t *rep = take_reply(s, id);
			if (rep) {
				sr->reply = rep;
				bool ok = json_is_true(json_object_get(rep, "ok"));
				const char *ename = json_string_value(json_object_get(rep, "error"));
				const char *emsg = json_string_value(json_object_get(rep, "message"));
				if (st->expect_error || st->expect_errno) {
					if (ok) {
						sr->message = xasprintf("'%s' succeeded, expected %s", op,
									st->expect_errno ? st->expect_errno : "an error");
						return -1;
					}
					if (st->expect_errno && (!ename || strcmp(ename, st->expect_errno))) {
						sr->message = xasprintf("'%s' failed with %s (%s), expected %s", op,
									ename ? ename : "?", emsg ? emsg : "",
									st->expect_errno);
						return -1;
					}
				} else if (!ok) {
					sr->message = xasprintf("'%s' failed: %s (%s)", op, emsg ? emsg : "?",
								ename ? ename : "?");
					return -1;
				}
				if (check_asserts(st, rep) < 0) {
					sr->message = xstrdup(bl_errmsg());
					return -1;
				}
				return 0;
			}
			/* poweroff may end the machine before its reply is read */
			if (s->poweroff_requested && s->ended && !s->panic_seen)
				return 0;
			if ((why = blocked(s, false)))
				return step_blocked(s, sr, why, what);
			if (bl_now_ns() >= deadline)
				return step_blocked(s, sr, "step-timeout", what);
			pump(s, deadline);
		}
	}
	case BL_STEP_EXPECT_PANIC: {
		while (!s->panic_seen) {
			if ((why = blocked(s, true)))
				return step_blocked(s, sr, why, "a kernel panic");
			if (bl_now_ns() >= deadline)
				return step_blocked(s, sr, "step-timeout", "a kernel panic");
			pump(s, deadline);
		}
		const struct bl_classified *c = &s->r->panic;
		char d[300];
		bl_describe_panic(c, d, sizeof(d));
		sr->reply = json_pack("{s:s,s:s}", "reason", bl_panic_reason_name(c->panic), "line",
				      s->r->panic_line);
		enum bl_panic_reason want;
		if (st->panic_reason && !bl_panic_reason_parse(st->panic_reason, &want) &&
		    want != c->panic) {
			sr->message = xasprintf("panic was '%s' (%s), expected '%s'",
						bl_panic_reason_name(c->panic), d, st->panic_reason);
			return -1;
		}
		if (st->panic_status >= 0 && c->exit_status != st->panic_status) {
			sr->message = xasprintf("panic was '%s', expected exit status %d", d, st->panic_status);
			return -1;
		}
		if (st->panic_signal >= 0 && c->signal != st->panic_signal) {
			sr->message = xasprintf("panic was '%s', expected signal %d %s", d, st->panic_signal,
						bl_signame(st->panic_signal));
			return -1;
		}
		return 0;
	}
	case BL_STEP_EXPECT_OUTCOME:
		/* checked by the caller once the boot is over */
		return 0;
	case BL_STEP_EXPECT_SCRIPT:
		return run_script_step(s, st, sr, deadline);
	}
	return 0;
}

/* expect-script: a real Expect process with the console on its stdin and
 * stdout; its exit status is the step's result. */
static int run_script_step(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
			   int64_t deadline)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		sr->message = xasprintf("socketpair: %s", strerror(errno));
		return -1;
	}
	/* the script's stderr becomes part of the step's message */
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(sp[0]);
		close(sp[1]);
		sr->message = xasprintf("pipe: %s", strerror(errno));
		return -1;
	}
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	struct bl_machine child = {.console_fd = -1, .agent_fd = -1, .stderr_fd = -1};
	char *argv[] = {"expect", "-f", st->script, NULL};
	if (bl_machine_spawn(&child, argv, sp[1], ep[1], NULL, 0) < 0) {
		close(sp[0]);
		close(sp[1]);
		close(ep[0]);
		close(ep[1]);
		sr->message = xstrdup(bl_errmsg());
		return -1;
	}
	close(sp[1]);
	close(ep[1]);
	struct strbuf err = STRBUF_INIT;
	bool err_eof = false;
	s->script_fd = sp[0];
	/* what the console said so far, so the script can match the prompt */
	for (size_t i = s->line_cursor; i < s->lines.n; i++) {
		if (write(s->script_fd, s->lines.v[i], strlen(s->lines.v[i])) < 0 ||
		    write(s->script_fd, "\n", 1) < 0)
			break;
	}
	s->line_cursor = s->lines.n;
	/* and the line in progress: a shell's prompt has no newline yet */
	if (s->con.len && write(s->script_fd, s->con.buf, s->con.len) < 0)
		bl_debug("expect script: write failed");
	int rc = -1;
	for (;;) {
		while (!err_eof && err.len < 4096 && read_into(ep[0], &err, &err_eof) > 0)
			;
		if (bl_machine_poll_exit(&child)) {
			/* what it sent just before exiting still goes to the console */
			char buf[4096];
			ssize_t n;
			while (s->script_fd >= 0 && s->m.console_fd >= 0 &&
			       (n = recv(s->script_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
				if (write(s->m.console_fd, buf, (size_t)n) < 0)
					break;
			while (!err_eof && err.len < 4096 && read_into(ep[0], &err, &err_eof) > 0)
				;
			/* its last words, on one line */
			while (err.len && (err.buf[err.len - 1] == '\n' || err.buf[err.len - 1] == '\r'))
				err.buf[--err.len] = 0;
			const char *last = err.len ? strrchr(err.buf, '\n') : NULL;
			last = last ? last + 1 : err.len ? err.buf : NULL;
			if (WIFEXITED(child.status) && WEXITSTATUS(child.status) == 0)
				rc = 0;
			else if (last && *last)
				sr->message = xasprintf("expect script '%s' %s: %s", st->script,
							bl_describe_status(child.status), last);
			else
				sr->message = xasprintf("expect script '%s' %s", st->script,
							bl_describe_status(child.status));
			break;
		}
		const char *why = blocked(s, true);
		if (why || bl_now_ns() >= deadline) {
			step_blocked(s, sr, why ? why : "step-timeout", "the expect script");
			break;
		}
		pump(s, deadline);
	}
	bl_machine_stop(&child, 200);
	close(ep[0]);
	sb_release(&err);
	if (s->script_fd >= 0)
		close(s->script_fd);
	s->script_fd = -1;
	return rc;
}

/* the last phase the boot itself reached: END is where bootlab stopped it */
static const char *reached_phase(const struct bl_result *r)
{
	for (int p = BL_PH_END - 1; p >= 0; p--)
		if (r->phases[p].seen)
			return bl_phase_name((enum bl_phase_id)p);
	return "none";
}

static void finish_outcome(struct sess *s, int failed_step, const char *fail_why)
{
	struct bl_result *r = s->r;
	const struct bl_scenario *sc = s->sc;
	char d[300];
	bool panic_expected = false;
	for (size_t i = 0; i < sc->nsteps; i++)
		if (sc->steps[i].kind == BL_STEP_EXPECT_PANIC && r->steps[i].passed)
			panic_expected = true;

	/* the outcome the boot had on its own */
	enum bl_outcome natural;
	char *reason = NULL;
	if (s->panic_seen)
		bl_describe_panic(&r->panic, d, sizeof(d));
	if (s->panic_seen && !(panic_expected && failed_step < 0)) {
		natural = BL_OUT_PANIC;
		reason = xasprintf("kernel panic: %s", d);
	} else if (fail_why && !strcmp(fail_why, "deadline")) {
		natural = BL_OUT_TIMEOUT;
		reason = xasprintf("boot deadline of %d ms reached; last phase: %s", sc->timeout_ms,
				   reached_phase(r));
	} else if (fail_why && !strcmp(fail_why, "step-timeout")) {
		natural = BL_OUT_TIMEOUT;
		reason = xasprintf("step %d (%s): %s; last phase: %s", failed_step + 1,
				   r->steps[failed_step].name, r->steps[failed_step].message,
				   reached_phase(r));
	} else if (s->m.exited && !r->phases[BL_PH_CONSOLE].seen &&
		   !(WIFEXITED(s->m.status) && WEXITSTATUS(s->m.status) == 0)) {
		natural = BL_OUT_EMU_ERROR;
		reason = xasprintf("the emulator %s without console output: %s",
				   bl_describe_status(s->m.status), sb_str(&s->emu_err));
	} else if (failed_step >= 0) {
		natural = BL_OUT_FAIL;
		reason = xasprintf("step %d (%s): %s", failed_step + 1, r->steps[failed_step].name,
				   r->steps[failed_step].message);
	} else {
		natural = BL_OUT_PASS;
		if (s->panic_seen)
			reason = xasprintf("expected kernel panic: %s", d);
	}

	/* an `outcome:` step turns the boot's own outcome into the verdict,
	 * unless an earlier step already failed on its own terms */
	for (size_t i = 0; i < sc->nsteps; i++) {
		const struct bl_step *st = &sc->steps[i];
		enum bl_outcome want;
		if (st->kind != BL_STEP_EXPECT_OUTCOME || bl_outcome_parse(st->outcome, &want) < 0)
			continue;
		if (failed_step >= 0 && (size_t)failed_step < i && natural == BL_OUT_FAIL)
			break;
		struct bl_step_result *sr = &r->steps[i];
		sr->skipped = false;
		if (want == natural) {
			sr->passed = true;
			if (want != BL_OUT_PASS) {
				char *why = reason;
				reason = xasprintf("expected %s: %s", st->outcome, why ? why : "");
				free(why);
			}
			natural = BL_OUT_PASS;
		} else {
			sr->passed = false;
			free(sr->message);
			sr->message = xasprintf("outcome was %s, expected %s", bl_outcome_name(natural),
						st->outcome);
			if (natural == BL_OUT_PASS) {
				natural = BL_OUT_FAIL;
				free(reason);
				reason = xasprintf("step %zu (%s): %s", i + 1, sr->name, sr->message);
			}
		}
		break;
	}
	r->outcome = natural;
	free(r->reason);
	r->reason = reason;
}

static void sigpipe_ignore(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};
	sigaction(SIGPIPE, &sa, NULL);
}

/* the last panic= word of the command line decides what a panic does */
static int64_t panic_grace(const char *cmdline)
{
	long val = 0; /* the kernel's default here: CONFIG_PANIC_TIMEOUT=0 */
	for (const char *p = cmdline; p && (p = strstr(p, "panic=")); p += 6)
		if (p == cmdline || p[-1] == ' ')
			val = strtol(p + 6, NULL, 10);
	if (val == 0)
		return PANIC_HANG_MS * 1000000LL;
	return ((val > 0 ? val * 1000 : 0) + PANIC_EXIT_MS) * 1000000LL;
}

static char *safe_name(const char *name)
{
	char *s = xstrdup(name);
	for (char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			*p = *p == '=' ? '-' : '_';
	return s;
}

int bl_session_run(const struct bl_scenario *sc, const struct bl_prepared *prep,
		   const struct bl_session_opts *opts, struct bl_result *r)
{
	struct sess s = {0};
	s.sc = sc;
	s.opts = opts;
	s.r = r;
	s.replies = json_object();
	s.script_fd = -1;
	sigpipe_ignore();
	r->sc = sc;
	r->emulator_status = -1;
	r->start_wall = (int64_t)time(NULL);
	r->nsteps = sc->nsteps;
	r->steps = xcalloc(sc->nsteps ? sc->nsteps : 1, sizeof(*r->steps));
	for (size_t i = 0; i < sc->nsteps; i++) {
		r->steps[i].name = xstrdup(sc->steps[i].name ? sc->steps[i].name
							     : bl_step_kind_name(sc->steps[i].kind));
		r->steps[i].kind = bl_step_kind_name(sc->steps[i].kind);
		r->steps[i].skipped = true;
	}
	for (int p = 0; p < BL_PH_COUNT; p++)
		r->phases[p].guest_s = -1;
	r->kernel_image = xstrdup(prep->kernel);
	r->initrd = prep->initrd ? xstrdup(prep->initrd) : NULL;

	if (opts->report_dir) {
		char *sn = safe_name(sc->name);
		if (opts->run_index > 0)
			r->console_log = xasprintf("%s/%s.r%d.console.log", opts->report_dir, sn, opts->run_index);
		else
			r->console_log = xasprintf("%s/%s.console.log", opts->report_dir, sn);
		free(sn);
		s.log = fopen(r->console_log, "w");
		if (s.log) /* line by line: `tail -f` shows a running boot */
			setvbuf(s.log, NULL, _IOLBF, 0);
	}

	char *cmdline = prep->cmdline_extra
			    ? xasprintf("%s %s", prep->cmdline_extra, sc->cmdline ? sc->cmdline : "")
			    : xstrdup(sc->cmdline ? sc->cmdline : "");
	struct bl_machine_plan plan = {
	    .arch = prep->arch ? prep->arch : sc->arch,
	    .backend = sc->backend,
	    .machine = prep->machine ? prep->machine : sc->machine,
	    .virtio = prep->virtio,
	    .kernel = prep->kernel,
	    .kernel_kind = prep->kernel_kind,
	    .virtio_mmio_cmdline = prep->virtio_mmio_cmdline,
	    .initrd = prep->initrd,
	    .cmdline = cmdline,
	    .memory_mb = sc->memory_mb,
	    .disks = (const char *const *)prep->disks,
	    .ndisks = prep->ndisks,
	    .extra_args = (const char *const *)sc->emulator_args,
	    .workdir = opts->workdir,
	    .connect = opts->connect,
	    .interactive = opts->interactive,
	};
	s.t0 = bl_now_ns();
	int64_t start = s.t0;
	if (bl_machine_start(&plan, &s.m) < 0) {
		r->outcome = bl_err_last_kind() == BL_EK_INFRA ? BL_OUT_EMU_ERROR : BL_OUT_SETUP_ERROR;
		r->reason = xstrdup(bl_errmsg());
		goto out;
	}
	r->emulator_command = xstrdup(s.m.command);
	r->emulator_cpu = s.m.cpu_pin;
	if (bl_start_ns > 0 && start > bl_start_ns)
		r->spawn_ns = start - bl_start_ns;
	s.panic_grace_ns = panic_grace(s.m.full_cmdline);
	/* UML ends every panic in SIGABRT whatever panic= says
	 * (docs/kernel-behaviour.md section 6): wait for that, it is what the
	 * report should show */
	if (sc->backend && !strcmp(sc->backend, "uml") && s.panic_grace_ns < PANIC_EXIT_MS * 1000000LL)
		s.panic_grace_ns = PANIC_EXIT_MS * 1000000LL;
	r->kernel_cmdline = xstrdup(s.m.full_cmdline ? s.m.full_cmdline : "");
	phase(&s, BL_PH_SPAWN, -1);
	s.boot_deadline = s.t0 + (int64_t)(sc->timeout_ms > 0 ? sc->timeout_ms : 60000) * 1000000;

	int failed = -1;
	const char *fail_why = NULL;
	for (size_t i = 0; i < sc->nsteps; i++) {
		struct bl_step_result *sr = &r->steps[i];
		sr->skipped = false;
		sr->start_ns = since(&s);
		int rc = run_step(&s, &sc->steps[i], sr);
		sr->end_ns = since(&s);
		sr->passed = rc == 0;
		if (rc < 0) {
			failed = (int)i;
			if (sr->message && strstr(sr->message, "timed out waiting"))
				fail_why = "step-timeout";
			else if (sr->message && strstr(sr->message, "boot deadline reached"))
				fail_why = "deadline";
			/* an outcome step at the end still gets its say */
			break;
		}
	}
	/* after a panic the emulator leaves by itself (panic=-1/N, UML's
	 * SIGABRT) or hangs (panic=0): give it its grace, so the report shows
	 * its own exit rather than our kill */
	while (!s.ended && s.panic_seen && !bl_session_interrupted &&
	       bl_now_ns() < s.panic_ns + s.panic_grace_ns && bl_now_ns() < s.boot_deadline)
		pump(&s, s.panic_ns + s.panic_grace_ns);
	/* the boot is over once the steps are: let a requested poweroff finish */
	if (!s.ended && s.poweroff_requested && !s.panic_seen) {
		int64_t dl = bl_now_ns() + 10000000000LL;
		if (dl > s.boot_deadline)
			dl = s.boot_deadline;
		while (!s.ended && bl_now_ns() < dl && !bl_session_interrupted)
			pump(&s, dl);
	}
	/* an expected outcome with no other step: wait for the boot to end */
	bool wait_end = opts->interactive;
	for (size_t i = 0; i < sc->nsteps; i++)
		if (sc->steps[i].kind == BL_STEP_EXPECT_OUTCOME)
			wait_end = true;
	if (wait_end && failed < 0) {
		while (!s.ended && !blocked(&s, true))
			pump(&s, s.boot_deadline);
		if (!s.ended && bl_now_ns() >= s.boot_deadline)
			fail_why = "deadline";
	}
	if (bl_session_interrupted && !fail_why)
		fail_why = "interrupted";
	end_machine(&s);
	finish_outcome(&s, failed, fail_why);
	if (bl_session_interrupted && r->outcome == BL_OUT_PASS) {
		r->outcome = BL_OUT_FAIL;
		free(r->reason);
		r->reason = xstrdup("interrupted");
	}
out:
	end_machine(&s);
	if (s.m.exited)
		r->emulator_status = s.m.status;
	r->duration_ns = bl_now_ns() - start;
	r->emulator_stderr = sb_detach(&s.emu_err, NULL);
	r->tail = xcalloc(s.ntail + 1, sizeof(char *));
	for (size_t i = 0; i < s.ntail; i++)
		r->tail[i] = s.tail[i];
	if (s.log)
		fclose(s.log);
	free(s.m.command);
	free(s.m.full_cmdline);
	sb_release(&s.con);
	sb_release(&s.ag);
	sl_release(&s.lines);
	json_decref(s.replies);
	free(cmdline);
	return 0;
}
