/* Plan -> images: hash the input, reuse cached images, else build every
 * disk in a staging folder (tables, filesystems by mke2fs -d, md
 * superblocks), move them into the cache, copy them into the workdir. */
#include "archive/archive.h"
#include "layout.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define DISK_FORMAT "bootlab-disks-v1" /* bump when the bytes written change */
#define MKE2FS_TIMEOUT_MS 120000
#define DEFAULT_EPOCH 1704067200ULL /* 2024-01-01: images must not depend on the clock */

/* ---- sparse copies ---- */

static int copy_range(int in, int out, off_t off_in, off_t off_out, off_t len)
{
	while (len > 0) {
		loff_t a = off_in, b = off_out;
		ssize_t n = copy_file_range(in, &a, out, &b, (size_t)len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* no copy_file_range here (or across these files): plain copy */
			char buf[65536];
			ssize_t r = pread(
			    in, buf, len < (off_t)sizeof(buf) ? (size_t)len : sizeof(buf), off_in);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return bl_err_errno("cannot read");
			for (ssize_t done = 0; done < r;) {
				ssize_t w =
				    pwrite(out, buf + done, (size_t)(r - done), off_out + done);
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					return bl_err_errno("cannot write");
				done += w;
			}
			n = r;
		}
		off_in += n;
		off_out += n;
		len -= n;
	}
	return 0;
}

/* copy the data extents of IN (SIZE bytes) to OUT at AT */
static int copy_extents(int in, off_t size, int out, off_t at)
{
	off_t pos = 0;
	while (pos < size) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break;	     /* only a hole is left */
			if (errno == EINVAL) /* no SEEK_DATA: the whole rest */
				return copy_range(in, out, pos, at + pos, size - pos);
			return bl_err_errno("cannot seek");
		}
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0 || hole > size)
			hole = size;
		if (copy_range(in, out, data, at + data, hole - data) < 0)
			return -1;
		pos = hole;
	}
	return 0;
}

int bl_disk_copy_sparse(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return bl_err_errno("cannot open '%s'", src);
	struct stat st;
	if (fstat(in, &st) < 0) {
		close(in);
		return bl_err_errno("cannot stat '%s'", src);
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return bl_err_errno("cannot create '%s'", dst);
	}
	int r = 0;
	if (ioctl(out, FICLONE, in) < 0) {
		if (ftruncate(out, st.st_size) < 0)
			r = bl_err_errno("cannot size '%s'", dst);
		else if (copy_extents(in, st.st_size, out, 0) < 0)
			r = bl_err_prefix("cannot copy '%s' to '%s'", src, dst);
	}
	if (close(out) < 0 && !r)
		r = bl_err_errno("cannot write '%s'", dst);
	close(in);
	if (r)
		unlink(dst);
	return r;
}

/* ---- hashing the input ---- */

static int hash_tree(struct bl_sha256 *h, const char *dir, const char *rel)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return bl_err_errno("cannot read folder '%s'", dir);
	int r = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		if (r || !strcmp(nm, ".") || !strcmp(nm, "..")) {
			free(ents[i]);
			continue;
		}
		char *p = bl_path_join(dir, nm);
		char *rp = xasprintf("%s/%s", rel, nm);
		struct stat st;
		if (lstat(p, &st) < 0)
			r = bl_err_errno("cannot stat '%s'", p);
		else {
			char meta[160];
			snprintf(meta, sizeof(meta), "%o %u %u %llu %llu", st.st_mode, st.st_uid,
				 st.st_gid, (unsigned long long)st.st_size,
				 (unsigned long long)st.st_rdev);
			bl_sha256_update_str(h, rp);
			bl_sha256_update_str(h, meta);
			if (S_ISREG(st.st_mode))
				r = bl_sha256_update_file(h, p);
			else if (S_ISLNK(st.st_mode)) {
				char t[4096];
				ssize_t k = readlink(p, t, sizeof(t) - 1);
				t[k < 0 ? 0 : k] = 0;
				bl_sha256_update_str(h, t);
			} else if (S_ISDIR(st.st_mode))
				r = hash_tree(h, p, rp);
		}
		free(p);
		free(rp);
		free(ents[i]);
	}
	free(ents);
	return r;
}

static uint64_t epoch(void);

/* newc bytes of a cpio: or list: source */
static int render_list(const struct dk_fs *fs, struct strbuf *out)
{
	struct bl_archive *a = bl_archive_new();
	int r = fs->list ? bl_archive_add_list(a, fs->list) : bl_archive_add_cpio(a, fs->cpio);
	if (!r)
		r = bl_archive_render(a, (uint32_t)epoch(), out);
	bl_archive_free(a);
	if (r < 0)
		return bl_err_prefix("%s.%s", fs->field, fs->list ? "list" : "cpio");
	return 0;
}

/* unpack a cpio: or list: source into DIR, as the kernel would */
static int unpack_source(const struct dk_fs *fs, const char *dir)
{
	struct strbuf sb = STRBUF_INIT;
	struct bl_initrd rd = {0};
	int r = render_list(fs, &sb);
	if (!r && (bl_initrd_parse(&rd, sb.buf, sb.len, 0) < 0 || bl_initrd_extract(&rd, dir) < 0))
		r = bl_err_prefix("%s.%s", fs->field, fs->list ? "list" : "cpio");
	bl_initrd_release(&rd);
	sb_release(&sb);
	return r;
}

static int hash_fs(struct bl_sha256 *h, const struct dk_fs *fs)
{
	if (!fs) {
		bl_sha256_update_str(h, "-");
		return 0;
	}
	bl_sha256_update_str(h, fs->field);
	if (fs->tree && hash_tree(h, fs->tree, "") < 0)
		return -1;
	if (fs->cpio && bl_sha256_update_file(h, fs->cpio) < 0)
		return -1;
	if (fs->list) {
		/* the list names host files: hash what it renders to */
		struct strbuf sb = STRBUF_INIT;
		if (render_list(fs, &sb) < 0) {
			sb_release(&sb);
			return -1;
		}
		bl_sha256_update(h, sb.buf, sb.len);
		sb_release(&sb);
	}
	for (size_t i = 0; i < fs->nfiles; i++)
		if (fs->files[i].source && bl_sha256_update_file(h, fs->files[i].source) < 0)
			return -1;
	if (fs->agent_src && bl_sha256_update_file(h, fs->agent_src) < 0)
		return bl_err_prefix("%s.agent", fs->field);
	if (fs->image && bl_sha256_update_file(h, fs->image) < 0)
		return -1;
	return 0;
}

static void hash_json(struct bl_sha256 *h, const json_t *j)
{
	char *s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	bl_sha256_update_str(h, s ? s : "null");
	free(s);
}

static uint64_t epoch(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	if (s && *s) {
		char *end;
		unsigned long long v = strtoull(s, &end, 10);
		if (!*end)
			return v;
	}
	return DEFAULT_EPOCH;
}

static int plan_hash(const struct dk_plan *pl, const struct bl_disk_opts *opts, char out[65])
{
	struct bl_sha256 h;
	char t[32];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, DISK_FORMAT);
	snprintf(t, sizeof(t), "%llu", (unsigned long long)epoch());
	bl_sha256_update_str(&h, t);
	for (size_t i = 0; i < pl->ndisks; i++) {
		const struct bl_disk_spec *s = &pl->specs[i];
		char sz[64];
		snprintf(sz, sizeof(sz), "%llu %d", s->size, pl->disks[i].absent);
		bl_sha256_update_str(&h, s->name);
		bl_sha256_update_str(&h, sz);
		bl_sha256_update_str(&h, s->ptable ? s->ptable : "");
		hash_json(&h, s->layout);
	}
	hash_json(&h, opts ? opts->arrays : NULL);
	int r = 0;
	for (size_t i = 0; i < pl->ndisks && !r; i++) {
		r = hash_fs(&h, pl->disks[i].fs);
		for (size_t k = 0; k < pl->disks[i].nparts && !r; k++)
			r = hash_fs(&h, pl->disks[i].parts[k].fs);
	}
	for (size_t i = 0; i < pl->narrays && !r; i++)
		r = hash_fs(&h, pl->arrays[i].fs);
	bl_sha256_final_hex(&h, out);
	return r;
}

/* 16 bytes derived from the set hash and a tag */
static void derive16(const char *sethash, const char *tag, uint8_t out[16])
{
	struct bl_sha256 h;
	char hex[65];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, sethash);
	bl_sha256_update_str(&h, tag);
	bl_sha256_final_hex(&h, hex);
	for (int i = 0; i < 16; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static void uuid_text(const uint8_t u[16], char out[37])
{
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		o += sprintf(o, "%02x", u[i]);
	}
}

/* ---- filesystems ---- */

static int write_text(const char *path, const char *s, int mode)
{
	return bl_write_file_atomic(path, s, strlen(s), mode >= 0 ? (mode_t)mode : 0644);
}

static int stage_files(const struct dk_fs *fs, const char *dir)
{
	struct dk_file agent = {0};
	size_t n = fs->nfiles + (fs->agent_at ? 1 : 0);
	for (size_t i = 0; i < n; i++) {
		const struct dk_file *f = i < fs->nfiles ? &fs->files[i] : &agent;
		if (i == fs->nfiles) {
			agent.path = fs->agent_at;
			agent.source = fs->agent_src;
			agent.mode = 0755;
		}
		char *p = xasprintf("%s%s", dir, f->path);
		char *slash = strrchr(p, '/');
		*slash = 0;
		int r = bl_mkdir_p(p, 0755);
		*slash = '/';
		if (!r) {
			struct stat st;
			if (lstat(p, &st) == 0 && !f->dir)
				bl_rm_rf(p); /* files: replace what the tree had */
			if (f->dir)
				r = bl_mkdir_p(p, f->mode >= 0 ? (mode_t)f->mode : 0755);
			else if (f->symlink)
				r = symlink(f->symlink, p) < 0
					? bl_err_errno("cannot create symlink")
					: 0;
			else if (f->content)
				r = write_text(p, f->content, f->mode);
			else {
				r = bl_copy_file(f->source, p);
				if (!r && f->mode < 0 && stat(f->source, &st) == 0)
					chmod(p, st.st_mode & 07777);
			}
			if (!r && f->mode >= 0 && !f->symlink && chmod(p, (mode_t)f->mode) < 0)
				r = bl_err_errno("cannot chmod");
		}
		free(p);
		if (r < 0)
			return bl_err_prefix("%s%s (%s)", fs->field,
					     i < fs->nfiles ? ".files" : ".agent", f->path);
	}
	return 0;
}

/* debugfs commands that set every inode's times to the epoch: mke2fs -d
 * copies them (ctime included) from the staging folder, which would make
 * each build's bytes differ */
static void times_script(struct strbuf *cmd, const char *dir, const char *rel, uint64_t t)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	sb_addf(cmd, "sif \"%s\" atime @%llu\nsif \"%s\" mtime @%llu\nsif \"%s\" ctime @%llu\n",
		*rel ? rel : "/", (unsigned long long)t, *rel ? rel : "/", (unsigned long long)t,
		*rel ? rel : "/", (unsigned long long)t);
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		if (strcmp(nm, ".") && strcmp(nm, "..") && !strpbrk(nm, "\"\n\\")) {
			char *p = bl_path_join(dir, nm);
			char *rp = xasprintf("%s/%s", rel, nm);
			struct stat st;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				times_script(cmd, p, rp, t);
			else
				sb_addf(cmd,
					"sif \"%s\" atime @%llu\nsif \"%s\" mtime @%llu\n"
					"sif \"%s\" ctime @%llu\n",
					rp, (unsigned long long)t, rp, (unsigned long long)t, rp,
					(unsigned long long)t);
			free(p);
			free(rp);
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

static int normalise_times(const char *img, const char *src, const char *stage)
{
	struct strbuf cmd = STRBUF_INIT;
	uint64_t t = epoch();
	if (src)
		times_script(&cmd, src, "", t);
	else
		times_script(&cmd, "/nonexistent", "", t);
	sb_addf(&cmd,
		"sif /lost+found atime @%llu\nsif /lost+found mtime @%llu\n"
		"sif /lost+found ctime @%llu\n",
		(unsigned long long)t, (unsigned long long)t, (unsigned long long)t);
	char *cf = xasprintf("%s/debugfs.cmd", stage);
	int r = bl_write_file_atomic(cf, cmd.buf, cmd.len, 0644);
	sb_release(&cmd);
	if (!r) {
		char *argv[] = {"debugfs", "-w", "-f", cf, (char *)img, NULL};
		char *o = NULL;
		int status;
		r = bl_run(argv, MKE2FS_TIMEOUT_MS, &o, &status);
		if (!r && status)
			r = bl_err("debugfs failed (%s): %s", bl_describe_status(status),
				   o ? o : "");
		free(o);
	}
	unlink(cf);
	free(cf);
	return r;
}

/* Make FS as an image of at most ROOM bytes in STAGE; *IMG is the image to
 * place (caller frees), *LEN its size. */
static int make_fs(const struct dk_fs *fs, uint64_t room, const char *what, const char *stage,
		   const char *sethash, char **img, uint64_t *len)
{
	struct stat st;
	if (fs->image) {
		if (stat(fs->image, &st) < 0)
			return bl_err_errno("%s.image: cannot stat '%s'", fs->field, fs->image);
		if ((uint64_t)st.st_size > room)
			return bl_err("%s.image: '%s' (%llu KiB) is larger than the %s (%llu KiB)",
				      fs->field, fs->image, (unsigned long long)st.st_size >> 10,
				      what, (unsigned long long)room >> 10);
		*img = xstrdup(fs->image);
		*len = (uint64_t)st.st_size;
		return 0;
	}
	uint64_t size = fs->size ? fs->size : room;
	if (size > room)
		return bl_err("%s.size: %llu KiB is larger than the %s (%llu KiB)", fs->field,
			      (unsigned long long)size >> 10, what, (unsigned long long)room >> 10);
	size &= ~(uint64_t)4095;
	if (size < 256 * 1024)
		return bl_err("%s: the %s is too small for a filesystem (%llu KiB, need 256)",
			      fs->field, what, (unsigned long long)size >> 10);

	char *tag = xasprintf("fs:%s", fs->field);
	uint8_t u[16];
	char uuid[37];
	derive16(sethash, tag, u);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* a version-4 looking UUID */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	uuid_text(u, uuid);

	char *path = xasprintf("%s/%s.fs", stage, tag + 3);
	char *dir = NULL;
	const char *src = fs->tree;
	int r = -1;
	for (char *c = path + strlen(stage) + 1; *c; c++)
		if (*c == '/' || *c == '[' || *c == ']')
			*c = '_';
	if (fs->nfiles || fs->agent_at || fs->cpio || fs->list) {
		dir = xasprintf("%s.d", path);
		if (bl_mkdir_p(dir, 0755) < 0)
			goto out;
		if ((fs->cpio || fs->list) && unpack_source(fs, dir) < 0)
			goto out;
		if (fs->tree) {
			char *from = xasprintf("%s/.", fs->tree);
			char *argv[] = {"cp", "-a", from, dir, NULL};
			char *o = NULL;
			int status;
			int rr = bl_run(argv, MKE2FS_TIMEOUT_MS, &o, &status);
			free(from);
			if (rr < 0 || status) {
				if (!rr)
					bl_err("%s.tree: cannot copy '%s': %s", fs->field, fs->tree,
					       o ? o : "");
				free(o);
				goto out;
			}
			free(o);
		}
		if (stage_files(fs, dir) < 0)
			goto out;
		src = dir;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		bl_err_errno("cannot create '%s'", path);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);

	struct strlist av = STRLIST_INIT;
	sl_push(&av, "env");
	sl_pushf(&av, "E2FSPROGS_FAKE_TIME=%llu", (unsigned long long)epoch());
	sl_push(&av, "mke2fs");
	sl_push(&av, "-q");
	sl_push(&av, "-F");
	sl_push(&av, "-t");
	sl_push(&av, fs->type);
	sl_push(&av, "-U");
	sl_push(&av, uuid);
	sl_push(&av, "-E");
	sl_pushf(&av, "hash_seed=%s,root_owner=0:0", uuid);
	if (fs->label) {
		sl_push(&av, "-L");
		sl_push(&av, fs->label);
	}
	if (src) {
		sl_push(&av, "-d");
		sl_push(&av, src);
	}
	sl_push(&av, path);
	char *o = NULL;
	int status;
	int rr = bl_run(sl_argv(&av), MKE2FS_TIMEOUT_MS, &o, &status);
	sl_release(&av);
	if (rr < 0) {
		bl_err_kind(BL_EK_INFRA);
		bl_err_prefix("%s: mke2fs", fs->field);
	} else if (status) {
		/* keep the last line: mke2fs says why */
		char *msg = o ? o : xstrdup("");
		size_t l = strlen(msg);
		while (l && msg[l - 1] == '\n')
			msg[--l] = 0;
		char *last = strrchr(msg, '\n');
		last = last ? last + 1 : msg;
		if (!strncmp(last, "mke2fs: ", 8))
			last += 8;
		if (strstr(msg, "Could not allocate") || strstr(msg, "No free space") ||
		    strstr(msg, "Not enough space"))
			bl_err("%s: contents do not fit in %llu KiB (mke2fs: %s)", fs->field,
			       (unsigned long long)size >> 10, last);
		else
			bl_err("%s: mke2fs failed (%s): %s", fs->field, bl_describe_status(status),
			       last);
		o = msg;
	} else if (normalise_times(path, src, stage) < 0) {
		bl_err_prefix("%s", fs->field);
	} else {
		*img = path;
		path = NULL;
		*len = size;
		r = 0;
	}
	free(o);
out:
	if (dir)
		bl_rm_rf(dir);
	free(dir);
	free(path);
	free(tag);
	return r;
}

static int place(const char *img, int fd, uint64_t at)
{
	int in = open(img, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return bl_err_errno("cannot open '%s'", img);
	struct stat st;
	int r = fstat(in, &st) < 0 ? bl_err_errno("cannot stat '%s'", img)
				   : copy_extents(in, st.st_size, fd, (off_t)at);
	close(in);
	return r;
}

/* ---- building ---- */

struct built {
	int fd;
	char *path;
};

static int build_all(struct dk_plan *pl, const char *sethash, const char *stage, struct built *b)
{
	for (size_t i = 0; i < pl->ndisks; i++) {
		struct dk_disk *d = &pl->disks[i];
		b[i].path = xasprintf("%s/%s.img", stage, d->name);
		b[i].fd = open(b[i].path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (b[i].fd < 0 || ftruncate(b[i].fd, (off_t)d->size) < 0)
			return bl_err_errno("cannot create '%s'", b[i].path);
		if (d->table != DK_NONE) {
			struct bl_part_entry *pe = xcalloc(d->nparts, sizeof(*pe));
			for (size_t k = 0; k < d->nparts; k++) {
				char tag[128];
				pe[k].start = d->parts[k].start;
				pe[k].sectors = d->parts[k].sectors;
				pe[k].mbr_type = d->parts[k].mbr_type;
				pe[k].bootable = d->parts[k].bootable;
				memcpy(pe[k].gpt_type, d->parts[k].gpt_type, 16);
				snprintf(tag, sizeof(tag), "part:%s:%zu", d->name, k);
				derive16(sethash, tag, pe[k].gpt_guid);
				pe[k].name = d->parts[k].name;
			}
			uint8_t g[16];
			char tag[128];
			snprintf(tag, sizeof(tag), "disk:%s", d->name);
			derive16(sethash, tag, g);
			int r = d->table == DK_MBR
				    ? bl_ptable_write_mbr(b[i].fd, d->size / 512,
							  (uint32_t)g[0] | (uint32_t)g[1] << 8 |
							      (uint32_t)g[2] << 16 |
							      (uint32_t)g[3] << 24,
							  pe, d->nparts)
				    : bl_ptable_write_gpt(b[i].fd, d->size / 512, g, pe, d->nparts);
			free(pe);
			if (r < 0)
				return bl_err_prefix("%s", d->field);
		}
		for (size_t k = 0; k <= d->nparts; k++) {
			struct dk_fs *fs = k < d->nparts ? d->parts[k].fs : d->fs;
			if (!fs)
				continue;
			uint64_t at = k < d->nparts ? d->parts[k].start * 512 : 0;
			uint64_t room = k < d->nparts ? d->parts[k].sectors * 512 : d->size;
			char *img = NULL;
			uint64_t len;
			if (make_fs(fs, room, k < d->nparts ? "partition" : "disk", stage, sethash,
				    &img, &len) < 0)
				return -1;
			int r = place(img, b[i].fd, at);
			free(img);
			if (r < 0)
				return bl_err_prefix("%s", fs->field);
		}
	}
	for (size_t ai = 0; ai < pl->narrays; ai++) {
		struct dk_array *a = &pl->arrays[ai];
		char tag[160];
		snprintf(tag, sizeof(tag), "array:%s", a->name);
		derive16(sethash, tag, a->uuid);
		char *img = NULL;
		uint64_t len = 0;
		if (a->fs &&
		    make_fs(a->fs, a->array_sectors * 512, "array", stage, sethash, &img, &len) < 0)
			return -1;
		for (size_t k = 0; k < a->nmembers; k++) {
			struct dk_member *m = &a->members[k];
			int fd = b[m->disk].fd;
			if (img && place(img, fd, m->base + m->geom.data_offset * 512) < 0) {
				free(img);
				return bl_err_prefix("%s", m->field);
			}
			struct bl_md_params p = {0};
			p.meta = a->meta;
			memcpy(p.uuid, a->uuid, 16);
			snprintf(p.name, sizeof(p.name), "%s", a->name);
			p.md_minor = a->minor;
			p.raid_disks = a->raid_disks;
			p.index = m->index;
			p.dev_sectors = m->sectors;
			p.array_sectors = a->array_sectors;
			p.geom = m->geom;
			snprintf(tag, sizeof(tag), "member:%s:%d", a->name, m->index);
			derive16(sethash, tag, p.dev_uuid);
			p.time = epoch();
			if (bl_md_write_sb(fd, m->base, &p) < 0) {
				free(img);
				return bl_err_prefix("%s", m->field);
			}
			if (m->corrupt) {
				/* a damaged superblock: same place, deterministic junk */
				uint8_t junk[4096];
				for (size_t j = 0; j < sizeof(junk); j += 16)
					derive16(sethash, tag, junk + j), tag[0] ^= (char)(j / 16);
				if (pwrite(fd, junk, sizeof(junk),
					   (off_t)(m->base + m->geom.sb_offset * 512)) !=
				    (ssize_t)sizeof(junk)) {
					free(img);
					return bl_err_errno("%s: cannot corrupt", m->field);
				}
			}
		}
		free(img);
	}
	for (size_t i = 0; i < pl->ndisks; i++) {
		if (fsync(b[i].fd) < 0 || close(b[i].fd) < 0) {
			b[i].fd = -1;
			return bl_err_errno("cannot write '%s'", b[i].path);
		}
		b[i].fd = -1;
	}
	return 0;
}

static char *cache_path(const char *cdir, const char *sethash, const char *name)
{
	struct bl_sha256 h;
	char hex[65];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, sethash);
	bl_sha256_update_str(&h, name);
	bl_sha256_final_hex(&h, hex);
	return xasprintf("%s/%s.img", cdir, hex);
}

static json_t *summary(const struct dk_plan *pl, char **cached, const struct bl_disk_image *imgs)
{
	static const char *const tabs[] = {"none", "mbr", "gpt"};
	json_t *disks = json_array(), *arrays = json_array();
	for (size_t i = 0; i < pl->ndisks; i++) {
		const struct dk_disk *d = &pl->disks[i];
		json_t *parts = json_array();
		for (size_t k = 0; k < d->nparts; k++)
			json_array_append_new(parts,
					      json_pack("{s:I,s:I,s:i}", "start",
							(json_int_t)d->parts[k].start, "sectors",
							(json_int_t)d->parts[k].sectors, "mbr_type",
							d->parts[k].mbr_type));
		json_array_append_new(disks,
				      json_pack("{s:s,s:s,s:s,s:I,s:b,s:s,s:o}", "name", d->name,
						"path", imgs[i].path, "cache", cached[i], "size",
						(json_int_t)d->size, "absent", d->absent, "table",
						tabs[d->table], "partitions", parts));
	}
	for (size_t ai = 0; ai < pl->narrays; ai++) {
		const struct dk_array *a = &pl->arrays[ai];
		char u[40];
		bl_md_uuid_str(a->meta, a->uuid, u);
		json_t *mem = json_array();
		for (size_t k = 0; k < a->nmembers; k++) {
			const struct dk_member *m = &a->members[k];
			json_array_append_new(
			    mem, json_pack("{s:s,s:i,s:i,s:I,s:I,s:I,s:b}", "disk",
					   pl->disks[m->disk].name, "partition", m->part + 1,
					   "index", m->index, "offset", (json_int_t)m->base,
					   "sb_offset", (json_int_t)m->geom.sb_offset, "sectors",
					   (json_int_t)m->sectors, "corrupt", m->corrupt));
		}
		const char *meta = a->meta == BL_MD_090	 ? "0.90"
				   : a->meta == BL_MD_10 ? "1.0"
							 : "1.2";
		json_array_append_new(
		    arrays,
		    json_pack("{s:s,s:s,s:i,s:s,s:i,s:i,s:I,s:I,s:o}", "name", a->name, "metadata",
			      meta, "level", a->level, "uuid", u, "raid_disks", a->raid_disks,
			      "minor", a->minor, "size_kib", (json_int_t)(a->array_sectors / 2),
			      "data_offset", (json_int_t)a->data_offset, "members", mem));
	}
	return json_pack("{s:o,s:o}", "disks", disks, "arrays", arrays);
}

void bl_disk_images_free(struct bl_disk_image *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].path);
	}
	free(v);
}

int bl_disks_build(const struct bl_disk_spec *specs, size_t n, const char *scenario_dir,
		   const char *workdir, const struct bl_disk_opts *opts, struct bl_disk_image **out,
		   size_t *nout)
{
	struct dk_plan *pl = NULL;
	char sethash[65];
	char *cdir = NULL, *stage = NULL;
	char **cached = xcalloc(n ? n : 1, sizeof(char *));
	struct bl_disk_image *imgs = xcalloc(n ? n : 1, sizeof(*imgs));
	struct built *b = xcalloc(n ? n : 1, sizeof(*b));
	size_t copied = 0;
	int r = -1;

	for (size_t i = 0; i < n; i++)
		b[i].fd = -1;

	*out = NULL;
	*nout = 0;
	if (dk_plan_new(specs, n, scenario_dir, opts, &pl) < 0)
		goto out;
	if (plan_hash(pl, opts, sethash) < 0)
		goto out;
	if (opts && opts->cache_dir)
		cdir = xstrdup(opts->cache_dir);
	else {
		char *c = bl_cache_dir();
		if (!c)
			goto out;
		cdir = bl_path_join(c, "disks");
		free(c);
	}
	if (bl_mkdir_p(cdir, 0755) < 0)
		goto out;
	int have = 1;
	for (size_t i = 0; i < n; i++) {
		cached[i] = cache_path(cdir, sethash, pl->disks[i].name);
		have &= bl_file_exists(cached[i]);
	}
	if (!have) {
		stage = xasprintf("%s/.stage-XXXXXX", cdir);
		if (!mkdtemp(stage)) {
			bl_err_errno("cannot create a folder in '%s'", cdir);
			goto out;
		}
		if (build_all(pl, sethash, stage, b) < 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			if (rename(b[i].path, cached[i]) < 0) {
				bl_err_errno("cannot move '%s' into the cache", b[i].path);
				goto out;
			}
		bl_debug("disks: built %zu image(s) into %s", n, cdir);
	} else
		bl_debug("disks: %zu image(s) from the cache %s", n, cdir);
	if (bl_mkdir_p(workdir, 0755) < 0)
		goto out;
	for (size_t i = 0; i < n; i++, copied++) {
		imgs[i].name = xstrdup(pl->disks[i].name);
		imgs[i].path = xasprintf("%s/%s.img", workdir, pl->disks[i].name);
		imgs[i].absent = pl->disks[i].absent;
		imgs[i].size = pl->disks[i].size;
		if (bl_disk_copy_sparse(cached[i], imgs[i].path) < 0)
			goto out;
	}
	if (opts && opts->summary) {
		json_t *s = summary(pl, cached, imgs);
		json_object_update(opts->summary, s);
		json_decref(s);
	}
	r = 0;
out:
	if (r < 0)
		for (size_t i = 0; i < copied; i++)
			unlink(imgs[i].path);
	for (size_t i = 0; i < n; i++) {
		if (b[i].fd >= 0)
			close(b[i].fd);
		free(b[i].path);
		free(cached[i]);
	}
	if (stage)
		bl_rm_rf(stage);
	if (r == 0) {
		*out = imgs;
		*nout = n;
	} else
		bl_disk_images_free(imgs, n);
	free(b);
	free(cached);
	free(stage);
	free(cdir);
	dk_plan_free(pl);
	return r;
}
