/* Files, folders and well-known locations. */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
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

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else {
		if (unlink(path) < 0 && errno == EISDIR)
			rmdir(path);
	}
	return 0;
}

int bl_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : bl_err_errno("cannot remove '%s'", path);
	/* make read-only folders writable first so their entries can go */
	nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
	if (lstat(path, &st) == 0)
		return bl_err("cannot remove '%s'", path);
	return 0;
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

int bl_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		bl_err_errno("cannot create '%s'", tmp);
		free(tmp);
		return -1;
	}
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		bl_err_errno("cannot write '%s'", tmp);
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		bl_err_errno("cannot rename '%s' to '%s'", tmp, path);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
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

int bl_copy_file(const char *src, const char *dst)
{
	char *data;
	size_t len;
	struct stat st;
	if (stat(src, &st) < 0)
		return bl_err_errno("cannot stat '%s'", src);
	if (bl_read_file(src, &data, &len) < 0)
		return -1;
	int r = bl_write_file_atomic(dst, data, len, st.st_mode & 07777);
	free(data);
	return r;
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

char *bl_cache_dir(void)
{
	const char *x = getenv("XDG_CACHE_HOME");
	char *dir;
	if (x && *x == '/')
		dir = xasprintf("%s/bootlab", x);
	else {
		const char *home = getenv("HOME");
		dir = xasprintf("%s/.cache/bootlab", home && *home ? home : "/tmp");
	}
	if (bl_mkdir_p(dir, 0755) < 0) {
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
