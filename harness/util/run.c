/* Running host commands (mke2fs, make, depmod...) with a deadline. The
 * child gets its own process group and PR_SET_PDEATHSIG so that nothing
 * outlives bootlab. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

const char *bl_signame(int sig)
{
	static const char *names[] = {
	    [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",	  [SIGQUIT] = "SIGQUIT",
	    [SIGILL] = "SIGILL",   [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	    [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",	  [SIGKILL] = "SIGKILL",
	    [SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	    [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
	    [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP",
	    [SIGTSTP] = "SIGTSTP", [SIGSYS] = "SIGSYS",	  [SIGXCPU] = "SIGXCPU",
	    [SIGXFSZ] = "SIGXFSZ",
	};
	if (sig > 0 && (size_t)sig < BL_ARRAY_SIZE(names) && names[sig])
		return names[sig];
	return "signal";
}

const char *bl_describe_status(int status)
{
	static __thread char buf[64];
	if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "killed by signal %d (%s)", WTERMSIG(status),
			 bl_signame(WTERMSIG(status)));
	else
		snprintf(buf, sizeof(buf), "status 0x%x", status);
	return buf;
}

pid_t bl_fork_group(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		bl_err_errno("fork");
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		return 0;
	}
	setpgid(pid, pid);
	return pid;
}

int bl_run(char *const argv[], int timeout_ms, char **out, int *status)
{
	int pfd[2] = {-1, -1};
	if (out && pipe2(pfd, O_CLOEXEC) < 0)
		return bl_err_errno("pipe");
	pid_t pid = bl_fork_group();
	if (pid < 0) {
		if (out)
			close(pfd[0]), close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		if (out) {
			dup2(pfd[1], 1);
			dup2(pfd[1], 2);
		} else {
			dup2(2, 1);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	struct strbuf sb = STRBUF_INIT;
	int64_t deadline = timeout_ms > 0 ? bl_now_ns() + (int64_t)timeout_ms * 1000000 : 0;
	int timed_out = 0;
	if (out) {
		close(pfd[1]);
		for (;;) {
			int wait_ms = -1;
			if (deadline) {
				int64_t left = deadline - bl_now_ns();
				if (left <= 0) {
					timed_out = 1;
					break;
				}
				wait_ms = (int)(left / 1000000) + 1;
			}
			struct pollfd p = {.fd = pfd[0], .events = POLLIN};
			int r = poll(&p, 1, wait_ms);
			if (r < 0 && errno == EINTR)
				continue;
			if (r == 0)
				continue;
			char buf[8192];
			ssize_t n = read(pfd[0], buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			sb_add(&sb, buf, (size_t)n);
		}
		close(pfd[0]);
	}
	int st = 0;
	for (;;) {
		pid_t w =
		    waitpid(pid, &st, deadline && !timed_out ? WNOHANG : (timed_out ? WNOHANG : 0));
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			break;
		if (timed_out || (deadline && bl_now_ns() >= deadline)) {
			timed_out = 1;
			kill(-pid, SIGTERM);
			usleep(200000);
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		if (w == 0)
			usleep(1000); /* short: every cached-kernel check runs gcc --version */
	}
	kill(-pid, SIGKILL); /* anything the command left behind in its group */
	if (status)
		*status = st;
	if (out)
		*out = sb_detach(&sb, NULL);
	if (timed_out)
		return bl_err("'%s' did not finish within %d ms", argv[0], timeout_ms);
	return 0;
}
