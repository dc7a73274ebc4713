/* bootlab disk: build disk images from a JSON spec or a scenario,
 * outside a boot. For debugging layouts and for the tests that check the
 * images with mdadm, sfdisk and e2fsck. */
#include "cli/cli.h"
#include "disk/disk.h"
#include "scenario/scenario.h"
#include "util/util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: bootlab disk build [--agent FILE] [--cache DIR] [--variant NAME]\n"
		   "                          -o WORKDIR SPEC.json|SCENARIO.yaml\n\n"
		   "Build the disks of SPEC.json, or of a scenario (its first variant, or the one\n"
		   "named), into WORKDIR/NAME.img and print what was built (sizes, partitions, md\n"
		   "arrays with their UUIDs as mdadm prints them) as JSON. SPEC.json is\n"
		   "{\"disks\": [...], \"arrays\": [...]} with the fields of a scenario's disks:\n"
		   "and arrays: (docs/disks.md); relative paths are resolved against its folder.\n"
		   "--agent is the file `agent: PATH` entries place (default: a stub script).\n");
}

/* S's disks, as `bootlab run` would build them; LABEL prefixes a message
 * that does not start with a position */
static int build(const struct bl_scenario *s, const char *agent, const char *cache,
		 const char *outdir, const char *label)
{
	json_t *sum = json_object();
	struct bl_disk_opts opts = {.agent_path = agent, .cache_dir = cache, .summary = sum};
	struct bl_disk_image *imgs = NULL;
	size_t n = 0;
	int r = bl_disks_build(&s->disks, outdir, &opts, &imgs, &n), rc = BL_EXIT_OK;
	if (r == BL_DISK_ERR_AT) {
		fprintf(stderr, "bootlab disk: %s\n", bl_errmsg());
	} else if (r < 0) {
		fprintf(stderr, "bootlab disk: '%s': %s\n", label, bl_errmsg());
	} else {
		json_dumpf(sum, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("\n");
	}
	if (r < 0)
		rc = bl_err_last_kind() == BL_EK_INFRA ? BL_EXIT_INFRA : BL_EXIT_USAGE;
	bl_disk_images_free(imgs, n);
	json_decref(sum);
	return rc;
}

/* a scenario's variant (the first, or the one named) */
static int build_scenario(const char *file, const char *variant, const char *agent,
			  const char *cache, const char *outdir)
{
	struct bl_scenario_set set = {0};
	if (bl_scenario_load(file, NULL, &set) < 0) {
		fprintf(stderr, "bootlab disk: %s\n", bl_errmsg());
		return BL_EXIT_USAGE;
	}
	const struct bl_scenario *s = NULL;
	for (size_t i = 0; i < set.n && !s; i++)
		if (!variant || (set.v[i]->variant && !strcmp(set.v[i]->variant, variant)) ||
		    !strcmp(set.v[i]->name, variant))
			s = set.v[i];
	int rc = BL_EXIT_USAGE;
	if (!s)
		fprintf(stderr, "bootlab disk: '%s': no variant '%s'\n", file,
			variant ? variant : "");
	else
		rc = build(s, agent ? agent : "/bin/sh", cache, outdir, s->name);
	bl_scenario_set_release(&set);
	return rc;
}

/* {"disks": [...], "arrays": [...]}, through the scenario loader */
static int build_spec(const char *file, const char *agent, const char *cache, const char *outdir)
{
	struct bl_scenario *s = bl_scenario_load_disks(file);
	if (!s) {
		fprintf(stderr, "bootlab disk: %s\n", bl_errmsg());
		return BL_EXIT_USAGE;
	}
	int rc = build(s, agent, cache, outdir, file);
	bl_scenario_free(s);
	return rc;
}

static int disk_build(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"agent", required_argument, 0, 'a'},  {"cache", required_argument, 0, 'c'},
	    {"output", required_argument, 0, 'o'}, {"variant", required_argument, 0, 'V'},
	    {"help", no_argument, 0, 'h'},	   {0, 0, 0, 0}};
	const char *agent = NULL, *cache = NULL, *outdir = NULL, *variant = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":a:c:o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			agent = optarg;
			break;
		case 'c':
			cache = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'V':
			variant = optarg;
			break;
		case 'h':
			usage(stdout);
			return BL_EXIT_OK;
		default:
			cli_option_error("disk build", c, argv, NULL);
			usage(stderr);
			return BL_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !outdir) {
		usage(stderr);
		return BL_EXIT_USAGE;
	}
	const char *file = argv[optind];
	size_t fl = strlen(file);
	if ((fl > 5 && !strcmp(file + fl - 5, ".yaml")) ||
	    (fl > 4 && !strcmp(file + fl - 4, ".yml")))
		return build_scenario(file, variant, agent, cache, outdir);
	return build_spec(file, agent, cache, outdir);
}

int cmd_disk(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "build"))
		return disk_build(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return BL_EXIT_OK;
	}
	usage(stderr);
	return BL_EXIT_USAGE;
}
