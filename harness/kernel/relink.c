/* A complete build relinked with a built-in archive: the archive's bytes
 * at the fixed path CONFIG_INITRAMFS_SOURCE names (make.c says why it is
 * fixed), the relink target made (usr/ and the final link, ~8 s), what was
 * linked read back (linked.c), the image stored in builtin/<key>/. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "builtin/<key>": the archive's hash and the relink recipe, so that a
 * change to how relinks are made never reuses an older relink */
char *bl_kernel_relink_dir(const char *ahash)
{
	struct bl_sha256 h;
	char hex[65];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, RELINK_VERSION);
	bl_sha256_update_str(&h, ahash);
	bl_sha256_final_hex(&h, hex);
	return xasprintf("builtin/%.16s", hex);
}

/* The build tree names its built-in archive by absolute path, and its
 * Makefile names the source tree so: in a cache folder that was moved or
 * copied, a relink would use a stale file or fail deep in make. The path
 * the tree was built for when it is not this entry's, else NULL. */
char *bl_kernel_tree_moved(const struct bl_kernel_tree *t)
{
	static const char key[] = "\nCONFIG_INITRAMFS_SOURCE=\"";
	char *cfgp = xasprintf("%s/config", t->dir), *cfg = NULL, *was = NULL;
	char *want = xasprintf("%s/" BUILTIN_NAME, t->dir);
	size_t cfglen;
	if (bl_read_file(cfgp, &cfg, &cfglen) == 0) {
		const char *v = strstr(cfg, key);
		v = v ? v + strlen(key) : "";
		size_t n = strcspn(v, "\"\n");
		if (n != strlen(want) || strncmp(v, want, n))
			was = xstrndup(v, n);
	}
	free(cfg);
	free(want);
	free(cfgp);
	return was;
}

/* data (len bytes, read from archive) written to builtin, the relink
 * target made, and what it linked read back */
static int relink_make(const struct bl_kernel_tree *t, const char *archive, const char *ahash,
		       const char *builtin, const char *data, size_t len,
		       struct bl_kernel_progress *p)
{
	int logfd = open(t->logp, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (logfd < 0)
		return bl_err_errno("cannot open '%s'", t->logp);
	dprintf(logfd, "\nbootlab: relink with built-in archive '%s' (sha256 %s)\n", archive,
		ahash);
	if (!p->quiet)
		fprintf(stderr, "relinking kernel %s with built-in archive '%s'\n", t->r->name,
			archive);
	char *obj = xasprintf("%s/usr/initramfs_data.o", t->bdir);
	int rc = bl_write_file_atomic(builtin, data, len, 0644);
	if (rc == 0)
		rc = bl_kernel_tree_make(t, t->r->relink, logfd, p);
	if (rc == 0)
		rc = bl_kernel_check_linked(obj, archive);
	free(obj);
	close(logfd);
	return rc;
}

/* the relinked image and its info into t->dir/sub, renamed in complete */
static int relink_store(const struct bl_kernel_tree *t, const char *archive, const char *ahash,
			const char *sub, double secs, int quiet)
{
	char *subdir = xasprintf("%s/%s", t->dir, sub);
	char *tmpdir = xasprintf("%s.tmp", subdir);
	char *extra = xasprintf("builtin=%s\nbuiltin_source=%s\nrelink_recipe=%s\n", ahash, archive,
				RELINK_VERSION);
	char *ver = NULL;
	bl_rm_rf(tmpdir);
	int rc = bl_mkdir_p(tmpdir, 0755);
	if (rc == 0)
		rc = bl_kernel_cache_store(t, tmpdir, 0, extra, secs, &ver);
	if (rc == 0 && rename(tmpdir, subdir) < 0)
		rc = bl_err_errno("cannot rename '%s'", tmpdir);
	if (rc == 0 && !quiet)
		fprintf(stderr, "kernel %s relinked in %.1f s\n", t->r->name, secs);
	free(ver);
	free(extra);
	free(tmpdir);
	free(subdir);
	return rc;
}

int bl_kernel_relink(const struct bl_kernel_tree *t, const char *archive, const char *ahash,
		     const char *sub, int quiet)
{
	char *data = NULL;
	size_t len;
	if (bl_read_file(archive, &data, &len) < 0)
		return -1; /* bad input, not infrastructure */
	char *builtin = xasprintf("%s/" BUILTIN_NAME, t->dir);
	char *title = xasprintf("relinking kernel %s", t->r->name);
	struct bl_kernel_progress p;
	bl_kernel_progress_init(&p, title, quiet, 0);
	int rc = relink_make(t, archive, ahash, builtin, data, len, &p);
	if (rc == 0)
		rc = relink_store(t, archive, ahash, sub, bl_ns_to_s(bl_now_ns() - p.start), quiet);
	if (rc < 0)
		bl_kernel_infra();
	free(data);
	free(builtin);
	free(title);
	return rc;
}
