/* The built-in archive of a base build (harness/kernel/make.c) holds the
 * entries of the kernel's usr/default_cpio_list, the archive a kernel built
 * with an empty CONFIG_INITRAMFS_SOURCE carries: written from that list by
 * harness/archive it is the same file, byte for byte. When the kernel
 * source is extracted in the cache, its own list is compared too. */
#include "archive/archive.h"
#include "kernel/internal.h"
#include "t.h"
#include "util/util.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* usr/default_cpio_list of Linux 6.1, without its comments */
static const char default_list[] = "dir /dev 0755 0 0\n"
				   "nod /dev/console 0600 0 0 c 5 1\n"
				   "dir /root 0700 0 0\n";

/* the archive list (in gen_init_cpio's format) written by harness/archive */
static int same_as_list(const char *path, const char *name, const char *text, size_t len)
{
	struct bl_archive *a = bl_archive_new();
	struct strbuf want = STRBUF_INIT;
	char *got = NULL;
	size_t glen = 0;
	int same = bl_archive_add_list_buf(a, name, text, len) == 0 &&
		   bl_archive_bytes(a, "none", 0, &want) == 0 &&
		   bl_read_file(path, &got, &glen) == 0 && glen == want.len &&
		   !memcmp(got, want.buf, glen);
	free(got);
	sb_release(&want);
	bl_archive_free(a);
	return same;
}

static void test_entries(const char *path)
{
	static const struct {
		const char *name;
		unsigned mode, rmaj, rmin;
	} want[] = {
	    {"dev", S_IFDIR | 0755, 0, 0},
	    {"dev/console", S_IFCHR | 0600, 5, 1},
	    {"root", S_IFDIR | 0700, 0, 0},
	};
	struct bl_initrd rd = {0};
	int rc = bl_initrd_load(&rd, path);
	if (!T_OK(rc == 0, "it reads back%s%s", rc ? ": " : "", rc ? bl_errmsg() : ""))
		return;
	T_EQ_INT(rd.n_entries, BL_ARRAY_SIZE(want), "three entries");
	for (size_t i = 0; i < BL_ARRAY_SIZE(want) && i < rd.n_entries; i++) {
		const struct bl_cpio_entry *e = &rd.entries[i];
		T_EQ_STR(e->name, want[i].name, "entry %zu's name", i + 1);
		T_EQ_INT(e->mode, want[i].mode, "'%s': mode", want[i].name);
		T_OK(e->uid == 0 && e->gid == 0, "'%s': owned by root", want[i].name);
		T_OK(e->rdevmajor == want[i].rmaj && e->rdevminor == want[i].rmin,
		     "'%s': device %u:%u", want[i].name, want[i].rmaj, want[i].rmin);
		T_EQ_INT(e->filesize, 0, "'%s': no data", want[i].name);
	}
	T_OK(rd.n_segments == 1 && rd.segments[0].codec == &bl_codec_none,
	     "one uncompressed segment");
	bl_initrd_release(&rd);
}

/* the list in an extracted kernel source of the cache, when there is one */
static void test_kernel_source(const char *path)
{
	char *cache = bl_cache_dir();
	char *pat = cache
			? xasprintf("%s/kernels/src/*/linux-source-*/usr/default_cpio_list", cache)
			: NULL;
	glob_t g = {0};
	char *text = NULL;
	size_t len = 0;
	if (pat && glob(pat, 0, NULL, &g) == 0 && g.gl_pathc &&
	    bl_read_file(g.gl_pathv[0], &text, &len) == 0)
		T_OK(same_as_list(path, g.gl_pathv[0], text, len),
		     "the same archive as the kernel source's '%s'", g.gl_pathv[0]);
	else
		T_SKIP("no kernel source extracted in the cache", "the kernel source's own list");
	free(text);
	globfree(&g);
	free(pat);
	free(cache);
}

int main(void)
{
	char *dir = bl_mktemp_dir("kbuiltin");
	char *path = bl_path_join(dir, "initramfs.cpio.bin");
	int rc = bl_kernel_default_builtin(path);
	T_OK(rc == 0, "written%s%s", rc ? ": " : "", rc ? bl_errmsg() : "");
	test_entries(path);
	T_OK(same_as_list(path, "default_cpio_list", default_list, sizeof(default_list) - 1),
	     "the same archive as the default list written by harness/archive");
	char *again = bl_path_join(dir, "again.cpio");
	char *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;
	T_OK(bl_kernel_default_builtin(again) == 0 && bl_read_file(path, &a, &al) == 0 &&
		 bl_read_file(again, &b, &bl) == 0 && al == bl && !memcmp(a, b, al),
	     "the same bytes on every build");
	T_EQ_INT(al % 512, 0, "padded to 512 bytes like gen_init_cpio");
	test_kernel_source(path);
	free(a);
	free(b);
	free(again);
	bl_rm_rf(dir);
	free(path);
	free(dir);
	return t_done();
}
