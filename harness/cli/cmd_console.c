/* bootlab console check: the kernel report classifier (harness/console)
 * over console logs from anywhere (docs/kernel-reports.md). */
#include "cli/cli.h"
#include "console/console.h"
#include "report/report.h"
#include "util/util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: bootlab console check [--json] [--fail-on CLASSES] [--allow CLASSES] FILE...\n\n"
    "Find the kernel's reports (WARNING, BUG, Oops, KASAN, lockdep, hung task, panic...)\n"
    "in console logs: bootlab's, a serial capture, dmesg output with or without printk\n"
    "times, a CI log (lines with a syslog 'kernel: ' prefix). Prints each report's\n"
    "class, title, time and first lines; --json prints one JSON array instead.\n"
    "CLASSES is a comma-separated list of classes, or all, default, none;\n"
    "by default every class fails but init (docs/kernel-reports.md).\n"
    "exit status: 0 no failing report, 1 a failing report, 2 bad usage or unreadable file\n";

struct check_opts {
	bool json;
	struct bl_kpolicy policy; /* the default with the --fail-on and --allow of kpo */
	struct bl_kpolicy_override kpo;
};

static void print_report(const char *file, const struct bl_kreport *r, bool fails)
{
	printf("%s:%zu: %s%s: %s", file, r->line, bl_kclass_name(r->cls), fails ? "" : " (allowed)",
	       r->title);
	if (r->guest_s >= 0)
		printf(" [%.6f]", r->guest_s);
	if (r->truncated)
		printf(" (truncated)");
	if (r->panicked)
		printf(" (the kernel panicked)");
	printf("\n");
	const char *b = r->body;
	for (int i = 0; i < 4 && b && *b; i++) {
		const char *nl = strchr(b, '\n');
		int n = nl ? (int)(nl - b) : (int)strlen(b);
		printf("    %.*s\n", n, b);
		b = nl ? nl + 1 : NULL;
	}
}

/* one file: its reports printed or added to ARRAY; failing ones counted */
static int check_file(const char *file, const struct check_opts *o, json_t *array, size_t *failing)
{
	char *data = NULL;
	size_t n = 0;
	if (bl_read_file(file, &data, &n) < 0) {
		fprintf(stderr, "bootlab console check: %s\n", bl_errmsg());
		return -1;
	}
	if (memchr(data, 0, n))
		for (size_t i = 0; i < n; i++)
			if (!data[i])
				data[i] = ' '; /* a NUL in a capture is not the end of the log */
	struct bl_kreport *r = NULL;
	size_t nr = 0;
	bl_kreports_from_text(data, &r, &nr);
	for (size_t i = 0; i < nr; i++) {
		bool fails = r[i].fails = bl_kpolicy_fails(&o->policy, r[i].cls);
		*failing += fails;
		if (array) {
			json_t *j = bl_kreport_json(&r[i]);
			json_object_set_new(j, "file", bl_json_text(file));
			json_array_append_new(array, j);
		} else {
			print_report(file, &r[i], fails);
		}
		bl_kreport_release(&r[i]);
	}
	free(r);
	free(data);
	return 0;
}

static int parse_opts(int argc, char **argv, struct check_opts *o)
{
	static const struct option lo[] = {{"json", no_argument, 0, 'j'},
					   {"fail-on", required_argument, 0, 'f'},
					   {"allow", required_argument, 0, 'a'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'j') {
			o->json = true;
		} else if (c == 'f' || c == 'a') {
			if (cli_kpolicy_option("console check", &o->kpo, c == 'a', optarg) < 0)
				return BL_EXIT_USAGE;
		} else if (c == 'h') {
			fputs(usage_text, stdout);
			return BL_EXIT_OK;
		} else {
			return cli_option_error("console check", c, argv, usage_text);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "bootlab console check: no console log given\n");
		return BL_EXIT_USAGE;
	}
	bl_kpolicy_override_apply(&o->kpo, &o->policy);
	return -1;
}

int cmd_console(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? BL_EXIT_USAGE : BL_EXIT_OK;
	}
	if (strcmp(argv[1], "check")) {
		fprintf(stderr, "bootlab console: unknown subcommand '%s'\n", argv[1]);
		fputs(usage_text, stderr);
		return BL_EXIT_USAGE;
	}
	struct check_opts o = {.policy = bl_kpolicy_default()};
	int rc = parse_opts(argc - 1, argv + 1, &o);
	if (rc >= 0)
		return rc;
	json_t *array = o.json ? json_array() : NULL;
	size_t failing = 0;
	int bad = 0;
	for (int i = optind + 1; i < argc; i++)
		bad |= check_file(argv[i], &o, array, &failing) < 0;
	if (array) {
		char *s = json_dumps(array, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s ? s : "[]");
		free(s);
		json_decref(array);
	}
	if (bad)
		return BL_EXIT_USAGE;
	return failing ? BL_EXIT_FAIL : BL_EXIT_OK;
}
