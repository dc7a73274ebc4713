/* ops_fs.c: file requests: stat, read, sha256, list, readlink, write,
 * mkdir, mknod, symlink, chmod. Paths go through ia_path (host mode). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent.h"

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "symlink";
	case S_IFCHR:
		return "chr";
	case S_IFBLK:
		return "blk";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "sock";
	default:
		return "unknown";
	}
}

int ia_op_stat(struct ia_req *r, struct ia_json *j)
{
	const char *path;
	int follow = 0;
	struct stat st;
	if (ia_need_str(r, "path", &path) || ia_arg_bool(r, "follow", &follow) < 0)
		return -1;
	if ((follow ? stat : lstat)(ia_path(path), &st))
		return ia_fail_errno("stat '%s'", path);
	ia_json_str(j, "type", type_name(st.st_mode));
	ia_json_mode(j, "mode", st.st_mode);
	ia_json_int(j, "uid", st.st_uid);
	ia_json_int(j, "gid", st.st_gid);
	ia_json_int(j, "size", st.st_size);
	ia_json_int(j, "nlink", (long long)st.st_nlink);
	ia_json_int(j, "ino", (long long)st.st_ino);
	ia_json_majmin(j, "dev", major(st.st_dev), minor(st.st_dev));
	ia_json_majmin(j, "rdev", major(st.st_rdev), minor(st.st_rdev));
	ia_json_int(j, "mtime", st.st_mtime);
	if (S_ISLNK(st.st_mode)) {
		char t[4096];
		ssize_t n = readlink(ia_path(path), t, sizeof(t) - 1);
		if (n >= 0)
			ia_json_strn(j, "target", t, (size_t)n);
	}
	return 0;
}

static int open_read(const char *path)
{
	int fd = open(ia_path(path), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0)
		return ia_fail_errno("open '%s'", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return ia_fail(EISDIR, "read '%s': is a directory", path);
	}
	/* O_NONBLOCK stays: a FIFO, tty or /proc/kmsg must not hang the
	 * agent; reads stop at EAGAIN (regular files ignore the flag) */
	return fd;
}

static ssize_t read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int ia_op_read(struct ia_req *r, struct ia_json *j)
{
	static const char hexd[] = "0123456789abcdef";
	const char *path;
	long long max = 65536;
	int hex = 0, fd;
	char *buf;
	ssize_t n;
	if (ia_need_str(r, "path", &path) || ia_arg_int(r, "max", &max) < 0 ||
	    ia_arg_bool(r, "hex", &hex) < 0)
		return -1;
	if (max < 0 || max > 1048576)
		return ia_fail(EINVAL, "argument 'max': expected 0..1048576");
	if ((fd = open_read(path)) < 0)
		return -1;
	buf = malloc((size_t)max + 1);
	if (!buf) {
		close(fd);
		return ia_fail(ENOMEM, "read '%s': out of memory", path);
	}
	n = read_full(fd, buf, (size_t)max + 1);
	close(fd);
	if (n < 0) {
		free(buf);
		return ia_fail_errno("read '%s'", path);
	}
	ia_json_bool(j, "truncated", n > max);
	if (n > max)
		n = (ssize_t)max;
	ia_json_int(j, "size", n);
	if (hex) {
		char *h = malloc((size_t)n * 2 + 1);
		if (!h) {
			free(buf);
			return ia_fail(ENOMEM, "read '%s': out of memory", path);
		}
		for (ssize_t i = 0; i < n; i++) {
			h[2 * i] = hexd[(unsigned char)buf[i] >> 4];
			h[2 * i + 1] = hexd[buf[i] & 15];
		}
		ia_json_strn(j, "hex", h, (size_t)n * 2);
		free(h);
	} else {
		ia_json_strn(j, "data", buf, (size_t)n);
	}
	free(buf);
	return 0;
}

int ia_op_sha256(struct ia_req *r, struct ia_json *j)
{
	static const char hexd[] = "0123456789abcdef";
	const char *path;
	struct ia_sha256 c;
	unsigned char d[32];
	char h[65], buf[16384];
	long long size = 0;
	int fd;
	if (ia_need_str(r, "path", &path))
		return -1;
	if ((fd = open_read(path)) < 0)
		return -1;
	ia_sha256_init(&c);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			ia_fail_errno("read '%s'", path);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		ia_sha256_update(&c, buf, (size_t)n);
		size += n;
	}
	close(fd);
	ia_sha256_final(&c, d);
	for (int i = 0; i < 32; i++) {
		h[2 * i] = hexd[d[i] >> 4];
		h[2 * i + 1] = hexd[d[i] & 15];
	}
	h[64] = 0;
	ia_json_str(j, "sha256", h);
	ia_json_int(j, "size", size);
	return 0;
}

struct ent {
	char *name;
	const char *type;
};

static int ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

int ia_op_list(struct ia_req *r, struct ia_json *j)
{
	const char *path;
	DIR *d;
	struct dirent *e;
	struct ent *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	if (ia_need_str(r, "path", &path))
		return -1;
	if (!(d = opendir(ia_path(path))))
		return ia_fail_errno("list '%s'", path);
	while ((e = readdir(d))) {
		const char *t = "unknown";
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		switch (e->d_type) {
		case DT_REG:
			t = "file";
			break;
		case DT_DIR:
			t = "dir";
			break;
		case DT_LNK:
			t = "symlink";
			break;
		case DT_CHR:
			t = "chr";
			break;
		case DT_BLK:
			t = "blk";
			break;
		case DT_FIFO:
			t = "fifo";
			break;
		case DT_SOCK:
			t = "sock";
			break;
		default: {
			struct stat st;
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				t = type_name(st.st_mode);
		}
		}
		if (n == cap) {
			struct ent *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));
			if (!nv) {
				rc = ia_fail(ENOMEM, "list '%s': out of memory", path);
				break;
			}
			v = nv;
		}
		if (!(v[n].name = strdup(e->d_name))) {
			rc = ia_fail(ENOMEM, "list '%s': out of memory", path);
			break;
		}
		v[n++].type = t;
	}
	closedir(d);
	if (!rc) {
		qsort(v, n, sizeof(*v), ent_cmp);
		ia_json_arr(j, "entries");
		for (size_t i = 0; i < n; i++) {
			ia_json_obj(j, NULL);
			ia_json_str(j, "name", v[i].name);
			ia_json_str(j, "type", v[i].type);
			ia_json_end(j, '}');
		}
		ia_json_end(j, ']');
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	return rc;
}

int ia_op_readlink(struct ia_req *r, struct ia_json *j)
{
	const char *path;
	char t[4096];
	ssize_t n;
	if (ia_need_str(r, "path", &path))
		return -1;
	n = readlink(ia_path(path), t, sizeof(t));
	if (n < 0)
		return ia_fail_errno("readlink '%s'", path);
	ia_json_strn(j, "target", t, (size_t)n);
	return 0;
}

static int unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ia_op_write(struct ia_req *r, struct ia_json *j)
{
	const char *path, *data = NULL, *hex = NULL, *mstr;
	size_t len = 0, hlen = 0, off = 0;
	unsigned mode = 0644;
	int append = 0, fd, hd, hs;
	char *bin = NULL;
	if (ia_need_str(r, "path", &path) || ia_arg_mode(r, "mode", &mode) < 0 ||
	    ia_arg_bool(r, "append", &append) < 0)
		return -1;
	hd = ia_arg_str(r, "data", &data, &len);
	hs = ia_arg_str(r, "hex", &hex, &hlen);
	if (hd < 0 || hs < 0)
		return -1;
	if (hd == hs)
		return ia_fail(EINVAL, "write needs exactly one of 'data' and 'hex'");
	if (hs == 0) {
		if (hlen % 2)
			return ia_fail(EINVAL, "argument 'hex': odd length");
		/* decode in place: the request line is ours until the reply */
		bin = (char *)hex;
		for (size_t i = 0; i < hlen; i += 2) {
			int a = unhex(hex[i]), b = unhex(hex[i + 1]);
			if (a < 0 || b < 0)
				return ia_fail(EINVAL, "argument 'hex': not a hex digit at %zu", i);
			bin[i / 2] = (char)(a * 16 + b);
		}
		data = bin;
		len = hlen / 2;
	}
	/* O_NONBLOCK: a FIFO without a reader is ENXIO, not a hang */
	fd = open(ia_path(path),
		  O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
		      (append ? O_APPEND : O_TRUNC),
		  mode);
	if (fd < 0)
		return ia_fail_errno("write '%s'", path);
	fcntl(fd, F_SETFL, append ? O_APPEND : 0);
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ia_fail_errno("write '%s'", path);
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (ia_arg_str(r, "mode", &mstr, NULL) == 0 && fchmod(fd, mode)) {
		ia_fail_errno("chmod '%s'", path);
		close(fd);
		return -1;
	}
	if (close(fd))
		return ia_fail_errno("write '%s'", path);
	ia_json_int(j, "size", (long long)len);
	return 0;
}

static int mkdir_p(char *p, unsigned mode)
{
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST) {
			*s = '/';
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, mode) && errno != EEXIST)
		return -1;
	return 0;
}

int ia_op_mkdir(struct ia_req *r, struct ia_json *j)
{
	const char *path;
	unsigned mode = 0755;
	int parents = 0;
	if (ia_need_str(r, "path", &path) || ia_arg_mode(r, "mode", &mode) < 0 ||
	    ia_arg_bool(r, "parents", &parents) < 0)
		return -1;
	if (parents) {
		char p[4096 + 512];
		if ((size_t)snprintf(p, sizeof(p), "%s", ia_path(path)) >= sizeof(p))
			return ia_fail(ENAMETOOLONG, "mkdir: path too long");
		if (mkdir_p(p, mode))
			return ia_fail_errno("mkdir '%s'", path);
	} else if (mkdir(ia_path(path), mode)) {
		return ia_fail_errno("mkdir '%s'", path);
	}
	if (chmod(ia_path(path), mode))
		return ia_fail_errno("chmod '%s'", path);
	return 0;
}

int ia_op_mknod(struct ia_req *r, struct ia_json *j)
{
	const char *path, *type;
	unsigned mode = 0600;
	long long maj = 0, min = 0;
	mode_t fmt;
	if (ia_need_str(r, "path", &path) || ia_need_str(r, "type", &type) ||
	    ia_arg_mode(r, "mode", &mode) < 0 || ia_arg_int(r, "major", &maj) < 0 ||
	    ia_arg_int(r, "minor", &min) < 0)
		return -1;
	if (!strcmp(type, "chr"))
		fmt = S_IFCHR;
	else if (!strcmp(type, "blk"))
		fmt = S_IFBLK;
	else if (!strcmp(type, "fifo"))
		fmt = S_IFIFO;
	else if (!strcmp(type, "sock"))
		fmt = S_IFSOCK;
	else
		return ia_fail(EINVAL, "argument 'type': expected chr, blk, fifo or sock");
	if (maj < 0 || maj > 4095 || min < 0 || min > 1048575)
		return ia_fail(EINVAL, "device number %lld:%lld out of range", maj, min);
	if (mknod(ia_path(path), fmt | mode, makedev((unsigned)maj, (unsigned)min)))
		return ia_fail_errno("mknod '%s'", path);
	if (chmod(ia_path(path), mode))
		return ia_fail_errno("chmod '%s'", path);
	return 0;
}

int ia_op_symlink(struct ia_req *r, struct ia_json *j)
{
	const char *target, *path;
	if (ia_need_str(r, "target", &target) || ia_need_str(r, "path", &path))
		return -1;
	if (symlink(target, ia_path(path)))
		return ia_fail_errno("symlink '%s'", path);
	return 0;
}

int ia_op_chmod(struct ia_req *r, struct ia_json *j)
{
	const char *path;
	unsigned mode;
	int rc;
	if (ia_need_str(r, "path", &path) || (rc = ia_arg_mode(r, "mode", &mode)) < 0)
		return -1;
	if (rc == 1)
		return ia_fail(EINVAL, "missing argument 'mode'");
	if (chmod(ia_path(path), mode))
		return ia_fail_errno("chmod '%s'", path);
	return 0;
}
