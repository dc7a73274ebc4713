/* bootlab run: placeholder until the session loop lands (same commit series) */
#include "cli.h"
#include "util/util.h"

int cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "bootlab run: not built yet\n");
	return BL_EXIT_INFRA;
}
