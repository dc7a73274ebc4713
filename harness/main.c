/* bootlab: command-line dispatch only. Each subcommand lives in
 * harness/cli/cmd_<name>.c and is registered by one line below. */
#include "cli/cli.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOOTLAB_VERSION "0.1.0"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
    {"run", cmd_run, "run scenario files, print verdicts, write reports"},
    {"boot", cmd_boot, "boot a kernel once with the console on this terminal"},
    {"repro", cmd_repro, "boot a variant of a run again from its repro folder"},
    {"compare", cmd_compare, "per-phase timing differences between two report.json files"},
    {"report", cmd_report, "merge the report folders of shards or reruns into one"},
    {"archive", cmd_archive, "build, stack, list, extract, cat and lint initramfs archives"},
    {"scenario", cmd_scenario, "check scenario files and show the plans made of them"},
    {"kernel", cmd_kernel, "build, fetch, list and inspect kernels (cached)"},
    {"disk", cmd_disk, "build disk images (partitions, md RAID, ext4) from a JSON spec"},
    {"console", cmd_console, "find the kernel's reports (WARNING, BUG, KASAN...) in console logs"},
    {"gate", cmd_gate, "CI gate: does a project's kernel + initramfs reach its root disk?"},
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bootlab [-v] COMMAND [ARGS...]\n\n"
		"bootlab boots Linux initramfs images under emulation and checks what they do.\n\n"
		"commands:\n");
	for (size_t i = 0; i < BL_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "  %-10s %s\n", "version", "print the version");
	fprintf(f, "\n'bootlab COMMAND --help' describes each command.\n"
		   "exit status: 0 all passed, 1 something failed, 2 bad usage or input,\n"
		   "3 infrastructure failure (no emulator, kernel build failed), 130\n"
		   "interrupted (Ctrl-C, SIGTERM)\n");
}

int main(int argc, char **argv)
{
	bl_start_ns = bl_now_ns();
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			bl_verbose++;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("bootlab %s\n", BOOTLAB_VERSION);
			return 0;
		} else {
			fprintf(stderr, "bootlab: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return BL_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return BL_EXIT_USAGE;
	}
	if (!strcmp(argv[i], "version")) {
		printf("bootlab %s\n", BOOTLAB_VERSION);
		return 0;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t c = 0; c < BL_ARRAY_SIZE(commands); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(argc - i, argv + i);
	fprintf(stderr, "bootlab: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return BL_EXIT_USAGE;
}
