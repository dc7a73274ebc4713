/* QEMU backend: x86_64 (microvm with virtio-mmio for kernels that parse
 * virtio_mmio.device=, q35 with virtio-pci otherwise) and aarch64 (virt).
 * TCG always, unless the KVM probe said KVM works (see kvm probe notes in
 * docs/machines.md). The console is QEMU's stdio chardev on one end of a
 * socketpair; the agent port is a virtserialport whose chardev is the
 * other socketpair passed as fd 3 (recipes.md section 1: no socket path,
 * no connect loop, host connected from the start). */
#include "machine/machine.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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

static const char *pick_machine(const struct bl_machine_plan *p)
{
	if (p->machine && *p->machine && strcmp(p->machine, "auto"))
		return p->machine;
	if (!strcmp(p->arch, "aarch64"))
		return "virt";
	if (p->virtio_mmio_cmdline && p->kernel_kind && !strcmp(p->kernel_kind, "pvh"))
		return "microvm";
	return "q35";
}

static int qemu_start(const struct bl_machine_plan *p, struct bl_machine *m)
{
	const struct qemu_arch *qa = NULL;
	for (size_t i = 0; i < BL_ARRAY_SIZE(arches); i++)
		if (!strcmp(arches[i].arch, p->arch))
			qa = &arches[i];
	if (!qa)
		return bl_err("qemu backend: unsupported arch '%s'", p->arch);

	const char *machine = pick_machine(p);
	bool mmio = !strcmp(machine, "microvm") || !strcmp(machine, "virt");
	struct strlist av = STRLIST_INIT;
	sl_push(&av, qa->binary);
	if (!strcmp(machine, "microvm"))
		sl_push(&av, "-M"), sl_push(&av, "microvm,acpi=off");
	else if (!strcmp(machine, "virt"))
		sl_push(&av, "-M"), sl_push(&av, "virt"), sl_push(&av, "-cpu"),
		    sl_push(&av, "cortex-a57");
	else
		sl_push(&av, "-M"), sl_push(&av, machine);
	sl_push(&av, "-accel");
	sl_push(&av, "tcg");
	sl_push(&av, "-nodefaults");
	sl_push(&av, "-no-user-config");
	sl_push(&av, "-display");
	sl_push(&av, "none");
	sl_push(&av, "-no-reboot");
	sl_push(&av, "-m");
	sl_pushf(&av, "%d", p->memory_mb > 0 ? p->memory_mb : 256);
	sl_push(&av, "-smp");
	sl_push(&av, "1");
	sl_push(&av, "-kernel");
	sl_push(&av, p->kernel);
	if (p->initrd) {
		sl_push(&av, "-initrd");
		sl_push(&av, p->initrd);
	}
	/* speed knobs measured in recipes.md section 8 */
	const char *extra = NULL;
	if (!strcmp(p->arch, "x86_64")) {
		if (!strcmp(machine, "microvm"))
			extra = "noapictimer reboot=t";
		else
			extra = "i8042.noaux i8042.nokbd";
	}
	m->console_name = qa->console;
	m->full_cmdline = bl_machine_cmdline(p, qa->console, extra);
	sl_push(&av, "-append");
	sl_push(&av, m->full_cmdline);

	sl_push(&av, "-chardev");
	sl_push(&av, "stdio,id=con,signal=off");
	sl_push(&av, "-serial");
	sl_push(&av, "chardev:con");

	sl_push(&av, "-device");
	sl_push(&av, mmio ? "virtio-serial-device,id=vs0" : "virtio-serial-pci,id=vs0");
	sl_push(&av, "-chardev");
	sl_push(&av, "socket,id=ag,fd=3");
	sl_push(&av, "-device");
	sl_push(&av, "virtserialport,bus=vs0.0,chardev=ag,name=org.bootlab.agent");

	for (size_t i = 0; i < p->ndisks; i++) {
		sl_push(&av, "-drive");
		sl_pushf(&av, "file=%s,format=raw,if=none,id=d%zu,cache=unsafe", p->disks[i], i);
		sl_push(&av, "-device");
		sl_pushf(&av, "%s,drive=d%zu", mmio ? "virtio-blk-device" : "virtio-blk-pci", i);
	}
	for (size_t i = 0; p->extra_args && p->extra_args[i]; i++)
		sl_push(&av, p->extra_args[i]);

	int con[2] = {-1, -1}, ag[2] = {-1, -1}, er[2] = {-1, -1};
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ag) < 0 ||
	    pipe2(er, O_CLOEXEC) < 0) {
		bl_err_errno("qemu backend: socketpair");
		bl_err_kind(BL_EK_INFRA);
		goto fail;
	}
	if (bl_machine_spawn(m, sl_argv(&av), con[1], er[1], &ag[1], 1) < 0)
		goto fail;
	close(con[1]);
	close(ag[1]);
	close(er[1]);
	m->console_fd = con[0];
	m->agent_fd = ag[0];
	m->stderr_fd = er[0];
	sl_release(&av);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (con[i] >= 0)
			close(con[i]);
		if (ag[i] >= 0)
			close(ag[i]);
		if (er[i] >= 0)
			close(er[i]);
	}
	sl_release(&av);
	return -1;
}

const struct bl_backend bl_backend_qemu = {
    .name = "qemu",
    .start = qemu_start,
};
