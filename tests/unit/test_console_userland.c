/* harness/console/userland.c: the emergency-shell banners of the
 * initramfs generators and systemd's failed-unit lines, as they reached
 * bootlab's console (the status lines are bytes of real dracut boots,
 * colours and systemd's mid-line ellipsis included). */
#include "console/console.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>

static void banner(const char *line, bool want)
{
	T_OK(bl_console_shell_banner(line) == want, "%s: '%s'",
	     want ? "an emergency-shell banner" : "no banner", line);
}

static void failure(const char *line, const char *want)
{
	char *got = bl_console_unit_failure(line);
	T_OK(want ? got && !strcmp(got, want) : !got, "unit failure of '%.50s': '%s' (got '%s')",
	     line, want ? want : "(none)", got ? got : "(none)");
	free(got);
}

int main(void)
{
	banner("Entering emergency mode. Exit the shell to continue.", true);
	banner("You are in emergency mode. After logging in, type \"journalctl -xb\" to view",
	       true);
	banner("Dropping to debug shell.", true);
	banner("ALERT!  UUID=0badbad0-0000-4000-8000-000000000000 does not exist.  Dropping to a "
	       "shell!",
	       true);
	banner("BusyBox v1.35.0 (Debian 1:1.35.0-4+b3) built-in shell (ash)", true);
	banner("Begin: Mounting root file system ... done.", false);
	banner("[  OK  ] Reached target emergency.target - Emergency Mode.", false);
	banner("", false);

	failure("[\033[0;1;31m TIME \033[0m] Timed out waiting for device "
		"\033[0;1;\xe2\x80\xa6"
		"dbad0-0000-4000-8000-000000000000.",
		"Timed out waiting for device \xe2\x80\xa6"
		"dbad0-0000-4000-8000-000000000000.");
	failure("[\033[0;1;31mFAILED\033[0m] Failed to start \033[0;1;39m"
		"initrd-switch-root.service\033[0m - Switch Root.",
		"Failed to start initrd-switch-root.service - Switch Root.");
	failure("[FAILED] Failed to mount sysroot.mount - /sysroot.",
		"Failed to mount sysroot.mount - /sysroot.");
	failure("[\033[0;32m  OK  \033[0m] Mounted \033[0;1;39msysroot.mount\033[0m - /sysroot.",
		NULL);
	failure("echo [FAILED] in the middle of a line", NULL);
	failure("[FAILED]", NULL);		  /* a bare mark names no unit */
	failure("[\033[0;1;31mFAILED\033", NULL); /* cut inside an escape */
	return t_done();
}
