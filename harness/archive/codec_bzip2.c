/* bzip2 through libbz2 (lib/decompress_bunzip2.c reads one stream). */
#include "archive.h"

#include <bzlib.h>

#define CHUNK (1u << 30)

static unsigned room(struct strbuf *out)
{
	sb_grow(out, 1 << 20);
	size_t r = out->alloc - out->len - 1;
	return r > CHUNK ? CHUNK : (unsigned)r;
}

static int bz_compress(const void *in, size_t n, int level, struct strbuf *out)
{
	bz_stream s = {0};
	if (level < 1 || level > 9)
		return bl_err("level %d out of range 1-9", level);
	if (BZ2_bzCompressInit(&s, level, 0, 0) != BZ_OK)
		return bl_err("BZ2_bzCompressInit failed");
	const char *ip = in;
	size_t left = n;
	int rc;
	for (;;) {
		if (s.avail_in == 0 && left) {
			s.next_in = (char *)ip;
			s.avail_in = left > CHUNK ? CHUNK : (unsigned)left;
			ip += s.avail_in;
			left -= s.avail_in;
		}
		s.avail_out = room(out);
		s.next_out = out->buf + out->len;
		unsigned before = s.avail_out;
		rc = BZ2_bzCompress(&s, left || s.avail_in ? BZ_RUN : BZ_FINISH);
		out->len += before - s.avail_out;
		if (rc == BZ_STREAM_END)
			break;
		if (rc != BZ_RUN_OK && rc != BZ_FINISH_OK) {
			BZ2_bzCompressEnd(&s);
			return bl_err("BZ2_bzCompress failed (%d)", rc);
		}
	}
	out->buf[out->len] = 0;
	BZ2_bzCompressEnd(&s);
	return 0;
}

static int bz_decompress(const void *in, size_t n, struct bl_unpack *u, size_t *used)
{
	struct strbuf *out = &u->out;
	bz_stream s = {0};
	if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
		return bl_err("BZ2_bzDecompressInit failed");
	const char *ip = in;
	size_t left = n;
	int rc;
	for (;;) {
		if (s.avail_in == 0 && left) {
			s.next_in = (char *)ip;
			s.avail_in = left > CHUNK ? CHUNK : (unsigned)left;
			ip += s.avail_in;
			left -= s.avail_in;
		}
		s.avail_out = room(out);
		s.next_out = out->buf + out->len;
		unsigned before = s.avail_out, in_before = s.avail_in;
		rc = BZ2_bzDecompress(&s);
		out->len += before - s.avail_out;
		out->buf[out->len] = 0;
		if (bl_unpack_step(u)) {
			BZ2_bzDecompressEnd(&s);
			return -1;
		}
		if (rc == BZ_STREAM_END)
			break;
		if (rc != BZ_OK) {
			BZ2_bzDecompressEnd(&s);
			return bl_err("decompressor failed (bzip2 data error %d)", rc);
		}
		if (!left && !s.avail_in && before == s.avail_out && in_before == 0) {
			BZ2_bzDecompressEnd(&s);
			return bl_err("decompressor failed (truncated bzip2 stream)");
		}
	}
	*used = (size_t)(ip - (const char *)in) - s.avail_in;
	BZ2_bzDecompressEnd(&s);
	return 0;
}

const struct bl_codec bl_codec_bzip2 = {
    .name = "bzip2",
    .ext = ".bz2",
    .magic = {0x42, 0x5a},
    .tool = "bzip2",
    .default_level = 9,
    .multi_stream = 1,
    .compress = bz_compress,
    .decompress = bz_decompress,
};
