/* One ext2/3/4 filesystem of a disk plan as an image file: a staging
 * folder (a cpio: or list: source unpacked as the kernel would, tree:
 * copied over it, files: and the agent over both), then `mke2fs -d` with
 * a UUID and hash seed derived from the input and a fixed clock, then
 * debugfs setting every inode's times to the same epoch. */
#include "archive/archive.h"
#include "image.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MKE2FS_TIMEOUT_MS 120000

int dk_fs_render_source(const struct bl_disk_fs *fs, struct strbuf *out)
{
	struct bl_archive *a = bl_archive_new();
	int r = fs->list ? bl_archive_add_list(a, fs->list) : bl_archive_add_cpio(a, fs->cpio);
	if (!r)
		r = bl_archive_render(a, (uint32_t)dk_epoch(), out);
	bl_archive_free(a);
	if (r < 0) {
		bl_err_prefix("%s.%s", fs->field, fs->list ? "list" : "cpio");
		return dk_err_at(&fs->source_pos);
	}
	return 0;
}

/* unpack a cpio: or list: source into DIR, as the kernel would */
static int unpack_source(const struct bl_disk_fs *fs, const char *dir)
{
	struct strbuf sb = STRBUF_INIT;
	struct bl_initrd rd = {0};
	int r = dk_fs_render_source(fs, &sb);
	if (!r &&
	    (bl_initrd_parse(&rd, sb.buf, sb.len, 0) < 0 || bl_initrd_extract(&rd, dir) < 0)) {
		bl_err_prefix("%s.%s", fs->field, fs->list ? "list" : "cpio");
		r = dk_err_at(&fs->source_pos);
	}
	bl_initrd_release(&rd);
	sb_release(&sb);
	return r;
}

/* F as LAST in the folder DFD: files: replace what the tree had there (a
 * symlink itself, never what it points to); a dir: entry keeps a folder */
static int put_file(int dfd, const char *last, const struct bl_disk_file *f)
{
	struct stat st;
	bool isdir = !fstatat(dfd, last, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode);
	if (!(f->dir && isdir) && bl_rm_rf_at(dfd, last) < 0)
		return -1;
	if (f->dir)
		return isdir || !mkdirat(dfd, last, 0755) ? 0
							  : bl_err_errno("cannot create folder");
	if (f->symlink)
		return symlinkat(f->symlink, dfd, last) < 0 ? bl_err_errno("cannot create symlink")
							    : 0;
	if (f->content)
		return bl_write_file_atomic_at(dfd, last, f->content, strlen(f->content), 0644);
	return bl_copy_file_at(f->source, dfd, last);
}

/* F under the staging folder ROOT (an fd): its parents are opened one at a
 * time, a relative symlink of the tree that stays inside followed, any
 * other refused (bl_open_under) */
static int stage_file(const struct bl_disk_file *f, int root)
{
	char *last;
	int refused;
	int dfd = bl_open_under(root, f->path, BL_UNDER_FOLLOW | BL_UNDER_MKDIR, &last, &refused);
	if (dfd < 0)
		return -1;
	struct stat st;
	int mode = f->mode; /* else a source's exact mode, or as created */
	if (mode < 0 && f->source && !stat(f->source, &st))
		mode = (int)(st.st_mode & 07777);
	int r = put_file(dfd, last, f);
	if (!r && mode >= 0 && !f->symlink && fchmodat(dfd, last, (mode_t)mode, 0) < 0)
		r = bl_err_errno("cannot chmod");
	close(dfd);
	free(last);
	return r;
}

/* files: and then the agent (AGENT: the host binary) */
static int stage_files(const struct bl_disk_fs *fs, const char *agent, const char *dir)
{
	struct bl_disk_file ag = {.path = fs->agent, .source = (char *)agent, .mode = 0755};
	size_t n = fs->nfiles + (fs->agent ? 1 : 0);
	int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
	if (root < 0)
		return bl_err_errno("cannot open '%s'", dir);
	for (size_t i = 0; i < n && !r; i++) {
		const struct bl_disk_file *f = i < fs->nfiles ? &fs->files[i] : &ag;
		if (stage_file(f, root) < 0) {
			bl_err_prefix("%s%s (%s)", fs->field, i < fs->nfiles ? ".files" : ".agent",
				      f->path);
			r = dk_err_at(&fs->pos);
		}
	}
	close(root);
	return r;
}

static int copy_tree(const struct bl_disk_fs *fs, const char *dir)
{
	char *from = xasprintf("%s/.", fs->tree);
	char *argv[] = {"cp", "-a", from, (char *)dir, NULL};
	char *o = NULL;
	int status;
	int r = bl_run(argv, MKE2FS_TIMEOUT_MS, &o, &status);
	if (!r && status) {
		bl_err("%s.tree: cannot copy '%s': %s", fs->field, fs->tree, o ? o : "");
		r = dk_err_at(&fs->tree_pos);
	}
	free(from);
	free(o);
	return r;
}

/* The folder mke2fs -d copies: the tree itself (*SRC), or a staging
 * folder *DIR (caller removes and frees) when anything goes over it. */
static int stage(const struct bl_disk_fs *fs, const char *agent, const char *path, char **dir,
		 const char **src)
{
	int r;
	*src = fs->tree;
	if (!fs->nfiles && !fs->agent && !fs->cpio && !fs->list)
		return 0;
	*dir = xasprintf("%s.d", path);
	*src = *dir;
	if (bl_mkdir_p(*dir, 0755) < 0)
		return -1;
	if ((fs->cpio || fs->list) && (r = unpack_source(fs, *dir)) < 0)
		return r;
	if (fs->tree && (r = copy_tree(fs, *dir)) < 0)
		return r;
	return stage_files(fs, agent, *dir);
}

int bl_debugfs_arg(struct strbuf *sb, const char *s)
{
	if (strchr(s, '\n')) {
		char *q = bl_quote(s);
		bl_err("path %s holds a newline, which a debugfs command cannot take", q);
		free(q);
		return -1;
	}
	sb_addc(sb, '"');
	for (; *s; s++) {
		if (*s == '"')
			sb_addc(sb, '"');
		sb_addc(sb, *s);
	}
	sb_addc(sb, '"');
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

static int normalise_times(const char *img, const char *src, const char *stage_dir)
{
	struct strbuf cmd = STRBUF_INIT;
	uint64_t t = dk_epoch();
	times_script(&cmd, src ? src : "/nonexistent", "", t);
	sb_addf(&cmd,
		"sif /lost+found atime @%llu\nsif /lost+found mtime @%llu\n"
		"sif /lost+found ctime @%llu\n",
		(unsigned long long)t, (unsigned long long)t, (unsigned long long)t);
	char *cf = xasprintf("%s/debugfs.cmd", stage_dir);
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

/* mke2fs's own reason, its last line, in a message about FS */
static int mke2fs_failed(const struct bl_disk_fs *fs, uint64_t size, int status, char *out)
{
	size_t l = strlen(out);
	while (l && out[l - 1] == '\n')
		out[--l] = 0;
	char *last = strrchr(out, '\n');
	last = last ? last + 1 : out;
	if (!strncmp(last, "mke2fs: ", 8))
		last += 8;
	if (strstr(out, "Could not allocate") || strstr(out, "No free space") ||
	    strstr(out, "Not enough space"))
		bl_err("%s: contents do not fit in %llu KiB (mke2fs: %s)", fs->field,
		       (unsigned long long)size >> 10, last);
	else
		bl_err("%s: mke2fs failed (%s): %s", fs->field, bl_describe_status(status), last);
	return dk_err_at(&fs->pos);
}

static int mke2fs(const struct bl_disk_fs *fs, const char *path, uint64_t size, const char *uuid,
		  const char *src)
{
	struct strlist av = STRLIST_INIT;
	sl_push(&av, "env");
	sl_pushf(&av, "E2FSPROGS_FAKE_TIME=%llu", (unsigned long long)dk_epoch());
	sl_push(&av, "mke2fs");
	sl_push(&av, "-q");
	sl_push(&av, "-F");
	sl_push(&av, "-t");
	sl_push(&av, bl_fs_type_name(fs->type));
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
	int r = bl_run(sl_argv(&av), MKE2FS_TIMEOUT_MS, &o, &status);
	sl_release(&av);
	if (r < 0) {
		bl_err_kind(BL_EK_INFRA);
		bl_err_prefix("%s: mke2fs", fs->field);
		r = dk_err_at(&fs->pos);
	} else if (status) {
		r = mke2fs_failed(fs, size, status, o ? o : "");
	}
	free(o);
	return r;
}

/* `image:`, placed as is */
static int fs_given(const struct bl_disk_fs *fs, uint64_t room, const char *what, char **img,
		    uint64_t *len)
{
	struct stat st;
	if (stat(fs->image, &st) < 0) {
		bl_err_errno("%s.image: cannot stat '%s'", fs->field, fs->image);
		return dk_err_at(&fs->image_pos);
	}
	if ((uint64_t)st.st_size > room) {
		bl_err("%s.image: '%s' (%llu KiB) is larger than the %s (%llu KiB)", fs->field,
		       fs->image, (unsigned long long)st.st_size >> 10, what,
		       (unsigned long long)room >> 10);
		return dk_err_at(&fs->image_pos);
	}
	*img = xstrdup(fs->image);
	*len = (uint64_t)st.st_size;
	return 0;
}

/* the filesystem's size in ROOM, 4 KiB aligned; 0 after an error */
static uint64_t fs_size(const struct bl_disk_fs *fs, uint64_t room, const char *what)
{
	uint64_t size = fs->size ? fs->size : room;
	if (size > room) {
		bl_err("%s.size: %llu KiB is larger than the %s (%llu KiB)", fs->field,
		       (unsigned long long)size >> 10, what, (unsigned long long)room >> 10);
		return 0;
	}
	size &= ~(uint64_t)4095;
	if (size < 256 * 1024) {
		bl_err("%s: the %s is too small for a filesystem (%llu KiB, need 256)", fs->field,
		       what, (unsigned long long)size >> 10);
		return 0;
	}
	return size;
}

/* a UUID that looks like version 4, from the set's hash and the field */
static void fs_uuid(const struct bl_disk_fs *fs, const char *sethash, char out[37])
{
	char *tag = xasprintf("fs:%s", fs->field);
	uint8_t u[16];
	dk_derive16(sethash, tag, u);
	free(tag);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		o += sprintf(o, "%02x", u[i]);
	}
}

int bl_disk_create_sparse(const char *path, uint64_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		bl_err_errno("cannot create '%s'", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int dk_fs_make(const struct bl_disk_fs *fs, uint64_t room, const char *what, const char *agent,
	       const char *stage_dir, const char *sethash, char **img, uint64_t *len)
{
	if (fs->image)
		return fs_given(fs, room, what, img, len);
	uint64_t size = fs_size(fs, room, what);
	if (!size)
		return dk_err_at(fs->size && fs->size > room ? &fs->size_pos : &fs->pos);
	char uuid[37];
	if (fs->uuid)
		snprintf(uuid, sizeof(uuid), "%s", fs->uuid);
	else
		fs_uuid(fs, sethash, uuid);
	/* "disks[0].filesystem" -> STAGE/disks_0_.filesystem.fs */
	char *path = xasprintf("%s/%s.fs", stage_dir, fs->field);
	for (char *c = path + strlen(stage_dir) + 1; *c; c++)
		if (*c == '/' || *c == '[' || *c == ']')
			*c = '_';
	char *dir = NULL;
	const char *src;
	int r = stage(fs, agent, path, &dir, &src);
	if (!r)
		r = bl_disk_create_sparse(path, size);
	if (!r)
		r = mke2fs(fs, path, size, uuid, src);
	if (!r && normalise_times(path, src, stage_dir) < 0) {
		bl_err_prefix("%s", fs->field);
		r = dk_err_at(&fs->pos);
	}
	if (dir)
		bl_rm_rf(dir);
	free(dir);
	if (r) {
		free(path);
		return r;
	}
	*img = path;
	*len = size;
	return 0;
}
