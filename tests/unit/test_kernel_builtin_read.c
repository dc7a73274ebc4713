/* bl_kernel_builtin_archive() on made-up images: a bzImage whose gzip
 * payload is a stripped "vmlinux" (a decoy magic, then the archive at a
 * 4-aligned offset, then junk), an ELF whose symbols name a compressed
 * archive, and images it must refuse. Debian's real vmlinuz is read in
 * tests/cli/archive_lint.sh. */
#include "archive/archive.h"
#include "kernel/kernel.h"
#include "t.h"
#include "util/util.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

static char dir[] = "/tmp/bl-builtin-XXXXXX";

/* usr/default_cpio_list's archive, with codec */
static void default_archive(const char *codec, struct strbuf *out)
{
	static const char list[] = "dir /dev 0755 0 0\n"
				   "nod /dev/console 0600 0 0 c 5 1\n"
				   "dir /root 0700 0 0\n";
	struct bl_archive *a = bl_archive_new();
	bl_archive_add_list_buf(a, "default", list, sizeof(list) - 1);
	bl_archive_bytes(a, codec, 0, out);
	bl_archive_free(a);
}

static char *write_image(const char *name, const void *d, size_t n)
{
	char *p = xasprintf("%s/%s", dir, name);
	bl_write_file_atomic(p, d, n, 0644);
	return p;
}

/* the entries a reading of path found, "dev dev/console root" */
static char *names(const char *path)
{
	struct bl_initrd rd;
	struct strbuf sb = STRBUF_INIT;
	if (bl_kernel_builtin_archive(path, &rd) < 0)
		return xasprintf("error: %s", bl_errmsg());
	for (size_t i = 0; i < rd.n_entries; i++)
		sb_addf(&sb, "%s%s", i ? " " : "", rd.entries[i].name);
	bl_initrd_release(&rd);
	return sb.len ? sb_detach(&sb, NULL) : (sb_release(&sb), xstrdup(""));
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v, p[1] = v >> 8, p[2] = v >> 16, p[3] = v >> 24;
}

static void test_bzimage(void)
{
	struct strbuf vm = STRBUF_INIT, z = STRBUF_INIT, img = STRBUF_INIT;
	sb_adds(&vm, "stripped vmlinux, a decoy: x070701");
	while (vm.len % 4)
		sb_adds(&vm, ".");
	default_archive("none", &vm);
	sb_adds(&vm, "070701 junk after the trailer");
	const struct bl_codec *gz = bl_codec_find("gzip");
	gz->compress(vm.buf, vm.len, 6, &z);
	unsigned char size[4];
	put32(size, (uint32_t)vm.len);
	sb_add(&z, size, 4);
	unsigned char hdr[1024] = {0}; /* boot sector + 1 setup sector */
	hdr[0x1f1] = 1;
	memcpy(hdr + 0x202, "HdrS", 4);
	hdr[0x206] = 0x0f, hdr[0x207] = 0x02;
	put32(hdr + 0x248, 16);
	put32(hdr + 0x24c, (uint32_t)z.len);
	sb_add(&img, hdr, sizeof(hdr));
	sb_add(&img, "sixteen bytes...", 16);
	sb_add(&img, z.buf, z.len);
	char *p = write_image("bzImage", img.buf, img.len), *got = names(p);
	T_EQ_STR(got, "dev dev/console root", "bzImage: the archive in the gzip payload");
	free(got);
	free(p);
	put32((unsigned char *)img.buf + 0x24c, (uint32_t)img.len);
	p = write_image("bzImage-bad", img.buf, img.len), got = names(p);
	T_OK(strstr(got, "outside the file") != NULL, "bzImage: a payload past the end: %s", got);
	free(got);
	free(p);
	sb_release(&vm);
	sb_release(&z);
	sb_release(&img);
}

/* an ELF64 whose one PT_LOAD maps the file at BASE, with .symtab naming
 * the archive at data[0] and its size at data[size_at] */
#define BASE 0xffffffff81000000ull
static void elf_image(struct strbuf *out, const struct strbuf *arc)
{
	static const char shstr[] = "\0.shstrtab\0.symtab\0.strtab";
	static const char str[] = "\0__initramfs_start\0__initramfs_size";
	size_t data = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr),
	       size_at = data + (arc->len + 7) / 8 * 8;
	size_t syms = size_at + 8, strs = syms + 3 * sizeof(Elf64_Sym);
	size_t shs = strs + sizeof(str), sh = (shs + sizeof(shstr) + 7) / 8 * 8;
	size_t end = sh + 4 * sizeof(Elf64_Shdr);
	unsigned char *b = xcalloc(1, end);
	Elf64_Ehdr eh = {.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64, eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_phoff = sizeof(eh), eh.e_phentsize = sizeof(Elf64_Phdr), eh.e_phnum = 1;
	eh.e_shoff = sh, eh.e_shentsize = sizeof(Elf64_Shdr), eh.e_shnum = 4, eh.e_shstrndx = 1;
	Elf64_Phdr ph = {.p_type = PT_LOAD, .p_vaddr = BASE, .p_filesz = end, .p_memsz = end};
	Elf64_Sym sym[3] = {{0},
			    {.st_name = 1, .st_value = BASE + data},
			    {.st_name = 19, .st_value = BASE + size_at}};
	Elf64_Shdr shdr[4] = {
	    {0},
	    {.sh_name = 1, .sh_type = SHT_STRTAB, .sh_offset = shs, .sh_size = sizeof(shstr)},
	    {.sh_name = 11,
	     .sh_type = SHT_SYMTAB,
	     .sh_offset = syms,
	     .sh_size = sizeof(sym),
	     .sh_link = 3,
	     .sh_entsize = sizeof(Elf64_Sym)},
	    {.sh_name = 19, .sh_type = SHT_STRTAB, .sh_offset = strs, .sh_size = sizeof(str)}};
	uint64_t size = arc->len;
	memcpy(b, &eh, sizeof(eh));
	memcpy(b + sizeof(eh), &ph, sizeof(ph));
	memcpy(b + data, arc->buf, arc->len);
	memcpy(b + size_at, &size, 8);
	memcpy(b + syms, sym, sizeof(sym));
	memcpy(b + strs, str, sizeof(str));
	memcpy(b + shs, shstr, sizeof(shstr));
	memcpy(b + sh, shdr, sizeof(shdr));
	sb_add(out, b, end);
	free(b);
}

static void test_symbols(void)
{
	struct strbuf arc = STRBUF_INIT, img = STRBUF_INIT;
	default_archive("xz", &arc);
	elf_image(&img, &arc);
	char *p = write_image("vmlinux", img.buf, img.len), *got = names(p);
	T_EQ_STR(got, "dev dev/console root", "ELF symbols: a compressed built-in archive");
	free(got);
	free(p);
	sb_release(&arc);
	sb_release(&img);
}

static void test_none(void)
{
	char *p = write_image("text", "no kernel here\n", 15), *got = names(p);
	T_OK(strstr(got, "no uncompressed built-in initramfs found") != NULL,
	     "no archive: an error: %s", got);
	free(got);
	free(p);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_bzimage();
	test_symbols();
	test_none();
	bl_rm_rf(dir);
	return t_done();
}
