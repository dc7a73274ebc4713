/* Backend registry and the process handling every backend shares. */
#include "machine/machine.h"
#include "util/util.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct bl_backend *const backends[] = {
    &bl_backend_qemu,
    &bl_backend_uml,
    &bl_backend_libvirt,
};

const struct bl_backend *bl_backend_find(const char *name)
{
	for (size_t i = 0; i < BL_ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

/* BOOTLAB_BOOT_LOG: a file that gets one line per emulator started, so
 * that tests/run can say how many boots the suite made (docs/testing.md).
 * One short O_APPEND write: lines from parallel boots never interleave. */
static void boot_log(const struct bl_machine_plan *plan)
{
	const char *path = getenv("BOOTLAB_BOOT_LOG");
	if (!path || !*path)
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return;
	char line[64];
	int n = snprintf(line, sizeof(line), "%.40s\n", plan->backend);
	if (write(fd, line, (size_t)n) < 0) {
		/* a count the runner may lack is no reason to fail a boot */
	}
	close(fd);
}

bool bl_machine_has_late(const struct bl_machine_plan *plan)
{
	for (size_t i = 0; plan->disk_late_ms && i < plan->ndisks; i++)
		if (plan->disk_late_ms[i] > 0)
			return true;
	return false;
}

int bl_machine_start(const struct bl_machine_plan *plan, struct bl_machine *m)
{
	memset(m, 0, sizeof(*m));
	m->console_fd = m->agent_fd = m->stderr_fd = m->qmp_fd = m->pidfd = -1;
	m->uploaded_bytes = -1;
	m->ops = bl_backend_find(plan->backend);
	if (!m->ops)
		return bl_err("unknown backend '%s'", plan->backend);
	if (bl_machine_has_late(plan) && strcmp(plan->backend, "qemu"))
		return bl_err("a disk hot-plugged after the start needs the qemu backend, not %s",
			      plan->backend);
	int rc = m->ops->start(plan, m);
	if (rc == 0)
		boot_log(plan);
	return rc;
}

/* the child ends of the channels, in the order they become fds 3, 4 */
static int channel_pairs(int ag[2], int qmp[2], bool want_qmp)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ag) < 0)
		return -1;
	if (want_qmp && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp) < 0)
		return -1;
	return 0;
}

int bl_machine_spawn_channels(struct bl_machine *m, char *const argv[], bool qmp)
{
	int con[2] = {-1, -1}, ag[2] = {-1, -1}, er[2] = {-1, -1}, q[2] = {-1, -1};
	int rc = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0 ||
	    channel_pairs(ag, q, qmp) < 0 || pipe2(er, O_CLOEXEC) < 0) {
		bl_err_errno("%s backend: socketpair", m->ops ? m->ops->name : "machine");
		bl_err_kind(BL_EK_INFRA);
	} else {
		int keep[2] = {ag[1], q[1]};
		if (bl_machine_spawn(m, argv, con[1], er[1], keep, qmp ? 2 : 1) == 0) {
			m->console_fd = con[0];
			m->agent_fd = ag[0];
			m->stderr_fd = er[0];
			m->qmp_fd = q[0];
			con[0] = ag[0] = er[0] = q[0] = -1;
			rc = 0;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (con[i] >= 0)
			close(con[i]);
		if (ag[i] >= 0)
			close(ag[i]);
		if (er[i] >= 0)
			close(er[i]);
		if (q[i] >= 0)
			close(q[i]);
	}
	return rc;
}

char *bl_machine_join_argv(char *const argv[])
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; argv[i]; i++) {
		const char *a = argv[i];
		if (i)
			sb_addc(&sb, ' ');
		if (*a && !strpbrk(a, " \t'\"\\$`"))
			sb_adds(&sb, a);
		else {
			sb_addc(&sb, '\'');
			for (; *a; a++)
				if (*a == '\'')
					sb_adds(&sb, "'\\''");
				else
					sb_addc(&sb, *a);
			sb_addc(&sb, '\'');
		}
	}
	return sb_detach(&sb, NULL);
}

void bl_machine_cmdline(const struct bl_machine_plan *plan, const char *console,
			struct bl_cmdline *out)
{
	bl_cmdline_copy(out, &plan->cmdline);
	if (console)
		bl_cmdline_default(out, "console", console);
}

static volatile pid_t watched_group;

static void watchdog_fire(int sig)
{
	kill(-watched_group, SIGKILL);
	_exit(0);
}

/* PR_SET_PDEATHSIG only reaches the emulator itself: the processes UML
 * forks (its guest's address spaces, its I/O helpers) are reparented to
 * init and run on. So a small process of bootlab's joins the emulator's
 * group with a catchable death signal and kills the whole group when
 * bootlab dies, whatever the way (tests/boot/machine_hygiene.sh). It holds
 * no fds of the boot's channels. */
static pid_t spawn_watchdog(pid_t group)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid < 0 ? 0 : pid;
	watched_group = group;
	/* its own death signal: a dying UML SIGTERMs its whole group
	 * (os_dump_core), which must not make the watchdog kill UML before
	 * UML's own SIGABRT */
	struct sigaction sa = {.sa_handler = watchdog_fire};
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGTERM, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	prctl(PR_SET_PDEATHSIG, SIGUSR2);
	if (setpgid(0, group) < 0)
		_exit(0); /* the emulator is gone already */
	int dn = open("/dev/null", O_RDWR);
	if (dn >= 0) {
		dup2(dn, 0);
		dup2(dn, 1);
		dup2(dn, 2);
	}
	if (close_range(3, ~0U, 0) < 0)
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	if (getppid() != parent)
		watchdog_fire(SIGUSR2);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;)
		pause();
}

/* What the emulator's child does between the clone and its exec. */
struct spawn_args {
	char *const *argv;
	pid_t parent;
	int console_fd, stderr_fd;
	const int *keep;
	size_t nkeep;
	int cpu_pin;
};

static void child_say(const char *a, const char *b, const char *c)
{
	/* no stdio here: the child shares bootlab's memory until its exec */
	for (const char *s[] = {a, b, c, NULL}, **p = s; *p; p++)
		if (write(2, *p, strlen(*p)) < 0)
			break;
}

/* Runs on its own stack in bootlab's memory (CLONE_VM | CLONE_VFORK),
 * like posix_spawn's child: only system calls, no malloc, no stdio, and
 * nothing written that bootlab reads. bootlab's calling thread waits until
 * the exec. A fork would copy bootlab's page tables first (0.2-0.5 ms, on
 * the boot's critical path; UML's whole boot is ~25 ms). */
static int spawn_child(void *arg)
{
	const struct spawn_args *a = arg;
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != a->parent)
		_exit(127);
	/* bootlab's handlers must not run here: back to the defaults before
	 * the signals (blocked by the parent around the clone) come through */
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;
		if (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_DFL &&
		    old.sa_handler != SIG_IGN) {
			struct sigaction dfl = {.sa_handler = SIG_DFL};
			sigaction(sig, &dfl, NULL);
		}
	}
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigaction(SIGPIPE, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* a dying UML dumps core (SIGABRT on panic): with no limit that
	 * takes longer than the boot, and nobody reads the core */
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	if (a->cpu_pin > 0) {
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(a->cpu_pin - 1, &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
	/* move the kept fds out of the way first, then into place */
	int tmp[16];
	for (size_t i = 0; i < a->nkeep && i < 16; i++)
		tmp[i] = fcntl(a->keep[i], F_DUPFD, 100);
	if (a->console_fd >= 0) {
		dup2(a->console_fd, 0);
		dup2(a->console_fd, 1);
	} else {
		int dn = open("/dev/null", O_RDWR);
		if (dn >= 0 && !isatty(0))
			dup2(dn, 0);
	}
	if (a->stderr_fd >= 0)
		dup2(a->stderr_fd, 2);
	for (size_t i = 0; i < a->nkeep && i < 16; i++)
		dup2(tmp[i], 3 + (int)i);
	/* close everything else (one syscall where the kernel has it) */
	if (close_range(3 + (unsigned)a->nkeep, ~0U, 0) < 0)
		for (int fd = 3 + (int)a->nkeep; fd < 1024; fd++)
			close(fd);
	execvp(a->argv[0], a->argv);
	child_say("bootlab: cannot run '", a->argv[0], "': ");
	const char *why = strerrordesc_np(errno); /* no locale lookup: safe here */
	child_say(why ? why : "error", "\n", "");
	_exit(127);
}

int bl_machine_spawn(struct bl_machine *m, char *const argv[], int console_child_fd,
		     int stderr_child_fd, const int *keep_fds, size_t nkeep)
{
	struct spawn_args a = {argv,	 getpid(), console_child_fd, stderr_child_fd,
			       keep_fds, nkeep,	   m->cpu_pin};
	/* execvp's PATH walk uses the stack; 256 KB is untouched but for that */
	size_t stack_size = 256 * 1024;
	char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		bl_err_kind(BL_EK_INFRA);
		return bl_err_errno("spawn: stack");
	}
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* returns once the child has exec'd or exited */
	pid_t pid = clone(spawn_child, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	int err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, stack_size);
	if (pid < 0) {
		bl_err_kind(BL_EK_INFRA);
		errno = err;
		return bl_err_errno("spawn");
	}
	setpgid(pid, pid);
	m->pid = pid;
	m->watchdog = m->no_watchdog ? 0 : spawn_watchdog(pid);
	m->pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* close-on-exec by default */
	m->command = bl_machine_join_argv(argv);
	for (size_t i = 0; argv[i]; i++)
		sl_push(&m->argv, argv[i]);
	bl_debug("emulator: %s", m->command);
	return 0;
}

int bl_machine_pick_cpu(void)
{
	static unsigned next;
	const char *e = getenv("BOOTLAB_UML_PIN");
	if (e && !strcmp(e, "0"))
		return 0;
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	int n = CPU_COUNT(&set);
	if (n < 2)
		return 0;
	unsigned k = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % (unsigned)n;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && k-- == 0)
			return cpu + 1;
	return 0;
}

int bl_machine_poll_exit(struct bl_machine *m)
{
	if (!m->exited && m->ops && m->ops->poll_exit)
		return m->ops->poll_exit(m);
	if (m->exited || m->pid <= 0)
		return 1;
	int st;
	pid_t r = waitpid(m->pid, &st, WNOHANG);
	if (r == m->pid) {
		m->exited = true;
		m->status = st;
		return 1;
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void bl_machine_stop(struct bl_machine *m, int grace_ms)
{
	if (m->ops && m->ops->stop)
		m->ops->stop(m);
	if (m->pid > 0) {
		if (!bl_machine_poll_exit(m)) {
			kill(-m->pid, SIGTERM);
			int64_t deadline = bl_now_ns() + (int64_t)grace_ms * 1000000;
			while (!bl_machine_poll_exit(m) && bl_now_ns() < deadline)
				usleep(5000);
			if (!m->exited) {
				kill(-m->pid, SIGKILL);
				int st;
				if (waitpid(m->pid, &st, 0) == m->pid) {
					m->exited = true;
					m->status = st;
				}
			}
		}
		/* helpers the emulator may have started in its group, and the
		 * watchdog */
		kill(-m->pid, SIGKILL);
		if (m->exited)
			m->pid = 0;
	}
	if (m->watchdog > 0) {
		kill(m->watchdog, SIGKILL);
		waitpid(m->watchdog, NULL, 0);
		m->watchdog = 0;
	}
	close_fd(&m->console_fd);
	close_fd(&m->agent_fd);
	close_fd(&m->stderr_fd);
	close_fd(&m->qmp_fd);
	if (m->pidfd > 0)
		close(m->pidfd);
	m->pidfd = -1;
}
