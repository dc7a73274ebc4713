/* The gdb command line that attaches to a QEMU gdb stub, with the
 * vmlinux of the kernel booted for its symbols: printed by --gdb
 * (harness/cli/gdb.c) and by a frozen guest's hold (freeze.c). */
#include "kernel/kernel.h"
#include "machine/machine.h"
#include "session/session.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

/* gdb for a guest of ARCH: the host's own, else gdb-multiarch */
static const char *gdb_binary(const char *arch)
{
	struct utsname u;
	return uname(&u) == 0 && arch && !strcmp(u.machine, arch) ? "gdb" : "gdb-multiarch";
}

char *bl_gdb_command(const char *arch, const char *kernel, int port, bool *symbols)
{
	char *vmlinux = bl_kernel_vmlinux(kernel);
	char *target = xasprintf("target remote 127.0.0.1:%d", port);
	struct strlist av = STRLIST_INIT;
	sl_push(&av, gdb_binary(arch));
	sl_push(&av, "-q");
	if (vmlinux)
		sl_push(&av, vmlinux);
	sl_push(&av, "-ex");
	sl_push(&av, target);
	char *line = bl_machine_join_argv(sl_argv(&av));
	*symbols = vmlinux != NULL;
	sl_release(&av);
	free(target);
	free(vmlinux);
	return line;
}
