/* Kernel values: the arch names users type, config queries, releasing a
 * struct bl_kernel. Built kernels come from make.c (through the cache),
 * distro kernels from distro.c and fetch.c. */
#include "kernel.h"
#include "util/util.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const char *bl_kernel_arch_name(const char *arch)
{
	if (!arch)
		return NULL;
	if (!strcmp(arch, "x86_64") || !strcmp(arch, "amd64") || !strcmp(arch, "x86"))
		return "x86_64";
	if (!strcmp(arch, "aarch64") || !strcmp(arch, "arm64"))
		return "aarch64";
	if (!strcmp(arch, "um") || !strcmp(arch, "uml"))
		return "um";
	return NULL;
}

/* the ELF note Xen's PVH entry is in (XEN_ELFNOTE_PHYS32_ENTRY): QEMU's
 * -kernel boots a vmlinux only through it */
#define XEN_NOTE_PHYS32_ENTRY 18

static bool note_has_pvh(const unsigned char *p, size_t len)
{
	for (size_t off = 0; off + sizeof(Elf64_Nhdr) <= len;) {
		const Elf64_Nhdr *n = (const Elf64_Nhdr *)(p + off);
		size_t name = (n->n_namesz + 3) & ~3u, desc = (n->n_descsz + 3) & ~3u;
		size_t next = off + sizeof(*n) + name + desc;
		if (next > len || next <= off)
			return false;
		if (n->n_type == XEN_NOTE_PHYS32_ENTRY && n->n_namesz == 4 &&
		    !memcmp(p + off + sizeof(*n), "Xen", 4))
			return true;
		off = next;
	}
	return false;
}

/* an x86_64 vmlinux in FD (header E) with a PVH entry among its notes */
static bool elf_has_pvh(int fd, const Elf64_Ehdr *e)
{
	for (unsigned i = 0; i < e->e_phnum && i < 64; i++) {
		Elf64_Phdr ph;
		off_t at = (off_t)(e->e_phoff + (Elf64_Off)i * sizeof(ph));
		if (pread(fd, &ph, sizeof(ph), at) != (ssize_t)sizeof(ph))
			return false;
		if (ph.p_type != PT_NOTE || ph.p_filesz > 65536)
			continue;
		unsigned char *buf = xmalloc(ph.p_filesz + 1);
		bool pvh =
		    pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset) == (ssize_t)ph.p_filesz &&
		    note_has_pvh(buf, ph.p_filesz);
		free(buf);
		if (pvh)
			return true;
	}
	return false;
}

bool bl_kernel_mmio_cmdline(const struct bl_kernel *k)
{
	if (k->config)
		return bl_kernel_config(k, "VIRTIO_MMIO_CMDLINE_DEVICES") == 'y';
	if (k->kind != BL_KERNEL_PVH)
		return false;
	/* the built-in parameter's name, as module_param() stores it */
	static const char name[] = "virtio_mmio.device";
	int fd = open(k->image, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(name)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	bool found = memmem(map, (size_t)st.st_size, name, sizeof(name)) != NULL;
	munmap(map, (size_t)st.st_size);
	return found;
}

/* the kind by the first bytes B (N >= 0x40); PVH still to be confirmed */
static enum bl_kernel_kind kind_of_header(const unsigned char *b, size_t n)
{
	if (n >= 0x206 && !memcmp(b + 0x202, "HdrS", 4))
		return BL_KERNEL_BZIMAGE; /* the x86 boot protocol header */
	if (!memcmp(b + 0x38, "ARM\x64", 4))
		return BL_KERNEL_ARM64; /* the arm64 Image header's magic */
	if (memcmp(b, ELFMAG, SELFMAG) || b[EI_CLASS] != ELFCLASS64)
		return BL_KERNEL_UNKNOWN;
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)b;
	if (e->e_machine == EM_AARCH64)
		return BL_KERNEL_ARM64;
	if (e->e_machine != EM_X86_64)
		return BL_KERNEL_UNKNOWN;
	/* a UML kernel is a host program; vmlinux links high (or PVH-low, but
	 * then it carries no interpreter and is ET_EXEC too): tell by the
	 * entry, user space is below the canonical hole */
	return e->e_entry >= 0xffff800000000000ULL || e->e_entry < 0x10000000ULL ? BL_KERNEL_PVH
										 : BL_KERNEL_UML;
}

enum bl_kernel_kind bl_kernel_kind_of(const char *path)
{
	unsigned char b[0x210];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return BL_KERNEL_UNKNOWN;
	ssize_t n = read(fd, b, sizeof(b));
	enum bl_kernel_kind kind = n < 0x40 ? BL_KERNEL_UNKNOWN : kind_of_header(b, (size_t)n);
	if (kind == BL_KERNEL_PVH && !elf_has_pvh(fd, (const Elf64_Ehdr *)b))
		kind = BL_KERNEL_UNKNOWN;
	close(fd);
	return kind;
}

/* PATH is an ELF file and not a UML program: a kernel's vmlinux */
static bool is_vmlinux(const char *path)
{
	unsigned char b[SELFMAG];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool elf = fd >= 0 && read(fd, b, SELFMAG) == SELFMAG && !memcmp(b, ELFMAG, SELFMAG);
	if (fd >= 0)
		close(fd);
	/* a vmlinux without a PVH note reads as unknown: still a kernel's */
	return elf && bl_kernel_kind_of(path) != BL_KERNEL_UML;
}

char *bl_kernel_vmlinux(const char *image)
{
	if (is_vmlinux(image))
		return xstrdup(image);
	const char *slash = strrchr(image, '/');
	int dl = slash ? (int)(slash - image) : 1;
	const char *dir = slash ? image : ".";
	const char *base = slash ? slash + 1 : image;
	char *c[3] = {
	    xasprintf("%.*s/vmlinux", dl, dir),
	    xasprintf("%.*s/build/vmlinux", dl, dir),
	    strncmp(base, "vmlinuz-", 8) ? NULL
					 : xasprintf("/usr/lib/debug/boot/vmlinux-%s", base + 8),
	};
	char *found = NULL;
	for (size_t i = 0; i < 3; i++) {
		if (!found && c[i] && is_vmlinux(c[i]))
			found = c[i];
		else
			free(c[i]);
	}
	return found;
}

const char *bl_kernel_kind_arch(enum bl_kernel_kind kind)
{
	switch (kind) {
	case BL_KERNEL_PVH:
	case BL_KERNEL_BZIMAGE:
		return "x86_64";
	case BL_KERNEL_ARM64:
		return "aarch64";
	case BL_KERNEL_UML:
		return "um";
	case BL_KERNEL_UNKNOWN:
		break;
	}
	return NULL;
}

void bl_kernel_release(struct bl_kernel *k)
{
	if (!k)
		return;
	free(k->arch);
	free(k->flavor);
	free(k->image);
	free(k->config);
	free(k->version);
	free(k->modules_dir);
	free(k->build_dir);
	free(k->bzimage);
	memset(k, 0, sizeof(*k));
}

int bl_kernel_config(const struct bl_kernel *k, const char *option)
{
	if (!k || !k->config || !option)
		return 0;
	char *data;
	size_t len;
	if (bl_read_file(k->config, &data, &len) < 0)
		return 0;
	const char *name = strncmp(option, "CONFIG_", 7) ? option : option + 7;
	size_t nl = strlen(name);
	int r = 0;
	/* line by line: a strstr over the whole ~35 KB .config cost ~0.3 ms,
	 * on every boot's way to its emulator */
	for (const char *p = data, *end = data + len, *e; p < end; p = e + 1) {
		e = memchr(p, '\n', (size_t)(end - p));
		if (!e)
			e = end;
		if ((size_t)(e - p) == 7 + nl + 2 && !memcmp(p, "CONFIG_", 7) &&
		    !memcmp(p + 7, name, nl) && p[7 + nl] == '=' &&
		    (p[8 + nl] == 'y' || p[8 + nl] == 'm')) {
			r = p[8 + nl];
			break;
		}
	}
	free(data);
	return r;
}
