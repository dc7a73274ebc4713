/* init-agent: bootlab's PID 1. Records how it was started, mounts /dev,
 * /proc and /sys, loads the modules it was given, finds its channel and
 * serves JSON-lines requests (docs/protocol.md) until told to stop.
 *
 * usage: init-agent                      as PID 1 (/init or /sbin/init)
 *        init-agent --transport fd:N [--root DIR]   host mode, for tests
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "ops.h"

struct ia_state ia;

long long ia_boottime_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_BOOTTIME, &ts))
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

const char *ia_path(const char *p)
{
	static char buf[4][IA_LINE_MAX + 4096 + 2]; /* a request path always fits */
	static int k;
	char *b = buf[k++ & 3];
	if (!ia.root[0] || p[0] != '/')
		return p;
	size_t l = ia_strlcpy(b, ia.root, sizeof(buf[0]));
	if (l < sizeof(buf[0]))
		ia_strlcpy(b + l, p, sizeof(buf[0]) - l);
	return b;
}

void ia_log(const char *fmt, ...)
{
	struct ia_json j = {0};
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (ia.chan_fd < 0)
		return;
	ia_json_obj(&j, NULL);
	ia_json_str(&j, "type", "log");
	ia_json_str(&j, "message", b);
	ia_json_end(&j, '}');
	if (!j.oom)
		ia_chan_send(j.buf, j.len);
	free(j.buf);
}

/* ---------------------------------------------------------------- start */

static void record_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		struct ia_fdinfo *f = &ia.fds[fd];
		/* fstat fails with EBADF exactly when fcntl(F_GETFD) would: one
		 * syscall per fd (each costs ~50 us on UML) */
		if (fstat(fd, &st) == -1) {
			if (errno == EBADF)
				continue;
			f->open = 1;
			continue;
		}
		f->open = 1;
		f->mode = st.st_mode & S_IFMT;
		f->maj = major(st.st_rdev);
		f->min = minor(st.st_rdev);
	}
}

/* The file's text into buf, trailing newlines and blanks cut. Returns the
 * still open fd when keep is set (closed later, off the hello's path),
 * else -1. */
int ia_read_text(const char *path, char *buf, size_t n, int keep)
{
	int fd = ia_open(path, O_RDONLY);
	ssize_t r = -1;
	buf[0] = 0;
	if (fd < 0)
		return -1;
	r = read(fd, buf, n - 1);
	if (!keep) {
		close(fd);
		fd = -1;
	}
	buf[r > 0 ? r : 0] = 0;
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
		buf[--r] = 0;
	return fd;
}

/* Value of a word "key=value" on the command line, into out. */
void ia_cmdline_word(const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);
	const char *p = ia.cmdline;
	while (*p) {
		const char *e;
		while (*p == ' ')
			p++;
		e = p;
		while (*e && *e != ' ')
			e++;
		if ((size_t)(e - p) > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t l = (size_t)(e - p) - kl - 1;
			if (l >= n)
				l = n - 1;
			memcpy(out, p + kl + 1, l);
			out[l] = 0;
		}
		p = e;
	}
}

/* "/" at start-up (PID 1 mode) */
static struct ia_rootinfo root0;

/* Mounts fstype on dir unless something is mounted there already (another
 * device than "/") or the archive brought its own nodes (probe exists).
 * A dir the archive is unlikely to have is made first: when the mkdir
 * works, nothing can be mounted there, and two system calls (stat, access)
 * are spared; each costs ~0.1 ms under UML on the way to the hello. */
static void mount_if_absent(const char *src, const char *dir, const char *fstype, const char *probe,
			    int likely_absent)
{
	struct stat d;
	if (likely_absent && mkdir(dir, 0755) == 0)
		goto mount;
	if (stat(dir, &d) && (mkdir(dir, 0755) || stat(dir, &d)))
		return;
	if (!root0.ok || root0.dev != (unsigned long long)d.st_dev || access(probe, F_OK) == 0)
		return;
mount:
	if (mount(src, dir, fstype,
		  MS_NOSUID | (strcmp(fstype, "devtmpfs") ? MS_NODEV | MS_NOEXEC : 0), NULL))
		ia_log("mount %s on '%s': %s", fstype, dir, strerror(errno));
}

int ia_open(const char *path, int flags)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0);
}

void ia_need_sys(void)
{
	static int done;
	if (done || ia.host)
		return;
	done = 1;
	mount_if_absent("sysfs", "/sys", "sysfs", "/sys/class", 1);
}

static const char *fs_name(unsigned long magic)
{
	switch (magic) {
	case 0x01021994:
		return "tmpfs";
	case 0x858458f6:
		return "ramfs";
	case 0xef53:
		return "ext4";
	case 0x9123683e:
		return "btrfs";
	case 0x58465342:
		return "xfs";
	case 0x73717368:
		return "squashfs";
	case 0x00009fa0:
		return "proc";
	case 0x62656572:
		return "sysfs";
	case 0x6969:
		return "nfs";
	case 0x01021997:
		return "9p";
	case 0x65735546:
		return "fuse";
	case 0x794c7630:
		return "overlayfs";
	case 0x4d44:
		return "vfat";
	case 0x00c36400:
		return "ceph";
	case 0x28cd3d45:
		return "cramfs";
	case 0xf2f52010:
		return "f2fs";
	case 0x00c0ffee:
		return "hostfs";
	default:
		return "unknown";
	}
}

void ia_hello(struct ia_json *j)
{
	struct utsname u;
	struct statfs sf;
	struct stat st;
	const char *fdtype[] = {"chr", "blk", "file", "dir", "fifo", "sock", "symlink"};
	ia_json_int(j, "v", 1);
	ia_json_int(j, "stage", ia.stage);
	ia_json_int(j, "pid", getpid());
	if (uname(&u) == 0) {
		ia_json_str(j, "arch", u.machine);
		ia_json_str(j, "kernel", u.release);
	}
	ia_json_str(j, "channel", ia.channel);
	ia_json_arr(j, "fds");
	for (int fd = 0; fd < 3; fd++) {
		struct ia_fdinfo *f = &ia.fds[fd];
		ia_json_obj(j, NULL);
		ia_json_int(j, "fd", fd);
		ia_json_bool(j, "open", f->open);
		if (f->open) {
			unsigned m = f->mode;
			int t = m == S_IFCHR	? 0
				: m == S_IFBLK	? 1
				: m == S_IFREG	? 2
				: m == S_IFDIR	? 3
				: m == S_IFIFO	? 4
				: m == S_IFSOCK ? 5
				: m == S_IFLNK	? 6
						: -1;
			ia_json_majmin(j, "rdev", f->maj, f->min);
			if (t >= 0)
				ia_json_str(j, "type", fdtype[t]);
		}
		ia_json_end(j, '}');
	}
	ia_json_end(j, ']');
	ia_json_arr(j, "argv");
	for (char **a = ia.argv; a && *a; a++)
		ia_json_str(j, NULL, *a);
	ia_json_end(j, ']');
	ia_json_arr(j, "env");
	for (char **e = ia.envp; e && *e; e++)
		ia_json_str(j, NULL, *e);
	ia_json_end(j, ']');
	ia_json_str(j, "cmdline", ia.cmdline);
	ia_json_int(j, "boottime_ns", ia.boottime_ns);
	ia_json_int(j, "now_ns", ia_boottime_ns());
	ia_json_obj(j, "rootfs");
	if (statfs(ia_path("/"), &sf) == 0) {
		ia_json_hex(j, "magic", (unsigned long)sf.f_type, 8);
		ia_json_str(j, "type", fs_name((unsigned long)sf.f_type));
	}
	static int first = 1;
	if (first && root0.ok) { /* the first hello: "/" as start-up saw it, one call less */
		ia_json_mode(j, "mode", root0.mode);
	} else if (stat(ia_path("/"), &st) == 0) {
		ia_json_mode(j, "mode", st.st_mode);
	}
	first = 0;
	ia_json_end(j, '}');
	if (ia.modlist[0]) {
		ia_json_str(j, "modlist", ia.modlist);
		if (ia.modlist_err)
			ia_json_errno(j, ia.modlist_err);
		ia_json_arr(j, "modules");
		for (int i = 0; i < ia.nmods; i++) {
			ia_json_obj(j, NULL);
			ia_json_str(j, "path", ia.mods[i].path);
			ia_json_bool(j, "ok", !ia.mods[i].err);
			if (ia.mods[i].err)
				ia_json_errno(j, ia.mods[i].err);
			if (ia.mods[i].via)
				ia_json_str(j, "via", ia.mods[i].via);
			ia_json_end(j, '}');
		}
		ia_json_end(j, ']');
	}
	if (ia.stage == 2) {
		char dev[256], fstype[64];
		ia_json_obj(j, "root");
		if (ia_root_info(dev, sizeof(dev), fstype, sizeof(fstype)) == 0) {
			ia_json_str(j, "device", dev);
			ia_json_str(j, "fstype", fstype);
		}
		ia_json_end(j, '}');
		if (ia.switch_ns >= 0)
			ia_json_int(j, "since_switch_ns", ia_boottime_ns() - ia.switch_ns);
	}
}

/* ---------------------------------------------------------------- ops */

int ia_op_info(struct ia_req *r, struct ia_json *j)
{
	ia_hello(j);
	return 0;
}

int ia_op_sync(struct ia_req *r, struct ia_json *j)
{
	sync();
	return 0;
}

/* exit, kill, poweroff and reboot end the agent: they run here, after
 * the reply (if any) is on the wire. */
enum { END_NONE, END_EXIT, END_KILL, END_REBOOT };
static int end_how, end_arg;
static long long end_id;
static void send_error(long long id, int e, const char *msg);

static int op_exit(struct ia_req *r, struct ia_json *j)
{
	long long st = 0;
	if (ia_arg_int(r, "status", &st) < 0)
		return -1;
	if (st < 0 || st > 255)
		return ia_fail(EINVAL, "argument 'status': expected 0..255");
	end_how = END_EXIT;
	end_arg = (int)st;
	return 0;
}

static int op_kill(struct ia_req *r, struct ia_json *j)
{
	long long sig = SIGKILL;
	if (ia_arg_int(r, "signal", &sig) < 0)
		return -1;
	if (sig < 1 || sig > 64)
		return ia_fail(EINVAL, "argument 'signal': expected 1..64");
	end_how = END_KILL;
	end_arg = (int)sig;
	return 0;
}

/* poweroff and reboot: they differ only in the default mode */
static int op_power(struct ia_req *r, struct ia_json *j, int reboot_default)
{
	const char *mode = reboot_default ? "reboot" : "auto";
	if (ia_arg_str(r, "mode", &mode, NULL) < 0)
		return -1;
	if (!strcmp(mode, "auto"))
		mode = ia.exitmode[0] ? ia.exitmode : "reboot";
	if (!strcmp(mode, "poweroff"))
		end_arg = RB_POWER_OFF;
	else if (!strcmp(mode, "reboot"))
		end_arg = RB_AUTOBOOT;
	else if (!strcmp(mode, "halt"))
		end_arg = RB_HALT_SYSTEM;
	else
		return ia_fail(EINVAL, "argument 'mode': expected poweroff, reboot, halt or auto");
	end_how = END_REBOOT;
	ia_json_str(j, "action",
		    end_arg == RB_POWER_OFF  ? "poweroff"
		    : end_arg == RB_AUTOBOOT ? "reboot"
					     : "halt");
	return 0;
}

static int op_poweroff(struct ia_req *r, struct ia_json *j)
{
	return op_power(r, j, 0);
}

static int op_reboot(struct ia_req *r, struct ia_json *j)
{
	return op_power(r, j, 1);
}

/* PID 1 drops signals it has no handler for unless the kernel forces
 * them, as it does for faults: so raise the fault signals for real. */
static void die_by_signal(int sig)
{
	sigset_t all;
	signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigaddset(&all, sig);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	switch (sig) {
	case SIGSEGV: {
		/* page 0 is never mapped; a non-NULL address the compiler
		 * cannot treat as undefined behaviour */
		volatile int *volatile p = (volatile int *)16;
		*p = 0;
	} break;
#if defined(__x86_64__)
	case SIGILL:
		__asm__ volatile("ud2");
		break;
	case SIGTRAP:
		__asm__ volatile("int3");
		break;
	case SIGFPE: {
		volatile int a = 1, b = 0;
		a = a / b;
		break;
	}
#elif defined(__aarch64__)
	case SIGILL:
		__asm__ volatile(".inst 0x00000000");
		break;
	case SIGTRAP:
		__asm__ volatile("brk #0");
		break;
#endif
	default:
		break;
	}
	kill(getpid(), sig);
}

static void end_now(void)
{
	switch (end_how) {
	case END_EXIT:
		_exit(end_arg);
	case END_KILL:
		die_by_signal(end_arg);
		{
			char m[160];
			snprintf(m, sizeof(m),
				 "pid %d survived signal %d (the kernel drops "
				 "signals PID 1 does not handle)",
				 (int)getpid(), end_arg);
			send_error(end_id, EPERM, m);
		}
		break;
	case END_REBOOT:
		sync();
		if (ia.host)
			_exit(0);
		reboot(end_arg);
		ia_log("reboot: %s", strerror(errno));
		break;
	}
	end_how = END_NONE;
}

#define IA_OP_ENTRY(name, fn) {name, fn},
static const struct {
	const char *name;
	ia_op_fn fn;
} ops[] = {IA_OPS(IA_OP_ENTRY)};

/* the replies; the first ones fit in a static buffer, so the hello costs no
 * malloc (its first call is slow to translate under TCG) */
static char out_first[16384];
static struct ia_json out = {out_first, 0, sizeof(out_first), out_first, 0, 0, 0};

static void send_error(long long id, int e, const char *msg)
{
	ia_json_reset(&out);
	ia_json_obj(&out, NULL);
	if (id > 0)
		ia_json_int(&out, "id", id);
	else
		ia_json_null(&out, "id");
	ia_json_bool(&out, "ok", 0);
	ia_json_errno(&out, e);
	ia_json_str(&out, "message", msg);
	ia_json_end(&out, '}');
	if (out.oom) {
		static const char m[] = "{\"id\":null,\"ok\":false,\"errno\":12,"
					"\"error\":\"ENOMEM\",\"message\":\"out of memory\"}";
		ia_chan_send(m, sizeof(m) - 1);
		return;
	}
	ia_chan_send(out.buf, out.len);
}

static void serve_one(char *line, long n)
{
	struct ia_req req;
	ia_op_fn fn = NULL;
	size_t mark;
	char msg[600];

	if (n == -2) {
		send_error(0, EMSGSIZE, "request line longer than 65536 bytes");
		return;
	}
	if (ia_req_parse(&req, line, (size_t)n)) {
		send_error(0, EINVAL, ia_req_error());
		return;
	}
	if (!req.id) {
		send_error(0, EINVAL, "missing 'id'");
		return;
	}
	if (!req.op) {
		send_error(req.id, EINVAL, "missing 'op' (a string)");
		return;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].name, req.op))
			fn = ops[i].fn;
	if (!fn) {
		snprintf(msg, sizeof(msg), "unknown op '%.200s'", req.op);
		send_error(req.id, EOPNOTSUPP, msg);
		return;
	}
	ia_json_reset(&out);
	ia_json_obj(&out, NULL);
	ia_json_int(&out, "id", req.id);
	mark = out.len;
	ia_json_bool(&out, "ok", 1);
	ia_err_no = 0;
	end_how = END_NONE;
	if (fn(&req, &out)) {
		end_how = END_NONE;
		snprintf(msg, sizeof(msg), "%s", ia_err_msg);
		send_error(req.id, ia_err_no ? ia_err_no : EIO, msg);
		return;
	}
	ia_json_end(&out, '}');
	if (out.oom) {
		send_error(req.id, ENOMEM, "reply too large for memory");
		return;
	}
	(void)mark;
	/* exit and kill promise no reply: the harness sees the kernel's panic */
	if (end_how != END_EXIT && end_how != END_KILL)
		ia_chan_send(out.buf, out.len);
	if (end_how != END_NONE) {
		end_id = req.id;
		end_now();
	}
}

/* the printk time stamp (us) of the record "TEXT" read from FD, or -1;
 * a record reads "prio,seq,ts_us,flags;text" */
static long long kmsg_stamp(int fd, const char *text)
{
	char rec[512];
	for (int i = 0; i < 64; i++) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		if (n <= 0)
			return -1;
		rec[n] = 0;
		char *semi = strchr(rec, ';'), *p = strchr(rec, ',');
		if (!semi || !p || strncmp(semi + 1, text, strlen(text)))
			continue;
		p = strchr(p + 1, ',');
		return p && p < semi ? strtoll(p + 1, NULL, 10) : -1;
	}
	return -1;
}

/* The console's clock (printk time) at one CLOCK_BOOTTIME instant: a
 * debug-level line (not shown on the console) written to /dev/kmsg and
 * read back with its stamp. The host puts the hello's boottime_ns on the
 * kernel's clock with it (docs/protocol.md, "clock"). */
void ia_send_clock(void)
{
	static const char text[] = "bootlab-agent: clock";
	int fd = open("/dev/kmsg", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	lseek(fd, 0, SEEK_END);
	long long b0 = ia_boottime_ns();
	ssize_t w = write(fd, "<7>bootlab-agent: clock\n", sizeof(text) + 3);
	long long b1 = ia_boottime_ns();
	long long us = w > 0 ? kmsg_stamp(fd, text) : -1;
	close(fd);
	if (us < 0)
		return;
	ia_json_reset(&out);
	ia_json_obj(&out, NULL);
	ia_json_str(&out, "type", "clock");
	ia_json_int(&out, "boottime_ns", b0 + (b1 - b0) / 2);
	ia_json_int(&out, "window_ns", b1 - b0);
	ia_json_int(&out, "printk_ns", us * 1000);
	ia_json_end(&out, '}');
	ia_chan_send(out.buf, out.len);
}

static void usage(void)
{
	fprintf(stderr, "usage: init-agent [--transport fd:N] [--root DIR]\n");
	_exit(2);
}

int main(int argc, char **argv, char **envp)
{
	const char *w;
	long long t0 = ia_boottime_ns(); /* first thing */

	ia.boottime_ns = t0;
	record_fds();
	ia.argv = argv;
	ia.envp = envp;
	ia.root = "";
	ia.chan_fd = -1;
	ia.switch_ns = -1;
	ia.wait_ms = 10000;
	if (getpid() == 1 && argc > 0 && !strcmp(argv[0], IA_OBSERVER_PATH))
		ia_observe(argv, envp); /* does not return */

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--transport") && i + 1 < argc) {
			char *e;
			const char *t = argv[++i];
			long fd;
			if (strncmp(t, "fd:", 3))
				usage();
			fd = strtol(t + 3, &e, 10);
			if (*e || fd < 0 || fcntl((int)fd, F_GETFD) < 0)
				usage();
			ia.host = 1;
			ia.chan_fd = (int)fd;
			snprintf(ia.channel, sizeof(ia.channel), "fd:%ld", fd);
		} else if (!strcmp(argv[i], "--root") && i + 1 < argc) {
			static char root[4096];
			if (!realpath(argv[++i], root)) {
				perror(argv[i]);
				_exit(2);
			}
			if (!strcmp(root, "/"))
				root[0] = 0;
			ia.root = root;
		} else if (getpid() != 1) {
			usage();
		}
	}
	if (ia.host)
		signal(SIGPIPE, SIG_IGN);

	/* PID 1: only what the hello needs before it (each system call costs
	 * ~0.1 ms under UML, where a whole boot takes ~25 ms) */
	int cmdline_fd = -1;
	if (!ia.host) {
		ia_root_probe(&root0);
		mount_if_absent("devtmpfs", "/dev", "devtmpfs", "/dev/null", 0);
		mount_if_absent("proc", "/proc", "proc", "/proc/self", 1);
		/* keep later opens off fds 0-2 */
		for (int fd = 0; fd < 3; fd++)
			if (!ia.fds[fd].open) {
				int c = open("/dev/console", O_RDWR | O_NOCTTY);
				if (c < 0)
					c = open("/dev/null", O_RDWR);
				if (c >= 0 && c != fd) {
					dup2(c, fd);
					close(c);
				}
			}
		/* closed after the hello */
		cmdline_fd = ia_read_text("/proc/cmdline", ia.cmdline, sizeof(ia.cmdline), 1);
		if ((w = getenv("bootlab_wait")))
			snprintf(ia.wait_ms_s, sizeof(ia.wait_ms_s), "%s", w);
		ia_cmdline_word("bootlab.wait", ia.wait_ms_s, sizeof(ia.wait_ms_s));
		if (ia.wait_ms_s[0])
			ia.wait_ms = strtol(ia.wait_ms_s, NULL, 10);
		ia_cmdline_word("bootlab.dev", ia.dev, sizeof(ia.dev));
		ia_cmdline_word("bootlab.port", ia.port, sizeof(ia.port));
		ia_cmdline_word("bootlab.modules", ia.modlist, sizeof(ia.modlist));
		ia_cmdline_word("bootlab.exit", ia.exitmode, sizeof(ia.exitmode));
		ia_cmdline_word("bootlab.nonce", ia.nonce, sizeof(ia.nonce));
		if ((w = getenv("BOOTLAB_SWITCH_NS")))
			ia.switch_ns = strtoll(w, NULL, 10);
		ia.stage = ia_root_is_rootfs(&root0) ? 1 : 2;
		if (ia.modlist[0])
			ia_need_sys();
		ia_modules_boot();
		ia_chan_find();
	} else {
		ia_read_text("/proc/cmdline", ia.cmdline, sizeof(ia.cmdline), 0);
		ia.stage = 1;
	}

	ia_json_reset(&out);
	ia_json_obj(&out, NULL);
	ia_json_str(&out, "type", "hello");
	ia_hello(&out);
	ia_json_end(&out, '}');
	ia_chan_send(out.buf, out.len);
	if (!ia.host) { /* what the hello did not need */
		ia_need_sys();
		signal(SIGPIPE, SIG_IGN);
		if (cmdline_fd >= 0)
			close(cmdline_fd);
		ia_send_clock();
	}

	for (;;) {
		char *line;
		long n = ia_chan_recv(&line);
		if (n == -1)
			_exit(0); /* host mode: the test closed its end */
		serve_one(line, n);
		ia_reap();
	}
}
