/* Debian's linux-source tarball, extracted once into <cache>/kernels/src/
 * <tarball-hash>/ and shared by every arch's build (~13 s). The extraction
 * goes to a .tmp folder renamed when complete, under its own lock. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

char *bl_kernel_source_extract(const char *kdir, const char *tarball, const char *thash, int quiet)
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
	struct bl_kernel_progress p;
	bl_kernel_progress_init(&p, "extracting kernel source", quiet, 0);
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
