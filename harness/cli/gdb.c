/* --gdb on boot and repro: QEMU starts with its gdb stub on a free port of
 * 127.0.0.1 and the guest stopped (-gdb, -S); bootlab prints the gdb
 * command line, with the vmlinux of the kernel being booted for its
 * symbols, and the guest runs when the debugger continues. nokaslr keeps
 * the symbols' addresses (unless the command line says otherwise). */
#include "cli/cli.h"
#include "machine/machine.h"
#include "session/session.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_command(const char *cmd, const struct bl_prepared *p, int port)
{
	bool symbols;
	char *line = bl_gdb_command(p->arch, p->kernel, port, &symbols);
	fprintf(stderr,
		"bootlab %s: the guest is stopped until gdb continues it; attach with\n  %s\n", cmd,
		line);
	if (!symbols)
		fprintf(stderr, "bootlab %s: no vmlinux with symbols found for '%s'\n", cmd,
			p->kernel);
	free(line);
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
	p->plan.gdb_wait = true;
	bl_cmdline_default(&p->plan.cmdline, "nokaslr", NULL);
	print_command(cmd, p, port);
	return 0;
}
