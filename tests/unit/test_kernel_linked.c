/* The relink's read-back check (harness/kernel/linked.c) on real objects:
 * the assembler includes bytes with .incbin into an .init.ramfs section
 * the way the kernel's usr/initramfs_data.S does. What the kernel would
 * unpack the same passes (NUL padding after the trailer included); bytes
 * after the archive, a changed entry, a missing section fail, naming why. */
#include "archive/archive.h"
#include "kernel/kernel.h"
#include "t.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static char *dir;

/* an object whose .init.ramfs holds the file's bytes, then tail_len bytes of tail */
static char *object_with(const char *name, const char *file, int tail, size_t tail_len)
{
	char *data = NULL;
	size_t len = 0;
	struct strbuf sb = STRBUF_INIT;
	if (bl_read_file(file, &data, &len) == 0)
		sb_add(&sb, data, len);
	free(data);
	for (size_t i = 0; i < tail_len; i++)
		sb_addc(&sb, (char)tail);
	char *bin = xasprintf("%s/%s.bin", dir, name);
	char *src = xasprintf("%s/%s.S", dir, name);
	char *obj = xasprintf("%s/%s.o", dir, name);
	char *s = xasprintf("\t.section .init.ramfs,\"a\"\n\t.incbin \"%s\"\n", bin);
	bl_write_file(bin, sb.buf ? sb.buf : "", sb.len, 0644);
	bl_write_file(src, s, strlen(s), 0644);
	char *cmd = xasprintf("cc -c -o '%s' '%s'", obj, src);
	T_OK(system(cmd) == 0, "%s: assembled", name);
	sb_release(&sb);
	free(cmd);
	free(s);
	free(bin);
	free(src);
	return obj;
}

static char *archive(const char *name, const char *codec, const char *content)
{
	struct bl_archive *a = bl_archive_new();
	char *path = xasprintf("%s/%s.cpio", dir, name);
	bl_archive_add_dir(a, "/dev", 0755, 0, 0);
	if (!content) { /* a shorter archive */
		T_OK(bl_archive_write(a, path, codec, 1) == 0, "%s: archive written", name);
		bl_archive_free(a);
		return path;
	}
	bl_archive_add_nod(a, "/dev/console", 0600, 0, 0, 'c', 5, 1);
	bl_archive_add_file_data(a, "/init", 0755, 0, 0, content, strlen(content));
	bl_archive_add_symlink(a, "/sbin", "bin", 0777, 0, 0);
	T_OK(bl_archive_write(a, path, codec, 1) == 0, "%s: archive written", name);
	bl_archive_free(a);
	return path;
}

static void expect(const char *what, const char *obj, const char *arc, const char *err)
{
	int rc = bl_kernel_check_linked(obj, arc);
	if (!err) {
		T_OK(rc == 0, "%s: accepted%s%s", what, rc ? ": " : "", rc ? bl_errmsg() : "");
		return;
	}
	T_OK(rc < 0, "%s: refused", what);
	T_OK(rc < 0 && strstr(bl_errmsg(), err), "%s: says '%s': %s", what, err,
	     rc < 0 ? bl_errmsg() : "");
}

int main(void)
{
	dir = bl_mktemp_dir("linked");
	char *plain = archive("plain", "none", "#!/bin/sh\necho hi\n");
	char *other = archive("other", "none", "#!/bin/sh\necho ho\n");
	char *gz = archive("gz", "gzip", "#!/bin/sh\necho hi\n");
	char *shorter = archive("short", "none", NULL);
	char *obj;

	obj = object_with("same", plain, 0, 0);
	expect("the archive itself", obj, plain, NULL);
	free(obj);
	obj = object_with("zeros", plain, 0, 4096);
	expect("NUL padding after the trailer (the kernel skips it)", obj, plain, NULL);
	free(obj);
	/* the relink bug: the archive followed by whatever the heap held */
	obj = object_with("garbage", plain, 0xa5, 48621 - 1024);
	expect("bytes after the archive", obj, plain, "does not read back");
	free(obj);
	obj = object_with("other", other, 0, 0);
	expect("another /init", obj, plain, "entry 3 ('init'): its content differs");
	free(obj);
	obj = object_with("gz", gz, 0, 0);
	expect("a gzip archive", obj, gz, NULL);
	expect("the same entries, compressed", obj, plain, NULL);
	free(obj);
	obj = object_with("short", shorter, 0, 0);
	expect("fewer entries than the archive", obj, plain, "1 entries linked, the archive has 4");
	free(obj);

	/* an archive the kernel would refuse is linked byte for byte */
	char *junk = xasprintf("%s/junk.cpio", dir);
	bl_write_file(junk, "not an archive at all", 21, 0644);
	obj = object_with("junk", junk, 0, 0);
	expect("an unparsable archive, byte for byte", obj, junk, NULL);
	free(obj);
	obj = object_with("junk2", junk, 'x', 3);
	expect("an unparsable archive with more bytes", obj, junk, "24 bytes linked");
	free(obj);

	/* objects that are not what a kernel build leaves */
	char *src = xasprintf("%s/data.S", dir), *nosec = xasprintf("%s/nosec.o", dir);
	bl_write_file(src, "\t.data\n\t.long 1\n", 16, 0644);
	char *cmd = xasprintf("cc -c -o '%s' '%s'", nosec, src);
	T_OK(system(cmd) == 0, "object without the section assembled");
	expect("no .init.ramfs section", nosec, plain, "has no section '.init.ramfs'");
	expect("not an ELF object", plain, plain, "is not a 64-bit little-endian ELF object");
	expect("a missing object", "/nonexistent/initramfs_data.o", plain, "cannot open");
	free(cmd);
	free(src);
	free(nosec);
	free(junk);
	free(plain);
	free(other);
	free(gz);
	free(shorter);
	bl_rm_rf(dir);
	free(dir);
	return t_done();
}
