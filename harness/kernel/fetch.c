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

/* run a command, 0 when it exited 0; its output in *out (may be NULL) */
static int run(char *const argv[], int timeout_ms, char **out)
{
	char *o = NULL;
	int st = 0;
	if (bl_run(argv, timeout_ms, &o, &st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		bl_err("'%s %s' failed (%s): %.600s", argv[0], argv[1] ? argv[1] : "",
		       bl_describe_status(st), o ? o : "");
		free(o);
		return bl_kernel_infra();
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

/* one fetch under way; fetch_release() frees its strings */
struct fetch {
	const char *arch, *darch; /* "aarch64", Debian's "arm64" */
	int quiet;
	char *pkg;     /* "linux-image-6.1.0-56-arm64" */
	char *full;    /* pkg:darch */
	char *version; /* the package's version, or NULL */
	char *dir;     /* the cache entry */
	char *tmp;     /* dir.tmp while it is fetched */
};

static void fetch_release(struct fetch *f)
{
	free(f->pkg);
	free(f->full);
	free(f->version);
	free(f->dir);
	free(f->tmp);
}

/* f->pkg, f->full and f->version, asking apt (after an apt-get update
 * when apt does not know the package yet) */
static int choose_package(struct fetch *f)
{
	int have = apt_ready(f->darch, f->quiet);
	if (have < 0)
		return -1;
	f->pkg = have ? resolve_package(f->darch) : NULL;
	if (!f->pkg) {
		if (!f->quiet)
			fprintf(stderr, "bootlab: apt-get update (for %s packages)\n", f->darch);
		char *upd[] = {"apt-get", "update", "-qq", NULL};
		if (run(upd, 600000, NULL) < 0)
			return -1;
		f->pkg = resolve_package(f->darch);
		if (!f->pkg)
			return -1;
	}
	/* the package's version too, so a point release is a new entry */
	f->full = xasprintf("%s:%s", f->pkg, f->darch);
	char *pol[] = {"apt-cache", "show", "--no-all-versions", f->full, NULL};
	char *show = NULL;
	if (run(pol, 60000, &show) < 0)
		return -1;
	for (char *s = strtok(show, "\n"); s; s = strtok(NULL, "\n"))
		if (!strncmp(s, "Version: ", 9)) {
			f->version = xstrdup(s + 9);
			break;
		}
	free(show);
	return 0;
}

/* the first name in dir (hidden ones aside) that holds contains; caller frees; NULL if none */
static char *first_entry(const char *dir, const char *contains)
{
	char *res = NULL;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && strstr(de->d_name, contains) && !res)
			res = xstrdup(de->d_name);
	if (d)
		closedir(d);
	return res;
}

/* the package downloaded into f->tmp and extracted to f->tmp/root; the
 * kernel release (the one folder under lib/modules) in *kver */
static int download_extract(struct fetch *f, char **kver)
{
	/* apt-get download writes into the current folder: env -C sets it,
	 * with no shell that would parse the cache's path */
	char *dl[] = {"env", "-C", f->tmp, "apt-get", "download", "-qq", f->full, NULL};
	int r = run(dl, 900000, NULL);
	if (r < 0)
		return -1;
	char *debname = first_entry(f->tmp, ".deb");
	if (!debname) {
		bl_err("apt-get download of '%s' left no .deb", f->pkg);
		return bl_kernel_infra();
	}
	char *deb = xasprintf("%s/%s", f->tmp, debname);
	char *root = xasprintf("%s/root", f->tmp);
	char *mroot = xasprintf("%s/lib/modules", root);
	char *x[] = {"dpkg-deb", "-x", deb, root, NULL};
	r = run(x, 600000, NULL);
	unlink(deb);
	*kver = r == 0 ? first_entry(mroot, "") : NULL;
	if (r == 0 && !*kver) {
		bl_err("package '%s' has no lib/modules folder", f->pkg);
		r = bl_kernel_infra();
	}
	free(debname);
	free(deb);
	free(root);
	free(mroot);
	return r;
}

/* the package ships no modules.dep */
static int depmod_tree(struct fetch *f, const char *kver)
{
	char *root = xasprintf("%s/root", f->tmp);
	char *dep = xasprintf("%s/lib/modules/%s/modules.dep", root, kver);
	int r = 0;
	if (!bl_file_exists(dep)) {
		/* depmod's output goes to a string, never a pipe reader that
		 * might stop early (SIGPIPE would kill it) */
		char *dm[] = {"depmod", "-b", root, (char *)kver, NULL};
		r = run(dm, 600000, NULL);
	}
	free(dep);
	free(root);
	return r;
}

/* under the entry's lock: fetched into f->tmp, renamed to f->dir complete */
static int fetch_locked(struct fetch *f)
{
	char *kver = NULL;
	if (!f->quiet)
		fprintf(stderr, "bootlab: fetching %s %s\n", f->full, f->version ? f->version : "");
	f->tmp = xasprintf("%s.tmp", f->dir);
	bl_rm_rf(f->tmp);
	bl_rm_rf(f->dir);
	if (bl_mkdir_p(f->tmp, 0755) < 0 || download_extract(f, &kver) < 0 ||
	    depmod_tree(f, kver) < 0) {
		free(kver);
		return -1;
	}
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb,
		"arch=%s\nflavor=distro\nimage=root/boot/vmlinuz-%s\nversion=%s\n"
		"modules=root/lib/modules/%s\npackage=%s:%s\npackage_version=%s\n",
		f->arch, kver, kver, kver, f->pkg, f->darch, f->version ? f->version : "");
	char *tinfo = xasprintf("%s/info", f->tmp);
	int r = bl_write_file_atomic(tinfo, sb.buf, sb.len, 0644);
	sb_release(&sb);
	free(tinfo);
	free(kver);
	if (r < 0 || rename(f->tmp, f->dir) < 0) {
		if (r == 0)
			bl_err_errno("cannot rename '%s'", f->tmp);
		return bl_kernel_infra();
	}
	return 0;
}

/* <cache>/kernels/<arch>-debian-<hash of the package and its version>,
 * fetched unless another bootlab did it first */
static int fetch_entry(struct fetch *f, const char *cache, struct bl_kernel *out)
{
	struct bl_sha256 h;
	char hex[65];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, f->full);
	bl_sha256_update_str(&h, f->version ? f->version : "");
	bl_sha256_final_hex(&h, hex);
	f->dir = xasprintf("%s/kernels/%s-debian-%.16s", cache, f->arch, hex);
	char *infop = xasprintf("%s/info", f->dir);
	char *lockp = xasprintf("%s.lock", f->dir);
	char *kdir = xasprintf("%s/kernels", cache);
	int rc = -1, lock = -1;
	if (!bl_file_exists(infop)) {
		/* a fetch may be the first use of an empty cache */
		if (bl_mkdir_p(kdir, 0755) < 0) {
			bl_kernel_infra();
			goto out;
		}
		lock = bl_kernel_lock(lockp, f->full, f->quiet);
		if (lock < 0 || (!bl_file_exists(infop) && fetch_locked(f) < 0))
			goto out;
	}
	rc = load(f->dir, out);
out:
	if (lock >= 0)
		close(lock);
	free(infop);
	free(lockp);
	free(kdir);
	return rc;
}

int bl_kernel_fetch(const char *arch, int quiet, struct bl_kernel *out)
{
	memset(out, 0, sizeof(*out));
	const char *a = bl_kernel_arch_name(arch);
	if (!a || strcmp(a, "aarch64"))
		return bl_err("kernel fetch: only aarch64 (Debian's linux-image-arm64) can be "
			      "fetched; x86_64 uses the installed /boot/vmlinuz-*");
	char *cache = bl_cache_dir();
	if (!cache)
		return bl_kernel_infra();
	/* once fetched, the cached package is used without asking apt again
	 * (offline runs; remove the entry to fetch a newer one) */
	char *cached = cached_entry(cache, a);
	struct fetch f = {.arch = a, .darch = "arm64", .quiet = quiet};
	int rc;
	if (cached)
		rc = load(cached, out);
	else if ((rc = choose_package(&f)) == 0)
		rc = fetch_entry(&f, cache, out);
	if (rc < 0 && f.tmp)
		bl_rm_rf(f.tmp);
	fetch_release(&f);
	free(cached);
	free(cache);
	return rc;
}
