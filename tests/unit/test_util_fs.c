/* harness/util/fs.c: bl_write_file_atomic and bl_copy_file create their
 * temporary file new (a link planted at its name is removed, never
 * followed), and bl_copy_file streams: a 256 MiB source costs no 256 MiB of
 * memory, and its holes stay holes. */
#include "t.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIG (256LL << 20)

static char *tmp;

static char *slurp(const char *path)
{
	char *d = NULL;
	size_t n;
	return bl_read_file(path, &d, &n) ? NULL : d;
}

/* a link at PATH's temporary name to a canary: the write goes to PATH */
static void planted_link(const char *what, int copy)
{
	char *canary = xasprintf("%s/canary-%s", tmp, what);
	char *path = xasprintf("%s/out-%s", tmp, what);
	char *t = xasprintf("%s.tmp.%d", path, (int)getpid());
	char *src = xasprintf("%s/src", tmp);
	bl_write_file(canary, "keep\n", 5, 0644);
	bl_write_file(src, "new\n", 4, 0644);
	T_OK(!symlink(canary, t), "%s: link planted at the temporary name", what);
	int r = copy ? bl_copy_file(src, path) : bl_write_file_atomic(path, "new\n", 4, 0644);
	T_EQ_INT(r, 0, "%s: written", what);
	char *c = slurp(canary), *o = slurp(path);
	T_EQ_STR(c, "keep\n", "%s: the link's target unchanged", what);
	T_EQ_STR(o, "new\n", "%s: the file has the data", what);
	struct stat st;
	T_OK(!lstat(path, &st) && S_ISREG(st.st_mode), "%s: a plain file, no link", what);
	T_OK(lstat(t, &st) < 0, "%s: no temporary file left", what);
	free(c);
	free(o);
	free(canary);
	free(path);
	free(t);
	free(src);
}

static long maxrss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void big_copy(void)
{
	char *src = xasprintf("%s/big", tmp), *dst = xasprintf("%s/big.copy", tmp);
	int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	bl_pwrite_all(fd, "head", 4, 0);
	bl_pwrite_all(fd, "tail", 4, BIG - 4);
	close(fd);
	long before = maxrss_kib();
	T_EQ_INT(bl_copy_file(src, dst), 0, "256 MiB sparse file copied");
	long grew = maxrss_kib() - before;
	T_OK(grew < 32 * 1024, "copy streams: peak memory grew %ld KiB (< 32 MiB)", grew);
	struct stat st;
	T_OK(!stat(dst, &st) && st.st_size == BIG, "copy: same size");
	T_EQ_INT(st.st_mode & 07777, 0640, "copy: the source's mode");
	T_OK((long long)st.st_blocks * 512 < (8LL << 20), "copy: holes kept (%lld KiB)",
	     (long long)st.st_blocks / 2);
	char h[5] = {0}, tl[5] = {0};
	fd = open(dst, O_RDONLY);
	T_OK(pread(fd, h, 4, 0) == 4 && pread(fd, tl, 4, BIG - 4) == 4 && !strcmp(h, "head") &&
		 !strcmp(tl, "tail"),
	     "copy: the bytes at both ends");
	close(fd);
	unlink(src);
	unlink(dst);
	free(src);
	free(dst);
}

static void errors(void)
{
	char *src = xasprintf("%s/missing", tmp), *dst = xasprintf("%s/x", tmp);
	T_EQ_INT(bl_copy_file(src, dst), -1, "copy of a missing file fails");
	char *want = xasprintf("cannot stat '%s': No such file or directory", src);
	T_EQ_STR(bl_errmsg(), want, "and says so");
	T_OK(!bl_file_exists(dst), "nothing written");
	free(want);
	free(src);
	free(dst);
}

/* what a report names relative to its folder, and what is not in it */
static void path_in(void)
{
	const char *r = bl_path_in("/r/x/log", "/r");
	T_EQ_STR(r ? r : "(null)", "x/log", "a path below the folder: the part below it");
	T_OK(!bl_path_in("/rx/log", "/r"),
	     "a sibling with the folder's name as prefix is not in it");
	T_OK(!bl_path_in("/r", "/r"), "the folder itself is not in it");
	T_OK(!bl_path_in(NULL, "/r") && !bl_path_in("/r/x", NULL), "NULL on either side: not in");
}

int main(void)
{
	path_in();
	tmp = bl_mktemp_dir("unit-fs");
	planted_link("write", 0);
	planted_link("copy", 1);
	big_copy();
	errors();
	bl_rm_rf(tmp);
	free(tmp);
	return t_done();
}
