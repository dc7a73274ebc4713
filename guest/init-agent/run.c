/* run.c: run a program with a timeout, output captured; reap orphans. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define OUT_MAX 65536

extern char **environ;

void ia_reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int ia_op_run(struct ia_req *r, struct ia_json *j)
{
	struct ia_str *av, *ev = NULL;
	size_t na, ne = 0, olen = 0;
	long long timeout = 10000;
	char **argv, **envp = environ, *outbuf;
	int rc, out[2], ex[2], st = 0, exited = 0, timed_out = 0, e = 0;
	long long deadline;
	pid_t pid;

	if ((rc = ia_arg_arr(r, "argv", &av, &na)) < 0 ||
	    ia_arg_int(r, "timeout_ms", &timeout) < 0 || ia_arg_arr(r, "env", &ev, &ne) < 0)
		return -1;
	if (rc == 1 || na == 0)
		return ia_fail(EINVAL, "missing argument 'argv' (a non-empty array)");
	if (timeout < 0 || timeout > 86400000)
		return ia_fail(EINVAL, "argument 'timeout_ms': expected 0..86400000");
	argv = calloc(na + 1, sizeof(*argv));
	outbuf = malloc(OUT_MAX);
	if (ev)
		envp = calloc(ne + 1, sizeof(*envp));
	if (!argv || !outbuf || !envp) {
		free(argv);
		free(outbuf);
		if (ev)
			free(envp);
		return ia_fail(ENOMEM, "run: out of memory");
	}
	for (size_t i = 0; i < na; i++)
		argv[i] = av[i].s;
	for (size_t i = 0; ev && i < ne; i++)
		envp[i] = ev[i].s;
	if (pipe2(out, O_CLOEXEC) || pipe2(ex, O_CLOEXEC)) {
		rc = ia_fail_errno("run: pipe");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = ia_fail_errno("run: fork");
		close(out[0]), close(out[1]), close(ex[0]), close(ex[1]);
		goto out;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		if (nul >= 0)
			dup2(nul, 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execve(argv[0], argv, envp);
		e = errno;
		if (write(ex[1], &e, sizeof(e)) < 0) {
		}
		_exit(127);
	}
	close(out[1]);
	close(ex[1]);
	if (read(ex[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		close(ex[0]);
		close(out[0]);
		waitpid(pid, NULL, 0);
		errno = e;
		rc = ia_fail_errno("run '%s'", argv[0]);
		goto out;
	}
	close(ex[0]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	deadline = ia_boottime_ns() + timeout * 1000000LL;
	for (;;) {
		struct pollfd p = {out[0], POLLIN, 0};
		long long left = (deadline - ia_boottime_ns()) / 1000000LL;
		char tmp[4096];
		ssize_t n;
		if (!exited && waitpid(pid, &st, WNOHANG) == pid)
			exited = 1;
		if (!exited && left <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			exited = 1;
			timed_out = 1;
		}
		/* after the exit, take what is buffered but wait for no one */
		if (poll(&p, 1, exited ? 0 : (int)(left < 20 ? (left > 0 ? left : 0) : 20)) <= 0) {
			if (exited)
				break;
			continue;
		}
		n = read(out[0], tmp, sizeof(tmp));
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (!exited) {
				/* all writers gone: wait for the exit until the deadline */
				while (!exited) {
					if (waitpid(pid, &st, WNOHANG) == pid) {
						exited = 1;
						break;
					}
					if (ia_boottime_ns() >= deadline)
						break;
					struct timespec ts = {0, 5000000};
					nanosleep(&ts, NULL);
				}
				if (!exited)
					continue;
			}
			break;
		}
		if (olen < OUT_MAX) {
			size_t k = (size_t)n < OUT_MAX - olen ? (size_t)n : OUT_MAX - olen;
			memcpy(outbuf + olen, tmp, k);
			olen += k;
		}
	}
	close(out[0]);
	if (WIFEXITED(st))
		ia_json_int(j, "status", WEXITSTATUS(st));
	else
		ia_json_null(j, "status");
	if (WIFSIGNALED(st))
		ia_json_int(j, "signal", WTERMSIG(st));
	else
		ia_json_null(j, "signal");
	ia_json_strn(j, "output", outbuf, olen);
	ia_json_bool(j, "truncated", olen >= OUT_MAX);
	ia_json_bool(j, "timed_out", timed_out);
	rc = 0;
out:
	free(argv);
	free(outbuf);
	if (ev)
		free(envp);
	return rc;
}
