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
#define NONE ((size_t)-1)

struct walk {
	struct bl_initrd *rd;
	const struct bl_read_opts *o;
	uint64_t
	    max_out;	/* what the read may hold (and, streaming, a 16th of what it may unpack) */
	uint64_t held;	/* entry data held so far */
	uint64_t total; /* bytes the compressed members unpacked to so far */
	char *held_why, *stream_why; /* the limits, explained, for their errors */
	int started;		     /* the kernel's state is Reset after the first member */
	uint32_t archive;
	struct strbuf notes;
};

/* One member's bytes as they arrive (a whole uncompressed member at once, a
 * compressed one a decompressor step at a time), parsed like the state
 * machine of init/initramfs.c: header, name, data, then Reset. */
struct feed {
	struct walk *w;
	size_t si;
	int compressed, first, ended; /* ended: an uncompressed member stops */
	uint64_t base;		      /* the kernel's this_header at offset 0 (alignment) */
	uint64_t off;		      /* member offset of the next unparsed byte */
	struct strbuf hold;	      /* unparsed bytes: a header, name or head cut short */
	/* the entry whose data and padding are passing */
	uint64_t left, data_left, keep_left, h, need;
	size_t cur;	  /* its index in rd->entries, or NONE (skipped, the trailer) */
	const char *name; /* for errors, NULL when skipped */
	struct strbuf data;
	uint32_t sum;
	int sum_check;
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

static const char *where(const struct feed *f)
{
	return f->compressed ? "decompressed offset" : "offset";
}

static unsigned long long at_of(const struct feed *f, uint64_t at)
{
	return (unsigned long long)(f->base + at);
}

/* an entry the member ends inside: its header at h needs need bytes */
static int short_entry(const struct feed *f, const char *name, uint64_t h, uint64_t need,
		       uint64_t avail)
{
	const char *msg =
	    f->compressed ? "junk at the end of compressed archive" : "truncated archive";
	if (name)
		return bl_err("%s: entry '%s' at %s %llu needs %llu bytes, %llu left", msg, name,
			      where(f), at_of(f, h), (unsigned long long)need,
			      (unsigned long long)avail);
	return bl_err("%s: entry at %s %llu needs %llu bytes, %llu left", msg, where(f),
		      at_of(f, h), (unsigned long long)need, (unsigned long long)avail);
}

static int short_header(const struct feed *f, size_t n, uint64_t at)
{
	if (f->compressed)
		return bl_err("junk at the end of compressed archive (%zu bytes at %s %llu are "
			      "not a whole cpio header)",
			      n, where(f), at_of(f, at));
	return bl_err("truncated archive: %zu bytes at offset %llu are not a whole cpio header", n,
		      at_of(f, at));
}

/* whether the kernel skips the entry (with a note why) */
static int skipped(struct feed *f, const struct bl_cpio_entry *e, size_t namesize, uint64_t at)
{
	if (namesize == 0 || namesize > PATH_MAX_K)
		note(f->w, "segment %zu: entry at %s %llu skipped: name size %zu", f->si, where(f),
		     at_of(f, at), namesize);
	else if (S_ISLNK(e->mode) && e->filesize > PATH_MAX_K)
		note(f->w, "segment %zu: symlink at %s %llu skipped: target longer than PATH_MAX",
		     f->si, where(f), at_of(f, at));
	else if (!S_ISREG(e->mode) && !S_ISLNK(e->mode) && e->filesize)
		note(f->w, "segment %zu: entry at %s %llu skipped: non-regular file with data",
		     f->si, where(f), at_of(f, at));
	else
		return 0;
	return 1;
}

/* the data and padding of the entry at h (next bytes from h in all) */
static void start_pass(struct feed *f, uint64_t h, uint64_t next, size_t taken, const char *name)
{
	f->h = h;
	f->need = next;
	f->left = next - taken;
	f->name = name;
	f->data_left = f->keep_left = 0;
	f->sum_check = 0;
	f->sum = 0;
	f->cur = NONE;
}

/* how much of the data of e (head: its first bytes) the read holds */
static size_t to_keep(struct walk *w, const struct bl_cpio_entry *e, const unsigned char *head,
		      size_t n)
{
	if (!w->o->keep || S_ISLNK(e->mode) || w->o->keep(w->o->ctx, e, head, n))
		return e->filesize;
	return n;
}

/* e (header, name and head at d) into rd, its data to come */
static int record(struct feed *f, struct bl_cpio_entry *e, const unsigned char *d, size_t namesize,
		  size_t name_end)
{
	struct walk *w = f->w;
	struct bl_initrd *rd = w->rd;
	size_t head = e->filesize < BL_KEEP_PEEK ? e->filesize : BL_KEEP_PEEK;
	e->name = xstrndup((const char *)d + 110, namesize - 1);
	e->segment = f->si;
	e->archive = w->archive;
	f->keep_left = to_keep(w, e, d + name_end, head);
	w->held += f->keep_left;
	BL_GROW(rd->entries, rd->n_entries, rd->alloc_entries);
	rd->entries[rd->n_entries] = *e;
	f->cur = rd->n_entries++;
	rd->segments[f->si].n_entries++;
	f->name = e->name;
	f->data_left = e->filesize;
	f->sum_check = e->crc && S_ISREG(e->mode);
	if (w->o->keep && w->held > w->max_out)
		return bl_err("the entries read hold more than %llu bytes%s",
			      (unsigned long long)w->max_out, w->held_why);
	return 0;
}

/* the entry whose header starts at d[0] (member offset at): record it and
 * start passing its data; *taken stays 0 while d[0..n) is too short */
static int header(struct feed *f, const unsigned char *d, size_t n, uint64_t at, int final,
		  size_t *taken)
{
	if (n < 110)
		return final ? short_header(f, n, at) : 0;
	int crc = !memcmp(d, "070702", 6);
	if (!crc && !memcmp(d, "070707", 6))
		return bl_err("incorrect cpio method used: use -H newc option (odc header at "
			      "%s %llu)",
			      where(f), at_of(f, at));
	if (!crc && memcmp(d, "070701", 6))
		return bl_err("no cpio magic at %s %llu", where(f), at_of(f, at));
	struct bl_cpio_entry e = {0};
	uint32_t v[13];
	for (int i = 0; i < 13; i++)
		v[i] = hex8(d + 6 + 8 * i);
	e.ino = v[0], e.mode = v[1], e.uid = v[2], e.gid = v[3], e.nlink = v[4];
	e.mtime = v[5], e.filesize = v[6], e.devmajor = v[7], e.devminor = v[8];
	e.rdevmajor = v[9], e.rdevminor = v[10], e.check = v[12];
	e.crc = crc;
	e.offset = at;
	size_t namesize = v[11];
	uint64_t next = 110 + N_ALIGN((uint64_t)namesize) + e.filesize;
	next = ((f->base + at + next + 3) & ~(uint64_t)3) - (f->base + at);
	if (skipped(f, &e, namesize, at)) {
		start_pass(f, at, next, 110, NULL);
		*taken = 110;
		return 0;
	}
	size_t name_end = 110 + N_ALIGN(namesize);
	size_t head = e.filesize < BL_KEEP_PEEK ? e.filesize : BL_KEEP_PEEK;
	if (n < name_end + head) {
		if (!final)
			return 0;
		int named = 110 + namesize <= n && d[110 + namesize - 1] == 0;
		return short_entry(f, named ? (const char *)d + 110 : NULL, at, next, n);
	}
	if (d[110 + namesize - 1] != 0)
		return bl_err("malformed archive: name without nulterm at %s %llu", where(f),
			      at_of(f, at));
	*taken = name_end;
	start_pass(f, at, next, name_end, "TRAILER!!!");
	if (namesize == 11 && !memcmp(d + 110, "TRAILER!!!", 11)) {
		f->w->archive++;
		return 0;
	}
	return record(f, &e, d, namesize, name_end);
}

/* data and padding of the passing entry from d[0..n); the bytes taken */
static size_t pass(struct feed *f, const unsigned char *d, size_t n)
{
	size_t k = n < f->left ? n : (size_t)f->left;
	size_t dk = k < f->data_left ? k : (size_t)f->data_left;
	size_t kk = dk < f->keep_left ? dk : (size_t)f->keep_left;
	if (f->sum_check)
		for (size_t i = 0; i < dk; i++)
			f->sum += d[i];
	if (kk)
		sb_add(&f->data, d, kk);
	f->keep_left -= kk;
	f->data_left -= dk;
	f->left -= k;
	return k;
}

static int end_entry(struct feed *f)
{
	size_t cur = f->cur;
	f->cur = NONE;
	if (cur == NONE)
		return 0;
	struct bl_cpio_entry *e = &f->w->rd->entries[cur];
	e->kept = f->data.len;
	e->data =
	    f->data.len ? (unsigned char *)sb_detach(&f->data, NULL) : (const unsigned char *)"";
	if (f->sum_check && f->sum != e->check)
		return bl_err("bad data checksum for '%s' at %s %llu", e->name, where(f),
			      at_of(f, f->h));
	return 0;
}

/* Reset (do_reset()): zeros are eaten, the next byte must be 4-aligned */
static int reset(struct feed *f, const unsigned char *d, size_t n, size_t *pos)
{
	while (*pos < n && d[*pos] == 0)
		(*pos)++;
	if (*pos == n)
		return 0;
	uint64_t at = f->off + *pos;
	if ((f->base + at) & 3)
		return bl_err("broken padding at %s %llu", where(f), at_of(f, at));
	if (d[*pos] == '0')
		return 0;
	if (f->compressed)
		return bl_err("junk within compressed archive at %s %llu", where(f), at_of(f, at));
	f->ended = 1; /* the next member of the initrd */
	return 0;
}

/* as much of d[0..n) (at member offset f->off) as makes whole steps;
 * final: the member ends at n */
static int parse(struct feed *f, const unsigned char *d, size_t n, int final, size_t *used)
{
	size_t pos = 0;
	int rc = 0;
	while (!rc && !f->ended) {
		if (f->left || f->cur != NONE) { /* an empty entry ends at once */
			pos += pass(f, d + pos, n - pos);
			if (f->left)
				break;
			rc = end_entry(f);
			continue;
		}
		if (!f->first) {
			rc = reset(f, d, n, &pos);
			if (rc || pos == n || f->ended)
				break;
		}
		size_t taken = 0;
		rc = header(f, d + pos, n - pos, f->off + pos, final, &taken);
		if (rc || !taken)
			break;
		f->first = 0;
		pos += taken;
	}
	*used = pos;
	if (!rc && final && f->left)
		rc = short_entry(f, f->name, f->h, f->need, f->off + n - f->h);
	return rc;
}

static int feed(struct feed *f, const unsigned char *p, size_t n, int final)
{
	const unsigned char *d = p;
	size_t len = n, used = 0;
	if (f->hold.len) {
		sb_add(&f->hold, p, n);
		d = (const unsigned char *)f->hold.buf;
		len = f->hold.len;
	}
	int rc = parse(f, d, len, final, &used);
	f->off += used;
	if (d != p) {
		memmove(f->hold.buf, f->hold.buf + used, len - used);
		f->hold.len = len - used;
	} else if (!rc && !f->ended && !final) {
		sb_add(&f->hold, p + used, n - used);
	}
	return rc;
}

static int drain(void *ctx, const unsigned char *p, size_t n)
{
	return feed(ctx, p, n, 0);
}

static void feed_release(struct feed *f)
{
	sb_release(&f->hold);
	sb_release(&f->data);
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

/* the uncompressed member at file offset pos: the segment's length */
static int read_plain(struct walk *w, size_t si, const unsigned char *p, size_t len, size_t pos)
{
	struct feed f = {.w = w, .si = si, .first = !w->started, .base = pos, .cur = NONE};
	int rc = feed(&f, p + pos, len - pos, 1);
	feed_release(&f);
	w->rd->segments[si].length = w->rd->segments[si].size = f.off;
	if (rc)
		return bl_err_prefix("segment %zu (cpio at offset %zu)", si, pos);
	return 0;
}

static int read_compressed(struct walk *w, size_t si, const struct bl_codec *c,
			   const unsigned char *p, size_t n, uint64_t pos)
{
	struct feed f = {.w = w, .si = si, .compressed = 1, .first = !w->started, .cur = NONE};
	int streaming = w->o->keep != NULL;
	uint64_t max = !streaming				    ? w->max_out
		       : w->max_out > UINT64_MAX / BL_STREAM_FACTOR ? UINT64_MAX
								    : w->max_out * BL_STREAM_FACTOR;
	struct bl_unpack u = {.total = w->total,
			      .max_out = max,
			      .why = streaming ? w->stream_why : w->held_why,
			      .drain = drain,
			      .ctx = &f};
	size_t used = 0;
	int rc = c->decompress(p, n, &u, &used);
	if (!rc && used == 0)
		rc = bl_err("decompressor consumed nothing");
	if (!rc)
		rc = feed(&f, (const unsigned char *)"", 0, 1);
	feed_release(&f);
	sb_release(&u.out);
	w->rd->segments[si].size = u.total - w->total;
	w->rd->segments[si].length = used;
	w->total = u.total;
	if (rc)
		return bl_err_prefix("segment %zu (%s at offset %llu)", si, c->name,
				     (unsigned long long)pos);
	return 0;
}

uint64_t bl_unpack_limit(uint64_t input_len, uint64_t ram_bytes)
{
	if (ram_bytes)
		return ram_bytes;
	uint64_t l =
	    input_len > UINT64_MAX / BL_UNPACK_RATIO ? UINT64_MAX : input_len * BL_UNPACK_RATIO;
	return l > BL_UNPACK_FLOOR ? l : BL_UNPACK_FLOOR;
}

/* the limit of the read and its explanations */
static void set_limit(struct walk *w, size_t len)
{
	const struct bl_read_opts *o = w->o;
	struct strbuf sb = STRBUF_INIT;
	w->max_out = o->max_out ? o->max_out : bl_unpack_limit(len, o->ram_bytes);
	if (o->max_out)
		sb_adds(&sb, "the limit asked for");
	else if (o->ram_bytes)
		sb_adds(&sb, "the default limit: the RAM size");
	else
		sb_addf(&sb,
			"the default limit for a %zu-byte input: %d times its size, at least "
			"%llu MiB",
			len, BL_UNPACK_RATIO, (unsigned long long)(BL_UNPACK_FLOOR >> 20));
	if (o->raise)
		sb_addf(&sb, "; %s raises it", o->raise);
	w->held_why = xasprintf(" (%s)", sb.buf);
	w->stream_why = xasprintf(" (%d times %s)", BL_STREAM_FACTOR, sb.buf);
	sb_release(&sb);
}

int bl_initrd_read(struct bl_initrd *rd, const void *buf, size_t len, const struct bl_read_opts *o)
{
	static const struct bl_read_opts keep_all;
	const unsigned char *p = buf;
	struct walk w = {.rd = rd, .o = o ? o : &keep_all};
	size_t pos = 0;
	int rc = 0;

	memset(rd, 0, sizeof(*rd));
	set_limit(&w, len);
	while (pos < len && !rc) {
		size_t si = rd->n_segments;
		if (p[pos] == '0' && !(pos & 3)) {
			new_segment(rd, pos, &bl_codec_none);
			rc = read_plain(&w, si, p, len, pos);
		} else if (!p[pos]) {
			pos++;
			continue;
		} else {
			const struct bl_codec *c = bl_codec_detect(p + pos, len - pos);
			if (!c) {
				rc = bl_err("segment %zu at offset %zu: invalid magic at start of "
					    "compressed archive (bytes %02x %02x)",
					    si, pos, p[pos], pos + 1 < len ? p[pos + 1] : 0);
				break;
			}
			new_segment(rd, pos, c);
			rc = read_compressed(&w, si, c, p + pos, len - pos, pos);
		}
		w.started = 1;
		pos += rd->segments[si].length;
	}
	if (w.notes.len)
		rd->warnings = sb_detach(&w.notes, NULL);
	sb_release(&w.notes);
	free(w.held_why);
	free(w.stream_why);
	if (rc) {
		bl_initrd_release(rd);
		return -1;
	}
	return 0;
}

int bl_initrd_parse(struct bl_initrd *rd, const void *buf, size_t len, size_t max_out)
{
	struct bl_read_opts o = {.max_out = max_out};
	return bl_initrd_read(rd, buf, len, &o);
}

int bl_initrd_read_file(struct bl_initrd *rd, const char *path, const struct bl_read_opts *o)
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
	int rc = bl_initrd_read(rd, data, len, o);
	free(data);
	if (rc)
		return bl_err_prefix("'%s'", path);
	return 0;
}

int bl_initrd_load(struct bl_initrd *rd, const char *path)
{
	return bl_initrd_read_file(rd, path, NULL);
}

void bl_initrd_release(struct bl_initrd *rd)
{
	for (size_t i = 0; i < rd->n_entries; i++) {
		free(rd->entries[i].name);
		if (rd->entries[i].kept)
			free((void *)rd->entries[i].data);
	}
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

int bl_cpio_same_group(const struct bl_cpio_entry *a, const struct bl_cpio_entry *b)
{
	return a->archive == b->archive && a->ino == b->ino && a->devmajor == b->devmajor &&
	       a->devminor == b->devminor && !((a->mode ^ b->mode) & S_IFMT);
}

const unsigned char *bl_initrd_content(const struct bl_initrd *rd, const struct bl_cpio_entry *e,
				       size_t *len)
{
	*len = e->kept;
	if (e->filesize || e->nlink < 2 || !S_ISREG(e->mode))
		return e->data;
	/* data on the last link: look forward in the same archive */
	for (size_t i = (size_t)(e - rd->entries) + 1; i < rd->n_entries; i++) {
		const struct bl_cpio_entry *o = &rd->entries[i];
		if (o->archive != e->archive)
			break;
		if (bl_cpio_same_group(o, e) && o->filesize) {
			*len = o->kept;
			return o->data;
		}
	}
	return e->data;
}

void bl_keep_path_init(struct bl_keep_path *k, const char *path)
{
	memset(k, 0, sizeof(*k));
	k->want = bl_archive_normalize(path);
}

void bl_keep_path_release(struct bl_keep_path *k)
{
	free(k->want);
	free(k->groups);
	memset(k, 0, sizeof(*k));
}

int bl_keep_path(void *ctx, const struct bl_cpio_entry *e, const unsigned char *head, size_t n)
{
	struct bl_keep_path *k = ctx;
	(void)head, (void)n;
	char *name = bl_archive_normalize(e->name);
	int hit = !strcmp(name, k->want);
	free(name);
	if (hit && S_ISREG(e->mode) && e->nlink >= 2) {
		BL_GROW(k->groups, k->n, k->alloc);
		k->groups[k->n] = *e;
		k->groups[k->n++].name = NULL;
	}
	/* data on a later link: bl_initrd_content() reads it there */
	for (size_t i = 0; !hit && i < k->n && S_ISREG(e->mode) && e->filesize; i++)
		hit = bl_cpio_same_group(&k->groups[i], e);
	return hit;
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
