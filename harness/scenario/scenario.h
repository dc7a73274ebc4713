/* harness/scenario: YAML scenario files -> validated plans.
 *
 * This is the only code that includes <yaml.h>. A file is loaded, checked
 * strictly (unknown keys, wrong types, missing fields, bad regexes and
 * impossible combinations are errors "FILE:LINE:COL: message"), `extends:`
 * is resolved and a `matrix:` is expanded, giving one struct bl_scenario
 * per variant. Everything the later stages need is in these structs; they
 * never see YAML or JSON text to parse again (a disk layout too is a typed
 * struct bl_disk_plan, harness/disk's input). Paths in a plan are absolute
 * (resolved against the file the value was written in). */
#ifndef BL_SCENARIO_H
#define BL_SCENARIO_H

#include "console/console.h"
#include "disk/disk.h"
#include "util/util.h"

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- archives ---- */
enum bl_entry_kind {
	BL_ENT_FILE, /* inline content, or `source:` host file */
	BL_ENT_DIR,
	BL_ENT_NOD, /* char/block device */
	BL_ENT_SLINK,
	BL_ENT_PIPE,
	BL_ENT_SOCK,
	BL_ENT_HARDLINK, /* another name for an earlier `file` entry of the same archive */
	BL_ENT_TREE,	 /* a host folder, copied under `path` (default /) */
	BL_ENT_LIST,	 /* a gen_init_cpio list file */
	BL_ENT_CPIO,	 /* an existing cpio archive (any codec), re-emitted */
	BL_ENT_AGENT,	 /* the bootlab agent binary for the scenario's arch */
	BL_ENT_MODULES,	 /* kernel modules for the distro kernel + /bootlab/modules list */
};

struct bl_entry {
	enum bl_entry_kind kind;
	char *path;    /* name in the archive, e.g. "/init" (NULL for LIST/CPIO) */
	char *content; /* FILE: inline bytes (may hold NULs: content_len) */
	size_t content_len;
	char *source;  /* FILE/TREE/LIST/CPIO: host path (absolute) */
	char *target;  /* SLINK: link target; HARDLINK: the earlier path */
	unsigned mode; /* permission bits (07777); default per kind */
	unsigned uid, gid;
	char devtype; /* NOD: 'c' or 'b' */
	unsigned major, minor;
	char **modules; /* MODULES: module names to resolve (NULL-terminated) */
	struct bl_srcpos pos;
};

struct bl_archive_spec {
	char *name;   /* for messages and file names, e.g. "main" */
	char *codec;  /* none gzip bzip2 lzma xz lzo lz4 zstd (default gzip) */
	bool builtin; /* linked into the kernel (CONFIG_INITRAMFS_SOURCE) */
	bool corrupt; /* test aid: flip bytes in the middle of the compressed segment */
	char *raw;    /* use this host file as the segment, as is (user-made archive) */
	struct bl_entry *entries;
	size_t nentries;
	struct bl_srcpos pos;
};

/* ---- kernel ---- */
struct bl_kernel_spec {
	char *kind;	   /* "build" (kernels/<config>.config) or "distro" or "image" */
	char *config;	   /* build: fragment name (default: the arch's default) */
	char *image;	   /* distro/image: path of vmlinuz / Image / linux (UML) */
	char *modules_dir; /* distro: /lib/modules/<version> tree (optional) */
	char *package;	   /* distro arm64: Debian package to fetch, e.g. linux-image-arm64 */
	struct bl_srcpos pos;
};

/* ---- what a boot ends with (harness/session decides it, a step expects it) ---- */
enum bl_outcome {
	BL_OUT_PASS,
	BL_OUT_FAIL,
	BL_OUT_PANIC,
	BL_OUT_REBOOT, /* the guest restarted and nobody asked it to */
	BL_OUT_TIMEOUT,
	BL_OUT_EMU_ERROR,
	BL_OUT_SETUP_ERROR,
	BL_OUT_INTERRUPTED, /* Ctrl-C, SIGTERM or Ctrl-] stopped the boot before it ended */
};
const char *bl_outcome_name(enum bl_outcome o); /* "pass", "emulator-error"... */
int bl_outcome_parse(const char *s, enum bl_outcome *o);
const char *const *bl_outcome_names(void); /* every name, NULL-terminated, in enum order */

/* what the console classifier (harness/session/classify.c) reads in a panic */
enum bl_panic_reason {
	BL_PANIC_NONE,
	BL_PANIC_KILL_INIT,	 /* Attempted to kill init! exitcode=0x... */
	BL_PANIC_NO_INIT,	 /* No working init found. */
	BL_PANIC_VFS,		 /* VFS: Unable to mount root fs on ... */
	BL_PANIC_REQUESTED_INIT, /* Requested init X failed (error N). */
	BL_PANIC_BUILTIN_UNPACK, /* init/initramfs.c failed on the built-in archive */
	BL_PANIC_OTHER,
};
const char *bl_panic_reason_name(enum bl_panic_reason r); /* "kill-init"... */
int bl_panic_reason_parse(const char *s, enum bl_panic_reason *r);
const char *const *bl_panic_reason_names(void); /* "none" first, NULL-terminated */

/* ---- steps ---- */
enum bl_step_kind {
	BL_STEP_HELLO,		/* wait for the agent's hello (stage 1 or 2) */
	BL_STEP_CONSOLE_WAIT,	/* wait for a console line matching a regex */
	BL_STEP_CONSOLE_SEND,	/* write text to the console */
	BL_STEP_AGENT,		/* send a request, check the reply */
	BL_STEP_EXPECT_PANIC,	/* the kernel must panic (optionally: reason, status, signal) */
	BL_STEP_EXPECT_OUTCOME, /* the boot must end with this outcome */
	BL_STEP_EXPECT_SCRIPT,	/* run an Expect script on the console */
};

enum bl_assert_op {
	BL_AS_EQUALS,	/* JSON-equal to value */
	BL_AS_MATCHES,	/* string value matches regex */
	BL_AS_EXISTS,	/* field present */
	BL_AS_ABSENT,	/* field absent */
	BL_AS_CONTAINS, /* string contains / array contains value */
};

/* the step's action key as written in YAML: "hello", "expect-script"... */
const char *bl_step_kind_name(enum bl_step_kind k);

struct bl_assert {
	char *field; /* dotted path into the reply/hello: "fds.0.rdev", "entries" */
	enum bl_assert_op op;
	json_t *value; /* EQUALS/CONTAINS */
	char *regex;   /* MATCHES (source text) */
	regex_t re;    /* compiled REG_EXTENDED */
	struct bl_srcpos pos;
};

struct bl_step {
	enum bl_step_kind kind;
	char *name;	/* shown in reports; generated when not given */
	int timeout_ms; /* each step has one; default 30000 */
	int stage;	/* HELLO: 1 or 2 (0 = any) */
	char *regex;	/* CONSOLE_WAIT */
	regex_t re;
	char *text;	    /* CONSOLE_SEND */
	int quiet_ms;	    /* CONSOLE_SEND: first wait until the console is this long quiet */
	json_t *request;    /* AGENT: the request object without id (owned) */
	bool expect_error;  /* AGENT: the reply must be an error */
	char *expect_errno; /* AGENT: "EINVAL" (implies expect_error) */
	bool no_reply;	    /* AGENT: exit/kill/switch_root: no reply expected */
	struct bl_assert *asserts;
	size_t nasserts;
	char *outcome;	    /* EXPECT_OUTCOME: "pass", "panic", ... */
	char *panic_reason; /* EXPECT_PANIC: "kill-init", "no-init", "vfs", "other" or NULL */
	int panic_status;   /* EXPECT_PANIC: decoded exit status, -1 = any */
	int panic_signal;   /* EXPECT_PANIC: signal number, -1 = any */
	char *script;	    /* EXPECT_SCRIPT: absolute path */
	struct bl_srcpos pos;
};

/* `expect-report:` (docs/kernel-reports.md): a kernel report the boot
 * must show, which then does not fail it */
struct bl_expect_report {
	enum bl_kclass cls;
	char *title;	  /* a regex over the report's title, or NULL: any */
	regex_t title_re; /* title compiled (REG_EXTENDED | REG_NEWLINE) */
	struct bl_srcpos pos;
};

/* bootlab gate's steps (bl_plan_gate_steps(), harness/session): what a
 * repro folder's repro.json keeps as `gate` to make them again */
struct bl_gate_steps {
	int hello_timeout_ms; /* the stage-2 hello's timeout (and a passphrase prompt's) */
	char *passphrase;     /* typed at a LUKS passphrase prompt; NULL: no prompt */
	bool read_mdstat;     /* the stage-2 agent reads /proc/mdstat (--degraded) */
};
/* a passphrase longer than this is refused (cryptsetup's own limit for
 * one typed at its prompt) */
#define BL_GATE_PASSPHRASE_MAX 512
void bl_gate_steps_free(struct bl_gate_steps *gs);

struct bl_scenario {
	char *file;	 /* absolute path of the YAML file */
	char *name;	 /* "smoke" or "smoke[arch=aarch64,backend=uml]" for variants */
	char *base_name; /* name without the variant suffix */
	char *variant;	 /* "arch=aarch64,backend=uml" or NULL */
	char *description;
	char *arch;    /* x86_64 | aarch64 (UML: the host's x86_64) */
	char *backend; /* qemu | uml | libvirt */
	char *machine; /* qemu machine override: "microvm", "q35", "virt" or NULL = auto */
	struct bl_kernel_spec kernel;
	struct bl_archive_spec *archives; /* stacking order; builtin ones first */
	size_t narchives;
	struct bl_disk_plan disks; /* `disks:` and `arrays:`, for harness/disk */
	/* host images attached as they are, after the plan's disks, and
	 * written in place by the boot: plans made in memory only (the root
	 * stacks of bootlab gate and the stack builder's own guest) */
	char **attach;	      /* NULL-terminated, or NULL */
	char **attach_src;    /* each one's pristine copy (for repro), same length */
	int *attach_late_ms;  /* each one's hot-plug time after the start, 0: at boot */
	char *cmdline;	      /* extra kernel command line (bootlab adds console etc.) */
	int memory_mb;	      /* default 256 */
	int timeout_ms;	      /* whole boot deadline; default 60000 */
	char **emulator_args; /* extra emulator arguments (NULL-terminated) */
	bool observe;	      /* `observe:`: trace the project's stage-1 init (docs/observe.md) */
	struct bl_step *steps;
	size_t nsteps;
	struct bl_gate_steps *gate; /* bootlab gate's plan: how its steps were made; else NULL */
	struct bl_kpolicy kpolicy;  /* `fail-on:`: the report classes that fail the boot */
	struct bl_expect_report *expect_reports;
	size_t nexpect_reports;
	struct bl_srcpos pos;
	char **srcfiles; /* owns the file names that every pos.file points to (NULL-terminated) */
};

struct bl_scenario_set {
	struct bl_scenario **v;
	size_t n;
};

struct bl_load_opts {
	const char *arch;    /* command-line override, or NULL */
	const char *backend; /* command-line override, or NULL */
};

/* Load FILE and append its variants to SET. Returns 0, or -1 with
 * bl_errmsg() = "FILE:LINE:COL: message", one line per error found (at most
 * SC_MAX_ERRORS and a line counting the rest). Nothing is appended on error. */
int bl_scenario_load(const char *file, const struct bl_load_opts *opts,
		     struct bl_scenario_set *set);
void bl_scenario_set_release(struct bl_scenario_set *set);
/* A disk spec file, {disks: [...], arrays: [...]} in JSON or YAML (JSON is
 * YAML), as a scenario holding only its disk plan: the same checks and
 * messages as a scenario's `disks:` and `arrays:`. NULL with bl_errmsg() =
 * "FILE:LINE:COL: message"; free with bl_scenario_free. */
struct bl_scenario *bl_scenario_load_disks(const char *file);
/* the plan as JSON (what `bootlab scenario show` prints); caller decrefs */
json_t *bl_scenario_to_json(const struct bl_scenario *s);
void bl_scenario_free(struct bl_scenario *s);

#endif
