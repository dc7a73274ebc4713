/* harness/kernel: the kernels bootlab boots.
 *
 * Built kernels come from Debian's linux-source-6.1 (or a user's tree) and a
 * config fragment from kernels/, merged onto `make tinyconfig`, built
 * out-of-tree into ${XDG_CACHE_HOME:-~/.cache}/bootlab/kernels/<arch>-<hash>/
 * where the hash covers the source, the fragment, the toolchain and the
 * build recipe. A built-in archive (CONFIG_INITRAMFS_SOURCE) is added by
 * relinking that cached build, cached again by the archive's hash.
 * Distro kernels are an image plus its /lib/modules/<version> tree; their
 * modules are resolved with libkmod. docs/kernels.md has the details.
 *
 * Every string in struct bl_kernel is owned by it: bl_kernel_release()
 * frees them. Functions return 0 or -1 with bl_errmsg() set; a failed
 * build or tool is marked bl_err_kind(BL_EK_INFRA). */
#ifndef BL_KERNEL_H
#define BL_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* what an image is, read from its own bytes (bl_kernel_kind_of): the
 * machine a kernel can boot on depends on it, never on its file name */
enum bl_kernel_kind {
	BL_KERNEL_UNKNOWN,
	BL_KERNEL_PVH,	   /* x86_64 ELF vmlinux with a PVH note: QEMU's -kernel enters it there */
	BL_KERNEL_BZIMAGE, /* x86 boot protocol ("HdrS"): bzImage, vmlinuz */
	BL_KERNEL_ARM64,   /* arm64 Image ("ARM\x64" magic) or an aarch64 ELF */
	BL_KERNEL_UML,	   /* User-Mode Linux: a host program */
};

struct bl_kernel {
	enum bl_kernel_kind kind;
	char *arch;	   /* "x86_64", "aarch64", "um" */
	char *flavor;	   /* "built" or "distro" */
	char *image;	   /* what the emulator boots: PVH vmlinux (x86_64 built),
			      bzImage/vmlinuz (distro), Image (arm64), linux (UML) */
	char *config;	   /* path of the kernel .config, for feature checks (may be NULL) */
	char *version;	   /* uname -r style */
	char *modules_dir; /* distro: /lib/modules/<version> (or a depmod'ed copy), else NULL */
	char *build_dir;   /* built: cache folder of the build, else NULL */
	char *bzimage;	   /* built x86_64 without built-in archive: the bzImage (also image
			      when the vmlinux has no PVH entry) */
};

struct bl_kernel_req {
	const char *arch;	/* "x86_64", "aarch64" (or "arm64"), "um" */
	const char *fragment;	/* NULL = kernels/<arch>.config of this bootlab tree */
	const char *source_dir; /* NULL = Debian's /usr/src/linux-source-6.1.tar.xz */
	const char *builtin;	/* NULL, or an archive to link in as the built-in initramfs;
				   copied byte for byte (compressed or not) */
	int quiet;		/* no progress output */
	int cached_only;	/* do not build: fail unless the kernel is in the cache */
};

/* Build (or find in the cache) the kernel req describes; fills *out. A
 * second call with the same inputs returns at once. Concurrent callers are
 * serialised by a lock file per kernel. */
int bl_kernel_build(const struct bl_kernel_req *req, struct bl_kernel *out);

/* A distro kernel: image (e.g. /boot/vmlinuz-6.1.0-28-cloud-amd64) and its
 * modules tree (NULL = /lib/modules/<version> guessed from the image name,
 * when it exists). When the tree has no modules.dep, a depmod'ed copy in the
 * cache is used. The arch is guessed from the image. */
int bl_kernel_distro(const char *image, const char *modules_dir, struct bl_kernel *out);

/* Debian's arm64 kernel package, downloaded with apt-get (foreign arch) and
 * extracted into the cache (no install); fills *out like bl_kernel_distro. */
int bl_kernel_fetch(const char *arch, int quiet, struct bl_kernel *out);

void bl_kernel_release(struct bl_kernel *k);

/* 'y', 'm' or 0 for a CONFIG_ option of this kernel ("CONFIG_" optional).
 * Reads k->config (for distro kernels /boot/config-<version>); 0 when there
 * is no config. */
int bl_kernel_config(const struct bl_kernel *k, const char *option);

/* Whether the kernel parses virtio_mmio.device= (what microvm's devices
 * need): its .config's CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES when it has one,
 * else, for a vmlinux, the built-in parameter's name among its bytes. */
bool bl_kernel_mmio_cmdline(const struct bl_kernel *k);

/* Resolve module names (e.g. "virtio_console", aliases work too) to .ko
 * paths in load order (dependencies first, depth-first) with libkmod,
 * skipping built-ins. *paths is a NULL-terminated array; the caller frees
 * each string and the array. A name that is neither a module nor built in
 * is an error. */
int bl_kernel_modules_resolve(const struct bl_kernel *k, const char *const *names, size_t n,
			      char ***paths, size_t *npaths);

/* The modules the agent's virtio-serial port needs on this kernel, in load
 * order: nothing when VIRTIO_CONSOLE and the transport are built in, else
 * e.g. virtio_pci + virtio_console and their dependencies for a distro
 * kernel. transport: "pci" (q35, virt with virtio-serial-pci) or "mmio"
 * (microvm, virt with virtio-serial-device). Frees like
 * bl_kernel_modules_resolve. */
int bl_kernel_agent_modules(const struct bl_kernel *k, const char *transport, char ***paths,
			    size_t *npaths);

/* One cached kernel, for `bootlab kernel list`. */
struct bl_kernel_entry {
	char arch[16], flavor[16], hash[40], version[64];
	char *image;   /* caller frees (via bl_kernel_entries_free) */
	char *builtin; /* archive hash when this is a built-in relink, else NULL */
	long long size, mtime;
};
/* every complete entry of the cache, oldest first; free with bl_kernel_entries_free */
int bl_kernel_cache_list(struct bl_kernel_entry **list, size_t *n);
void bl_kernel_entries_free(struct bl_kernel_entry *list, size_t n);

/* Remove cache entries, each under its lock (busy ones are skipped with a
 * warning). With hashes: those entries (a prefix of the hash is enough);
 * builtin_only: only their built-in relinks (all entries' when n == 0);
 * neither: incomplete entries (no info) and leftover temporary folders.
 * Each removed folder is printed on out when out != NULL. */
int bl_kernel_cache_clean(const char *const *hashes, size_t n, int builtin_only, FILE *out);

/* the kind of the image at PATH by its first bytes; BL_KERNEL_UNKNOWN
 * when unreadable or none of the kinds */
enum bl_kernel_kind bl_kernel_kind_of(const char *path);
/* The ELF vmlinux with the symbols of the kernel image IMAGE, for gdb: the
 * image itself when it is one (a PVH vmlinux), else a vmlinux beside it
 * or in its build folder (bootlab's cache), else Debian's debug package's
 * /usr/lib/debug/boot/vmlinux-VERSION for /boot/vmlinuz-VERSION; NULL
 * when there is none (caller frees) */
char *bl_kernel_vmlinux(const char *image);
/* "x86_64", "aarch64", "um" for a kind; NULL for BL_KERNEL_UNKNOWN */
const char *bl_kernel_kind_arch(enum bl_kernel_kind kind);

/* "x86_64", "aarch64", "um" for the spellings users type (amd64, arm64...), or NULL */
const char *bl_kernel_arch_name(const char *arch);

/* The archive in the .init.ramfs section of object (a relink's
 * usr/initramfs_data.o) reads back entry for entry as archive, with the
 * kernel's rules for what may follow a trailer; byte for byte when archive
 * does not parse. 0, or -1 naming the first difference. */
int bl_kernel_check_linked(const char *object, const char *archive);

/* The built-in initramfs of the kernel image at path (a bzImage's
 * compressed payload unpacked first) into *rd, for lint: a distribution
 * kernel's is usr/default_cpio_list (/dev, /dev/console, /root). By the
 * __initramfs_start/__initramfs_size symbols when the image has them, else
 * the first uncompressed newc archive in .init.data (builtin.c). -1 when
 * none is found or it does not unpack. Release rd with bl_initrd_release. */
struct bl_initrd;
int bl_kernel_builtin_archive(const char *path, struct bl_initrd *rd);

#endif
