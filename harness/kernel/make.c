/* Building kernels into the cache: the arch recipes, the full build
 * (tinyconfig, the fragment merged, the image) and bl_kernel_build(),
 * which finds a build or a relink in the cache or makes it under the
 * entry's lock.
 *
 * Why the fixed CONFIG_INITRAMFS_SOURCE from the start: changing that
 * string rebuilds the whole kernel (docs/kernels.md#measured: 4 min 52 s),
 * rewriting the file it names only reruns usr/ and the final link (8 s).
 * The name matches *.cpio.* so kbuild copies it byte for byte: the built-in
 * archive is exactly the file the user gave, whatever its compression. */
#include "archive/archive.h"
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct bl_kernel_recipe recipes[] = {
    {"x86_64", NULL, NULL, "bzImage", "vmlinux", "vmlinux", "arch/x86/boot/bzImage"},
    {"aarch64", "arm64", "aarch64-linux-gnu-", "Image", "Image", "arch/arm64/boot/Image", NULL},
    {"um", "um", NULL, "linux", "linux", "linux", NULL},
};

static const struct bl_kernel_recipe *recipe_for(const char *arch)
{
	const char *n = bl_kernel_arch_name(arch);
	for (size_t i = 0; n && i < BL_ARRAY_SIZE(recipes); i++)
		if (!strcmp(recipes[i].name, n))
			return &recipes[i];
	return NULL;
}

/* ---- the tree ---- */

void bl_kernel_tree_release(struct bl_kernel_tree *t)
{
	free(t->kdir);
	free(t->dir);
	free(t->hash);
	free(t->src);
	free(t->bdir);
	free(t->logp);
	free(t->frag);
	free(t->fragtext);
	memset(t, 0, sizeof(*t));
}

int bl_kernel_tree_make(const struct bl_kernel_tree *t, const char *target, int logfd,
			struct bl_kernel_progress *p)
{
	struct strlist sl = STRLIST_INIT;
	sl_push(&sl, "make");
	sl_push(&sl, "-C");
	sl_push(&sl, t->src);
	sl_pushf(&sl, "O=%s", t->bdir);
	if (t->r->karch)
		sl_pushf(&sl, "ARCH=%s", t->r->karch);
	if (t->r->cross)
		sl_pushf(&sl, "CROSS_COMPILE=%s", t->r->cross);
	sl_push(&sl, "KBUILD_BUILD_USER=bootlab");
	sl_push(&sl, "KBUILD_BUILD_HOST=bootlab");
	sl_push(&sl, t->jobs);
	sl_push(&sl, target);
	int rc = bl_kernel_run_step(sl_argv(&sl), NULL, logfd, t->logp, p);
	sl_release(&sl);
	return rc;
}

char *bl_kernel_tree_version(const struct bl_kernel_tree *t)
{
	char *p = xasprintf("%s/include/config/kernel.release", t->bdir);
	char *data = NULL;
	size_t len;
	int rc = bl_read_file(p, &data, &len);
	free(p);
	if (rc < 0)
		return NULL;
	data[strcspn(data, "\n")] = 0;
	return data;
}

/* ---- the full build ---- */

/* A base build carries exactly what a kernel built with an empty
 * CONFIG_INITRAMFS_SOURCE carries (docs/kernel-behaviour.md section 4);
 * mtime 0 keeps the file the same from one build to the next. */
int bl_kernel_default_builtin(const char *path)
{
	struct bl_archive *a = bl_archive_new();
	int rc = bl_archive_add_dir(a, "/dev", 0755, 0, 0);
	if (rc == 0)
		rc = bl_archive_add_nod(a, "/dev/console", 0600, 0, 0, 'c', 5, 1);
	if (rc == 0)
		rc = bl_archive_add_dir(a, "/root", 0700, 0, 0);
	if (rc == 0)
		rc = bl_archive_write(a, path, "none", 0);
	bl_archive_free(a);
	return rc;
}

/* genfrag: the fragment plus the line naming the built-in archive */
static int write_fragment(const struct bl_kernel_tree *t, const char *genfrag, const char *builtin)
{
	struct strbuf sb = STRBUF_INIT;
	sb_add(&sb, t->fragtext, t->fraglen);
	sb_addf(&sb,
		"\n# added by bootlab: the built-in archive lives at a fixed path\n"
		"CONFIG_INITRAMFS_SOURCE=\"%s\"\n",
		builtin);
	int rc = bl_write_file_atomic(genfrag, sb.buf, sb.len, 0644);
	sb_release(&sb);
	return rc;
}

/* options the fragment asks for that the final .config does not have
 * (a missing dependency, a typo): a warning, also written to the log */
static void check_fragment(const struct bl_kernel_tree *t, int logfd, int quiet)
{
	char *cfg = NULL;
	size_t len;
	char *cfgp = xasprintf("%s/.config", t->bdir);
	if (bl_read_file(cfgp, &cfg, &len) < 0) {
		free(cfgp);
		return;
	}
	struct strlist unmet = STRLIST_INIT;
	bl_kernel_fragment_unmet(t->fragtext, t->fraglen, cfg, &unmet);
	for (size_t i = 0; i < unmet.n; i++) {
		dprintf(logfd,
			"bootlab: warning: fragment asks for '%s', the final config differs\n",
			unmet.v[i]);
		if (!quiet)
			bl_warn("kernel %s: fragment asks for '%s', the final config differs",
				t->r->name, unmet.v[i]);
	}
	sl_release(&unmet);
	free(cfg);
	free(cfgp);
}

/* how many progress steps an earlier complete build of this arch took */
static long earlier_steps(const struct bl_kernel_tree *t)
{
	long best = 0;
	DIR *d = opendir(t->kdir);
	struct dirent *de;
	size_t al = strlen(t->r->name);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, t->r->name, al) || de->d_name[al] != '-' ||
		    strchr(de->d_name, '.'))
			continue;
		char *infop = xasprintf("%s/%s/info", t->kdir, de->d_name), *info;
		char *logp = xasprintf("%s/%s/build.log", t->kdir, de->d_name);
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

/* The build folder, its log (the fd, or -1), the default built-in archive
 * and genfrag: what a full build starts from. */
static int full_build_start(const struct bl_kernel_tree *t, const char *genfrag, int quiet)
{
	char *builtin = xasprintf("%s/" BUILTIN_NAME, t->dir);
	int logfd = -1;
	if (strpbrk(t->dir, " \t\n\"\\$#")) {
		bl_err("cache folder '%s' has characters kbuild cannot take in "
		       "CONFIG_INITRAMFS_SOURCE (set XDG_CACHE_HOME)",
		       t->dir);
		goto out;
	}
	if (bl_mkdir_p(t->bdir, 0755) < 0)
		goto out;
	logfd = open(t->logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		bl_err_errno("cannot create '%s'", t->logp);
		goto out;
	}
	if (!quiet)
		fprintf(stderr, "building kernel %s in '%s' (log: '%s')\n", t->r->name, t->dir,
			t->logp);
	if (bl_kernel_default_builtin(builtin) < 0 || write_fragment(t, genfrag, builtin) < 0) {
		close(logfd);
		logfd = -1;
	}
out:
	free(builtin);
	return logfd;
}

/* tinyconfig, genfrag merged onto it, olddefconfig, then the images */
static int full_build_make(const struct bl_kernel_tree *t, const char *genfrag, int logfd,
			   struct bl_kernel_progress *p)
{
	char *cfgp = xasprintf("%s/.config", t->bdir);
	char *merge = xasprintf("%s/scripts/kconfig/merge_config.sh", t->src);
	char *margv[] = {"sh", merge, "-m", "-O", t->bdir, cfgp, (char *)genfrag, NULL};
	int rc = bl_kernel_tree_make(t, "tinyconfig", logfd, p);
	if (rc == 0)
		rc = bl_kernel_run_step(margv, t->src, logfd, t->logp, p);
	if (rc == 0)
		rc = bl_kernel_tree_make(t, "olddefconfig", logfd, p);
	if (rc == 0)
		check_fragment(t, logfd, p->quiet);
	if (rc == 0)
		rc = bl_kernel_tree_make(t, t->r->target, logfd, p);
	if (rc == 0 && strcmp(t->r->relink, t->r->target))
		rc = bl_kernel_tree_make(t, t->r->relink, logfd, p);
	free(merge);
	free(cfgp);
	return rc;
}

static int full_build(const struct bl_kernel_tree *t, int quiet)
{
	char *title = xasprintf("kernel %s", t->r->name);
	char *genfrag = xasprintf("%s/bootlab.config", t->dir);
	char *ver = NULL;
	struct bl_kernel_progress p;
	bl_kernel_progress_init(&p, title, quiet, earlier_steps(t));
	int rc = -1, logfd = full_build_start(t, genfrag, quiet);
	if (logfd >= 0 && full_build_make(t, genfrag, logfd, &p) == 0) {
		char *extra = xasprintf("hash=%s\nsource=%s\nfragment=%s\nsteps=%ld\n", t->hash,
					t->src, t->frag, p.steps);
		rc = bl_kernel_cache_store(t, t->dir, 1, extra, bl_ns_to_s(bl_now_ns() - p.start),
					   &ver);
		free(extra);
	}
	if (rc == 0 && !quiet)
		fprintf(stderr, "kernel %s %s built in %.0f s\n", t->r->name, ver,
			bl_ns_to_s(bl_now_ns() - p.start));
	if (rc < 0)
		bl_kernel_infra();
	if (logfd >= 0)
		close(logfd);
	free(ver);
	free(genfrag);
	free(title);
	return rc;
}

/* ---- finding or making a build ---- */

/* t->frag: the fragment's real path (kernels/<arch>.config of this bootlab
 * tree when fragment is NULL) */
static int resolve_fragment(struct bl_kernel_tree *t, const char *fragment)
{
	char *f;
	if (fragment)
		f = xstrdup(fragment);
	else {
		char *self = bl_self_dir();
		f = xasprintf("%s/kernels/%s.config", self, t->r->name);
		free(self);
	}
	t->frag = realpath(f, NULL);
	if (!t->frag)
		bl_err_errno("kernel fragment '%s'", f);
	free(f);
	if (!t->frag)
		return -1;
	struct strbuf sb = STRBUF_INIT;
	if (bl_kernel_fragment_text(t->frag, t->r->name, &sb) < 0) {
		sb_release(&sb);
		return -1;
	}
	t->fragtext = sb_detach(&sb, &t->fraglen);
	return 0;
}

static int archive_hash(const char *archive, char ahash[65])
{
	struct bl_sha256 h;
	bl_sha256_init(&h);
	int rc = bl_sha256_update_file(&h, archive);
	bl_sha256_final_hex(&h, ahash);
	if (rc < 0)
		bl_err_prefix("built-in archive");
	return rc;
}

/* <cache>/kernels (created), the cache key and the paths under it */
static int tree_init(struct bl_kernel_tree *t, const char *source_dir)
{
	char *cache = bl_cache_dir();
	if (!cache)
		return bl_kernel_infra();
	t->kdir = xasprintf("%s/kernels", cache);
	free(cache);
	if (bl_mkdir_p(t->kdir, 0755) < 0)
		return bl_kernel_infra();
	if (bl_kernel_key(t, source_dir) < 0)
		return -1;
	t->dir = xasprintf("%s/%s-%.16s", t->kdir, t->r->name, t->hash);
	t->bdir = xasprintf("%s/build", t->dir);
	t->logp = xasprintf("%s/build.log", t->dir);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(t->jobs, sizeof(t->jobs), "-j%ld", n > 0 ? n : 1);
	return 0;
}

/* 1 when the entry's base build is complete and can relink; a base built
 * in another cache folder (moved or copied here) still boots, but its tree
 * is removed so that the full build runs again here (docs/kernels.md,
 * "A moved cache") */
static int base_ready(const struct bl_kernel_tree *t, const struct bl_kernel_req *req)
{
	char *baseinfo = xasprintf("%s/info", t->dir);
	int have = bl_file_exists(baseinfo);
	free(baseinfo);
	char *was = have && req->builtin ? bl_kernel_tree_moved(t) : NULL;
	if (!was)
		return have;
	char *slash = strrchr(was, '/');
	if (slash)
		*slash = 0; /* the archive's folder: the entry it was built as */
	if (!req->quiet)
		bl_warn("kernel %s: cache entry '%s' was built in '%s' (moved or copied) and "
			"cannot relink there: building it again",
			t->r->name, t->dir, was);
	free(was);
	return bl_rm_rf(t->bdir) < 0 ? bl_kernel_infra() : 0;
}

/* under the entry's lock: the source, the full build unless it is done,
 * the relink when req asks for a built-in archive */
static int build_locked(struct bl_kernel_tree *t, const struct bl_kernel_req *req,
			const char *ahash, const char *sub)
{
	int have_base = base_ready(t, req);
	if (have_base < 0)
		return -1;
	if (!t->src) {
		t->src = bl_kernel_source_extract(t->kdir, DEBIAN_SOURCE, t->thash, req->quiet);
		if (!t->src)
			return -1;
	}
	if (!have_base && full_build(t, req->quiet) < 0)
		return -1;
	if (req->builtin && bl_kernel_relink(t, req->builtin, ahash, sub, req->quiet) < 0)
		return -1;
	return 0;
}

/* the entry (its relink sub when sub) from the cache, made first unless
 * req is cached_only */
static int find_or_build(struct bl_kernel_tree *t, const struct bl_kernel_req *req,
			 const char *ahash, const char *sub, struct bl_kernel *out)
{
	char *infop = sub ? xasprintf("%s/%s/info", t->dir, sub) : xasprintf("%s/info", t->dir);
	int rc = -1;
	/* fast path: complete entries never change */
	if (bl_file_exists(infop)) {
		rc = bl_kernel_cache_load(t->dir, sub, out);
		goto out;
	}
	if (req->cached_only) {
		bl_err(
		    "kernel %s%s is not in the cache ('%s'; run 'bootlab kernel build --arch %s')",
		    t->r->name, req->builtin ? " with this built-in archive" : "", t->dir,
		    t->r->name);
		goto out;
	}
	char *lockp = xasprintf("%s.lock", t->dir);
	char *what = xasprintf("kernel %s", t->r->name);
	int lock = bl_kernel_lock(lockp, what, req->quiet);
	free(what);
	free(lockp);
	if (lock < 0)
		goto out;
	bl_kernel_lock_inherit(lock);
	/* built by whoever held the lock, or by us now */
	if (bl_file_exists(infop) || build_locked(t, req, ahash, sub) == 0)
		rc = bl_kernel_cache_load(t->dir, sub, out);
	bl_kernel_lock_inherit(-1);
	close(lock);
out:
	free(infop);
	return rc;
}

int bl_kernel_build(const struct bl_kernel_req *req, struct bl_kernel *out)
{
	struct bl_kernel_tree t = {0};
	char ahash[65] = "", *sub = NULL;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	t.r = recipe_for(req->arch);
	if (!t.r)
		return bl_err("unknown kernel arch '%s' (x86_64, aarch64, um)",
			      req->arch ? req->arch : "");
	if (resolve_fragment(&t, req->fragment) == 0 &&
	    (!req->builtin || archive_hash(req->builtin, ahash) == 0) &&
	    tree_init(&t, req->source_dir) == 0) {
		sub = req->builtin ? bl_kernel_relink_dir(ahash) : NULL;
		rc = find_or_build(&t, req, ahash, sub, out);
	}
	free(sub);
	bl_kernel_tree_release(&t);
	return rc;
}
