/* gzip through zlib. Reading follows lib/decompress_inflate.c: 1f 8b 08,
 * only FNAME is skipped, raw inflate, the 8-byte trailer is skipped
 * unchecked (a bad CRC is accepted, as the kernel does).
 * Writing uses libdeflate when its shared library is installed (loaded at
 * run time, so building never needs it): the same format, a smaller result
 * than zlib at a third of the CPU. BOOTLAB_GZIP=zlib forces zlib. */
#include "archive.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct libdeflate {
	void *(*alloc)(int level);
	size_t (*gzip)(void *c, const void *in, size_t n, void *out, size_t avail);
	size_t (*bound)(void *c, size_t n);
	void (*free)(void *c);
};

static struct libdeflate ld;
static int ld_ok;
static pthread_once_t ld_once = PTHREAD_ONCE_INIT;

static void ld_load(void)
{
	const char *force = getenv("BOOTLAB_GZIP");
	if (force && !strcmp(force, "zlib"))
		return;
	void *h = dlopen("libdeflate.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
	*(void **)&ld.alloc = dlsym(h, "libdeflate_alloc_compressor");
	*(void **)&ld.gzip = dlsym(h, "libdeflate_gzip_compress");
	*(void **)&ld.bound = dlsym(h, "libdeflate_gzip_compress_bound");
	*(void **)&ld.free = dlsym(h, "libdeflate_free_compressor");
	ld_ok = ld.alloc && ld.gzip && ld.bound && ld.free;
}

static int libdeflate_compress(const void *in, size_t n, int level, struct strbuf *out)
{
	void *c = ld.alloc(level);
	if (!c)
		return bl_err("libdeflate_alloc_compressor(%d) failed", level);
	size_t cap = ld.bound(c, n);
	sb_grow(out, cap);
	size_t r = ld.gzip(c, in, n, out->buf + out->len, cap);
	ld.free(c);
	if (!r)
		return bl_err("libdeflate_gzip_compress failed");
	out->len += r;
	out->buf[out->len] = 0;
	return 0;
}

static int gzip_compress(const void *in, size_t n, int level, struct strbuf *out)
{
	pthread_once(&ld_once, ld_load);
	if (ld_ok && level >= 1 && level <= 9)
		return libdeflate_compress(in, n, level, out);
	z_stream s = {0};
	if (deflateInit2(&s, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return bl_err("deflateInit2 failed");
	const unsigned char *ip = in;
	size_t left = n;
	int rc;
	for (;;) {
		if (s.avail_in == 0 && left) {
			s.next_in = (Bytef *)ip;
			s.avail_in = left > (1u << 30) ? (1u << 30) : (uInt)left;
			ip += s.avail_in;
			left -= s.avail_in;
		}
		sb_grow(out, 1 << 20);
		s.next_out = (Bytef *)out->buf + out->len;
		s.avail_out =
		    (uInt)(out->alloc - out->len - 1 > (1u << 30) ? (1u << 30)
								  : out->alloc - out->len - 1);
		size_t before = s.avail_out;
		rc = deflate(&s, left || s.avail_in ? Z_NO_FLUSH : Z_FINISH);
		out->len += before - s.avail_out;
		if (rc == Z_STREAM_END)
			break;
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			deflateEnd(&s);
			return bl_err("deflate failed");
		}
	}
	out->buf[out->len] = 0;
	deflateEnd(&s);
	return 0;
}

static int gzip_decompress(const void *in, size_t n, struct bl_unpack *u, size_t *used)
{
	struct strbuf *out = &u->out;
	const unsigned char *p = in;
	size_t hdr = 10;
	if (n < 10 || p[0] != 0x1f || p[1] != 0x8b || p[2] != 0x08)
		return bl_err("not a gzip file");
	if (p[3] & 0x08) {
		while (hdr < n && p[hdr])
			hdr++;
		if (hdr >= n)
			return bl_err("header error");
		hdr++;
	}
	if (p[3] & 0x16)
		bl_debug("gzip: header flags 0x%02x the kernel does not skip", p[3]);

	z_stream s = {0};
	if (inflateInit2(&s, -MAX_WBITS) != Z_OK)
		return bl_err("inflateInit2 failed");
	s.next_in = (Bytef *)p + hdr;
	size_t left = n - hdr;
	int rc;
	for (;;) {
		if (s.avail_in == 0) {
			s.avail_in = left > (1u << 30) ? (1u << 30) : (uInt)left;
			left -= s.avail_in;
		}
		sb_grow(out, 1 << 20);
		s.next_out = (Bytef *)out->buf + out->len;
		s.avail_out =
		    (uInt)(out->alloc - out->len - 1 > (1u << 30) ? (1u << 30)
								  : out->alloc - out->len - 1);
		size_t before = s.avail_out;
		rc = inflate(&s, Z_NO_FLUSH);
		out->len += before - s.avail_out;
		out->buf[out->len] = 0;
		if (bl_unpack_step(u)) {
			inflateEnd(&s);
			return -1;
		}
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_BUF_ERROR && s.avail_in == 0 && left == 0) {
			inflateEnd(&s);
			return bl_err("read error (truncated gzip stream)");
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			inflateEnd(&s);
			return bl_err("uncompression error%s%s", s.msg ? ": " : "",
				      s.msg ? s.msg : "");
		}
	}
	size_t consumed = (const unsigned char *)s.next_in - p;
	inflateEnd(&s);
	if (consumed + 8 > n)
		return bl_err("truncated gzip trailer");
	*used = consumed + 8;
	return 0;
}

const struct bl_codec bl_codec_gzip = {
    .name = "gzip",
    .ext = ".gz",
    .magic = {0x1f, 0x8b},
    .tool = "gzip",
    .default_level = 6, /* within 1.5% of -9 on modules, 10x less CPU */
    .multi_stream = 1,
    .compress = gzip_compress,
    .decompress = gzip_decompress,
};
