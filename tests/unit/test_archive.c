/* archive builder: newc bytes like gen_init_cpio, gzip output readable by gzip(1) */
#include "archive/archive.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int field(const char *hdr, int i)
{
	char buf[9];
	memcpy(buf, hdr + 6 + 8 * i, 8);
	buf[8] = 0;
	return (int)strtoul(buf, NULL, 16);
}

int main(void)
{
	/* the kernel's usr/default_cpio_list gives a 512-byte archive
	 * (docs/kernel-behaviour.md section 4) */
	struct bl_archive *a = bl_archive_new();
	T_EQ_INT(bl_archive_add_dir(a, "/dev", 0755, 0, 0), 0, "add dir");
	T_EQ_INT(bl_archive_add_nod(a, "/dev/console", 0600, 0, 0, 'c', 5, 1), 0, "add nod");
	T_EQ_INT(bl_archive_add_dir(a, "/root", 0700, 0, 0), 0, "add dir root");
	struct strbuf sb = STRBUF_INIT;
	T_EQ_INT(bl_archive_render(a, 1000, &sb), 0, "render");
	T_EQ_INT(sb.len, 512, "default list is 512 bytes");
	T_OK(!memcmp(sb.buf, "070701", 6), "newc magic");
	T_EQ_INT(field(sb.buf, 0), 721, "first ino 721");
	T_EQ_INT(field(sb.buf, 1), 040755, "dir mode");
	T_EQ_INT(field(sb.buf, 4), 2, "dir nlink 2");
	T_EQ_INT(field(sb.buf, 7), 3, "devmajor 3");
	T_EQ_INT(field(sb.buf, 8), 1, "devminor 1");
	T_EQ_STR(sb.buf + 110, "dev", "leading slash stripped");
	const char *h2 = sb.buf + 116; /* 110+4 -> 114, aligned to 116 */
	T_OK(!memcmp(h2, "070701", 6), "second header aligned");
	T_EQ_INT(field(h2, 0), 722, "second ino");
	T_EQ_INT(field(h2, 9), 5, "rdevmajor");
	T_EQ_INT(field(h2, 10), 1, "rdevminor");
	T_OK(memmem(sb.buf, sb.len, "TRAILER!!!", 11) != NULL, "trailer present");
	sb_release(&sb);

	/* hard links: one inode, nlink counted, data on the last link */
	T_EQ_INT(bl_archive_add_file_data(a, "/bin/x", 0755, 0, 0, "hello", 5), 0, "add file");
	T_EQ_INT(bl_archive_add_hardlink(a, "/bin/y", "/bin/x"), 0, "add hardlink");
	T_EQ_INT(bl_archive_add_hardlink(a, "z", "nope"), -1, "hardlink to nothing fails");
	T_OK(strstr(bl_errmsg(), "'nope'") != NULL, "message names the missing entry: %s",
	     bl_errmsg());
	T_EQ_INT(bl_archive_add_symlink(a, "/sbin", "bin", 0777, 0, 0), 0, "add symlink");
	T_EQ_INT(bl_archive_render(a, 1000, &sb), 0, "render with links");
	const char *x = memmem(sb.buf, sb.len, "bin/x", 6), *y = memmem(sb.buf, sb.len, "bin/y", 6);
	T_OK(x && y, "both names present");
	if (x && y) {
		T_EQ_INT(field(x - 110, 0), field(y - 110, 0), "same ino");
		T_EQ_INT(field(x - 110, 4), 2, "nlink 2");
		T_EQ_INT(field(x - 110, 6), 0, "no data on first link");
		T_EQ_INT(field(y - 110, 6), 5, "data on last link");
	}
	sb_release(&sb);

	/* gzip segment, read back by gzip(1), written atomically */
	char *dir = bl_mktemp_dir("t-archive");
	char *out = bl_path_join(dir, "a.cpio.gz");
	T_EQ_INT(bl_archive_write(a, out, "gzip", 1000), 0, "write gzip");
	char *argv[] = {"gzip", "-t", out, NULL};
	int st;
	T_OK(bl_run(argv, 10000, NULL, &st) == 0 && st == 0, "gzip -t accepts it");
	T_EQ_INT(bl_archive_write(a, out, "bogus", 0), -1, "unknown codec fails");
	T_OK(strstr(bl_errmsg(), "'bogus'") != NULL, "names the codec: %s", bl_errmsg());
	char *bad = bl_path_join(dir, "bad.cpio");
	T_EQ_INT(bl_archive_add_file_host(a, "f", 0644, 0, 0, "/nonexistent/x"), -1,
		 "missing host file");
	T_OK(!bl_file_exists(bad), "nothing written");
	bl_archive_free(a);
	bl_rm_rf(dir);
	free(bad);
	free(out);
	free(dir);
	return t_done();
}
