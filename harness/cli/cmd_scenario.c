/* bootlab scenario: check scenario files without booting anything, and
 * show the plans bootlab makes of them (variants expanded). */
#include "cli/cli.h"
#include "scenario/scenario.h"
#include "util/util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: bootlab scenario check [--arch ARCH] [--backend NAME] FILE...\n"
    "       bootlab scenario show  [--arch ARCH] [--backend NAME] FILE...\n\n"
    "check  load and validate every FILE as `bootlab run` would (extends, matrix and\n"
    "       variants expanded, host files present) and print one line per file with\n"
    "       its variants; every bad file is reported as FILE:LINE:COLUMN: message\n"
    "show   print the plans as one JSON array, one object per variant\n\n"
    "--arch and --backend act as in `bootlab run` (docs/scenario-format.md).\n"
    "exit status: 0 all files are good, 2 a file is bad or the usage is wrong\n";

int cmd_scenario(int argc, char **argv)
{
	static const struct option lo[] = {{"arch", required_argument, 0, 'a'},
					   {"backend", required_argument, 0, 'b'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	struct bl_load_opts opts = {0};
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? BL_EXIT_USAGE : BL_EXIT_OK;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "check") && strcmp(sub, "show")) {
		fprintf(stderr, "bootlab scenario: unknown subcommand '%s'\n", sub);
		fputs(usage_text, stderr);
		return BL_EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			opts.arch = optarg;
			break;
		case 'b':
			opts.backend = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return BL_EXIT_OK;
		default:
			return cli_option_error(!strcmp(sub, "check") ? "scenario check"
								      : "scenario show",
						c, argv, usage_text);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "bootlab scenario %s: no scenario file given\n", sub);
		return BL_EXIT_USAGE;
	}
	struct bl_scenario_set set = {0};
	int bad = 0;
	for (int i = optind; i < argc; i++) {
		size_t before = set.n;
		if (bl_scenario_load(argv[i], &opts, &set) < 0) {
			fprintf(stderr, "%s\n", bl_errmsg());
			bad++;
			continue;
		}
		if (!strcmp(sub, "check")) {
			printf("%s: ok, %zu variant%s:", argv[i], set.n - before,
			       set.n - before == 1 ? "" : "s");
			for (size_t j = before; j < set.n; j++)
				printf(" %s", set.v[j]->name);
			printf("\n");
		}
	}
	if (!strcmp(sub, "show") && !bad) {
		json_t *a = json_array();
		for (size_t i = 0; i < set.n; i++)
			json_array_append_new(a, bl_scenario_to_json(set.v[i]));
		char *s = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s ? s : "[]");
		free(s);
		json_decref(a);
	}
	bl_scenario_set_release(&set);
	return bad ? BL_EXIT_USAGE : BL_EXIT_OK;
}
