/* observe.c: stage-1 observation of a project's own /init
 * (docs/observe.md).
 *
 * bootlab boots with rdinit=/.bootlab/observer. This program then runs
 * as PID 1, forks a tracer and waits until the tracer has attached to it
 * (PTRACE_SEIZE), then execs the project's init with the kernel's argv
 * and environment, so that init is PID 1 as always. The tracer, in a
 * mount namespace of its own (nothing it mounts is seen by the project's
 * programs), reports every exec and exit of PID 1 and its descendants on
 * the agent's port as "observe" messages, with the mounts, module loads
 * and block devices of that time (observe_sys.c), until PID 1 execs a program on
 * another root (switch_root): then it exits, which detaches it from all
 * of them. PID 1's exit is seen at PTRACE_EVENT_EXIT, before the kernel
 * panics. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "observe.h"

#define OBS_DIR "/.bootlab"
#define OBS_TRACEES 4096
#define OBS_ARGV_MAX 4096 /* bytes of a program's argv reported */

/* the tracees alive: their parent, and whether they are a thread */
static struct tracee {
	int pid, ppid;
	int thread;
} tab[OBS_TRACEES];
static int ntab;
static int procfd = -1;	  /* our /proc, opened before the project's init can remove it */
static struct stat root1; /* PID 1's root before its init ran */

static struct tracee *find(int pid)
{
	for (int i = 0; i < ntab; i++)
		if (tab[i].pid == pid)
			return &tab[i];
	return NULL;
}

static void add(int pid, int ppid, int thread)
{
	struct tracee *t = find(pid);
	if (!t && ntab < OBS_TRACEES)
		t = &tab[ntab++];
	if (t)
		*t = (struct tracee){pid, ppid, thread};
}

static void drop(int pid)
{
	struct tracee *t = find(pid);
	if (t)
		*t = tab[--ntab];
}

static char out_buf[OBS_ARGV_MAX * 2 + 1024];
static struct ia_json out = {out_buf, 0, sizeof(out_buf), out_buf, 0, 0, 0};

struct ia_json *ia_obs_begin(const char *event, int pid)
{
	ia_json_reset(&out);
	ia_json_obj(&out, NULL);
	ia_json_str(&out, "type", "observe");
	ia_json_str(&out, "event", event);
	ia_json_int(&out, "t_ns", ia_boottime_ns());
	if (pid > 0)
		ia_json_int(&out, "pid", pid);
	return &out;
}

void ia_obs_send(void)
{
	ia_json_end(&out, '}');
	if (!out.oom)
		ia_chan_send(out.buf, out.len);
}

/* /proc/PID/NAME read into BUF (at most N-1 bytes): length or -1 */
static ssize_t proc_read(int pid, const char *name, char *buf, size_t n)
{
	char p[64];
	snprintf(p, sizeof(p), "%d/%s", pid, name);
	int fd = openat(procfd, p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	buf[r > 0 ? r : 0] = 0;
	return r;
}

/* the parent of PID from /proc/PID/stat (field 4, after the ")" of comm) */
static int proc_ppid(int pid)
{
	char st[512];
	if (proc_read(pid, "stat", st, sizeof(st)) <= 0)
		return 0;
	char *e = strrchr(st, ')'); /* ") S 1 ..." */
	return e && e[1] == ' ' && e[2] && e[3] == ' ' ? atoi(e + 4) : 0;
}

static void send_exec(int pid)
{
	static char args[OBS_ARGV_MAX];
	char exe[512], p[64];
	struct tracee *t = find(pid);
	ssize_t n = proc_read(pid, "cmdline", args, sizeof(args));
	ia_obs_begin("exec", pid);
	ia_json_int(&out, "ppid", t && t->ppid ? t->ppid : proc_ppid(pid));
	ia_json_arr(&out, "argv");
	for (ssize_t i = 0; i < n;) {
		size_t l = strnlen(args + i, (size_t)(n - i));
		ia_json_strn(&out, NULL, args + i, l);
		i += (ssize_t)l + 1;
	}
	ia_json_end(&out, ']');
	snprintf(p, sizeof(p), "%d/exe", pid);
	ssize_t l = readlinkat(procfd, p, exe, sizeof(exe) - 1);
	if (l > 0)
		ia_json_strn(&out, "exe", exe, (size_t)l);
	ia_obs_send();
}

static void send_exit(int pid, int ppid, unsigned long status)
{
	int st = (int)status;
	ia_obs_begin("exit", pid);
	ia_json_int(&out, "ppid", ppid);
	if (WIFSIGNALED(st)) {
		ia_json_int(&out, "signal", WTERMSIG(st));
		ia_json_bool(&out, "core", WCOREDUMP(st) != 0);
	} else {
		ia_json_int(&out, "status", WEXITSTATUS(st));
	}
	ia_obs_send();
}

/* PID 1 runs on another root than the one its init started on */
static int root_changed(void)
{
	struct stat st;
	if (fstatat(procfd, "1/root/", &st, 0))
		return 0;
	return st.st_dev != root1.st_dev || st.st_ino != root1.st_ino;
}

/* a ptrace stop of PID; returns 1 when observation is over */
static int on_stop(int pid, int status)
{
	int ev = status >> 16, sig = WSTOPSIG(status);
	unsigned long msg = 0;
	switch (ev) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg) == 0)
			add((int)msg, pid, ev == PTRACE_EVENT_CLONE);
		sig = 0;
		break;
	case PTRACE_EVENT_EXEC:
		if (pid == 1 && root_changed()) {
			ia_obs_begin("switch_root", 1);
			ia_obs_send();
			send_exec(1);
			return 1;
		}
		send_exec(pid);
		sig = 0;
		break;
	case PTRACE_EVENT_EXIT: {
		struct tracee *t = find(pid);
		if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg) == 0 && !(t && t->thread))
			send_exit(pid, t ? t->ppid : 0, msg);
		sig = 0;
		break;
	}
	case PTRACE_EVENT_STOP:
		/* a new tracee's first stop (SIGTRAP), or a group stop */
		if (sig != SIGTRAP) {
			ptrace(PTRACE_LISTEN, pid, 0, 0);
			return 0;
		}
		sig = 0;
		break;
	default: /* a signal on its way to the tracee: deliver it */
		break;
	}
	ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig);
	return 0;
}

/* every stop waiting: mount and device changes first, which happened
 * before it (a mount's exit stop follows its mount); 1 when observation
 * is over, -1 when every tracee is gone */
static int reap_stops(void)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, __WALL | WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			return p < 0 ? -1 : 0; /* ECHILD: every tracee gone */
		ia_obs_sys_sense();
		if (WIFEXITED(st) || WIFSIGNALED(st))
			drop(p);
		else if (WIFSTOPPED(st) && on_stop(p, st))
			return 1;
	}
}

static void on_sigchld(int sig)
{
	(void)sig;
}

/* One poll() for the three sources (docs/observe.md, "Why one poll
 * loop"): a tracee's stop is a SIGCHLD, blocked and read from a
 * signalfd, read before waitpid(WNOHANG) drains the stops, so none is
 * left behind; mount changes and uevents wake it too. Without a signalfd
 * (a kernel without CONFIG_SIGNALFD: bootlab's own) SIGCHLD stays
 * blocked but for the ppoll() itself, which its handler interrupts: a
 * stop that came during the drain is pending and ends the next ppoll()
 * at once. UNBLOCKED: the signal mask with SIGCHLD let through. */
static void trace_loop(int sigfd, const sigset_t *unblocked)
{
	for (;;) {
		struct pollfd p[3] = {{.fd = sigfd, .events = POLLIN}};
		ia_obs_sys_fds(p + 1);
		if (ppoll(p, 3, NULL, sigfd < 0 ? unblocked : NULL) < 0 && errno != EINTR)
			return;
		ia_obs_sys_ready(p + 1);
		struct signalfd_siginfo si;
		while (sigfd >= 0 && read(sigfd, &si, sizeof(si)) > 0)
			;
		if (reap_stops())
			return;
	}
}

/* a private mount namespace with /dev, /proc and /sys under OBS_DIR,
 * chrooted there: the agent's channel code finds the port as usual, and
 * the project's init sees none of it */
static int private_mounts(void)
{
	static const struct {
		const char *src, *dir, *type;
	} m[] = {{"devtmpfs", OBS_DIR "/dev", "devtmpfs"},
		 {"proc", OBS_DIR "/proc", "proc"},
		 {"sysfs", OBS_DIR "/sys", "sysfs"}};
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -1;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (mount(m[i].src, m[i].dir, m[i].type, MS_NOSUID, NULL))
			return -1;
	if (stat("/", &root1) || chroot(OBS_DIR) || chdir("/"))
		return -1;
	procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return procfd < 0 ? -1 : 0;
}

/* The tracer: set up, attach to PID 1, tell it the init to run (on
 * READY, then closed), report until done. Any failure before the attach
 * leaves PID 1 untraced: it runs its init all the same. */
static void tracer(int ready)
{
	char init[256] = "/init";
	ia.chan_fd = -1;
	if (private_mounts() == 0) {
		ia_read_text("/proc/cmdline", ia.cmdline, sizeof(ia.cmdline), 0);
		ia_cmdline_word("bootlab.observe", init, sizeof(init));
		ia_cmdline_word("bootlab.port", ia.port, sizeof(ia.port));
		ia_cmdline_word("bootlab.dev", ia.dev, sizeof(ia.dev));
		ia_cmdline_word("bootlab.nonce", ia.nonce, sizeof(ia.nonce));
		snprintf(ia.modlist, sizeof(ia.modlist), "/modules/order");
		if (access(ia.modlist, R_OK) == 0)
			ia_modules_boot();
		ia.wait_ms = 3000;
	}
	if (write(ready, init, strlen(init)) < 0)
		_exit(1);
	sigset_t chld, unblocked;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &unblocked); /* before the first stop can signal it */
	sigdelset(&unblocked, SIGCHLD);
	int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		/* no SA_RESTART: the signal ends ppoll(); SIG_DFL would discard it */
		struct sigaction sa = {.sa_handler = on_sigchld};
		sigaction(SIGCHLD, &sa, NULL);
	}
	if (procfd < 0 || ia_chan_find_port() < 0 ||
	    ptrace(PTRACE_SEIZE, 1, 0,
		   (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
				  PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXIT))) {
		ia_log("observe: cannot observe: %s", strerror(errno));
		_exit(1);
	}
	add(1, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	ia_obs_begin("start", 0);
	ia_json_str(&out, "init", init);
	ia_json_str(&out, "channel", ia.channel);
	ia_json_int(&out, "tracer", getpid());
	ia_obs_send();
	ia_send_clock();
	ia_obs_sys_open(procfd);
	close(ready);
	trace_loop(sigfd, &unblocked);
	ia_obs_sys_close();
	close(ia.chan_fd);
	_exit(0);
}

void ia_observe(char **argv, char **envp)
{
	int p[2];
	char init[256] = "/init";
	if (pipe2(p, O_CLOEXEC) == 0) {
		prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			tracer(p[1]);
		}
		close(p[1]);
		if (pid > 0) {
			ssize_t n = 0, r;
			while ((r = read(p[0], init + n, sizeof(init) - 1 - (size_t)n)) > 0 ||
			       (r < 0 && errno == EINTR))
				n += r > 0 ? r : 0;
			init[n > 0 ? n : 0] = 0;
			if (!n)
				strcpy(init, "/init");
		}
		close(p[0]);
	}
	argv[0] = init;
	execve(init, argv, envp);
	fprintf(stderr, "bootlab observer: cannot execute '%s': %s\n", init, strerror(errno));
	_exit(127);
}
