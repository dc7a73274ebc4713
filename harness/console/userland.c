/* The lines an initramfs prints when it gives up (console.h, "lines of the
 * guest's programs"). Each banner is quoted from the generator that
 * prints it. */
#include "console/console.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static const char *const shell_banners[] = {
    /* dracut's systemd initrd: dracut-emergency.sh */
    "Entering emergency mode. Exit the shell to continue.",
    /* systemd-sulogin-shell (emergency.service, rescue.service) */
    "You are in emergency mode.",
    "You are in rescue mode.",
    /* dracut without systemd: emergency_shell in dracut-lib.sh */
    "Dropping to debug shell.",
    /* initramfs-tools: scripts/local, a root device that never appeared */
    "does not exist.  Dropping to a shell!",
    /* busybox sh -i: initramfs-tools' panic() and hand-written /init
     * scripts that fall back to a shell */
    "built-in shell (ash)",
};

bool bl_console_shell_banner(const char *line)
{
	for (size_t i = 0; i < BL_ARRAY_SIZE(shell_banners); i++)
		if (strstr(line, shell_banners[i]))
			return true;
	return false;
}

/* LINE without its ECMA-48 CSI sequences: ESC [, parameter and
 * intermediate bytes (0x20-0x3f), a final byte (0x40-0x7e). A sequence
 * cut short (systemd shortens long status lines with an ellipsis in the
 * middle, escapes included) ends where a byte of another kind comes. */
static char *uncoloured(const char *line)
{
	char *out = xmalloc(strlen(line) + 1), *o = out;
	const unsigned char *p = (const unsigned char *)line;
	while (*p) {
		if (p[0] != '\033' || p[1] != '[') {
			*o++ = (char)*p++;
			continue;
		}
		p += 2;
		while (*p >= 0x20 && *p <= 0x3f)
			p++;
		if (*p >= 0x40 && *p <= 0x7e)
			p++;
	}
	*o = 0;
	return out;
}

char *bl_console_unit_failure(const char *line)
{
	if (!strchr(line, '['))
		return NULL;
	char *s = uncoloured(line);
	const char *p = s + strspn(s, " ");
	static const char *const marks[] = {"[FAILED] ", "[ TIME ] "};
	for (size_t i = 0; i < BL_ARRAY_SIZE(marks); i++)
		if (!strncmp(p, marks[i], strlen(marks[i]))) {
			char *r = xstrdup(p + strlen(marks[i]));
			free(s);
			return r;
		}
	free(s);
	return NULL;
}
