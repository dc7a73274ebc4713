/* lz4 legacy frame (what `lz4 -l` writes) through liblz4: magic 0x184C2102
 * then blocks of LE32 compressed size + data, each at most 8 MiB
 * uncompressed. Read like lib/decompress_unlz4.c: the stream has no end
 * mark and ends at the end of the buffer or at a zero block size, so a
 * stacked lz4 segment must be followed by zero padding (bl_archive_stack
 * adds it). */
#include "archive.h"

#include <lz4.h>
#include <lz4hc.h>
#include <string.h>

#define LZ4_LEGACY_MAGIC 0x184C2102u
#define LZ4_CHUNK (8u << 20)

static void put_le32(struct strbuf *out, uint32_t v)
{
	unsigned char b[4] = {v, v >> 8, v >> 16, v >> 24};
	sb_add(out, b, 4);
}

static uint32_t get_le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int lz4_compress(const void *in, size_t n, int level, struct strbuf *out)
{
	const char *ip = in;
	put_le32(out, LZ4_LEGACY_MAGIC);
	for (size_t off = 0; off < n; off += LZ4_CHUNK) {
		int len = (int)(n - off > LZ4_CHUNK ? LZ4_CHUNK : n - off);
		int bound = LZ4_compressBound(len);
		sb_grow(out, 4 + (size_t)bound);
		char *dst = out->buf + out->len + 4;
		int r = level >= 3 ? LZ4_compress_HC(ip + off, dst, len, bound, level)
				   : LZ4_compress_default(ip + off, dst, len, bound);
		if (r <= 0)
			return bl_err("LZ4 compression failed");
		unsigned char *h = (unsigned char *)out->buf + out->len;
		h[0] = r, h[1] = r >> 8, h[2] = r >> 16, h[3] = (uint32_t)r >> 24;
		out->len += 4 + r;
		out->buf[out->len] = 0;
	}
	return 0;
}

static int lz4_decompress(const void *in, size_t n, struct bl_unpack *u, size_t *used)
{
	const unsigned char *p = in;
	struct strbuf *out = &u->out;
	size_t pos = 4;
	if (n < 4 || get_le32(p) != LZ4_LEGACY_MAGIC)
		return bl_err(
		    "invalid header (not the lz4 legacy format the kernel reads; use lz4 -l)");
	while (n - pos >= 4) {
		uint32_t chunk = get_le32(p + pos);
		if (chunk == LZ4_LEGACY_MAGIC) {
			pos += 4;
			continue;
		}
		if (chunk == 0)
			break; /* end: the zero padding is left for the caller */
		pos += 4;
		sb_grow(out, LZ4_CHUNK);
		if (chunk > n - pos) {
			/* the kernel decodes the block anyway (reading past the end):
			 * a failed decode says "Decoding failed", else the size check
			 * after it says "data corrupted" */
			int r = LZ4_decompress_safe((const char *)p + pos, out->buf + out->len,
						    (int)(n - pos), LZ4_CHUNK);
			return bl_err("%s (block of %u bytes at offset %zu runs past the end)",
				      r < 0 ? "Decoding failed" : "data corrupted", chunk, pos - 4);
		}
		int r = LZ4_decompress_safe((const char *)p + pos, out->buf + out->len, (int)chunk,
					    LZ4_CHUNK);
		if (r < 0)
			return bl_err("Decoding failed (block at offset %zu)", pos - 4);
		out->len += r;
		out->buf[out->len] = 0;
		if (bl_unpack_step(u))
			return -1;
		pos += chunk;
	}
	*used = pos;
	return 0;
}

const struct bl_codec bl_codec_lz4 = {
    .name = "lz4",
    .ext = ".lz4",
    .magic = {0x02, 0x21},
    .tool = "lz4",
    .default_level = 9,
    .compress = lz4_compress,
    .decompress = lz4_decompress,
};
