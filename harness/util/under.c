/* Names under a root folder that they may never leave: each component is
 * opened with openat(O_NOFOLLOW | O_DIRECTORY) from the one before, so the
 * host never follows a symlink of the tree. A symlink met on the way is
 * refused, or (BL_UNDER_FOLLOW) read and walked the same way when it is
 * relative and stays under the root. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40 /* the kernel's limit (ELOOP) */

struct walk {
	int how;
	int *fds;	/* fds[0]: the root; fds[n - 1]: where the walk is */
	size_t *at_len; /* at's length at each depth */
	size_t n, alloc;
	struct strbuf at;     /* the path walked so far, "/usr/sbin" */
	struct strlist parts; /* what is left, reversed: the next is the last */
	struct strbuf link;   /* the last symlink followed, for a '..' that climbs out */
	int links;
};

/* push NAME's components (reversed) onto W's parts; '..' refused unless
 * it comes from a link target (DOTDOT) */
static int push_parts(struct walk *w, const char *name, int dotdot)
{
	char *copy = xstrdup(name), *save = NULL;
	struct strlist fw = STRLIST_INIT;
	int r = 0;
	for (char *c = strtok_r(copy, "/", &save); c && !r; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, ".."))
			r = dotdot ? 0 : bl_err("'..' in the name refused");
		if (strcmp(c, "."))
			sl_push(&fw, c);
	}
	for (size_t i = fw.n; i-- > 0 && !r;)
		sl_push(&w->parts, fw.v[i]);
	sl_release(&fw);
	free(copy);
	return r;
}

static void enter(struct walk *w, int fd, const char *comp)
{
	BL_GROW(w->fds, w->n, w->alloc);
	w->at_len = xrealloc(w->at_len, w->alloc * sizeof(*w->at_len));
	w->at_len[w->n] = w->at.len;
	w->fds[w->n++] = fd;
	if (comp)
		sb_addf(&w->at, "/%s", comp);
}

static void leave(struct walk *w)
{
	close(w->fds[--w->n]);
	w->at.len = w->at_len[w->n];
	if (w->at.buf)
		w->at.buf[w->at.len] = 0;
}

/* COMP in the current folder is a symlink: refuse it, or go on with its
 * target in place of it */
static int through_link(struct walk *w, const char *comp, int *refused)
{
	char target[4096];
	ssize_t n = readlinkat(w->fds[w->n - 1], comp, target, sizeof(target) - 1);
	*refused = 1;
	if (n < 0)
		return bl_err_errno("cannot read symlink '%s/%s'", sb_str(&w->at), comp);
	target[n] = 0;
	if (!(w->how & BL_UNDER_FOLLOW))
		return bl_err("path through symlink '%s/%s' refused", sb_str(&w->at), comp);
	if (target[0] == '/')
		return bl_err("symlink '%s/%s' -> '%s' leads out of the filesystem", sb_str(&w->at),
			      comp, target);
	if (++w->links > MAX_LINKS)
		return bl_err("too many levels of symlinks at '%s/%s'", sb_str(&w->at), comp);
	sb_reset(&w->link);
	sb_addf(&w->link, "%s/%s' -> '%s", sb_str(&w->at), comp, target);
	*refused = 0;
	return push_parts(w, target, 1);
}

/* one component on the way to the last */
static int step(struct walk *w, const char *comp, int *refused)
{
	if (!strcmp(comp, "..")) {
		if (w->n > 1) {
			leave(w);
			return 0;
		}
		*refused = 1;
		return bl_err("symlink '%s' leads out of the filesystem", sb_str(&w->link));
	}
	int dfd = w->fds[w->n - 1], flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(dfd, comp, flags);
	if (fd < 0 && errno == ENOENT && (w->how & BL_UNDER_MKDIR) && !mkdirat(dfd, comp, 0755))
		fd = openat(dfd, comp, flags);
	if (fd >= 0) {
		enter(w, fd, comp);
		return 0;
	}
	struct stat st;
	int e = errno;
	if (!fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
		return through_link(w, comp, refused);
	errno = e;
	return bl_err_errno("parent '%s/%s'", sb_str(&w->at), comp);
}

int bl_open_under(int root, const char *name, int how, char **last, int *refused)
{
	struct walk w = {.how = how};
	int fd = -1, r = push_parts(&w, name, 0);
	*refused = r < 0;
	*last = NULL;
	if (!r && !w.parts.n)
		r = bl_err("'%s' names the root folder itself", name);
	enter(&w, dup(root), NULL);
	if (w.fds[0] < 0)
		r = bl_err_errno("cannot open the root folder");
	while (!r && w.parts.n > 1) {
		char *comp = w.parts.v[--w.parts.n];
		r = step(&w, comp, refused);
		free(comp);
	}
	if (!r) {
		*last = xstrdup(w.parts.v[0]);
		fd = w.fds[--w.n];
	}
	while (w.n)
		leave(&w);
	free(w.fds);
	free(w.at_len);
	sb_release(&w.at);
	sb_release(&w.link);
	sl_release(&w.parts);
	return fd;
}
