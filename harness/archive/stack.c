/* Stacking: segments are concatenated, each padded with zeros to a 4-byte
 * boundary. The kernel skips NULs between members, and a member after a
 * compressed one, or the first header after an uncompressed one, must start
 * 4-aligned (docs/kernel-behaviour.md section 1.2). */
#include "archive.h"

#include <stdlib.h>
#include <string.h>

/* 1 when DATA ends in an lz4 stream (or, unreadable, starts with one).
 * Inputs are not validated: scenarios stack broken segments on purpose.
 * Knowing the last segment means decompressing all of them (0.6 s for
 * Debian's 17 MB zstd image, which an observed gate stacks with the
 * observer's segment: docs/observe.md), so first a look that settles most
 * inputs in milliseconds: the reader takes a segment for lz4 only when it
 * starts with the legacy magic (02 21 4c 18) and falls back to the
 * input's first two bytes (02 21) when it cannot read it, so an input
 * that starts otherwise and holds the magic nowhere does not end in lz4. */
static int ends_in_lz4(const char *data, size_t len)
{
	static const char magic[4] = {0x02, 0x21, 0x4c, 0x18};
	const struct bl_codec *c = bl_codec_detect(data, len);
	int lz4_first = c && !strcmp(c->name, "lz4");
	if (!lz4_first && !memmem(data, len, magic, sizeof(magic)))
		return 0;
	struct bl_initrd rd;
	if (bl_initrd_parse(&rd, data, len, 0) < 0)
		return lz4_first;
	int last = rd.n_segments && !strcmp(rd.segments[rd.n_segments - 1].codec->name, "lz4");
	bl_initrd_release(&rd);
	return last;
}

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
		int lz4_last = i + 1 < n && ends_in_lz4(data, len);
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
