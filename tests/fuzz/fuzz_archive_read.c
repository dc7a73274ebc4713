/* libFuzzer: the stacked-initrd reader (every codec, the cpio walk) and lint
 * on whatever it accepts. Output is capped so a bomb can not exhaust RAM. */
#include "archive/archive.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bl_initrd rd;
	if (size > 1 << 20)
		return 0;
	if (bl_initrd_parse(&rd, data, size, 32u << 20) == 0) {
		struct bl_lint l = {0};
		struct bl_lint_opts o = {.ram_bytes = 1 << 20};
		bl_lint_run(&rd, &o, &l);
		for (size_t i = 0; i < rd.n_entries; i++) {
			size_t len;
			bl_initrd_content(&rd, &rd.entries[i], &len);
			bl_initrd_lookup(&rd, rd.entries[i].name);
		}
		bl_lint_release(&l);
		bl_initrd_release(&rd);
	}
	return 0;
}
