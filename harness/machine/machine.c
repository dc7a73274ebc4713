/* Backend registry and the process handling every backend shares. */
#include "machine/machine.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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

int bl_machine_start(const struct bl_machine_plan *plan, struct bl_machine *m)
{
	memset(m, 0, sizeof(*m));
	m->console_fd = m->agent_fd = m->stderr_fd = m->pidfd = -1;
	m->ops = bl_backend_find(plan->backend);
	if (!m->ops)
		return bl_err("unknown backend '%s'", plan->backend);
	return m->ops->start(plan, m);
}

int bl_machine_spawn_channels(struct bl_machine *m, char *const argv[])
{
	int con[2] = {-1, -1}, ag[2] = {-1, -1}, er[2] = {-1, -1};
	int rc = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ag) < 0 || pipe2(er, O_CLOEXEC) < 0) {
		bl_err_errno("%s backend: socketpair", m->ops ? m->ops->name : "machine");
		bl_err_kind(BL_EK_INFRA);
	} else if (bl_machine_spawn(m, argv, con[1], er[1], &ag[1], 1) == 0) {
		m->console_fd = con[0];
		m->agent_fd = ag[0];
		m->stderr_fd = er[0];
		con[0] = ag[0] = er[0] = -1;
		rc = 0;
	}
	for (int i = 0; i < 2; i++) {
		if (con[i] >= 0)
			close(con[i]);
		if (ag[i] >= 0)
			close(ag[i]);
		if (er[i] >= 0)
			close(er[i]);
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

static int has_word(const char *cmdline, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = cmdline; p && *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, kl))
			return 1;
		p = strchr(p, ' ');
	}
	return 0;
}

char *bl_machine_cmdline(const struct bl_machine_plan *plan, const char *console, const char *extra)
{
	struct strbuf sb = STRBUF_INIT;
	const char *user = plan->cmdline ? plan->cmdline : "";
	if (console && !has_word(user, "console="))
		sb_addf(&sb, "console=%s ", console);
	/* a panic must end the emulator at once, unless the scenario says otherwise */
	if (!has_word(user, "panic="))
		sb_adds(&sb, "panic=-1 ");
	/* host-clock phases need the guest's own timestamps next to ours */
	if (!has_word(user, "printk.time="))
		sb_adds(&sb, "printk.time=1 ");
	if (extra && *extra)
		sb_addf(&sb, "%s ", extra);
	sb_adds(&sb, user);
	while (sb.len && sb.buf[sb.len - 1] == ' ')
		sb.buf[--sb.len] = 0;
	return sb_detach(&sb, NULL);
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

int bl_machine_spawn(struct bl_machine *m, char *const argv[], int console_child_fd,
		     int stderr_child_fd, const int *keep_fds, size_t nkeep)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		bl_err_kind(BL_EK_INFRA);
		return bl_err_errno("fork");
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		/* a dying UML dumps core (SIGABRT on panic): with no limit that
		 * takes longer than the boot, and nobody reads the core */
		struct rlimit nocore = {0, 0};
		setrlimit(RLIMIT_CORE, &nocore);
		/* move the kept fds out of the way first, then into place */
		int tmp[16];
		for (size_t i = 0; i < nkeep && i < 16; i++)
			tmp[i] = fcntl(keep_fds[i], F_DUPFD, 100);
		if (console_child_fd >= 0) {
			dup2(console_child_fd, 0);
			dup2(console_child_fd, 1);
		} else {
			int dn = open("/dev/null", O_RDWR);
			if (dn >= 0 && !isatty(0))
				dup2(dn, 0);
		}
		if (stderr_child_fd >= 0)
			dup2(stderr_child_fd, 2);
		for (size_t i = 0; i < nkeep && i < 16; i++)
			dup2(tmp[i], 3 + (int)i);
		/* close everything else (one syscall where the kernel has it) */
		if (close_range(3 + (unsigned)nkeep, ~0U, 0) < 0)
			for (int fd = 3 + (int)nkeep; fd < 1024; fd++)
				close(fd);
		execvp(argv[0], argv);
		fprintf(stderr, "bootlab: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	m->pid = pid;
	m->watchdog = spawn_watchdog(pid);
	m->pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* close-on-exec by default */
	m->command = bl_machine_join_argv(argv);
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
	if (m->pidfd > 0)
		close(m->pidfd);
	m->pidfd = -1;
}
