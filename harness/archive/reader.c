/* The stacked-initrd reader: walks a buffer the way init/initramfs.c's
 * unpack_to_rootfs() does (docs/kernel-behaviour.md section 1.2): a '0' at
 * a 4-aligned offset starts an uncompressed cpio, NULs are skipped one by
 * one, anything else is a compressed member picked by its first two bytes.
 * Inside a stream every entry ends in the Reset state: zeros are eaten,
 * and the next non-zero byte must be 4-aligned. Where the kernel stays
 * silent on a truncated uncompressed archive this reader reports it,
 * naming segment and offset. */
#include "archive.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_MAX_K 4096
#define N_ALIGN(len) ((((len) + 1) & ~(size_t)3) + 2)

struct walk {
	struct bl_initrd *rd;
	size_t max_out, total_out;
	int started; /* the kernel's state is Reset after the first member */
	uint32_t archive;
	struct strbuf notes;
};

static uint32_t hex8(const unsigned char *p)
{
	/* simple_strtoul(buf, NULL, 16): stops at the first non-hex digit */
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		int c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		v = v << 4 | d;
	}
	return v;
}

static void note(struct walk *w, const char *fmt, ...) BL_PRINTF(2, 3);
static void note(struct walk *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&w->notes, fmt, ap);
	va_end(ap);
	sb_addc(&w->notes, '\n');
}

/* Parse newc entries of segment si from d[0..n). base: the kernel's
 * this_header at d[0] (for alignment). first: the kernel's state is Start
 * (else Reset). Stops at the end, or (uncompressed) at a non-'0' aligned
 * byte after an entry, setting *consumed. */
static int parse_stream(struct walk *w, size_t si, const unsigned char *d, size_t n, uint64_t base,
			int compressed, int first, size_t *consumed)
{
	struct bl_initrd *rd = w->rd;
	size_t pos = 0;
	const char *where = compressed ? "decompressed offset" : "offset";

	for (;;) {
		if (!first) { /* Reset: do_reset() */
			while (pos < n && d[pos] == 0)
				pos++;
			if (pos == n)
				break;
			if ((base + pos) & 3)
				return bl_err("broken padding at %s %llu", where,
					      (unsigned long long)(base + pos));
			if (d[pos] != '0') {
				if (compressed)
					return bl_err("junk within compressed archive at %s %zu",
						      where, pos);
				break; /* the next member of the initrd */
			}
		}
		first = 0;
		/* Start: a 110-byte header */
		size_t h = pos;
		if (n - pos < 110) {
			if (compressed)
				return bl_err(
				    "junk at the end of compressed archive (%zu bytes at %s "
				    "%zu are not a whole cpio header)",
				    n - pos, where, pos);
			return bl_err("truncated archive: %zu bytes at offset %llu are not a whole "
				      "cpio header",
				      n - pos, (unsigned long long)(base + pos));
		}
		const unsigned char *hp = d + h;
		int crc;
		if (!memcmp(hp, "070701", 6))
			crc = 0;
		else if (!memcmp(hp, "070702", 6))
			crc = 1;
		else if (!memcmp(hp, "070707", 6))
			return bl_err(
			    "incorrect cpio method used: use -H newc option (odc header at "
			    "%s %llu)",
			    where, (unsigned long long)(base + h));
		else
			return bl_err("no cpio magic at %s %llu", where,
				      (unsigned long long)(base + h));
		struct bl_cpio_entry e = {0};
		uint32_t f[13];
		for (int i = 0; i < 13; i++)
			f[i] = hex8(hp + 6 + 8 * i);
		e.ino = f[0], e.mode = f[1], e.uid = f[2], e.gid = f[3], e.nlink = f[4];
		e.mtime = f[5], e.filesize = f[6], e.devmajor = f[7], e.devminor = f[8];
		e.rdevmajor = f[9], e.rdevminor = f[10], e.check = f[12];
		e.crc = crc;
		size_t namesize = f[11];
		uint64_t next = (uint64_t)h + 110 + N_ALIGN((uint64_t)namesize) + e.filesize;
		next = ((base + next + 3) & ~(uint64_t)3) - base;
		size_t name_at = h + 110, data_at = h + 110 + N_ALIGN(namesize);
		int skip = 0;
		if (namesize == 0 || namesize > PATH_MAX_K) {
			note(w, "segment %zu: entry at %s %llu skipped: name size %zu", si, where,
			     (unsigned long long)(base + h), namesize);
			skip = 1;
		} else if (S_ISLNK(e.mode) && e.filesize > PATH_MAX_K) {
			note(w,
			     "segment %zu: symlink at %s %llu skipped: target longer than PATH_MAX",
			     si, where, (unsigned long long)(base + h));
			skip = 1;
		} else if (!S_ISREG(e.mode) && !S_ISLNK(e.mode) && e.filesize) {
			note(w, "segment %zu: entry at %s %llu skipped: non-regular file with data",
			     si, where, (unsigned long long)(base + h));
			skip = 1;
		}
		if (next > n) {
			const char *msg = compressed ? "junk at the end of compressed archive"
						     : "truncated archive";
			if (!skip && name_at + namesize <= n && d[name_at + namesize - 1] == 0)
				return bl_err(
				    "%s: entry '%s' at %s %llu needs %llu bytes, %zu left", msg,
				    (const char *)d + name_at, where,
				    (unsigned long long)(base + h), (unsigned long long)(next - h),
				    n - h);
			return bl_err("%s: entry at %s %llu needs %llu bytes, %zu left", msg, where,
				      (unsigned long long)(base + h),
				      (unsigned long long)(next - h), n - h);
		}
		pos = (size_t)next;
		if (skip)
			continue;
		if (d[name_at + namesize - 1] != 0)
			return bl_err("malformed archive: name without nulterm at %s %llu", where,
				      (unsigned long long)(base + h));
		if (namesize == 11 && !memcmp(d + name_at, "TRAILER!!!", 11)) {
			w->archive++;
			continue;
		}
		if (crc && S_ISREG(e.mode)) {
			uint32_t sum = 0;
			for (size_t i = 0; i < e.filesize; i++)
				sum += d[data_at + i];
			if (sum != e.check)
				return bl_err("bad data checksum for '%s' at %s %llu",
					      (const char *)d + name_at, where,
					      (unsigned long long)(base + h));
		}
		e.name = xstrndup((const char *)d + name_at, namesize - 1);
		e.data = d + data_at; /* rebased once the segment owns its bytes */
		e.segment = si;
		e.archive = w->archive;
		e.offset = h;
		BL_GROW(rd->entries, rd->n_entries, rd->alloc_entries);
		rd->entries[rd->n_entries++] = e;
		rd->segments[si].n_entries++;
	}
	*consumed = pos;
	return 0;
}

static struct bl_segment *new_segment(struct bl_initrd *rd, uint64_t offset,
				      const struct bl_codec *c)
{
	BL_GROW(rd->segments, rd->n_segments, rd->alloc_segments);
	struct bl_segment *s = &rd->segments[rd->n_segments++];
	memset(s, 0, sizeof(*s));
	s->offset = offset;
	s->codec = c;
	s->first_entry = rd->n_entries;
	return s;
}

/* entries point into the walk's buffers; give each segment its own copy */
static void own_data(struct bl_initrd *rd, size_t si, const unsigned char *src, size_t len)
{
	struct bl_segment *s = &rd->segments[si];
	s->data = xmalloc(len ? len : 1);
	memcpy(s->data, src, len);
	s->size = len;
	for (size_t i = s->first_entry; i < s->first_entry + s->n_entries; i++)
		rd->entries[i].data = s->data + (rd->entries[i].data - src);
}

int bl_initrd_parse(struct bl_initrd *rd, const void *buf, size_t len, size_t max_out)
{
	const unsigned char *p = buf;
	struct walk w = {.rd = rd, .max_out = max_out ? max_out : (size_t)4 << 30};
	size_t pos = 0;
	int rc = 0;

	memset(rd, 0, sizeof(*rd));
	while (pos < len && !rc) {
		if (p[pos] == '0' && !(pos & 3)) {
			size_t si = rd->n_segments, used = 0;
			new_segment(rd, pos, &bl_codec_none);
			rc = parse_stream(&w, si, p + pos, len - pos, pos, 0, 1, &used);
			if (rc) {
				bl_err_prefix("segment %zu (cpio at offset %zu)", si, pos);
				break;
			}
			own_data(rd, si, p + pos, used);
			rd->segments[si].length = used;
			w.started = 1;
			pos += used;
			continue;
		}
		if (!p[pos]) {
			pos++;
			continue;
		}
		const struct bl_codec *c = bl_codec_detect(p + pos, len - pos);
		size_t si = rd->n_segments;
		if (!c) {
			rc = bl_err(
			    "segment %zu at offset %zu: invalid magic at start of compressed "
			    "archive (bytes %02x %02x)",
			    si, pos, p[pos], pos + 1 < len ? p[pos + 1] : 0);
			break;
		}
		new_segment(rd, pos, c);
		struct strbuf out = STRBUF_INIT;
		size_t used = 0;
		rc = c->decompress(p + pos, len - pos, &out, w.max_out - w.total_out, &used);
		if (!rc && used == 0)
			rc = bl_err("decompressor consumed nothing");
		if (!rc) {
			size_t consumed;
			w.total_out += out.len;
			rc = parse_stream(&w, si, (unsigned char *)out.buf, out.len, 0, 1,
					  !w.started, &consumed);
		}
		if (rc) {
			sb_release(&out);
			bl_err_prefix("segment %zu (%s at offset %zu)", si, c->name, pos);
			break;
		}
		/* hand the decompressed buffer to the segment without copying */
		struct bl_segment *s = &rd->segments[si];
		s->size = out.len;
		s->data = (unsigned char *)sb_detach(&out, NULL);
		s->length = used;
		w.started = 1;
		pos += used;
	}
	if (w.notes.len)
		rd->warnings = sb_detach(&w.notes, NULL);
	sb_release(&w.notes);
	if (rc) {
		/* entries of the failing segment point into freed memory */
		bl_initrd_release(rd);
		return -1;
	}
	return 0;
}

int bl_initrd_load(struct bl_initrd *rd, const char *path)
{
	char *data;
	size_t len;
	memset(rd, 0, sizeof(*rd));
	if (bl_read_file(path, &data, &len))
		return -1;
	if (!len) {
		free(data);
		return bl_err("'%s' is empty", path);
	}
	int rc = bl_initrd_parse(rd, data, len, 0);
	free(data);
	if (rc)
		return bl_err_prefix("'%s'", path);
	return 0;
}

void bl_initrd_release(struct bl_initrd *rd)
{
	for (size_t i = 0; i < rd->n_entries; i++)
		free(rd->entries[i].name);
	for (size_t i = 0; i < rd->n_segments; i++)
		free(rd->segments[i].data);
	free(rd->entries);
	free(rd->segments);
	free(rd->warnings);
	memset(rd, 0, sizeof(*rd));
}

char *bl_archive_normalize(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = name;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t n = e - p;
		if (n && !(n == 1 && p[0] == '.')) {
			if (sb.len)
				sb_addc(&sb, '/');
			sb_add(&sb, p, n);
		}
		p = e;
	}
	return sb.len ? sb_detach(&sb, NULL)
		      : (sb_release(&sb),
			 xstrdup("")); /* sb_detach leaves an empty buffer unterminated */
}

const struct bl_cpio_entry *bl_initrd_lookup(const struct bl_initrd *rd, const char *path)
{
	char *want = bl_archive_normalize(path);
	const struct bl_cpio_entry *hit = NULL;
	for (size_t i = rd->n_entries; i-- > 0 && !hit;) {
		char *n = bl_archive_normalize(rd->entries[i].name);
		if (!strcmp(n, want))
			hit = &rd->entries[i];
		free(n);
	}
	free(want);
	return hit;
}

const unsigned char *bl_initrd_content(const struct bl_initrd *rd, const struct bl_cpio_entry *e,
				       size_t *len)
{
	*len = e->filesize;
	if (e->filesize || e->nlink < 2 || !S_ISREG(e->mode))
		return e->data;
	/* data on the last link: look forward in the same archive */
	for (size_t i = (size_t)(e - rd->entries) + 1; i < rd->n_entries; i++) {
		const struct bl_cpio_entry *o = &rd->entries[i];
		if (o->archive != e->archive)
			break;
		if (o->ino == e->ino && o->devmajor == e->devmajor && o->devminor == e->devminor &&
		    S_ISREG(o->mode) && o->filesize) {
			*len = o->filesize;
			return o->data;
		}
	}
	return e->data;
}

void bl_mode_string(uint32_t mode, char buf[11])
{
	static const char rwx[] = "rwxrwxrwx";
	char t = '?';
	switch (mode & S_IFMT) {
	case S_IFREG:
		t = '-';
		break;
	case S_IFDIR:
		t = 'd';
		break;
	case S_IFLNK:
		t = 'l';
		break;
	case S_IFCHR:
		t = 'c';
		break;
	case S_IFBLK:
		t = 'b';
		break;
	case S_IFIFO:
		t = 'p';
		break;
	case S_IFSOCK:
		t = 's';
		break;
	}
	buf[0] = t;
	for (int i = 0; i < 9; i++)
		buf[1 + i] = mode & (0400 >> i) ? rwx[i] : '-';
	if (mode & S_ISUID)
		buf[3] = buf[3] == 'x' ? 's' : 'S';
	if (mode & S_ISGID)
		buf[6] = buf[6] == 'x' ? 's' : 'S';
	if (mode & S_ISVTX)
		buf[9] = buf[9] == 'x' ? 't' : 'T';
	buf[10] = 0;
}
