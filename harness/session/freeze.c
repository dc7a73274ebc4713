/* --freeze and --dump-memory (docs/repro.md, "Freezing a crashed
 * guest"): a guest that panicked or ran out of time is stopped through
 * QEMU's private QMP channel (machine/qmp.c) instead of ended; a boot
 * that did not pass then has its memory dumped on request (an ELF core
 * written by QEMU's dump-guest-memory, renamed into place only when whole)
 * and is held, its monitors and gdb stub open, until a signal, the hold
 * time or QEMU's exit. The caller ends QEMU after the hold, as always. */
#include "session/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define QMP_STOP_MS 5000
/* a dump writes the guest's whole memory: minutes at worst */
#define QMP_DUMP_MS 300000

int bl_freeze_check(const struct bl_freeze_opts *f, const char *backend)
{
	if (!f || (!f->on && !f->dump))
		return 0;
	const char *opt = f->on ? "--freeze" : "--dump-memory";
	if (!f->on)
		return bl_err("--dump-memory needs --freeze (the memory of a frozen guest is "
			      "dumped)");
	if (!backend || strcmp(backend, "qemu"))
		return bl_err("%s needs the qemu backend, not '%s' (bootlab stops and dumps a "
			      "guest through QEMU's monitor)",
			      opt, backend ? backend : "");
	return 0;
}

int sess_freeze_plan(struct sess *s, struct bl_machine_plan *plan)
{
	if (bl_freeze_check(s->opts->freeze, plan->backend) < 0)
		return -1;
	/* a panicking kernel stays where it panicked (panic=-1 would reset
	 * it); nokaslr puts the symbols where gdb looks for them */
	bl_cmdline_set(&plan->cmdline, "panic", "0");
	plan->panic = 0;
	bl_cmdline_default(&plan->cmdline, "nokaslr", NULL);
	plan->monitors = true;
	if (plan->gdb_port <= 0)
		plan->gdb_port = bl_qemu_free_port();
	s->fplan = *plan;
	s->fplan.cmdline = (struct bl_cmdline)BL_CMDLINE_INIT;
	return plan->gdb_port > 0 ? 0 : -1;
}

int sess_freeze(struct sess *s, const char *why)
{
	if (s->frozen)
		return 0;
	if (sess_qmp(s) < 0 || bl_qmp_execute(&s->qmp, "stop", NULL, QMP_STOP_MS, NULL) < 0) {
		bl_warn("--freeze: '%s' cannot be frozen: %s", s->sc->name, bl_errmsg());
		s->freeze_on = false;
		return -1;
	}
	s->frozen = true;
	s->frz = (struct bl_frozen){.on = true, .why = why, .at_ns = sess_since(s)};
	return 0;
}

bool sess_freeze_end(struct sess *s, enum bl_stop stop)
{
	if (s->frozen)
		return true;
	if (!s->freeze_on || s->ended || bl_session_interrupted())
		return false;
	const char *why = s->panic_seen			 ? "panic"
			  : stop == BL_STOP_DEADLINE	 ? "deadline"
			  : stop == BL_STOP_STEP_TIMEOUT ? "step-timeout"
							 : NULL;
	return why && sess_freeze(s, why) == 0;
}

/* where the core goes: the option's path, else beside the console log
 * (NAME[.aN][.rM].core), else NULL; caller frees */
static char *dump_path(const struct sess *s)
{
	const struct bl_freeze_opts *f = s->opts->freeze;
	if (f->dump_path)
		return xstrdup(f->dump_path);
	const char *log = s->r->console_log, *suffix = ".console.log";
	size_t n = log ? strlen(log) : 0, k = strlen(suffix);
	if (n <= k || strcmp(log + n - k, suffix))
		return NULL;
	return xasprintf("%.*s.core", (int)(n - k), log);
}

/* QEMU writes the core into PATH.tmp, made here first with mode 0600 (its
 * O_TRUNC keeps the mode), renamed to PATH when whole; -1 with a message */
static int dump_memory(struct sess *s, const char *path)
{
	char *tmp = xasprintf("%s.tmp", path);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = -1;
	if (fd < 0) {
		bl_err_errno("cannot make '%s'", tmp);
		goto out;
	}
	close(fd);
	char *proto = xasprintf("file:%s", tmp);
	json_t *args = json_pack("{s:b,s:s}", "paging", 0, "protocol", proto);
	free(proto);
	if (bl_qmp_execute(&s->qmp, "dump-guest-memory", args, QMP_DUMP_MS, NULL) < 0)
		goto out;
	if (chmod(tmp, 0600) < 0 || rename(tmp, path) < 0) {
		bl_err_errno("cannot put the memory dump in place as '%s'", path);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

const char *bl_frozen_what(const char *why)
{
	if (!strcmp(why, "panic"))
		return "kernel panic";
	return !strcmp(why, "deadline") ? "boot deadline" : "step timeout";
}

/* where the guest is held and how to reach it, on stderr */
static void announce(struct sess *s, const struct bl_machine_plan *plan)
{
	const struct bl_freeze_opts *f = s->opts->freeze;
	bool symbols;
	char *gdb = bl_gdb_command(plan->arch, plan->kernel, plan->gdb_port, &symbols);
	fprintf(stderr,
		"bootlab: '%s' frozen at %.3f s (%s); held until SIGINT/SIGTERM, %g s or QEMU "
		"exits\n",
		s->sc->name, bl_ns_to_s(s->frz.at_ns), bl_frozen_what(s->frz.why),
		f->hold_ms / 1000.0);
	fprintf(stderr, "  qemu pid:     %d\n", (int)s->m.pid);
	fprintf(stderr, "  monitor.sock: %s/%s (HMP)\n", plan->workdir, BL_QEMU_HMP_SOCK);
	fprintf(stderr, "  qmp.sock:     %s/%s (QMP)\n", plan->workdir, BL_QEMU_QMP_SOCK);
	fprintf(stderr, "  gdb:          %s%s\n", gdb, symbols ? "" : " (no vmlinux found)");
	if (f->dump)
		fprintf(stderr, "  memory dump:  %s\n",
			s->r->frozen.dump ? s->r->frozen.dump : "none");
	free(gdb);
}

/* stdin of bootlab boot while held: Ctrl-] or Ctrl-C (raw mode: a byte,
 * not a signal) ends the hold; the rest is dropped (the guest is stopped) */
static void hold_stdin(bool *eof)
{
	char buf[256];
	ssize_t n = read(0, buf, sizeof(buf));
	if (n <= 0) {
		*eof = !(n < 0 && errno == EINTR);
		return;
	}
	if (memchr(buf, 0x1d, (size_t)n) || memchr(buf, 0x03, (size_t)n))
		bl_session_interrupt();
}

/* the console while held (a user may `cont` the guest on the monitor):
 * read so QEMU never blocks on it, shown by bootlab boot */
static void hold_console(struct sess *s)
{
	char buf[4096];
	ssize_t n = read(s->m.console_fd, buf, sizeof(buf));
	if (n <= 0) {
		close(s->m.console_fd);
		s->m.console_fd = -1;
	} else if (s->opts->echo_console && write(1, buf, (size_t)n) < 0) {
		bl_debug("console: stdout write failed");
	}
}

/* wait for a signal, UNTIL (absolute ns) or QEMU's exit: which one */
static const char *hold(struct sess *s, int64_t until)
{
	bool stdin_eof = !s->opts->interactive;
	for (;;) {
		if (bl_session_interrupted())
			return "a signal";
		if (bl_machine_poll_exit(&s->m))
			return "QEMU exited";
		int64_t left = until - bl_now_ns();
		if (left <= 0)
			return "the hold time is over";
		struct pollfd p[4];
		int np = 0, icon = -1, iin = -1;
		int stop = bl_session_interrupt_fd();
		if (stop >= 0)
			p[np++] = (struct pollfd){.fd = stop, .events = POLLIN};
		if (s->m.pidfd > 0)
			p[np++] = (struct pollfd){.fd = s->m.pidfd, .events = POLLIN};
		if (s->m.console_fd >= 0)
			icon = np,
			p[np++] = (struct pollfd){.fd = s->m.console_fd, .events = POLLIN};
		if (!stdin_eof)
			iin = np, p[np++] = (struct pollfd){.fd = 0, .events = POLLIN};
		int ms = (int)((left + 999999) / 1000000);
		if (s->m.pidfd <= 0 && ms > 200)
			ms = 200;
		if (poll(p, (nfds_t)np, ms) <= 0)
			continue;
		if (icon >= 0 && p[icon].revents)
			hold_console(s);
		if (iin >= 0 && p[iin].revents)
			hold_stdin(&stdin_eof);
	}
}

void sess_freeze_hold(struct sess *s)
{
	if (!s->frozen || s->ended || s->r->outcome == BL_OUT_PASS)
		return;
	const struct bl_freeze_opts *f = s->opts->freeze;
	int64_t start = bl_now_ns();
	if (f->dump) {
		char *path = dump_path(s);
		if (!path)
			bl_warn("--dump-memory: '%s' has no report folder to dump into",
				s->sc->name);
		else if (dump_memory(s, path) < 0)
			bl_warn("--dump-memory: '%s': %s", s->sc->name, bl_errmsg());
		else
			s->frz.dump = xstrdup(path);
		free(path);
	}
	s->r->frozen = s->frz; /* the dump is the result's now */
	s->frz.dump = NULL;
	announce(s, &s->fplan);
	const char *why = hold(s, bl_now_ns() + (int64_t)f->hold_ms * 1000000);
	fprintf(stderr, "bootlab: '%s' no longer held (%s); ending QEMU\n", s->sc->name, why);
	/* the dump and the hold are not the boot's time: its duration and end
	 * phase leave them out */
	s->t0 += bl_now_ns() - start;
}
