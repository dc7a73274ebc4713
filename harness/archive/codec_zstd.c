/* zstd through libzstd. The kernel decodes one frame per call and needs a
 * window of at most 1 << ZSTD_WINDOWLOG_MAX. */
#include "archive.h"

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader, ZSTD_WINDOWLOG_MAX */
#include <zstd.h>

static int zstd_compress(const void *in, size_t n, int level, struct strbuf *out)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	if (!c)
		return bl_err("ZSTD_createCCtx failed");
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setPledgedSrcSize(c, n);
	size_t bound = ZSTD_compressBound(n);
	sb_grow(out, bound);
	size_t r = ZSTD_compress2(c, out->buf + out->len, bound, in, n);
	ZSTD_freeCCtx(c);
	if (ZSTD_isError(r))
		return bl_err("zstd: %s", ZSTD_getErrorName(r));
	out->len += r;
	out->buf[out->len] = 0;
	return 0;
}

static int zstd_decompress(const void *in, size_t n, struct bl_unpack *u, size_t *used)
{
	struct strbuf *out = &u->out;
	ZSTD_frameHeader fh;
	size_t r = ZSTD_getFrameHeader(&fh, in, n);
	if (ZSTD_isError(r))
		return bl_err("ZSTD-compressed data is corrupt (%s)", ZSTD_getErrorName(r));
	if (r > 0)
		return bl_err("ZSTD-compressed data is truncated");
	if (fh.windowSize > ((unsigned long long)1 << ZSTD_WINDOWLOG_MAX))
		return bl_err("ZSTD-compressed data has too large a window size");
	/* like the lzma/xz dictionary: do not trust the header with memory */
	if (fh.windowSize > ((unsigned long long)256 << 20))
		return bl_err(
		    "ZSTD-compressed data needs a %llu-byte window, over bootlab's 256 MiB "
		    "reading limit",
		    (unsigned long long)fh.windowSize);
	ZSTD_DStream *d = ZSTD_createDStream();
	if (!d)
		return bl_err("ZSTD_createDStream failed");
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, ZSTD_WINDOWLOG_MAX);
	ZSTD_inBuffer ib = {in, n, 0};
	for (;;) {
		sb_grow(out, 1 << 20);
		ZSTD_outBuffer ob = {out->buf + out->len, out->alloc - out->len - 1, 0};
		size_t pos_before = ib.pos;
		r = ZSTD_decompressStream(d, &ob, &ib);
		out->len += ob.pos;
		out->buf[out->len] = 0;
		if (ZSTD_isError(r)) {
			ZSTD_freeDStream(d);
			return bl_err("ZSTD-compressed data is corrupt (%s)", ZSTD_getErrorName(r));
		}
		if (bl_unpack_step(u)) {
			ZSTD_freeDStream(d);
			return -1;
		}
		if (r == 0)
			break; /* frame complete */
		if (ib.pos == ib.size && ob.pos < ob.size && pos_before == ib.pos) {
			ZSTD_freeDStream(d);
			return bl_err("ZSTD-compressed data is truncated");
		}
	}
	*used = ib.pos;
	ZSTD_freeDStream(d);
	return 0;
}

const struct bl_codec bl_codec_zstd = {
    .name = "zstd",
    .ext = ".zst",
    .magic = {0x28, 0xb5},
    .tool = "zstd",
    .default_level = 19,
    .multi_stream = 1,
    .compress = zstd_compress,
    .decompress = zstd_decompress,
};
