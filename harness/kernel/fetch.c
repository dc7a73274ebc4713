/* Debian's foreign-arch kernel package, fetched into the cache without
 * installing it: dpkg --add-architecture arm64, apt-get update (only when
 * the architecture is new or apt does not know the package), apt-get
 * download, dpkg-deb -x, depmod -b on the extracted tree (the package ships
 * no modules.dep). Kept in <cache>/kernels/aarch64-debian-<hash>/ with an
 * info file written last, like built kernels; once there, it is used
 * without asking apt again. */
#include "internal.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int infra(void)
{
	bl_err_kind(BL_EK_INFRA);
	return -1;
}

/* run a command, 0 when it exited 0; its output in *out (may be NULL) */
static int run(char *const argv[], int timeout_ms, char **out)
{
	char *o = NULL;
	int st = 0;
	if (bl_run(argv, timeout_ms, &o, &st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		bl_err("'%s %s' failed (%s): %.600s", argv[0], argv[1] ? argv[1] : "",
		       bl_describe_status(st), o ? o : "");
		free(o);
		return infra();
	}
	if (out)
		*out = o;
	else
		free(o);
	return 0;
}

/* "linux-image-6.1.0-56-arm64" from the metapackage's Depends, or NULL */
static char *resolve_package(const char *darch)
{
	char *meta = xasprintf("linux-image-%s:%s", darch, darch);
	char *argv[] = {"apt-cache", "depends", "--important", meta, NULL};
	char *out = NULL;
	char *res = NULL;
	if (run(argv, 60000, &out) == 0) {
		for (char *s = strtok(out, "\n"); s && !res; s = strtok(NULL, "\n")) {
			char name[128];
			if (sscanf(s, " Depends: %127[^: \n<>]", name) == 1 &&
			    !strncmp(name, "linux-image-6", 13))
				res = xstrdup(name);
		}
		if (!res)
			bl_err("apt-cache names no linux-image package for '%s'", meta);
	}
	free(out);
	free(meta);
	return res;
}

static int apt_ready(const char *darch, int quiet)
{
	char *out = NULL;
	char *pf[] = {"dpkg", "--print-foreign-architectures", NULL};
	if (run(pf, 30000, &out) < 0)
		return -1;
	int have = 0;
	for (char *s = strtok(out, "\n"); s; s = strtok(NULL, "\n"))
		have |= !strcmp(s, darch);
	free(out);
	if (!have) {
		if (!quiet)
			fprintf(stderr, "bootlab: dpkg --add-architecture %s\n", darch);
		char *add[] = {"dpkg", "--add-architecture", (char *)darch, NULL};
		if (run(add, 60000, NULL) < 0)
			return bl_err_prefix("cannot add the %s architecture (needs root)", darch);
	}
	return have;
}

/* the newest complete <arch>-debian-* entry of the cache, or NULL */
static char *cached_entry(const char *cache, const char *arch)
{
	char *kdir = xasprintf("%s/kernels", cache), *best = NULL;
	char *prefix = xasprintf("%s-debian-", arch);
	long long best_t = -1;
	DIR *d = opendir(kdir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) || strchr(de->d_name, '.'))
			continue;
		char *info = xasprintf("%s/%s/info", kdir, de->d_name);
		struct stat st;
		if (stat(info, &st) == 0 && (long long)st.st_mtime > best_t) {
			best_t = st.st_mtime;
			free(best);
			best = xasprintf("%s/%s", kdir, de->d_name);
		}
		free(info);
	}
	if (d)
		closedir(d);
	free(kdir);
	free(prefix);
	return best;
}

static int load(const char *dir, struct bl_kernel *out)
{
	char *infop = xasprintf("%s/info", dir), *info;
	size_t len;
	int rc = bl_read_file(infop, &info, &len);
	free(infop);
	if (rc < 0)
		return -1;
	char *image = bl_kernel_info_get(info, "image");
	char *mods = bl_kernel_info_get(info, "modules");
	free(info);
	if (!image || !mods) {
		free(image);
		free(mods);
		return bl_err("cache entry '%s' is damaged (remove it)", dir);
	}
	char *ip = xasprintf("%s/%s", dir, image), *mp = xasprintf("%s/%s", dir, mods);
	rc = bl_kernel_distro(ip, mp, out);
	free(ip);
	free(mp);
	free(image);
	free(mods);
	return rc;
}

int bl_kernel_fetch(const char *arch, int quiet, struct bl_kernel *out)
{
	memset(out, 0, sizeof(*out));
	const char *a = bl_kernel_arch_name(arch);
	if (!a || strcmp(a, "aarch64"))
		return bl_err("kernel fetch: only aarch64 (Debian's linux-image-arm64) can be "
			      "fetched; x86_64 uses the installed /boot/vmlinuz-*");
	const char *darch = "arm64";
	int rc = -1, lock = -1;
	char *cache = bl_cache_dir(), *pkg = NULL, *dir = NULL, *tmp = NULL, *lockp = NULL;
	char *deb = NULL, *out_s = NULL, *version = NULL;
	if (!cache)
		return infra();
	/* once fetched, the cached package is used without asking apt again
	 * (offline runs; remove the entry to fetch a newer one) */
	char *cached = cached_entry(cache, a);
	if (cached) {
		rc = load(cached, out);
		free(cached);
		free(cache);
		return rc;
	}

	int have = apt_ready(darch, quiet);
	if (have < 0)
		goto out;
	pkg = have ? resolve_package(darch) : NULL;
	if (!pkg) {
		if (!quiet)
			fprintf(stderr, "bootlab: apt-get update (for %s packages)\n", darch);
		char *upd[] = {"apt-get", "update", "-qq", NULL};
		if (run(upd, 600000, NULL) < 0)
			goto out;
		pkg = resolve_package(darch);
		if (!pkg)
			goto out;
	}
	/* the package's version too, so a point release is a new entry */
	char *full = xasprintf("%s:%s", pkg, darch);
	char *pol[] = {"apt-cache", "show", "--no-all-versions", full, NULL};
	char *show = NULL;
	if (run(pol, 60000, &show) < 0) {
		free(full);
		goto out;
	}
	for (char *s = strtok(show, "\n"); s; s = strtok(NULL, "\n"))
		if (!strncmp(s, "Version: ", 9)) {
			version = xstrdup(s + 9);
			break;
		}
	free(show);
	struct bl_sha256 h;
	char hex[65];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, full);
	bl_sha256_update_str(&h, version ? version : "");
	bl_sha256_final_hex(&h, hex);
	dir = xasprintf("%s/kernels/%s-debian-%.16s", cache, a, hex);
	char *infop = xasprintf("%s/info", dir);
	if (bl_file_exists(infop)) {
		free(infop);
		free(full);
		rc = load(dir, out);
		goto out;
	}
	lockp = xasprintf("%s.lock", dir);
	lock = bl_kernel_lock(lockp, full, quiet);
	if (lock < 0) {
		free(infop);
		free(full);
		goto out;
	}
	if (bl_file_exists(infop)) {
		free(infop);
		free(full);
		rc = load(dir, out);
		goto out;
	}
	free(infop);
	if (!quiet)
		fprintf(stderr, "bootlab: fetching %s %s\n", full, version ? version : "");
	tmp = xasprintf("%s.tmp", dir);
	bl_rm_rf(tmp);
	bl_rm_rf(dir);
	if (bl_mkdir_p(tmp, 0755) < 0) {
		free(full);
		goto out;
	}
	/* apt-get download writes into the current folder */
	char *sh = xasprintf("cd '%s' && apt-get download -qq '%s'", tmp, full);
	char *dl[] = {"sh", "-c", sh, NULL};
	int r = run(dl, 900000, NULL);
	free(sh);
	free(full);
	if (r < 0)
		goto out;
	DIR *d = opendir(tmp);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strstr(de->d_name, ".deb") && !deb)
			deb = xasprintf("%s/%s", tmp, de->d_name);
	if (d)
		closedir(d);
	if (!deb) {
		bl_err("apt-get download of '%s' left no .deb", pkg);
		infra();
		goto out;
	}
	char *root = xasprintf("%s/root", tmp);
	char *x[] = {"dpkg-deb", "-x", deb, root, NULL};
	r = run(x, 600000, NULL);
	unlink(deb);
	/* the kernel release: the one folder under lib/modules */
	char *mroot = xasprintf("%s/lib/modules", root);
	char *kver = NULL;
	d = r == 0 ? opendir(mroot) : NULL;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && !kver)
			kver = xstrdup(de->d_name);
	if (d)
		closedir(d);
	if (r < 0 || !kver) {
		if (r == 0)
			bl_err("package '%s' has no lib/modules folder", pkg);
		free(root);
		free(mroot);
		free(kver);
		infra();
		goto out;
	}
	char *dep = xasprintf("%s/%s/modules.dep", mroot, kver);
	if (!bl_file_exists(dep)) {
		/* depmod's output goes to a string, never a pipe reader that
		 * might stop early (SIGPIPE would kill it) */
		char *dm[] = {"depmod", "-b", root, kver, NULL};
		r = run(dm, 600000, NULL);
	}
	free(dep);
	free(mroot);
	free(root);
	if (r < 0) {
		free(kver);
		goto out;
	}
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb,
		"arch=%s\nflavor=distro\nimage=root/boot/vmlinuz-%s\nversion=%s\n"
		"modules=root/lib/modules/%s\npackage=%s:%s\npackage_version=%s\n",
		a, kver, kver, kver, pkg, darch, version ? version : "");
	char *tinfo = xasprintf("%s/info", tmp);
	r = bl_write_file_atomic(tinfo, sb.buf, sb.len, 0644);
	sb_release(&sb);
	free(tinfo);
	free(kver);
	if (r < 0 || rename(tmp, dir) < 0) {
		if (r == 0)
			bl_err_errno("cannot rename '%s'", tmp);
		infra();
		goto out;
	}
	rc = load(dir, out);
out:
	if (lock >= 0)
		close(lock);
	if (tmp && rc < 0)
		bl_rm_rf(tmp);
	free(cache);
	free(pkg);
	free(dir);
	free(tmp);
	free(lockp);
	free(deb);
	free(out_s);
	free(version);
	return rc;
}
