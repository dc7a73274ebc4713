/* observe_sys.c: what the stage-1 observer reports besides processes
 * (docs/observe.md): PID 1's mount table diffed at every change
 * ("mount", "umount", "move", "remount"), and the kernel's uevents for module
 * loads and unloads ("module") and block devices coming, changing and
 * going ("block").
 *
 * The table is /proc/1/mountinfo read through the tracer's own /proc (the
 * tracer lives in a mount namespace of its own, so /proc/self would be
 * the wrong table); poll() on it gives POLLPRI when PID 1's namespace
 * changes. Uevents come from a NETLINK_KOBJECT_UEVENT socket (group 1,
 * the kernel's; messages from user space are ignored). The mounts and
 * block devices there at start are sent once, flagged "initial". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "observe.h"

#define MI_BYTES (128 * 1024) /* of mountinfo read; more is left out */
#define MI_MAX 512	      /* mounts */
#define UEV_BYTES 8192

/* <linux/netlink.h>, copied so that no kernel headers are needed */
#define NETLINK_KOBJECT_UEVENT 15
struct sockaddr_nl {
	unsigned short nl_family, nl_pad;
	unsigned int nl_pid, nl_groups;
};

/* one mountinfo line's fields, pointing into its table's text */
struct mnt {
	int id, parent;
	char *target, *source, *fstype, *opts, *fsopts;
};
static struct table {
	char text[MI_BYTES];
	struct mnt m[MI_MAX];
	int n;
} tabs[2], *cur = &tabs[0];
static int mi_fd = -1, uev_fd = -1;

/* Names seen: modules loaded (or there at start: bootlab's own), block
 * devices present. `udevadm trigger` makes the kernel send "add" again
 * for everything in /sys: an add of a name already there is no news. */
#define NAMES_MAX 1024
struct names {
	char name[NAMES_MAX][64];
	int n;
};
static struct names modules, blocks;

static int names_has(const struct names *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return 1;
	return 0;
}

/* 1 when NAME was not there and is now */
static int names_add(struct names *s, const char *name)
{
	if (names_has(s, name) || s->n >= NAMES_MAX)
		return 0;
	snprintf(s->name[s->n++], sizeof(s->name[0]), "%s", name);
	return 1;
}

/* 1 when NAME was there and is no longer */
static int names_del(struct names *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name)) {
			memcpy(s->name[i], s->name[--s->n], sizeof(s->name[0]));
			return 1;
		}
	return 0;
}

/* mountinfo's octal escapes (\040 for a space) undone in place */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o = *s;
		}
	}
	*o = 0;
}

/* "ID PARENT MAJ:MIN ROOT TARGET OPTS [TAGS...] - FSTYPE SOURCE FSOPTS" */
static int parse_line(char *line, struct mnt *m)
{
	char *f[32], *save = NULL;
	int n = 0, dash = -1;
	for (char *w = strtok_r(line, " ", &save); w && n < 32; w = strtok_r(NULL, " ", &save)) {
		if (dash < 0 && n >= 6 && !strcmp(w, "-"))
			dash = n;
		f[n++] = w;
	}
	if (dash < 0 || n < dash + 4)
		return -1;
	*m =
	    (struct mnt){atoi(f[0]), atoi(f[1]), f[4], f[dash + 2], f[dash + 1], f[5], f[dash + 3]};
	unescape(m->target);
	unescape(m->source);
	return 0;
}

static int read_table(struct table *t)
{
	ssize_t len = 0, r;
	t->n = 0;
	if (lseek(mi_fd, 0, SEEK_SET) < 0)
		return -1;
	while (len < MI_BYTES - 1 &&
	       ((r = read(mi_fd, t->text + len, MI_BYTES - 1 - (size_t)len)) > 0 ||
		(r < 0 && errno == EINTR)))
		len += r > 0 ? r : 0;
	t->text[len] = 0;
	char *save = NULL;
	for (char *l = strtok_r(t->text, "\n", &save); l && t->n < MI_MAX;
	     l = strtok_r(NULL, "\n", &save))
		if (parse_line(l, &t->m[t->n]) == 0)
			t->n++;
	return 0;
}

static void send_mount(const char *event, const struct mnt *m, const char *from, int initial)
{
	struct ia_json *j = ia_obs_begin(event, 0);
	ia_json_int(j, "mnt_id", m->id);
	ia_json_int(j, "parent_id", m->parent);
	ia_json_str(j, "target", m->target);
	ia_json_str(j, "source", m->source);
	ia_json_str(j, "fstype", m->fstype);
	ia_json_str(j, "options", m->opts);
	ia_json_str(j, "fs_options", m->fsopts);
	if (from)
		ia_json_str(j, "from", from);
	if (initial)
		ia_json_bool(j, "initial", 1);
	ia_obs_send();
}

static const struct mnt *find_mnt(const struct table *t, int id)
{
	for (int i = 0; i < t->n; i++)
		if (t->m[i].id == id)
			return &t->m[i];
	return NULL;
}

/* the same mount (ids are reused after an unmount; a move changes its
 * parent) */
static int same_mount(const struct mnt *a, const struct mnt *b)
{
	return !strcmp(a->fstype, b->fstype) && !strcmp(a->source, b->source);
}

/* OLD -> NEW: unmounts first, then new mounts and changed ones (moved,
 * or remounted with other options) in NEW's order, the order of
 * mounting */
static void diff_tables(const struct table *old, const struct table *new)
{
	for (int i = 0; i < old->n; i++) {
		const struct mnt *n = find_mnt(new, old->m[i].id);
		if (!n || !same_mount(n, &old->m[i]))
			send_mount("umount", &old->m[i], NULL, 0);
	}
	for (int i = 0; i < new->n; i++) {
		const struct mnt *m = &new->m[i], *o = find_mnt(old, m->id);
		if (!o || !same_mount(m, o))
			send_mount("mount", m, NULL, 0);
		else if (strcmp(m->target, o->target))
			send_mount("move", m, o->target, 0);
		else if (strcmp(m->opts, o->opts) || strcmp(m->fsopts, o->fsopts))
			send_mount("remount", m, NULL, 0);
	}
}

static void mounts_changed(void)
{
	struct table *next = cur == &tabs[0] ? &tabs[1] : &tabs[0];
	if (read_table(next) < 0)
		return;
	diff_tables(cur, next);
	cur = next;
}

/* KEY's value among a uevent's "KEY=VALUE" strings, or NULL */
static const char *uev_get(const char *buf, size_t len, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = 0; i < len; i += strnlen(buf + i, len - i) + 1)
		if (!strncmp(buf + i, key, k) && buf[i + k] == '=')
			return buf + i + k + 1;
	return NULL;
}

static void send_block(const char *action, const char *name, const char *type, const char *devpath,
		       int initial)
{
	struct ia_json *j = ia_obs_begin("block", 0);
	ia_json_str(j, "action", action);
	ia_json_str(j, "devname", name);
	ia_json_str(j, "devtype", type ? type : "");
	ia_json_str(j, "devpath", devpath);
	if (initial)
		ia_json_bool(j, "initial", 1);
	ia_obs_send();
}

static void send_module(const char *action, const char *name)
{
	struct ia_json *j = ia_obs_begin("module", 0);
	ia_json_str(j, "name", name);
	ia_json_str(j, "action", action);
	ia_obs_send();
}

/* a module's "add": a load when the module is not one there before and
 * is loadable (/sys/module/NAME/initstate; a built-in module has none,
 * and is "added" again by udevadm trigger); its "remove": an unload of
 * one loaded (the kernel sends it after the module's exit function ran) */
static void on_module(const char *action, const char *path)
{
	const char *name = strrchr(path, '/');
	char p[128];
	name = name ? name + 1 : path;
	snprintf(p, sizeof(p), "/sys/module/%s/initstate", name);
	if (!strcmp(action, "remove")) {
		if (names_del(&modules, name))
			send_module(action, name);
		return;
	}
	if (names_has(&modules, name) || access(p, F_OK) || !names_add(&modules, name))
		return;
	send_module(action, name);
}

/* one kernel uevent: "ACTION@DEVPATH\0KEY=VALUE\0..."; a block device's
 * "change" (media, size, a loop device's file, a partition table read
 * again, `udevadm trigger --action=change`) is sent for a device there */
static void on_uevent(char *buf, size_t len)
{
	buf[len] = 0;
	const char *act = uev_get(buf, len, "ACTION"), *path = uev_get(buf, len, "DEVPATH"),
		   *sub = uev_get(buf, len, "SUBSYSTEM"), *name = uev_get(buf, len, "DEVNAME");
	if (!act || !path || !sub)
		return;
	if (!strcmp(sub, "module") && (!strcmp(act, "add") || !strcmp(act, "remove")))
		on_module(act, path);
	else if (!strcmp(sub, "block") && name &&
		 ((!strcmp(act, "add") && names_add(&blocks, name)) ||
		  (!strcmp(act, "remove") && names_del(&blocks, name)) ||
		  (!strcmp(act, "change") && names_has(&blocks, name))))
		send_block(act, name, uev_get(buf, len, "DEVTYPE"), path, 0);
}

static void read_uevents(void)
{
	static char buf[UEV_BYTES + 1];
	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = {buf, UEV_BYTES};
		struct msghdr mh = {.msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1};
		ssize_t n = recvmsg(uev_fd, &mh, MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			ia_log("observe: uevents lost (socket buffer full)");
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (from.nl_pid == 0) /* the kernel's, not a program's */
			on_uevent(buf, (size_t)n);
	}
}

/* a block device there at start: /sys/class/block/NAME links to
 * "../../devices/.../block/vda"; its uevent file has DEVNAME, DEVTYPE */
static void send_present_block(const char *name)
{
	char p[300], link[1024], ue[1024];
	snprintf(p, sizeof(p), "/sys/class/block/%s", name);
	ssize_t l = readlink(p, link, sizeof(link) - 1);
	link[l > 0 ? l : 0] = 0;
	const char *dev = strstr(link, "/devices/");
	snprintf(p, sizeof(p), "/sys/class/block/%s/uevent", name);
	ia_read_text(p, ue, sizeof(ue), 0);
	size_t n = strlen(ue);
	for (size_t i = 0; i < n; i++)
		ue[i] = ue[i] == '\n' ? 0 : ue[i];
	const char *devname = uev_get(ue, n, "DEVNAME");
	if (names_add(&blocks, devname ? devname : name))
		send_block("add", devname ? devname : name, uev_get(ue, n, "DEVTYPE"),
			   dev ? dev : link, 1);
}

static void list_block_devices(void)
{
	DIR *d = opendir("/sys/class/block");
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			send_present_block(e->d_name);
	if (d)
		closedir(d);
}

/* the modules loaded before the project's init ran (bootlab's port's) */
static void modules_there(void)
{
	FILE *f = fopen("/proc/modules", "re");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \n")] = 0;
		names_add(&modules, line);
	}
	if (f)
		fclose(f);
}

static int uevent_socket(void)
{
	struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_groups = 1};
	int sz = 4 << 20;
	int fd =
	    socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void ia_obs_sys_open(int procfd)
{
	mi_fd = openat(procfd, "1/mountinfo", O_RDONLY | O_CLOEXEC);
	if (mi_fd < 0 || read_table(cur) < 0)
		ia_log("observe: cannot read PID 1's mount table: %s", strerror(errno));
	for (int i = 0; i < cur->n; i++)
		send_mount("mount", &cur->m[i], NULL, 1);
	/* the socket first: a device added meanwhile is sent twice, never missed */
	uev_fd = uevent_socket();
	if (uev_fd < 0)
		ia_log("observe: no uevent socket: %s", strerror(errno));
	list_block_devices();
	modules_there();
}

void ia_obs_sys_fds(struct pollfd p[2])
{
	p[0] = (struct pollfd){.fd = mi_fd, .events = POLLPRI};
	p[1] = (struct pollfd){.fd = uev_fd, .events = POLLIN};
}

/* a poll() of the mount table's fd consumes its change: whoever polls
 * must hand the result here */
void ia_obs_sys_ready(const struct pollfd p[2])
{
	if (p[0].revents & (POLLPRI | POLLERR))
		mounts_changed();
	if (p[1].revents & POLLIN)
		read_uevents();
}

void ia_obs_sys_sense(void)
{
	struct pollfd p[2];
	ia_obs_sys_fds(p);
	if (poll(p, 2, 0) > 0)
		ia_obs_sys_ready(p);
}

void ia_obs_sys_close(void)
{
	if (mi_fd >= 0)
		close(mi_fd);
	if (uev_fd >= 0)
		close(uev_fd);
	mi_fd = uev_fd = -1;
}
