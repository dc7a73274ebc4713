/* A host folder as archive entries: sorted with strcmp (LC_ALL=C), parents
 * before children, uid/gid mapped like gen_initramfs.sh -u/-g, hard links
 * kept as hard links (one inode, data on the last name). */
#include "archive.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *name;
};

struct walk {
	struct bl_archive *a;
	int root_uid, root_gid;
	struct link_seen *links;
	size_t n_links, alloc_links;
};

static unsigned map_id(unsigned id, int root)
{
	if (root == BL_ARCHIVE_SQUASH)
		return 0;
	if (root >= 0 && id == (unsigned)root)
		return 0;
	return id;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int add_one(struct walk *w, const char *host, const char *name, const struct stat *st)
{
	unsigned uid = map_id(st->st_uid, w->root_uid), gid = map_id(st->st_gid, w->root_gid);
	unsigned mode = st->st_mode & 07777;
	int rc;

	if (S_ISDIR(st->st_mode)) {
		rc = bl_archive_add_dir(w->a, name, mode, uid, gid);
	} else if (S_ISREG(st->st_mode)) {
		if (st->st_nlink > 1) {
			for (size_t i = 0; i < w->n_links; i++)
				if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
					return bl_archive_add_hardlink(w->a, name,
								       w->links[i].name);
			BL_GROW(w->links, w->n_links, w->alloc_links);
			w->links[w->n_links].dev = st->st_dev;
			w->links[w->n_links].ino = st->st_ino;
			w->links[w->n_links++].name = xstrdup(name);
		}
		rc = bl_archive_add_file_host(w->a, name, mode, uid, gid, host);
	} else if (S_ISLNK(st->st_mode)) {
		char target[4097];
		ssize_t n = readlink(host, target, sizeof(target) - 1);
		if (n < 0)
			return bl_err_errno("readlink '%s'", host);
		target[n] = 0;
		rc = bl_archive_add_symlink(w->a, name, target, mode, uid, gid);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		rc =
		    bl_archive_add_nod(w->a, name, mode, uid, gid, S_ISBLK(st->st_mode) ? 'b' : 'c',
				       major(st->st_rdev), minor(st->st_rdev));
	} else if (S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode)) {
		rc = bl_archive_add_special(w->a, name, S_ISFIFO(st->st_mode) ? 'p' : 's', mode,
					    uid, gid);
	} else {
		return bl_err("'%s': unsupported file type", host);
	}
	if (rc)
		return rc;
	uint32_t m = st->st_mtime < 0		   ? 0
		     : st->st_mtime > 0xffffffffLL ? 0xffffffffu
						   : (uint32_t)st->st_mtime;
	return bl_archive_set_mtime(w->a, m);
}

static int walk_dir(struct walk *w, const char *host, const char *prefix)
{
	DIR *d = opendir(host);
	if (!d)
		return bl_err_errno("can not open folder '%s'", host);
	struct strlist names = STRLIST_INIT;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sl_push(&names, de->d_name);
	}
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	int rc = 0;
	for (size_t i = 0; i < names.n && !rc; i++) {
		char *hp = bl_path_join(host, names.v[i]);
		char *name = *prefix ? xasprintf("%s/%s", prefix, names.v[i]) : xstrdup(names.v[i]);
		struct stat st;
		if (lstat(hp, &st))
			rc = bl_err_errno("can not stat '%s'", hp);
		else
			rc = add_one(w, hp, name, &st);
		if (!rc && S_ISDIR(st.st_mode))
			rc = walk_dir(w, hp, name);
		free(hp);
		free(name);
	}
	sl_release(&names);
	return rc;
}

int bl_archive_add_tree(struct bl_archive *a, const char *host_dir, const char *prefix,
			int root_uid, int root_gid)
{
	struct walk w = {.a = a, .root_uid = root_uid, .root_gid = root_gid};
	struct stat st;
	char *pfx;
	int rc;

	if (stat(host_dir, &st))
		return bl_err_errno("folder '%s'", host_dir);
	if (!S_ISDIR(st.st_mode))
		return bl_err("'%s' is not a folder", host_dir);
	pfx = xstrdup(prefix ? prefix : "");
	while (*pfx == '/')
		memmove(pfx, pfx + 1, strlen(pfx));
	size_t n = strlen(pfx);
	while (n && pfx[n - 1] == '/')
		pfx[--n] = 0;
	rc = 0;
	if (*pfx)
		rc = add_one(&w, host_dir, pfx, &st);
	if (!rc)
		rc = walk_dir(&w, host_dir, pfx);
	for (size_t i = 0; i < w.n_links; i++)
		free(w.links[i].name);
	free(w.links);
	free(pfx);
	return rc;
}
