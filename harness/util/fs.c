/* Files, folders and well-known locations. */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int bl_mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			bl_err_errno("cannot create folder '%s'", p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		bl_err_errno("cannot create folder '%s'", p);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

/* empty the folder NAME in DFD (made writable first so its entries can go) */
static void rm_children(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	fchmod(fd, 0700);
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			bl_rm_rf_at(fd, e->d_name);
	closedir(d);
}

int bl_rm_rf_at(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : bl_err_errno("cannot remove '%s'", name);
	if (S_ISDIR(st.st_mode))
		rm_children(dfd, name);
	if (unlinkat(dfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
		return bl_err_errno("cannot remove '%s'", name);
	return 0;
}

int bl_rm_rf(const char *path)
{
	return bl_rm_rf_at(AT_FDCWD, path);
}

int bl_read_file(const char *path, char **data, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bl_err_errno("cannot open '%s'", path);
	for (;;) {
		sb_grow(&sb, 65536);
		ssize_t n = read(fd, sb.buf + sb.len, sb.alloc - sb.len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			bl_err_errno("cannot read '%s'", path);
			close(fd);
			sb_release(&sb);
			return -1;
		}
		if (n == 0)
			break;
		sb.len += (size_t)n;
		sb.buf[sb.len] = 0;
	}
	close(fd);
	*data = sb_detach(&sb, len);
#ifdef __SANITIZE_ADDRESS__
	/* the buffer grows in 64 KiB steps: trimmed to the bytes read (and
	 * the NUL), a read past them hits ASan's redzone instead of slack */
	*data = xrealloc(*data, *len + 1);
#endif
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int bl_pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	const char *p = buf;
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return bl_err_errno("cannot write at offset %llu", (unsigned long long)off);
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* NAME.tmp.PID in DFD, created new: a stale one or a link planted there is
 * removed, never followed. Returns the fd and *tmp (caller frees), or -1. */
static int tmp_open(int dfd, const char *name, mode_t mode, char **tmp)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	*tmp = xasprintf("%s.tmp.%d", name, (int)getpid());
	int fd = openat(dfd, *tmp, flags, mode);
	if (fd < 0 && errno == EEXIST && unlinkat(dfd, *tmp, 0) == 0)
		fd = openat(dfd, *tmp, flags, mode);
	if (fd < 0) {
		bl_err_errno("cannot create '%s'", *tmp);
		free(*tmp);
	}
	return fd;
}

/* after writing FD (R: 0, or -1 with a message): fsync, close and rename
 * TMP to NAME, or remove it; frees TMP */
static int tmp_commit(int dfd, char *tmp, const char *name, int fd, int r)
{
	if (!r && fsync(fd) < 0)
		r = bl_err_errno("cannot write '%s'", tmp);
	close(fd);
	if (!r && renameat(dfd, tmp, dfd, name) < 0)
		r = bl_err_errno("cannot rename '%s' to '%s'", tmp, name);
	if (r)
		unlinkat(dfd, tmp, 0);
	free(tmp);
	return r;
}

int bl_write_file_atomic_at(int dfd, const char *name, const void *data, size_t len, mode_t mode)
{
	char *tmp;
	int fd = tmp_open(dfd, name, mode, &tmp);
	if (fd < 0)
		return -1;
	int r = write_all(fd, data, len) < 0 ? bl_err_errno("cannot write '%s'", tmp) : 0;
	return tmp_commit(dfd, tmp, name, fd, r);
}

int bl_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return bl_write_file_atomic_at(AT_FDCWD, path, data, len, mode);
}

int bl_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return bl_err_errno("cannot create '%s'", path);
	if (write_all(fd, data, len) < 0) {
		bl_err_errno("cannot write '%s'", path);
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

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

int bl_copy_extents(int in, off_t size, int out, off_t at)
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

int bl_copy_file_at(const char *src, int dfd, const char *dst)
{
	struct stat st;
	char *tmp;
	if (stat(src, &st) < 0)
		return bl_err_errno("cannot stat '%s'", src);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return bl_err_errno("cannot open '%s'", src);
	int r = -1, out = tmp_open(dfd, dst, st.st_mode & 07777, &tmp);
	if (out >= 0) {
		r = ftruncate(out, st.st_size) < 0 ? bl_err_errno("cannot write '%s'", tmp) : 0;
		if (!r && bl_copy_extents(in, st.st_size, out, 0) < 0)
			r = bl_err_prefix("cannot copy '%s' to '%s'", src, tmp);
		r = tmp_commit(dfd, tmp, dst, out, r);
	}
	close(in);
	return r;
}

int bl_copy_file(const char *src, const char *dst)
{
	return bl_copy_file_at(src, AT_FDCWD, dst);
}

char *bl_cpuinfo(const char *key)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[8192], *val = NULL;
	size_t kl = strlen(key);
	if (!f)
		return NULL;
	while (!val && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');
		if (!c || strncasecmp(line, key, kl))
			continue;
		c += 1 + (c[1] == ' ');
		c[strcspn(c, "\n")] = 0;
		val = xstrdup(c);
	}
	fclose(f);
	return val;
}

int bl_file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

int bl_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *bl_path_join(const char *a, const char *b)
{
	if (!a || !*a || b[0] == '/')
		return xstrdup(b);
	size_t la = strlen(a);
	return xasprintf("%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
}

const char *bl_path_in(const char *path, const char *dir)
{
	size_t n = dir ? strlen(dir) : 0;
	if (!path || !n || strncmp(path, dir, n) || path[n] != '/')
		return NULL;
	return path + n + 1;
}

/* the user's home: $HOME, else the password database's; NULL when neither
 * names an absolute folder (never a shared fallback such as /tmp) */
static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	if (home && *home == '/')
		return home;
	struct passwd *pw = getpwuid(geteuid());
	return pw && pw->pw_dir && *pw->pw_dir == '/' ? pw->pw_dir : NULL;
}

/* DIR is a folder (not a link) of this user's that nobody else may write:
 * a cache another user made (or could change) would feed bootlab kernels
 * and images that user chose */
static int own_folder(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return bl_err_errno("cache folder '%s'", dir);
	if (!S_ISDIR(st.st_mode))
		return bl_err("cache folder '%s' is not a folder (a symlink?)", dir);
	if (st.st_uid != geteuid())
		return bl_err("cache folder '%s' belongs to uid %u, not to this user (uid %u): "
			      "set XDG_CACHE_HOME to a folder of your own",
			      dir, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return bl_err("cache folder '%s' is writable by other users (mode %04o)", dir,
			      (unsigned)(st.st_mode & 07777));
	return 0;
}

char *bl_cache_dir(void)
{
	const char *x = getenv("XDG_CACHE_HOME");
	char *dir;
	if (x && *x == '/')
		dir = xasprintf("%s/bootlab", x);
	else {
		const char *home = home_dir();
		if (!home) {
			bl_err(
			    "no cache folder: HOME is not set and the password database names no "
			    "home folder (set XDG_CACHE_HOME)");
			bl_err_kind(BL_EK_INFRA);
			return NULL;
		}
		dir = xasprintf("%s/.cache/bootlab", home);
	}
	if (bl_mkdir_p(dir, 0755) < 0 || own_folder(dir) < 0) {
		bl_err_kind(BL_EK_INFRA);
		free(dir);
		return NULL;
	}
	return dir;
}

char *bl_self_dir(void)
{
	const char *env = getenv("BOOTLAB_HOME");
	if (env && *env)
		return xstrdup(env);
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return xstrdup(".");
	buf[n] = 0;
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	return xstrdup(buf);
}

char *bl_mktemp_dir(const char *tag)
{
	const char *t = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/bootlab-%s-XXXXXX", t && *t ? t : "/tmp", tag);
	if (!mkdtemp(tmpl)) {
		bl_err_errno("cannot create a temporary folder");
		bl_err_kind(BL_EK_INFRA);
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

int64_t bl_start_ns;

int64_t bl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double bl_ns_to_s(int64_t ns)
{
	return (double)ns / 1e9;
}
