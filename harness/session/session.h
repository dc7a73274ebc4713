/* harness/session: booting scenario variants.
 *
 * bl_session_run() takes a prepared boot (kernel, stacked initrd, disks:
 * see prepare.c), starts the machine, then runs one poll loop over the
 * console stream, the agent channel, the emulator's exit, Ctrl-C and
 * absolute deadlines (loop.c), feeding the scenario's steps (steps.c).
 * Console lines are timestamped on the host's monotonic clock as they
 * arrive and classified (panics, oopses, unpacking errors, init
 * selection...). The result carries a typed outcome, the phase timings,
 * events, step results and the console log.
 *
 * bl_run_variants() (run.c) is the run engine over many boots; plan.c
 * makes plans in memory for the front ends without a scenario file. */
#ifndef BL_SESSION_H
#define BL_SESSION_H

#include "scenario/scenario.h"
#include "machine/machine.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* enum bl_outcome and enum bl_panic_reason, with their names, are in
 * scenario.h: a plan's steps expect them */

/* ---- console classification (classify.c) ---- */
enum bl_event_type {
	BL_EV_NONE,
	BL_EV_PANIC,	     /* Kernel panic - not syncing: ... */
	BL_EV_PANIC_END,     /* ---[ end Kernel panic ... */
	BL_EV_OOPS,	     /* Oops / BUG: / general protection fault */
	BL_EV_SEGFAULT,	     /* init[1]: segfault at ... */
	BL_EV_UNPACK_FAILED, /* Initramfs unpacking failed: ... */
	BL_EV_NO_CONSOLE,    /* Warning: unable to open an initial console. */
	BL_EV_EXEC_FAILED,   /* Failed to execute X (error N) / Starting init: X exists but couldn't
				execute it */
	BL_EV_RUN_INIT,	     /* Run X as init process */
	BL_EV_VFS_NO_ROOT,   /* VFS: Cannot open root device ... */
	BL_EV_UNPACKING,     /* Unpacking initramfs... / Trying to unpack rootfs image */
	BL_EV_SYSTEM_HALTED, /* reboot: System halted / Power down */
	BL_EV_RESTART,	     /* reboot: Restarting system */
	BL_EV_MD_ACTIVE,     /* md/raid1:md0: active with 2 out of 2 mirrors (an array ran) */
};

struct bl_classified {
	enum bl_event_type type;
	enum bl_panic_reason panic;
	long long code;	  /* exitcode for KILL_INIT, error N for EXEC_FAILED, else -1 */
	int exit_status;  /* decoded: exit status or -1 */
	int signal;	  /* decoded: signal number or -1 */
	bool core;	  /* core dumped bit (0x80) */
	char detail[256]; /* path for RUN_INIT/EXEC_FAILED, message for UNPACK_FAILED/PANIC */
};

const char *bl_event_type_name(enum bl_event_type t); /* "panic", "run-init"... */
/* classify one console line (without the printk timestamp prefix) */
void bl_classify_line(const char *line, struct bl_classified *out);
/* What earlier console lines tell about a later one: the kernel's order,
 * not its words. Zero-initialise one per boot. */
struct bl_console_ctx {
	bool init_started; /* "Run X as init process" seen */
	bool mem_info;	   /* a show_mem() dump ("Mem-Info:") seen */
};
/* bl_classify_line() with that context: a panic before init ran that
 * follows a show_mem() dump or carries one of unpack_to_rootfs()'s error
 * messages is init/initramfs.c's panic_show_mem() on the built-in archive
 * (BL_PANIC_BUILTIN_UNPACK, the message escaped in detail) */
void bl_classify_console(struct bl_console_ctx *ctx, const char *line, struct bl_classified *out);
/* decode a PID 1 exit code as do_exit() reports it (kernel/exit.c) */
void bl_decode_exitcode(long long code, int *exit_status, int *signal, bool *core);
/* "attempted to kill init, exit status 7" / "... signal 11 SIGSEGV" */
void bl_describe_panic(const struct bl_classified *c, char *buf, size_t n);
/* bl_printk_split(), the printk time of a console line: harness/console */

/* ---- assertions (assert.c) ---- */
/* the value at a dotted path ("fds.0.rdev"), borrowed, or NULL */
json_t *bl_json_path(json_t *root, const char *path);
/* 0 when A holds for DOC, else -1 with bl_errmsg() saying why */
int bl_assert_check(const struct bl_assert *a, json_t *doc);

/* ---- results ---- */
enum bl_phase_id {
	BL_PH_SPAWN,	   /* emulator started */
	BL_PH_CONSOLE,	   /* first console byte */
	BL_PH_RUN_INIT,	   /* kernel "Run /init as init process" */
	BL_PH_HELLO,	   /* agent hello, stage 1 */
	BL_PH_SWITCH_ROOT, /* switch_root requested */
	BL_PH_HELLO2,	   /* agent hello, stage 2 */
	BL_PH_END,	   /* emulator gone */
	BL_PH_COUNT,
};
const char *bl_phase_name(enum bl_phase_id p);

struct bl_phase {
	bool seen;
	int64_t host_ns; /* since spawn */
	double guest_s;	 /* guest clock (printk time or CLOCK_BOOTTIME), -1 if unknown */
};

struct bl_event {
	int64_t host_ns;
	double guest_s;
	struct bl_classified c;
	char *line; /* the console line */
};

/* ---- observe.c: the project's stage-1 init, observed (docs/observe.md) ---- */
enum bl_obs_kind {
	BL_OBS_START,	    /* the tracer attached to PID 1 */
	BL_OBS_EXEC,	    /* a program started: pid, ppid, argv, exe */
	BL_OBS_EXIT,	    /* a process ended: status, or signal */
	BL_OBS_SWITCH_ROOT, /* PID 1 exec'd on another root: observation ends */
	BL_OBS_MOUNT,	    /* a mount came into PID 1's table (initial: was there) */
	BL_OBS_UMOUNT,	    /* a mount left it */
	BL_OBS_MOVE,	    /* a mount moved (from mnt.from) */
	BL_OBS_REMOUNT,	    /* a mount changed its options */
	BL_OBS_MODULE,	    /* the kernel loaded a module: dev.name */
	BL_OBS_BLOCK,	    /* a block device came or went (initial: was there) */
	BL_OBS_KIND_COUNT,
};
const char *bl_obs_kind_name(enum bl_obs_kind k); /* "start", "exec"... */
/* -1 when NAME is none */
int bl_obs_kind_parse(const char *name);
/* a mount, umount, move, remount, module or block event (not a process's) */
bool bl_obs_kind_is_sys(enum bl_obs_kind k);

enum bl_obs_devtype { BL_OBS_DISK, BL_OBS_PARTITION };
const char *bl_obs_devtype_name(enum bl_obs_devtype t); /* "disk", "partition" */
/* a uevent's action: a block device or module came, went, or (a block
 * device only) changed */
enum bl_obs_action { BL_OBS_ADD, BL_OBS_REMOVE, BL_OBS_CHANGE };
const char *bl_obs_action_name(enum bl_obs_action a); /* "add", "remove", "change" */

/* one line of PID 1's mountinfo (strings owned) */
struct bl_obs_mount {
	int id, parent;
	char *target, *source, *fstype, *options, *fs_options;
	char *from; /* move: the mount point it moved from, else NULL */
};

/* a block device, or a module (name only; strings owned) */
struct bl_obs_dev {
	enum bl_obs_action action; /* block: add, remove, change; module: load (add), unload */
	enum bl_obs_devtype type;
	char *name; /* block: DEVNAME ("vda"); module: the module's name */
	char *path; /* block: DEVPATH ("/devices/.../block/vda") */
};

struct bl_obs_event {
	enum bl_obs_kind kind;
	int64_t t_ns; /* guest CLOCK_BOOTTIME */
	int pid, ppid;
	int status;		 /* exit: its status, -1 when it died by a signal */
	int signal;		 /* exit: the signal, 0 when it exited */
	char **argv;		 /* exec: NULL-terminated (owned) */
	char *exe;		 /* exec: /proc/PID/exe, or NULL; start: the init run */
	size_t console;		 /* console lines come before it arrived (this boot only) */
	bool initial;		 /* mount, block: there when the observer started */
	struct bl_obs_mount mnt; /* mount, umount, move, remount */
	struct bl_obs_dev dev;	 /* module, block */
};

#define BL_OBS_EVENTS_MAX 20000
#define BL_OBS_SYS_MAX 2000 /* of them mount, umount, move, remount, module, block */
struct bl_observed {
	bool on; /* the boot was observed (`observe: true`, --observe) */
	struct bl_obs_event *ev;
	size_t n, a;
	size_t nsys;	   /* events of the kinds bl_obs_kind_is_sys() */
	size_t dropped;	   /* past the caps, or messages that did not parse */
	char *dropped_why; /* why the first message dropped was (owned), or NULL */
	bool clock_known;  /* the observer's "clock": printk time = t_ns + clock_ns */
	int64_t clock_ns;
};
/* For a boot that ran out of time in stage 1: the programs started last
 * that had not ended ("stage 1 still running: ..."), or NULL (caller
 * frees) */
char *bl_obs_still_running(const struct bl_observed *o);
/* E's time in seconds: on the console's clock when the observer measured
 * it ("clock"), else the guest's CLOCK_BOOTTIME */
double bl_obs_guest_s(const struct bl_observed *o, const struct bl_obs_event *e);
/* obs_parse.c: an "observe" message of the guest into O, every field
 * checked; MARK: console lines so far. -1 when it was dropped (counted in
 * O's dropped), with a message naming what was wrong. */
int bl_obs_add(struct bl_observed *o, json_t *msg, size_t mark);
/* the fields of a mount, umount, move, remount, module or block event MSG into
 * E (its kind set): -1 naming the field that is wrong. The report's
 * events have the same fields (harness/report/read.c). */
int bl_obs_sys_parse(json_t *msg, struct bl_obs_event *e);
void bl_obs_event_release(struct bl_obs_event *e);
void bl_obs_release(struct bl_observed *o);
/* obs_spans.c: one program's run in stage 1, from its exec to the exit
 * of its process or the next exec of the same pid, whichever came first */
struct bl_obs_span {
	const struct bl_obs_event *exec; /* its exec event: pid, ppid, argv */
	const struct bl_obs_event *end;	 /* the exit or exec that ended it; NULL: still
					    running when the observation ended */
	double start_s, end_s;		 /* bl_obs_guest_s(); with no end, the last event's */
};
/* the programs O saw, in the order they were exec'd; NULL when none
 * (caller frees the array; its events are O's) */
struct bl_obs_span *bl_obs_spans(const struct bl_observed *o, size_t *n);
/* how SPAN ended: 0 when it exited 0 or was replaced by an exec, 1 when
 * it exited non-zero or was killed, -1 when it did not end */
int bl_obs_span_failed(const struct bl_obs_span *s);
/* the programs of a stage 1 by argv[0] (bootlab compare): how often one
 * ran, how often it failed, the time its runs took together */
struct bl_obs_prog {
	const char *name; /* argv[0] (borrowed from O), or "?" for an empty argv */
	size_t runs, failed;
	double total_s;
};
/* O's programs in the order each name first ran; NULL when none (caller
 * frees the array) */
struct bl_obs_prog *bl_obs_programs(const struct bl_observed *o, size_t *n);
/* the root change (switch_root), or NULL */
const struct bl_obs_event *bl_obs_switch_root(const struct bl_observed *o);

/* Why PID 1 exited in stage 1, from what was observed: NULL when it did
 * not (caller frees). TAIL: the last console lines (NTAIL of them), the
 * last of which was line number TOTAL - 1. */
char *bl_obs_why_init_died(const struct bl_observed *o, char *const *tail, size_t ntail,
			   size_t total);

/* Why a step stopped. The outcome follows this, never the wording of the
 * step's message. */
enum bl_stop {
	BL_STOP_DONE,	      /* it ran to its end: passed, or failed on its own terms */
	BL_STOP_STEP_TIMEOUT, /* its own timeout passed first */
	BL_STOP_DEADLINE,     /* the boot's deadline passed first */
	BL_STOP_PANIC,	      /* a kernel panic it did not wait for */
	BL_STOP_ENDED,	      /* the emulator exited */
	BL_STOP_INTERRUPTED,  /* bl_session_interrupt(): Ctrl-C, or Ctrl-] in bootlab boot */
	BL_STOP_SHELL,	      /* bootlab gate: the initramfs sits in its emergency shell */
};

struct bl_step_result {
	char *name;
	const char *kind;
	bool passed;
	bool skipped;
	enum bl_stop stop;
	char *message;		  /* why it failed */
	int64_t start_ns, end_ns; /* since spawn */
	json_t *reply;		  /* agent reply or hello (owned) */
};

/* ---- freeze.c: --freeze and --dump-memory (docs/repro.md, "Freezing a
 * crashed guest"). QEMU only: a guest that panicked (0.1 s after the
 * kernel's "---[ end Kernel panic" trailer, with panic=0) or whose boot
 * or step deadline passed is stopped (QMP `stop`) instead of ended; when
 * the boot did not pass its memory is dumped on request and it is held,
 * its monitors and gdb stub open, until a signal, the hold time or
 * QEMU's exit. ---- */
#define BL_FREEZE_HOLD_MS (3600 * 1000)
struct bl_freeze_opts {
	bool on;
	bool dump;	       /* dump-guest-memory, an ELF core (mode 0600) */
	int hold_ms;	       /* how long a frozen guest is held */
	const char *dump_path; /* the core's path; NULL: beside the console log,
				  NAME[.aN][.rM].core */
};
/* -1 with a message naming the option when F cannot go with BACKEND
 * (only qemu guests can be frozen) */
int bl_freeze_check(const struct bl_freeze_opts *f, const char *backend);
/* gdb.c: the gdb command line that attaches to a stub on 127.0.0.1:PORT, with
 * the vmlinux of KERNEL (a guest of ARCH) when there is one (*SYMBOLS
 * says); caller frees */
char *bl_gdb_command(const char *arch, const char *kernel, int port, bool *symbols);

/* what a frozen boot was, for the report */
struct bl_frozen {
	bool on;
	const char *why; /* "panic", "deadline" (the boot's) or "step-timeout" */
	int64_t at_ns;	 /* since spawn */
	char *dump;	 /* the core file, or NULL (owned) */
};
/* WHY in words, for people: "kernel panic", "boot deadline", "step timeout"
 * (the terminal, index.html and junit.xml say it alike) */
const char *bl_frozen_what(const char *why);

struct bl_result {
	const struct bl_scenario *sc;
	enum bl_outcome outcome;
	char *reason; /* one line: why this outcome */
	bool panic_seen;
	struct bl_classified panic;
	char *panic_line;
	struct bl_phase phases[BL_PH_COUNT];
	struct bl_event *events;
	size_t nevents, aevents;
	struct bl_step_result *steps;
	size_t nsteps;
	struct bl_kreport *kreports; /* the kernel's reports on the console (harness/console) */
	size_t nkreports;
	char *console_log; /* path of the console log file */
	/* what a flooding guest made bootlab drop (all 0: nothing) */
	struct bl_truncated {
		unsigned long long log_bytes; /* console bytes not written to the log */
		size_t lines;	/* console lines dropped before a console wait read them */
		size_t events;	/* classified lines past SESS_EVENTS_MAX */
		size_t replies; /* agent lines answering no outstanding request */
	} truncated;
	char **tail;	  /* last console lines (NULL-terminated) */
	char *last_phase; /* name of the last phase reached */
	char *emulator_command;
	struct strlist emulator_argv; /* the same, word for word (empty: libvirt, not started) */
	int emulator_cpu;	      /* 1 + the host CPU the emulator was bound to; 0: not bound */
	long long emulator_uploaded;  /* libvirt: 1 + the bytes uploaded to the host for
					 this boot; 0: its files were not uploaded */
	char *connect;		      /* libvirt: the URI of the host it booted on, or NULL */
	/* disks hot-plugged during the boot (bl_plan_attach_late), in order */
	struct bl_hotplug {
		char *disk;  /* its image */
		double at_s; /* when, in seconds since the emulator started */
		char *error; /* why QEMU did not take it, or NULL */
	} * hotplugs;
	size_t nhotplugs;
	/* libvirt: its boot on another host that was lost mid-run (the host
	 * stopped taking connections), moved here; NULL when not moved */
	char *moved_from, *moved_why;
	char *kernel_cmdline;
	char *emulator_stderr;
	int emulator_status;	     /* wait status, -1 if not exited */
	json_t *hello;		     /* stage-1 hello (owned) */
	struct bl_observed observed; /* stage-1 events of an observed boot */
	json_t *hello2;		     /* stage-2 hello (owned) */
	char *kernel_image;
	char *initrd;	    /* what was booted: a file of the user's, a copy kept in the
			       report folder (a boot that did not pass), or NULL when
			       bootlab made it and removed it with the work folder */
	char *work_dir;	    /* the boot's work folder, which the emulator line names */
	char *repro_dir;    /* its repro folder (repro.c), or NULL when none was kept */
	bool work_dir_kept; /* --keep kept it (a boot that did not pass) */
	int64_t start_wall; /* unix time (s) */
	int64_t spawn_ns;   /* bootlab's start to the emulator's spawn (0: never spawned) */
	int64_t duration_ns;
	int attempt;		 /* 1-based: 1 the first boot of the variant, 2... --retry's */
	struct bl_frozen frozen; /* --freeze: where the guest was held (on: false when not) */
	/* where it ran when it was read back from another run's report
	 * (bootlab report merge): that run's id, --shard and host, and its
	 * attempt there; all NULL/0 for a boot of this run (owned) */
	struct bl_ran_on {
		char *run_id, *shard, *host;
		int attempt;
	} ran_on;
};

void bl_result_release(struct bl_result *r);

struct bl_session_opts {
	const char *report_dir; /* where the console log goes */
	int run_index;		/* > 0: repetition N of --repeat, log NAME.rN.console.log */
	int attempt;		/* > 1: --retry's attempt N, log NAME.aN[.rM].console.log */
	const char *workdir;	/* private scratch folder */
	bool echo_console;	/* copy console to stdout (bootlab boot) */
	bool interactive;	/* also forward stdin to the console, wait for the
				   guest to end; Ctrl-] ends the boot */
	int kill_grace_ms;
	const char *connect;		     /* libvirt URI for this boot, or NULL */
	const struct bl_freeze_opts *freeze; /* --freeze, or NULL */
};

/* ---- prepare.c: plan -> artifacts ---- */
struct bl_prepared {
	/* the boot, complete: its kernel command line holds the scenario's
	 * words and bootlab's (panic=-1, printk.time=1, bootlab.modules=)
	 * but the backend's own; its strings point into this struct and the
	 * scenario. The session adds only where it runs (connect,
	 * interactive) and the boot's bootlab.nonce= (loop.c) before
	 * bl_machine_start(). */
	struct bl_machine_plan plan;
	char *kernel;	     /* image path */
	char *initrd;	     /* stacked archive or NULL */
	char **disks;	     /* images attached, in order */
	char **disk_sources; /* each one's image as built, before the guest wrote to
				it (the disk cache's; repro.c copies it) */
	int *disk_late_ms;   /* NULL, or each one's hot-plug time (ms after the start;
				0: attached at boot) */
	size_t ndisks;
	char *arch;
	char *machine;	     /* qemu machine type chosen for this kernel, or NULL (uml) */
	char *virtio;	     /* agent port transport: "mmio" or "pci" or NULL (uml) */
	char **auto_modules; /* .ko files added for the agent's port (NULL-terminated) */
	bool modules_order;  /* an archive holds /lib/modules/bootlab/order */
};
/* build archives, kernel (cached), disks for SC in WORKDIR */
int bl_prepare(const struct bl_scenario *sc, const char *workdir, struct bl_prepared *out);
void bl_prepared_release(struct bl_prepared *p);
/* the agent binary for ARCH (build/agent/ARCH/init-agent); caller frees */
char *bl_agent_path(const char *arch);

/* run a prepared boot (loop.c, steps.c); fills R (always, even on error)
 * and returns 0 */
int bl_session_run(const struct bl_scenario *sc, const struct bl_prepared *prep,
		   const struct bl_session_opts *opts, struct bl_result *r);

/* ---- repro.c, repro_read.c: what it takes to boot a variant again
 * (docs/repro.md) ---- */
/* a file a boot used: NAME in the repro folder (a copy), or a host PATH
 * (the kernel, a user's own archive), with its SHA-256 when recorded */
struct bl_repro_file {
	char *name; /* in the folder, or NULL */
	char *path; /* on the host, or NULL */
	char sha256[65];
};
struct bl_repro {
	char *dir;	/* the repro folder */
	char *variant;	/* the variant's name */
	char *scenario; /* its scenario file, or NULL: a plan made in memory */
	char scenario_sha256[65];
	enum bl_outcome outcome; /* what the recorded boot ended in */
	char *reason;
	struct bl_repro_file kernel;
	bool has_initrd;
	struct bl_repro_file initrd;
	struct bl_repro_file *disks;
	size_t ndisks;
	int *disk_late_ms; /* each disk's hot-plug time (ms after the start), 0: at boot */
	char *arch, *backend, *machine, *virtio; /* machine/virtio NULL for uml */
	int memory_mb, panic, timeout_ms;
	bool observe;
	struct bl_gate_steps *gate;   /* a gate's plan: its steps' record; else NULL */
	struct strlist cmdline;	      /* the kernel command line's words but the backend's */
	struct strlist emulator_args; /* the scenario's own emulator arguments */
	struct strlist argv;	      /* the emulator's exact command line as it ran */
	char *work_dir;		      /* where argv's paths in the work folder lived */
};
/* The repro folder of a boot R (SC, prepared as PREP in its work folder
 * WORKDIR) under the report folder: REPORT_DIR/NAME[.aN][.rM]/ (the
 * console log's name), holding repro.json, the initrd bootlab made and
 * each disk image as built. Its path, or NULL with a message (caller
 * frees). */
char *bl_repro_write(const struct bl_scenario *sc, const struct bl_prepared *prep,
		     const struct bl_result *r, const char *workdir);
/* Read DIR/repro.json into REC and check it: every field there and typed,
 * every file present with its recorded SHA-256. -1 with a message naming
 * the file and field (REC released). */
int bl_repro_read(const char *dir, struct bl_repro *rec);
/* REC as a prepared boot in WORKDIR (the disks copied there: a boot
 * writes to them); release with bl_prepared_release() */
int bl_repro_prepare(const struct bl_repro *rec, const char *workdir, struct bl_prepared *p);
void bl_repro_release(struct bl_repro *rec);

/* ---- plan.c: plans made in memory (bootlab boot and gate take no YAML) ---- */
/* A plan named NAME with the scenario loader's defaults (x86_64, qemu, a
 * kernel built from kernels/, 256 MiB, 60 s); FILE stands for the scenario
 * file in messages ("bootlab gate"). The plan owns every string and array
 * in it: change a string with bl_plan_set(), free the plan with
 * bl_scenario_free(). */
struct bl_scenario *bl_plan_new(const char *name, const char *file);
/* replace a plan's string *FIELD by a copy of VALUE (NULL: none) */
void bl_plan_set(char **field, const char *value);
/* an archive segment that is the host file PATH as is */
void bl_plan_add_raw(struct bl_scenario *sc, const char *name, const char *path);
/* a step of KIND named NAME with the loader's defaults (30 s, any panic);
 * the caller fills in the fields of its kind, which the plan then owns */
struct bl_step *bl_plan_add_step(struct bl_scenario *sc, enum bl_step_kind kind, const char *name);
/* a disk of SIZE bytes (a multiple of 512), no partition table, nothing
 * on it yet; the pointer holds until the next disk is added */
struct bl_disk *bl_plan_add_disk(struct bl_scenario *sc, const char *name, unsigned long long size);
/* an empty filesystem of TYPE over the whole of disk D (the caller fills
 * in tree, agent, image...; the plan owns them) */
struct bl_disk_fs *bl_plan_disk_fs(struct bl_scenario *sc, struct bl_disk *d, enum bl_fs_type type);
/* a `files:` entry of FS at PATH: the caller sets one of source, content,
 * symlink and dir (the plan owns them) */
struct bl_disk_file *bl_plan_fs_file(struct bl_disk_fs *fs, const char *path);
/* the host image PATH attached as it is after the plan's disks (written
 * in place by the boot); SOURCE: the pristine image it was copied from,
 * which a repro folder keeps (NULL: PATH itself) */
void bl_plan_attach(struct bl_scenario *sc, const char *path, const char *source);
/* the same, hot-plugged LATE_MS after the emulator starts (qemu over PCI:
 * a PCIe root port waits for it; docs/root-stacks.md) */
void bl_plan_attach_late(struct bl_scenario *sc, const char *path, const char *source, int late_ms);

/* ---- gate_steps.c: bootlab gate's steps, for the gate and its repro ---- */
/* GS's steps appended to SC: a passphrase prompt waited for and the
 * passphrase typed (when GS has one), the stage-2 hello, a poweroff and
 * `outcome: pass`; SC->gate becomes a copy of GS (for its repro folder).
 * -1 with a message */
int bl_plan_gate_steps(struct bl_scenario *sc, const struct bl_gate_steps *gs);
/* a passphrase the gate can type: not empty, at most
 * BL_GATE_PASSPHRASE_MAX bytes, one line; -1 with a message saying why */
int bl_gate_passphrase_check(const char *p);

/* ---- run.c: the run engine of bootlab run and bootlab gate ---- */
/* what a run was, for the reports */
struct bl_run_info {
	const char *run_id;
	const char *dir;    /* reports/<run-id> */
	int64_t start_wall; /* unix seconds */
	int64_t duration_ns;
	const char *command; /* how bootlab was invoked */
	int jobs;
	int repeat;	   /* --repeat N (1 without) */
	int retry;	   /* --retry N (0 without) */
	bool interrupted;  /* stopped by a signal: some variants missing */
	const char *shard; /* --shard I/N, or NULL */
	const char *host;  /* where it ran (NULL: this machine's name) */
	/* the variants picked before --shard split them: how many, and the
	 * SHA-256 of their names (bl_selection_digest); n 0: unknown */
	struct bl_selection {
		size_t n;
		char digest[65];
	} selection;
	/* a report merged from others (bootlab report merge): theirs */
	const struct bl_run_source *sources;
	size_t nsources;
};

/* one report a merged report was made of */
struct bl_run_source {
	const char *run_id;
	int64_t start_wall;
	const char *shard; /* or NULL */
	const char *host;
	const char *path; /* its report.json as given */
};

/* a new run id, "20261122-031500-4242" (caller frees) */
char *bl_run_id_new(void);

/* SEL for the N variants VARS (the run's choice before --shard); names
 * only, in any order */
void bl_selection_of(struct bl_scenario *const *vars, size_t n, struct bl_selection *sel);

/* One scenario variant and its repetitions (--repeat N), in the order
 * they ran. The runs are borrowed. */
struct bl_variant_result {
	struct bl_result *const *runs;
	size_t nruns;
};

/* whether V passed on some attempt (--retry, or runs merged by bootlab
 * report merge) and not on another: each attempt passes when all its
 * repetitions pass */
bool bl_variant_flaky(const struct bl_variant_result *v);

/* a libvirt host a run boots on (--connect URI#N) */
struct bl_run_host {
	const char *uri; /* borrowed */
	int slots;	 /* boots at once on it */
};

struct bl_run_opts {
	const char *report_root; /* the run's folder is REPORT_ROOT/<run-id> */
	int argc;		 /* the bootlab command after "bootlab", for the report */
	char *const *argv;
	int jobs;			 /* boots at once, without hosts */
	int repeat;			 /* boots of each variant, at least 1 */
	int retry;			 /* boot a variant that did not pass again, up to N times */
	const char *shard;		 /* --shard I/N for the report, or NULL */
	struct bl_selection selection;	 /* for the report */
	bool keep;			 /* keep the work folders of boots that did not pass */
	const struct bl_run_host *hosts; /* boot on these hosts' slots instead */
	size_t nhosts;
	const struct bl_freeze_opts *freeze; /* --freeze: hold the boots that fail, or NULL */
};

struct bl_run_job; /* one boot of one variant (run.c) */

/* a run's results in memory, until bl_run_release */
struct bl_run {
	const char *report_root;	    /* borrowed from the options */
	struct bl_run_info info;	    /* info.dir: the run's report folder */
	struct bl_variant_result *variants; /* those that booted at least once, in order */
	size_t nvariants;
	size_t npass;	      /* variants whose every boot passed */
	size_t nflaky;	      /* variants that passed on one attempt and not on another */
	size_t nboots, njobs; /* boots that ran, of those planned */
	bool infra;	      /* a boot failed for want of infrastructure (no emulator...) */
	bool bad_input;	      /* a plan asked for the impossible (found while preparing) */
	/* owned */
	struct bl_run_job *jobs;
	struct bl_result **runs;
	char *run_id, *dir, *command;
};

/* Boot the N variants VARS (borrowed until bl_run_release) O->repeat times
 * each, on O->jobs slots or the hosts' slots, printing a line per boot as
 * it ends (on a terminal: a status block of the running boots). Console
 * logs go to the run's report folder, made here. Ctrl-C stops the boots:
 * what ran is in RUN all the same. 0, or -1 when the folder cannot be made
 * (RUN is then empty). */
int bl_run_variants(struct bl_scenario *const *vars, size_t n, const struct bl_run_opts *o,
		    struct bl_run *run);
/* the last two lines: "N of M passed; report: DIR/report.json", then
 * "html: DIR/index.html" */
void bl_run_print_summary(const struct bl_run *run);
/* the exit status (BL_EXIT_*); REPORT_OK: its reports were written */
int bl_run_status(const struct bl_run *run, bool report_ok);
void bl_run_release(struct bl_run *run);

/* ---- interrupt.c: Ctrl-C ---- */
/* Stop every session of the process: its steps stop with
 * BL_STOP_INTERRUPTED and its emulator is ended. Async-signal-safe: a
 * handler may call it. Poll loops wake at once (a self-pipe). */
void bl_session_interrupt(void);
bool bl_session_interrupted(void);
/* readable once interrupted, for a poll set; -1 when no pipe could be made */
int bl_session_interrupt_fd(void);
/* SIGINT, SIGTERM and SIGHUP call bl_session_interrupt() */
void bl_session_catch_signals(void);

#endif
