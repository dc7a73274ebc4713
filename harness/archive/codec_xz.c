/* xz through liblzma, always with the CRC32 check: the kernel's XZ decoder
 * (lib/xz/xz_dec_stream.c) accepts only check types None and CRC32. */
#include "archive.h"
#include <lzma.h>
#include <string.h>

#define CHUNK ((size_t)1 << 30)

int bl_xz_run(void *stream, const void *in, size_t n, struct strbuf *out, struct bl_unpack *u,
	      size_t *used)
{
	lzma_stream *s = stream;
	const uint8_t *ip = in;
	size_t left = n;
	int encode = !u;
	lzma_ret rc;
	if (u)
		out = &u->out;
	for (;;) {
		if (s->avail_in == 0 && left) {
			s->next_in = ip;
			s->avail_in = left > CHUNK ? CHUNK : left;
			ip += s->avail_in;
			left -= s->avail_in;
		}
		sb_grow(out, 1 << 20);
		size_t r = out->alloc - out->len - 1;
		s->avail_out = r > CHUNK ? CHUNK : r;
		s->next_out = (uint8_t *)out->buf + out->len;
		size_t before = s->avail_out;
		rc = lzma_code(s, encode && !left && !s->avail_in ? LZMA_FINISH : LZMA_RUN);
		out->len += before - s->avail_out;
		out->buf[out->len] = 0;
		if (u && bl_unpack_step(u)) {
			lzma_end(s);
			return -1;
		}
		if (rc == LZMA_STREAM_END)
			break;
		if (rc == LZMA_BUF_ERROR ||
		    (rc == LZMA_OK && !encode && !left && !s->avail_in && before == s->avail_out)) {
			lzma_end(s);
			return bl_err("unexpected EOF (truncated stream)");
		}
		if (rc == LZMA_MEMLIMIT_ERROR) {
			lzma_end(s);
			return bl_err("the dictionary needs more than 256 MiB");
		}
		if (rc != LZMA_OK) {
			lzma_end(s);
			return bl_err("%s-compressed data is corrupt (liblzma error %d)",
				      encode ? "encoding" : "XZ/LZMA", (int)rc);
		}
	}
	if (used)
		*used = (size_t)(ip - (const uint8_t *)in) - s->avail_in;
	lzma_end(s);
	return 0;
}

static int xz_compress(const void *in, size_t n, int level, struct strbuf *out)
{
	lzma_stream s = LZMA_STREAM_INIT;
	if (level < 0 || level > 9)
		return bl_err("level %d out of range 0-9", level);
	if (lzma_easy_encoder(&s, (uint32_t)level, LZMA_CHECK_CRC32) != LZMA_OK)
		return bl_err("lzma_easy_encoder failed");
	return bl_xz_run(&s, in, n, out, NULL, NULL);
}

static int xz_decompress(const void *in, size_t n, struct bl_unpack *u, size_t *used)
{
	const unsigned char *p = in;
	lzma_stream s = LZMA_STREAM_INIT;
	/* stream flags: byte 7 low nibble is the check type */
	if (n >= 12 && (p[7] & 0x0f) != LZMA_CHECK_NONE && (p[7] & 0x0f) != LZMA_CHECK_CRC32)
		return bl_err("Input was encoded with settings that are not supported by this XZ "
			      "decoder (check type %d; the kernel needs --check=crc32)",
			      p[7] & 0x0f);
	if (lzma_stream_decoder(&s, (uint64_t)256 << 20, 0) != LZMA_OK)
		return bl_err("lzma_stream_decoder failed");
	if (bl_xz_run(&s, in, n, NULL, u, used) == 0)
		return 0;
	/* the kernel's xz decoder words a truncated stream as corrupt */
	if (strstr(bl_errmsg(), "unexpected EOF"))
		return bl_err("XZ-compressed data is corrupt (truncated stream)");
	return -1;
}

const struct bl_codec bl_codec_xz = {
    .name = "xz",
    .ext = ".xz",
    .magic = {0xfd, 0x37},
    .tool = "xz",
    .default_level = 6,
    .multi_stream = 1,
    .compress = xz_compress,
    .decompress = xz_decompress,
};
