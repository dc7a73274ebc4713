/* The steps of one boot and its outcome. Each step waits on the poll loop
 * (loop.c) through sess_wait() and records why it stopped as an enum
 * bl_stop; the outcome is decided from those causes, not from the words
 * of any message. */
#include "session/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_STEP_MS 30000
#define POWEROFF_WAIT_NS 10000000000LL

/* SB + "the initramfs started its emergency shell: LINE after UNIT",
 * the unit when systemd gave up on one */
static void shell_words(const struct sess *s, struct strbuf *sb)
{
	sb_adds(sb, "the initramfs started its emergency shell: ");
	sb_add_quoted(sb, s->shell_line);
	if (s->unit_failure) {
		sb_adds(sb, " after ");
		sb_add_quoted(sb, s->unit_failure);
	}
}

/* SB + what a timed-out boot was waiting in, when its initramfs said so;
 * detached */
static char *waited_in(const struct sess *s, struct strbuf *sb)
{
	if (s->shell_line) {
		sb_adds(sb, "; ");
		shell_words(s, sb);
	}
	return sb_detach(sb, NULL);
}

/* Why a step could not finish: records the cause and says it. */
static int step_stop(struct sess *s, struct bl_step_result *sr, enum bl_stop why, const char *what)
{
	char d[300];
	sr->stop = why;
	switch (why) {
	case BL_STOP_PANIC:
		bl_describe_panic(&s->r->panic, d, sizeof(d));
		sr->message = xasprintf("kernel panic (%s) while waiting for %s", d, what);
		break;
	case BL_STOP_ENDED:
		sr->message = xasprintf("the emulator exited (%s) while waiting for %s",
					bl_describe_status(s->m.status), what);
		break;
	case BL_STOP_STEP_TIMEOUT:
		sr->message = xasprintf("timed out waiting for %s", what);
		break;
	case BL_STOP_DEADLINE:
		sr->message = xasprintf("boot deadline reached while waiting for %s", what);
		break;
	case BL_STOP_SHELL: {
		struct strbuf sb = STRBUF_INIT;
		shell_words(s, &sb);
		sb_addf(&sb,
			", and its console stayed quiet for %lld s (nobody types into a "
			"gate's console) while waiting for %s",
			SESS_SHELL_QUIET_NS / 1000000000LL, what);
		sr->message = sb_detach(&sb, NULL);
		break;
	}
	case BL_STOP_INTERRUPTED:
	case BL_STOP_DONE:
		sr->message = xasprintf("interrupted while waiting for %s", what);
		break;
	}
	return -1;
}

/* the step's `expect:` assertions on DOC */
static int step_expect(const struct bl_step *st, struct bl_step_result *sr, json_t *doc)
{
	for (size_t i = 0; i < st->nasserts; i++)
		if (bl_assert_check(&st->asserts[i], doc) < 0) {
			sr->message = xstrdup(bl_errmsg());
			return -1;
		}
	return 0;
}

/* ---- hello ---- */

struct hello_wait {
	int stage; /* 1, 2, or 0 for either */
	json_t *hello;
};

static bool hello_ready(struct sess *s, void *arg)
{
	struct hello_wait *w = arg;
	struct bl_result *r = s->r;
	w->hello = w->stage == 2   ? r->hello2
		   : w->stage == 1 ? r->hello
		   : r->hello2	   ? r->hello2
				   : r->hello;
	return w->hello != NULL;
}

/* a refused switch_root answers with an error instead of the stage-2
 * hello: that answer is the failure, not the wait */
static bool hello_refused(struct sess *s, struct bl_step_result *sr, const char *what)
{
	json_t *err = NULL, *v;
	const char *k;
	json_object_foreach(s->replies, k, v) if (!json_is_true(json_object_get(v, "ok"))) err = v;
	if (!err)
		return false;
	sr->message = xasprintf("no %s; the agent answered: %s", what,
				json_string_value(json_object_get(err, "message")));
	return true;
}

static int step_hello(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
		      int64_t deadline)
{
	char what[64];
	snprintf(what, sizeof(what), "the agent's %shello", st->stage == 2 ? "stage-2 " : "");
	struct hello_wait w = {.stage = st->stage};
	enum bl_stop why = sess_wait(s, deadline, false, hello_ready, &w);
	if (why == BL_STOP_STEP_TIMEOUT && hello_refused(s, sr, what))
		return -1;
	if (why != BL_STOP_DONE)
		return step_stop(s, sr, why, what);
	sr->reply = json_incref(w.hello);
	return step_expect(st, sr, w.hello);
}

/* ---- console ---- */

struct line_wait {
	const struct bl_step *st;
	char *prompt; /* the unfinished last line it matched, or NULL */
};

/* a console line matching the step's regex, or else the unfinished last
 * line: a prompt ("Enter passphrase for /dev/vda: ") waits for an answer
 * without a newline. The line it becomes later is skipped by the cursor. */
static bool line_ready(struct sess *s, void *arg)
{
	struct line_wait *w = arg;
	for (; s->line_cursor < s->lines.n; s->line_cursor++)
		if (regexec(&w->st->re, s->lines.v[s->line_cursor], 0, NULL, 0) == 0)
			return true;
	if (s->con.len && regexec(&w->st->re, sb_str(&s->con), 0, NULL, 0) == 0) {
		w->prompt = xstrdup(sb_str(&s->con));
		return true;
	}
	return false;
}

static int step_console_wait(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
			     int64_t deadline)
{
	char what[300];
	snprintf(what, sizeof(what), "a console line matching /%s/", st->regex);
	/* a console wait may look for the panic itself */
	struct line_wait w = {.st = st};
	enum bl_stop why = sess_wait(s, deadline, true, line_ready, &w);
	if (why != BL_STOP_DONE)
		return step_stop(s, sr, why, what);
	if (w.prompt) {
		sr->reply = json_pack("{s:s,s:b}", "line", w.prompt, "prompt", 1);
		s->line_cursor = s->lines.n + 1;
		free(w.prompt);
		return 0;
	}
	sr->reply = json_pack("{s:s}", "line", s->lines.v[s->line_cursor]);
	s->line_cursor++;
	return 0;
}

/* the console quiet for QUIET_MS: a program that printed a prompt may
 * still be setting its terminal up (cryptsetup turns echo off with
 * TCSAFLUSH, which drops input that arrived before) */
static bool quiet_ready(struct sess *s, void *arg)
{
	return bl_now_ns() >= s->con_last_ns + *(const int64_t *)arg;
}

static enum bl_stop wait_quiet(struct sess *s, int quiet_ms, int64_t deadline)
{
	int64_t q = (int64_t)quiet_ms * 1000000;
	for (;;) {
		int64_t until = s->con_last_ns + q;
		enum bl_stop why =
		    sess_wait(s, until < deadline ? until : deadline, false, quiet_ready, &q);
		if (why != BL_STOP_STEP_TIMEOUT || bl_now_ns() >= deadline)
			return why;
	}
}

static int step_console_send(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
			     int64_t deadline)
{
	enum bl_stop why = st->quiet_ms ? wait_quiet(s, st->quiet_ms, deadline) : BL_STOP_DONE;
	if (why != BL_STOP_DONE)
		return step_stop(s, sr, why, "a quiet console");
	why = sess_blocked(s, false);
	if (why != BL_STOP_DONE)
		return step_stop(s, sr, why, "the console");
	size_t len = strlen(st->text);
	if (write(s->m.console_fd, st->text, len) != (ssize_t)len) {
		sr->message = xasprintf("cannot write to the console: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- agent requests ---- */

static bool hello_any(struct sess *s, void *arg)
{
	return s->r->hello || s->r->hello2;
}

struct reply_wait {
	int id;
	json_t *reply; /* taken from the session (owned) */
};

static bool reply_ready(struct sess *s, void *arg)
{
	struct reply_wait *w = arg;
	w->reply = sess_take_reply(s, w->id);
	/* poweroff may end the machine before its reply is read */
	return w->reply || (s->poweroff_requested && s->ended && !s->panic_seen);
}

/* the reply against what the step expects: success or the named error,
 * then its assertions */
static int check_reply(const struct bl_step *st, struct bl_step_result *sr, const char *op,
		       json_t *rep)
{
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
			sr->message =
			    xasprintf("'%s' failed with %s (%s), expected %s", op,
				      ename ? ename : "?", emsg ? emsg : "", st->expect_errno);
			return -1;
		}
	} else if (!ok) {
		sr->message =
		    xasprintf("'%s' failed: %s (%s)", op, emsg ? emsg : "?", ename ? ename : "?");
		return -1;
	}
	return step_expect(st, sr, rep);
}

static int step_agent(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
		      int64_t deadline)
{
	const char *op = json_string_value(json_object_get(st->request, "op"));
	char what[300];
	snprintf(what, sizeof(what), "the agent's reply to '%s'", op ? op : "?");
	/* the agent must have said hello before it can take requests */
	enum bl_stop why = sess_wait(s, deadline, false, hello_any, NULL);
	if (why != BL_STOP_DONE)
		return step_stop(s, sr, why, "the agent's hello");
	if ((why = sess_blocked(s, false)) != BL_STOP_DONE)
		return step_stop(s, sr, why, what);
	if (op && !strcmp(op, "switch_root"))
		sess_phase(s, BL_PH_SWITCH_ROOT, -1);
	if (op && (!strcmp(op, "poweroff") || !strcmp(op, "reboot")))
		s->poweroff_requested = true;
	struct reply_wait w = {0};
	if (sess_send(s, st->request, &w.id) < 0) {
		sr->message = xstrdup(bl_errmsg());
		return -1;
	}
	if (st->no_reply)
		return 0;
	if ((why = sess_wait(s, deadline, false, reply_ready, &w)) != BL_STOP_DONE)
		return step_stop(s, sr, why, what);
	if (!w.reply) /* powered off before it answered */
		return 0;
	sr->reply = w.reply;
	return check_reply(st, sr, op, w.reply);
}

/* ---- panic ---- */

static bool panic_ready(struct sess *s, void *arg)
{
	return s->panic_seen;
}

static int step_panic(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
		      int64_t deadline)
{
	enum bl_stop why = sess_wait(s, deadline, true, panic_ready, NULL);
	if (why != BL_STOP_DONE)
		return step_stop(s, sr, why, "a kernel panic");
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
		sr->message =
		    xasprintf("panic was '%s', expected exit status %d", d, st->panic_status);
		return -1;
	}
	if (st->panic_signal >= 0 && c->signal != st->panic_signal) {
		sr->message = xasprintf("panic was '%s', expected signal %d %s", d,
					st->panic_signal, bl_signame(st->panic_signal));
		return -1;
	}
	return 0;
}

static int step_outcome(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
			int64_t deadline)
{
	/* decided once the boot is over (apply_outcome_step) */
	return 0;
}

/* ---- expect-script: a real Expect process with the console on its stdin
 * and stdout; its exit status is the step's result ---- */

struct script {
	struct bl_machine child;
	int err_fd; /* its stderr: the last line goes into the message */
	struct strbuf err;
	bool err_eof;
};

static void script_read_err(struct script *x)
{
	while (!x->err_eof && x->err.len < 4096 && sess_read(x->err_fd, &x->err, &x->err_eof) > 0)
		;
}

static bool script_ready(struct sess *s, void *arg)
{
	struct script *x = arg;
	script_read_err(x);
	return bl_machine_poll_exit(&x->child);
}

static int script_start(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
			struct script *x)
{
	int sp[2], ep[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		sr->message = xasprintf("socketpair: %s", strerror(errno));
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(sp[0]);
		close(sp[1]);
		sr->message = xasprintf("pipe: %s", strerror(errno));
		return -1;
	}
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	x->child =
	    (struct bl_machine){.console_fd = -1, .agent_fd = -1, .stderr_fd = -1, .qmp_fd = -1};
	char *argv[] = {"expect", "-f", st->script, NULL};
	int rc = bl_machine_spawn(&x->child, argv, sp[1], ep[1], NULL, 0);
	close(sp[1]);
	close(ep[1]);
	if (rc < 0) {
		close(sp[0]);
		close(ep[0]);
		sr->message = xstrdup(bl_errmsg());
		return -1;
	}
	x->err_fd = ep[0];
	s->script_fd = sp[0];
	s->script_pidfd = x->child.pidfd;
	return 0;
}

/* what the console said since the last wait, and the line in progress (a
 * shell's prompt has no newline yet), so the script can match the prompt */
static void script_feed(struct sess *s)
{
	for (size_t i = s->line_cursor; i < s->lines.n; i++) {
		if (write(s->script_fd, s->lines.v[i], strlen(s->lines.v[i])) < 0 ||
		    write(s->script_fd, "\n", 1) < 0)
			break;
	}
	s->line_cursor = s->lines.n;
	if (s->con.len && write(s->script_fd, s->con.buf, s->con.len) < 0)
		bl_debug("expect script: write failed");
}

/* the script exited: its verdict, with its last words on failure */
static int script_verdict(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
			  struct script *x)
{
	/* what it sent just before exiting still goes to the console */
	char buf[4096];
	ssize_t n;
	while (s->script_fd >= 0 && s->m.console_fd >= 0 &&
	       (n = recv(s->script_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		if (write(s->m.console_fd, buf, (size_t)n) < 0)
			break;
	script_read_err(x);
	struct strbuf *err = &x->err;
	while (err->len && (err->buf[err->len - 1] == '\n' || err->buf[err->len - 1] == '\r'))
		err->buf[--err->len] = 0;
	const char *last = err->len ? strrchr(err->buf, '\n') : NULL;
	last = last ? last + 1 : err->len ? err->buf : NULL;
	int status = x->child.status;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (last && *last)
		sr->message = xasprintf("expect script '%s' %s: %s", st->script,
					bl_describe_status(status), last);
	else
		sr->message =
		    xasprintf("expect script '%s' %s", st->script, bl_describe_status(status));
	return -1;
}

static int step_script(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
		       int64_t deadline)
{
	struct script x = {.err = STRBUF_INIT};
	if (script_start(s, st, sr, &x) < 0)
		return -1;
	script_feed(s);
	enum bl_stop why = sess_wait(s, deadline, true, script_ready, &x);
	int rc = why == BL_STOP_DONE ? script_verdict(s, st, sr, &x)
				     : step_stop(s, sr, why, "the expect script");
	s->script_pidfd = -1;
	bl_machine_stop(&x.child, 200);
	free(x.child.command); /* bl_machine_spawn()'s; the session frees its emulator's */
	sl_release(&x.child.argv);
	close(x.err_fd);
	sb_release(&x.err);
	if (s->script_fd >= 0)
		close(s->script_fd);
	s->script_fd = -1;
	return rc;
}

/* ---- the boot ---- */

typedef int step_fn(struct sess *s, const struct bl_step *st, struct bl_step_result *sr,
		    int64_t deadline);
static step_fn *const step_fns[] = {
    [BL_STEP_HELLO] = step_hello,
    [BL_STEP_CONSOLE_WAIT] = step_console_wait,
    [BL_STEP_CONSOLE_SEND] = step_console_send,
    [BL_STEP_AGENT] = step_agent,
    [BL_STEP_EXPECT_PANIC] = step_panic,
    [BL_STEP_EXPECT_OUTCOME] = step_outcome,
    [BL_STEP_EXPECT_SCRIPT] = step_script,
};

/* the steps in order until one fails: its index (or -1), its stop cause */
static int run_steps(struct sess *s, enum bl_stop *stop)
{
	const struct bl_scenario *sc = s->sc;
	for (size_t i = 0; i < sc->nsteps; i++) {
		const struct bl_step *st = &sc->steps[i];
		struct bl_step_result *sr = &s->r->steps[i];
		int64_t ms = st->timeout_ms > 0 ? st->timeout_ms : DEFAULT_STEP_MS;
		int64_t deadline = bl_now_ns() + ms * 1000000;
		if (deadline > s->boot_deadline)
			deadline = s->boot_deadline;
		sr->skipped = false;
		sr->start_ns = sess_since(s);
		int rc = step_fns[st->kind](s, st, sr, deadline);
		sr->end_ns = sess_since(s);
		sr->passed = rc == 0;
		if (rc < 0) {
			*stop = sr->stop;
			/* an outcome step at the end still gets its say */
			return (int)i;
		}
	}
	return -1;
}

static bool has_step(const struct bl_scenario *sc, enum bl_step_kind k)
{
	for (size_t i = 0; i < sc->nsteps; i++)
		if (sc->steps[i].kind == k)
			return true;
	return false;
}

/* After the steps: the emulator's own end, when it has one to come.
 * Returns STOP, or BL_STOP_DEADLINE when the boot ran out waiting. */
static enum bl_stop wait_for_end(struct sess *s, int failed, enum bl_stop stop)
{
	/* after a panic the emulator leaves by itself (panic=-1/N, UML's
	 * SIGABRT) or hangs (panic=0): give it its grace, so the report shows
	 * its own exit rather than our kill */
	if (!s->ended && s->panic_seen)
		sess_wait(s, s->panic_ns + s->panic_grace_ns, true, sess_ended, NULL);
	/* the boot is over once the steps are: let a requested poweroff finish */
	if (!s->ended && s->poweroff_requested && !s->panic_seen) {
		int64_t dl = bl_now_ns() + POWEROFF_WAIT_NS;
		sess_wait(s, dl < s->boot_deadline ? dl : s->boot_deadline, true, sess_ended, NULL);
	}
	/* an expected outcome, or bootlab boot without --expect: wait for the
	 * boot to end */
	bool wait_end =
	    (s->opts->interactive && !s->sc->nsteps) || has_step(s->sc, BL_STEP_EXPECT_OUTCOME);
	if (wait_end && failed < 0) {
		sess_wait(s, s->boot_deadline, true, sess_ended, NULL);
		if (!s->ended && bl_now_ns() >= s->boot_deadline)
			stop = BL_STOP_DEADLINE;
	}
	return stop;
}

/* the last phase the boot itself reached: END is where bootlab stopped it */
static const char *reached_phase(const struct bl_result *r)
{
	for (int p = BL_PH_END - 1; p >= 0; p--)
		if (r->phases[p].seen)
			return bl_phase_name((enum bl_phase_id)p);
	return "none";
}

/* why a restart nobody asked for ended the boot: the guest's last words
 * before it, and the step that was still waiting */
static char *reboot_reason(const struct sess *s, const struct bl_step_result *fs, int failed)
{
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "the guest restarted by itself (reboot: Restarting system)");
	if (s->restart_words)
		sb_addf(&sb, " after %s", s->restart_words);
	if (fs)
		sb_addf(&sb, "; step %d (%s): %s", failed + 1, fs->name, fs->message);
	return sb_detach(&sb, NULL);
}

/* the outcome the boot had on its own, and why (*REASON, caller frees) */
static enum bl_outcome natural_outcome(struct sess *s, int failed, enum bl_stop stop, char **reason)
{
	struct bl_result *r = s->r;
	const struct bl_step_result *fs = failed >= 0 ? &r->steps[failed] : NULL;
	char d[300];
	*reason = NULL;
	if (s->panic_seen)
		bl_describe_panic(&r->panic, d, sizeof(d));
	bool panic_expected = false;
	for (size_t i = 0; i < s->sc->nsteps; i++)
		if (s->sc->steps[i].kind == BL_STEP_EXPECT_PANIC && r->steps[i].passed)
			panic_expected = true;
	if (s->panic_seen && !(panic_expected && !fs)) {
		*reason = xasprintf("kernel panic: %s", d);
		return BL_OUT_PANIC;
	}
	if (s->unasked_restart) {
		*reason = reboot_reason(s, fs, failed);
		return BL_OUT_REBOOT;
	}
	struct strbuf sb = STRBUF_INIT;
	if (stop == BL_STOP_DEADLINE) {
		sb_addf(&sb, "boot deadline of %d ms reached; last phase: %s", s->sc->timeout_ms,
			reached_phase(r));
		*reason = waited_in(s, &sb);
		return BL_OUT_TIMEOUT;
	}
	if (stop == BL_STOP_STEP_TIMEOUT && fs) {
		sb_addf(&sb, "step %d (%s): %s; last phase: %s", failed + 1, fs->name, fs->message,
			reached_phase(r));
		*reason = waited_in(s, &sb);
		return BL_OUT_TIMEOUT;
	}
	if (s->m.exited && !r->phases[BL_PH_CONSOLE].seen &&
	    !(WIFEXITED(s->m.status) && WEXITSTATUS(s->m.status) == 0)) {
		*reason = xasprintf("the emulator %s without console output: %s",
				    bl_describe_status(s->m.status), sb_str(&s->emu_err));
		return BL_OUT_EMU_ERROR;
	}
	if (fs) {
		*reason = xasprintf("step %d (%s): %s", failed + 1, fs->name, fs->message);
		return BL_OUT_FAIL;
	}
	if (s->panic_seen)
		*reason = xasprintf("expected kernel panic: %s", d);
	return BL_OUT_PASS;
}

/* an `outcome:` step turns the boot's own outcome into the verdict,
 * unless an earlier step already failed on its own terms */
static void apply_outcome_step(struct sess *s, int failed, enum bl_outcome *out, char **reason)
{
	const struct bl_scenario *sc = s->sc;
	for (size_t i = 0; i < sc->nsteps; i++) {
		const struct bl_step *st = &sc->steps[i];
		enum bl_outcome want;
		if (st->kind != BL_STEP_EXPECT_OUTCOME || bl_outcome_parse(st->outcome, &want) < 0)
			continue;
		if (failed >= 0 && (size_t)failed < i && *out == BL_OUT_FAIL)
			return;
		/* `outcome: pass` after a step that failed adds no verdict of its
		 * own: it stays unjudged, so one failure is counted once */
		if (failed >= 0 && (size_t)failed < i && want == BL_OUT_PASS)
			return;
		struct bl_step_result *sr = &s->r->steps[i];
		sr->skipped = false;
		sr->passed = want == *out;
		if (sr->passed) {
			if (want != BL_OUT_PASS) {
				char *why = *reason;
				*reason = xasprintf("expected %s: %s", st->outcome, why ? why : "");
				free(why);
			}
			*out = BL_OUT_PASS;
			return;
		}
		free(sr->message);
		sr->message =
		    xasprintf("outcome was %s, expected %s", bl_outcome_name(*out), st->outcome);
		if (*out == BL_OUT_PASS) {
			*out = BL_OUT_FAIL;
			free(*reason);
			*reason = xasprintf("step %zu (%s): %s", i + 1, sr->name, sr->message);
		}
		return;
	}
}

/* what bootlab dropped of a flooding (or forging) guest, for the reason;
 * NULL: nothing */
static char *flood_note(const struct bl_truncated *t)
{
	if (!t->log_bytes && !t->lines && !t->events && !t->replies)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "bootlab dropped guest output:");
	if (t->log_bytes)
		sb_addf(&sb, " console log truncated (%llu bytes not kept);", t->log_bytes);
	if (t->lines)
		sb_addf(&sb, " %zu console lines dropped unread;", t->lines);
	if (t->events)
		sb_addf(&sb, " %zu console events not kept;", t->events);
	if (t->replies)
		sb_addf(&sb, " %zu agent lines answering no request dropped;", t->replies);
	sb.buf[--sb.len] = 0;
	return sb_detach(&sb, NULL);
}

/* does the scenario wait for a panic (a panic step, outcome: panic)? */
static bool panic_expected(const struct bl_scenario *sc)
{
	for (size_t i = 0; i < sc->nsteps; i++) {
		const struct bl_step *st = &sc->steps[i];
		if (st->kind == BL_STEP_EXPECT_PANIC ||
		    (st->kind == BL_STEP_EXPECT_OUTCOME && !strcmp(st->outcome, "panic")))
			return true;
	}
	return false;
}

static bool report_matches(const struct bl_expect_report *e, const struct bl_kreport *k)
{
	if (e->cls != k->cls)
		return false;
	return !e->title || regexec(&e->title_re, k->title, 0, NULL, 0) == 0;
}

static bool report_expected(const struct bl_scenario *sc, const struct bl_kreport *k)
{
	for (size_t i = 0; i < sc->nexpect_reports; i++)
		if (report_matches(&sc->expect_reports[i], k))
			return true;
	return false;
}

static void fail_for(enum bl_outcome *out, char **reason, char *why)
{
	*out = BL_OUT_FAIL;
	free(*reason);
	*reason = why;
}

/* each report's verdict: it fails the boot when `fail-on:` names its class,
 * unless `expect-report:` expects it or it is a panic the scenario waits for */
static void judge_kreports(struct sess *s)
{
	const struct bl_scenario *sc = s->sc;
	bool panic_ok = panic_expected(sc);
	for (size_t k = 0; k < s->r->nkreports; k++) {
		struct bl_kreport *kr = &s->r->kreports[k];
		kr->fails = bl_kpolicy_fails(&sc->kpolicy, kr->cls) && !report_expected(sc, kr) &&
			    !(panic_ok && kr->cls == BL_KC_PANIC);
	}
}

/* A boot whose steps passed fails on a kernel report that fails it
 * (judge_kreports, docs/kernel-reports.md), or when a report it expects is
 * not there. */
static void apply_kreports(struct sess *s, enum bl_outcome *out, char **reason)
{
	const struct bl_scenario *sc = s->sc;
	const struct bl_result *r = s->r;
	judge_kreports(s);
	if (*out != BL_OUT_PASS)
		return;
	for (size_t i = 0; i < sc->nexpect_reports; i++) {
		const struct bl_expect_report *e = &sc->expect_reports[i];
		bool seen = false;
		for (size_t k = 0; k < r->nkreports && !seen; k++)
			seen = report_matches(e, &r->kreports[k]);
		if (!seen)
			return fail_for(out, reason,
					xasprintf("expected kernel report %s%s%s not seen",
						  bl_kclass_name(e->cls),
						  e->title ? " titled " : "",
						  e->title ? e->title : ""));
	}
	for (size_t k = 0; k < r->nkreports; k++) {
		const struct bl_kreport *kr = &r->kreports[k];
		if (kr->fails)
			return fail_for(out, reason,
					xasprintf("kernel report (%s): %s", bl_kclass_name(kr->cls),
						  kr->title));
	}
}

/* An observed boot whose PID 1 exited: what it ran and what failed,
 * before the kernel's panic; one that ran out of time in stage 1: what
 * still ran, after the timeout's reason */
static void init_died(struct sess *s, enum bl_outcome out, char **reason)
{
	char *why = NULL, *both;
	if (s->r->observed.on && out == BL_OUT_PANIC)
		why = bl_obs_why_init_died(&s->r->observed, s->tail, s->ntail, s->ncon);
	else if (s->r->observed.on && out == BL_OUT_TIMEOUT)
		why = bl_obs_still_running(&s->r->observed);
	if (!why)
		return;
	if (!*reason)
		both = xstrdup(why);
	else if (out == BL_OUT_PANIC)
		both = xasprintf("%s; %s", why, *reason);
	else
		both = xasprintf("%s; %s", *reason, why);
	free(why);
	free(*reason);
	*reason = both;
}

static void finish_outcome(struct sess *s, int failed, enum bl_stop stop)
{
	struct bl_result *r = s->r;
	char *reason;
	enum bl_outcome out = natural_outcome(s, failed, stop, &reason);
	init_died(s, out, &reason);
	/* before `outcome:`, which may expect the fail a report makes */
	sess_take_kreports(s);
	apply_kreports(s, &out, &reason);
	apply_outcome_step(s, failed, &out, &reason);
	/* what the boot showed before the signal stands (a panic, a reboot);
	 * anything else it did not get to finish */
	if (bl_session_interrupted() &&
	    (out == BL_OUT_PASS || out == BL_OUT_FAIL || out == BL_OUT_TIMEOUT)) {
		char *why = reason ? xasprintf("interrupted; %s", reason) : xstrdup("interrupted");
		free(reason);
		reason = why;
		out = BL_OUT_INTERRUPTED;
	}
	char *flood = flood_note(&r->truncated);
	if (flood) {
		char *why = reason ? xasprintf("%s; %s", reason, flood) : xstrdup(flood);
		free(reason);
		free(flood);
		reason = why;
	}
	r->outcome = out;
	free(r->reason);
	r->reason = reason;
}

int bl_session_run(const struct bl_scenario *sc, const struct bl_prepared *prep,
		   const struct bl_session_opts *opts, struct bl_result *r)
{
	struct sess s;
	if (sess_open(&s, sc, prep, opts, r) == 0) {
		enum bl_stop stop = BL_STOP_DONE;
		int failed = run_steps(&s, &stop);
		stop = wait_for_end(&s, failed, stop);
		/* --freeze: the outcome first, then the hold (freeze.c) */
		bool frozen = sess_freeze_end(&s, stop);
		if (!frozen)
			sess_end_machine(&s);
		finish_outcome(&s, failed, stop);
		sess_freeze_hold(&s);
		sess_end_machine(&s);
	}
	sess_close(&s);
	return 0;
}
