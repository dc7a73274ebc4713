/* switchroot.c: switch_root like busybox and klibc run-init: check every
 * precondition first (nothing is destroyed by a refusal, and the agent
 * keeps serving), then move /dev /proc /sys along, delete the rootfs
 * contents without crossing mount points, move the new root onto "/",
 * chroot, reopen the console and exec the new init. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

#define RAMFS_MAGIC 0x858458f6
#define TMPFS_MAGIC 0x01021994

extern char **environ;

/* Checks init inside newroot, following symlinks as the new root will:
 * a child chroots there. 0 or an errno. */
static int check_init(const char *nr, const char *init)
{
	int pfd[2], e = 0;
	pid_t pid;
	struct stat st;
	if (pipe(pfd))
		return errno;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(pfd[0]), close(pfd[1]);
		return e;
	}
	if (pid == 0) {
		close(pfd[0]);
		if (chroot(nr) == 0) {
			if (chdir("/") || stat(init, &st))
				e = errno;
			else if (!S_ISREG(st.st_mode) || access(init, X_OK))
				e = EACCES;
		} else {
			char p[8192];
			/* not allowed to chroot (host mode as a user): look directly */
			snprintf(p, sizeof(p), "%s/%s", nr, init);
			if (stat(p, &st))
				e = errno;
			else if (!S_ISREG(st.st_mode) || access(p, X_OK))
				e = EACCES;
		}
		if (write(pfd[1], &e, sizeof(e)) < 0) {
		}
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &e, sizeof(e)) != (ssize_t)sizeof(e))
		e = EIO;
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	return e;
}

/* Deletes everything under dirfd on device dev; never crosses mounts. */
static void nuke(int dirfd, dev_t dev)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;
	if (!d) {
		close(dirfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) || st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name,
					 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (sub >= 0)
				nuke(sub, dev);
			unlinkat(dirfd, e->d_name,
				 AT_REMOVEDIR); /* fails for mount points' parents */
		} else {
			unlinkat(dirfd, e->d_name, 0);
		}
	}
	closedir(d);
}

int ia_op_switch_root(struct ia_req *r, struct ia_json *j)
{
	const char *newroot, *init = "/sbin/init", *console = "/dev/console", *nr;
	struct ia_str *args = NULL;
	size_t nargs = 0;
	struct stat st, up, root;
	struct statfs sf;
	char parent[8192], sw[64];
	char **argv;
	int e;
	static const char *const moves[] = {"/dev", "/proc", "/sys", "/run"};

	if (ia_need_str(r, "newroot", &newroot) || ia_arg_str(r, "init", &init, NULL) < 0 ||
	    ia_arg_str(r, "console", &console, NULL) < 0 ||
	    ia_arg_arr(r, "args", &args, &nargs) < 0)
		return -1;
	if (init[0] != '/')
		return ia_fail(EINVAL, "argument 'init': expected an absolute path");
	nr = ia_path(newroot);
	if (stat(nr, &st))
		return ia_fail_errno("new root '%s'", newroot);
	if (!S_ISDIR(st.st_mode))
		return ia_fail(ENOTDIR, "new root '%s' is not a folder", newroot);
	snprintf(parent, sizeof(parent), "%s/..", nr);
	if (stat(parent, &up))
		return ia_fail_errno("new root '%s': parent", newroot);
	if (up.st_dev == st.st_dev)
		return ia_fail(EINVAL, "new root '%s' is not a mount point", newroot);
	if (statfs(ia_path("/"), &sf))
		return ia_fail_errno("statfs '/'");
	if ((unsigned long)sf.f_type != RAMFS_MAGIC && (unsigned long)sf.f_type != TMPFS_MAGIC)
		return ia_fail(EINVAL, "rootfs is not ramfs/tmpfs (magic 0x%lx)",
			       (unsigned long)sf.f_type);
	e = check_init(nr, init);
	if (e == ENOENT || e == ENOTDIR || e == ELOOP)
		return ia_fail(ENOENT, "new init '%s' not found under '%s'", init, newroot);
	if (e == EACCES)
		return ia_fail(EACCES, "new init '%s' is not executable", init);
	if (e)
		return ia_fail(e, "new init '%s' under '%s': %s", init, newroot, strerror(e));
	if (getpid() != 1)
		return ia_fail(EPERM, "not PID 1");
	if (stat("/", &root))
		return ia_fail_errno("stat '/'");
	argv = calloc(nargs + 2, sizeof(*argv));
	if (!argv)
		return ia_fail(ENOMEM, "switch_root: out of memory");
	argv[0] = (char *)init;
	for (size_t i = 0; i < nargs; i++)
		argv[i + 1] = args[i].s;

	/* From here on the old root goes away. */
	for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		struct stat m, t;
		char to[8192];
		snprintf(to, sizeof(to), "%s%s", nr, moves[i]);
		if (stat(moves[i], &m) || m.st_dev == root.st_dev)
			continue; /* not a mount */
		if (stat(to, &t) == 0 && S_ISDIR(t.st_mode) &&
		    mount(moves[i], to, NULL, MS_MOVE, NULL) == 0)
			continue;
		umount2(moves[i], MNT_DETACH);
	}
	nuke(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), root.st_dev);
	if (chdir(nr) || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/")) {
		e = errno;
		free(argv);
		return ia_fail(e, "moving '%s' onto '/' (rootfs already emptied): %s", newroot,
			       strerror(e));
	}
	e = open(console, O_RDWR | O_NOCTTY);
	if (e >= 0) {
		dup2(e, 0);
		dup2(e, 1);
		dup2(e, 2);
		if (e > 2)
			close(e);
	}
	snprintf(sw, sizeof(sw), "BOOTLAB_SWITCH_NS=%lld", ia_boottime_ns());
	putenv(sw);
	execve(init, argv, environ);
	e = errno;
	free(argv);
	return ia_fail(e, "exec '%s' on the new root: %s", init, strerror(e));
}
