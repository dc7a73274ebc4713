/* Extraction the way the kernel unpacks (init/initramfs.c do_name and
 * docs/kernel-behaviour.md section 3: parents are not created, a different
 * file type is removed first, directories merge, hard links within one
 * archive, exact modes, directory mtimes last), but never outside the
 * target folder: absolute names, '..' and paths through symlinks are
 * refused with a message. */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct ex {
	int root;
	int is_root_user;
	size_t refused, skipped;
	struct strbuf first_refusal;
};

/* Open the folder holding name's last component (bl_open_under: one
 * component at a time, symlinks refused). Returns the folder fd (or -1)
 * and sets *last; on -1, why says what was wrong (nothing for the root
 * itself) and *refuse tells a refusal from a plain failure. */
static int open_parent(struct ex *x, const char *name, char **last, int *refuse, struct strbuf *why)
{
	*refuse = 0;
	*last = NULL;
	if (name[0] == '/') {
		*refuse = 1;
		sb_adds(why, "absolute name refused");
		return -1;
	}
	if (!name[strspn(name, "./")] && !strstr(name, ".."))
		return -1; /* the root itself */
	int fd = bl_open_under(x->root, name, 0, last, refuse);
	if (fd < 0)
		sb_addf(why, *refuse ? "%s" : "%s (the kernel creates no parents)", bl_errmsg());
	return fd;
}

/* clean_path(): remove what is there when its type differs */
static void clean_path(int dfd, const char *last, uint32_t mode)
{
	struct stat st;
	if (!fstatat(dfd, last, &st, AT_SYMLINK_NOFOLLOW) && ((st.st_mode ^ mode) & S_IFMT)) {
		if (S_ISDIR(st.st_mode))
			unlinkat(dfd, last, AT_REMOVEDIR);
		else
			unlinkat(dfd, last, 0);
	}
}

static void set_time(int dfd, const char *last, uint32_t mtime)
{
	struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
	utimensat(dfd, last, ts, AT_SYMLINK_NOFOLLOW);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

struct dir_time {
	char *name;
	uint32_t mtime;
};

int bl_initrd_extract(const struct bl_initrd *rd, const char *dir)
{
	struct ex x = {.is_root_user = geteuid() == 0};
	struct dir_time *dirs = NULL;
	size_t n_dirs = 0, alloc_dirs = 0;
	int rc = 0;

	if (bl_mkdir_p(dir, 0755))
		return -1;
	x.root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.root < 0)
		return bl_err_errno("can not open '%s'", dir);
	for (size_t i = 0; i < rd->n_entries && !rc; i++) {
		const struct bl_cpio_entry *e = &rd->entries[i];
		struct strbuf why = STRBUF_INIT;
		char *last;
		int refuse;
		int dfd = open_parent(&x, e->name, &last, &refuse, &why);
		if (dfd < 0) {
			if (why.len) {
				if (refuse) {
					if (!x.refused++)
						sb_addf(&x.first_refusal, "'%s': %s", e->name,
							why.buf);
					bl_warn("extract: '%s': %s", e->name, why.buf);
				} else {
					x.skipped++;
					bl_warn("extract: '%s' skipped: %s", e->name, why.buf);
				}
			}
			sb_release(&why);
			continue;
		}
		sb_release(&why);
		uint32_t mode = e->mode;
		if (S_ISDIR(mode)) {
			clean_path(dfd, last, mode);
			mkdirat(dfd, last, mode & 07777);
			if (x.is_root_user)
				fchownat(dfd, last, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
			fchmodat(dfd, last, mode & 07777, 0);
			BL_GROW(dirs, n_dirs, alloc_dirs);
			dirs[n_dirs].name = xstrdup(e->name);
			dirs[n_dirs++].mtime = e->mtime;
		} else if (S_ISREG(mode)) {
			int linked = 0;
			clean_path(dfd, last, mode);
			if (e->nlink >= 2) {
				/* maybe_link(): link to the first name of this inode */
				for (size_t j = 0; j < i; j++) {
					const struct bl_cpio_entry *o = &rd->entries[j];
					if (o->archive != e->archive || o->ino != e->ino ||
					    o->devmajor != e->devmajor ||
					    o->devminor != e->devminor ||
					    ((o->mode ^ mode) & S_IFMT) || o->nlink < 2)
						continue;
					char *olast;
					int oref;
					struct strbuf owhy = STRBUF_INIT;
					int ofd = open_parent(&x, o->name, &olast, &oref, &owhy);
					sb_release(&owhy);
					if (ofd >= 0) {
						unlinkat(dfd, last, 0);
						linked = !linkat(ofd, olast, dfd, last, 0);
						close(ofd);
						free(olast);
					}
					break;
				}
			}
			int fd = openat(dfd, last,
					O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
					    (linked ? 0 : O_TRUNC),
					mode & 07777);
			if (fd < 0) {
				x.skipped++;
				bl_warn("extract: '%s' skipped: %s", e->name, strerror(errno));
			} else {
				if (x.is_root_user)
					fchown(fd, e->uid, e->gid);
				fchmod(fd, mode & 07777);
				if (e->filesize && ftruncate(fd, e->filesize))
					rc = bl_err_errno("'%s': truncate", e->name);
				if (!rc && write_all(fd, e->data, e->filesize))
					rc = bl_err_errno("'%s': write error", e->name);
				struct timespec ts[2] = {{e->mtime, 0}, {e->mtime, 0}};
				futimens(fd, ts);
				close(fd);
			}
		} else if (S_ISLNK(mode)) {
			char *target = xstrndup((const char *)e->data, e->filesize);
			clean_path(dfd, last, 0);
			if (!fstatat(dfd, last, &(struct stat){0}, AT_SYMLINK_NOFOLLOW))
				unlinkat(dfd, last, 0);
			if (symlinkat(target, dfd, last)) {
				x.skipped++;
				bl_warn("extract: symlink '%s' skipped: %s", e->name,
					strerror(errno));
			} else {
				if (x.is_root_user)
					fchownat(dfd, last, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
				set_time(dfd, last, e->mtime);
			}
			free(target);
		} else if (S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode) || S_ISSOCK(mode)) {
			clean_path(dfd, last, mode);
			if (mknodat(dfd, last, mode, makedev(e->rdevmajor, e->rdevminor)) &&
			    errno != EEXIST) {
				x.skipped++;
				bl_warn("extract: '%s' skipped: mknod: %s", e->name,
					strerror(errno));
			} else {
				if (x.is_root_user)
					fchownat(dfd, last, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
				fchmodat(dfd, last, mode & 07777, 0);
				set_time(dfd, last, e->mtime);
			}
		}
		close(dfd);
		free(last);
	}
	/* dir_utime(): last in, first out, after everything is in place */
	for (size_t i = n_dirs; i-- > 0;) {
		char *last;
		int refuse;
		struct strbuf why = STRBUF_INIT;
		int dfd = open_parent(&x, dirs[i].name, &last, &refuse, &why);
		if (dfd >= 0) {
			set_time(dfd, last, dirs[i].mtime);
			close(dfd);
			free(last);
		}
		sb_release(&why);
		free(dirs[i].name);
	}
	free(dirs);
	close(x.root);
	if (!rc && x.refused)
		rc = bl_err("%zu entr%s refused, first %s", x.refused, x.refused == 1 ? "y" : "ies",
			    x.first_refusal.buf);
	sb_release(&x.first_refusal);
	return rc;
}
