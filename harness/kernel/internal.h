/* harness/kernel's interfaces between its own files; other stages use
 * kernel.h only.
 *
 *   kernel.c   arch names, config queries, releasing a struct bl_kernel
 *   make.c     the arch recipes, the full build, bl_kernel_build()
 *   relink.c   a cached build relinked with a built-in archive
 *   linked.c   what a relink linked, read back; ELF sections
 *   builtin.c  the built-in archive of any kernel image, read back
 *   fragment.c a config fragment's text, its base fragments first
 *   key.c      what a build's cache key is made of
 *   source.c   Debian's kernel source, extracted once
 *   step.c     locks, and commands run with a log and a progress line
 *   cache.c    info files, storing and loading entries, listing, cleaning
 *   distro.c   distro kernels (an image and its modules tree)
 *   fetch.c    Debian's arm64 kernel package
 *   modules.c  module dependencies with libkmod
 *
 * Same conventions as kernel.h: 0 or -1 with bl_errmsg() set, failures
 * of a tool or build marked BL_EK_INFRA. */
#ifndef BL_KERNEL_INTERNAL_H
#define BL_KERNEL_INTERNAL_H

#include "kernel.h"
#include "util/util.h"

#include <stdint.h>

/* bump when the steps change in a way that changes the result:
 * RECIPE_VERSION keys whole builds, RELINK_VERSION the built-in relinks
 * inside them (2: the relink that wrote heap bytes after the archive) */
#define RECIPE_VERSION "bootlab-kernel-recipe-1"
#define RELINK_VERSION "bootlab-relink-recipe-2"
#define DEBIAN_SOURCE "/usr/src/linux-source-6.1.tar.xz"
/* what CONFIG_INITRAMFS_SOURCE names in every build folder (make.c says why) */
#define BUILTIN_NAME "initramfs.cpio.bin"

static inline int bl_kernel_infra(void)
{
	bl_err_kind(BL_EK_INFRA);
	return -1;
}

/* ---- make.c ---- */

struct bl_kernel_recipe {
	const char *name;   /* bootlab's name */
	const char *karch;  /* ARCH= (NULL: none, tinyconfig derived as the recipes measured) */
	const char *cross;  /* CROSS_COMPILE= or NULL */
	const char *target; /* make target for the full build */
	const char *relink; /* make target for a built-in relink */
	const char *image;  /* path in the O= tree */
	const char *image2; /* second image kept (bzImage) or NULL */
};

/* One cache entry's build and where its parts are. Every string is owned
 * by it: bl_kernel_tree_release() frees them. */
struct bl_kernel_tree {
	const struct bl_kernel_recipe *r;
	char *kdir;	/* <cache>/kernels */
	char *dir;	/* <cache>/kernels/<arch>-<hash> */
	char *hash;	/* 64 hex */
	char thash[65]; /* sha256 of Debian's source tarball; "" with a source folder */
	char *src;	/* kernel source tree (NULL until extracted) */
	char *bdir;	/* dir/build */
	char *logp;	/* dir/build.log */
	char *frag;	/* fragment path */
	char *fragtext; /* its text, bases expanded (fragment.c) */
	size_t fraglen;
	char jobs[24]; /* "-j<cores>" */
};
void bl_kernel_tree_release(struct bl_kernel_tree *t);

struct bl_kernel_progress;
/* make TARGET in the tree's O= folder, as one step */
int bl_kernel_tree_make(const struct bl_kernel_tree *t, const char *target, int logfd,
			struct bl_kernel_progress *p);
/* the O= tree's kernel.release; caller frees; NULL when there is none */
char *bl_kernel_tree_version(const struct bl_kernel_tree *t);
/* the kernel's usr/default_cpio_list as an uncompressed archive at path:
 * dir /dev 0755, nod /dev/console 0600 c 5 1, dir /root 0700 */
int bl_kernel_default_builtin(const char *path);

/* ---- fragment.c ---- */
/* out gets the fragment at path with its "# base: NAME" line expanded
 * (the base's text first); every file is checked to be for arch */
int bl_kernel_fragment_text(const char *path, const char *arch, struct strbuf *out);
/* a fragment named after another arch (kernels/um.config for x86_64) */
int bl_kernel_fragment_arch_check(const char *frag, const char *arch);
/* out gets each line of frag (a fragment's expanded text) that cfg (the
 * final .config's text) does not honour; of several lines naming one
 * option only the last counts */
void bl_kernel_fragment_unmet(const char *frag, size_t len, const char *cfg, struct strlist *out);

/* ---- step.c ---- */

/* flock'ed fd on path (created), waiting with a message when busy; close to unlock */
int bl_kernel_lock(const char *path, const char *what, int quiet);
/* the commands run from now on inherit fd (a held lock), -1 for none */
void bl_kernel_lock_inherit(int fd);

/* the progress line of a series of steps */
struct bl_kernel_progress {
	const char *what; /* "kernel x86_64" */
	int quiet, tty;
	int64_t start, last_plain;
	long steps;
	long expect; /* steps of an earlier build of this arch, 0 = unknown */
	int shown;   /* a live line is on the terminal */
};
/* expect: the steps an earlier build took (0 = unknown) */
void bl_kernel_progress_init(struct bl_kernel_progress *p, const char *what, int quiet,
			     long expect);
/* run argv in cwd, output appended to logfd (whose path is logpath), one
 * progress step per output line; 0, or -1 (INFRA) with the log's tail in
 * the message */
int bl_kernel_run_step(char *const argv[], const char *cwd, int logfd, const char *logpath,
		       struct bl_kernel_progress *p);

/* ---- key.c ---- */

/* t->hash from the recipe, arch, source, toolchain and t->frag; with
 * source_dir sets t->src, else t->thash. t->r, t->kdir and t->frag are set. */
int bl_kernel_key(struct bl_kernel_tree *t, const char *source_dir);

/* ---- source.c ---- */

/* the source tarball (sha256 thash) extracted under kdir/src, once; the
 * tree's path, caller frees; NULL on failure */
char *bl_kernel_source_extract(const char *kdir, const char *tarball, const char *thash, int quiet);

/* ---- relink.c ---- */

/* "builtin/<key>" for the archive with sha256 ahash; caller frees */
char *bl_kernel_relink_dir(const char *ahash);
/* the CONFIG_INITRAMFS_SOURCE t->dir's build tree was configured with,
 * when it is not t->dir's own: the entry was moved or copied from another
 * cache folder and cannot relink; caller frees; NULL when it can */
char *bl_kernel_tree_moved(const struct bl_kernel_tree *t);
/* relink the (locked, complete, not moved) build with archive as its
 * built-in initramfs, stored in t->dir/sub */
int bl_kernel_relink(const struct bl_kernel_tree *t, const char *archive, const char *ahash,
		     const char *sub, int quiet);

/* ---- linked.c ---- */

/* the section named name of the ELF64 little-endian object (read from
 * path) held in buf */
int bl_kernel_elf_section(const char *path, const unsigned char *buf, size_t len, const char *name,
			  const unsigned char **out, size_t *out_len);

/* ---- cache.c ---- */

/* value of key in an info file's "key=value" lines; caller frees; NULL if absent */
char *bl_kernel_info_get(const char *info, const char *key);
/* <cache>/kernels/<name>; caller frees; NULL when there is no cache folder */
char *bl_kernel_cache_path(const char *name);
/* fill *out from the info file of a complete build folder (dir/sub with sub) */
int bl_kernel_cache_load(const char *dir, const char *sub, struct bl_kernel *out);
/* Copy the tree's boot image into dest (a base build: also the config and
 * a second image), then write dest/info last, with extra lines appended.
 * *version: kernel.release, caller frees. */
int bl_kernel_cache_store(const struct bl_kernel_tree *t, const char *dest, int base,
			  const char *extra, double secs, char **version);

#endif
