/* libvirt backend: a domain's console or agent channel stream bridged to a
 * socketpair, whose other end the session polls like a QEMU pipe. Every
 * callback here runs on libvirt's event-loop thread (libvirt.c).
 *
 * Nothing is dropped: a chunk from the stream that the socketpair cannot
 * take yet (the session is busy and the socket buffer is full) waits in
 * the bridge, and the stream is not read again until it has gone out; the
 * guest's further output waits in libvirt meanwhile. The bridge used to
 * drop the rest of such a chunk, and a burst of console lines lost a few
 * KiB from its middle (docs/libvirt.md, "The console's last lines"). */
#include "machine/libvirt_int.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define STREAM_ALL (VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)
#define STREAM_END (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)

/* the held chunk into the socketpair: true once all of it is there, or
 * the session has closed its end (which takes nothing more) */
static bool flush(struct bl_lv_bridge *b)
{
	while (b->off < b->len) {
		ssize_t w = send(b->fd, b->pend + b->off, b->len - b->off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (w <= 0)
			break;
		b->off += (size_t)w;
	}
	b->off = b->len = 0;
	return true;
}

/* the socketpair is full: wait for room before reading the stream again */
static void hold(struct bl_lv_bridge *b)
{
	if (!b->ending)
		virStreamEventUpdateCallback(b->st, STREAM_END);
	if (b->watch >= 0)
		virEventUpdateHandle(b->watch,
				     VIR_EVENT_HANDLE_READABLE | VIR_EVENT_HANDLE_WRITABLE);
}

/* the stream ended and its last bytes are in the socketpair: the session
 * reads EOF after them */
static void finish(struct bl_lv_bridge *b)
{
	shutdown(b->fd, SHUT_WR);
	__atomic_store_n(&b->dead, true, __ATOMIC_RELEASE);
}

/* guest -> host: what the stream has, into the socketpair */
static void stream_cb(virStreamPtr st, int events, void *opaque)
{
	struct bl_lv_bridge *b = opaque;
	while ((events & VIR_STREAM_EVENT_READABLE) && !b->len) {
		int n = virStreamRecv(st, b->pend, sizeof(b->pend));
		if (n == -2 && !(events & STREAM_END))
			return; /* nothing more for now */
		if (n <= 0)
			break; /* the end, or an error */
		b->off = 0;
		b->len = (size_t)n;
		if (!flush(b)) {
			hold(b);
			return;
		}
	}
	if (b->len) /* held: fd_cb goes on */
		return;
	b->ending = true;
	virStreamEventRemoveCallback(st);
	finish(b);
}

/* host -> guest: what the session wrote, into the stream */
static void to_guest(struct bl_lv_bridge *b, int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		virEventRemoveHandle(b->watch); /* the session closed its end */
		b->watch = -1;
		return;
	}
	size_t off = 0;
	while (off < (size_t)n && !b->ending) {
		int s = virStreamSend(b->st, buf + off, (size_t)n - off);
		if (s == -2) {
			usleep(1000);
			continue;
		}
		if (s < 0)
			break;
		off += (size_t)s;
	}
}

static void fd_cb(int watch, int fd, int events, void *opaque)
{
	struct bl_lv_bridge *b = opaque;
	if ((events & VIR_EVENT_HANDLE_WRITABLE) && b->len && flush(b)) {
		virEventUpdateHandle(watch, VIR_EVENT_HANDLE_READABLE);
		if (b->ending)
			finish(b);
		else
			virStreamEventUpdateCallback(b->st, STREAM_ALL);
	}
	if (events & (VIR_EVENT_HANDLE_READABLE | VIR_EVENT_HANDLE_HANGUP | VIR_EVENT_HANDLE_ERROR))
		to_guest(b, fd);
}

int bl_lv_bridge_open(virConnectPtr conn, virDomainPtr dom, struct bl_lv_bridge *b, int *session_fd,
		      bool console)
{
	int sp[2];
	b->watch = -1;
	b->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return bl_err_errno("libvirt backend: socketpair");
	b->st = virStreamNew(conn, VIR_STREAM_NONBLOCK);
	int r = !b->st	  ? -1
		: console ? virDomainOpenConsole(dom, NULL, b->st, VIR_DOMAIN_CONSOLE_FORCE)
			  : virDomainOpenChannel(dom, "org.bootlab.agent", b->st,
						 VIR_DOMAIN_CHANNEL_FORCE);
	if (r < 0) {
		const char *m = bl_lv_errmsg();
		close(sp[0]);
		close(sp[1]);
		return bl_err("libvirt: cannot open the %s: %s",
			      console ? "console" : "agent channel", m);
	}
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	/* a test's knob: a small buffer makes the session's side fill at once,
	 * as it does now and then on a loaded host (tests/boot/libvirt.sh) */
	const char *buf = getenv("BOOTLAB_LIBVIRT_BRIDGE_BUF");
	int bytes = buf ? atoi(buf) : 0;
	if (bytes > 0)
		setsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	b->fd = sp[1];
	*session_fd = sp[0];
	virStreamEventAddCallback(b->st, STREAM_ALL, stream_cb, b, NULL);
	b->watch = virEventAddHandle(b->fd, VIR_EVENT_HANDLE_READABLE, fd_cb, b, NULL);
	return 0;
}

bool bl_lv_bridge_drained(struct bl_lv_bridge *b)
{
	return __atomic_load_n(&b->dead, __ATOMIC_ACQUIRE);
}

void bl_lv_bridge_close(struct bl_lv_bridge *b)
{
	if (b->watch >= 0)
		virEventRemoveHandle(b->watch);
	b->watch = -1;
	if (b->st) {
		virStreamEventRemoveCallback(b->st);
		virStreamAbort(b->st);
		virStreamFree(b->st);
		b->st = NULL;
	}
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}
