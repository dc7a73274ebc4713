/* harness/machine: start an emulator for a plan and hand back its channels.
 *
 * One ops struct per backend (qemu.c, uml.c, libvirt.c), registered in
 * machine.c. Every backend gives the session the same things: a console
 * stream (read: guest console output; write: console input), an agent
 * channel stream, and a way to stop and reap the emulator. The emulator
 * runs in its own process group with PR_SET_PDEATHSIG(SIGKILL), and a
 * watchdog process in that group kills the whole group (UML's helpers
 * included) when bootlab dies, even by SIGKILL. docs/machines.md. */
#ifndef BL_MACHINE_H
#define BL_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/kernel.h" /* enum bl_kernel_kind: what the image is */
#include "util/util.h"	   /* struct strlist */

#include <jansson.h>

/* ---- cmdline.c: the kernel command line, as the kernel reads it ---- */
struct bl_cmdline_word {
	char *text; /* as written, quotes and all */
	char *key;  /* up to the first '=' (a leading quote dropped) */
	char *val;  /* after it, surrounding quotes dropped; NULL for a bare word */
};
struct bl_cmdline {
	struct bl_cmdline_word *w;
	size_t n, cap;
};
#define BL_CMDLINE_INIT                                                                            \
	{                                                                                          \
		0                                                                                  \
	}
/* append the words of TEXT (split at white space outside double quotes) */
void bl_cmdline_parse(struct bl_cmdline *c, const char *text);
/* append KEY=VAL (VAL quoted when it holds spaces; NULL: the bare word
 * KEY) before a "--", so the kernel, not init, reads it */
void bl_cmdline_add(struct bl_cmdline *c, const char *key, const char *val);
/* KEY=VAL replaces every KEY word the kernel reads */
void bl_cmdline_set(struct bl_cmdline *c, const char *key, const char *val);
/* add KEY=VAL unless a KEY word is there already (the user's wins);
 * true when added */
bool bl_cmdline_default(struct bl_cmdline *c, const char *key, const char *val);
/* keys compare as the kernel's parameq(): '-' and '_' are the same; only
 * words before "--" count */
bool bl_cmdline_has(const struct bl_cmdline *c, const char *key);
/* the value the kernel takes (the last KEY word's): "" for a bare word,
 * NULL when absent */
const char *bl_cmdline_get(const struct bl_cmdline *c, const char *key);
/* the words joined by single spaces; caller frees */
char *bl_cmdline_str(const struct bl_cmdline *c);
void bl_cmdline_copy(struct bl_cmdline *dst, const struct bl_cmdline *src);
void bl_cmdline_release(struct bl_cmdline *c);

/* Everything one boot needs, complete when bl_prepare() (harness/session)
 * returns it: the command line holds the scenario's words and every word
 * bootlab adds but the backend's own (console=, the machine's speed words,
 * the agent's port), which each backend adds to a copy through the
 * bl_cmdline type. */
struct bl_machine_plan {
	const char *arch;    /* x86_64 | aarch64 (uml: host arch) */
	const char *backend; /* qemu | uml | libvirt */
	const char *machine; /* qemu: microvm | q35 | virt; NULL = chosen from the kernel */
	const char *kernel;  /* image path */
	enum bl_kernel_kind kernel_kind; /* read from the image's own bytes */
	bool virtio_mmio_cmdline;  /* kernel parses virtio_mmio.device= (microvm is possible) */
	const char *initrd;	   /* stacked external archive, or NULL */
	struct bl_cmdline cmdline; /* the kernel command line but the backend's words */
	int panic;		   /* its panic= value: -1 reboot (the emulator exits) at
				      once, 0 hang, N reboot after N s */
	int memory_mb;
	const char *const *disks; /* raw image paths, in order (vda, vdb, ...) */
	size_t ndisks;
	const int *disk_late_ms;       /* NULL, or per disk: 0 attached at boot, N > 0
					  hot-plugged N ms after the start (qemu over
					  PCI only; bl_machine_hotplug) */
	const char *const *extra_args; /* NULL-terminated or NULL */
	const char *workdir;	       /* private folder for this boot (sockets, logs) */
	const char *connect;	       /* libvirt URI, or NULL */
	bool interactive;	       /* console on the caller's terminal (bootlab boot) */
	const char *virtio;	       /* qemu: "mmio" or "pci" for the agent port and disks;
					  NULL = what the machine type has (bl_machine_virtio) */
	const char *accel;	       /* qemu: "tcg", "kvm", or NULL/"auto": $BOOTLAB_ACCEL, else
					  KVM only after a good probe boot (kvm.c), else TCG */
	int gdb_port;		       /* qemu: > 0: its gdb stub on 127.0.0.1:PORT (-gdb) */
	bool gdb_wait; /* qemu: the guest stopped until the debugger continues (-S) */
	bool monitors; /* qemu: the private QMP channel (bl_machine.qmp_fd) and, in
			  workdir, monitor.sock (HMP) and qmp.sock for a user
			  (--freeze, harness/session/freeze.c) */
};

struct bl_machine {
	const struct bl_backend *ops;
	pid_t pid;	     /* emulator process, leader of its own group; 0 when none */
	pid_t watchdog;	     /* kills the group when bootlab dies (see machine.c); 0 when none */
	int pidfd;	     /* pidfd_open(pid): readable once the emulator exits, so the
				session polls it instead of waitpid every few ms; <= 0 when none */
	int console_fd;	     /* bidirectional stream; -1 when interactive */
	int agent_fd;	     /* bidirectional stream to the agent channel */
	int stderr_fd;	     /* emulator's own diagnostics (read), or -1 */
	int qmp_fd;	     /* QEMU's private QMP channel (plan.monitors), or -1 */
	char *command;	     /* the emulator command line, for reports (owned) */
	struct strlist argv; /* the same, word for word (owned; empty for libvirt) */
	char *full_cmdline;  /* the kernel command line actually passed (owned) */
	const char *console_name; /* ttyS0, ttyAMA0, tty0 ... */
	int cpu_pin;		  /* 1 + the host CPU the emulator is bound to; 0: not bound */
	bool no_watchdog;	  /* the emulator forks no processes of its own (QEMU): its
				     PDEATHSIG covers it, no watchdog (machine.c) is spawned */
	long long uploaded_bytes; /* libvirt: bytes uploaded to the host for this boot; -1
				     when its files were not uploaded (docs/libvirt.md) */
	bool exited;
	int status; /* wait status once exited */
	void *priv; /* backend data */
};

struct bl_backend {
	const char *name;
	/* start the emulator; fills m (pid, fds, command) */
	int (*start)(const struct bl_machine_plan *plan, struct bl_machine *m);
	/* stop: the common code does SIGTERM/SIGKILL of the group; backends with
	 * more to undo (libvirt domains) do it here; may be NULL */
	void (*stop)(struct bl_machine *m);
	/* backends whose emulator is not our child (libvirt): 1 when the
	 * machine has ended (m->exited, m->status set); NULL = waitpid */
	int (*poll_exit)(struct bl_machine *m);
	/* a guest that powers off or halts ends the emulator by itself (UML
	 * exits 0); others may stop without exiting (no ACPI, microvm) */
	bool exits_when_off;
};

const struct bl_backend *bl_backend_find(const char *name);
/* start the plan on its backend */
int bl_machine_start(const struct bl_machine_plan *plan, struct bl_machine *m);
/* whether PLAN has a disk to hot-plug (disk_late_ms) */
bool bl_machine_has_late(const struct bl_machine_plan *plan);
/* non-blocking: 1 when the emulator has exited (m->status set), else 0 */
int bl_machine_poll_exit(struct bl_machine *m);
/* end the emulator: SIGTERM to its group, wait up to grace_ms, SIGKILL,
 * reap; close the channels. Safe to call twice. */
void bl_machine_stop(struct bl_machine *m, int grace_ms);

/* for backends: fork+exec argv in a new process group with
 * PR_SET_PDEATHSIG. In the child, console_child_fd becomes fds 0 and 1
 * (when >= 0), stderr_child_fd becomes 2, and each keep_fds[i] is moved
 * to fd 3+i. */
int bl_machine_spawn(struct bl_machine *m, char *const argv[], int console_child_fd,
		     int stderr_child_fd, const int *keep_fds, size_t nkeep);
/* the usual channels: console on a socketpair (child fds 0 and 1), the
 * emulator's stderr on a pipe (fd 2), the agent channel on a socketpair
 * (fd 3), with QMP a socketpair for QEMU's monitor (fd 4, m->qmp_fd);
 * fills m's fds */
int bl_machine_spawn_channels(struct bl_machine *m, char *const argv[], bool qmp);
char *bl_machine_join_argv(char *const argv[]);
/* 1 + a host CPU for a one-CPU emulator (UML), round-robin over bootlab's
 * allowed CPUs so parallel boots get different ones; 0 when not to bind
 * (BOOTLAB_UML_PIN=0, or a single CPU) */
int bl_machine_pick_cpu(void);
/* the plan's command line with console=CONSOLE unless the scenario
 * names a console; caller releases */
void bl_machine_cmdline(const struct bl_machine_plan *plan, const char *console,
			struct bl_cmdline *out);

/* the QEMU machine type a plan boots on: the plan's, else virt (aarch64),
 * microvm (x86_64 PVH vmlinux that parses virtio_mmio.device=) or q35 */
const char *bl_machine_qemu_type(const struct bl_machine_plan *p);
/* the virtio transport of the agent port and disks: "mmio" or "pci" for
 * QEMU, "none" for UML */
const char *bl_machine_virtio(const struct bl_machine_plan *p);

/* kvm.c: may this plan use KVM? 1 yes, 0 no (WHY says why). The answer
 * of a probe boot (the plan's kernel, no initrd, under KVM, at most
 * BL_KVM_PROBE_MS) is cached per host kernel release and CPU model under
 * the cache folder, so a hanging KVM costs the probe's timeout once. */
#define BL_KVM_PROBE_MS 5000
int bl_kvm_usable(const struct bl_machine_plan *p, char *why, size_t n);
/* kvm.c: the host's TSC rate in kHz (0: unknown, not x86, or no constant
 * TSC), measured once per host and cached beside the kvm answer. Under TCG
 * an x86 guest's TSC is the host's, so tsc_early_khz= spares the guest its
 * PIT calibration, which fails on a busy host (the TSC is then marked
 * unstable, the delay loop calibrated and the boot ~80 ms slower) */
long bl_host_tsc_khz(void);
/* qemu.c: a TCP port on 127.0.0.1 free right now, for a gdb stub; -1
 * with a message */
int bl_qemu_free_port(void);
/* qemu.c: the speed words of a QEMU machine type (microvm, q35, virt),
 * for the qemu and libvirt backends (docs/kernel-behaviour.md section 15) */
void bl_qemu_machine_words(const char *arch, const char *machine, struct bl_cmdline *c);
/* qemu.c: the emulator argv for P with ACCEL ("tcg"/"kvm"); a probe line
 * has no initrd, disks, agent port or extra arguments, and the console on
 * stdio. The kernel command line goes to *cmdline (caller frees). */
int bl_qemu_argv(const struct bl_machine_plan *p, const char *accel, bool probe, struct strlist *av,
		 char **cmdline);

/* qemu.c: the user's sockets of a plan with monitors, in its workdir */
#define BL_QEMU_HMP_SOCK "monitor.sock"
#define BL_QEMU_QMP_SOCK "qmp.sock"

/* ---- qmp.c: QEMU's machine protocol on the private channel, one
 * request at a time, each with its own deadline ---- */
struct bl_qmp {
	int fd;		  /* borrowed (bl_machine.qmp_fd) */
	struct strbuf in; /* read, not yet a whole line */
};
/* Q on FD: the greeting read and qmp_capabilities answered within
 * TIMEOUT_MS; -1 with a message. bl_qmp_release() either way. */
int bl_qmp_open(struct bl_qmp *q, int fd, int timeout_ms);
/* CMD with ARGS (taken; NULL: none) answered within TIMEOUT_MS; its
 * "return" in *RET (caller decrefs; RET may be NULL), or -1 with a message
 * naming CMD and QEMU's error. Events on the way are skipped. */
int bl_qmp_execute(struct bl_qmp *q, const char *cmd, json_t *args, int timeout_ms, json_t **ret);
void bl_qmp_release(struct bl_qmp *q);
/* qemu.c: disk I of a plan with disk_late_ms, plugged into its hot-plug
 * port now over Q (QMP device_add); -1 with QEMU's message */
int bl_qemu_hotplug(struct bl_qmp *q, size_t i, int timeout_ms);

/* libvirt_job.c: whether the libvirt host at URI takes a connection
 * within TIMEOUT_MS: 0, else -1 with a message saying why. The run engine
 * asks after a boot on that host did not pass: a host that does not
 * answer is lost, and its variants move to the other hosts. */
int bl_libvirt_host_answers(const char *uri, int timeout_ms);

extern const struct bl_backend bl_backend_qemu;
extern const struct bl_backend bl_backend_uml;
extern const struct bl_backend bl_backend_libvirt;
#endif
