/* Extraction the way the kernel unpacks (init/initramfs.c do_name and
 * docs/kernel-behaviour.md section 3: parents are not created, a different
 * file type is removed first, directories merge, hard links within one
 * archive, exact modes, directory mtimes last), but never outside the
 * target folder: absolute names, '..' and paths through symlinks are
 * refused with a message. A hard link joins only the file this extraction
 * made for its group, and only regular files are opened for writing. */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* a hard-link group (kernel: find_link(), keyed by archive, device major and
 * minor, inode and file type) and the file this extraction made for it */
struct link {
	const struct bl_cpio_entry *e; /* the name made; NULL: a free slot */
	dev_t dev;
	ino_t ino;
};

struct links {
	struct link *v; /* open addressing, cap a power of two */
	size_t n, cap;
};

struct dir_time {
	char *name;
	uint32_t mtime;
};

struct ex {
	int root;
	int is_root_user;
	size_t refused, skipped;
	struct strbuf first_refusal;
	struct links links;
	struct dir_time *dirs;
	size_t n_dirs, alloc_dirs;
};

/* a refusal (exit 1 once everything else is out) or a skipped entry (a note:
 * the kernel drops it too) */
static void note(struct ex *x, const struct bl_cpio_entry *e, int refuse, const char *fmt, ...)
    BL_PRINTF(4, 5);
static void note(struct ex *x, const struct bl_cpio_entry *e, int refuse, const char *fmt, ...)
{
	struct strbuf why = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&why, fmt, ap);
	va_end(ap);
	if (refuse) {
		if (!x->refused++)
			sb_addf(&x->first_refusal, "'%s': %s", e->name, why.buf);
		bl_warn("extract: '%s': %s", e->name, why.buf);
	} else {
		x->skipped++;
		bl_warn("extract: '%s' skipped: %s", e->name, why.buf);
	}
	sb_release(&why);
}

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

static size_t group_hash(const struct bl_cpio_entry *e)
{
	uint64_t h = ((uint64_t)e->archive << 32 | e->ino) * 0x9e3779b97f4a7c15u;
	h ^= ((uint64_t)e->devmajor << 32 | e->devminor) * 0xc2b2ae3d27d4eb4fu;
	h ^= e->mode & S_IFMT;
	return (size_t)(h ^ h >> 31);
}

static struct link *link_slot(struct links *t, const struct bl_cpio_entry *e);

static void links_grow(struct links *t)
{
	struct links old = *t;
	t->cap = old.cap ? 2 * old.cap : 64;
	t->v = xcalloc(t->cap, sizeof(*t->v));
	for (size_t i = 0; i < old.cap; i++)
		if (old.v[i].e)
			*link_slot(t, old.v[i].e) = old.v[i];
	free(old.v);
}

/* e's group, or the free slot it would take */
static struct link *link_slot(struct links *t, const struct bl_cpio_entry *e)
{
	if (2 * (t->n + 1) > t->cap)
		links_grow(t);
	size_t i = group_hash(e) & (t->cap - 1);
	while (t->v[i].e && !bl_cpio_same_group(t->v[i].e, e))
		i = (i + 1) & (t->cap - 1);
	return &t->v[i];
}

/* e's name now holds st, the file this extraction made: later names join it */
static void link_made(struct links *t, struct link *l, const struct bl_cpio_entry *e,
		      const struct stat *st)
{
	if (!l->e)
		t->n++;
	l->e = e;
	l->dev = st->st_dev;
	l->ino = st->st_ino;
}

static int made_here(const struct link *l, const struct stat *st)
{
	return !((st->st_mode ^ l->e->mode) & S_IFMT) && st->st_dev == l->dev &&
	       st->st_ino == l->ino;
}

/* maybe_link(): make last one more name of the group's file; 0 when last
 * gets a file of its own instead: the first name is gone, or holds what
 * this extraction did not make for the group (the kernel links to that
 * and opens it for writing: a fifo blocks, a device node is written) */
static int join_group(struct ex *x, const struct bl_cpio_entry *e, const struct link *l, int dfd,
		      const char *last)
{
	struct stat st;
	if (!fstatat(dfd, last, &st, AT_SYMLINK_NOFOLLOW) && made_here(l, &st))
		return 1; /* already one of its names */
	struct strbuf why = STRBUF_INIT;
	char *olast;
	int refuse, linked = 0;
	int ofd = open_parent(x, l->e->name, &olast, &refuse, &why);
	if (ofd < 0 || fstatat(ofd, olast, &st, AT_SYMLINK_NOFOLLOW)) {
		bl_warn("extract: '%s': not linked to '%s', which is gone: extracted on its own",
			e->name, l->e->name);
	} else if (!made_here(l, &st)) {
		note(x, e, 1,
		     "hard link to '%s' refused (no longer what this extraction made for "
		     "inode %u): extracted on its own",
		     l->e->name, e->ino);
	} else {
		clean_path(dfd, last, 0);
		linked = !linkat(ofd, olast, dfd, last, 0);
		if (!linked)
			bl_warn("extract: '%s': link to '%s': %s", e->name, l->e->name,
				strerror(errno));
	}
	if (ofd >= 0)
		close(ofd);
	free(olast);
	sb_release(&why);
	return linked;
}

/* open last for writing, never through a symlink and never anything but a
 * regular file (O_NONBLOCK: a fifo does not block the open); with want, only
 * that group's file. -2 when it is something else */
static int open_regular(int dfd, const char *last, int flags, uint32_t mode,
			const struct link *want, struct stat *st)
{
	int fd =
	    openat(dfd, last, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | flags, mode & 07777);
	if (fd < 0)
		return -1;
	if (!fstat(fd, st) && S_ISREG(st->st_mode) && (!want || made_here(want, st)))
		return fd;
	close(fd);
	return -2;
}

static int extract_file(struct ex *x, const struct bl_cpio_entry *e, int dfd, const char *last)
{
	struct link *l = e->nlink >= 2 ? link_slot(&x->links, e) : NULL;
	int linked = l && l->e && join_group(x, e, l, dfd, last);
	struct stat st;
	if (!linked)
		clean_path(dfd, last, e->mode);
	int fd = open_regular(dfd, last, linked ? 0 : O_CREAT | O_TRUNC, e->mode, linked ? l : NULL,
			      &st);
	if (fd < 0) {
		note(x, e, 0, "%s", fd == -1 ? strerror(errno) : "not a regular file");
		return 0;
	}
	if (l && !linked)
		link_made(&x->links, l, e, &st);
	int rc = 0;
	if (x->is_root_user)
		fchown(fd, e->uid, e->gid);
	fchmod(fd, e->mode & 07777);
	if (e->filesize && ftruncate(fd, e->filesize))
		rc = bl_err_errno("'%s': truncate", e->name);
	if (!rc && write_all(fd, e->data, e->filesize))
		rc = bl_err_errno("'%s': write error", e->name);
	struct timespec ts[2] = {{e->mtime, 0}, {e->mtime, 0}};
	futimens(fd, ts);
	close(fd);
	return rc;
}

static void extract_dir(struct ex *x, const struct bl_cpio_entry *e, int dfd, const char *last)
{
	clean_path(dfd, last, e->mode);
	mkdirat(dfd, last, e->mode & 07777);
	if (x->is_root_user)
		fchownat(dfd, last, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
	fchmodat(dfd, last, e->mode & 07777, 0);
	BL_GROW(x->dirs, x->n_dirs, x->alloc_dirs);
	x->dirs[x->n_dirs].name = xstrdup(e->name);
	x->dirs[x->n_dirs++].mtime = e->mtime;
}

static void extract_symlink(struct ex *x, const struct bl_cpio_entry *e, int dfd, const char *last)
{
	char *target = xstrndup((const char *)e->data, e->filesize);
	clean_path(dfd, last, 0);
	if (!fstatat(dfd, last, &(struct stat){0}, AT_SYMLINK_NOFOLLOW))
		unlinkat(dfd, last, 0);
	if (symlinkat(target, dfd, last)) {
		note(x, e, 0, "symlink: %s", strerror(errno));
	} else {
		if (x->is_root_user)
			fchownat(dfd, last, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
		set_time(dfd, last, e->mtime);
	}
	free(target);
}

/* device node, fifo, socket: hard links too, as the kernel makes them */
static void extract_node(struct ex *x, const struct bl_cpio_entry *e, int dfd, const char *last)
{
	struct link *l = e->nlink >= 2 ? link_slot(&x->links, e) : NULL;
	if (l && l->e && join_group(x, e, l, dfd, last))
		return;
	clean_path(dfd, last, e->mode);
	int made = !mknodat(dfd, last, e->mode, makedev(e->rdevmajor, e->rdevminor));
	if (!made && errno != EEXIST) {
		note(x, e, 0, "mknod: %s", strerror(errno));
		return;
	}
	struct stat st;
	if (made && l && !fstatat(dfd, last, &st, AT_SYMLINK_NOFOLLOW))
		link_made(&x->links, l, e, &st);
	if (x->is_root_user)
		fchownat(dfd, last, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
	fchmodat(dfd, last, e->mode & 07777, 0);
	set_time(dfd, last, e->mtime);
}

static int extract_entry(struct ex *x, const struct bl_cpio_entry *e)
{
	struct strbuf why = STRBUF_INIT;
	char *last;
	int refuse, rc = 0;
	int dfd = open_parent(x, e->name, &last, &refuse, &why);
	if (dfd < 0) {
		if (why.len)
			note(x, e, refuse, "%s", why.buf);
		sb_release(&why);
		return 0;
	}
	sb_release(&why);
	uint32_t mode = e->mode;
	if (S_ISDIR(mode))
		extract_dir(x, e, dfd, last);
	else if (S_ISREG(mode))
		rc = extract_file(x, e, dfd, last);
	else if (S_ISLNK(mode))
		extract_symlink(x, e, dfd, last);
	else if (S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode) || S_ISSOCK(mode))
		extract_node(x, e, dfd, last);
	close(dfd);
	free(last);
	return rc;
}

/* dir_utime(): last in, first out, after everything is in place */
static void stamp_dirs(struct ex *x)
{
	for (size_t i = x->n_dirs; i-- > 0;) {
		char *last;
		int refuse;
		struct strbuf why = STRBUF_INIT;
		int dfd = open_parent(x, x->dirs[i].name, &last, &refuse, &why);
		if (dfd >= 0) {
			set_time(dfd, last, x->dirs[i].mtime);
			close(dfd);
			free(last);
		}
		sb_release(&why);
		free(x->dirs[i].name);
	}
	free(x->dirs);
}

int bl_initrd_extract(const struct bl_initrd *rd, const char *dir)
{
	struct ex x = {.is_root_user = geteuid() == 0};
	int rc = 0;

	if (bl_mkdir_p(dir, 0755))
		return -1;
	x.root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.root < 0)
		return bl_err_errno("can not open '%s'", dir);
	for (size_t i = 0; i < rd->n_entries && !rc; i++)
		rc = extract_entry(&x, &rd->entries[i]);
	stamp_dirs(&x);
	free(x.links.v);
	close(x.root);
	if (!rc && x.refused)
		rc = bl_err("%zu entr%s refused, first %s", x.refused, x.refused == 1 ? "y" : "ies",
			    x.first_refusal.buf);
	sb_release(&x.first_refusal);
	return rc;
}
