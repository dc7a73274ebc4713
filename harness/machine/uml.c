/* User-Mode Linux backend: the kernel is a host program. Console con0 is
 * one end of a socketpair on fds 0/1 (its output also carries printk), the
 * agent channel is con1 on fd 3, which the guest sees as /dev/tty1 (the
 * agent puts it in raw mode): docs/machines.md, "UML specifics", and
 * docs/design/performance.md, "Measured on this machine". UML re-execs itself on reboot, so the
 * agent is told to power off (RB_POWER_OFF makes UML exit 0); a panic ends in SIGABRT whatever
 * panic= says (docs/kernel-behaviour.md sections 6 and 14). */
#include "machine/machine.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* UML calibrates its delay loop at boot (about 50 ms, more on a busy
 * host: docs/machines.md, the uml lpj= word; lpj= skips it,
 * docs/kernel-behaviour.md section 14). The loop is plain host code, so the
 * host's BogoMIPS give its speed: lpj = BogoMIPS * 500000 / HZ, with
 * UML's fixed HZ of 100. A value somewhat off only changes how long
 * udelay() spins, which no UML driver depends on. 0 when unknown. */
static unsigned long host_lpj(void)
{
	char *v = bl_cpuinfo("bogomips");
	double bogo = v ? strtod(v, NULL) : 0;
	free(v);
	return bogo > 0 ? (unsigned long)(bogo * 500000 / 100) : 0;
}

static int uml_start(const struct bl_machine_plan *p, struct bl_machine *m)
{
	int r = 0;
	struct strlist av = STRLIST_INIT;
	sl_push(&av, p->kernel);
	sl_pushf(&av, "mem=%dM", p->memory_mb > 0 ? p->memory_mb : 256);
	if (p->initrd)
		sl_pushf(&av, "initrd=%s", p->initrd);
	/* the mconsole socket and other run files go to the boot's own folder */
	sl_pushf(&av, "uml_dir=%s", p->workdir ? p->workdir : "/tmp");
	sl_push(&av, "con=null");
	sl_push(&av, "con0=fd:0,fd:1");
	sl_push(&av, "con1=fd:3");
	sl_push(&av, "ssl=null");
	/* ubdN=FILE[,COW]: a ',' in a path cannot be escaped */
	for (size_t i = 0; i < p->ndisks; i++)
		if (strchr(p->disks[i], ','))
			r = bl_err(
			    "uml backend: disk image '%s' has a ',' in its path, which UML's "
			    "ubd option reads as a second file (use a TMPDIR without ',')",
			    p->disks[i]);
		else
			sl_pushf(&av, "ubd%zu=%s", i, p->disks[i]);
	if (r < 0) {
		sl_release(&av);
		return r;
	}
	m->console_name = "tty0";
	struct bl_cmdline words = BL_CMDLINE_INIT;
	bl_machine_cmdline(p, "tty0", &words);
	bl_cmdline_default(&words, "bootlab.dev", "/dev/tty1");
	bl_cmdline_default(&words, "bootlab.exit", "poweroff");
	unsigned long lpj = bl_cmdline_has(&words, "lpj") ? 0 : host_lpj();
	if (lpj) {
		char v[32];
		snprintf(v, sizeof(v), "%lu", lpj);
		bl_cmdline_add(&words, "lpj", v);
	}
	m->full_cmdline = bl_cmdline_str(&words);
	/* UML takes the command line as separate words */
	for (size_t i = 0; i < words.n; i++)
		sl_push(&av, words.w[i].text);
	bl_cmdline_release(&words);
	for (size_t i = 0; p->extra_args && p->extra_args[i]; i++)
		sl_push(&av, p->extra_args[i]);

	/* UML's kernel and its guest processes take turns (ptrace), never run
	 * at once: on one CPU each hand-over is a local switch. Spread over
	 * two, each guest system call costs ~3x more (a cross-CPU wake-up,
	 * dear in a VM): ~0.1 ms instead of ~0.035 (docs/machines.md) */
	m->cpu_pin = bl_machine_pick_cpu();
	int rc = bl_machine_spawn_channels(m, sl_argv(&av), false);
	sl_release(&av);
	return rc;
}

const struct bl_backend bl_backend_uml = {
    .name = "uml",
    .start = uml_start,
    .exits_when_off = true,
};
