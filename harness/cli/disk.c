/* bootlab disk: build disk images from a JSON spec, outside a scenario.
 * For debugging layouts and for the tests that check the images with
 * mdadm, sfdisk and e2fsck. */
#include "cli/cli.h"
#include "disk/disk.h"
#include "util/util.h"

#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bootlab disk build [--agent FILE] [--cache DIR] -o WORKDIR SPEC.json\n\n"
		"Build the disks of SPEC.json into WORKDIR/NAME.img and print what was built\n"
		"(sizes, partitions, md arrays with their UUIDs as mdadm prints them) as JSON.\n"
		"SPEC.json is {\"disks\": [...], \"arrays\": [...]} with the same fields as a\n"
		"scenario's disks: and arrays: (docs/disks.md). Relative paths are resolved\n"
		"against SPEC.json's folder. --agent is the file `agent: PATH` entries place.\n");
}

static int disk_build(int argc, char **argv)
{
	static const struct option lo[] = {{"agent", required_argument, 0, 'a'},
					   {"cache", required_argument, 0, 'c'},
					   {"output", required_argument, 0, 'o'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	const char *agent = NULL, *cache = NULL, *outdir = NULL;
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
		if (bl_disks_build(specs, n, dirname(fcopy), outdir, &opts, &imgs, &nimg) < 0) {
			fprintf(stderr, "bootlab: '%s': %s\n", file, bl_errmsg());
			rc = bl_err_last_kind() == BL_EK_INFRA ? BL_EXIT_INFRA : BL_EXIT_USAGE;
		} else {
			json_dumpf(sum, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
			printf("\n");
		}
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
