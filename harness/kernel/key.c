/* What a built kernel's cache key is made of: SHA-256 over the recipe
 * version, the arch, the source (the tarball's hash, or a source folder's
 * path), the first line of the compiler's --version and the fragment's
 * bytes. A cache hit must not read the 138 MB tarball nor run gcc, so both
 * answers are remembered by the identity (path, inode, size, mtime) of the
 * file they came from. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* the memo file memo when it holds a value memo_ok accepts; caller frees */
static char *memo_read(const char *memo, int (*memo_ok)(const char *data, size_t len))
{
	char *data;
	size_t len;
	if (!bl_file_exists(memo) || bl_read_file(memo, &data, &len) < 0)
		return NULL;
	if (memo_ok(data, len))
		return data;
	free(data);
	return NULL;
}

/* remembered quietly: a memo that cannot be written is asked again next time */
static void memo_write(const char *kdir, const char *sub, const char *memo, const char *value,
		       size_t len)
{
	char *dir = xasprintf("%s/%s", kdir, sub);
	if (bl_mkdir_p(dir, 0755) == 0)
		bl_write_file_atomic(memo, value, len, 0644);
	free(dir);
}

static int is_hash(const char *data, size_t len)
{
	return len >= 64;
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
	identity_key(path, &st, khex);
	char *memo = xasprintf("%s/src/memo-%.16s", kdir, khex);
	char *data = memo_read(memo, is_hash);
	if (data) {
		memcpy(out, data, 64);
		out[64] = 0;
		free(data);
		free(memo);
		return 0;
	}
	struct bl_sha256 h;
	bl_sha256_init(&h);
	int rc = bl_sha256_update_file(&h, path);
	bl_sha256_final_hex(&h, out);
	if (rc == 0)
		memo_write(kdir, "src", memo, out, 64);
	free(memo);
	return rc < 0 ? bl_kernel_infra() : 0;
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

static int is_line(const char *data, size_t len)
{
	return len > 0 && !memchr(data, '\n', len);
}

/* The first line of `gcc --version` (part of the kernel's cache key).
 * Running gcc costs ~2 ms on every boot's kernel lookup, so the answer is
 * remembered in kdir/tool/ by the compiler binary's real path, inode, size
 * and mtime: a new gcc package or a switched alternative is a new binary
 * and asks gcc again. */
static char *toolchain_version(const char *kdir, const struct bl_kernel_recipe *r)
{
	char *cc = xasprintf("%sgcc", r->cross ? r->cross : "");
	char *bin = find_compiler(cc), *memo = NULL, *out = NULL;
	struct stat st;
	int status = 0;
	if (bin && stat(bin, &st) == 0) {
		char khex[65];
		identity_key(bin, &st, khex);
		memo = xasprintf("%s/tool/%.16s", kdir, khex);
		out = memo_read(memo, is_line);
	}
	free(bin);
	if (out)
		goto done;
	char *argv[] = {cc, "--version", NULL};
	if (bl_run(argv, 30000, &out, &status) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		free(out);
		out = NULL;
		bl_err("compiler '%s' not found (install it with ci/install-deps)", cc);
		bl_kernel_infra();
		goto done;
	}
	out[strcspn(out, "\n")] = 0;
	if (memo && *out)
		memo_write(kdir, "tool", memo, out, strlen(out));
done:
	free(memo);
	free(cc);
	return out;
}

/* "dir:<real path>" or "tarball:<sha256>" (then t->thash is set) */
static char *source_desc(struct bl_kernel_tree *t, const char *source_dir)
{
	if (source_dir) {
		char *real = realpath(source_dir, NULL);
		if (!real || !bl_is_dir(real)) {
			bl_err("kernel source '%s' is not a folder", source_dir);
			free(real);
			return NULL;
		}
		t->src = real;
		return xasprintf("dir:%s", real);
	}
	if (file_hash_memo(t->kdir, DEBIAN_SOURCE, t->thash) < 0) {
		bl_err_prefix("install linux-source-6.1 (ci/install-deps)");
		return NULL;
	}
	return xasprintf("tarball:%s", t->thash);
}

int bl_kernel_key(struct bl_kernel_tree *t, const char *source_dir)
{
	char *srcdesc = source_desc(t, source_dir);
	if (!srcdesc)
		return -1;
	char *tool = toolchain_version(t->kdir, t->r);
	if (!tool) {
		free(srcdesc);
		return -1;
	}
	struct bl_sha256 h;
	char hex[65];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, RECIPE_VERSION);
	bl_sha256_update_str(&h, t->r->name);
	bl_sha256_update_str(&h, srcdesc);
	bl_sha256_update_str(&h, tool);
	bl_sha256_update(&h, t->fragtext, t->fraglen);
	bl_sha256_final_hex(&h, hex);
	free(srcdesc);
	free(tool);
	t->hash = xstrdup(hex);
	return 0;
}
