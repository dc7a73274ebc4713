/* Plan -> images: lay it out, hash the input, reuse cached images, else
 * build every disk in a staging folder (tables, filesystems by mke2fs -d,
 * md superblocks), move them into the cache, copy them into the workdir. */
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* bump when the bytes written for the same plan change; v2: the hash that
 * seeds every UUID is over the typed plan, not its JSON text */
#define DISK_FORMAT "bootlab-disks-v2"
#define DEFAULT_EPOCH 1704067200ULL /* 2024-01-01: images must not depend on the clock */

/* ---- sparse copies ---- */

int bl_disk_copy_sparse(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return bl_err_errno("cannot open '%s'", src);
	struct stat st;
	if (fstat(in, &st) < 0) {
		close(in);
		return bl_err_errno("cannot stat '%s'", src);
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return bl_err_errno("cannot create '%s'", dst);
	}
	int r = 0;
	if (ioctl(out, FICLONE, in) < 0) {
		if (ftruncate(out, st.st_size) < 0)
			r = bl_err_errno("cannot size '%s'", dst);
		else if (bl_copy_extents(in, st.st_size, out, 0) < 0)
			r = bl_err_prefix("cannot copy '%s' to '%s'", src, dst);
	}
	if (close(out) < 0 && !r)
		r = bl_err_errno("cannot write '%s'", dst);
	close(in);
	if (r)
		unlink(dst);
	return r;
}

/* ---- hashing the input ---- */

static int hash_tree(struct bl_sha256 *h, const char *dir, const char *rel)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return bl_err_errno("cannot read folder '%s'", dir);
	int r = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		if (r || !strcmp(nm, ".") || !strcmp(nm, "..")) {
			free(ents[i]);
			continue;
		}
		char *p = bl_path_join(dir, nm);
		char *rp = xasprintf("%s/%s", rel, nm);
		struct stat st;
		if (lstat(p, &st) < 0)
			r = bl_err_errno("cannot stat '%s'", p);
		else {
			char meta[160];
			snprintf(meta, sizeof(meta), "%o %u %u %llu %llu", st.st_mode, st.st_uid,
				 st.st_gid, (unsigned long long)st.st_size,
				 (unsigned long long)st.st_rdev);
			bl_sha256_update_str(h, rp);
			bl_sha256_update_str(h, meta);
			if (S_ISREG(st.st_mode))
				r = bl_sha256_update_file(h, p);
			else if (S_ISLNK(st.st_mode)) {
				char t[4096];
				ssize_t k = readlink(p, t, sizeof(t) - 1);
				t[k < 0 ? 0 : k] = 0;
				bl_sha256_update_str(h, t);
			} else if (S_ISDIR(st.st_mode))
				r = hash_tree(h, p, rp);
		}
		free(p);
		free(rp);
		free(ents[i]);
	}
	free(ents);
	return r;
}

static void hash_s(struct bl_sha256 *h, const char *s)
{
	bl_sha256_update_str(h, s ? "=" : "-");
	if (s)
		bl_sha256_update_str(h, s);
}

static void hash_u(struct bl_sha256 *h, unsigned long long v)
{
	char t[32];
	snprintf(t, sizeof(t), "%llu", v);
	bl_sha256_update_str(h, t);
}

/* what a filesystem says, and the bytes of everything it copies in */
static int hash_fs(struct bl_sha256 *h, const struct bl_disk_fs *fs, const char *agent)
{
	if (!fs) {
		bl_sha256_update_str(h, "-");
		return 0;
	}
	hash_s(h, fs->field);
	hash_u(h, fs->type);
	hash_s(h, fs->label);
	hash_s(h, fs->uuid);
	hash_u(h, fs->size);
	hash_s(h, fs->agent);
	for (size_t i = 0; i < fs->nfiles; i++) {
		const struct bl_disk_file *f = &fs->files[i];
		hash_s(h, f->path);
		hash_s(h, f->content);
		hash_s(h, f->symlink);
		hash_u(h, f->dir);
		hash_u(h, (unsigned long long)(f->mode + 1));
		if (f->source && bl_sha256_update_file(h, f->source) < 0)
			return -1;
	}
	if (fs->tree && hash_tree(h, fs->tree, "") < 0)
		return -1;
	if (fs->cpio && bl_sha256_update_file(h, fs->cpio) < 0)
		return -1;
	if (fs->list) {
		/* the list names host files: hash what it renders to */
		struct strbuf sb = STRBUF_INIT;
		int r = dk_fs_render_source(fs, &sb);
		bl_sha256_update(h, sb.buf, sb.len);
		sb_release(&sb);
		if (r < 0)
			return r;
	}
	if (fs->agent && !agent) {
		bl_err("%s.agent: no agent binary is known to place at '%s'", fs->field, fs->agent);
		return dk_err_at(&fs->agent_pos);
	}
	if (fs->agent && bl_sha256_update_file(h, agent) < 0) {
		bl_err_prefix("%s.agent", fs->field);
		return dk_err_at(&fs->agent_pos);
	}
	if (fs->image && bl_sha256_update_file(h, fs->image) < 0)
		return -1;
	return 0;
}

uint64_t dk_epoch(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	if (s && *s) {
		char *end;
		unsigned long long v = strtoull(s, &end, 10);
		if (!*end)
			return v;
	}
	return DEFAULT_EPOCH;
}

static void hash_shape(struct bl_sha256 *h, const struct bl_disk_plan *pl)
{
	for (size_t i = 0; i < pl->ndisks; i++) {
		const struct bl_disk *d = &pl->disks[i];
		hash_s(h, d->name);
		hash_u(h, d->size);
		hash_u(h, d->absent);
		hash_u(h, d->table);
		for (size_t k = 0; k < d->nparts; k++) {
			const struct bl_disk_part *p = &d->parts[k];
			hash_u(h, p->size);
			hash_u(h, p->mbr_type);
			bl_sha256_update(h, p->gpt_type, 16);
			hash_u(h, p->bootable);
			hash_s(h, p->name);
		}
	}
	for (size_t i = 0; i < pl->narrays; i++) {
		const struct bl_md_array *a = &pl->arrays[i];
		hash_s(h, a->name);
		hash_u(h, a->meta);
		hash_u(h, (unsigned long long)a->minor);
		hash_u(h, (unsigned long long)a->raid_disks);
		hash_u(h, a->data_offset);
		for (size_t k = 0; k < a->nmembers; k++) {
			const struct bl_md_member *m = &a->members[k];
			hash_u(h, m->disk);
			hash_u(h, (unsigned long long)(m->part + 1));
			hash_u(h, (unsigned long long)m->index);
			hash_u(h, m->corrupt);
		}
	}
}

/* every UUID and the cache entries derive from this */
static int plan_hash(const struct bl_disk_plan *pl, const char *agent, char out[65])
{
	struct bl_sha256 h;
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, DISK_FORMAT);
	hash_u(&h, dk_epoch());
	hash_shape(&h, pl);
	int r = 0;
	for (size_t i = 0; i < pl->ndisks && !r; i++) {
		r = hash_fs(&h, pl->disks[i].fs, agent);
		for (size_t k = 0; k < pl->disks[i].nparts && !r; k++)
			r = hash_fs(&h, pl->disks[i].parts[k].fs, agent);
	}
	for (size_t i = 0; i < pl->narrays && !r; i++)
		r = hash_fs(&h, pl->arrays[i].fs, agent);
	bl_sha256_final_hex(&h, out);
	return r;
}

void dk_derive16(const char *sethash, const char *tag, uint8_t out[16])
{
	struct bl_sha256 h;
	char hex[65];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, sethash);
	bl_sha256_update_str(&h, tag);
	bl_sha256_final_hex(&h, hex);
	for (int i = 0; i < 16; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static int place(const char *img, int fd, uint64_t at)
{
	int in = open(img, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return bl_err_errno("cannot open '%s'", img);
	struct stat st;
	int r = fstat(in, &st) < 0 ? bl_err_errno("cannot stat '%s'", img)
				   : bl_copy_extents(in, st.st_size, fd, (off_t)at);
	close(in);
	return r;
}

/* ---- building ---- */

struct dk_run {
	const struct bl_disk_plan *plan;
	struct dk_layout lay;
	const char *agent; /* the host binary `agent:` places */
	char sethash[65];
	const char *stage;
	int *fd; /* per disk, in the staging folder */
	char **path;
};

static int write_table(struct dk_run *r, size_t i)
{
	const struct bl_disk *d = &r->plan->disks[i];
	struct bl_part_entry *pe = xcalloc(d->nparts, sizeof(*pe));
	char tag[160];
	uint8_t g[16];
	for (size_t k = 0; k < d->nparts; k++) {
		pe[k].start = r->lay.parts[i][k].start;
		pe[k].sectors = r->lay.parts[i][k].sectors;
		pe[k].mbr_type = d->parts[k].mbr_type;
		pe[k].bootable = d->parts[k].bootable;
		memcpy(pe[k].gpt_type, d->parts[k].gpt_type, 16);
		snprintf(tag, sizeof(tag), "part:%s:%zu", d->name, k);
		dk_derive16(r->sethash, tag, pe[k].gpt_guid);
		pe[k].name = d->parts[k].name;
	}
	snprintf(tag, sizeof(tag), "disk:%s", d->name);
	dk_derive16(r->sethash, tag, g);
	int rc = d->table == BL_PTABLE_MBR
		     ? bl_ptable_write_mbr(r->fd[i], d->size / 512,
					   (uint32_t)g[0] | (uint32_t)g[1] << 8 |
					       (uint32_t)g[2] << 16 | (uint32_t)g[3] << 24,
					   pe, d->nparts)
		     : bl_ptable_write_gpt(r->fd[i], d->size / 512, g, pe, d->nparts);
	free(pe);
	if (rc < 0) {
		bl_err_prefix("%s", d->field);
		return dk_err_at(&d->pos);
	}
	return 0;
}

/* FS made to fit ROOM bytes, placed at byte AT of disk I */
static int write_fs(struct dk_run *r, const struct bl_disk_fs *fs, size_t i, uint64_t at,
		    uint64_t room, const char *what)
{
	char *img = NULL;
	uint64_t len;
	int rc = dk_fs_make(fs, room, what, r->agent, r->stage, r->sethash, &img, &len);
	if (rc < 0)
		return rc;
	rc = place(img, r->fd[i], at);
	free(img);
	if (rc < 0) {
		bl_err_prefix("%s", fs->field);
		return dk_err_at(&fs->pos);
	}
	return 0;
}

static int write_disk(struct dk_run *r, size_t i)
{
	const struct bl_disk *d = &r->plan->disks[i];
	int rc;
	r->path[i] = xasprintf("%s/%s.img", r->stage, d->name);
	r->fd[i] = open(r->path[i], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r->fd[i] < 0 || ftruncate(r->fd[i], (off_t)d->size) < 0)
		return bl_err_errno("cannot create '%s'", r->path[i]);
	if (d->table != BL_PTABLE_NONE && (rc = write_table(r, i)) < 0)
		return rc;
	for (size_t k = 0; k < d->nparts; k++) {
		const struct dk_part *p = &r->lay.parts[i][k];
		if (d->parts[k].fs && (rc = write_fs(r, d->parts[k].fs, i, p->start * 512,
						     p->sectors * 512, "partition")) < 0)
			return rc;
	}
	if (d->fs && (rc = write_fs(r, d->fs, i, 0, d->size, "disk")) < 0)
		return rc;
	return 0;
}

static void array_uuid(const char *sethash, const struct bl_md_array *a, uint8_t uuid[16])
{
	char tag[160];
	snprintf(tag, sizeof(tag), "array:%s", a->name);
	dk_derive16(sethash, tag, uuid);
}

/* where an error about member M points: its disk or partition */
static int member_err(const struct bl_disk_plan *pl, const struct bl_md_member *m)
{
	const struct bl_disk *d = &pl->disks[m->disk];
	bl_err_prefix("%s", m->field);
	return dk_err_at(m->part >= 0 ? &d->parts[m->part].pos : &d->pos);
}

static int write_member(struct dk_run *r, const struct bl_md_array *a, size_t ai, size_t k,
			const uint8_t uuid[16])
{
	const struct bl_md_member *m = &a->members[k];
	const struct dk_member *g = &r->lay.arrays[ai].members[k];
	int fd = r->fd[m->disk];
	struct bl_md_params p = {0};
	char tag[160];
	p.meta = a->meta;
	memcpy(p.uuid, uuid, 16);
	snprintf(p.name, sizeof(p.name), "%s", a->name);
	p.md_minor = a->minor;
	p.raid_disks = a->raid_disks;
	p.index = m->index;
	p.dev_sectors = g->sectors;
	p.array_sectors = r->lay.arrays[ai].array_sectors;
	p.geom = g->geom;
	snprintf(tag, sizeof(tag), "member:%s:%d", a->name, m->index);
	dk_derive16(r->sethash, tag, p.dev_uuid);
	p.time = dk_epoch();
	if (bl_md_write_sb(fd, g->base, &p) < 0)
		return member_err(r->plan, m);
	if (!m->corrupt)
		return 0;
	/* a damaged superblock: same place, deterministic junk */
	uint8_t junk[4096];
	for (size_t j = 0; j < sizeof(junk); j += 16)
		dk_derive16(r->sethash, tag, junk + j), tag[0] ^= (char)(j / 16);
	if (pwrite(fd, junk, sizeof(junk), (off_t)(g->base + g->geom.sb_offset * 512)) !=
	    (ssize_t)sizeof(junk)) {
		bl_err_errno("cannot corrupt");
		return member_err(r->plan, m);
	}
	return 0;
}

/* the array's content at every member's data offset, then the superblocks */
static int write_array(struct dk_run *r, size_t ai)
{
	const struct bl_md_array *a = &r->plan->arrays[ai];
	const struct dk_array *g = &r->lay.arrays[ai];
	uint8_t uuid[16];
	char *img = NULL;
	uint64_t len = 0;
	int rc = 0;
	array_uuid(r->sethash, a, uuid);
	if (a->fs && (rc = dk_fs_make(a->fs, g->array_sectors * 512, "array", r->agent, r->stage,
				      r->sethash, &img, &len)) < 0)
		return rc;
	for (size_t k = 0; k < a->nmembers && !rc; k++) {
		const struct dk_member *gm = &g->members[k];
		if (img &&
		    place(img, r->fd[a->members[k].disk], gm->base + gm->geom.data_offset * 512))
			rc = member_err(r->plan, &a->members[k]);
		else
			rc = write_member(r, a, ai, k, uuid);
	}
	free(img);
	return rc;
}

static int write_all(struct dk_run *r)
{
	int rc;
	for (size_t i = 0; i < r->plan->ndisks; i++)
		if ((rc = write_disk(r, i)) < 0)
			return rc;
	for (size_t ai = 0; ai < r->plan->narrays; ai++)
		if ((rc = write_array(r, ai)) < 0)
			return rc;
	for (size_t i = 0; i < r->plan->ndisks; i++) {
		int bad = fsync(r->fd[i]) < 0 || close(r->fd[i]) < 0;
		r->fd[i] = -1;
		if (bad)
			return bl_err_errno("cannot write '%s'", r->path[i]);
	}
	return 0;
}

static char *cache_path(const char *cdir, const char *sethash, const char *name)
{
	struct bl_sha256 h;
	char hex[65];
	bl_sha256_init(&h);
	bl_sha256_update_str(&h, sethash);
	bl_sha256_update_str(&h, name);
	bl_sha256_final_hex(&h, hex);
	return xasprintf("%s/%s.img", cdir, hex);
}

static json_t *disk_summary(const struct dk_run *r, size_t i, const char *cached, const char *path)
{
	static const char *const tables[] = {"none", "mbr", "gpt"};
	const struct bl_disk *d = &r->plan->disks[i];
	json_t *parts = json_array();
	for (size_t k = 0; k < d->nparts; k++)
		json_array_append_new(
		    parts, json_pack("{s:I,s:I,s:i}", "start", (json_int_t)r->lay.parts[i][k].start,
				     "sectors", (json_int_t)r->lay.parts[i][k].sectors, "mbr_type",
				     d->parts[k].mbr_type));
	return json_pack("{s:s,s:s,s:s,s:I,s:b,s:s,s:o}", "name", d->name, "path", path, "cache",
			 cached, "size", (json_int_t)d->size, "absent", d->absent, "table",
			 tables[d->table], "partitions", parts);
}

static json_t *array_summary(const struct dk_run *r, size_t ai)
{
	const struct bl_md_array *a = &r->plan->arrays[ai];
	const struct dk_array *g = &r->lay.arrays[ai];
	uint8_t uuid[16];
	char u[40];
	array_uuid(r->sethash, a, uuid);
	bl_md_uuid_str(a->meta, uuid, u);
	json_t *mem = json_array();
	for (size_t k = 0; k < a->nmembers; k++) {
		const struct bl_md_member *m = &a->members[k];
		const struct dk_member *gm = &g->members[k];
		json_array_append_new(
		    mem,
		    json_pack("{s:s,s:i,s:i,s:I,s:I,s:I,s:b}", "disk", r->plan->disks[m->disk].name,
			      "partition", m->part + 1, "index", m->index, "offset",
			      (json_int_t)gm->base, "sb_offset", (json_int_t)gm->geom.sb_offset,
			      "sectors", (json_int_t)gm->sectors, "corrupt", m->corrupt));
	}
	/* level: only RAID1 is written */
	return json_pack("{s:s,s:s,s:i,s:s,s:i,s:i,s:I,s:I,s:o}", "name", a->name, "metadata",
			 bl_md_meta_name(a->meta), "level", 1, "uuid", u, "raid_disks",
			 a->raid_disks, "minor", a->minor, "size_kib",
			 (json_int_t)(g->array_sectors / 2), "data_offset",
			 (json_int_t)g->data_offset, "members", mem);
}

static void summary(const struct dk_run *r, char **cached, const struct bl_disk_image *imgs,
		    json_t *out)
{
	json_t *disks = json_array(), *arrays = json_array();
	for (size_t i = 0; i < r->plan->ndisks; i++)
		json_array_append_new(disks, disk_summary(r, i, cached[i], imgs[i].path));
	for (size_t ai = 0; ai < r->plan->narrays; ai++)
		json_array_append_new(arrays, array_summary(r, ai));
	json_object_set_new(out, "disks", disks);
	json_object_set_new(out, "arrays", arrays);
}

void bl_disk_images_free(struct bl_disk_image *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].path);
		free(v[i].cached);
	}
	free(v);
}

static char *cache_dir(const struct bl_disk_opts *opts)
{
	if (opts && opts->cache_dir)
		return xstrdup(opts->cache_dir);
	char *c = bl_cache_dir();
	char *d = c ? bl_path_join(c, "disks") : NULL;
	free(c);
	return d;
}

/* the images of the set in CDIR/<hash>.img (CACHED), built when one is missing */
static int fill_cache(struct dk_run *r, const char *cdir, char **cached)
{
	size_t n = r->plan->ndisks;
	bool have = true;
	for (size_t i = 0; i < n; i++) {
		cached[i] = cache_path(cdir, r->sethash, r->plan->disks[i].name);
		have &= bl_file_exists(cached[i]);
	}
	if (have) {
		bl_debug("disks: %zu image(s) from the cache %s", n, cdir);
		return 0;
	}
	char *stage = xasprintf("%s/.stage-XXXXXX", cdir);
	int rc = -1;
	if (!mkdtemp(stage)) {
		bl_err_errno("cannot create a folder in '%s'", cdir);
		free(stage);
		return -1;
	}
	r->stage = stage;
	rc = write_all(r);
	for (size_t i = 0; i < n && !rc; i++)
		if (rename(r->path[i], cached[i]) < 0)
			rc = bl_err_errno("cannot move '%s' into the cache", r->path[i]);
	if (!rc)
		bl_debug("disks: built %zu image(s) into %s", n, cdir);
	bl_rm_rf(stage);
	free(stage);
	r->stage = NULL;
	return rc;
}

/* every image of the set copied into WORKDIR */
static int copy_out(const struct bl_disk_plan *pl, char **cached, const char *workdir,
		    struct bl_disk_image *imgs)
{
	if (bl_mkdir_p(workdir, 0755) < 0)
		return -1;
	for (size_t i = 0; i < pl->ndisks; i++) {
		imgs[i].name = xstrdup(pl->disks[i].name);
		imgs[i].path = xasprintf("%s/%s.img", workdir, pl->disks[i].name);
		imgs[i].cached = xstrdup(cached[i]);
		imgs[i].absent = pl->disks[i].absent;
		imgs[i].size = pl->disks[i].size;
		if (bl_disk_copy_sparse(cached[i], imgs[i].path) < 0) {
			for (size_t k = 0; k < i; k++)
				unlink(imgs[k].path);
			return -1;
		}
	}
	return 0;
}

static int build_set(struct dk_run *r, const char *workdir, const struct bl_disk_opts *opts,
		     char **cached, struct bl_disk_image *imgs)
{
	int rc = dk_layout_plan(r->plan, &r->lay);
	if (rc < 0)
		return rc;
	if ((rc = plan_hash(r->plan, r->agent, r->sethash)) < 0)
		return rc;
	char *cdir = cache_dir(opts);
	if (!cdir || bl_mkdir_p(cdir, 0755) < 0 || (rc = fill_cache(r, cdir, cached)) < 0 ||
	    (rc = copy_out(r->plan, cached, workdir, imgs)) < 0) {
		free(cdir);
		return rc < 0 ? rc : -1;
	}
	free(cdir);
	if (opts && opts->summary)
		summary(r, cached, imgs, opts->summary);
	return 0;
}

int bl_disks_build(const struct bl_disk_plan *plan, const char *workdir,
		   const struct bl_disk_opts *opts, struct bl_disk_image **out, size_t *nout)
{
	size_t n = plan->ndisks;
	struct dk_run r = {.plan = plan, .agent = opts ? opts->agent_path : NULL};
	char **cached = xcalloc(n ? n : 1, sizeof(char *));
	struct bl_disk_image *imgs = xcalloc(n ? n : 1, sizeof(*imgs));
	r.fd = xcalloc(n ? n : 1, sizeof(*r.fd));
	r.path = xcalloc(n ? n : 1, sizeof(*r.path));
	for (size_t i = 0; i < n; i++)
		r.fd[i] = -1;
	*out = NULL;
	*nout = 0;
	int rc = build_set(&r, workdir, opts, cached, imgs);
	for (size_t i = 0; i < n; i++) {
		if (r.fd[i] >= 0)
			close(r.fd[i]);
		free(r.path[i]);
		free(cached[i]);
	}
	free(r.fd);
	free(r.path);
	free(cached);
	dk_layout_release(&r.lay);
	if (rc < 0) {
		bl_disk_images_free(imgs, n);
		return rc;
	}
	*out = imgs;
	*nout = n;
	return 0;
}
