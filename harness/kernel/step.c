/* Locks, and the commands of a build (make, merge_config.sh, tar) run
 * with their output appended to a log and a progress line on stderr. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- locking ---- */

int bl_kernel_lock(const char *path, const char *what, int quiet)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		bl_err_errno("cannot open lock '%s'", path);
		return bl_kernel_infra();
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (!quiet)
		fprintf(stderr, "bootlab: waiting for another bootlab building %s\n", what);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			bl_err_errno("cannot lock '%s'", path);
			close(fd);
			return bl_kernel_infra();
		}
	}
	return fd;
}

/* ---- running make with a log and a progress line ---- */

/* The lock held while make runs is inherited by make and everything it
 * starts: when bootlab is killed, PR_SET_PDEATHSIG only reaches the top
 * make, and its orphaned sub-makes and compilers would go on writing into
 * the build tree. flock belongs to the open file, so the next bootlab
 * waits until the last of them has exited. */
static __thread int held_lock = -1;

void bl_kernel_lock_inherit(int fd)
{
	held_lock = fd;
}

void bl_kernel_progress_init(struct bl_kernel_progress *p, const char *what, int quiet, long expect)
{
	*p = (struct bl_kernel_progress){
	    .what = what, .quiet = quiet, .tty = isatty(2), .start = bl_now_ns(), .expect = expect};
}

static void pct(const struct bl_kernel_progress *p, char *buf, size_t n)
{
	if (p->expect > 0) {
		int v = (int)(p->steps * 100 / p->expect);
		snprintf(buf, n, "~%d%% ", v > 99 ? 99 : v);
	} else
		buf[0] = 0;
}

static void progress_line(struct bl_kernel_progress *p, const char *line)
{
	if (p->quiet)
		return;
	/* kbuild's short lines: "  CC      init/main.o" */
	const char *s = line;
	while (*s == ' ')
		s++;
	if (!*s)
		return;
	p->steps++;
	double t = bl_ns_to_s(bl_now_ns() - p->start);
	if (p->tty) {
		struct winsize ws;
		int cols = 80;
		if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
			cols = ws.ws_col;
		char buf[512], pc[32];
		pct(p, pc, sizeof(pc));
		int n = snprintf(buf, sizeof(buf), "%s: %4.0fs %s%5ld steps  %s", p->what, t, pc,
				 p->steps, s);
		if (n > cols - 1)
			n = cols - 1;
		if (n > (int)sizeof(buf) - 1)
			n = (int)sizeof(buf) - 1;
		for (int i = 0; i < n; i++)
			if (buf[i] == '\t')
				buf[i] = ' ';
		fprintf(stderr, "\r\033[K%.*s", n, buf);
		fflush(stderr);
		p->shown = 1;
	} else if (bl_now_ns() - p->last_plain > 15 * 1000000000LL) {
		char pc[32];
		pct(p, pc, sizeof(pc));
		p->last_plain = bl_now_ns();
		fprintf(stderr, "%s: %.0fs, %s%ld steps, %s\n", p->what, t, pc, p->steps, s);
	}
}

static void progress_end(struct bl_kernel_progress *p)
{
	if (p->shown) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
		p->shown = 0;
	}
}

/* Run argv in cwd, appending its output to logfd and feeding the progress
 * line. Returns the wait status, or -1 when it could not be started. */
static int run_logged(char *const argv[], const char *cwd, int logfd, struct bl_kernel_progress *p)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return bl_err_errno("pipe");
	dprintf(logfd, "$");
	for (int i = 0; argv[i]; i++)
		dprintf(logfd, " %s", argv[i]);
	dprintf(logfd, "\n");
	pid_t pid = bl_fork_group();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		if (held_lock >= 0)
			fcntl(held_lock, F_SETFD, 0);
		if (cwd && chdir(cwd) < 0) {
			fprintf(stderr, "cannot enter '%s': %s\n", cwd, strerror(errno));
			_exit(127);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	struct strbuf line = STRBUF_INIT;
	char buf[16384];
	for (;;) {
		ssize_t n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (write(logfd, buf, (size_t)n) < 0) {
			/* keep going: the log is a convenience, the build is what counts */
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				progress_line(p, sb_str(&line));
				sb_reset(&line);
			} else
				sb_addc(&line, buf[i]);
		}
	}
	close(pfd[0]);
	sb_release(&line);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL);
	return st;
}

/* last lines of a log, for the error message */
static char *log_tail(const char *path, int lines)
{
	char *data;
	size_t len;
	if (bl_read_file(path, &data, &len) < 0)
		return xstrdup("");
	size_t i = len;
	int seen = 0;
	while (i > 0) {
		if (data[i - 1] == '\n' && i != len && ++seen >= lines)
			break;
		i--;
	}
	struct strbuf sb = STRBUF_INIT;
	for (char *s = data + i; *s;) {
		char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		sb_addf(&sb, "  | %.*s\n", (int)n, s);
		s += n + (nl ? 1 : 0);
	}
	free(data);
	return sb_detach(&sb, NULL);
}

int bl_kernel_run_step(char *const argv[], const char *cwd, int logfd, const char *logpath,
		       struct bl_kernel_progress *p)
{
	int st = run_logged(argv, cwd, logfd, p);
	progress_end(p);
	if (st < 0)
		return bl_kernel_infra();
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	char *tail = log_tail(logpath, 25);
	int last = 0;
	while (argv[last + 1])
		last++;
	bl_err("%s: '%s%s%s' %s; last lines of '%s':\n%s", p->what, argv[0], last ? " ... " : "",
	       last ? argv[last] : "", bl_describe_status(st), logpath, tail);
	free(tail);
	return bl_kernel_infra();
}
