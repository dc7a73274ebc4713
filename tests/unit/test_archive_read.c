/* The stacked-initrd reader against the kernel's unpack_to_rootfs() rules
 * (docs/kernel-behaviour.md sections 1.1-1.3), one crafted buffer per rule. */
#include "archive/archive.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>

static struct strbuf newc(const char *name, const char *data, unsigned mode, int trailer)
{
	struct bl_archive *a = bl_archive_new();
	if (mode == 040755)
		bl_archive_add_dir(a, name, 0755, 0, 0);
	else
		bl_archive_add_file_data(a, name, 0644, 0, 0, data, strlen(data));
	struct strbuf sb = STRBUF_INIT;
	bl_archive_render(a, 1, &sb);
	bl_archive_free(a);
	if (!trailer) { /* cut TRAILER!!! and the padding: the first entry only */
		char *t = memmem(sb.buf, sb.len, "070701000000000", 15);
		if (t)
			sb.len = t - sb.buf;
	}
	return sb;
}

static void gz(struct strbuf *in, struct strbuf *out)
{
	const struct bl_codec *c = bl_codec_find("gzip");
	c->compress(in->buf, in->len, 6, out);
}

static int parse(struct strbuf *b, struct bl_initrd *rd)
{
	return bl_initrd_parse(rd, b->buf, b->len, 0);
}

#define EXPECT_ERR(buf, re, name)                                                                  \
	do {                                                                                       \
		struct bl_initrd rd_;                                                              \
		int rc_ = parse(buf, &rd_);                                                        \
		T_EQ_INT(rc_, -1, "%s: refused", name);                                            \
		T_OK(strstr(bl_errmsg(), re) != NULL, "%s: '%s' in: %s", name, re, bl_errmsg());   \
		if (!rc_)                                                                          \
			bl_initrd_release(&rd_);                                                   \
	} while (0)

int main(void)
{
	struct bl_initrd rd;

	/* no trailer: accepted (docs/kernel-behaviour.md section 1.1) */
	struct strbuf a = newc("f", "hello", 0100644, 0);
	T_EQ_INT(parse(&a, &rd), 0, "archive without a trailer is accepted");
	T_EQ_INT(rd.n_entries, 1, "one entry");
	T_EQ_STR(rd.entries[0].name, "f", "its name");
	bl_initrd_release(&rd);

	/* an empty file ends right after its name: it still gets its (empty)
	 * data, not NULL (fuzz_archive_extract found xstrndup(NULL) there) */
	struct strbuf em = newc("empty", "", 0100644, 1);
	T_EQ_INT(parse(&em, &rd), 0, "archive with an empty file");
	T_OK(rd.n_entries == 1 && rd.entries[0].data && rd.entries[0].kept == 0,
	     "the empty file's data is an empty string, not NULL");
	bl_initrd_release(&rd);
	sb_release(&em);

	/* zeros between entries (aligned), then another archive */
	struct strbuf b = STRBUF_INIT;
	sb_add(&b, a.buf, a.len);
	sb_add(&b, "\0\0\0\0\0\0\0\0", 8);
	struct strbuf t = newc("g", "x", 0100644, 1);
	sb_add(&b, t.buf, t.len);
	T_EQ_INT(parse(&b, &rd), 0, "zero padding between entries");
	T_EQ_INT(rd.n_entries, 2, "both entries");
	bl_initrd_release(&rd);

	/* cpio, 1 NUL, gzip: broken padding */
	struct strbuf z = STRBUF_INIT, c = STRBUF_INIT;
	gz(&t, &z);
	sb_add(&c, t.buf, t.len);
	sb_addc(&c, 0);
	sb_add(&c, z.buf, z.len);
	EXPECT_ERR(&c, "broken padding", "cpio+NUL+gzip");

	/* cpio then gzip directly (4-aligned): fine, two segments */
	sb_reset(&c);
	sb_add(&c, t.buf, t.len);
	sb_add(&c, z.buf, z.len);
	T_EQ_INT(parse(&c, &rd), 0, "cpio then gzip");
	T_EQ_INT(rd.n_segments, 2, "two segments");
	T_EQ_STR(rd.segments[1].codec->name, "gzip", "second is gzip");
	T_EQ_INT(rd.segments[1].offset, t.len, "at the cpio's end");
	bl_initrd_release(&rd);

	/* a gzip member ending mid-entry: junk at the end */
	struct strbuf half = STRBUF_INIT, hz = STRBUF_INIT;
	sb_add(&half, t.buf, 150);
	gz(&half, &hz);
	EXPECT_ERR(&hz, "junk at the end of compressed archive", "gzip ends mid-entry");

	/* non-cpio after a complete archive inside the stream: junk within */
	struct strbuf jw = STRBUF_INIT, jz = STRBUF_INIT;
	sb_add(&jw, t.buf, t.len);
	sb_adds(&jw, "JUNKJUNK");
	gz(&jw, &jz);
	EXPECT_ERR(&jz, "junk within compressed archive", "junk after an archive in a stream");

	/* the gzip trailer CRC is not checked, like lib/decompress_inflate.c */
	struct strbuf bad = STRBUF_INIT;
	sb_add(&bad, z.buf, z.len);
	bad.buf[bad.len - 8] ^= 0xff;
	T_EQ_INT(parse(&bad, &rd), 0, "bad gzip CRC accepted");
	bl_initrd_release(&rd);

	/* odc magic, unknown magic, 1f 9e */
	struct strbuf o = STRBUF_INIT;
	sb_adds(&o, "070707");
	sb_add(&o, t.buf + 6, t.len - 6);
	EXPECT_ERR(&o, "incorrect cpio method used: use -H newc option", "odc");
	struct strbuf u = STRBUF_INIT;
	sb_adds(&u, "PK\3\4 not an initrd");
	EXPECT_ERR(&u, "invalid magic at start of compressed archive", "zip file");
	struct strbuf g9 = STRBUF_INIT;
	sb_add(&g9, "\x1f\x9e\x08\0\0\0\0\0\0\3abcdefgh", 18);
	EXPECT_ERR(&g9, "not a gzip file", "1f 9e");

	/* 070702: data checksum checked */
	struct strbuf crc = STRBUF_INIT;
	sb_add(&crc, a.buf, a.len);
	memcpy(crc.buf, "070702", 6);
	EXPECT_ERR(&crc, "bad data checksum", "crc mismatch");
	unsigned sum = 'h' + 'e' + 'l' + 'l' + 'o';
	char hex[9];
	snprintf(hex, sizeof(hex), "%08X", sum);
	memcpy(crc.buf + 6 + 8 * 12, hex, 8);
	T_EQ_INT(parse(&crc, &rd), 0, "crc archive with the right sum");
	T_EQ_INT(rd.entries[0].crc, 1, "marked crc");
	bl_initrd_release(&rd);

	/* name without NUL: malformed archive */
	struct strbuf nn = STRBUF_INIT;
	sb_add(&nn, a.buf, a.len);
	nn.buf[110 + 1] = 'X'; /* namesize 2: "f\0" -> "fX" */
	EXPECT_ERR(&nn, "malformed archive", "name without nulterm");

	/* a dir header claiming 4 data bytes: skipped without reading its name,
	 * and the walk then lands 4 bytes into the trailer header */
	struct strbuf sk = newc("d", "", 040755, 1);
	memcpy(sk.buf + 6 + 8 * 6, "00000004", 8);
	EXPECT_ERR(&sk, "no cpio magic", "dir with data");

	/* truncated uncompressed archive: an error naming the offset */
	struct strbuf tr = STRBUF_INIT;
	sb_add(&tr, a.buf, a.len - 2);
	EXPECT_ERR(&tr, "truncated archive", "truncated cpio");

	/* hard links: content of a data-less link comes from its group */
	struct bl_archive *h = bl_archive_new();
	bl_archive_add_file_data(h, "x", 0644, 0, 0, "abc", 3);
	bl_archive_add_hardlink(h, "y", "x");
	struct strbuf hb = STRBUF_INIT;
	bl_archive_render(h, 1, &hb);
	bl_archive_free(h);
	T_EQ_INT(parse(&hb, &rd), 0, "hard links parse");
	size_t len;
	const unsigned char *d = bl_initrd_content(&rd, bl_initrd_lookup(&rd, "/x"), &len);
	T_OK(len == 3 && !memcmp(d, "abc", 3), "first link reads the data of the last");
	T_OK(bl_initrd_lookup(&rd, "./y") != NULL, "lookup normalizes ./");
	bl_initrd_release(&rd);

	struct strbuf *all[] = {&a,   &b, &t, &z,  &c,	 &half, &hz, &jw, &jz,
				&bad, &o, &u, &g9, &crc, &nn,	&sk, &tr, &hb};
	for (size_t i = 0; i < BL_ARRAY_SIZE(all); i++)
		sb_release(all[i]);
	return t_done();
}
