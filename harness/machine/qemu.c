/* QEMU backend: x86_64 (microvm with virtio-mmio for kernels that parse
 * virtio_mmio.device=, q35 with virtio-pci otherwise) and aarch64 (virt,
 * virtio-mmio or virtio-pci). TCG unless KVM is asked for or the KVM
 * probe said it works (kvm.c, docs/machines.md). The console is QEMU's
 * stdio chardev on one end of a socketpair; the agent port is a
 * virtserialport whose chardev is the other socketpair passed as fd 3
 * (docs/design/performance.md#measured: no socket path, no connect loop, host
 * connected from the start). */
#include "machine/machine.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

struct qemu_arch {
	const char *arch;
	const char *binary;
	const char *console;
};

static const struct qemu_arch arches[] = {
    {"x86_64", "qemu-system-x86_64", "ttyS0"},
    {"aarch64", "qemu-system-aarch64", "ttyAMA0"},
};

const char *bl_machine_qemu_type(const struct bl_machine_plan *p)
{
	if (p->machine && *p->machine && strcmp(p->machine, "auto"))
		return p->machine;
	if (p->arch && !strcmp(p->arch, "aarch64"))
		return "virt";
	if (p->virtio_mmio_cmdline && p->kernel_kind == BL_KERNEL_PVH)
		return "microvm";
	return "q35";
}

const char *bl_machine_virtio(const struct bl_machine_plan *p)
{
	if (p->backend && !strcmp(p->backend, "uml"))
		return "none";
	const char *type = bl_machine_qemu_type(p);
	if (!strcmp(type, "microvm"))
		return "mmio";
	if (!strcmp(type, "virt"))
		return p->virtio && !strcmp(p->virtio, "pci") ? "pci" : "mmio";
	return "pci";
}

/* Speed knobs measured in docs/design/performance.md#measured (what each word does:
 * docs/kernel-behaviour.md section 15): microvm has no i8042 (reboot by
 * triple fault) and TCG no TSC deadline timer (the LAPIC calibration costs
 * 0.2 s; the PIT keeps the tick); on q35 the PS/2 probe delays the reboot
 * by 0.35 s. no_timer_check: on a busy host TCG is slow enough for the
 * IO-APIC timer check to fail and panic ("IO-APIC + timer doesn't
 * work!"), seen with Debian's cloud kernel. A word the scenario sets
 * stays as it is. */
void bl_qemu_machine_words(const char *arch, const char *machine, struct bl_cmdline *c)
{
	if (!arch || strcmp(arch, "x86_64"))
		return;
	static const char *const microvm[] = {"noapictimer", "reboot=t", "no_timer_check"};
	static const char *const pc[] = {"i8042.noaux", "i8042.nokbd", "no_timer_check"};
	bool micro = !strcmp(machine, "microvm");
	const char *const *w = micro ? microvm : pc;
	for (size_t i = 0; i < 3; i++) {
		struct bl_cmdline one = BL_CMDLINE_INIT;
		bl_cmdline_parse(&one, w[i]);
		bl_cmdline_default(c, one.w[0].key, one.w[0].val);
		bl_cmdline_release(&one);
	}
}

/* The agent's port is vport0p1 (the only virtio-serial device, port 1 of
 * its bus): saying so spares the agent mounting /sys and reading the
 * port's name before its hello (~2 ms under TCG). Not when the scenario's
 * own emulator arguments add virtio-serial devices or ports, which may
 * take that name. */
static bool other_serial_ports(const struct bl_machine_plan *p)
{
	for (size_t i = 0; p->extra_args && p->extra_args[i]; i++)
		if (strstr(p->extra_args[i], "virtio-serial") ||
		    strstr(p->extra_args[i], "virtserialport") ||
		    strstr(p->extra_args[i], "virtconsole"))
			return true;
	return false;
}

/* the plan's command line with this machine's words; a probe boot's
 * carries none of the scenario's */
static char *qemu_cmdline(const struct bl_machine_plan *p, const char *console, const char *machine,
			  bool kvm, bool probe)
{
	struct bl_cmdline words = BL_CMDLINE_INIT;
	if (probe) {
		/* no initrd, no root: the kernel panics after its last initcall,
		 * and panic=-1 with -no-reboot ends QEMU */
		struct bl_machine_plan pp = *p;
		pp.cmdline = (struct bl_cmdline)BL_CMDLINE_INIT;
		bl_cmdline_parse(&pp.cmdline, "quiet panic=-1 printk.time=1");
		bl_machine_cmdline(&pp, console, &words);
		bl_cmdline_release(&pp.cmdline);
	} else {
		bl_machine_cmdline(p, console, &words);
	}
	bl_qemu_machine_words(p->arch, machine, &words);
	/* TCG's guest TSC is the host's: name its rate, so that a PIT
	 * calibration upset by host load cannot mark it unstable (a third of
	 * boots on a busy host, each ~80 ms slower) */
	long khz = kvm || strcmp(p->arch, "x86_64") ? 0 : bl_host_tsc_khz();
	if (khz > 0) {
		char v[32];
		snprintf(v, sizeof(v), "%ld", khz);
		bl_cmdline_default(&words, "tsc_early_khz", v);
	}
	if (!probe && !other_serial_ports(p))
		bl_cmdline_default(&words, "bootlab.port", "/dev/vport0p1");
	char *line = bl_cmdline_str(&words);
	bl_cmdline_release(&words);
	return line;
}

/* "-drive file=PATH,...": QEMU splits an option's value at each ',' and
 * reads ",," as one comma, so a path's commas are doubled (a TMPDIR or
 * cache path with a comma would otherwise become options of its own) */
static char *opt_value(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	for (; *s; s++) {
		if (*s == ',')
			sb_addc(&sb, ',');
		sb_addc(&sb, *s);
	}
	return sb_detach(&sb, NULL);
}

/* a unix socket's path must fit sun_path (108 bytes with its NUL) */
#define SUN_PATH_MAX 107

/* bootlab's own QMP channel on fd 4 (no path, no connect loop, like the
 * agent's): --freeze and hot-plugged disks */
static void qmp_args(struct strlist *av)
{
	sl_push(av, "-chardev");
	sl_push(av, "socket,id=blqmp,fd=4");
	sl_push(av, "-mon");
	sl_push(av, "chardev=blqmp,mode=control");
}

/* --freeze: monitor.sock (HMP) and qmp.sock in the work folder for a
 * user to connect to while the guest is held */
static int monitor_args(const struct bl_machine_plan *p, struct strlist *av)
{
	static const struct {
		const char *id, *file, *mode;
	} socks[] = {{"hmp", BL_QEMU_HMP_SOCK, "readline"}, {"qmp", BL_QEMU_QMP_SOCK, "control"}};
	for (size_t i = 0; i < BL_ARRAY_SIZE(socks); i++) {
		char *path = xasprintf("%s/%s", p->workdir, socks[i].file);
		if (strlen(path) > SUN_PATH_MAX) {
			bl_err("qemu backend: monitor socket path '%s' is longer than %d bytes (a "
			       "shorter TMPDIR helps)",
			       path, SUN_PATH_MAX);
			free(path);
			return -1;
		}
		char *val = opt_value(path);
		sl_push(av, "-chardev");
		sl_pushf(av, "socket,id=user%s,path=%s,server=on,wait=off", socks[i].id, val);
		sl_push(av, "-mon");
		sl_pushf(av, "chardev=user%s,mode=%s", socks[i].id, socks[i].mode);
		free(val);
		free(path);
	}
	return 0;
}

/* the disks: a drive each; a device each for those attached at boot,
 * an empty PCIe root port each for the late ones (bl_qemu_hotplug puts
 * the device there). q35's ports are hot-plugged natively, not by ACPI:
 * bootlab's own kernel has no ACPI */
static int disk_args(const struct bl_machine_plan *p, const char *machine, bool mmio,
		     struct strlist *av)
{
	bool late = bl_machine_has_late(p);
	if (late && mmio)
		return bl_err("qemu backend: a hot-plugged disk needs virtio over PCI (q35, virt), "
			      "not machine '%s'",
			      machine);
	if (late && !strcmp(machine, "q35"))
		sl_push(av, "-global"),
		    sl_push(av, "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off");
	for (size_t i = 0; i < p->ndisks; i++) {
		char *file = opt_value(p->disks[i]);
		sl_push(av, "-drive");
		sl_pushf(av, "file=%s,format=raw,if=none,id=d%zu,cache=unsafe", file, i);
		free(file);
		sl_push(av, "-device");
		if (p->disk_late_ms && p->disk_late_ms[i] > 0)
			sl_pushf(av, "pcie-root-port,id=blhp%zu,chassis=%zu", i, i + 1);
		else
			sl_pushf(av, "%s,drive=d%zu", mmio ? "virtio-blk-device" : "virtio-blk-pci",
				 i);
	}
	return 0;
}

int bl_qemu_argv(const struct bl_machine_plan *p, const char *accel, bool probe, struct strlist *av,
		 char **cmdline)
{
	const struct qemu_arch *qa = NULL;
	for (size_t i = 0; i < BL_ARRAY_SIZE(arches); i++)
		if (p->arch && !strcmp(arches[i].arch, p->arch))
			qa = &arches[i];
	if (!qa)
		return bl_err("qemu backend: unsupported arch '%s'", p->arch ? p->arch : "");
	const char *machine = bl_machine_qemu_type(p);
	bool mmio = !strcmp(bl_machine_virtio(p), "mmio");
	bool kvm = !strcmp(accel, "kvm");

	sl_push(av, qa->binary);
	sl_push(av, "-M");
	if (!strcmp(machine, "microvm"))
		sl_push(av, "microvm,acpi=off");
	else
		sl_push(av, machine);
	if (!strcmp(machine, "virt"))
		sl_push(av, "-cpu"), sl_push(av, kvm ? "host" : "cortex-a57");
	sl_push(av, "-accel");
	sl_push(av, accel);
	sl_push(av, "-nodefaults");
	sl_push(av, "-no-user-config");
	sl_push(av, "-display");
	sl_push(av, "none");
	sl_push(av, "-no-reboot");
	sl_push(av, "-m");
	sl_pushf(av, "%d", p->memory_mb > 0 ? p->memory_mb : 256);
	sl_push(av, "-smp");
	sl_push(av, "1");
	sl_push(av, "-kernel");
	sl_push(av, p->kernel);
	if (p->initrd && !probe) {
		sl_push(av, "-initrd");
		sl_push(av, p->initrd);
	}
	*cmdline = qemu_cmdline(p, qa->console, machine, kvm, probe);
	sl_push(av, "-append");
	sl_push(av, *cmdline);

	if (probe) {
		sl_push(av, "-serial");
		sl_push(av, "stdio");
		return 0;
	}
	sl_push(av, "-chardev");
	sl_push(av, "stdio,id=con,signal=off");
	sl_push(av, "-serial");
	sl_push(av, "chardev:con");

	sl_push(av, "-device");
	sl_push(av, mmio ? "virtio-serial-device,id=vs0" : "virtio-serial-pci,id=vs0");
	sl_push(av, "-chardev");
	sl_push(av, "socket,id=ag,fd=3");
	sl_push(av, "-device");
	sl_push(av, "virtserialport,bus=vs0.0,chardev=ag,name=org.bootlab.agent");

	if (disk_args(p, machine, mmio, av) < 0)
		return -1;
	for (size_t i = 0; p->extra_args && p->extra_args[i]; i++)
		sl_push(av, p->extra_args[i]);
	if (p->gdb_port > 0) {
		sl_push(av, "-gdb");
		sl_pushf(av, "tcp:127.0.0.1:%d", p->gdb_port);
	}
	if (p->gdb_wait)
		sl_push(av, "-S");
	if (p->monitors || bl_machine_has_late(p))
		qmp_args(av);
	return p->monitors ? monitor_args(p, av) : 0;
}

/* QMP device_add of late disk I: virtio-blk-pci on drive dI, into port
 * blhpI */
int bl_qemu_hotplug(struct bl_qmp *q, size_t i, int timeout_ms)
{
	char drive[32], bus[32], id[32];
	snprintf(drive, sizeof(drive), "d%zu", i);
	snprintf(bus, sizeof(bus), "blhp%zu", i);
	snprintf(id, sizeof(id), "blhot%zu", i);
	json_t *args = json_pack("{s:s, s:s, s:s, s:s}", "driver", "virtio-blk-pci", "drive", drive,
				 "bus", bus, "id", id);
	return bl_qmp_execute(q, "device_add", args, timeout_ms, NULL);
}

int bl_qemu_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		bl_err_errno("no free TCP port on 127.0.0.1 for the gdb stub");
	else
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static const char *pick_accel(const struct bl_machine_plan *p)
{
	const char *a = p->accel;
	if (!a || !*a || !strcmp(a, "auto"))
		a = getenv("BOOTLAB_ACCEL");
	if (a && (!strcmp(a, "tcg") || !strcmp(a, "kvm")))
		return a;
	char why[256];
	if (bl_kvm_usable(p, why, sizeof(why)) == 1)
		return "kvm";
	bl_debug("qemu: tcg (%s)", why);
	return "tcg";
}

static int qemu_start(const struct bl_machine_plan *p, struct bl_machine *m)
{
	struct strlist av = STRLIST_INIT;
	const char *accel = pick_accel(p);
	if (bl_qemu_argv(p, accel, false, &av, &m->full_cmdline) < 0)
		goto fail;
	m->console_name = !strcmp(p->arch, "aarch64") ? "ttyAMA0" : "ttyS0";
	/* QEMU's threads die with it: PR_SET_PDEATHSIG is enough, and a
	 * watchdog's fork would take CPU from the boot's first milliseconds */
	m->no_watchdog = true;

	int rc = bl_machine_spawn_channels(m, sl_argv(&av), p->monitors || bl_machine_has_late(p));
	sl_release(&av);
	return rc;
fail:
	sl_release(&av);
	return -1;
}

const struct bl_backend bl_backend_qemu = {
    .name = "qemu",
    .start = qemu_start,
};
