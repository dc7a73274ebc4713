/* .lzma "alone" files through liblzma (lib/decompress_unlzma.c: the
 * kernel's table only knows the first byte 0x5d, i.e. lc=3 lp=0 pb=2). */
#include "archive.h"
#include <lzma.h>

static int lzma_compress_alone(const void *in, size_t n, int level, struct strbuf *out)
{
	lzma_options_lzma opt;
	lzma_stream s = LZMA_STREAM_INIT;
	if (level < 0 || level > 9)
		return bl_err("level %d out of range 0-9", level);
	if (lzma_lzma_preset(&opt, (uint32_t)level))
		return bl_err("lzma preset %d failed", level);
	if (lzma_alone_encoder(&s, &opt) != LZMA_OK)
		return bl_err("lzma_alone_encoder failed");
	return bl_xz_run(&s, in, n, out, NULL, NULL);
}

static int lzma_decompress_alone(const void *in, size_t n, struct bl_unpack *u, size_t *used)
{
	lzma_stream s = LZMA_STREAM_INIT;
	const unsigned char *p = in;
	if (n < 13 || p[0] != 0x5d)
		return bl_err("not an lzma file the kernel reads (properties byte must be 0x5d)");
	/* the dictionary size comes from the header: cap what it may allocate */
	if (lzma_alone_decoder(&s, (uint64_t)256 << 20) != LZMA_OK)
		return bl_err("lzma_alone_decoder failed");
	return bl_xz_run(&s, in, n, NULL, u, used);
}

const struct bl_codec bl_codec_lzma = {
    .name = "lzma",
    .ext = ".lzma",
    .magic = {0x5d, 0x00},
    .tool = "lzma",
    .default_level = 6,
    .compress = lzma_compress_alone,
    .decompress = lzma_decompress_alone,
};
