/* zcache.c: compressed segments remembered by what they compress.
 *
 * A scenario boots the same archive again and again (matrix rows, repeats,
 * CI re-runs), and compressing it is most of what preparing a boot costs:
 * ~2.5 ms for the 90 KB agent with gzip, tens of ms with xz. Compression is
 * a pure function of (codec, level, uncompressed bytes), so its output is
 * kept in $XDG_CACHE_HOME/bootlab/archives/<sha256>.z and read back on the
 * next identical request. An entry is the sha256 of its bytes (64 hex
 * digits and a newline), then the bytes: a damaged entry is a miss, and
 * the put that follows replaces it. Every failure here only means "not cached": the
 * caller compresses as before. A hit refreshes the file's mtime; storing
 * a new entry trims the folder to the ZCACHE_MAX most recently used and
 * ZCACHE_MAX_BYTES in all; segments over ZCACHE_MAX_ENTRY are not kept. */
#include "archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZCACHE_MAX 256
#define ZCACHE_MAX_BYTES (256LL << 20)
#define ZCACHE_MAX_ENTRY (32LL << 20) /* a bigger segment is not kept */
#define ZCACHE_MIN_BYTES 16384	      /* below this, compressing is cheaper than a lookup */

static char *entry_path(const char *codec, int level, const char *raw, size_t len)
{
	char *cache = bl_cache_dir(), hex[65], lv[16];
	if (!cache)
		return NULL;
	struct bl_sha256 h;
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, "bootlab-zcache/1");
	bl_sha256_update_str(&h, codec);
	snprintf(lv, sizeof(lv), "%d", level);
	bl_sha256_update_str(&h, lv);
	bl_sha256_update(&h, raw, len);
	bl_sha256_final_hex(&h, hex);
	char *p = xasprintf("%s/archives/%s.z", cache, hex);
	free(cache);
	return p;
}

static const char *digest(const char *z, size_t len, char hex[65])
{
	struct bl_sha256 h;
	bl_sha256_init(&h);
	bl_sha256_update(&h, z, len);
	bl_sha256_final_hex(&h, hex);
	return hex;
}

int bl_zcache_get(const char *codec, int level, const char *raw, size_t len, struct strbuf *out,
		  char **key)
{
	char *data, hex[65];
	size_t n;
	*key = NULL;
	if (len < ZCACHE_MIN_BYTES || getenv("BOOTLAB_NO_ZCACHE"))
		return -1;
	if (!(*key = entry_path(codec, level, raw, len)))
		return -1;
	if (bl_read_file(*key, &data, &n) < 0) /* a miss; its message goes unused */
		return -1;
	if (n <= 65 || data[64] != '\n' || strncmp(data, digest(data + 65, n - 65, hex), 64)) {
		free(data);
		return -1;
	}
	sb_add(out, data + 65, n - 65);
	free(data);
	utimensat(AT_FDCWD, *key, NULL, 0);
	return 0;
}

struct ent {
	struct timespec t;
	off_t size;
	char name[80];
};

static int newest_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct ent *)a)->t, *y = &((const struct ent *)b)->t;
	if (x->tv_sec != y->tv_sec)
		return x->tv_sec > y->tv_sec ? -1 : 1;
	return x->tv_nsec > y->tv_nsec ? -1 : x->tv_nsec < y->tv_nsec;
}

/* keep the most recently used entries: at most ZCACHE_MAX of them and
 * ZCACHE_MAX_BYTES in all */
static void trim(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct ent *v = NULL;
	size_t n = 0, alloc = 0;
	long long total = 0;
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(v->name) ||
		    fstatat(dirfd(d), e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		BL_GROW(v, n, alloc);
		v[n].t = st.st_mtim;
		v[n].size = st.st_size;
		strcpy(v[n++].name, e->d_name);
	}
	qsort(v, n, sizeof(*v), newest_first);
	for (size_t i = 0; i < n; i++) {
		total += v[i].size;
		if (i >= ZCACHE_MAX || total > ZCACHE_MAX_BYTES)
			unlinkat(dirfd(d), v[i].name, 0);
	}
	free(v);
	closedir(d);
}

void bl_zcache_put(const char *key, const char *z, size_t len)
{
	if (!key || (long long)len > ZCACHE_MAX_ENTRY)
		return;
	char *dir = xstrdup(key), hex[65];
	struct strbuf e = STRBUF_INIT;
	*strrchr(dir, '/') = 0;
	sb_add(&e, digest(z, len, hex), 64);
	sb_add(&e, "\n", 1);
	sb_add(&e, z, len);
	if (bl_mkdir_p(dir, 0755) == 0 && bl_write_file_atomic(key, e.buf, e.len, 0644) == 0)
		trim(dir);
	sb_release(&e);
	free(dir);
}
