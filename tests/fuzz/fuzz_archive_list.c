/* libFuzzer: the gen_init_cpio list parser, then rendering what it accepted
 * and reading the result back (it must always parse). */
#include "archive/archive.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	struct bl_archive *a = bl_archive_new();
	if (bl_archive_add_list_buf(a, "fuzz", (const char *)data, size) == 0) {
		struct strbuf sb = STRBUF_INIT;
		if (bl_archive_render(a, 1, &sb) == 0) {
			struct bl_initrd rd;
			if (bl_initrd_parse(&rd, sb.buf, sb.len, 0))
				abort(); /* what we write, we must read */
			bl_initrd_release(&rd);
		}
		sb_release(&sb);
	}
	bl_archive_free(a);
	return 0;
}
