/* harness/cli: one file per bootlab subcommand, cmd_<name>.c for cmd_<name>(),
 * named apart from the stages (archive/, disk/...). Each cmd_* takes the
 * arguments after its own name (argv[0] is the subcommand) and returns the
 * process exit status (BL_EXIT_*). main.c only dispatches. */
#ifndef BL_CLI_H
#define BL_CLI_H

#include <stdbool.h>

int cmd_run(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_archive(int argc, char **argv);
int cmd_kernel(int argc, char **argv);
int cmd_disk(int argc, char **argv);
int cmd_scenario(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_console(int argc, char **argv);

/* For getopt_long() called with opterr = 0 and an optstring starting with
 * ':': C is what it returned, ':' (an option without its value) or
 * anything else it could not take. Prints "bootlab CMD: option '--x'
 * needs a value" or "... unknown option '--x'", then USAGE (may be NULL),
 * to stderr; returns BL_EXIT_USAGE. */
int cli_option_error(const char *cmd, int c, char **argv, const char *usage);

struct bl_kpolicy_override;
/* --fail-on LIST (ALLOW false) or --allow LIST into O; -1 after printing
 * "bootlab CMD: --fail-on: unknown kernel report class 'x' (one of: ...)" */
/* -j N, --repeat N of command CMD: a count from 1 to MAX, else die() */
long cli_count(const char *cmd, const char *arg, long max, const char *opt);
int cli_kpolicy_option(const char *cmd, struct bl_kpolicy_override *o, bool allow,
		       const char *list);

/* ---- gate_disks.c: bootlab gate --disks FILE ---- */
struct bl_scenario;
struct bl_disk_fs;
struct cli_gate_layout {
	struct bl_scenario *spec; /* FILE's plan (bl_scenario_load_disks), until used */
	struct bl_disk_fs *root;  /* its one filesystem with `agent:`: the root */
	const char *field;	  /* where that is: "disks[0].partitions[1].filesystem" */
	char *root_dev;		  /* how the kernel names it (/dev/vdb2), or NULL: on an
				     array, md0 or md127 is the initramfs's choice */
};
/* FILE loaded and checked, its root found: 0, or -1 with a message naming
 * FILE (and LINE:COLUMN where the loader has them) */
int cli_gate_layout_load(const char *file, struct cli_gate_layout *l);
/* the layout's disks and arrays moved into SC's plan (once); returns the
 * root filesystem, now SC's, for the agent's files */
struct bl_disk_fs *cli_gate_layout_use(struct cli_gate_layout *l, struct bl_scenario *sc);
void cli_gate_layout_release(struct cli_gate_layout *l);

struct bl_run;
/* the end of a run for its front ends (run, gate): the reports written,
 * the summary line printed; returns the exit status */
int cmd_run_report(const struct bl_run *run);
struct bl_result;
/* terminal.c, for the interactive commands (boot, repro): SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT restore the terminal and stop the session */
void cli_catch_signals(void);
/* the terminal in raw mode (when stdin is one), said on stderr as
 * "bootlab CMD: ..."; restored by cli_tty_restore() and at exit */
void cli_tty_raw(const char *cmd);
void cli_tty_restore(void);
/* "outcome: panic (attempted to kill init, exit status 7)" on a line of
 * its own after the guest's output; the exit status it makes (0 pass, 1
 * panic/reboot/fail/timeout, 3 emulator or setup error, 130 interrupted) */
int cli_print_outcome(const struct bl_result *r);
struct bl_scenario;
struct bl_prepared;
/* SC prepared as PREP booted once with the console on this terminal
 * (--gdb: cli_gdb_prepare() first; FREEZE: --freeze, or NULL), the
 * outcome printed; its result in R
 * (caller releases) and the exit status cli_print_outcome() makes (2 when
 * --gdb cannot be had) */
struct bl_freeze_opts;
int cli_session(const char *cmd, const struct bl_scenario *sc, struct bl_prepared *prep,
		const char *workdir, bool gdb, const struct bl_freeze_opts *freeze,
		struct bl_result *r);

/* gdb.c, --gdb of boot and repro: P's QEMU gets its gdb stub on a free
 * port with the guest stopped, and nokaslr; the gdb command line (with the
 * kernel's vmlinux) is printed on stderr as "bootlab CMD: ...". -1 with a
 * message (not qemu, no port) */
int cli_gdb_prepare(const char *cmd, struct bl_prepared *p);
#define CLI_GDB_TIMEOUT_MS (24 * 3600 * 1000) /* a debugged boot's deadline */

/* freeze.c: the getopt_long() values of --freeze[=T] (optional_argument)
 * and --dump-memory (no_argument) in each command's option table */
#define CLI_OPT_FREEZE 0x100
#define CLI_OPT_DUMP_MEMORY 0x101
/* option C (CLI_OPT_FREEZE with ARG, T or NULL, or CLI_OPT_DUMP_MEMORY)
 * into F; -1 after printing "bootlab CMD: --freeze: bad duration ..." */
int cli_freeze_option(const char *cmd, struct bl_freeze_opts *f, int c, const char *arg);
/* 0 when F can go with BACKEND, else BL_EXIT_USAGE after printing why,
 * naming the option and the backend */
int cli_freeze_check(const char *cmd, const struct bl_freeze_opts *f, const char *backend);
/* where boot and repro put a memory dump: DIR/CMD-<run id>.core (caller
 * frees) */
char *cli_freeze_dump_path(const char *dir, const char *cmd);

int cmd_repro(int argc, char **argv);
#endif
