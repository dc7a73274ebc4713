/* Console classifier: the kernel's own messages (Linux 6.1 init/main.c,
 * init/initramfs.c, kernel/exit.c, kernel/panic.c; each string and its
 * source: docs/kernel-behaviour.md section 12) turned into typed events.
 * Matching is on exact kernel strings. */
#include "session/session.h"
#include "console/console.h"
#include "util/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const event_names[] = {
    [BL_EV_NONE] = "none",
    [BL_EV_PANIC] = "panic",
    [BL_EV_PANIC_END] = "panic-end",
    [BL_EV_OOPS] = "oops",
    [BL_EV_SEGFAULT] = "segfault",
    [BL_EV_UNPACK_FAILED] = "unpack-failed",
    [BL_EV_NO_CONSOLE] = "no-console",
    [BL_EV_EXEC_FAILED] = "exec-failed",
    [BL_EV_RUN_INIT] = "run-init",
    [BL_EV_VFS_NO_ROOT] = "vfs-no-root",
    [BL_EV_UNPACKING] = "unpacking",
    [BL_EV_SYSTEM_HALTED] = "system-halted",
    [BL_EV_RESTART] = "restart",
    [BL_EV_MD_ACTIVE] = "md-active",
};

const char *bl_event_type_name(enum bl_event_type t)
{
	return event_names[t];
}

void bl_decode_exitcode(long long code, int *exit_status, int *signal, bool *core)
{
	/* kernel/exit.c: exit(n) -> (n & 0xff) << 8; a fatal signal -> signo,
	 * | 0x80 when a core was dumped */
	int sig = (int)(code & 0x7f);
	*core = (code & 0x80) != 0;
	if (sig) {
		*signal = sig;
		*exit_status = -1;
	} else {
		*signal = -1;
		*exit_status = (int)((code >> 8) & 0xff);
	}
}

void bl_describe_panic(const struct bl_classified *c, char *buf, size_t n)
{
	switch (c->panic) {
	case BL_PANIC_KILL_INIT:
		if (c->signal > 0)
			snprintf(buf, n, "attempted to kill init, signal %d %s%s", c->signal,
				 bl_signame(c->signal), c->core ? ", core dumped" : "");
		else
			snprintf(buf, n, "attempted to kill init, exit status %d", c->exit_status);
		break;
	case BL_PANIC_NO_INIT:
		snprintf(buf, n, "no working init found");
		break;
	case BL_PANIC_VFS:
		snprintf(buf, n, "unable to mount root fs (%s)", c->detail);
		break;
	case BL_PANIC_REQUESTED_INIT:
		snprintf(buf, n, "requested init %s failed (error %lld)", c->detail, c->code);
		break;
	case BL_PANIC_BUILTIN_UNPACK:
		snprintf(buf, n, "failed to unpack the built-in initramfs (%s)", c->detail);
		break;
	default:
		snprintf(buf, n, "%s", c->detail);
		break;
	}
}

/* the first line of an Oops, a BUG or a fault (harness/console decides
 * which lines start which report) */
static bool starts_crash(const char *line)
{
	switch (bl_kline_class(line)) {
	case BL_KC_BUG:
	case BL_KC_OOPS:
	case BL_KC_GPF:
	case BL_KC_KASAN:
	case BL_KC_KFENCE:
	case BL_KC_SOFT_LOCKUP:
	case BL_KC_SCHED_ATOMIC:
	case BL_KC_SLEEP_ATOMIC:
		return true;
	default:
		return false;
	}
}

static void copy_detail(struct bl_classified *c, const char *s, size_t n)
{
	if (n >= sizeof(c->detail))
		n = sizeof(c->detail) - 1;
	memcpy(c->detail, s, n);
	c->detail[n] = 0;
}

static const char *after(const char *line, const char *prefix)
{
	const char *p = strstr(line, prefix);
	return p ? p + strlen(prefix) : NULL;
}

void bl_classify_line(const char *line, struct bl_classified *c)
{
	const char *p;
	memset(c, 0, sizeof(*c));
	c->code = -1;
	c->exit_status = c->signal = -1;

	if ((p = after(line, "---[ end Kernel panic - not syncing: "))) {
		c->type = BL_EV_PANIC_END;
		copy_detail(c, p, strlen(p));
		return;
	}
	if ((p = after(line, "Kernel panic - not syncing: "))) {
		c->type = BL_EV_PANIC;
		copy_detail(c, p, strlen(p));
		const char *q;
		if ((q = after(p, "Attempted to kill init! exitcode="))) {
			c->panic = BL_PANIC_KILL_INIT;
			c->code = strtoll(q, NULL, 16);
			bl_decode_exitcode(c->code, &c->exit_status, &c->signal, &c->core);
		} else if (!strncmp(p, "No working init found.", 22)) {
			c->panic = BL_PANIC_NO_INIT;
		} else if ((q = after(p, "VFS: Unable to mount root fs on "))) {
			c->panic = BL_PANIC_VFS;
			copy_detail(c, q, strlen(q));
		} else if ((q = after(p, "Requested init "))) {
			/* "Requested init %s failed (error %d)." */
			const char *f = strstr(q, " failed (error ");
			c->panic = BL_PANIC_REQUESTED_INIT;
			if (f) {
				copy_detail(c, q, (size_t)(f - q));
				c->code = strtoll(f + 15, NULL, 10);
			}
		} else {
			c->panic = BL_PANIC_OTHER;
		}
		return;
	}
	if ((p = after(line, "Initramfs unpacking failed: "))) {
		c->type = BL_EV_UNPACK_FAILED;
		copy_detail(c, p, strlen(p));
		return;
	}
	if (strstr(line, "Warning: unable to open an initial console.")) {
		c->type = BL_EV_NO_CONSOLE;
		return;
	}
	if ((p = after(line, "Failed to execute "))) {
		const char *e = strstr(p, " (error ");
		c->type = BL_EV_EXEC_FAILED;
		if (e) {
			copy_detail(c, p, (size_t)(e - p));
			c->code = strtoll(e + 8, NULL, 10);
		}
		return;
	}
	if ((p = after(line, "Starting init: "))) {
		/* "Starting init: %s exists but couldn't execute it (error %d)" */
		const char *e = strstr(p, " exists but couldn't execute it (error ");
		if (e) {
			c->type = BL_EV_EXEC_FAILED;
			copy_detail(c, p, (size_t)(e - p));
			c->code = strtoll(e + 39, NULL, 10);
			return;
		}
	}
	if ((p = after(line, "Run ")) && strstr(p, " as init process")) {
		c->type = BL_EV_RUN_INIT;
		copy_detail(c, p, (size_t)(strstr(p, " as init process") - p));
		return;
	}
	if ((p = after(line, "VFS: Cannot open root device "))) {
		c->type = BL_EV_VFS_NO_ROOT;
		copy_detail(c, p, strlen(p));
		return;
	}
	if ((p = after(line, "]: segfault at ")) && strstr(line, "init[")) {
		c->type = BL_EV_SEGFAULT;
		copy_detail(c, line, strlen(line));
		return;
	}
	if (starts_crash(line)) {
		c->type = BL_EV_OOPS;
		copy_detail(c, line, strlen(line));
		return;
	}
	if (!strcmp(line, "Unpacking initramfs...") ||
	    !strcmp(line, "Trying to unpack rootfs image as initramfs...")) {
		c->type = BL_EV_UNPACKING;
		return;
	}
	if (strstr(line, "reboot: System halted") || strstr(line, "reboot: Power down") ||
	    strstr(line, "System halted")) {
		c->type = BL_EV_SYSTEM_HALTED;
		return;
	}
	/* kernel/reboot.c: the last words before a reset */
	if (!strcmp(line, "reboot: Restarting system")) {
		c->type = BL_EV_RESTART;
		return;
	}
	/* drivers/md/raid1.c, raid10.c and raid5.c, when an array runs:
	 * detail "md0: active with 2 out of 2 mirrors", "md0: raid level 5
	 * active with 3 out of 3 devices, algorithm 2" */
	if (((p = after(line, "md/raid1:")) || (p = after(line, "md/raid10:")) ||
	     (p = after(line, "md/raid:"))) &&
	    strstr(p, " active with ")) {
		c->type = BL_EV_MD_ACTIVE;
		copy_detail(c, p, strlen(p));
	}
}

/* unpack_to_rootfs()'s own messages (Linux 6.1 init/initramfs.c: error()
 * and the "compression method %s not configured" buffer); decompressors
 * report through the same error() with words of their own */
static const char *const unpack_errors[] = {
    "incorrect cpio method used: use -H newc option",
    "no cpio magic",
    "broken padding",
    "malformed archive",
    "write error",
    "bad data checksum",
    "junk within compressed archive",
    "decompressor failed",
    "invalid magic at start of compressed archive",
    "junk at the end of compressed archive",
    "can't allocate ",
    "compression method ",
};

static bool is_unpack_error(const char *msg)
{
	return bl_prefix_in(msg, unpack_errors, BL_ARRAY_SIZE(unpack_errors)) != NULL;
}

/* the detail with every byte outside printable ASCII as \xNN: the message
 * of a failed unpack may hold whatever the archive held */
static void escape_detail(struct bl_classified *c)
{
	char out[sizeof(c->detail)];
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)c->detail; *p && o + 5 < sizeof(out);
	     p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", *p);
	}
	out[o] = 0;
	memcpy(c->detail, out, o + 1);
}

void bl_classify_console(struct bl_console_ctx *ctx, const char *line, struct bl_classified *c)
{
	bl_classify_line(line, c);
	if (!strcmp(line, "Mem-Info:"))
		ctx->mem_info = true;
	if (c->type == BL_EV_RUN_INIT)
		ctx->init_started = true;
	if (c->type != BL_EV_PANIC || c->panic != BL_PANIC_OTHER || ctx->init_started)
		return;
	/* the out-of-memory killer's panics follow a Mem-Info dump too */
	if (!strncmp(c->detail, "System is deadlocked on memory", 30) ||
	    !strncmp(c->detail, "Out of memory", 13))
		return;
	if (ctx->mem_info || is_unpack_error(c->detail)) {
		c->panic = BL_PANIC_BUILTIN_UNPACK;
		escape_detail(c);
	}
}
