/* libFuzzer: the disk spec loader (`bootlab disk build SPEC.json`:
 * bl_scenario_load_disks(), harness/scenario/disks.c checking names against
 * harness/disk's tables). The input is written to a spec file in a private
 * folder. Besides "no crash, no leak": a failure has a message starting
 * with the file's name, a success a plan whose disks are whole sectors. */
#include "scenario/scenario.h"
#include "util/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char dir[] = "/tmp/bl-fuzz-disk-spec.XXXXXX";
static char path[sizeof(dir) + 16];

static void cleanup(void)
{
	bl_rm_rf(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
		snprintf(path, sizeof(path), "%s/spec.json", dir);
	}
	if (size > 1 << 16 || bl_write_file(path, data, size, 0644))
		return 0;
	struct bl_scenario *s = bl_scenario_load_disks(path);
	if (!s) {
		if (strncmp(bl_errmsg(), path, strlen(path)))
			abort(); /* the error names the file */
		return 0;
	}
	for (size_t i = 0; i < s->disks.ndisks; i++)
		if (!s->disks.disks[i].size || s->disks.disks[i].size % 512)
			abort();
	bl_scenario_free(s);
	return 0;
}
