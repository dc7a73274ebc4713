/* A root stack's members: from the cache, or written by the builder
 * guest (guest.c) into a staging folder of the cache that is renamed into
 * place only when every step passed, then copied into the work folder. */
#include "builder/internal.h"
#include "disk/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* room each member has beyond the filesystem: md 1.2's data offset and
 * LVM's metadata area and extent rounding */
#define MEMBER_SLACK (32ULL << 20)

size_t bl_stack_members(const struct bl_stack *s)
{
	if (bl_stack_has(s, BL_LAYER_RAID10))
		return 4;
	if (bl_stack_has(s, BL_LAYER_RAID5))
		return 3;
	return bl_stack_has(s, BL_LAYER_RAID1) ? 2 : 1;
}

/* what each block layer runs in the builder guest, and the device it
 * leaves for the layer above */
static const struct layer_ops {
	void (*create)(struct bu_script *s, enum bl_layer l);
	void (*stop)(struct bu_script *s, enum bl_layer l);
	void (*report)(struct bu_script *s, enum bl_layer l);
	const char *top;
} layer_ops[] = {
    [BL_LAYER_RAID1] = {bu_md_create, bu_md_stop, bu_md_report, BL_STACK_MD_DEV},
    [BL_LAYER_RAID5] = {bu_md_create, bu_md_stop, bu_md_report, BL_STACK_MD_DEV},
    [BL_LAYER_RAID10] = {bu_md_create, bu_md_stop, bu_md_report, BL_STACK_MD_DEV},
    [BL_LAYER_LVM] = {bu_lvm_create, bu_lvm_stop, bu_lvm_report,
		      "/dev/mapper/" BL_STACK_VG "-" BL_STACK_LV},
    [BL_LAYER_LVM_THIN] = {bu_lvm_create, bu_lvm_stop, bu_lvm_report,
			   "/dev/mapper/" BL_STACK_VG "-" BL_STACK_LV},
    [BL_LAYER_LUKS] = {bu_luks_create, bu_luks_stop, bu_luks_report, "/dev/mapper/" BL_STACK_CRYPT},
    [BL_LAYER_LUKS1] = {bu_luks_create, bu_luks_stop, bu_luks_report,
			"/dev/mapper/" BL_STACK_CRYPT},
};

const char *bl_stack_top_dev(const struct bl_stack *s)
{
	return s->n > 1 ? layer_ops[s->layer[s->n - 2]].top : NULL;
}

bool bl_stack_has(const struct bl_stack *s, enum bl_layer l)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->layer[i] == l)
			return true;
	return false;
}

void bu_add(struct bu_script *s, char *what, char *script)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = (struct bu_step){.what = what, .script = script};
}

static void script_release(struct bu_script *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].what);
		free(s->v[i].script);
	}
	free(s->v);
	sl_release(&s->devs);
	sl_release(&s->members);
	sl_release(&s->below_luks);
}

/* every layer made bottom-up, the filesystem copied onto the top, what
 * the tools read back (while every layer is up: lvm finds a PV on md0
 * only while the array runs), then the layers stopped top-down */
static void make_script(const struct bl_stack *s, size_t nmem, const char *fs_dev,
			struct bu_script *b)
{
	for (size_t i = 0; i < nmem; i++)
		sl_pushf(&b->members, "/dev/vd%c", (char)('a' + i));
	for (size_t i = 0; i < nmem; i++)
		sl_push(&b->devs, b->members.v[i]);
	bu_add(b, xstrdup("setup"), xstrdup("mkdir -p /run/lock/lvm /tmp\n"));
	for (size_t i = 0; i + 1 < s->n; i++)
		layer_ops[s->layer[i]].create(b, s->layer[i]);
	if (b->xfs)
		bu_xfs_make(b, fs_dev);
	else
		bu_add(b, xstrdup("copy the filesystem onto the top device"),
		       xasprintf("dd if=%s of=%s bs=1M conv=fsync\nsync\n", fs_dev, b->devs.v[0]));
	for (size_t i = 0; i + 1 < s->n; i++)
		layer_ops[s->layer[i]].report(b, s->layer[i]);
	if (b->xfs)
		bu_xfs_report(b);
	for (size_t i = s->n - 1; i-- > 0;)
		layer_ops[s->layer[i]].stop(b, s->layer[i]);
}

/* the md array's and the LUKS header's UUIDs: the ones the user fixed
 * (IDS), else derived from the cache key */
static void ids_of(const char *key, const struct bl_stack_ids *ids, char md[40], char luks[37])
{
	snprintf(md, 40, "%.8s:%.8s:%.8s:%.8s", key, key + 8, key + 16, key + 24);
	snprintf(luks, 37, "%.8s-%.4s-4%.3s-8%.3s-%.12s", key + 32, key + 40, key + 44, key + 47,
		 key + 50);
	if (ids && ids->array[0])
		snprintf(md, 40, "%s", ids->array);
	if (ids && ids->luks[0])
		snprintf(luks, 37, "%s", ids->luks);
}

/* the cache key: the stack, the filesystem's bytes, the LUKS key, the
 * md and LUKS UUIDs the user fixed, an xfs top's label and UUID, and the
 * tools */
static int stack_key(const struct bl_stack *s, const struct bl_stack_build_opts *o, char out[65])
{
	static const char *const tools[] = {"/sbin/mdadm", "/sbin/lvm", "/sbin/cryptsetup",
					    "/bin/busybox"};
	const char *fs = o->fs_image;
	struct bl_sha256 h;
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, "bootlab-stack-1");
	for (size_t i = 0; i < s->n; i++)
		bl_sha256_update_str(&h, bl_layer_name(s->layer[i]));
	bl_sha256_update_str(&h, o->key ? "key" : "no key");
	if (o->key)
		bl_sha256_update(&h, o->key, o->key_len);
	if (o->ids && o->ids->array[0]) /* (only when fixed: derived ones keep their keys) */
		bl_sha256_update_str(&h, o->ids->array);
	if (o->ids && o->ids->luks[0])
		bl_sha256_update_str(&h, o->ids->luks);
	bool xfs = bl_stack_has(s, BL_LAYER_XFS);
	if (xfs) {
		bl_sha256_update_str(&h, o->fs_label ? o->fs_label : "no label");
		bl_sha256_update_str(&h, o->fs_uuid ? o->fs_uuid : "no uuid");
	}
	if (bl_sha256_update_file(&h, fs) < 0)
		return bl_err_prefix("the root filesystem image");
	for (size_t i = 0; i < BL_ARRAY_SIZE(tools); i++)
		if (bl_sha256_update_file(&h, tools[i]) < 0) {
			bl_err_kind(BL_EK_INFRA);
			return bl_err_prefix("the stack builder needs '%s' (ci/install-deps)",
					     tools[i]);
		}
	for (size_t i = 0; xfs && i < BL_ARRAY_SIZE(bu_xfs_tools); i++)
		if (bl_sha256_update_file(&h, bu_xfs_tools[i]) < 0) {
			bl_err_kind(BL_EK_INFRA);
			return bl_err_prefix("an xfs stack needs '%s' (xfsprogs, ci/install-deps)",
					     bu_xfs_tools[i]);
		}
	bl_sha256_final_hex(&h, out);
	return 0;
}

static int file_size(const char *path, unsigned long long *size)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return bl_err_errno("cannot stat '%s'", path);
	*size = (unsigned long long)st.st_size;
	return 0;
}

/* boot the builder into STAGE (a new folder): members m0.img... and log */
static int build_into(const struct bl_stack *s, const struct bl_stack_build_opts *o,
		      const char *stage, const char *key)
{
	size_t n = bl_stack_members(s);
	unsigned long long fs_bytes = 0;
	if (file_size(o->fs_image, &fs_bytes) < 0)
		return -1;
	struct bu_script b = {.fs_bytes = fs_bytes,
			      .key = o->key,
			      .key_len = o->key_len,
			      .xfs = bl_stack_has(s, BL_LAYER_XFS),
			      .fs_label = o->fs_label,
			      .fs_uuid = o->fs_uuid};
	ids_of(key, o->ids, b.md_uuid, b.luks_uuid);
	struct strlist members = STRLIST_INIT;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		sl_pushf(&members, "%s/m%zu.img", stage, i);
		rc = bl_disk_create_sparse(members.v[i], fs_bytes + MEMBER_SLACK);
	}
	char fs_dev[16];
	snprintf(fs_dev, sizeof(fs_dev), "/dev/vd%c", (char)('a' + n));
	make_script(s, n, fs_dev, &b);
	struct strbuf log = STRBUF_INIT;
	if (rc == 0)
		rc = bu_guest_run(&b, members.v, n, o->fs_image, o->workdir, o->timeout_ms, &log);
	char *logf = xasprintf("%s/build.log", stage);
	if (rc == 0)
		rc = bl_write_file(logf, log.buf ? log.buf : "", log.len, 0644);
	free(logf);
	sb_release(&log);
	script_release(&b);
	sl_release(&members);
	return rc;
}

/* CACHE/stacks/KEY, built when missing; its path in *DIR */
static int cached_or_built(const struct bl_stack *s, const struct bl_stack_build_opts *o,
			   const char *key, char **dir, bool *cached)
{
	char *root = bl_cache_dir();
	char *base = xasprintf("%s/stacks", root);
	*dir = xasprintf("%s/%s", base, key);
	free(root);
	*cached = bl_is_dir(*dir);
	int rc = 0;
	if (!*cached && (rc = bl_mkdir_p(base, 0755)) == 0) {
		char *stage = xasprintf("%s/.%s.%d", base, key, (int)getpid());
		bl_rm_rf(stage);
		rc = bl_mkdir_p(stage, 0755);
		if (rc == 0)
			rc = build_into(s, o, stage, key);
		if (rc == 0 && rename(stage, *dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
			rc = bl_err_errno("cannot move '%s' into the cache", stage);
		bl_rm_rf(stage);
		free(stage);
	}
	free(base);
	return rc;
}

static int copy_members(const char *dir, size_t n, const char *workdir, struct bl_stack_disks *out)
{
	out->members = xcalloc(n, sizeof(char *));
	out->sources = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		out->sources[i] = xasprintf("%s/m%zu.img", dir, i);
		out->members[i] = xasprintf("%s/stack-m%zu.img", workdir, i);
		out->n++;
		if (bl_disk_copy_sparse(out->sources[i], out->members[i]) < 0)
			return -1;
	}
	return 0;
}

int bl_stack_build(const struct bl_stack *s, const struct bl_stack_build_opts *o,
		   struct bl_stack_disks *out)
{
	*out = (struct bl_stack_disks){0};
	char key[65], *dir = NULL;
	if (stack_key(s, o, key) < 0)
		return -1;
	int rc = cached_or_built(s, o, key, &dir, &out->cached);
	if (rc == 0)
		rc = copy_members(dir, bl_stack_members(s), o->workdir, out);
	ids_of(key, o->ids, out->md_uuid, out->luks_uuid);
	if (!bl_stack_has_kind(s, BL_KIND_MD))
		out->md_uuid[0] = 0;
	if (!bl_stack_has_kind(s, BL_KIND_LUKS))
		out->luks_uuid[0] = 0;
	if (dir)
		out->log = xasprintf("%s/build.log", dir);
	free(dir);
	if (rc < 0)
		bl_stack_disks_release(out);
	return rc;
}

void bl_stack_disks_release(struct bl_stack_disks *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->members[i]);
		free(d->sources[i]);
	}
	free(d->members);
	free(d->sources);
	free(d->log);
	*d = (struct bl_stack_disks){0};
}
