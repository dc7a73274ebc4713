/* mounts.c: mount, umount, mounts, pivot_root, and what "/" is. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"

static const struct {
	const char *name;
	unsigned long flag;
} mflags[] = {
    {"ro", MS_RDONLY},	      {"nosuid", MS_NOSUID},   {"nodev", MS_NODEV},
    {"noexec", MS_NOEXEC},    {"bind", MS_BIND},       {"move", MS_MOVE},
    {"remount", MS_REMOUNT},  {"rec", MS_REC},	       {"private", MS_PRIVATE},
    {"sync", MS_SYNCHRONOUS}, {"noatime", MS_NOATIME}, {"lazytime", MS_LAZYTIME},
    {"silent", MS_SILENT},
};

int ia_op_mount(struct ia_req *r, struct ia_json *j)
{
	const char *src = NULL, *target, *fstype = NULL, *data = NULL;
	struct ia_str *fl = NULL;
	size_t nfl = 0;
	unsigned long flags = 0;
	if (ia_need_str(r, "target", &target) || ia_arg_str(r, "source", &src, NULL) < 0 ||
	    ia_arg_str(r, "fstype", &fstype, NULL) < 0 || ia_arg_str(r, "data", &data, NULL) < 0 ||
	    ia_arg_arr(r, "flags", &fl, &nfl) < 0)
		return -1;
	for (size_t i = 0; i < nfl; i++) {
		size_t k, n = sizeof(mflags) / sizeof(mflags[0]);
		for (k = 0; k < n; k++)
			if (!strcmp(fl[i].s, mflags[k].name))
				break;
		if (k == n)
			return ia_fail(EINVAL, "argument 'flags': unknown flag '%.100s'", fl[i].s);
		flags |= mflags[k].flag;
	}
	if (!fstype && !(flags & (MS_BIND | MS_MOVE | MS_REMOUNT)))
		return ia_fail(EINVAL, "missing argument 'fstype'");
	if (src && (flags & (MS_BIND | MS_MOVE)))
		src = ia_path(src);
	if (mount(src ? src : "none", ia_path(target), fstype, flags, data))
		return ia_fail_errno("mount '%s' on '%s'", src ? src : "none", target);
	return 0;
}

int ia_op_umount(struct ia_req *r, struct ia_json *j)
{
	const char *target;
	int lazy = 0;
	if (ia_need_str(r, "target", &target) || ia_arg_bool(r, "lazy", &lazy) < 0)
		return -1;
	if (umount2(ia_path(target), lazy ? MNT_DETACH : 0))
		return ia_fail_errno("umount '%s'", target);
	return 0;
}

/* /proc/self/mounts escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
	char *w = s;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = 0;
}

/* Splits a line into at most n space-separated fields. */
static int split(char *line, char **f, int n)
{
	int k = 0;
	char *save = NULL, *t;
	for (t = strtok_r(line, " \n", &save); t && k < n; t = strtok_r(NULL, " \n", &save))
		f[k++] = t;
	return k;
}

int ia_op_mounts(struct ia_req *r, struct ia_json *j)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char line[8192];
	if (!f)
		return ia_fail_errno("open '/proc/self/mounts'");
	ia_json_arr(j, "mounts");
	while (fgets(line, sizeof(line), f)) {
		char *fl[6];
		if (split(line, fl, 6) < 4)
			continue;
		for (int i = 0; i < 4; i++)
			unescape(fl[i]);
		ia_json_obj(j, NULL);
		ia_json_str(j, "source", fl[0]);
		ia_json_str(j, "target", fl[1]);
		ia_json_str(j, "fstype", fl[2]);
		ia_json_str(j, "options", fl[3]);
		ia_json_end(j, '}');
	}
	fclose(f);
	ia_json_end(j, ']');
	return 0;
}

int ia_op_pivot_root(struct ia_req *r, struct ia_json *j)
{
	const char *nr, *old;
	if (ia_need_str(r, "new_root", &nr) || ia_need_str(r, "put_old", &old))
		return -1;
	if (syscall(SYS_pivot_root, ia_path(nr), ia_path(old)))
		return ia_fail_errno("pivot_root '%s' '%s'", nr, old);
	return 0;
}

/* When the kernel mounted root itself (root=/dev/md0), mountinfo names the
 * device "/dev/root"; its real name comes from the major:minor through
 * sysfs (DEVNAME= in /sys/dev/block/MAJ:MIN/uevent). Left as is without. */
static void real_devname(const char *majmin, char *dev, size_t dn)
{
	char p[64], buf[1024], *s;
	FILE *f;
	ia_need_sys(); /* the hello may come before /sys is otherwise needed */
	snprintf(p, sizeof(p), "/sys/dev/block/%s/uevent", majmin);
	if (!(f = fopen(p, "re")))
		return;
	while (fgets(buf, sizeof(buf), f)) {
		if (strncmp(buf, "DEVNAME=", 8))
			continue;
		s = buf + 8;
		s[strcspn(s, "\n")] = 0;
		if (*s)
			snprintf(dev, dn, "%s", s);
		break;
	}
	fclose(f);
}

/* The mountinfo line of the top mount on "/": fields into dev/fstype.
 * Read with plain read(2), not stdio: this runs before the hello, and under
 * TCG every first-time code path costs translation time (stdio's made the
 * hello ~10 ms later). */
static int root_line(char *dev, size_t dn, char *fstype, size_t fn, char *majmin, size_t mn)
{
	static char buf[65536];
	char *line, *next;
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC), found = 0;
	size_t len = 0;
	ssize_t r;
	if (fd < 0)
		return -1;
	while (len < sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = 0;
	for (line = buf; *line; line = next) {
		char *fl[16], *nl = strchr(line, '\n');
		int n, dash;
		next = nl ? nl + 1 : line + strlen(line);
		if (nl)
			*nl = 0;
		n = split(line, fl, 16);
		if (n < 7 || strcmp(fl[4], "/"))
			continue;
		for (dash = 6; dash < n && strcmp(fl[dash], "-"); dash++)
			;
		if (dash + 2 >= n)
			continue;
		unescape(fl[dash + 2]);
		ia_strlcpy(fstype, fl[dash + 1], fn);
		ia_strlcpy(dev, strncmp(fl[dash + 2], "/dev/", 5) ? fl[dash + 2] : fl[dash + 2] + 5,
			   dn);
		ia_strlcpy(majmin, fl[2], mn);
		found = 1;
	}
	if (found && !strcmp(dev, "root"))
		real_devname(majmin, dev, dn);
	return found ? 0 : -1;
}

int ia_root_info(char *dev, size_t dn, char *fstype, size_t fn)
{
	char mm[32];
	return root_line(dev, dn, fstype, fn, mm, sizeof(mm));
}

/* struct statx as the kernel lays it out (linux/stat.h), up to the mount
 * id; musl 1.2.3 has SYS_statx but neither the struct nor a wrapper */
struct ia_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad0;
	uint64_t ino, size, blocks, attributes_mask;
	struct {
		int64_t sec;
		uint32_t nsec;
		int32_t pad;
	} t[4];
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t mnt_id;
	uint64_t spare[14];
};
#define IA_STATX_MNT_ID 0x1000U
#define IA_STATX_BASIC 0x7ffU /* STATX_BASIC_STATS */

/* One statx of "/" (a stat where there is none): its device and mode
 * for the start-up mounts and the hello, and its mount id for the stage.
 * Each system call costs ~0.1 ms under UML before the hello. */
void ia_root_probe(struct ia_rootinfo *ri)
{
	memset(ri, 0, sizeof(*ri));
#ifdef SYS_statx
	struct ia_statx sx;
	memset(&sx, 0, sizeof(sx));
	if (syscall(SYS_statx, AT_FDCWD, ia_path("/"), 0, IA_STATX_BASIC | IA_STATX_MNT_ID, &sx) ==
		0 &&
	    (sx.mask & IA_STATX_BASIC) == IA_STATX_BASIC) {
		ri->ok = 1;
		ri->dev = makedev(sx.dev_major, sx.dev_minor);
		ri->mode = sx.mode;
		ri->mnt_id = (sx.mask & IA_STATX_MNT_ID) ? (long long)sx.mnt_id : -1;
		return;
	}
#endif
	struct stat st;
	if (stat(ia_path("/"), &st) == 0) {
		ri->ok = 1;
		ri->dev = st.st_dev;
		ri->mode = st.st_mode;
		ri->mnt_id = -1;
	}
}

int ia_root_is_rootfs(const struct ia_rootinfo *ri)
{
	char dev[256], fstype[64], mm[32];
	/* rootfs is the second mount the kernel makes (after the internal
	 * shm mount, mnt_init() in fs/namespace.c) and is never unmounted, so
	 * mount id 1 on "/" is rootfs: no mountinfo to read, ~3 ms less before
	 * the hello under TCG. Any other id (or a kernel before 5.8, no
	 * STATX_MNT_ID) asks mountinfo. */
	if (ri->mnt_id == 1)
		return 1;
	if (root_line(dev, sizeof(dev), fstype, sizeof(fstype), mm, sizeof(mm)))
		return 1; /* no /proc: nobody switched root for us */
	return !strcmp(fstype, "rootfs");
}
