/* The console classifier and the exit-code decoder against the exact
 * strings Linux 6.1 prints (docs/kernel-behaviour.md sections 1.4, 5, 6,
 * 12), and against the real console logs collected in tests/data/console/. */
#include "session/session.h"
#include "corpus.h"
#include "t.h"
#include "util/util.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

struct ccase {
	const char *line;
	enum bl_event_type type;
	enum bl_panic_reason panic;
	int status, signal;
	const char *detail;
};

static const struct ccase cases[] = {
    {"Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000300", BL_EV_PANIC,
     BL_PANIC_KILL_INIT, 3, -1, NULL},
    {"Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000", BL_EV_PANIC,
     BL_PANIC_KILL_INIT, 0, -1, NULL},
    {"Kernel panic - not syncing: Attempted to kill init! exitcode=0x00007f00", BL_EV_PANIC,
     BL_PANIC_KILL_INIT, 127, -1, NULL},
    {"Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b", BL_EV_PANIC,
     BL_PANIC_KILL_INIT, -1, 11, NULL},
    {"Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000086", BL_EV_PANIC,
     BL_PANIC_KILL_INIT, -1, 6, NULL},
    {"Kernel panic - not syncing: No working init found.  Try passing init= option to kernel. "
     "See Linux Documentation/admin-guide/init.rst for guidance.",
     BL_EV_PANIC, BL_PANIC_NO_INIT, -1, -1, NULL},
    {"Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)", BL_EV_PANIC,
     BL_PANIC_VFS, -1, -1, "unknown-block(0,0)"},
    {"Kernel panic - not syncing: Requested init /bin/nope failed (error -2).", BL_EV_PANIC,
     BL_PANIC_REQUESTED_INIT, -1, -1, "/bin/nope"},
    {"Kernel panic - not syncing: ^H", BL_EV_PANIC, BL_PANIC_OTHER, -1, -1, "^H"},
    {"---[ end Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000300 ]---",
     BL_EV_PANIC_END, BL_PANIC_NONE, -1, -1, NULL},
    {"Initramfs unpacking failed: invalid magic at start of compressed archive",
     BL_EV_UNPACK_FAILED, BL_PANIC_NONE, -1, -1, "invalid magic at start of compressed archive"},
    {"Initramfs unpacking failed: Input was encoded with settings that are not supported by this "
     "XZ decoder",
     BL_EV_UNPACK_FAILED, BL_PANIC_NONE, -1, -1, NULL},
    {"Warning: unable to open an initial console.", BL_EV_NO_CONSOLE, BL_PANIC_NONE, -1, -1, NULL},
    {"Failed to execute /init (error -2)", BL_EV_EXEC_FAILED, BL_PANIC_NONE, -1, -1, "/init"},
    {"Failed to execute /init (error -13)", BL_EV_EXEC_FAILED, BL_PANIC_NONE, -1, -1, "/init"},
    {"Starting init: /sbin/init exists but couldn't execute it (error -8)", BL_EV_EXEC_FAILED,
     BL_PANIC_NONE, -1, -1, "/sbin/init"},
    {"Run /init as init process", BL_EV_RUN_INIT, BL_PANIC_NONE, -1, -1, "/init"},
    {"Run /bin/sh as init process", BL_EV_RUN_INIT, BL_PANIC_NONE, -1, -1, "/bin/sh"},
    {"VFS: Cannot open root device \"(null)\" or unknown-block(0,0): error -6", BL_EV_VFS_NO_ROOT,
     BL_PANIC_NONE, -1, -1, NULL},
    {"init[1]: segfault at 0 ip 0000000000401000 sp 00007ffc error 6 in init[401000+1000]",
     BL_EV_SEGFAULT, BL_PANIC_NONE, -1, -1, NULL},
    {"Unpacking initramfs...", BL_EV_UNPACKING, BL_PANIC_NONE, -1, -1, NULL},
    {"reboot: System halted", BL_EV_SYSTEM_HALTED, BL_PANIC_NONE, -1, -1, NULL},
    {"md/raid1:md0: active with 1 out of 2 mirrors", BL_EV_MD_ACTIVE, BL_PANIC_NONE, -1, -1,
     "md0: active with 1 out of 2 mirrors"},
    {"md/raid10:md1: active with 4 out of 4 devices", BL_EV_MD_ACTIVE, BL_PANIC_NONE, -1, -1,
     "md1: active with 4 out of 4 devices"},
    {"md/raid:md0: raid level 5 active with 3 out of 3 devices, algorithm 2", BL_EV_MD_ACTIVE,
     BL_PANIC_NONE, -1, -1, "md0: raid level 5 active with 3 out of 3 devices, algorithm 2"},
    {"md/raid:md0: not clean -- starting background reconstruction", BL_EV_NONE, BL_PANIC_NONE, -1,
     -1, NULL},
    {"md/raid1:md0: not clean -- starting background reconstruction", BL_EV_NONE, BL_PANIC_NONE, -1,
     -1, NULL},
    {"Freeing unused kernel image (initmem) memory: 1024K", BL_EV_NONE, BL_PANIC_NONE, -1, -1,
     NULL},
    {"", BL_EV_NONE, BL_PANIC_NONE, -1, -1, NULL},
};

/* bl_classify_console: the same panic line means different things by what
 * came before it. Each case is a sequence of lines; the last one's panic
 * reason and description are checked. */
static void test_console_context(void)
{
	static const struct {
		const char *name;
		const char *lines[4];
		enum bl_panic_reason want;
		const char *desc;
	} seqs[] = {
	    {"show_mem dump, then a garbage panic before init",
	     {"Mem-Info:", "active_anon:0 inactive_anon:0",
	      "Kernel panic - not syncing: \x08\x1b[0m\xff"},
	     BL_PANIC_BUILTIN_UNPACK,
	     "failed to unpack the built-in initramfs (\\x08\\x1b[0m\\xff)"},
	    {"an unpack message without the dump",
	     {"Kernel panic - not syncing: no cpio magic"},
	     BL_PANIC_BUILTIN_UNPACK,
	     "failed to unpack the built-in initramfs (no cpio magic)"},
	    {"a compression method not built in",
	     {"Kernel panic - not syncing: compression method lz4 not configured"},
	     BL_PANIC_BUILTIN_UNPACK,
	     "failed to unpack the built-in initramfs (compression method lz4 not configured)"},
	    {"out of memory after the dump stays other",
	     {"Mem-Info:", "Kernel panic - not syncing: System is deadlocked on memory"},
	     BL_PANIC_OTHER,
	     "System is deadlocked on memory"},
	    {"after init ran, a dump and a panic are not the archive's",
	     {"Run /init as init process",
	      "Mem-Info:", "Kernel panic - not syncing: no cpio magic"},
	     BL_PANIC_OTHER,
	     "no cpio magic"},
	    {"kill-init keeps its reason",
	     {"Mem-Info:",
	      "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100"},
	     BL_PANIC_KILL_INIT,
	     "attempted to kill init, exit status 1"},
	    {"an unknown panic before init without a dump stays other",
	     {"Kernel panic - not syncing: something else"},
	     BL_PANIC_OTHER,
	     "something else"},
	};
	for (size_t i = 0; i < BL_ARRAY_SIZE(seqs); i++) {
		struct bl_console_ctx ctx = {0};
		struct bl_classified c = {0};
		for (size_t j = 0; j < 4 && seqs[i].lines[j]; j++)
			bl_classify_console(&ctx, seqs[i].lines[j], &c);
		char d[300];
		bl_describe_panic(&c, d, sizeof(d));
		T_EQ_STR(bl_panic_reason_name(c.panic), bl_panic_reason_name(seqs[i].want),
			 "%s: reason", seqs[i].name);
		T_EQ_STR(d, seqs[i].desc, "%s: description", seqs[i].name);
	}
}

/* the classified events of a real console log, in order, against its
 * NAME.expect ("type reason status signal" of each) */
static void corpus_log(const char *name, char *data, const char *want, void *arg)
{
	(void)arg;
	struct strbuf got = STRBUF_INIT;
	char *save = NULL;
	struct bl_console_ctx ctx = {0};
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *cr = strchr(line, '\r');
		if (cr)
			*cr = 0;
		double gs;
		/* console logs written by bootlab carry a host time column */
		const char *t = line;
		if (strlen(t) > 12 && t[10] == ' ' && t[11] == ' ')
			t += 12;
		struct bl_classified cl;
		bl_classify_console(&ctx, bl_printk_split(t, &gs), &cl);
		if (cl.type == BL_EV_NONE || cl.type == BL_EV_UNPACKING)
			continue;
		sb_addf(&got, "%s", bl_event_type_name(cl.type));
		if (cl.type == BL_EV_PANIC) {
			char dd[300];
			bl_describe_panic(&cl, dd, sizeof(dd));
			sb_addf(&got, " %s: %s", bl_panic_reason_name(cl.panic), dd);
		}
		sb_addc(&got, '\n');
	}
	T_EQ_STR(sb_str(&got), want, "events of real console log %s", name);
	sb_release(&got);
}

int main(void)
{
	test_console_context();
	for (size_t i = 0; i < BL_ARRAY_SIZE(cases); i++) {
		const struct ccase *c = &cases[i];
		struct bl_classified out;
		bl_classify_line(c->line, &out);
		T_EQ_INT(out.type, c->type, "type of '%.50s'", c->line);
		if (c->type == BL_EV_PANIC)
			T_EQ_INT(out.panic, c->panic, "panic reason of '%.50s'", c->line);
		if (c->status >= 0 || c->signal >= 0) {
			T_EQ_INT(out.exit_status, c->status, "exit status of '%.60s'", c->line);
			T_EQ_INT(out.signal, c->signal, "signal of '%.60s'", c->line);
		}
		if (c->detail)
			T_EQ_STR(out.detail, c->detail, "detail of '%.50s'", c->line);
	}

	/* the decoder, kernel/exit.c: exit(n) is (n & 0xff) << 8, a signal is signo | 0x80 on core
	 */
	int st, sig;
	bool core;
	bl_decode_exitcode(0x300, &st, &sig, &core);
	T_OK(st == 3 && sig == -1 && !core, "0x300 is exit status 3");
	bl_decode_exitcode(0x8b, &st, &sig, &core);
	T_OK(st == -1 && sig == 11 && core, "0x8b is SIGSEGV with core");
	bl_decode_exitcode(0xff00, &st, &sig, &core);
	T_OK(st == 255 && sig == -1, "0xff00 is exit status 255");

	char d[200];
	struct bl_classified k;
	bl_classify_line("Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000700",
			 &k);
	bl_describe_panic(&k, d, sizeof(d));
	T_EQ_STR(d, "attempted to kill init, exit status 7", "description of exit status 7");
	bl_classify_line("Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b",
			 &k);
	bl_describe_panic(&k, d, sizeof(d));
	T_EQ_STR(d, "attempted to kill init, signal 11 SIGSEGV", "description of SIGSEGV");

	double g;
	const char *text = bl_printk_split("[    1.234567] Run /init as init process", &g);
	T_OK(g > 1.2345 && g < 1.2346, "printk time parsed");
	T_EQ_STR(text, "Run /init as init process", "printk prefix removed");
	text = bl_printk_split("no timestamp", &g);
	T_OK(g < 0 && !strcmp(text, "no timestamp"), "line without printk time");
	char cut[] = "-c DEV\tReopen stdio to[    0.291634] Kernel panic - not syncing: x";
	T_OK(bl_printk_embedded(cut) == cut + 22, "a printk record cutting into a line is found");
	char whole[] = "[    0.291634] Kernel panic - not syncing: x";
	T_OK(!bl_printk_embedded(whole), "a record at the line's start is not embedded");
	char notime[] = "array[0] and [ 1.5] and [12.1234567] and [1.123456]x";
	T_OK(!bl_printk_embedded(notime), "brackets that are not a printk time are not");

	/* real console logs: each file in tests/data/console/NAME.log has a
	 * NAME.expect listing "type reason status signal" of its first panic */
	size_t nlogs = t_corpus("tests/data/console", corpus_log, NULL);
	T_OK(nlogs >= 1 || getenv("BOOTLAB_NO_CONSOLE_CORPUS"), "console corpus present (%zu logs)",
	     nlogs);
	return t_done();
}
