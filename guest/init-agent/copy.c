/* copy.c: copy a file or a whole tree inside the guest, keeping modes,
 * owners, symlinks and device nodes (like cp -a, without times). Used to
 * populate a tmpfs new root from the archive before switch_root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

struct cp {
	long long files, bytes;
	dev_t skip_dev; /* the destination folder: never copy it into itself */
	ino_t skip_ino;
	const char *from_arg;
};

static int copy_file(struct cp *c, const char *src, const char *dst, const struct stat *st)
{
	char buf[16384];
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), out;
	if (in < 0)
		return ia_fail_errno("copy: open '%s'", src);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, st->st_mode & 07777);
	if (out < 0) {
		ia_fail_errno("copy: create '%s'", dst);
		close(in);
		return -1;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf)), off = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break; /* /proc/kmsg and the like */
		if (n < 0) {
			ia_fail_errno("copy: read '%s'", src);
			goto fail;
		}
		if (n == 0)
			break;
		while (off < n) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				ia_fail_errno("copy: write '%s'", dst);
				goto fail;
			}
			off += w;
		}
		c->bytes += n;
	}
	if (fchown(out, st->st_uid, st->st_gid) && errno != EPERM) {
		ia_fail_errno("copy: chown '%s'", dst);
		goto fail;
	}
	fchmod(out, st->st_mode & 07777);
	close(in);
	if (close(out))
		return ia_fail_errno("copy: write '%s'", dst);
	return 0;
fail:
	close(in);
	close(out);
	return -1;
}

static int copy_any(struct cp *c, const char *src, const char *dst, int depth)
{
	struct stat st;
	if (depth > 64)
		return ia_fail(ELOOP, "copy: '%s' nested too deeply", src);
	if (lstat(src, &st))
		return ia_fail_errno("copy: '%s'", src);
	if (S_ISDIR(st.st_mode) && st.st_dev == c->skip_dev && st.st_ino == c->skip_ino)
		return 0; /* the destination inside the source */
	c->files++;
	if (S_ISREG(st.st_mode))
		return copy_file(c, src, dst, &st);
	if (S_ISLNK(st.st_mode)) {
		char t[4096];
		ssize_t n = readlink(src, t, sizeof(t) - 1);
		if (n < 0)
			return ia_fail_errno("copy: readlink '%s'", src);
		t[n] = 0;
		if (symlink(t, dst))
			return ia_fail_errno("copy: symlink '%s'", dst);
		if (lchown(dst, st.st_uid, st.st_gid)) {
		}
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (mknod(dst, st.st_mode, st.st_rdev))
			return ia_fail_errno("copy: mknod '%s'", dst);
		if (lchown(dst, st.st_uid, st.st_gid)) {
		}
		chmod(dst, st.st_mode & 07777);
		return 0;
	}
	if (mkdir(dst, 0700) && errno != EEXIST)
		return ia_fail_errno("copy: mkdir '%s'", dst);
	{
		struct stat dd;
		if (depth == 0 && stat(dst, &dd) == 0) {
			c->skip_dev = dd.st_dev;
			c->skip_ino = dd.st_ino;
		}
	}
	DIR *d = opendir(src);
	struct dirent *e;
	if (!d)
		return ia_fail_errno("copy: '%s'", src);
	while ((e = readdir(d))) {
		char s2[4096], d2[4096];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((size_t)snprintf(s2, sizeof(s2), "%s/%s", src, e->d_name) >= sizeof(s2) ||
		    (size_t)snprintf(d2, sizeof(d2), "%s/%s", dst, e->d_name) >= sizeof(d2)) {
			closedir(d);
			return ia_fail(ENAMETOOLONG, "copy: path under '%s' too long", src);
		}
		if (copy_any(c, s2, d2, depth + 1)) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (chown(dst, st.st_uid, st.st_gid)) {
	}
	chmod(dst, st.st_mode & 07777);
	return 0;
}

int ia_op_copy(struct ia_req *r, struct ia_json *j)
{
	const char *from, *to;
	char f[4096 + 512];
	struct cp c = {0};
	if (ia_need_str(r, "from", &from) || ia_need_str(r, "to", &to))
		return -1;
	if ((size_t)snprintf(f, sizeof(f), "%s", ia_path(from)) >= sizeof(f))
		return ia_fail(ENAMETOOLONG, "copy: path too long");
	c.from_arg = from;
	if (copy_any(&c, f, ia_path(to), 0))
		return -1;
	ia_json_int(j, "files", c.files);
	ia_json_int(j, "bytes", c.bytes);
	return 0;
}
