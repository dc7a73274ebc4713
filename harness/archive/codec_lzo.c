/* lzo: the lzop file format around liblzo2's LZO1X, written here (header,
 * 256 KiB blocks with an Adler-32 of the uncompressed data, zero end mark)
 * and read the way lib/decompress_unlzo.c reads it (which skips exactly one
 * 4-byte checksum per block, so only F_ADLER32_D is ever set). */
#include "archive.h"

#include <lzo/lzo1x.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char lzop_magic[9] = {0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a};
#define LZO_BLOCK (256u * 1024u)
#define F_ADLER32_D 0x00000001u
#define F_H_FILTER 0x00000800u
#define F_OS_UNIX 0x03000000u
#define M_LZO1X_1 1
#define M_LZO1X_999 3

static void put_be32(struct strbuf *out, uint32_t v)
{
	unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
	sb_add(out, b, 4);
}

static void put_be16(struct strbuf *out, unsigned v)
{
	unsigned char b[2] = {v >> 8, v};
	sb_add(out, b, 2);
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static int lzo_compress(const void *in, size_t n, int level, struct strbuf *out)
{
	if (lzo_init() != LZO_E_OK)
		return bl_err("lzo_init failed");
	int hi = level >= 7;
	sb_add(out, lzop_magic, sizeof(lzop_magic));
	size_t hs = out->len;
	put_be16(out, 0x1030);		       /* lzop version */
	put_be16(out, lzo_version() & 0xffff); /* library version */
	put_be16(out, 0x0940);		       /* version needed to extract */
	sb_addc(out, hi ? M_LZO1X_999 : M_LZO1X_1);
	sb_addc(out, (char)(hi ? level : 1)); /* level */
	put_be32(out, F_ADLER32_D | F_OS_UNIX);
	put_be32(out, 0100644); /* mode */
	put_be32(out, 0);	/* mtime low */
	put_be32(out, 0);	/* mtime high */
	sb_addc(out, 0);	/* no file name */
	put_be32(out, lzo_adler32(1, (const lzo_bytep)out->buf + hs, out->len - hs));

	void *wrk = xmalloc(hi ? LZO1X_999_MEM_COMPRESS : LZO1X_1_MEM_COMPRESS);
	const unsigned char *ip = in;
	for (size_t off = 0; off < n; off += LZO_BLOCK) {
		lzo_uint len = n - off > LZO_BLOCK ? LZO_BLOCK : n - off;
		size_t cap = len + len / 16 + 64 + 3;
		sb_grow(out, 12 + cap);
		unsigned char *dst = (unsigned char *)out->buf + out->len + 12;
		lzo_uint dlen = cap;
		int r =
		    hi ? lzo1x_999_compress_level(ip + off, len, dst, &dlen, wrk, NULL, 0, 0, level)
		       : lzo1x_1_compress(ip + off, len, dst, &dlen, wrk);
		if (r != LZO_E_OK) {
			free(wrk);
			return bl_err("lzo compression failed (%d)", r);
		}
		uint32_t sum = lzo_adler32(1, ip + off, len);
		if (dlen >= len) { /* stored: src_len == dst_len */
			memcpy(dst, ip + off, len);
			dlen = len;
		}
		/* the header goes before the data already in place (no sb_add: it
		 * would NUL-terminate over the data) */
		unsigned char *h = (unsigned char *)out->buf + out->len;
		const uint32_t f[3] = {(uint32_t)len, (uint32_t)dlen, sum};
		for (int i = 0; i < 3; i++)
			for (int b = 0; b < 4; b++)
				h[4 * i + b] = (unsigned char)(f[i] >> (24 - 8 * b));
		out->len += 12 + dlen;
		out->buf[out->len] = 0;
	}
	free(wrk);
	put_be32(out, 0); /* end of stream */
	return 0;
}

static int lzo_decompress(const void *in, size_t n, struct bl_unpack *u, size_t *used)
{
	const unsigned char *p = in, *end = p + n, *q = p;
	struct strbuf *out = &u->out;

	if (lzo_init() != LZO_E_OK)
		return bl_err("lzo_init failed");
	/* parse_header() of decompress_unlzo.c */
	if (n < 9 + 7 + 4 + 8 + 1 + 4 || memcmp(p, lzop_magic, 9))
		return bl_err("invalid header");
	q += 9;
	unsigned version = q[0] << 8 | q[1];
	q += 7;
	if (version >= 0x0940)
		q++;
	if (get_be32(q) & F_H_FILTER)
		q += 8;
	else
		q += 4;
	if (end - q < 8 + 1 + 4)
		return bl_err("invalid header");
	q += 8;
	if (version >= 0x0940)
		q += 4;
	if (end - q < 1)
		return bl_err("invalid header");
	unsigned l = *q++;
	if ((size_t)(end - q) < l + 4)
		return bl_err("invalid header");
	q += l + 4;

	for (;;) {
		if (end - q < 4)
			return bl_err("file corrupted (truncated at offset %zu)", (size_t)(q - p));
		uint32_t dst_len = get_be32(q);
		q += 4;
		if (dst_len == 0)
			break;
		if (dst_len > LZO_BLOCK)
			return bl_err("dest len longer than block size (offset %zu)",
				      (size_t)(q - p - 4));
		if (end - q < 8)
			return bl_err("file corrupted (truncated at offset %zu)", (size_t)(q - p));
		uint32_t src_len = get_be32(q);
		q += 8;
		if (src_len == 0 || src_len > dst_len)
			return bl_err("file corrupted (bad block at offset %zu)",
				      (size_t)(q - p - 12));
		if ((size_t)(end - q) < src_len)
			return bl_err("file corrupted (truncated at offset %zu)", (size_t)(q - p));
		sb_grow(out, dst_len);
		if (src_len == dst_len) {
			memcpy(out->buf + out->len, q, src_len);
		} else {
			lzo_uint got = dst_len;
			int r = lzo1x_decompress_safe(q, src_len, (lzo_bytep)out->buf + out->len,
						      &got, NULL);
			if (r != LZO_E_OK || got != dst_len)
				return bl_err("Compressed data violation (block at offset %zu)",
					      (size_t)(q - p - 12));
		}
		out->len += dst_len;
		out->buf[out->len] = 0;
		if (bl_unpack_step(u))
			return -1;
		q += src_len;
	}
	*used = (size_t)(q - p);
	return 0;
}

const struct bl_codec bl_codec_lzo = {
    .name = "lzo",
    .ext = ".lzo",
    .magic = {0x89, 0x4c},
    .tool = "lzop",
    .default_level = 9,
    .compress = lzo_compress,
    .decompress = lzo_decompress,
};
