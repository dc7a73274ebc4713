/* Kernel values: distro kernels, config queries, the cache listing. */
#include "internal.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* ---- guessing what an image is ---- */

/* "x86_64", "aarch64", "um" from the image's bytes, or NULL */
static const char *image_arch(const char *path)
{
	unsigned char b[0x210];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, b, sizeof(b));
	close(fd);
	if (n < 0x40)
		return NULL;
	if (n >= 0x206 && !memcmp(b + 0x202, "HdrS", 4))
		return "x86_64"; /* bzImage boot protocol header */
	if (!memcmp(b + 0x38, "ARM\x64", 4))
		return "aarch64"; /* arm64 Image header magic */
	if (!memcmp(b, ELFMAG, SELFMAG) && b[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr *e = (Elf64_Ehdr *)b;
		if (e->e_machine == EM_AARCH64)
			return "aarch64";
		if (e->e_machine == EM_X86_64)
			/* a UML kernel is a host program; vmlinux links high (or PVH-low,
			 * but then it carries no interpreter and is ET_EXEC too): tell by
			 * the entry, user space is below the canonical hole */
			return e->e_entry >= 0xffff800000000000ULL || e->e_entry < 0x10000000ULL
				   ? "x86_64"
				   : "um";
	}
	return NULL;
}

/* run `image --version` / `--showconfig` of a UML binary (does not boot) */
static char *uml_query(const char *image, const char *what)
{
	char *argv[] = {(char *)image, (char *)what, NULL};
	char *out = NULL;
	int st;
	if (bl_run(argv, 10000, &out, &st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		free(out);
		return NULL;
	}
	return out;
}

static char *cache_sub(const char *name)
{
	char *c = bl_cache_dir();
	if (!c)
		return NULL;
	char *p = xasprintf("%s/kernels/%s", c, name);
	free(c);
	return p;
}

/* A copy of a modules tree with modules.dep made by depmod, in the cache.
 * depmod -b wants BASE/lib/modules/VERSION. */
static char *depmod_copy(const char *mdir, const char *version)
{
	struct bl_sha256 h;
	char hex[65];
	struct stat st;
	if (stat(mdir, &st) < 0) {
		bl_err_errno("modules folder '%s'", mdir);
		return NULL;
	}
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, mdir);
	bl_sha256_update(&h, &st.st_mtim, sizeof(st.st_mtim));
	bl_sha256_final_hex(&h, hex);
	char *name = xasprintf("modtree-%.16s", hex);
	char *base = cache_sub(name);
	free(name);
	if (!base)
		return NULL;
	char *res = xasprintf("%s/lib/modules/%s", base, version);
	char *dep = xasprintf("%s/modules.dep", res);
	if (bl_file_exists(dep))
		goto done;
	char *lockp = xasprintf("%s.lock", base);
	int lock = bl_kernel_lock(lockp, "a modules tree", 0);
	free(lockp);
	if (lock < 0)
		goto fail;
	if (bl_file_exists(dep)) {
		close(lock);
		goto done;
	}
	char *parent = xasprintf("%s/lib/modules", base);
	bl_rm_rf(res);
	int st2 = 0;
	char *out = NULL;
	char *cp[] = {"cp", "-a", (char *)mdir, res, NULL};
	int rc = bl_mkdir_p(parent, 0755);
	if (rc == 0 && (bl_run(cp, 600000, &out, &st2) < 0 || st2)) {
		rc = bl_err("cannot copy '%s': %s", mdir, out ? out : "");
	}
	free(out);
	out = NULL;
	char *dm[] = {"depmod", "-b", base, (char *)version, NULL};
	if (rc == 0 && (bl_run(dm, 600000, &out, &st2) < 0 || st2))
		rc = bl_err("depmod -b '%s' %s failed: %s", base, version, out ? out : "");
	free(out);
	free(parent);
	close(lock);
	if (rc < 0 || !bl_file_exists(dep)) {
		if (rc == 0)
			bl_err("depmod made no modules.dep in '%s'", res);
		goto fail;
	}
done:
	free(dep);
	free(base);
	return res;
fail:
	bl_err_kind(BL_EK_INFRA);
	free(dep);
	free(base);
	free(res);
	return NULL;
}

int bl_kernel_distro(const char *image, const char *modules_dir, struct bl_kernel *out)
{
	memset(out, 0, sizeof(*out));
	char *img = realpath(image, NULL);
	if (!img)
		return bl_err_errno("kernel '%s'", image);
	const char *arch = image_arch(img);
	if (!arch) {
		free(img);
		return bl_err(
		    "kernel '%s': not a kernel image bootlab knows (bzImage, arm64 Image, "
		    "ELF vmlinux, UML binary)",
		    image);
	}
	out->arch = xstrdup(arch);
	out->flavor = xstrdup("distro");
	out->image = img;
	char *dirc = xstrdup(img);
	char *dir = dirname(dirc);
	const char *base = strrchr(img, '/') + 1;

	/* version: the modules folder's name, the image's name, or UML asks itself */
	if (modules_dir) {
		char *m = realpath(modules_dir, NULL);
		if (!m || !bl_is_dir(m)) {
			free(m);
			free(dirc);
			bl_kernel_release(out);
			return bl_err("modules folder '%s' does not exist", modules_dir);
		}
		out->modules_dir = m;
		out->version = xstrdup(strrchr(m, '/') + 1);
	} else if (!strncmp(base, "vmlinuz-", 8) || !strncmp(base, "vmlinux-", 8)) {
		out->version = xstrdup(base + 8);
	} else if (!strcmp(arch, "um")) {
		char *v = uml_query(img, "--version");
		if (v) {
			v[strcspn(v, "\n")] = 0;
			out->version = v;
		}
	}
	if (!out->version)
		out->version = xstrdup("unknown");

	/* config: /boot/config-<version> beside the image, or UML's own */
	char *cfg = xasprintf("%s/config-%s", dir, out->version);
	if (bl_file_exists(cfg))
		out->config = cfg;
	else {
		free(cfg);
		if (!strcmp(arch, "um")) {
			char *c = uml_query(img, "--showconfig");
			char *name = xasprintf("uml-config-%s", out->version);
			char *p = c ? cache_sub(name) : NULL;
			if (p && bl_write_file_atomic(p, c, strlen(c), 0644) == 0)
				out->config = p;
			else
				free(p);
			free(name);
			free(c);
		}
	}
	free(dirc);

	/* modules: <root>/lib/modules/<version> where the image is <root>/boot/...
	 * (/ for the host's kernels, the extracted package for fetched ones),
	 * then /usr/lib/uml/modules/<version> for Debian's UML */
	if (!out->modules_dir) {
		char *rootc = xstrdup(img);
		char *root = dirname(dirname(rootc));
		char *cands[2];
		cands[0] =
		    xasprintf("%s/lib/modules/%s", strcmp(root, "/") ? root : "", out->version);
		cands[1] = xasprintf("/usr/lib/uml/modules/%s", out->version);
		for (size_t i = 0; i < 2; i++) {
			if (!out->modules_dir && bl_is_dir(cands[i]) &&
			    (i == 1) == !strcmp(arch, "um"))
				out->modules_dir = cands[i];
			else
				free(cands[i]);
		}
		free(rootc);
	}
	if (out->modules_dir) {
		char *dep = xasprintf("%s/modules.dep", out->modules_dir);
		int have = bl_file_exists(dep);
		free(dep);
		if (!have) {
			char *copy = depmod_copy(out->modules_dir, out->version);
			if (!copy) {
				bl_kernel_release(out);
				return -1;
			}
			free(out->modules_dir);
			out->modules_dir = copy;
		}
	}
	return 0;
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
	char *kdir = cache_sub("");
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
	char *kdir = cache_sub("");
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
