/* --freeze[=T] and --dump-memory of boot, repro and run (docs/repro.md,
 * "Freezing a crashed guest"): the options into a struct bl_freeze_opts,
 * checked against the backend before anything boots; the session does
 * the freezing (harness/session/freeze.c). */
#include "cli/cli.h"
#include "session/session.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>

int cli_freeze_option(const char *cmd, struct bl_freeze_opts *f, int c, const char *arg)
{
	if (c == CLI_OPT_DUMP_MEMORY) {
		f->dump = true;
		return 0;
	}
	f->on = true;
	if (!arg)
		return 0;
	if (bl_parse_duration(arg, &f->hold_ms) < 0) {
		fprintf(stderr, "bootlab %s: --freeze: %s\n", cmd, bl_errmsg());
		return -1;
	}
	return 0;
}

int cli_freeze_check(const char *cmd, const struct bl_freeze_opts *f, const char *backend)
{
	if (bl_freeze_check(f, backend) == 0)
		return 0;
	fprintf(stderr, "bootlab %s: %s\n", cmd, bl_errmsg());
	return BL_EXIT_USAGE;
}

char *cli_freeze_dump_path(const char *dir, const char *cmd)
{
	char *id = bl_run_id_new();
	char *path = xasprintf("%s/%s-%s.core", dir, cmd, id);
	free(id);
	return path;
}
