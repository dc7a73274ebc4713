/* What the interactive commands (boot, repro) share: the guest's console
 * on this terminal (raw mode, restored on every way out), Ctrl-C and
 * friends ending the session, and the outcome's line with the exit status
 * it makes. */
#include "cli/cli.h"
#include "session/session.h"
#include "util/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_tio;
static int tio_saved;

void cli_tty_restore(void)
{
	if (tio_saved)
		tcsetattr(0, TCSAFLUSH, &saved_tio);
	tio_saved = 0;
}

/* the terminal back first: the session may take a while to stop */
static void on_signal(int sig)
{
	if (tio_saved)
		tcsetattr(0, TCSAFLUSH, &saved_tio);
	bl_session_interrupt();
}

void cli_catch_signals(void)
{
	/* the self-pipe before the handler can write to it */
	bl_session_interrupt_fd();
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
}

void cli_tty_raw(const char *cmd)
{
	if (!isatty(0) || tcgetattr(0, &saved_tio) < 0)
		return;
	fprintf(stderr,
		"bootlab %s: the guest's console is on this terminal; Ctrl-] ends the boot\n", cmd);
	struct termios t = saved_tio;
	cfmakeraw(&t);
	/* keep \n -> \r\n for our own output; the guest's console sends \r\n */
	t.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(0, TCSAFLUSH, &t) == 0) {
		tio_saved = 1;
		atexit(cli_tty_restore);
	}
}

int cli_session(const char *cmd, const struct bl_scenario *sc, struct bl_prepared *prep,
		const char *workdir, bool gdb, const struct bl_freeze_opts *freeze,
		struct bl_result *r)
{
	if (gdb && cli_gdb_prepare(cmd, prep) < 0) {
		fprintf(stderr, "bootlab %s: --gdb: %s\n", cmd, bl_errmsg());
		return BL_EXIT_USAGE;
	}
	cli_catch_signals();
	cli_tty_raw(cmd);
	struct bl_session_opts so = {
	    .workdir = workdir, .echo_console = true, .interactive = true, .freeze = freeze};
	bl_session_run(sc, prep, &so, r);
	cli_tty_restore();
	fflush(stdout);
	return cli_print_outcome(r);
}

int cli_print_outcome(const struct bl_result *r)
{
	if (r->outcome == BL_OUT_PANIC && r->observed.on && r->reason) {
		struct strbuf sb = STRBUF_INIT; /* the guest's words, escaped */
		sb_add_terminal(&sb, r->reason);
		printf("\noutcome: panic (%s)\n", sb_str(&sb));
		sb_release(&sb);
	} else if (r->outcome == BL_OUT_PANIC) {
		char d[300];
		bl_describe_panic(&r->panic, d, sizeof(d));
		printf("\noutcome: panic (%s)\n", d);
	} else if (r->outcome == BL_OUT_PASS) {
		printf("\noutcome: pass\n");
	} else {
		printf("\noutcome: %s (%s)\n", bl_outcome_name(r->outcome),
		       r->reason ? r->reason : "");
	}
	if (r->outcome == BL_OUT_PASS)
		return BL_EXIT_OK;
	if (r->outcome == BL_OUT_INTERRUPTED)
		return BL_EXIT_INTERRUPTED;
	if (r->outcome == BL_OUT_EMU_ERROR || r->outcome == BL_OUT_SETUP_ERROR)
		return BL_EXIT_INFRA;
	return BL_EXIT_FAIL;
}
