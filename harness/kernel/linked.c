/* What a relink really linked: the .init.ramfs section of the build's
 * usr/initramfs_data.o (the bytes usr/initramfs_data.S pulls in with
 * .incbin, which the linker places between __initramfs_start and
 * __initramfs_size), read back and compared with the archive the caller
 * gave, entry for entry.
 *
 * Why entries and not bytes: the kernel reads the section with
 * unpack_to_rootfs(), which eats NUL padding after a trailer, so zeros at
 * the end are harmless while anything else (a second member, heap bytes
 * written past the end of a buffer) changes what the guest unpacks. An
 * archive that does not parse at all (a deliberately broken test archive)
 * must be linked byte for byte. */
#include "internal.h"
#include "archive/archive.h"
#include "util/util.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

int bl_kernel_elf_section(const char *path, const unsigned char *buf, size_t len, const char *name,
			  const unsigned char **out, size_t *out_len)
{
	const Elf64_Ehdr *eh = (const void *)buf;
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return bl_err("'%s' is not a 64-bit little-endian ELF object", path);
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > len ||
	    (len - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum || eh->e_shstrndx >= eh->e_shnum)
		return bl_err("'%s': section headers out of bounds", path);
	const Elf64_Shdr *sh = (const void *)(buf + eh->e_shoff);
	const Elf64_Shdr *strs = &sh[eh->e_shstrndx];
	if (strs->sh_offset > len || strs->sh_size > len - strs->sh_offset)
		return bl_err("'%s': section names out of bounds", path);
	size_t nl = strlen(name);
	for (size_t i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_name >= strs->sh_size || strs->sh_size - sh[i].sh_name <= nl ||
		    memcmp(buf + strs->sh_offset + sh[i].sh_name, name, nl + 1))
			continue;
		if (sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset)
			return bl_err("'%s': section '%s' out of bounds", path, name);
		*out = buf + sh[i].sh_offset;
		*out_len = sh[i].sh_size;
		return 0;
	}
	return bl_err("'%s' has no section '%s'", path, name);
}

/* the first field in which two entries differ, or NULL */
static const char *entry_diff(const struct bl_initrd *a, const struct bl_cpio_entry *x,
			      const struct bl_initrd *b, const struct bl_cpio_entry *y)
{
	size_t xl = 0, yl = 0;
	const unsigned char *xd = bl_initrd_content(a, x, &xl);
	const unsigned char *yd = bl_initrd_content(b, y, &yl);
	if (strcmp(x->name, y->name))
		return "name";
	if (x->mode != y->mode)
		return "mode";
	if (x->uid != y->uid || x->gid != y->gid)
		return "owner";
	if (x->ino != y->ino || x->nlink != y->nlink)
		return "inode or link count";
	if (x->mtime != y->mtime)
		return "mtime";
	if (x->devmajor != y->devmajor || x->devminor != y->devminor ||
	    x->rdevmajor != y->rdevmajor || x->rdevminor != y->rdevminor)
		return "device numbers";
	if (x->filesize != y->filesize || xl != yl || (xl && memcmp(xd, yd, xl)))
		return "content";
	if (x->check != y->check || x->crc != y->crc)
		return "checksum";
	return NULL;
}

static int compare_entries(const struct bl_initrd *want, const struct bl_initrd *got)
{
	size_t n = want->n_entries < got->n_entries ? want->n_entries : got->n_entries;
	for (size_t i = 0; i < n; i++) {
		const char *d = entry_diff(want, &want->entries[i], got, &got->entries[i]);
		if (d)
			return bl_err("entry %zu ('%s'): its %s differs from the archive's ('%s')",
				      i + 1, got->entries[i].name, d, want->entries[i].name);
	}
	if (want->n_entries != got->n_entries)
		return bl_err("%zu entries linked, the archive has %zu", got->n_entries,
			      want->n_entries);
	return 0;
}

int bl_kernel_check_linked(const char *object, const char *archive)
{
	char *obj = NULL, *arc = NULL;
	size_t olen = 0, alen = 0, slen = 0;
	const unsigned char *sect = NULL;
	struct bl_initrd want = {0}, got = {0};
	int rc = -1;

	if (bl_read_file(object, &obj, &olen) < 0 || bl_read_file(archive, &arc, &alen) < 0)
		goto out;
	if (bl_kernel_elf_section(object, (unsigned char *)obj, olen, ".init.ramfs", &sect, &slen) <
	    0)
		goto out;
	if (bl_initrd_parse(&want, arc, alen, 0) < 0) {
		/* a broken archive is linked as it is, byte for byte */
		rc = slen == alen && !memcmp(sect, arc, alen)
			 ? 0
			 : bl_err("%zu bytes linked, the (unparsable) archive has %zu%s", slen,
				  alen, slen == alen ? " different ones" : "");
		goto out;
	}
	if (bl_initrd_parse(&got, sect, slen, 0) < 0) {
		bl_err_prefix("the linked archive (%zu bytes, the archive has %zu) does not read "
			      "back",
			      slen, alen);
		goto out;
	}
	rc = compare_entries(&want, &got);
out:
	if (rc < 0)
		bl_err_prefix("built-in archive '%s' linked into '%s'", archive, object);
	bl_initrd_release(&want);
	bl_initrd_release(&got);
	free(obj);
	free(arc);
	return rc;
}
