/* QEMU's machine protocol (QMP) on bootlab's private channel: a
 * socketpair given to QEMU as fd 4 (qemu.c, plan.monitors). One request
 * at a time, each with its own absolute deadline; replies are JSON lines
 * read with jansson, asynchronous events ({"event": ...}) on the way are
 * skipped. Used by --freeze (harness/session/freeze.c): stop, then
 * dump-guest-memory. */
#include "machine/machine.h"
#include "util/util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the next whole line of Q as JSON (caller decrefs), read until DEADLINE
 * (absolute ns); NULL with a message */
static json_t *read_message(struct bl_qmp *q, int64_t deadline, const char *what)
{
	for (;;) {
		char *nl = memchr(q->in.buf ? q->in.buf : "", '\n', q->in.len);
		if (nl) {
			size_t n = (size_t)(nl - q->in.buf) + 1;
			json_error_t je;
			json_t *msg = json_loadb(q->in.buf, n, 0, &je);
			memmove(q->in.buf, q->in.buf + n, q->in.len - n);
			q->in.len -= n;
			q->in.buf[q->in.len] = 0;
			if (!msg)
				bl_err("qmp: %s: reply is not JSON: %s", what, je.text);
			return msg;
		}
		int64_t left = deadline - bl_now_ns();
		if (left <= 0) {
			bl_err("qmp: %s: no reply within its deadline", what);
			return NULL;
		}
		struct pollfd p = {.fd = q->fd, .events = POLLIN};
		int r = poll(&p, 1, (int)((left + 999999) / 1000000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue; /* the deadline is checked above */
		char buf[4096];
		ssize_t got = read(q->fd, buf, sizeof(buf));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0) {
			bl_err("qmp: %s: QEMU closed its monitor", what);
			return NULL;
		}
		sb_add(&q->in, buf, (size_t)got);
	}
}

static int send_all(int fd, const char *text, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int bl_qmp_execute(struct bl_qmp *q, const char *cmd, json_t *args, int timeout_ms, json_t **ret)
{
	int64_t deadline = bl_now_ns() + (int64_t)timeout_ms * 1000000;
	json_t *req = json_pack("{s:s}", "execute", cmd);
	if (args)
		json_object_set_new(req, "arguments", args);
	char *text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	struct strbuf line = STRBUF_INIT;
	sb_adds(&line, text);
	sb_addc(&line, '\n');
	free(text);
	int rc = send_all(q->fd, line.buf, line.len);
	sb_release(&line);
	if (rc < 0)
		return bl_err_errno("qmp: %s: cannot send", cmd);
	for (;;) {
		json_t *msg = read_message(q, deadline, cmd);
		if (!msg)
			return -1;
		json_t *err = json_object_get(msg, "error");
		json_t *r = json_object_get(msg, "return");
		if (err) {
			const char *desc = json_string_value(json_object_get(err, "desc"));
			bl_err("qmp: %s: %s", cmd, desc ? desc : "error without a description");
			json_decref(msg);
			return -1;
		}
		if (r) {
			if (ret)
				*ret = json_incref(r);
			json_decref(msg);
			return 0;
		}
		json_decref(msg); /* an event */
	}
}

int bl_qmp_open(struct bl_qmp *q, int fd, int timeout_ms)
{
	*q = (struct bl_qmp){.fd = fd, .in = STRBUF_INIT};
	if (fd < 0)
		return bl_err("qmp: QEMU has no monitor channel");
	json_t *greeting = read_message(q, bl_now_ns() + (int64_t)timeout_ms * 1000000, "greeting");
	bool ok = greeting && json_object_get(greeting, "QMP");
	json_decref(greeting);
	if (!ok)
		return greeting ? bl_err("qmp: the first message is not QMP's greeting") : -1;
	return bl_qmp_execute(q, "qmp_capabilities", NULL, timeout_ms, NULL);
}

void bl_qmp_release(struct bl_qmp *q)
{
	sb_release(&q->in);
	q->fd = -1;
}
