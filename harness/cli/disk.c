/* bootlab disk: build disk images from a JSON spec, outside a scenario.
 * For debugging layouts and for the tests that check the images with
 * mdadm, sfdisk and e2fsck. */
#include "cli/cli.h"
#include "disk/disk.h"
#include "scenario/scenario.h"
#include "util/util.h"

#include <getopt.h>
#include <libgen.h>
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

static int print_result(int r, json_t *sum, const char *file)
{
	if (r < 0) {
		if (file)
			fprintf(stderr, "bootlab: '%s': %s\n", file, bl_errmsg());
		else
			fprintf(stderr, "bootlab: %s\n", bl_errmsg());
		return bl_err_last_kind() == BL_EK_INFRA ? BL_EXIT_INFRA : BL_EXIT_USAGE;
	}
	json_dumpf(sum, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("\n");
	return BL_EXIT_OK;
}

/* a scenario's disks, as `bootlab run` would build them */
static int build_scenario(const char *file, const char *variant, const char *agent,
			  const char *cache, const char *outdir)
{
	struct bl_scenario_set set = {0};
	if (bl_scenario_load(file, NULL, &set) < 0) {
		fprintf(stderr, "bootlab: %s\n", bl_errmsg());
		return BL_EXIT_USAGE;
	}
	const struct bl_scenario *s = NULL;
	for (size_t i = 0; i < set.n && !s; i++)
		if (!variant || (set.v[i]->variant && !strcmp(set.v[i]->variant, variant)) ||
		    !strcmp(set.v[i]->name, variant))
			s = set.v[i];
	if (!s) {
		fprintf(stderr, "bootlab: '%s': no variant '%s'\n", file, variant ? variant : "");
		bl_scenario_set_release(&set);
		return BL_EXIT_USAGE;
	}
	char *fcopy = xstrdup(s->file);
	json_t *sum = json_object();
	struct bl_disk_opts opts = {.arrays = s->arrays,
				    .agent_path = agent ? agent : "/bin/sh",
				    .cache_dir = cache,
				    .summary = sum};
	struct bl_disk_image *imgs = NULL;
	size_t n = 0;
	int r = bl_disks_build(s->disks, s->ndisks, dirname(fcopy), outdir, &opts, &imgs, &n);
	const char *label = s->name;
	if (r < 0) {
		/* point at the YAML when the field is known */
		char field[256];
		const char *msg = bl_errmsg();
		size_t k = strcspn(msg, ":");
		if (k < sizeof(field) && msg[k] == ':') {
			memcpy(field, msg, k);
			field[k] = 0;
			const struct bl_srcpos *pos = bl_scenario_locate(s, field);
			if (pos) {
				bl_err_prefix("%s:%d:%d", pos->file, pos->line, pos->col);
				label = NULL;
			}
		}
	}
	int rc = print_result(r, sum, label);
	bl_disk_images_free(imgs, n);
	json_decref(sum);
	free(fcopy);
	bl_scenario_set_release(&set);
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
	while ((c = getopt_long(argc, argv, "a:c:o:h", lo, NULL)) != -1) {
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
	json_error_t je;
	json_t *root = json_load_file(file, 0, &je);
	if (!root) {
		fprintf(stderr, "bootlab: '%s':%d:%d: %s\n", file, je.line, je.column, je.text);
		return BL_EXIT_USAGE;
	}
	json_t *disks = json_object_get(root, "disks");
	if (!json_is_object(root) || !json_is_array(disks)) {
		fprintf(stderr, "bootlab: '%s': expected {\"disks\": [...], \"arrays\": [...]}\n",
			file);
		json_decref(root);
		return BL_EXIT_USAGE;
	}
	size_t n = json_array_size(disks);
	struct bl_disk_spec *specs = xcalloc(n ? n : 1, sizeof(*specs));
	int rc = BL_EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_array_get(disks, i);
		json_t *nm = json_object_get(d, "name");
		specs[i].name = json_is_string(nm) ? (char *)json_string_value(nm) : NULL;
		specs[i].layout = d;
		json_t *sz = json_object_get(d, "size");
		if (sz && bl_disk_parse_size(sz, &specs[i].size) < 0) {
			fprintf(stderr,
				"bootlab: '%s': disks[%zu].size: expected a size like 64M\n", file,
				i);
			rc = BL_EXIT_USAGE;
		}
	}
	char *fcopy = xstrdup(file);
	json_t *sum = json_object();
	struct bl_disk_opts opts = {.arrays = json_object_get(root, "arrays"),
				    .agent_path = agent,
				    .cache_dir = cache,
				    .summary = sum};
	struct bl_disk_image *imgs = NULL;
	size_t nimg = 0;
	if (rc == BL_EXIT_OK) {
		int r = bl_disks_build(specs, n, dirname(fcopy), outdir, &opts, &imgs, &nimg);
		rc = print_result(r, sum, file);
	}
	bl_disk_images_free(imgs, nimg);
	json_decref(sum);
	free(fcopy);
	free(specs);
	json_decref(root);
	return rc;
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
