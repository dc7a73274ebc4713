/* Distro kernels: an image someone else built (the host's /boot, a fetched
 * package) and its modules tree, told apart by the image's bytes. */
#include "internal.h"

#include <dirent.h>
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

/* ---- guessing what an image is ---- */

/* "x86_64", "aarch64", "um" from the image's bytes, or NULL */
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
	char *base = bl_kernel_cache_path(name);
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

/* out->version (and out->modules_dir when given): the modules folder's
 * name, the image's name, or UML asks itself */
static int distro_version(struct bl_kernel *out, const char *modules_dir)
{
	const char *base = strrchr(out->image, '/') + 1;
	if (modules_dir) {
		char *m = realpath(modules_dir, NULL);
		if (!m || !bl_is_dir(m)) {
			free(m);
			return bl_err("modules folder '%s' does not exist", modules_dir);
		}
		out->modules_dir = m;
		out->version = xstrdup(strrchr(m, '/') + 1);
	} else if (!strncmp(base, "vmlinuz-", 8) || !strncmp(base, "vmlinux-", 8)) {
		out->version = xstrdup(base + 8);
	} else if (!strcmp(out->arch, "um")) {
		char *v = uml_query(out->image, "--version");
		if (v) {
			v[strcspn(v, "\n")] = 0;
			out->version = v;
		}
	}
	if (!out->version)
		out->version = xstrdup("unknown");
	return 0;
}

/* out->config: /boot/config-<version> beside the image, or UML's own */
static void distro_config(struct bl_kernel *out)
{
	char *dirc = xstrdup(out->image);
	char *cfg = xasprintf("%s/config-%s", dirname(dirc), out->version);
	free(dirc);
	if (bl_file_exists(cfg)) {
		out->config = cfg;
		return;
	}
	free(cfg);
	if (strcmp(out->arch, "um"))
		return;
	char *c = uml_query(out->image, "--showconfig");
	char *name = xasprintf("uml-config-%s", out->version);
	char *p = c ? bl_kernel_cache_path(name) : NULL;
	if (p && bl_write_file_atomic(p, c, strlen(c), 0644) == 0)
		out->config = p;
	else
		free(p);
	free(name);
	free(c);
}

/* out->modules_dir unless given: <root>/lib/modules/<version> where the
 * image is <root>/boot/... (/ for the host's kernels, the extracted
 * package for fetched ones), then /usr/lib/uml/modules/<version> for
 * Debian's UML; a depmod'ed copy when it has no modules.dep */
static int distro_modules(struct bl_kernel *out)
{
	if (!out->modules_dir) {
		char *rootc = xstrdup(out->image);
		char *root = dirname(dirname(rootc));
		char *cands[2];
		cands[0] =
		    xasprintf("%s/lib/modules/%s", strcmp(root, "/") ? root : "", out->version);
		cands[1] = xasprintf("/usr/lib/uml/modules/%s", out->version);
		for (size_t i = 0; i < 2; i++) {
			if (!out->modules_dir && bl_is_dir(cands[i]) &&
			    (i == 1) == !strcmp(out->arch, "um"))
				out->modules_dir = cands[i];
			else
				free(cands[i]);
		}
		free(rootc);
	}
	if (!out->modules_dir)
		return 0;
	char *dep = xasprintf("%s/modules.dep", out->modules_dir);
	int have = bl_file_exists(dep);
	free(dep);
	if (have)
		return 0;
	char *copy = depmod_copy(out->modules_dir, out->version);
	if (!copy)
		return -1;
	free(out->modules_dir);
	out->modules_dir = copy;
	return 0;
}

int bl_kernel_distro(const char *image, const char *modules_dir, struct bl_kernel *out)
{
	memset(out, 0, sizeof(*out));
	char *img = realpath(image, NULL);
	if (!img)
		return bl_err_errno("kernel '%s'", image);
	enum bl_kernel_kind kind = bl_kernel_kind_of(img);
	const char *arch = bl_kernel_kind_arch(kind);
	if (!arch) {
		free(img);
		return bl_err(
		    "kernel '%s': not a kernel image bootlab knows (bzImage, arm64 Image, "
		    "x86_64 vmlinux with a PVH entry note (CONFIG_PVH), UML binary)",
		    image);
	}
	out->kind = kind;
	out->arch = xstrdup(arch);
	out->flavor = xstrdup("distro");
	out->image = img;
	if (distro_version(out, modules_dir) < 0) {
		bl_kernel_release(out);
		return -1;
	}
	distro_config(out);
	if (distro_modules(out) < 0) {
		bl_kernel_release(out);
		return -1;
	}
	return 0;
}
