/* Building kernels into the cache, and relinking them with a built-in
 * archive.
 *
 * Layout under <cache>/kernels/:
 *   src/<tarball-hash>/linux-source-6.1/   extracted once, shared
 *   <arch>-<hash>/build/                   the O= tree (relinks mutate it)
 *   <arch>-<hash>/build.log                full log of the last make run
 *   <arch>-<hash>/vmlinux|Image|linux      the boot image, copied out
 *   <arch>-<hash>/config                   the final .config
 *   <arch>-<hash>/initramfs.cpio.bin       CONFIG_INITRAMFS_SOURCE (fixed path)
 *   <arch>-<hash>/info                     written last: the build is complete
 *   <arch>-<hash>/builtin/<archive-hash>/  image + info of one relink
 *   <arch>-<hash>.lock                     flock'ed while building/relinking
 *
 * Why the fixed CONFIG_INITRAMFS_SOURCE from the start: changing that
 * string rebuilds the whole kernel (docs/kernels.md#measured: 4 min 52 s),
 * rewriting the file it names only reruns usr/ and the final link (8 s).
 * The name matches *.cpio.* so kbuild copies it byte for byte: the built-in
 * archive is exactly the file the user gave, whatever its compression. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const struct bl_kernel_recipe recipes[] = {
    {"x86_64", NULL, NULL, "bzImage", "vmlinux", "vmlinux", "arch/x86/boot/bzImage"},
    {"aarch64", "arm64", "aarch64-linux-gnu-", "Image", "Image", "arch/arm64/boot/Image", NULL},
    {"um", "um", NULL, "linux", "linux", "linux", NULL},
};

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

static const struct bl_kernel_recipe *recipe_for(const char *arch)
{
	const char *n = bl_kernel_arch_name(arch);
	for (size_t i = 0; n && i < BL_ARRAY_SIZE(recipes); i++)
		if (!strcmp(recipes[i].name, n))
			return &recipes[i];
	return NULL;
}


/* ---- hashing the inputs ---- */

/* the sha256 of a file's identity: path, inode, size and mtime */
static void identity_key(const char *path, const struct stat *st, char khex[65])
{
	char *key = xasprintf("%s\n%llu\n%llu\n%lld\n%ld", path, (unsigned long long)st->st_ino,
			      (unsigned long long)st->st_size, (long long)st->st_mtim.tv_sec,
			      st->st_mtim.tv_nsec);
	struct bl_sha256 h;
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, key);
	bl_sha256_final_hex(&h, khex);
	free(key);
}

/* sha256 of a big file, remembered by (path, inode, size, mtime) so that a
 * cached build is found without reading 138 MB again */
static int file_hash_memo(const char *kdir, const char *path, char out[65])
{
	struct stat st;
	if (stat(path, &st) < 0) {
		bl_err_errno("cannot read kernel source '%s'", path);
		return bl_kernel_infra();
	}
	char khex[65];
	struct bl_sha256 h;
	identity_key(path, &st, khex);
	char *memo = xasprintf("%s/src/memo-%.16s", kdir, khex);
	char *data;
	size_t len;
	if (bl_file_exists(memo) && bl_read_file(memo, &data, &len) == 0) {
		if (len >= 64) {
			memcpy(out, data, 64);
			out[64] = 0;
			free(data);
			free(memo);
			return 0;
		}
		free(data);
	}
	bl_sha256_init(&h);
	if (bl_sha256_update_file(&h, path) < 0) {
		bl_sha256_final_hex(&h, out);
		free(memo);
		return bl_kernel_infra();
	}
	bl_sha256_final_hex(&h, out);
	char *dir = xasprintf("%s/src", kdir);
	if (bl_mkdir_p(dir, 0755) == 0)
		bl_write_file_atomic(memo, out, 64, 0644);
	free(dir);
	free(memo);
	return 0;
}

/* the compiler's binary: argv0 searched in PATH, symlinks resolved */
static char *find_compiler(const char *argv0)
{
	const char *path = getenv("PATH");
	char *dirs = xstrdup(path && *path ? path : "/usr/bin:/bin"), *save = NULL;
	char *found = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", *d ? d : ".", argv0);
		if (access(p, X_OK) == 0)
			found = realpath(p, NULL);
		free(p);
	}
	free(dirs);
	return found;
}

/* The first line of `gcc --version` (part of the kernel's cache key).
 * Running gcc costs ~2 ms on every boot's kernel lookup, so the answer is
 * remembered in kdir/tool/ by the compiler binary's real path, inode, size
 * and mtime: a new gcc package or a switched alternative is a new binary
 * and asks gcc again. */
static char *toolchain_version(const char *kdir, const struct bl_kernel_recipe *r)
{
	char *cc = xasprintf("%sgcc", r->cross ? r->cross : "");
	char *bin = find_compiler(cc), *memo = NULL, *out = NULL, *data;
	struct stat st;
	size_t len;
	int status = 0;
	if (bin && stat(bin, &st) == 0) {
		char khex[65];
		identity_key(bin, &st, khex);
		memo = xasprintf("%s/tool/%.16s", kdir, khex);
		if (bl_file_exists(memo) && bl_read_file(memo, &data, &len) == 0) {
			if (len > 0 && !memchr(data, '\n', len)) {
				free(bin);
				free(memo);
				free(cc);
				return data;
			}
			free(data);
		}
	}
	char *argv[] = {cc, "--version", NULL};
	if (bl_run(argv, 30000, &out, &status) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		free(out);
		free(bin);
		free(memo);
		bl_err("compiler '%s' not found (install it with ci/install-deps)", cc);
		free(cc);
		bl_kernel_infra();
		return NULL;
	}
	free(cc);
	free(bin);
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
	if (memo && *out) {
		char *dir = xasprintf("%s/tool", kdir);
		if (bl_mkdir_p(dir, 0755) == 0)
			bl_write_file_atomic(memo, out, strlen(out), 0644);
		free(dir);
	}
	free(memo);
	return out;
}

/* ---- source ---- */

/* the one folder inside dir (the tarball's top level) */
static char *only_subdir(const char *dir)
{
	char *argv[] = {"find", (char *)dir, "-mindepth", "1", "-maxdepth",
			"1",	"-type",     "d",	  NULL};
	char *out = NULL;
	int st;
	if (bl_run(argv, 10000, &out, &st) < 0) {
		free(out);
		return NULL;
	}
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
	if (!*out) {
		free(out);
		return NULL;
	}
	return out;
}

static char *extract_source(const char *kdir, const char *tarball, const char *thash, int quiet)
{
	char *dir = xasprintf("%s/src/%.16s", kdir, thash);
	char *res = NULL;
	if (bl_is_dir(dir) && (res = only_subdir(dir))) {
		free(dir);
		return res;
	}
	char *srcdir = xasprintf("%s/src", kdir);
	char *lockp = xasprintf("%s/src/%.16s.lock", kdir, thash);
	char *tmp = xasprintf("%s/src/%.16s.tmp", kdir, thash);
	char *logp = xasprintf("%s/src/%.16s.log", kdir, thash);
	int lock = -1, logfd = -1;
	if (bl_mkdir_p(srcdir, 0755) < 0)
		goto out;
	lock = bl_kernel_lock(lockp, "the kernel source", quiet);
	if (lock < 0)
		goto out;
	if (bl_is_dir(dir) && (res = only_subdir(dir)))
		goto out;
	bl_rm_rf(tmp);
	if (bl_mkdir_p(tmp, 0755) < 0)
		goto out;
	logfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		bl_err_errno("cannot create '%s'", logp);
		goto out;
	}
	struct bl_kernel_progress p = {.what = "extracting kernel source",
			     .quiet = quiet,
			     .tty = isatty(2),
			     .start = bl_now_ns()};
	if (!quiet)
		fprintf(stderr, "%s '%s'\n", p.what, tarball);
	char *argv[] = {"tar", "-C", tmp, "-xf", (char *)tarball, NULL};
	if (bl_kernel_run_step(argv, NULL, logfd, logp, &p) < 0)
		goto out;
	if (rename(tmp, dir) < 0) {
		bl_err_errno("cannot rename '%s'", tmp);
		goto out;
	}
	res = only_subdir(dir);
	if (!res)
		bl_err("kernel source '%s' has no top folder", tarball);
out:
	if (!res)
		bl_kernel_infra();
	if (logfd >= 0)
		close(logfd);
	if (lock >= 0)
		close(lock);
	free(srcdir);
	free(lockp);
	free(tmp);
	free(logp);
	free(dir);
	return res;
}

/* ---- info files ---- */

char *bl_kernel_info_get(const char *info, const char *key)
{
	size_t kl = strlen(key);
	for (const char *s = info; s && *s;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		if (n > kl && !strncmp(s, key, kl) && s[kl] == '=')
			return xstrndup(s + kl + 1, n - kl - 1);
		s += n + (nl ? 1 : 0);
	}
	return NULL;
}

/* fill *out from a complete build folder's info file */
static int load_built(const char *dir, const char *subdir, struct bl_kernel *out)
{
	char *infop = subdir ? xasprintf("%s/%s/info", dir, subdir) : xasprintf("%s/info", dir);
	char *info;
	size_t len;
	if (bl_read_file(infop, &info, &len) < 0) {
		free(infop);
		return -1;
	}
	free(infop);
	char *image = bl_kernel_info_get(info, "image");
	char *bz = bl_kernel_info_get(info, "bzimage");
	memset(out, 0, sizeof(*out));
	out->arch = bl_kernel_info_get(info, "arch");
	out->flavor = xstrdup("built");
	out->version = bl_kernel_info_get(info, "version");
	out->config = xasprintf("%s/config", dir);
	out->build_dir = xstrdup(dir);
	char *base = subdir ? xasprintf("%s/%s", dir, subdir) : xstrdup(dir);
	out->image = image ? xasprintf("%s/%s", base, image) : NULL;
	if (bz)
		out->bzimage = xasprintf("%s/%s", base, bz);
	free(base);
	free(image);
	free(bz);
	free(info);
	if (!out->arch || !out->image || !out->version) {
		bl_kernel_release(out);
		return bl_err("cache entry '%s' is damaged (remove it)", dir);
	}
	return 0;
}

static int write_info(const char *path, const struct bl_kernel_recipe *r, const char *image,
		      const char *bzimage, const char *version, const char *extra, double secs)
{
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "arch=%s\nflavor=built\nimage=%s\nversion=%s\n", r->name, image, version);
	if (bzimage)
		sb_addf(&sb, "bzimage=%s\n", bzimage);
	sb_addf(&sb, "seconds=%.1f\nrecipe=%s\n%s", secs, RECIPE_VERSION, extra ? extra : "");
	int rc = bl_write_file_atomic(path, sb.buf, sb.len, 0644);
	sb_release(&sb);
	return rc;
}

/* ---- the default built-in archive ---- */

/* The kernel's usr/default_cpio_list as a newc archive: /dev, /dev/console
 * (5:1), /root. A base build carries exactly what a kernel built with an
 * empty CONFIG_INITRAMFS_SOURCE carries (docs/kernel-behaviour.md
 * section 4). */
static void newc_entry(struct strbuf *sb, unsigned ino, const char *name, unsigned mode,
		       unsigned nlink, unsigned rmaj, unsigned rmin)
{
	size_t nlen = strlen(name) + 1;
	sb_addf(sb, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X", ino, mode, 0, 0,
		nlink, 0, 0, 0, 0, rmaj, rmin, nlen, 0);
	sb_add(sb, name, nlen);
	while (sb->len % 4)
		sb_addc(sb, 0);
}

static int write_default_builtin(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	newc_entry(&sb, 721, "dev", 040755, 2, 0, 0);
	newc_entry(&sb, 722, "dev/console", 020600, 1, 5, 1);
	newc_entry(&sb, 723, "root", 040700, 2, 0, 0);
	newc_entry(&sb, 0, "TRAILER!!!", 0, 1, 0, 0);
	while (sb.len % 512)
		sb_addc(&sb, 0);
	int rc = bl_write_file_atomic(path, sb.buf, sb.len, 0644);
	sb_release(&sb);
	return rc;
}

/* ---- the build ---- */

struct ctx {
	const struct bl_kernel_recipe *r;
	char *kdir; /* <cache>/kernels */
	char *dir;  /* <cache>/kernels/<arch>-<hash> */
	char *hash; /* 64 hex */
	char *src;  /* kernel source tree */
	char *bdir; /* dir/build */
	char *logp; /* dir/build.log */
	char *frag; /* fragment path */
	char jobs[16];
};

static void make_argv(struct ctx *c, struct strlist *sl, const char *target)
{
	sl_push(sl, "make");
	sl_push(sl, "-C");
	sl_push(sl, c->src);
	sl_pushf(sl, "O=%s", c->bdir);
	if (c->r->karch)
		sl_pushf(sl, "ARCH=%s", c->r->karch);
	if (c->r->cross)
		sl_pushf(sl, "CROSS_COMPILE=%s", c->r->cross);
	sl_push(sl, "KBUILD_BUILD_USER=bootlab");
	sl_push(sl, "KBUILD_BUILD_HOST=bootlab");
	sl_push(sl, c->jobs);
	sl_push(sl, target);
}

static int run_make(struct ctx *c, const char *target, int logfd, struct bl_kernel_progress *p)
{
	struct strlist sl = STRLIST_INIT;
	make_argv(c, &sl, target);
	int rc = bl_kernel_run_step(sl_argv(&sl), NULL, logfd, c->logp, p);
	sl_release(&sl);
	return rc;
}

static char *read_release(struct ctx *c)
{
	char *p = xasprintf("%s/include/config/kernel.release", c->bdir);
	char *data = NULL;
	size_t len;
	if (bl_read_file(p, &data, &len) < 0) {
		free(p);
		return NULL;
	}
	free(p);
	data[strcspn(data, "\n")] = 0;
	return data;
}

/* options the fragment asks for that the final .config does not have
 * (a missing dependency, a typo): a warning, also written to the log */
static void check_fragment(struct ctx *c, int logfd, int quiet)
{
	char *frag = NULL, *cfg = NULL;
	size_t len;
	char *cfgp = xasprintf("%s/.config", c->bdir);
	if (bl_read_file(c->frag, &frag, &len) < 0 || bl_read_file(cfgp, &cfg, &len) < 0) {
		free(frag);
		free(cfgp);
		return;
	}
	for (char *s = strtok(frag, "\n"); s; s = strtok(NULL, "\n")) {
		char name[128], *want = NULL;
		int bad = 0;
		if (sscanf(s, "# CONFIG_%127[A-Za-z0-9_] is not set", name) == 1) {
			want = xasprintf("\nCONFIG_%s=", name);
			bad = strstr(cfg, want) != NULL;
		} else if (!strncmp(s, "CONFIG_", 7) && strchr(s, '=')) {
			want = xasprintf("\n%s\n", s);
			bad = strstr(cfg, want) == NULL;
		}
		if (bad) {
			dprintf(
			    logfd,
			    "bootlab: warning: fragment asks for '%s', the final config differs\n",
			    s);
			if (!quiet)
				bl_warn(
				    "kernel %s: fragment asks for '%s', the final config differs",
				    c->r->name, s);
		}
		free(want);
	}
	free(frag);
	free(cfg);
	free(cfgp);
}

/* how many progress steps an earlier complete build of this arch took */
static long earlier_steps(struct ctx *c)
{
	long best = 0;
	DIR *d = opendir(c->kdir);
	struct dirent *de;
	size_t al = strlen(c->r->name);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, c->r->name, al) || de->d_name[al] != '-' ||
		    strchr(de->d_name, '.'))
			continue;
		char *infop = xasprintf("%s/%s/info", c->kdir, de->d_name), *info;
		char *logp = xasprintf("%s/%s/build.log", c->kdir, de->d_name);
		size_t len;
		if (bl_read_file(infop, &info, &len) == 0) {
			char *v = bl_kernel_info_get(info, "steps");
			long n = v ? atol(v) : 0;
			if (!v && bl_read_file(logp, &v, &len) == 0) {
				/* older entries: the log's lines up to the first relink */
				char *end = strstr(v, "\nbootlab: relink");
				for (char *q = v; *q && (!end || q < end); q++)
					n += *q == '\n';
			}
			if (n > best)
				best = n;
			free(v);
			free(info);
		}
		free(infop);
		free(logp);
	}
	if (d)
		closedir(d);
	return best;
}

static int full_build(struct ctx *c, int quiet)
{
	int64_t t0 = bl_now_ns();
	int rc = -1;
	char *genfrag = xasprintf("%s/bootlab.config", c->dir);
	char *builtin = xasprintf("%s/" BUILTIN_NAME, c->dir);
	char *cfgp = xasprintf("%s/.config", c->bdir);
	char *fragdata = NULL;
	size_t fraglen;
	int logfd = -1;
	char *title = xasprintf("kernel %s", c->r->name);
	struct bl_kernel_progress p = {.what = title,
			     .quiet = quiet,
			     .tty = isatty(2),
			     .start = t0,
			     .expect = earlier_steps(c)};

	if (strpbrk(c->dir, " \t\n\"\\$#")) {
		bl_err("cache folder '%s' has characters kbuild cannot take in "
		       "CONFIG_INITRAMFS_SOURCE (set XDG_CACHE_HOME)",
		       c->dir);
		goto out;
	}
	if (bl_mkdir_p(c->bdir, 0755) < 0)
		goto out;
	logfd = open(c->logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		bl_err_errno("cannot create '%s'", c->logp);
		goto out;
	}
	if (!quiet)
		fprintf(stderr, "building kernel %s in '%s' (log: '%s')\n", c->r->name, c->dir,
			c->logp);
	if (write_default_builtin(builtin) < 0)
		goto out;
	if (bl_read_file(c->frag, &fragdata, &fraglen) < 0)
		goto out;
	struct strbuf sb = STRBUF_INIT;
	sb_add(&sb, fragdata, fraglen);
	sb_addf(&sb,
		"\n# added by bootlab: the built-in archive lives at a fixed path\n"
		"CONFIG_INITRAMFS_SOURCE=\"%s\"\n",
		builtin);
	rc = bl_write_file_atomic(genfrag, sb.buf, sb.len, 0644);
	sb_release(&sb);
	if (rc < 0)
		goto out;
	rc = -1;

	if (run_make(c, "tinyconfig", logfd, &p) < 0)
		goto out;
	char *merge = xasprintf("%s/scripts/kconfig/merge_config.sh", c->src);
	char *margv[] = {"sh", merge, "-m", "-O", c->bdir, cfgp, genfrag, NULL};
	int mrc = bl_kernel_run_step(margv, c->src, logfd, c->logp, &p);
	free(merge);
	if (mrc < 0)
		goto out;
	if (run_make(c, "olddefconfig", logfd, &p) < 0)
		goto out;
	check_fragment(c, logfd, quiet);
	if (run_make(c, c->r->target, logfd, &p) < 0)
		goto out;
	if (strcmp(c->r->relink, c->r->target) && run_make(c, c->r->relink, logfd, &p) < 0)
		goto out;

	char *ver = read_release(c);
	if (!ver) {
		bl_err("kernel %s: no kernel.release after the build", c->r->name);
		goto out;
	}
	char *img = xasprintf("%s/%s", c->bdir, c->r->image);
	const char *iname = strrchr(c->r->image, '/') ? strrchr(c->r->image, '/') + 1 : c->r->image;
	char *idst = xasprintf("%s/%s", c->dir, iname);
	char *cdst = xasprintf("%s/config", c->dir);
	const char *bname = NULL;
	rc = bl_copy_file(img, idst);
	if (rc == 0)
		rc = bl_copy_file(cfgp, cdst);
	if (rc == 0 && c->r->image2) {
		char *i2 = xasprintf("%s/%s", c->bdir, c->r->image2);
		bname = strrchr(c->r->image2, '/') + 1;
		char *d2 = xasprintf("%s/%s", c->dir, bname);
		rc = bl_copy_file(i2, d2);
		free(i2);
		free(d2);
	}
	if (rc == 0) {
		char *infop = xasprintf("%s/info", c->dir);
		char *extra = xasprintf("hash=%s\nsource=%s\nfragment=%s\nsteps=%ld\n", c->hash,
					c->src, c->frag, p.steps);
		rc =
		    write_info(infop, c->r, iname, bname, ver, extra, bl_ns_to_s(bl_now_ns() - t0));
		free(extra);
		free(infop);
	}
	if (rc == 0 && !quiet)
		fprintf(stderr, "kernel %s %s built in %.0f s\n", c->r->name, ver,
			bl_ns_to_s(bl_now_ns() - t0));
	free(img);
	free(idst);
	free(cdst);
	free(ver);
out:
	if (rc < 0)
		bl_kernel_infra();
	if (logfd >= 0)
		close(logfd);
	free(fragdata);
	free(title);
	free(genfrag);
	free(builtin);
	free(cfgp);
	return rc;
}

/* relink the (locked, complete) build with archive as its built-in initramfs */
static int relink(struct ctx *c, const char *archive, const char *ahash, const char *sub,
		  int quiet)
{
	int64_t t0 = bl_now_ns();
	int rc = -1, logfd = -1;
	char *subdir = xasprintf("%s/%s", c->dir, sub);
	char *tmpdir = xasprintf("%s.tmp", subdir);
	char *builtin = xasprintf("%s/" BUILTIN_NAME, c->dir);
	char *title = xasprintf("relinking kernel %s", c->r->name);
	struct bl_kernel_progress p = {.what = title, .quiet = quiet, .tty = isatty(2), .start = t0};
	char *data = NULL;
	size_t len;

	if (bl_read_file(archive, &data, &len) < 0) {
		free(title);
		free(subdir);
		free(tmpdir);
		free(builtin);
		return -1; /* bad input, not infrastructure */
	}
	/* the build tree names its built-in archive by absolute path: a cache
	 * that was moved would relink with a stale file, or fail deep in make */
	char *cfgp = xasprintf("%s/config", c->dir), *cfg = NULL;
	char *want = xasprintf("\nCONFIG_INITRAMFS_SOURCE=\"%s\"\n", builtin);
	size_t cfglen;
	int moved = bl_read_file(cfgp, &cfg, &cfglen) == 0 && !strstr(cfg, want);
	free(cfg);
	free(want);
	free(cfgp);
	if (moved) {
		bl_err("cache entry '%s' was moved from where it was built; remove it "
		       "('bootlab kernel clean %.16s') and build again",
		       c->dir, c->hash);
		goto out;
	}
	logfd = open(c->logp, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (logfd < 0) {
		bl_err_errno("cannot open '%s'", c->logp);
		goto out;
	}
	dprintf(logfd, "\nbootlab: relink with built-in archive '%s' (sha256 %s)\n", archive,
		ahash);
	if (!quiet)
		fprintf(stderr, "relinking kernel %s with built-in archive '%s'\n", c->r->name,
			archive);
	if (bl_write_file_atomic(builtin, data, len, 0644) < 0)
		goto out;
	if (run_make(c, c->r->relink, logfd, &p) < 0)
		goto out;
	char *obj = xasprintf("%s/usr/initramfs_data.o", c->bdir);
	int linked = bl_kernel_check_linked(obj, archive);
	free(obj);
	if (linked < 0)
		goto out;
	char *ver = read_release(c);
	bl_rm_rf(tmpdir);
	if (!ver || bl_mkdir_p(tmpdir, 0755) < 0) {
		if (!ver)
			bl_err("kernel %s: no kernel.release after the relink", c->r->name);
		free(ver);
		goto out;
	}
	const char *iname = strrchr(c->r->image, '/') ? strrchr(c->r->image, '/') + 1 : c->r->image;
	char *img = xasprintf("%s/%s", c->bdir, c->r->image);
	char *idst = xasprintf("%s/%s", tmpdir, iname);
	char *infop = xasprintf("%s/info", tmpdir);
	char *extra = xasprintf("builtin=%s\nbuiltin_source=%s\nrelink_recipe=%s\n", ahash, archive, RELINK_VERSION);
	double secs = bl_ns_to_s(bl_now_ns() - t0);
	rc = bl_copy_file(img, idst);
	if (rc == 0)
		rc = write_info(infop, c->r, iname, NULL, ver, extra, secs);
	if (rc == 0 && rename(tmpdir, subdir) < 0)
		rc = bl_err_errno("cannot rename '%s'", tmpdir);
	if (rc == 0 && !quiet)
		fprintf(stderr, "kernel %s relinked in %.1f s\n", c->r->name, secs);
	free(img);
	free(idst);
	free(infop);
	free(extra);
	free(ver);
out:
	if (rc < 0)
		bl_kernel_infra();
	if (logfd >= 0)
		close(logfd);
	free(data);
	free(title);
	free(subdir);
	free(tmpdir);
	free(builtin);
	return rc;
}

/* "builtin/<key>": the archive's hash and the relink recipe, so that a
 * change to how relinks are made never reuses an older relink */
static char *relink_dir(const char *ahash)
{
	struct bl_sha256 h;
	char hex[65];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, RELINK_VERSION);
	bl_sha256_update_str(&h, ahash);
	bl_sha256_final_hex(&h, hex);
	return xasprintf("builtin/%.16s", hex);
}

static void ctx_release(struct ctx *c)
{
	free(c->kdir);
	free(c->dir);
	free(c->hash);
	free(c->src);
	free(c->bdir);
	free(c->logp);
	free(c->frag);
}

int bl_kernel_build(const struct bl_kernel_req *req, struct bl_kernel *out)
{
	struct ctx c = {0};
	int rc = -1, lock = -1;
	char *lockp = NULL, *tool = NULL, *cache = NULL;
	char ahash[65] = "";
	memset(out, 0, sizeof(*out));

	c.r = recipe_for(req->arch);
	if (!c.r)
		return bl_err("unknown kernel arch '%s' (x86_64, aarch64, um)",
			      req->arch ? req->arch : "");
	if (req->fragment)
		c.frag = realpath(req->fragment, NULL);
	else {
		char *self = bl_self_dir();
		char *f = xasprintf("%s/kernels/%s.config", self, c.r->name);
		c.frag = realpath(f, NULL);
		free(self);
		if (!c.frag)
			bl_err_errno("kernel fragment '%s'", f);
		free(f);
		if (!c.frag)
			return -1;
	}
	if (!c.frag)
		return bl_err_errno("kernel fragment '%s'", req->fragment);
	/* kernels/x86_64.config for --arch um would build for minutes and
	 * give a kernel missing its console: refuse the mix-up up front */
	{
		const char *b = strrchr(c.frag, '/') ? strrchr(c.frag, '/') + 1 : c.frag;
		char stem[32];
		size_t bl = strlen(b);
		const char *other;
		if (bl > 7 && bl - 7 < sizeof(stem) && !strcmp(b + bl - 7, ".config")) {
			memcpy(stem, b, bl - 7);
			stem[bl - 7] = 0;
			other = bl_kernel_arch_name(stem);
			if (other && strcmp(other, c.r->name)) {
				bl_err("kernel fragment '%s' is for %s, not %s", c.frag, other,
				       c.r->name);
				free(c.frag);
				return -1;
			}
		}
	}
	if (req->builtin) {
		struct bl_sha256 h;
		bl_sha256_init(&h);
		int hr = bl_sha256_update_file(&h, req->builtin);
		bl_sha256_final_hex(&h, ahash);
		if (hr < 0) {
			bl_err_prefix("built-in archive");
			goto out;
		}
	}
	cache = bl_cache_dir();
	if (!cache) {
		bl_kernel_infra();
		goto out;
	}
	c.kdir = xasprintf("%s/kernels", cache);
	if (bl_mkdir_p(c.kdir, 0755) < 0) {
		bl_kernel_infra();
		goto out;
	}

	/* the key: recipe, arch, source, fragment, toolchain */
	struct bl_sha256 h;
	char hex[65], thash[65];
	char *srcdesc;
	if (req->source_dir) {
		char *real = realpath(req->source_dir, NULL);
		if (!real || !bl_is_dir(real)) {
			bl_err("kernel source '%s' is not a folder", req->source_dir);
			free(real);
			goto out;
		}
		c.src = real;
		srcdesc = xasprintf("dir:%s", real);
	} else {
		if (file_hash_memo(c.kdir, DEBIAN_SOURCE, thash) < 0) {
			bl_err_prefix("install linux-source-6.1 (ci/install-deps)");
			goto out;
		}
		srcdesc = xasprintf("tarball:%s", thash);
	}
	tool = toolchain_version(c.kdir, c.r);
	if (!tool) {
		free(srcdesc);
		goto out;
	}
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, RECIPE_VERSION);
	bl_sha256_update_str(&h, c.r->name);
	bl_sha256_update_str(&h, srcdesc);
	free(srcdesc);
	bl_sha256_update_str(&h, tool);
	if (bl_sha256_update_file(&h, c.frag) < 0) {
		bl_sha256_final_hex(&h, hex);
		goto out;
	}
	bl_sha256_final_hex(&h, hex);
	c.hash = xstrdup(hex);
	c.dir = xasprintf("%s/%s-%.16s", c.kdir, c.r->name, hex);
	c.bdir = xasprintf("%s/build", c.dir);
	c.logp = xasprintf("%s/build.log", c.dir);
	snprintf(c.jobs, sizeof(c.jobs), "-j%ld",
		 sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1);
	char *sub = req->builtin ? relink_dir(ahash) : NULL;
	char *infop = sub ? xasprintf("%s/%s/info", c.dir, sub) : xasprintf("%s/info", c.dir);

	/* fast path: complete entries never change */
	if (bl_file_exists(infop)) {
		rc = load_built(c.dir, sub, out);
		goto out2;
	}
	if (req->cached_only) {
		bl_err(
		    "kernel %s%s is not in the cache ('%s'; run 'bootlab kernel build --arch %s')",
		    c.r->name, req->builtin ? " with this built-in archive" : "", c.dir, c.r->name);
		goto out2;
	}
	lockp = xasprintf("%s.lock", c.dir);
	char *what = xasprintf("kernel %s", c.r->name);
	lock = bl_kernel_lock(lockp, what, req->quiet);
	free(what);
	if (lock < 0)
		goto out2;
	bl_kernel_lock_inherit(lock);
	if (bl_file_exists(infop)) { /* built by whoever held the lock */
		rc = load_built(c.dir, sub, out);
		goto out2;
	}
	char *baseinfo = xasprintf("%s/info", c.dir);
	int have_base = bl_file_exists(baseinfo);
	free(baseinfo);
	if (!have_base) {
		if (!c.src) {
			c.src = extract_source(c.kdir, DEBIAN_SOURCE, thash, req->quiet);
			if (!c.src)
				goto out2;
		}
		if (full_build(&c, req->quiet) < 0)
			goto out2;
	} else if (!c.src) {
		c.src = extract_source(c.kdir, DEBIAN_SOURCE, thash, req->quiet);
		if (!c.src)
			goto out2;
	}
	if (req->builtin && relink(&c, req->builtin, ahash, sub, req->quiet) < 0)
		goto out2;
	rc = load_built(c.dir, sub, out);
out2:
	free(sub);
	free(infop);
out:
	bl_kernel_lock_inherit(-1);
	if (lock >= 0)
		close(lock);
	free(lockp);
	free(tool);
	free(cache);
	ctx_release(&c);
	return rc;
}
