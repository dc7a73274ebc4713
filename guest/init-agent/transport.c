/* transport.c: the agent channel. Order of preference: the port named by
 * bootlab.port= and the tty named by bootlab.dev= when given, the
 * virtio-serial port named org.bootlab.agent, framed lines on
 * /dev/console, each sent line carrying bootlab.nonce= when given. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define PORT_NAME "org.bootlab.agent"
#define FRAME "@@BL1@@ "

static void msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* raw when a tty (the tcgetattr is the isatty test: one call less) */
static void make_raw(int fd)
{
	struct termios t;
	if (tcgetattr(fd, &t))
		return;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(fd, TCSANOW, &t);
}

/* Whether /sys/class/virtio-ports/NODE/name is PORT_NAME. */
static int port_is_ours(const char *node)
{
	char p[320], name[64];
	size_t l = ia_strlcpy(p, "/sys/class/virtio-ports/", sizeof(p));
	int fd;
	ssize_t r;
	if (l + ia_strlcpy(p + l, node, sizeof(p) - l) + sizeof("/name") > sizeof(p))
		return 0;
	strcat(p, "/name");
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	r = read(fd, name, sizeof(name) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	name[r] = 0;
	if (name[r - 1] == '\n')
		name[r - 1] = 0;
	return !strcmp(name, PORT_NAME);
}

/* The /dev node of the port named PORT_NAME, or 0 when not (yet) there.
 * bootlab's port is the first (id 1) on its virtio-serial device, so the
 * likely names vportNp1 are tried before a directory walk: the walk's
 * opendir/malloc path is slow to translate the first time under TCG. */
static int find_port(char *dev, size_t n)
{
	char node[32] = "vport0p1";
	DIR *d;
	struct dirent *e;
	int found = 0;
	/* no virtio-serial at all (UML, a kernel without it): one syscall,
	 * not nine, before the tty of bootlab.dev= */
	ia_need_sys();
	if (access("/sys/class/virtio-ports", F_OK))
		return 0;
	for (char c = '0'; c <= '7'; c++) {
		node[5] = c;
		if (port_is_ours(node))
			goto found;
	}
	if (!(d = opendir("/sys/class/virtio-ports")))
		return 0;
	while (!found && (e = readdir(d)))
		if (e->d_name[0] != '.' && strlen(e->d_name) < sizeof(node) &&
		    port_is_ours(e->d_name)) {
			ia_strlcpy(node, e->d_name, sizeof(node));
			found = 1;
		}
	closedir(d);
	if (!found)
		return 0;
found:
	ia_strlcpy(dev, "/dev/", n);
	if (n > 5)
		ia_strlcpy(dev + 5, node, n - 5);
	return 1;
}

static int open_chan(const char *dev)
{
	int fd = ia_open(dev, O_RDWR | O_NOCTTY);
	if (fd < 0)
		return -1;
	make_raw(fd);
	return fd;
}

static void set_channel(const char *kind, const char *dev)
{
	size_t l = ia_strlcpy(ia.channel, kind, sizeof(ia.channel));
	ia_strlcpy(ia.channel + l, dev, sizeof(ia.channel) - l);
}

int ia_chan_find_port(void)
{
	long long deadline = 0; /* set on the first miss: no clock call when found at once */
	char dev[300];
	int fd;
	for (;;) {
		/* the port bootlab named (bootlab.port=, QEMU) or the tty
		 * (bootlab.dev=, UML) first: the search by name needs /sys */
		if (ia.port[0] && (fd = open_chan(ia.port)) >= 0) {
			ia.chan_fd = fd;
			set_channel("virtio:", ia.port);
			return 0;
		}
		if (ia.dev[0] && (fd = open_chan(ia.dev)) >= 0) {
			ia.chan_fd = fd;
			set_channel("tty:", ia.dev);
			return 0;
		}
		if (find_port(dev, sizeof(dev)) && (fd = open_chan(dev)) >= 0) {
			ia.chan_fd = fd;
			set_channel("virtio:", dev);
			return 0;
		}
		if (!deadline)
			deadline = ia_boottime_ns() + (long long)ia.wait_ms * 1000000LL;
		else if (ia_boottime_ns() >= deadline)
			break;
		msleep(1);
	}
	return -1;
}

int ia_chan_find(void)
{
	int fd;
	if (ia_chan_find_port() == 0)
		return 0;
	for (;;) {
		fd = open_chan("/dev/console");
		if (fd >= 0)
			break;
		msleep(1000); /* nothing to talk to: PID 1 must not exit */
	}
	ia.chan_fd = fd;
	ia.framed = 1;
	set_channel("console", "");
	return 0;
}

static int write_all(struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(ia.chan_fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = {ia.chan_fd, POLLOUT, 0};
				poll(&p, 1, 100);
				continue;
			}
			if (ia.host)
				_exit(0); /* the test went away */
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int ia_chan_send(const char *buf, size_t len)
{
	struct iovec iov[5];
	int n = 0;
	if (ia.chan_fd < 0)
		return -1;
	if (ia.framed) {
		iov[n].iov_base = "\n" FRAME;
		iov[n++].iov_len = sizeof(FRAME);
	}
	if (ia.framed && ia.nonce[0]) { /* "@@BL1@@ <nonce> <json>" */
		iov[n].iov_base = ia.nonce;
		iov[n++].iov_len = strlen(ia.nonce);
		iov[n].iov_base = " ";
		iov[n++].iov_len = 1;
	}
	iov[n].iov_base = (void *)buf;
	iov[n++].iov_len = len;
	iov[n].iov_base = "\n";
	iov[n++].iov_len = 1;
	return write_all(iov, n);
}

#define RBUF (IA_LINE_MAX + sizeof(FRAME) + 2)
static char rbuf[RBUF + 1];
static size_t rstart, rlen; /* unread bytes: rbuf[rstart .. rstart+rlen) */
static int dropping;	    /* in the middle of an over-long line */

long ia_chan_recv(char **line)
{
	for (;;) {
		char *s = rbuf + rstart;
		char *nl = memchr(s, '\n', rlen);
		if (nl) {
			size_t n = (size_t)(nl - s);
			rstart += n + 1;
			rlen -= n + 1;
			if (dropping) {
				dropping = 0;
				return -2;
			}
			*nl = 0;
			if (n && s[n - 1] == '\r')
				s[--n] = 0;
			if (ia.framed) {
				if (n < sizeof(FRAME) - 1 || memcmp(s, FRAME, sizeof(FRAME) - 1))
					continue; /* kernel messages, echo, noise */
				s += sizeof(FRAME) - 1;
				n -= sizeof(FRAME) - 1;
			}
			if (n == 0)
				continue;
			if (n > IA_LINE_MAX) {
				return -2;
			}
			*line = s;
			return (long)n;
		}
		if (rlen >= RBUF - 1) {
			dropping = 1; /* keep nothing of it */
			rstart = rlen = 0;
		}
		if (rstart) {
			memmove(rbuf, rbuf + rstart, rlen);
			rstart = 0;
		}
		struct pollfd p = {ia.chan_fd, POLLIN, 0};
		int pr = poll(&p, 1, 1000);
		if (pr == 0) {
			ia_reap();
			continue;
		}
		ssize_t r = read(ia.chan_fd, rbuf + rlen, RBUF - 1 - rlen);
		if (r > 0) {
			rlen += (size_t)r;
			continue;
		}
		if (r == 0) {
			if (ia.host)
				return -1;
			/* virtio-serial: host not connected yet/any more */
			msleep(20);
			continue;
		}
		if (errno == EINTR || errno == EAGAIN)
			continue;
		if (ia.host)
			return -1;
		msleep(100);
	}
}
