/* The kernel cache: info files, storing a build or relink and loading it,
 * listing and cleaning entries.
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
 *   <arch>-debian-<hash>/                  a fetched package (fetch.c)
 *   modtree-<hash>/, uml-config-<version>  distro kernels' helpers (distro.c)
 *
 * Complete entries are never modified, so readers need no lock. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

char *bl_kernel_cache_path(const char *name)
{
	char *c = bl_cache_dir();
	if (!c)
		return NULL;
	char *p = xasprintf("%s/kernels/%s", c, name);
	free(c);
	return p;
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

/* a vmlinux without a PVH entry (a fragment with "# CONFIG_PVH is not
 * set", such as kernels/x86_64-debug.config) cannot be entered by QEMU's
 * -kernel: the kept bzImage boots instead, through the boot protocol */
static void boot_bzimage(struct bl_kernel *k)
{
	if (k->kind != BL_KERNEL_UNKNOWN || !k->bzimage ||
	    bl_kernel_kind_of(k->bzimage) != BL_KERNEL_BZIMAGE)
		return;
	free(k->image);
	k->image = xstrdup(k->bzimage);
	k->kind = BL_KERNEL_BZIMAGE;
}

int bl_kernel_cache_load(const char *dir, const char *subdir, struct bl_kernel *out)
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
	out->kind = bl_kernel_kind_of(out->image);
	boot_bzimage(out);
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

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* the O= tree's file rel copied to dest/name */
static int copy_out(const struct bl_kernel_tree *t, const char *rel, const char *dest,
		    const char *name)
{
	char *from = xasprintf("%s/%s", t->bdir, rel);
	char *to = xasprintf("%s/%s", dest, name);
	int rc = bl_copy_file(from, to);
	free(from);
	free(to);
	return rc;
}

int bl_kernel_cache_store(const struct bl_kernel_tree *t, const char *dest, int base,
			  const char *extra, double secs, char **version)
{
	const char *iname = base_name(t->r->image);
	const char *bname = base && t->r->image2 ? base_name(t->r->image2) : NULL;
	*version = bl_kernel_tree_version(t);
	if (!*version)
		return bl_err("kernel %s: no kernel.release after the %s", t->r->name,
			      base ? "build" : "relink");
	int rc = copy_out(t, t->r->image, dest, iname);
	if (rc == 0 && base)
		rc = copy_out(t, ".config", dest, "config");
	if (rc == 0 && bname)
		rc = copy_out(t, t->r->image2, dest, bname);
	if (rc == 0) {
		char *infop = xasprintf("%s/info", dest);
		rc = write_info(infop, t->r, iname, bname, *version, extra, secs);
		free(infop);
	}
	if (rc < 0) {
		free(*version);
		*version = NULL;
	}
	return rc;
}

/* ---- the cache listing ---- */

static int add_entry(struct bl_kernel_entry **list, size_t *n, size_t *alloc, const char *dir,
		     const char *name, const char *builtin)
{
	char *infop = xasprintf("%s/info", dir);
	char *info;
	size_t len;
	if (bl_read_file(infop, &info, &len) < 0) {
		free(infop);
		return 0; /* incomplete: not listed */
	}
	struct stat st;
	stat(infop, &st);
	free(infop);
	BL_GROW(*list, *n, *alloc);
	struct bl_kernel_entry *e = &(*list)[(*n)++];
	memset(e, 0, sizeof(*e));
	char *v;
	if ((v = bl_kernel_info_get(info, "arch")))
		snprintf(e->arch, sizeof(e->arch), "%s", v), free(v);
	if ((v = bl_kernel_info_get(info, "flavor")))
		snprintf(e->flavor, sizeof(e->flavor), "%s", v), free(v);
	if ((v = bl_kernel_info_get(info, "version")))
		snprintf(e->version, sizeof(e->version), "%s", v), free(v);
	const char *dash = strrchr(name, '-');
	snprintf(e->hash, sizeof(e->hash), "%s", dash ? dash + 1 : name);
	if ((v = bl_kernel_info_get(info, "image"))) {
		e->image = v[0] == '/' ? xstrdup(v) : xasprintf("%s/%s", dir, v);
		free(v);
		struct stat is;
		if (stat(e->image, &is) == 0)
			e->size = is.st_size;
	}
	e->builtin = builtin ? xstrdup(builtin) : NULL;
	e->mtime = st.st_mtime;
	free(info);
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct bl_kernel_entry *x = a, *y = b;
	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

int bl_kernel_cache_list(struct bl_kernel_entry **list, size_t *n)
{
	size_t alloc = 0;
	*list = NULL;
	*n = 0;
	char *kdir = bl_kernel_cache_path("");
	if (!kdir)
		return -1;
	DIR *d = opendir(kdir);
	if (!d) {
		free(kdir);
		return 0; /* nothing cached yet */
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strchr(de->d_name, '-') || strchr(de->d_name, '.'))
			continue;
		char *dir = xasprintf("%s%s", kdir, de->d_name);
		if (!bl_is_dir(dir)) {
			free(dir);
			continue;
		}
		add_entry(list, n, &alloc, dir, de->d_name, NULL);
		char *bdir = xasprintf("%s/builtin", dir);
		DIR *bd = opendir(bdir);
		struct dirent *be;
		while (bd && (be = readdir(bd))) {
			if (be->d_name[0] == '.' || strchr(be->d_name, '.'))
				continue;
			char *sub = xasprintf("%s/%s", bdir, be->d_name);
			add_entry(list, n, &alloc, sub, de->d_name, be->d_name);
			free(sub);
		}
		if (bd)
			closedir(bd);
		free(bdir);
		free(dir);
	}
	closedir(d);
	free(kdir);
	if (*n)
		qsort(*list, *n, sizeof(**list), entry_cmp);
	return 0;
}

void bl_kernel_entries_free(struct bl_kernel_entry *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].image);
		free(list[i].builtin);
	}
	free(list);
}

/* ---- cleaning the cache ---- */

static int remove_locked(const char *kdir, const char *name, const char *sub, FILE *out)
{
	char *dir = xasprintf("%s%s", kdir, name);
	/* "<entry>.tmp" (a fetch under way) is guarded by "<entry>.lock" */
	size_t dl = strlen(dir);
	char *lockp = dl > 4 && !strcmp(dir + dl - 4, ".tmp")
			  ? xasprintf("%.*s.lock", (int)(dl - 4), dir)
			  : xasprintf("%s.lock", dir);
	char *victim = sub ? xasprintf("%s/%s", dir, sub) : xstrdup(dir);
	int rc = 0;
	int fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		bl_warn("'%s' is in use by another bootlab; not removed", dir);
		close(fd);
		fd = -1;
		rc = 1;
	} else {
		if (bl_rm_rf(victim) < 0)
			rc = -1;
		else if (out)
			fprintf(out, "%s\n", victim);
		if (!sub && !strstr(name, ".tmp"))
			unlink(lockp);
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	free(lockp);
	free(victim);
	return rc;
}

/* does entry name (<arch>-<hash>) match hash prefix h? */
static int hash_match(const char *name, const char *h)
{
	const char *dash = strrchr(name, '-');
	return dash && h[0] && !strncmp(dash + 1, h, strlen(h));
}

int bl_kernel_cache_clean(const char *const *hashes, size_t n, int builtin_only, FILE *out)
{
	char *kdir = bl_kernel_cache_path("");
	if (!kdir)
		return -1;
	struct strlist names = STRLIST_INIT;
	DIR *d = opendir(kdir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && strchr(de->d_name, '-') && !strstr(de->d_name, ".lock"))
			sl_push(&names, de->d_name);
	if (d)
		closedir(d);
	int rc = 0;
	/* every hash must name exactly one entry before anything is removed */
	for (size_t h = 0; h < n && rc == 0; h++) {
		size_t hits = 0;
		for (size_t i = 0; i < names.n; i++)
			hits += hash_match(names.v[i], hashes[h]) && !strchr(names.v[i], '.');
		if (hits > 1)
			rc = bl_err("hash '%s' names %zu cached kernels; give more of it",
				    hashes[h], hits);
		else if (!hits)
			rc = bl_err("no cached kernel with hash '%s' (see 'bootlab kernel list')",
				    hashes[h]);
	}
	for (size_t i = 0; i < names.n && rc == 0; i++) {
		const char *name = names.v[i];
		int chosen = n == 0;
		for (size_t h = 0; h < n; h++)
			chosen |= hash_match(name, hashes[h]) && !strchr(name, '.');
		char *dir = xasprintf("%s%s", kdir, name);
		char *info = xasprintf("%s/info", dir);
		char *bdir = xasprintf("%s/builtin", dir);
		int complete = bl_file_exists(info);
		if (!chosen || !bl_is_dir(dir) || (!n && !strncmp(name, "modtree-", 8)))
			; /* depmod'ed module trees are complete without an info file */
		else if (builtin_only) {
			if (bl_is_dir(bdir) && remove_locked(kdir, name, "builtin", out) < 0)
				rc = -1;
		} else if (n || !complete || strstr(name, ".tmp")) {
			if (remove_locked(kdir, name, NULL, out) < 0)
				rc = -1;
		}
		free(dir);
		free(info);
		free(bdir);
	}
	sl_release(&names);
	free(kdir);
	return rc;
}
