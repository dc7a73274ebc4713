/* The built-in initramfs of any kernel image, read from the image's bytes
 * (for `bootlab archive lint --kernel` and the gate's lint).
 *
 * A bzImage (a distro vmlinuz) carries the vmlinux compressed as its
 * payload (setup header fields payload_offset and payload_length, boot
 * protocol 2.08+, the uncompressed size in the last 4 bytes); it is
 * unpacked with harness/archive's codecs, which know the same magics as the
 * kernel's decompressors; other images (a PVH vmlinux, an arm64 Image, UML)
 * are read as they are.
 *
 * An ELF with its symbol table (bootlab's own builds) names the archive
 * exactly: __initramfs_start and the unsigned long __initramfs_size. A
 * stripped one (a distro vmlinuz's payload) does not: the linker's
 * INIT_RAM_FS puts the archive into .init.data (the whole image is searched
 * when it is no ELF or has no such section), and the first uncompressed
 * newc archive there, up to its TRAILER!!!, is the built-in archive. That
 * is what a kernel built with CONFIG_INITRAMFS_SOURCE="" (every
 * distribution kernel) links: usr/default_cpio_list's /dev, /dev/console
 * and /root. A compressed built-in archive is only found by the symbols. */
#include "internal.h"
#include "archive/archive.h"

#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VMLINUX (1u << 30) /* a bound on what a payload may unpack to */
#define NEWC_HEADER 110

static uint32_t le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* the vmlinux of a bzImage, decompressed into out; 1 when d is no bzImage */
static int bzimage_payload(const char *path, const unsigned char *d, size_t n, struct strbuf *out)
{
	if (n < 0x250 || memcmp(d + 0x202, "HdrS", 4))
		return 1;
	if ((d[0x206] | d[0x207] << 8) < 0x208)
		return bl_err("'%s': boot protocol older than 2.08 (no payload fields)", path);
	size_t start = ((size_t)(d[0x1f1] ? d[0x1f1] : 4) + 1) * 512;
	uint32_t off = le32(d + 0x248), len = le32(d + 0x24c);
	if (start > n || off > n - start || len < 4 || len > n - start - off)
		return bl_err("'%s': the compressed kernel lies outside the file", path);
	const unsigned char *p = d + start + off;
	const struct bl_codec *c = bl_codec_detect(p, len);
	size_t used;
	if (!c)
		return bl_err("'%s': the compressed kernel has no codec bootlab knows", path);
	/* the last 4 bytes are the uncompressed size, not part of the stream */
	struct bl_unpack u = {.out = *out, .max_out = MAX_VMLINUX};
	int rc = c->decompress(p, len - 4, &u, &used);
	*out = u.out;
	if (rc < 0)
		return bl_err_prefix("'%s': its %s-compressed kernel", path, c->name);
	return 0;
}

static int hex8(const unsigned char *p, uint32_t *v)
{
	char b[9], *end;
	memcpy(b, p, 8);
	b[8] = 0;
	*v = (uint32_t)strtoul(b, &end, 16);
	return *end ? -1 : 0;
}

/* the length of the newc archive at d[0..n), through its TRAILER!!!
 * entry; 0 when there is none */
static size_t newc_length(const unsigned char *d, size_t n)
{
	size_t pos = 0;
	while (n - pos >= NEWC_HEADER && !memcmp(d + pos, "070701", 6)) {
		uint32_t size, namesize;
		if (hex8(d + pos + 54, &size) < 0 || hex8(d + pos + 94, &namesize) < 0 ||
		    namesize > n - pos - NEWC_HEADER)
			return 0;
		size_t name = pos + NEWC_HEADER, data = (name + namesize + 3) & ~(size_t)3;
		if (data > n || size > n - data)
			return 0;
		pos = (data + size + 3) & ~(size_t)3;
		if (namesize == 11 && !memcmp(d + name, "TRAILER!!!", 11))
			return pos < n ? pos : n;
	}
	return 0;
}

/* the first newc archive at a 4-aligned offset of d[0..n) that reads */
static int find_newc(const unsigned char *d, size_t n, struct bl_initrd *rd)
{
	for (size_t i = 0; n >= NEWC_HEADER && i <= n - NEWC_HEADER; i += 4) {
		if (memcmp(d + i, "070701", 6))
			continue;
		size_t len = newc_length(d + i, n - i);
		if (len && bl_initrd_parse(rd, d + i, len, 0) == 0)
			return 0;
	}
	return -1;
}

/* the file offset of the virtual address va in an ELF64 (through its
 * PT_LOAD headers), with at least 8 bytes after it */
static int elf_offset(const unsigned char *d, size_t n, uint64_t va, size_t *off)
{
	Elf64_Ehdr eh;
	memcpy(&eh, d, sizeof(eh)); /* an ELF64: bl_kernel_elf_section checked it */
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > n ||
	    (n - eh.e_phoff) / sizeof(Elf64_Phdr) < eh.e_phnum)
		return -1;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr p;
		memcpy(&p, d + eh.e_phoff + i * sizeof(p), sizeof(p));
		if (p.p_type != PT_LOAD || va < p.p_vaddr || va - p.p_vaddr >= p.p_filesz ||
		    p.p_offset > n || n - p.p_offset < 8 || va - p.p_vaddr > n - p.p_offset - 8)
			continue;
		*off = p.p_offset + (va - p.p_vaddr);
		return 0;
	}
	return -1;
}

/* the value of the symbol name in the ELF64's .symtab */
static int elf_symbol(const char *path, const unsigned char *d, size_t n, const char *name,
		      uint64_t *value)
{
	const unsigned char *syms, *strs;
	size_t slen, tlen, nl = strlen(name);
	if (bl_kernel_elf_section(path, d, n, ".symtab", &syms, &slen) < 0 ||
	    bl_kernel_elf_section(path, d, n, ".strtab", &strs, &tlen) < 0)
		return -1;
	for (size_t o = 0; slen - o >= sizeof(Elf64_Sym); o += sizeof(Elf64_Sym)) {
		Elf64_Sym sym;
		memcpy(&sym, syms + o, sizeof(sym));
		if (sym.st_name < tlen && tlen - sym.st_name > nl &&
		    !memcmp(strs + sym.st_name, name, nl + 1)) {
			*value = sym.st_value;
			return 0;
		}
	}
	return -1;
}

/* the built-in archive between the linker's __initramfs_start and
 * __initramfs_size, when the ELF has its symbols (bootlab's own builds):
 * exact, compressed or not; 1 without the symbols */
static int by_symbols(const char *path, const unsigned char *d, size_t n, struct bl_initrd *rd)
{
	uint64_t start, size_va;
	size_t off, size_off;
	if (elf_symbol(path, d, n, "__initramfs_start", &start) < 0 ||
	    elf_symbol(path, d, n, "__initramfs_size", &size_va) < 0 ||
	    elf_offset(d, n, start, &off) < 0 || elf_offset(d, n, size_va, &size_off) < 0)
		return 1;
	uint64_t size = le32(d + size_off) | (uint64_t)le32(d + size_off + 4) << 32;
	if (size > n - off)
		return bl_err("'%s': __initramfs_size (%llu) runs past the end of the file", path,
			      (unsigned long long)size);
	if (bl_initrd_parse(rd, d + off, size, 0) < 0)
		return bl_err_prefix("'%s': its built-in initramfs", path);
	return 0;
}

/* the built-in archive inside an unpacked image */
static int from_vmlinux(const char *path, const unsigned char *d, size_t n, struct bl_initrd *rd)
{
	const unsigned char *sect = d;
	size_t len = n;
	int rc = by_symbols(path, d, n, rd);
	if (rc <= 0)
		return rc;
	if (bl_kernel_elf_section(path, d, n, ".init.data", &sect, &len) < 0) {
		sect = d; /* no ELF64, or no such section: search it all */
		len = n;
	}
	if (find_newc(sect, len, rd) < 0)
		return bl_err(
		    "'%s': no uncompressed built-in initramfs found (a compressed "
		    "built-in archive is only read through the symbols of an unstripped ELF)",
		    path);
	return 0;
}

int bl_kernel_builtin_archive(const char *image, struct bl_initrd *rd)
{
	char *data = NULL;
	size_t n = 0;
	struct strbuf vm = STRBUF_INIT;
	memset(rd, 0, sizeof(*rd));
	if (bl_read_file(image, &data, &n) < 0)
		return -1;
	const unsigned char *d = (const unsigned char *)data;
	int rc = bzimage_payload(image, d, n, &vm);
	if (rc == 0)
		rc = from_vmlinux(image, (unsigned char *)vm.buf, vm.len, rd);
	else if (rc > 0)
		rc = from_vmlinux(image, d, n, rd);
	sb_release(&vm);
	free(data);
	return rc < 0 ? -1 : 0;
}
