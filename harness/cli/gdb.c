/* --gdb on boot and repro: QEMU starts with its gdb stub on a free port of
 * 127.0.0.1 and the guest stopped (-gdb, -S); bootlab prints the gdb
 * command line, with the vmlinux of the kernel being booted for its
 * symbols, and the guest runs when the debugger continues. nokaslr keeps
 * the symbols' addresses (unless the command line says otherwise). */
#include "cli/cli.h"
#include "kernel/kernel.h"
#include "machine/machine.h"
#include "session/session.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

/* gdb for a guest of ARCH: the host's own, else gdb-multiarch */
static const char *gdb_binary(const char *arch)
{
	struct utsname u;
	return uname(&u) == 0 && !strcmp(u.machine, arch) ? "gdb" : "gdb-multiarch";
}

static void print_command(const char *cmd, const struct bl_prepared *p, int port)
{
	char *vmlinux = bl_kernel_vmlinux(p->kernel);
	char *target = xasprintf("target remote 127.0.0.1:%d", port);
	struct strlist av = STRLIST_INIT;
	sl_push(&av, gdb_binary(p->arch));
	sl_push(&av, "-q");
	if (vmlinux)
		sl_push(&av, vmlinux);
	sl_push(&av, "-ex");
	sl_push(&av, target);
	char *line = bl_machine_join_argv(sl_argv(&av));
	fprintf(stderr,
		"bootlab %s: the guest is stopped until gdb continues it; attach with\n  %s\n", cmd,
		line);
	if (!vmlinux)
		fprintf(stderr, "bootlab %s: no vmlinux with symbols found for '%s'\n", cmd,
			p->kernel);
	free(line);
	sl_release(&av);
	free(target);
	free(vmlinux);
}

int cli_gdb_prepare(const char *cmd, struct bl_prepared *p)
{
	if (!p->plan.backend || strcmp(p->plan.backend, "qemu"))
		return bl_err("--gdb needs the qemu backend (a UML kernel is a host program: run "
			      "gdb on it)");
	int port = bl_qemu_free_port();
	if (port < 0)
		return -1;
	p->plan.gdb_port = port;
	bl_cmdline_default(&p->plan.cmdline, "nokaslr", NULL);
	print_command(cmd, p, port);
	return 0;
}
