/* Stacking: segments are concatenated, each padded with zeros to a 4-byte
 * boundary. The kernel skips NULs between members, and a member after a
 * compressed one, or the first header after an uncompressed one, must start
 * 4-aligned (kernel-facts 1.2). */
#include "archive.h"

#include <stdlib.h>
#include <string.h>

int bl_archive_stack(const char *const *inputs, size_t n, const char *out_path)
{
	struct strbuf out = STRBUF_INIT;
	static const char zero[4];
	int rc = -1;

	if (!n)
		return bl_err("nothing to stack");
	for (size_t i = 0; i < n; i++) {
		char *data;
		size_t len;
		if (bl_read_file(inputs[i], &data, &len))
			goto out;
		if (!len) {
			free(data);
			bl_err("'%s' is empty", inputs[i]);
			goto out;
		}
		sb_add(&out, data, len);
		free(data);
		if (out.len & 3)
			sb_add(&out, zero, 4 - (out.len & 3));
	}
	rc = bl_write_file_atomic(out_path, out.buf, out.len, 0644);
out:
	sb_release(&out);
	return rc;
}
