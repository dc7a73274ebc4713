/* Stacking: segments are concatenated, each padded with zeros to a 4-byte
 * boundary. The kernel skips NULs between members, and a member after a
 * compressed one, or the first header after an uncompressed one, must start
 * 4-aligned (docs/kernel-behaviour.md section 1.2). */
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
		/* Inputs are not validated: scenarios stack broken segments on
		 * purpose. The reader only tells whether the input ends in an lz4
		 * stream (or, unreadable, starts with one). */
		struct bl_initrd rd;
		int lz4_last;
		if (bl_initrd_parse(&rd, data, len, 0) == 0) {
			lz4_last = rd.n_segments &&
				   !strcmp(rd.segments[rd.n_segments - 1].codec->name, "lz4");
			bl_initrd_release(&rd);
		} else {
			const struct bl_codec *c = bl_codec_detect(data, len);
			lz4_last = c && !strcmp(c->name, "lz4");
		}
		sb_add(&out, data, len);
		free(data);
		/* no padding after the last one: host tools (zstd -d) reject
		 * trailing zeros the kernel would skip */
		if ((out.len & 3) && i + 1 < n)
			sb_add(&out, zero, 4 - (out.len & 3));
		/* an lz4 legacy stream only ends at a zero block size */
		if (lz4_last && i + 1 < n)
			sb_add(&out, zero, 4);
	}
	rc = bl_write_file_atomic(out_path, out.buf, out.len, 0644);
out:
	sb_release(&out);
	return rc;
}
