/* The codec table: magic bytes (what lib/decompress.c looks at) to codec. */
#include "archive.h"

#include <stdlib.h>
#include <string.h>

extern const struct bl_codec bl_codec_gzip, bl_codec_bzip2, bl_codec_lzma, bl_codec_xz,
    bl_codec_lzo, bl_codec_lz4, bl_codec_zstd;

static const struct bl_codec *const codecs[] = {
    &bl_codec_none, &bl_codec_gzip, &bl_codec_bzip2, &bl_codec_lzma,
    &bl_codec_xz,   &bl_codec_lzo,  &bl_codec_lz4,   &bl_codec_zstd,
};

const struct bl_codec *const *bl_codec_all(size_t *n)
{
	*n = BL_ARRAY_SIZE(codecs);
	return codecs;
}

const struct bl_codec *bl_codec_find(const char *name)
{
	if (!name || !*name)
		return &bl_codec_none;
	for (size_t i = 0; i < BL_ARRAY_SIZE(codecs); i++)
		if (!strcmp(codecs[i]->name, name))
			return codecs[i];
	if (!strcmp(name, "cat") || !strcmp(name, "cpio"))
		return &bl_codec_none;
	for (size_t i = 1; i < BL_ARRAY_SIZE(codecs); i++) /* "gz", "zst": the extension */
		if (!strcmp(codecs[i]->ext + 1, name))
			return codecs[i];
	bl_err("unknown codec '%s' (none, gzip, bzip2, lzma, xz, lzo, lz4, zstd)", name);
	return NULL;
}

const struct bl_codec *bl_codec_detect(const void *buf, size_t n)
{
	const unsigned char *p = buf;
	if (n < 2)
		return NULL;
	for (size_t i = 1; i < BL_ARRAY_SIZE(codecs); i++)
		if (p[0] == codecs[i]->magic[0] && p[1] == codecs[i]->magic[1])
			return codecs[i];
	/* lib/decompress.c also maps 1f 9e (old gzip) to gunzip */
	if (p[0] == 0x1f && p[1] == 0x9e)
		return &bl_codec_gzip;
	return NULL;
}

int bl_codec_parse(const char *spec, const struct bl_codec **codec, int *level)
{
	char name[32];
	const char *colon = spec ? strchr(spec, ':') : NULL;
	size_t n = colon ? (size_t)(colon - spec) : spec ? strlen(spec) : 0;

	if (n >= sizeof(name))
		return bl_err("unknown codec '%s'", spec);
	if (n)
		memcpy(name, spec, n);
	name[n] = 0;
	*codec = bl_codec_find(name);
	if (!*codec)
		return -1;
	*level = (*codec)->default_level;
	if (colon) {
		char *end;
		long l = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || l < 0 || l > 22)
			return bl_err("codec '%s': bad level '%s'", name, colon + 1);
		*level = (int)l;
	}
	return 0;
}

/* ---- none: the plain cpio is its own "stream" ---- */

static int none_compress(const void *in, size_t n, int level, struct strbuf *out)
{
	sb_add(out, in, n);
	return 0;
}

static int none_decompress(const void *in, size_t n, struct bl_unpack *u, size_t *used)
{
	sb_add(&u->out, in, n);
	*used = n;
	return bl_unpack_step(u);
}

int bl_unpack_step(struct bl_unpack *u)
{
	u->total += u->out.len - u->mark;
	u->mark = u->out.len;
	if (u->total > u->max_out)
		return bl_err("unpacks to more than %llu bytes%s", (unsigned long long)u->max_out,
			      u->why ? u->why : "");
	if (!u->drain || !u->out.len)
		return 0;
	int rc = u->drain(u->ctx, (const unsigned char *)u->out.buf, u->out.len);
	u->out.len = u->mark = 0;
	return rc;
}

const struct bl_codec bl_codec_none = {
    .name = "none",
    .ext = "",
    .magic = {'0', '7'},
    .tool = "cat",
    .default_level = 0,
    .compress = none_compress,
    .decompress = none_decompress,
};
