/* bootlab report merge DIR... -o OUT: the report folders of shards or
 * reruns read back (harness/report/read.c) and merged into one
 * (harness/report/merge.c); prints the summary line bootlab run prints. */
#include "cli/cli.h"
#include "report/report.h"
#include "session/session.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char report_usage[] =
    "usage: bootlab report merge [-o OUT] DIR...\n"
    "\n"
    "Merge the report folders (or report.json files) of the shards or reruns of\n"
    "one run into the new folder OUT (default reports/merged-<run-id>): one\n"
    "report.json, junit.xml and index.html, and every console log. A variant\n"
    "that appears in several inputs keeps each attempt once; one that passed on\n"
    "one attempt and not on another is flaky. The inputs must come from the same\n"
    "choice of variants (scenario files and --filter; --shard splits it).\n"
    "\n"
    "options:\n"
    "  -o, --output OUT   the merged folder (must not exist)\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 every variant passed (or is flaky), 1 some did not,\n"
    "2 bad usage or an input that is not a report of the same choice\n";

/* "bootlab report merge ARGS..." for the report */
static char *command_of(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "bootlab");
	for (int i = 0; i < argc; i++)
		sb_addf(&sb, " %s", argv[i]);
	return sb_detach(&sb, NULL);
}

static int merge_inputs(char **dirs, size_t n, const char *out, const char *command)
{
	struct bl_report_in *in = xcalloc(n + 1, sizeof(*in));
	int rc = BL_EXIT_USAGE;
	size_t nread = 0;
	for (; nread < n; nread++)
		if (bl_report_read(dirs[nread], &in[nread]) < 0) {
			fprintf(stderr, "bootlab report merge: %s\n", bl_errmsg());
			nread++;
			goto out;
		}
	struct bl_merged m;
	if (bl_report_merge(in, n, out, command, &m) < 0) {
		fprintf(stderr, "bootlab report merge: %s\n", bl_errmsg());
	} else {
		bl_run_print_summary(&m.run);
		rc = bl_run_status(&m.run, true);
	}
	bl_merge_release(&m);
out:
	for (size_t i = 0; i < nread; i++)
		bl_report_in_release(&in[i]);
	free(in);
	return rc;
}

static int cmd_merge(int argc, char **argv, char *command)
{
	const char *out = NULL;
	char **dirs = xcalloc((size_t)argc + 1, sizeof(*dirs));
	size_t n = 0;
	int rc = -1;
	for (int i = 1; i < argc && rc < 0; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(report_usage, stdout);
			rc = BL_EXIT_OK;
		} else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "bootlab report merge: %s needs a folder\n",
					argv[i]);
				rc = BL_EXIT_USAGE;
			} else {
				out = argv[++i];
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "bootlab report merge: unknown option '%s'\n", argv[i]);
			fputs(report_usage, stderr);
			rc = BL_EXIT_USAGE;
		} else {
			dirs[n++] = argv[i];
		}
	}
	if (rc < 0 && !n) {
		fprintf(stderr, "bootlab report merge: no report folder given\n");
		fputs(report_usage, stderr);
		rc = BL_EXIT_USAGE;
	}
	char *def = NULL;
	if (rc < 0 && !out) {
		char *id = bl_run_id_new();
		def = xasprintf("reports/merged-%s", id);
		free(id);
		bl_mkdir_p("reports", 0755);
		out = def;
	}
	char *dest = NULL;
	if (rc < 0) {
		/* "merged/" is the folder "merged": its temporary twin goes beside it */
		dest = xstrdup(out);
		for (size_t l = strlen(dest); l > 1 && dest[l - 1] == '/'; l--)
			dest[l - 1] = 0;
		rc = merge_inputs(dirs, n, dest, command);
	}
	free(dest);
	free(def);
	free(dirs);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(report_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? BL_EXIT_USAGE : BL_EXIT_OK;
	}
	if (strcmp(argv[1], "merge")) {
		fprintf(stderr, "bootlab report: unknown subcommand '%s' (merge)\n", argv[1]);
		return BL_EXIT_USAGE;
	}
	char *command = command_of(argc, argv);
	int rc = cmd_merge(argc - 1, argv + 1, command);
	free(command);
	return rc;
}
