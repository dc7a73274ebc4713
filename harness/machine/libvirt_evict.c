/* libvirt backend: the upload pool kept in bounds (docs/libvirt.md,
 * "Eviction"). Once per bootlab process, before its first upload to a
 * host, the pool "bootlab" is swept:
 *
 *   - a per-boot disk clone (BOOT.vdX) whose domain BOOT is not on the
 *     host and that nothing wrote for CLONE_GRACE_S is a killed bootlab's
 *     leftover: deleted;
 *   - a content volume (SHA256.kind) not used for the maximum age
 *     ($BOOTLAB_LIBVIRT_POOL_MAX_AGE, 14 days by default) is deleted, its
 *     marker first, so that no bootlab takes it for complete meanwhile;
 *   - while the content volumes hold more than the size limit
 *     ($BOOTLAB_LIBVIRT_POOL_MAX, 20 GiB by default), the least recently
 *     used of those idle for IDLE_S are deleted;
 *   - a marker whose volume is gone is deleted.
 *
 * A volume's last use is the later of its own mtime (its upload) and its
 * marker's: a boot that reuses a volume moves the marker's mtime forward
 * when it is older than REFRESH_S (bl_lv_mark_used). atime cannot say it:
 * libvirt reads every volume itself when it refreshes one. So a volume
 * used in the last IDLE_S - REFRESH_S is never a candidate under size
 * pressure, and one another bootlab has just found complete is not
 * deleted under its boot. The volumes the sweeping boot itself needs are
 * never candidates. */
#include "machine/libvirt_int.h"
#include "util/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLONE_GRACE_S 600
#define REFRESH_S (6 * 3600LL)
#define IDLE_S 86400LL
#define MAX_AGE_S (14 * 86400LL)
#define MAX_BYTES (20ULL << 30)

enum vol_kind { VOL_CONTENT, VOL_MARKER, VOL_CLONE, VOL_OTHER };

struct vol {
	char *name;
	enum vol_kind kind;
	unsigned long long bytes; /* allocated on the host */
	long long used, mtime;	  /* seconds since the epoch (used: content volumes) */
	bool keep, gone;
};

/* SHA256.kernel, .initrd, .disk (+ ".ok": its marker), BOOT.vdX */
static enum vol_kind vol_kind(const char *n)
{
	size_t len = strlen(n), i = 0;
	while (i < 64 && isxdigit((unsigned char)n[i]) && !isupper((unsigned char)n[i]))
		i++;
	if (i == 64 && n[64] == '.') {
		const char *k = n + 65;
		static const char *const kinds[] = {"kernel", "initrd", "disk"};
		for (size_t j = 0; j < 3; j++) {
			size_t kl = strlen(kinds[j]);
			if (!strncmp(k, kinds[j], kl) && !k[kl])
				return VOL_CONTENT;
			if (!strncmp(k, kinds[j], kl) && !strcmp(k + kl, ".ok"))
				return VOL_MARKER;
		}
	}
	if (!strncmp(n, "bootlab-", 8) && len > 12 && !strncmp(n + len - 4, ".vd", 3) &&
	    islower((unsigned char)n[len - 1]))
		return VOL_CLONE;
	return VOL_OTHER;
}

/* <timestamps><TAG>SECONDS[.NANOS]</TAG> of a volume's XML; 0 without */
static long long xml_time(const char *x, const char *tag)
{
	const char *ts = x ? strstr(x, "<timestamps>") : NULL;
	if (!ts)
		return 0;
	char open[16];
	snprintf(open, sizeof(open), "<%s>", tag);
	const char *v = strstr(ts, open);
	const char *end = strstr(ts, "</timestamps>");
	if (!v || (end && v > end))
		return 0;
	long long s = strtoll(v + strlen(open), NULL, 10);
	return s > 0 ? s : 0;
}

/* $NAME as a duration in seconds: N with s, m, h or d (seconds without);
 * 0 turns the rule off */
static int env_age(const char *name, long long def, long long *out)
{
	const char *e = getenv(name);
	*out = def;
	if (!e || !*e)
		return 0;
	char *end;
	long long n = strtoll(e, &end, 10);
	long long unit = !*end		     ? 1
			 : !strcmp(end, "s") ? 1
			 : !strcmp(end, "m") ? 60
			 : !strcmp(end, "h") ? 3600
			 : !strcmp(end, "d") ? 86400
					     : 0;
	if (end == e || n < 0 || !unit || n > (1LL << 40))
		return bl_err("%s: bad age '%s' (like 14d, 36h, 90m, or seconds; 0: no limit)",
			      name, e);
	*out = n * unit;
	return 0;
}

static int env_bytes(const char *name, unsigned long long def, unsigned long long *out)
{
	const char *e = getenv(name);
	*out = def;
	if (!e || !*e)
		return 0;
	if (bl_parse_size(e, out) < 0)
		return bl_err_prefix("%s (0: no limit)", name);
	return 0;
}

static void vol_read(virStoragePoolPtr pool, const char *name, struct vol *v)
{
	v->name = xstrdup(name);
	v->kind = vol_kind(name);
	virStorageVolPtr p = virStorageVolLookupByName(pool, name);
	if (!p)
		return;
	virStorageVolInfo info;
	if (virStorageVolGetInfo(p, &info) == 0)
		v->bytes = info.allocation;
	char *x = virStorageVolGetXMLDesc(p, 0);
	v->used = v->mtime = xml_time(x, "mtime");
	free(x);
	virStorageVolFree(p);
}

static void vol_remove(virStoragePoolPtr pool, const char *name)
{
	virStorageVolPtr p = virStorageVolLookupByName(pool, name);
	if (p) {
		virStorageVolDelete(p, 0);
		virStorageVolFree(p);
	}
}

/* a content volume evicted: its marker first, then it */
static void evict(virStoragePoolPtr pool, struct vol *v, struct bl_lv_sweep *out)
{
	char *mark = xasprintf("%s.ok", v->name);
	vol_remove(pool, mark);
	free(mark);
	vol_remove(pool, v->name);
	v->gone = true;
	out->evicted++;
	out->evicted_bytes += (long long)v->bytes;
}

static int by_use(const void *a, const void *b)
{
	const struct vol *x = *(struct vol *const *)a, *y = *(struct vol *const *)b;
	return x->used < y->used ? -1 : x->used > y->used;
}

/* the least recently used idle volumes, until the content fits in MAX */
static void evict_for_size(virStoragePoolPtr pool, struct vol *vs, size_t n, unsigned long long max,
			   long long now, struct bl_lv_sweep *out)
{
	unsigned long long total = 0;
	struct vol **cand = xcalloc(n + 1, sizeof(*cand));
	size_t nc = 0;
	for (size_t i = 0; i < n; i++) {
		if (vs[i].kind != VOL_CONTENT || vs[i].gone)
			continue;
		total += vs[i].bytes;
		if (!vs[i].keep && vs[i].used < now - IDLE_S)
			cand[nc++] = &vs[i];
	}
	qsort(cand, nc, sizeof(*cand), by_use);
	for (size_t i = 0; i < nc && total > max; i++) {
		total -= cand[i]->bytes;
		evict(pool, cand[i], out);
	}
	if (total > max)
		bl_warn("libvirt: the pool '%s' holds %llu bytes, over its limit of %llu "
			"(BOOTLAB_LIBVIRT_POOL_MAX): the rest was used in the last day",
			"bootlab", total, max);
	free(cand);
}

static bool named(const char *name, const char *const *keep, size_t nkeep)
{
	for (size_t i = 0; i < nkeep; i++)
		if (!strcmp(name, keep[i]))
			return true;
	return false;
}

/* BOOT.vdX: a leftover when BOOT is not on the host and the clone is old */
static void sweep_clone(virConnectPtr conn, virStoragePoolPtr pool, struct vol *v, long long now,
			struct bl_lv_sweep *out)
{
	if (v->mtime > now - CLONE_GRACE_S)
		return;
	char *dom = xstrndup(v->name, strlen(v->name) - 4);
	virDomainPtr d = virDomainLookupByName(conn, dom);
	free(dom);
	if (d) {
		virDomainFree(d);
		return;
	}
	vol_remove(pool, v->name);
	v->gone = true;
	out->clones++;
}

/* the content volume of marker M (NAME.ok), or NULL when it is not there */
static struct vol *marked(struct vol *vs, size_t n, const struct vol *m)
{
	size_t len = strlen(m->name) - 3;
	for (size_t i = 0; i < n; i++)
		if (vs[i].kind == VOL_CONTENT && !vs[i].gone && strlen(vs[i].name) == len &&
		    !strncmp(vs[i].name, m->name, len))
			return &vs[i];
	return NULL;
}

void bl_lv_mark_used(virStoragePoolPtr pool, const char *mark)
{
	virStorageVolPtr v = virStorageVolLookupByName(pool, mark);
	if (!v)
		return;
	char *x = virStorageVolGetXMLDesc(v, 0);
	long long mtime = xml_time(x, "mtime");
	free(x);
	virStorageVolInfo info;
	/* a file's mtime moves when its size changes: 0 and 1 byte in turn */
	if (mtime < (long long)time(NULL) - REFRESH_S && virStorageVolGetInfo(v, &info) == 0)
		virStorageVolResize(v, info.capacity ? 0 : 1,
				    info.capacity ? VIR_STORAGE_VOL_RESIZE_SHRINK : 0);
	virStorageVolFree(v);
}

int bl_lv_pool_sweep(virConnectPtr conn, virStoragePoolPtr pool, const char *const *keep,
		     size_t nkeep, struct bl_lv_sweep *out)
{
	memset(out, 0, sizeof(*out));
	long long max_age;
	unsigned long long max_bytes;
	if (env_age("BOOTLAB_LIBVIRT_POOL_MAX_AGE", MAX_AGE_S, &max_age) < 0 ||
	    env_bytes("BOOTLAB_LIBVIRT_POOL_MAX", MAX_BYTES, &max_bytes) < 0)
		return -1;
	virStorageVolPtr *list = NULL;
	int n = virStoragePoolListAllVolumes(pool, &list, 0);
	if (n < 0) { /* the boot can go on: only the sweep is lost */
		bl_warn("libvirt: cannot list the volumes of pool 'bootlab' (nothing evicted): %s",
			virGetLastErrorMessage());
		return 0;
	}
	struct vol *vs = xcalloc((size_t)n + 1, sizeof(*vs));
	for (int i = 0; i < n; i++) {
		const char *name = virStorageVolGetName(list[i]);
		vol_read(pool, name ? name : "", &vs[i]);
		vs[i].keep = named(vs[i].name, keep, nkeep);
		virStorageVolFree(list[i]);
	}
	free(list);
	for (int i = 0; i < n; i++) { /* a volume's last use: its marker's mtime */
		struct vol *c = vs[i].kind == VOL_MARKER ? marked(vs, (size_t)n, &vs[i]) : NULL;
		if (c && vs[i].mtime > c->used)
			c->used = vs[i].mtime;
	}
	long long now = (long long)time(NULL);
	for (int i = 0; i < n; i++) {
		struct vol *v = &vs[i];
		if (v->kind == VOL_CLONE)
			sweep_clone(conn, pool, v, now, out);
		else if (v->kind == VOL_CONTENT && !v->keep && max_age && v->used < now - max_age)
			evict(pool, v, out);
	}
	if (max_bytes)
		evict_for_size(pool, vs, (size_t)n, max_bytes, now, out);
	for (int i = 0; i < n; i++)
		if (vs[i].kind == VOL_MARKER && !vs[i].keep && !marked(vs, (size_t)n, &vs[i]))
			vol_remove(pool, vs[i].name);
	for (int i = 0; i < n; i++)
		free(vs[i].name);
	free(vs);
	return 0;
}
