/* md.c: assemble an md array from its members' superblocks, the way the
 * kernel's md-autodetect and mdadm --assemble do it, without mdadm:
 * SET_ARRAY_INFO (version only: "read the superblocks"), ADD_NEW_DISK per
 * member, RUN_ARRAY, then ADD_NEW_DISK again for members the kernel left
 * out (non-fresh): that hot-adds them and starts recovery. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent.h"

/* <linux/raid/md_u.h>, copied so that no kernel headers are needed */
#define IA_MD_MAJOR 9
struct ia_md_array_info {
	int major_version, minor_version, patch_version;
	unsigned ctime;
	int level, size, nr_disks, raid_disks, md_minor, not_persistent;
	unsigned utime;
	int state, active_disks, working_disks, failed_disks, spare_disks;
	int layout, chunk_size;
};
struct ia_md_disk_info {
	int number, major, minor, raid_disk, state;
};
struct ia_md_param {
	int personality, chunk_size, max_fault;
};
#define IA_ADD_NEW_DISK _IOW(IA_MD_MAJOR, 0x21, struct ia_md_disk_info)
#define IA_SET_ARRAY_INFO _IOW(IA_MD_MAJOR, 0x23, struct ia_md_array_info)
#define IA_RUN_ARRAY _IOW(IA_MD_MAJOR, 0x30, struct ia_md_param)
#define IA_STOP_ARRAY _IO(IA_MD_MAJOR, 0x32)

static void put_file(struct ia_json *j, const char *key, const char *path)
{
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		ia_json_null(j, key);
		return;
	}
	while (n > 0 && buf[n - 1] == '\n' && !strcmp(key, "state"))
		n--;
	ia_json_strn(j, key, buf, (size_t)n);
}

/* Is member (by its /sys/block name) part of the array? */
static int in_array(int minor, const char *name)
{
	char p[300];
	struct stat st;
	snprintf(p, sizeof(p), "/sys/block/md%d/md/dev-%s", minor, name);
	return stat(p, &st) == 0;
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* ADD_NEW_DISK of MEMBER to the array open as FD, as {member, ok[, errno]}
 * (ST: scratch for the member's stat) */
static void add_disk(struct ia_json *j, int fd, const char *member, struct stat *st)
{
	struct ia_md_disk_info di = {0};
	stat(ia_path(member), st);
	di.major = (int)major(st->st_rdev);
	di.minor = (int)minor(st->st_rdev);
	ia_json_obj(j, NULL);
	ia_json_str(j, "member", member);
	if (ioctl(fd, IA_ADD_NEW_DISK, &di)) {
		ia_json_bool(j, "ok", 0);
		ia_json_errno(j, errno);
	} else {
		ia_json_bool(j, "ok", 1);
	}
	ia_json_end(j, '}');
}

int ia_op_md_assemble(struct ia_req *r, struct ia_json *j)
{
	const char *dev, *meta = "1.2", *dn;
	struct ia_str *mem;
	size_t nm;
	struct ia_md_array_info ai;
	char *e;
	long minor;
	int rc, fd;
	struct stat st;

	if (ia_need_str(r, "device", &dev) || ia_arg_str(r, "metadata", &meta, NULL) < 0 ||
	    (rc = ia_arg_arr(r, "members", &mem, &nm)) < 0)
		return -1;
	if (rc == 1 || nm == 0)
		return ia_fail(EINVAL, "missing argument 'members' (a non-empty array)");
	dn = base(dev);
	if (strncmp(dn, "md", 2) || !dn[2] || (minor = strtol(dn + 2, &e, 10), *e) || minor < 0 ||
	    minor > 255)
		return ia_fail(EINVAL, "argument 'device': expected /dev/mdN, got '%s'", dev);
	memset(&ai, 0, sizeof(ai));
	if (!strcmp(meta, "0.90")) {
		ai.major_version = 0;
		ai.minor_version = 90;
	} else if (!strcmp(meta, "1.0") || !strcmp(meta, "1.1") || !strcmp(meta, "1.2")) {
		ai.major_version = 1;
		ai.minor_version = meta[2] - '0';
	} else {
		return ia_fail(EINVAL, "argument 'metadata': expected 0.90, 1.0, 1.1 or 1.2");
	}
	/* check every member before touching the array */
	for (size_t i = 0; i < nm; i++) {
		if (stat(ia_path(mem[i].s), &st))
			return ia_fail_errno("member '%s'", mem[i].s);
		if (!S_ISBLK(st.st_mode))
			return ia_fail(ENOTBLK, "member '%s' is not a block device", mem[i].s);
	}
	if (stat(ia_path(dev), &st) && errno == ENOENT &&
	    mknod(ia_path(dev), S_IFBLK | 0600, makedev(IA_MD_MAJOR, (unsigned)minor)))
		return ia_fail_errno("mknod '%s'", dev);
	fd = open(ia_path(dev), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return ia_fail_errno("open '%s'", dev);
	if (ioctl(fd, IA_SET_ARRAY_INFO, &ai)) {
		rc = ia_fail_errno("SET_ARRAY_INFO '%s' (metadata %s)", dev, meta);
		close(fd);
		return rc;
	}
	ia_json_arr(j, "added");
	for (size_t i = 0; i < nm; i++)
		add_disk(j, fd, mem[i].s, &st);
	ia_json_end(j, ']');
	if (ioctl(fd, IA_RUN_ARRAY, NULL)) {
		rc = ia_fail_errno("RUN_ARRAY '%s'", dev);
		ioctl(fd, IA_STOP_ARRAY, NULL);
		close(fd);
		return rc;
	}
	/* members left out as non-fresh: hot-add them (recovery starts) */
	ia_json_arr(j, "readded");
	for (size_t i = 0; i < nm; i++)
		if (!in_array((int)minor, base(mem[i].s)))
			add_disk(j, fd, mem[i].s, &st);
	ia_json_end(j, ']');
	close(fd);
	ia_json_arr(j, "members");
	for (size_t i = 0; i < nm; i++)
		if (in_array((int)minor, base(mem[i].s)))
			ia_json_str(j, NULL, mem[i].s);
	ia_json_end(j, ']');
	{
		char p[300];
		snprintf(p, sizeof(p), "/sys/block/md%ld/md/array_state", minor);
		put_file(j, "state", p);
	}
	put_file(j, "mdstat", "/proc/mdstat");
	return 0;
}
