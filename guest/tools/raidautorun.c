/* raidautorun: a stand-in for busybox's `raidautorun` applet, for the
 * Gentoo-wiki-style busybox /init of scenarios/raid-gentoo.yaml.
 *
 *   usage: raidautorun /dev/mdN
 *
 * Why it exists: Debian's busybox-static is built without the raidautorun
 * applet (`busybox --list` has no such name), and the applet would not work
 * on the kernels bootlab boots anyway. Busybox's applet is one line,
 * ioctl(open(DEV, O_RDONLY), RAID_AUTORUN, 0): it asks the kernel to start
 * every array it autodetected (0.90 members on MBR partitions of type 0xfd,
 * CONFIG_MD_AUTODETECT). Linux dropped that ioctl in 2020: in 6.1,
 * drivers/md/md.c md_ioctl_valid() does not list RAID_AUTORUN, so md_ioctl
 * answers ENOTTY, and the kernel's own autodetect (md-autodetect.c
 * md_run_setup -> md_autostart_arrays) only runs from prepare_namespace,
 * i.e. when there is no /init in the initramfs (scenarios/raid-autodetect.yaml).
 *
 * So this tool first does exactly what the applet does. On ENOTTY (or
 * EINVAL) it says so and does the autodetect in user space, the way
 * md_autostart_arrays would: every partition whose MBR type byte is 0xfd
 * is offered to /dev/mdN with ADD_NEW_DISK after SET_ARRAY_INFO(0.90), so
 * the kernel itself reads and checks each 0.90 superblock (super_90_load:
 * a damaged one is refused, a member of another array is refused by its
 * UUID), then RUN_ARRAY starts the array, degraded if a member is missing.
 * Unlike the kernel's autorun it starts only the array named on the command
 * line. Exit status 0 when the array runs, 1 otherwise; messages go to
 * stderr prefixed "raidautorun: ".
 *
 * Static, no kernel headers needed (the md_u.h bits are copied below);
 * built by the Makefile as build/tools/raidautorun with musl-gcc -static.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* <linux/raid/md_u.h> */
#define MD_MAJOR 9
struct md_array_info {
	int major_version, minor_version, patch_version;
	unsigned ctime;
	int level, size, nr_disks, raid_disks, md_minor, not_persistent;
	unsigned utime;
	int state, active_disks, working_disks, failed_disks, spare_disks;
	int layout, chunk_size;
};
struct md_disk_info {
	int number, major, minor, raid_disk, state;
};
#define RAID_AUTORUN _IO(MD_MAJOR, 0x14)
#define ADD_NEW_DISK _IOW(MD_MAJOR, 0x21, struct md_disk_info)
#define SET_ARRAY_INFO _IOW(MD_MAJOR, 0x23, struct md_array_info)
#define RUN_ARRAY _IOW(MD_MAJOR, 0x30, int[3])
#define STOP_ARRAY _IO(MD_MAJOR, 0x32)

#define MBR_TYPE_LINUX_RAID 0xfd

static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("raidautorun: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* a small sysfs attribute, trailing newline cut; -1 if unreadable */
static int read_attr(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return -1;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = 0;
	return 0;
}

/* The MBR type byte of partition number `part` (1-4) of disk `disk`, read
 * through /dev/DISK (devtmpfs, or a node made here from sysfs); -1 when
 * the disk has no MBR or the partition is a logical one. */
static int mbr_type(const char *disk, int part)
{
	unsigned char s[512];
	char path[700], dev[32];
	unsigned maj, min;
	struct stat st;
	int fd, rc = -1;

	if (part < 1 || part > 4)
		return -1;
	snprintf(path, sizeof(path), "/dev/%s", disk);
	if (stat(path, &st) && errno == ENOENT) {
		char attr[700];
		snprintf(attr, sizeof(attr), "/sys/class/block/%s/dev", disk);
		if (read_attr(attr, dev, sizeof(dev)) || sscanf(dev, "%u:%u", &maj, &min) != 2 ||
		    mknod(path, S_IFBLK | 0600, makedev(maj, min)))
			return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pread(fd, s, sizeof(s), 0) == (ssize_t)sizeof(s) && s[510] == 0x55 && s[511] == 0xaa)
		rc = s[446 + 16 * (part - 1) + 4];
	close(fd);
	return rc;
}

/* SET_ARRAY_INFO(0.90), ADD_NEW_DISK for every type-fd partition, RUN_ARRAY */
static int autodetect(int md, const char *mddev)
{
	struct md_array_info ai = {.major_version = 0, .minor_version = 90};
	int tried = 0, added = 0;
	DIR *d;
	struct dirent *e;

	if (ioctl(md, SET_ARRAY_INFO, &ai)) {
		say("SET_ARRAY_INFO '%s': %s", mddev, strerror(errno));
		return -1;
	}
	d = opendir("/sys/class/block");
	if (!d) {
		say("'/sys/class/block': %s (is sysfs mounted?)", strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		char path[600], val[64], target[600], *parent;
		unsigned maj, min;
		int part;
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/partition", e->d_name);
		if (read_attr(path, val, sizeof(val)))
			continue; /* a whole disk */
		part = atoi(val);
		/* .../block/vdb/vdb2: the parent folder is the disk */
		snprintf(path, sizeof(path), "/sys/class/block/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!(parent = strrchr(target, '/')))
			continue;
		*parent = 0;
		parent = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
		if (mbr_type(parent, part) != MBR_TYPE_LINUX_RAID)
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/dev", e->d_name);
		if (read_attr(path, val, sizeof(val)) || sscanf(val, "%u:%u", &maj, &min) != 2)
			continue;
		tried++;
		struct md_disk_info di = {.major = (int)maj, .minor = (int)min};
		if (ioctl(md, ADD_NEW_DISK, &di)) {
			say("%s (type fd): not added: %s", e->d_name, strerror(errno));
			continue;
		}
		say("%s (type fd): added to %s", e->d_name, mddev);
		added++;
	}
	closedir(d);
	if (!added) {
		say("no usable 0.90 member on a type-fd partition (%d tried)", tried);
		return -1;
	}
	if (ioctl(md, RUN_ARRAY, NULL)) {
		say("RUN_ARRAY '%s': %s", mddev, strerror(errno));
		ioctl(md, STOP_ARRAY, NULL);
		return -1;
	}
	say("%s started with %d of %d type-fd partitions", mddev, added, tried);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dev, *name;
	char *end;
	long minor;
	struct stat st;
	int fd, rc;

	if (argc != 2) {
		fprintf(stderr, "usage: raidautorun /dev/mdN\n");
		return 2;
	}
	dev = argv[1];
	name = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	if (strncmp(name, "md", 2) || !name[2] || (minor = strtol(name + 2, &end, 10), *end) ||
	    minor < 0 || minor > 255) {
		say("bad device '%s' (expected /dev/mdN)", dev);
		return 2;
	}
	/* opening a missing md minor creates it (md_probe), but only through a node */
	if (stat(dev, &st) && errno == ENOENT &&
	    mknod(dev, S_IFBLK | 0600, makedev(MD_MAJOR, (unsigned)minor))) {
		say("mknod '%s': %s", dev, strerror(errno));
		return 1;
	}
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		say("open '%s': %s", dev, strerror(errno));
		return 1;
	}
	/* what busybox's applet does, all of it */
	if (!ioctl(fd, RAID_AUTORUN, 0)) {
		say("RAID_AUTORUN '%s': the kernel started its autodetected arrays", dev);
		close(fd);
		return 0;
	}
	if (errno != ENOTTY && errno != EINVAL) {
		say("RAID_AUTORUN '%s': %s", dev, strerror(errno));
		close(fd);
		return 1;
	}
	rc = errno;
	say("RAID_AUTORUN '%s': %s (%s: this kernel has no RAID_AUTORUN), "
	    "assembling type-fd partitions in user space",
	    dev, strerror(rc), rc == ENOTTY ? "ENOTTY" : "EINVAL");
	rc = autodetect(fd, dev);
	close(fd);
	return rc ? 1 : 0;
}
