/* harness/archive: initramfs archives, the way the kernel reads them.
 *
 * Writing: a struct bl_archive is an ordered list of entries (from inline
 * data, host files, gen_init_cpio lists, host folders, existing archives)
 * written as one cpio newc archive, optionally compressed with one of the
 * codecs the kernel decompresses. Output is byte-compatible with the
 * kernel's usr/gen_init_cpio: inode numbers from 721, devmajor:devminor 3:1,
 * hard links share an inode with the data on the last link, 512-byte
 * padding after TRAILER!!!. Files are written atomically.
 *
 * Reading: bl_initrd_load() walks a (stacked) initrd like the kernel's
 * unpack_to_rootfs(): NUL skipping, 4-byte alignment, codec detection by
 * the first two bytes of each compressed segment. Errors name the segment
 * and the byte offset.
 *
 * Every function returns 0 or -1 after bl_err(). */
#ifndef BL_ARCHIVE_H
#define BL_ARCHIVE_H

#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

/* ---- building ---- */
struct bl_archive; /* ordered list of entries to write as one cpio newc archive */
struct bl_archive *bl_archive_new(void);
void bl_archive_free(struct bl_archive *a);
size_t bl_archive_count(const struct bl_archive *a);
/* paths are archive names; a leading '/' is stripped like gen_init_cpio does */
int bl_archive_add_dir(struct bl_archive *a, const char *path, unsigned mode, unsigned uid,
		       unsigned gid);
int bl_archive_add_file_data(struct bl_archive *a, const char *path, unsigned mode, unsigned uid,
			     unsigned gid, const void *data, size_t len);
/* the host file is stat()ed now (its mtime is kept) and read at write time */
int bl_archive_add_file_host(struct bl_archive *a, const char *path, unsigned mode, unsigned uid,
			     unsigned gid, const char *host_path);
/* same ino, nlink counted, data on last link */
int bl_archive_add_hardlink(struct bl_archive *a, const char *path, const char *existing_path);
int bl_archive_add_nod(struct bl_archive *a, const char *path, unsigned mode, unsigned uid,
		       unsigned gid, char type /* 'c','b' */, unsigned maj, unsigned min);
/* the body is target plus its NUL, as gen_init_cpio writes it */
int bl_archive_add_symlink(struct bl_archive *a, const char *path, const char *target,
			   unsigned mode, unsigned uid, unsigned gid);
int bl_archive_add_special(struct bl_archive *a, const char *path,
			   char type /* 'p' pipe, 's' sock */, unsigned mode, unsigned uid,
			   unsigned gid);
/* gen_init_cpio list: every directive, comments, blank lines, ${VAR} in
 * file locations; errors name 'file':line */
int bl_archive_add_list(struct bl_archive *a, const char *list_file);
int bl_archive_add_list_buf(struct bl_archive *a, const char *name, const char *text, size_t len);
/* a host folder: sorted (C locale), parents before children, the folder
 * itself omitted unless prefix is non-empty; hard links preserved. A host
 * uid equal to root_uid (gid to root_gid) becomes 0; -1 keeps ids as they
 * are, BL_ARCHIVE_SQUASH makes every id 0 */
#define BL_ARCHIVE_SQUASH (-2)
int bl_archive_add_tree(struct bl_archive *a, const char *host_dir, const char *prefix,
			int root_uid, int root_gid);
/* give the last entry its own mtime (a host mtime: clamped at write time) */
int bl_archive_set_mtime(struct bl_archive *a, uint32_t mtime);
/* every entry of an existing archive (any codec, stacked ok), in order */
int bl_archive_add_cpio(struct bl_archive *a, const char *cpio_file);
/* write one compressed segment; codec NULL/"none"/"gzip"/... optionally with
 * ":LEVEL" ("xz:9"); entries without their own mtime get mtime, and host
 * mtimes later than mtime are clamped to it (the SOURCE_DATE_EPOCH rule) */
int bl_archive_write(struct bl_archive *a, const char *out_path, const char *codec, uint32_t mtime);
/* the same segment's bytes appended to out, for a caller that stores them */
int bl_archive_bytes(struct bl_archive *a, const char *codec, uint32_t mtime, struct strbuf *out);

/* zcache.c: compressed segments by sha256(codec, level, bytes) in the
 * user's cache (BOOTLAB_NO_ZCACHE=1 turns it off). get: 0 and the bytes
 * appended to out on a hit, -1 on a miss, with *key (caller frees, may be
 * NULL) for put, which stores quietly and never fails the caller. */
int bl_zcache_get(const char *codec, int level, const char *raw, size_t len, struct strbuf *out,
		  char **key);
void bl_zcache_put(const char *key, const char *z, size_t len);
/* the uncompressed newc bytes (padded to 512) appended to out */
int bl_archive_render(struct bl_archive *a, uint32_t mtime, struct strbuf *out);
/* concatenate segments with the padding the kernel accepts (zeros to a
 * 4-byte boundary between inputs, a zero word after an lz4 stream); inputs
 * are not validated, so broken test segments stack as they are */
int bl_archive_stack(const char *const *inputs, size_t n, const char *out_path);

/* ---- codecs (one file per codec, codec.c holds the table) ---- */
/* Where a codec's decompress writes: it appends to out and calls
 * bl_unpack_step() after every step, which counts the new bytes against
 * max_out and, when drain is set, hands them on and empties out (so a
 * stream of any size passes through about one step's worth of memory). */
struct bl_unpack {
	struct strbuf out;
	uint64_t total;	  /* bytes produced so far */
	uint64_t max_out; /* more is an error: "unpacks to more than N bytes" and why */
	const char *why;  /* appended to that error: what the limit is and how to raise it */
	int (*drain)(void *ctx, const unsigned char *p, size_t n); /* NULL: keep in out */
	void *ctx;
	size_t mark; /* out.len after the last step */
};
int bl_unpack_step(struct bl_unpack *u);
struct bl_codec {
	const char *name;
	const char *ext;	/* ".gz" */
	unsigned char magic[2]; /* the bytes the kernel's decompress_method() checks */
	const char *tool;	/* the command-line tool, for tests and docs */
	int default_level;
	/* streams may follow each other: the kernel unpacks each as its own
	 * member and the tool reads them as one file, so large archives are
	 * compressed in parallel as independent streams cut at entry boundaries */
	int multi_stream;
	/* compress in[0..n) and append the stream to out */
	int (*compress)(const void *in, size_t n, int level, struct strbuf *out);
	/* decompress one stream at the start of in into u (bl_unpack_step()
	 * after every step), set *used to the compressed bytes consumed */
	int (*decompress)(const void *in, size_t n, struct bl_unpack *u, size_t *used);
};
/* for the codec files: run a liblzma stream (lzma_stream *) over in; encoding
 * appends to out (u NULL), decoding goes to u and sets *used; always
 * lzma_end()s it */
int bl_xz_run(void *lzma_stream, const void *in, size_t n, struct strbuf *out, struct bl_unpack *u,
	      size_t *used);
const struct bl_codec *bl_codec_find(const char *name);		   /* NULL with bl_err() */
const struct bl_codec *bl_codec_detect(const void *buf, size_t n); /* NULL when unknown */
const struct bl_codec *const *bl_codec_all(size_t *n);
/* "gzip:9" -> codec and level (the codec's default when no level) */
int bl_codec_parse(const char *spec, const struct bl_codec **codec, int *level);

/* ---- reading ---- */
struct bl_cpio_entry {
	char *name; /* as stored, without the NUL */
	uint32_t ino, mode, uid, gid, nlink, mtime, filesize;
	uint32_t devmajor, devminor, rdevmajor, rdevminor, check;
	int crc;		   /* magic 070702 */
	const unsigned char *data; /* the entry's own copy of its first `kept` data bytes */
	size_t kept;		   /* filesize, or fewer when a streaming read passed the rest */
	size_t segment;		   /* index into bl_initrd.segments */
	uint32_t archive;	   /* TRAILER!!! count before it: hard links never cross one */
	uint64_t offset;	   /* header offset inside the (decompressed) segment */
};
struct bl_segment {
	uint64_t offset;	      /* in the initrd file */
	uint64_t length;	      /* bytes of the initrd it covers */
	const struct bl_codec *codec; /* &bl_codec_none for plain cpio */
	uint64_t size;		      /* bytes it unpacks to */
	size_t first_entry, n_entries;
};
struct bl_initrd {
	struct bl_segment *segments;
	size_t n_segments, alloc_segments;
	struct bl_cpio_entry *entries; /* in kernel unpack order, trailers excluded */
	size_t n_entries, alloc_entries;
	char *warnings; /* newline-separated notes (skipped entries...) or NULL */
};
extern const struct bl_codec bl_codec_none;

/* How much a read may unpack (docs/archive.md, "Decompression bombs"). A
 * read that holds every entry's data (extract, build, a scenario's
 * cpio: source) may hold max_out bytes; a streaming read (keep set: list,
 * lint, cat) holds only the data keep() asks for, at most max_out bytes, and
 * may pass BL_STREAM_FACTOR times max_out through the decompressor. */
#define BL_UNPACK_FLOOR ((uint64_t)256 << 20)
#define BL_UNPACK_RATIO 64
#define BL_STREAM_FACTOR 16
/* the default max_out: the RAM size when given (a rootfs larger than the
 * guest's memory never unpacks there), else BL_UNPACK_RATIO times the
 * input, at least BL_UNPACK_FLOOR */
uint64_t bl_unpack_limit(uint64_t input_len, uint64_t ram_bytes);
#define BL_KEEP_PEEK 4 /* data bytes keep() sees (and a streaming read always holds) */
struct bl_read_opts {
	uint64_t max_out;   /* 0: bl_unpack_limit(input length, ram_bytes) */
	uint64_t ram_bytes; /* for that default; 0: unknown */
	const char *raise;  /* how the caller raises the limit ("--max-unpacked SIZE") */
	/* NULL holds every entry's data. Else the read streams: it holds a
	 * symlink's target, the first BL_KEEP_PEEK data bytes of every entry,
	 * and the whole data of the entries keep() returns non-zero for; head
	 * is the entry's first min(filesize, BL_KEEP_PEEK) bytes */
	int (*keep)(void *ctx, const struct bl_cpio_entry *e, const unsigned char *head, size_t n);
	void *ctx;
};
int bl_initrd_read(struct bl_initrd *rd, const void *buf, size_t len, const struct bl_read_opts *o);
int bl_initrd_read_file(struct bl_initrd *rd, const char *path, const struct bl_read_opts *o);
/* bl_initrd_read holding every entry; max_out 0: the default */
int bl_initrd_parse(struct bl_initrd *rd, const void *buf, size_t len, size_t max_out);
int bl_initrd_load(struct bl_initrd *rd, const char *path);
void bl_initrd_release(struct bl_initrd *rd);
/* the entry the kernel would leave for path (last one wins), or NULL */
const struct bl_cpio_entry *bl_initrd_lookup(const struct bl_initrd *rd, const char *path);
/* one hard-link group: the same archive, device, inode and file type */
int bl_cpio_same_group(const struct bl_cpio_entry *a, const struct bl_cpio_entry *b);
/* the bytes of a regular entry (*len: those held, see kept): for a hard
 * link without data, those of the link in its group that carries them */
const unsigned char *bl_initrd_content(const struct bl_initrd *rd, const struct bl_cpio_entry *e,
				       size_t *len);
/* a bl_read_opts keep for reading one path (cat): the entries named path
 * and the data link of their hard-link groups */
struct bl_keep_path {
	char *want;		      /* normalized */
	struct bl_cpio_entry *groups; /* archive, ino, devmajor, devminor of those named path */
	size_t n, alloc;
};
void bl_keep_path_init(struct bl_keep_path *k, const char *path);
void bl_keep_path_release(struct bl_keep_path *k);
int bl_keep_path(void *ctx, const struct bl_cpio_entry *e, const unsigned char *head, size_t n);
/* "/./a//b/" -> "a/b" (the root is ""); caller frees */
char *bl_archive_normalize(const char *name);
/* extract into dir (created); refuses anything that would land outside it,
 * and a hard link to anything but the file this extraction made for it */
int bl_initrd_extract(const struct bl_initrd *rd, const char *dir);
/* "drwxr-xr-x"-style type+mode string; buf of 11 bytes */
void bl_mode_string(uint32_t mode, char buf[11]);

/* ---- lint ---- */
enum bl_lint_severity { BL_LINT_INFO, BL_LINT_WARNING, BL_LINT_ERROR };
struct bl_lint_finding {
	enum bl_lint_severity severity;
	char *code; /* "no-init", "init-not-executable", ... */
	char *path; /* entry it concerns or NULL */
	char *message;
};
struct bl_lint {
	struct bl_lint_finding *v;
	size_t n, alloc;
};
struct bl_lint_opts {
	uint64_t ram_bytes; /* 0 skips the size check */
	/* the kernel's built-in archive, unpacked before rd, or NULL when the
	 * kernel is not known: what it provides makes findings moot */
	const struct bl_initrd *builtin;
};
int bl_lint_run(const struct bl_initrd *rd, const struct bl_lint_opts *o, struct bl_lint *out);
/* a bl_read_opts keep for lint: what it reads, ELF objects and scripts (by
 * their first bytes) and files up to 64 KiB (ld.so.conf and its includes) */
int bl_lint_keep(void *ctx, const struct bl_cpio_entry *e, const unsigned char *head, size_t n);
void bl_lint_release(struct bl_lint *l);
const char *bl_lint_severity_name(enum bl_lint_severity s);

#endif
