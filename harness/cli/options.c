/* What the subcommands share in reading their options: one message for an
 * option getopt_long() could not take, in the style of every command's
 * errors ("bootlab boot: option '--kernel' needs a value"), and the
 * kernel report policy options of run, gate and console check. */
#include "cli/cli.h"
#include "console/console.h"
#include "util/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_option_error(const char *cmd, int c, char **argv, const char *usage)
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";
	if (c == ':')
		fprintf(stderr, "bootlab %s: option '%s' needs a value\n", cmd, opt);
	else if (optopt && strncmp(opt, "--", 2))
		fprintf(stderr, "bootlab %s: unknown option '-%c'\n", cmd, optopt);
	else
		fprintf(stderr, "bootlab %s: unknown option '%s'\n", cmd, opt);
	if (usage)
		fputs(usage, stderr);
	return BL_EXIT_USAGE;
}

int cli_kpolicy_option(const char *cmd, struct bl_kpolicy_override *o, bool allow, const char *list)
{
	if (bl_kpolicy_override_add(o, list, allow) == 0)
		return 0;
	fprintf(stderr, "bootlab %s: --%s: %s\n", cmd, allow ? "allow" : "fail-on", bl_errmsg());
	return -1;
}

long cli_count(const char *cmd, const char *arg, long max, const char *opt)
{
	char *end;
	long n = strtol(arg, &end, 10);
	if (!*arg || *end || n < 1 || n > max)
		die("%s: %s takes a number from 1 to %ld, not '%s'", cmd, opt, max, arg);
	return n;
}
