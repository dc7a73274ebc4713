/* A scenario's `disks:` and `arrays:` -> struct bl_disk_plan, checked once.
 *
 * Everything that can be known without writing an image is checked here:
 * shapes, names (partition types, metadata versions and filesystem types
 * against harness/disk's tables), sizes, host paths, md memberships. What
 * only shows while laying out or writing (a partition that does not fit,
 * contents mke2fs cannot place) is harness/disk's, at the positions this
 * file stores in the plan.
 *
 * Messages about a disk's parts name their field the way users read them
 * in docs/disks.md: "FILE:LINE:COL: disks[0].partitions[1].type: unknown
 * partition type 'xx' ...", at the value written, or at the mapping that
 * lacks it. */
#include "scenario/check.h"
#include "scenario/plan.h"
#include "util/util.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* an array's settings, written in `arrays:` or in any member's `raid:` */
enum { AK_LEVEL, AK_METADATA, AK_DEVICES, AK_FS, AK_DATA_OFFSET, AK_MINOR, AK_N };
static const char *const array_set_keys[] = {"level",	    "metadata", "devices", "filesystem",
					     "data_offset", "minor",	NULL};

/* one array as collected before it is checked: each setting's value and
 * the field it was written in */
struct adef {
	const char *name;
	char *field; /* where it was first defined */
	const struct ynode *at;
	const struct ynode *val[AK_N];
	char *origin[AK_N];
	bool devices_given;
};

struct dctx {
	struct sc_build *b;
	struct bl_disk_plan *p;
	const struct ynode **dn; /* each disk's mapping */
	bool *corrupt;		 /* each disk's `corrupt:` */
	struct adef *defs;	 /* parallel to p->arrays once checked */
	size_t ndefs;
};

/* "FILE:LINE:COL: FIELD[.KEY]: message" */
static int ferr(const struct ynode *at, const char *field, const char *key, const char *fmt, ...)
    BL_PRINTF(4, 5);
static int ferr(const struct ynode *at, const char *field, const char *key, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return yerr(at, "%s%s%s: %s", field, key ? "." : "", key ? key : "", msg);
}

/* KEY's value, or the mapping itself when KEY is not there: where a
 * message about FIELD.KEY points */
static const struct ynode *at(const struct ynode *map, const char *key)
{
	const struct ynode *v = ymap_get(map, key);
	return v ? v : map;
}

static bool is_set(const struct ynode *v)
{
	return v && !yis_null(v);
}

/* every key of MAP is in ALLOWED: "FIELD: unknown key 'k' (known: a, b)" */
static int fkeys(const struct ynode *map, const char *field, const char *const *allowed)
{
	if (map->kind != Y_MAP)
		return ferr(map, field, NULL, "expected a mapping");
	for (size_t i = 0; i < map->n; i++) {
		const char *k = map->kv[2 * i]->s;
		const char *const *a = allowed;
		while (*a && strcmp(*a, k))
			a++;
		if (*a)
			continue;
		struct strbuf sb = STRBUF_INIT;
		for (a = allowed; *a; a++)
			sb_addf(&sb, "%s%s", a == allowed ? "" : ", ", *a);
		ferr(map, field, NULL, "unknown key '%s' (known: %s)", k, sb_str(&sb));
		sb_release(&sb);
		return -1;
	}
	return 0;
}

/* text (NULL when absent or empty), borrowed from the tree */
static int fstr(const struct ynode *map, const char *field, const char *key, const char **out)
{
	const struct ynode *v = ymap_get(map, key);
	*out = NULL;
	if (!is_set(v))
		return 0;
	if (v->kind != Y_SCALAR)
		return ferr(v, field, key, "expected a string");
	*out = v->s;
	return 0;
}

static int fbool(const struct ynode *map, const char *field, const char *key, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", NULL};
	static const char *const no[] = {"false", "False", "FALSE", "no", NULL};
	const struct ynode *v = ymap_get(map, key);
	if (!is_set(v))
		return 0;
	for (size_t i = 0; v->kind == Y_SCALAR && yes[i]; i++)
		if (!strcmp(v->s, yes[i]) || !strcmp(v->s, no[i])) {
			*out = !strcmp(v->s, yes[i]);
			return 0;
		}
	return ferr(v, field, key, "expected true or false");
}

/* V, the value of FIELD.KEY (NULL: not given), as a number in MIN..MAX */
static int fnum(const struct ynode *v, const char *field, const char *key, long long min,
		long long max, long long *out)
{
	if (!is_set(v))
		return 0;
	if (v->kind != Y_SCALAR || !*v->s)
		return ferr(v, field, key, "expected a number");
	char *end;
	long long n = strtoll(v->s, &end, 0);
	if (*end)
		return ferr(v, field, key, "expected a number, not '%s'", v->s);
	if (n < min || n > max)
		return ferr(v, field, key, "%lld is out of range %lld-%lld", n, min, max);
	*out = n;
	return 0;
}

/* a size in bytes ("64M"); the rules of every size in a scenario */
static int fsize(const struct ynode *v, const char *key, unsigned long long *out)
{
	if (ck_size(v, key, out))
		return -1;
	if (*out > (unsigned long long)LLONG_MAX)
		return yerr(v, "size '%s' for '%s' is out of range", v->s, key);
	return 0;
}

/* a scalar as text the way YAML types it: `metadata: 1.0`, a number, reads
 * as "1" and `mode: 755` as "755"; NULL for anything else */
static char *ytext(const struct ynode *v)
{
	json_t *j = yjson(v);
	char *s = NULL;
	if (json_is_string(j))
		s = xstrdup(json_string_value(j));
	else if (json_is_integer(j))
		s = xasprintf("%lld", (long long)json_integer_value(j));
	else if (json_is_real(j))
		s = xasprintf("%g", json_real_value(j));
	json_decref(j);
	return s;
}

/* ---- filesystems ---- */

static const char *const fs_keys[] = {"type",  "tree",	"cpio", "list",	 "files",
				      "agent", "label", "size", "image", NULL};
static const char *const file_keys[] = {"path", "source", "content", "symlink",
					"dir",	"mode",	  NULL};

static int build_file_mode(const struct ynode *f, const char *ff, int *mode)
{
	const struct ynode *m = ymap_get(f, "mode");
	if (!m)
		return 0;
	char *t = ytext(m), *end = NULL;
	long v = t ? strtol(t, &end, 8) : -1;
	bool bad = !t || *end || v < 0 || v > 07777;
	free(t);
	if (bad)
		return ferr(m, ff, "mode", "expected octal permissions like \"0755\"");
	*mode = (int)v;
	return 0;
}

static int build_file(const struct ynode *f, const char *ff, struct bl_disk_file *d)
{
	const struct ynode *s = ymap_get(f, "source");
	const char *path, *content, *link;
	d->mode = -1;
	if (fkeys(f, ff, file_keys) || (s && ck_host_path(s, "source", false, &d->source)) ||
	    fstr(f, ff, "path", &path) || fstr(f, ff, "content", &content) ||
	    fstr(f, ff, "symlink", &link) || fbool(f, ff, "dir", &d->dir) ||
	    build_file_mode(f, ff, &d->mode))
		return -1;
	if (!path || path[0] != '/' || strstr(path, ".."))
		return ferr(at(f, "path"), ff, "path", "expected an absolute path without '..'");
	if ((!!d->source + !!content + !!link + d->dir) != 1)
		return ferr(f, ff, NULL, "give exactly one of source, content, symlink, dir");
	d->path = xstrdup(path);
	d->content = content ? xstrdup(content) : NULL;
	d->symlink = link ? xstrdup(link) : NULL;
	return 0;
}

static int build_files(const struct ynode *v, struct bl_disk_fs *fs)
{
	if (v->kind != Y_SEQ)
		return ferr(v, fs->field, "files", "expected a list");
	fs->files = xcalloc(v->n + 1, sizeof(*fs->files));
	for (size_t i = 0; i < v->n; i++) {
		char *ff = xasprintf("%s.files[%zu]", fs->field, i);
		int r = build_file(v->kv[i], ff, &fs->files[fs->nfiles++]);
		free(ff);
		if (r)
			return -1;
	}
	return 0;
}

/* `cpio:` or `list:`, an archive unpacked before the rest */
static int build_fs_source(struct sc_build *b, const struct ynode *v, struct bl_disk_fs *fs)
{
	static const char *const keys[] = {"cpio", "list"};
	for (size_t k = 0; k < 2; k++) {
		const char *s;
		if (fstr(v, fs->field, keys[k], &s))
			return -1;
		if (!s)
			continue;
		const struct ynode *n = ymap_get(v, keys[k]);
		char *p = ck_abspath(n);
		*(k ? &fs->list : &fs->cpio) = p;
		fs->source_pos = sc_pos(b, n);
		if (!bl_file_exists(p) || bl_is_dir(p))
			return ferr(n, fs->field, keys[k], "'%s' is not a file", p);
	}
	if (fs->cpio && fs->list)
		return ferr(ymap_get(v, "list"), fs->field, "list", "give one of cpio and list");
	return 0;
}

/* TN: the `type:` value, or V itself for `filesystem: ext4` (short for
 * `filesystem: {type: ext4}`) */
static int build_fs_type(const struct ynode *v, const struct ynode *tn, struct bl_disk_fs *fs)
{
	const char *s = NULL;
	if (tn == v)
		s = v->s;
	else if (fstr(v, fs->field, "type", &s))
		return -1;
	if (s && bl_fs_type_parse(s, &fs->type))
		return ferr(tn, fs->field, "type", "%s", bl_errmsg());
	return 0;
}

static int build_fs_size(struct sc_build *b, const struct ynode *v, struct bl_disk_fs *fs)
{
	const struct ynode *n = ymap_get(v, "size");
	if (!n)
		return 0;
	fs->size_pos = sc_pos(b, n);
	if (n->kind == Y_SCALAR && !strcmp(n->s, "rest"))
		return ferr(n, fs->field, "size", "expected a size like 32M");
	if (fsize(n, "size", &fs->size))
		return -1;
	if (!fs->size)
		return ferr(n, fs->field, "size", "expected a size like 32M");
	return 0;
}

static int build_fs_paths(struct sc_build *b, const struct ynode *v, struct bl_disk_fs *fs)
{
	const struct ynode *n;
	const char *agent;
	if ((n = ymap_get(v, "tree"))) {
		fs->tree_pos = sc_pos(b, n);
		if (ck_host_path(n, "tree", true, &fs->tree))
			return -1;
	}
	if (build_fs_source(b, v, fs))
		return -1;
	if ((n = ymap_get(v, "image"))) {
		fs->image_pos = sc_pos(b, n);
		if (ck_host_path(n, "image", false, &fs->image))
			return -1;
	}
	if (fstr(v, fs->field, "agent", &agent))
		return -1;
	if (agent) {
		fs->agent_pos = sc_pos(b, ymap_get(v, "agent"));
		if (agent[0] != '/')
			return ferr(ymap_get(v, "agent"), fs->field, "agent",
				    "'%s' must be an absolute path like /sbin/init", agent);
		fs->agent = xstrdup(agent);
	}
	return 0;
}

static int build_fs1(struct sc_build *b, const struct ynode *v, struct bl_disk_fs *fs)
{
	const char *label;
	const struct ynode *x;
	if (v->kind == Y_SCALAR)
		return build_fs_type(v, v, fs);
	if (fkeys(v, fs->field, fs_keys) || build_fs_type(v, ymap_get(v, "type"), fs) ||
	    fstr(v, fs->field, "label", &label))
		return -1;
	if (label && strlen(label) > 16)
		return ferr(ymap_get(v, "label"), fs->field, "label",
			    "'%s' is longer than 16 bytes", label);
	fs->label = label ? xstrdup(label) : NULL;
	if (build_fs_size(b, v, fs) || build_fs_paths(b, v, fs))
		return -1;
	if ((x = ymap_get(v, "files")) && build_files(x, fs))
		return -1;
	if (fs->image && (fs->tree || fs->cpio || fs->list || fs->nfiles || fs->agent))
		return ferr(ymap_get(v, "image"), fs->field, "image",
			    "an image is placed as is; it cannot take tree, cpio, list, files "
			    "or agent");
	return 0;
}

/* the `filesystem:` value V of FIELD ("disks[0]") */
static int build_fs(struct sc_build *b, const struct ynode *v, const char *field,
		    struct bl_disk_fs **out)
{
	if (v->kind == Y_SEQ || yis_null(v))
		return ck_map(v, "filesystem");
	struct bl_disk_fs *fs = xcalloc(1, sizeof(*fs));
	fs->field = xasprintf("%s.filesystem", field);
	fs->type = BL_FS_EXT4;
	fs->pos = fs->size_pos = sc_pos(b, v);
	*out = fs; /* freed with the plan, also when incomplete */
	return build_fs1(b, v, fs);
}

bool sc_disks_have_agent(const struct bl_disk_plan *p)
{
	for (size_t i = 0; i < p->ndisks; i++) {
		const struct bl_disk *d = &p->disks[i];
		if (d->fs && d->fs->agent)
			return true;
		for (size_t k = 0; k < d->nparts; k++)
			if (d->parts[k].fs && d->parts[k].fs->agent)
				return true;
	}
	for (size_t i = 0; i < p->narrays; i++)
		if (p->arrays[i].fs && p->arrays[i].fs->agent)
			return true;
	return false;
}

/* ---- the shape of `disks:` and `arrays:` ---- */

static int ck_maps(const struct ynode *v, const char *key)
{
	if (ck_seq(v, key))
		return -1;
	for (size_t i = 0; i < v->n; i++)
		if (v->kv[i]->kind != Y_MAP)
			return yerr(v->kv[i], "each of '%s' must be a mapping, not %s", key,
				    ykind_name(v->kv[i]));
	return 0;
}

static int disk_table(const struct ynode *dn, struct bl_disk *d)
{
	static const char *const tables[] = {"mbr", "gpt", "none", NULL};
	const struct ynode *x;
	char *t;
	if (ymap_get(dn, "table") && ymap_get(dn, "ptable"))
		return yerr(ymap_key(dn, "ptable"), "disk '%s' has both 'table' and 'ptable'",
			    d->name);
	if (!(x = ymap_get(dn, "table")) && !(x = ymap_get(dn, "ptable")))
		return 0;
	if (ck_enum(x, "partition table", tables, &t))
		return -1;
	d->table = !strcmp(t, "mbr")   ? BL_PTABLE_MBR
		   : !strcmp(t, "gpt") ? BL_PTABLE_GPT
				       : BL_PTABLE_NONE;
	free(t);
	return 0;
}

/* a disk's own keys; its partitions, filesystem and raid come later */
static int disk_shape(struct dctx *c, const struct ynode *dn, size_t idx)
{
	static const char *const keys[] = {"name",	 "size", "table",  "ptable",  "partitions",
					   "filesystem", "raid", "absent", "corrupt", NULL};
	struct bl_disk *d = &c->p->disks[idx];
	const struct ynode *x;
	if (dn->kind != Y_MAP)
		return yerr(dn, "a disk must be a mapping (name:, size:), not %s", ykind_name(dn));
	if (ck_keys(dn, keys, "disk"))
		return -1;
	d->pos = sc_pos(c->b, dn);
	d->field = xasprintf("disks[%zu]", idx);
	if (!(x = ymap_get(dn, "name")))
		return yerr(dn, "disk needs 'name'");
	if (ck_name(x, "disk name", &d->name))
		return -1;
	for (size_t i = 0; i < idx; i++)
		if (!strcmp(c->p->disks[i].name, d->name))
			return yerr(x, "two disks named '%s' (the first at line %d)", d->name,
				    c->p->disks[i].pos.line);
	if (!(x = ymap_get(dn, "size")))
		return yerr(dn, "disk '%s' needs 'size'", d->name);
	if (fsize(x, "size", &d->size))
		return -1;
	if (d->size < 512 || d->size % 512)
		return yerr(x, "disk size '%s' must be a non-zero multiple of 512 bytes", x->s);
	if (disk_table(dn, d))
		return -1;
	if ((x = ymap_get(dn, "absent")) && ck_bool(x, "absent", &d->absent))
		return -1;
	if ((x = ymap_get(dn, "corrupt")) && ck_bool(x, "corrupt", &c->corrupt[idx]))
		return -1;
	if ((x = ymap_get(dn, "partitions"))) {
		if (ck_maps(x, "partitions"))
			return -1;
		if (d->table == BL_PTABLE_NONE)
			return yerr(ymap_key(dn, "partitions"),
				    "disk '%s' has partitions but no 'table: mbr' or 'table: gpt'",
				    d->name);
		for (size_t i = 0; i < x->n; i++)
			if (ymap_get(x->kv[i], "raid") &&
			    ck_map(ymap_get(x->kv[i], "raid"), "raid"))
				return -1;
	}
	if ((x = ymap_get(dn, "raid")) && ck_map(x, "raid"))
		return -1;
	return 0;
}

static int arrays_shape(const struct ynode *an)
{
	if (ck_maps(an, "arrays"))
		return -1;
	for (size_t i = 0; i < an->n; i++) {
		const struct ynode *a = an->kv[i], *x;
		char *name;
		if (!(x = ymap_get(a, "name")))
			return yerr(a, "array needs 'name' (like md0)");
		if (ck_name(x, "array name", &name))
			return -1;
		free(name);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(ymap_get(an->kv[j], "name")->s, x->s))
				return yerr(x, "two arrays named '%s'", x->s);
	}
	return 0;
}

/* ---- md arrays: settings merged per name, then checked ---- */

/* the array named NAME: its index in c->defs (and, once checked, in
 * c->p->arrays), or -1 */
static int find_def(const struct dctx *c, const char *name)
{
	for (size_t i = 0; i < c->ndefs; i++)
		if (!strcmp(c->defs[i].name, name))
			return (int)i;
	return -1;
}

static struct adef *new_def(struct dctx *c, const char *name, const char *field,
			    const struct ynode *at_node)
{
	c->defs = xrealloc(c->defs, (c->ndefs + 1) * sizeof(*c->defs));
	struct adef *d = &c->defs[c->ndefs++];
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->field = xstrdup(field);
	d->at = at_node;
	return d;
}

/* the same setting given twice must agree */
static int merge_setting(struct adef *d, int k, const struct ynode *v, const char *field)
{
	if (!d->val[k]) {
		d->val[k] = v;
		d->origin[k] = xstrdup(field);
		return 0;
	}
	json_t *a = yjson(v), *b = yjson(d->val[k]);
	int r = 0;
	if (!json_equal(a, b)) {
		char *as = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
		char *bs = json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT);
		r = ferr(v, field, array_set_keys[k], "%s differs from %s.%s = %s for array '%s'",
			 as, d->origin[k], array_set_keys[k], bs, d->name);
		free(as);
		free(bs);
	}
	json_decref(a);
	json_decref(b);
	return r;
}

/* a `raid:` mapping that sets any of its array's settings defines it (or
 * adds to its definition); a plain membership does not */
static int collect_raid(struct dctx *c, const struct ynode *r, const char *field)
{
	const struct ynode *a = ymap_get(r, "array");
	if (!r || !a || a->kind != Y_SCALAR || yis_null(a))
		return 0; /* build_member reports it */
	int i = find_def(c, a->s);
	struct adef *d = i >= 0 ? &c->defs[i] : NULL;
	for (int k = 0; k < AK_N; k++) {
		const struct ynode *v = ymap_get(r, array_set_keys[k]);
		if (!v)
			continue;
		if (!d)
			d = new_def(c, a->s, field, r);
		if (merge_setting(d, k, v, field))
			return -1;
	}
	return 0;
}

static int collect_arrays(struct dctx *c, const struct ynode *an, const struct ynode *dsn)
{
	static const char *const keys[] = {"name",	 "level",	"metadata", "devices",
					   "filesystem", "data_offset", "minor",    NULL};
	char f[160];
	for (size_t i = 0; an && i < an->n; i++) {
		const struct ynode *o = an->kv[i];
		snprintf(f, sizeof(f), "arrays[%zu]", i);
		if (fkeys(o, f, keys))
			return -1;
		struct adef *d = new_def(c, ymap_get(o, "name")->s, f, o);
		for (int k = 0; k < AK_N; k++)
			if (ymap_get(o, array_set_keys[k]) &&
			    merge_setting(d, k, ymap_get(o, array_set_keys[k]), f))
				return -1;
	}
	for (size_t i = 0; dsn && i < dsn->n; i++) {
		const struct ynode *parts = ymap_get(dsn->kv[i], "partitions");
		snprintf(f, sizeof(f), "disks[%zu].raid", i);
		if (collect_raid(c, ymap_get(dsn->kv[i], "raid"), f))
			return -1;
		for (size_t k = 0; parts && k < parts->n; k++) {
			snprintf(f, sizeof(f), "disks[%zu].partitions[%zu].raid", i, k);
			if (collect_raid(c, ymap_get(parts->kv[k], "raid"), f))
				return -1;
		}
	}
	return 0;
}

static bool name_chars_ok(const char *s)
{
	return s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")] ==
	       0;
}

/* `level`, `devices`, `minor` or `data_offset` of D, in MIN..MAX */
static int def_int(const struct adef *d, int k, long long min, long long max, long long *out)
{
	const struct ynode *v = d->val[k];
	unsigned long long u;
	if (!v || k != AK_DATA_OFFSET)
		return fnum(v, d->origin[k], array_set_keys[k], min, max, out);
	/* a size, like every data_offset and size in a scenario, but in sectors */
	if (fsize(v, "data_offset", &u))
		return -1;
	if ((long long)u < min || (long long)u > max)
		return ferr(v, d->origin[k], "data_offset", "%lld is out of range %lld-%lld",
			    (long long)u, min, max);
	*out = (long long)u;
	return 0;
}

static int def_meta(const struct adef *d, struct bl_md_array *a)
{
	const struct ynode *v = d->val[AK_METADATA];
	a->meta = BL_MD_12;
	if (!v)
		return 0;
	char *m = yis_null(v) ? NULL : ytext(v);
	if (!m)
		return ferr(v, d->origin[AK_METADATA], "metadata",
			    "expected \"0.90\", \"1.0\" or \"1.2\"");
	int r = bl_md_meta_parse(m, &a->meta);
	free(m);
	if (r)
		return ferr(v, d->origin[AK_METADATA], "metadata", "%s", bl_errmsg());
	return 0;
}

/* md0 -> 0, md127 -> 127, else its position */
static int default_minor(const char *name, size_t idx)
{
	const char *n = name + 2;
	if (strncmp(name, "md", 2) || !*n || n[strspn(n, "0123456789")])
		return (int)idx;
	long v = strtol(n, NULL, 10);
	return v > 255 ? (int)idx : (int)v;
}

static int build_array(struct dctx *c, struct adef *d, size_t idx)
{
	struct bl_md_array *a = &c->p->arrays[idx];
	long long level = 1, devices = -1, minor = -1, doff = 0;
	a->name = xstrdup(d->name);
	a->field = xstrdup(d->field);
	a->pos = sc_pos(c->b, d->at);
	if (def_int(d, AK_LEVEL, -10, 10, &level) || def_int(d, AK_DEVICES, 1, 26, &devices) ||
	    def_int(d, AK_MINOR, 0, 255, &minor) ||
	    def_int(d, AK_DATA_OFFSET, 16, 1LL << 40, &doff))
		return -1;
	if (!name_chars_ok(d->name))
		return ferr(d->at, d->field, "name",
			    "'%s' may hold only letters, digits, '_', '.', '-'", d->name);
	if (level != 1)
		return ferr(d->val[AK_LEVEL], d->origin[AK_LEVEL], "level",
			    "only RAID1 (level 1) is supported, not %lld", level);
	if (def_meta(d, a))
		return -1;
	if (doff && a->meta != BL_MD_12)
		return ferr(d->val[AK_DATA_OFFSET], d->origin[AK_DATA_OFFSET], "data_offset",
			    "only metadata 1.2 has a data offset");
	a->data_offset = (uint64_t)doff;
	a->minor = minor >= 0 ? (int)minor : default_minor(d->name, idx);
	d->devices_given = devices > 0;
	a->raid_disks = devices > 0 ? (int)devices : 0;
	if (d->val[AK_FS])
		return build_fs(c->b, d->val[AK_FS], d->origin[AK_FS], &a->fs);
	return 0;
}

/* ---- md members, partitions, disks ---- */

/* R: the `raid:` mapping of FIELD ("disks[1]", "disks[0].partitions[1]") */
static int add_member(struct dctx *c, const struct ynode *r, const char *field, const char *rf,
		      size_t disk, int part)
{
	static const char *const keys[] = {"array",    "member",  "corrupt",	"level",
					   "metadata", "devices", "filesystem", "data_offset",
					   "minor",    NULL};
	const char *name;
	long long idx = -1;
	bool corrupt = c->corrupt[disk];
	const struct ynode *mn = ymap_get(r, "member");
	if (fkeys(r, rf, keys) || fstr(r, rf, "array", &name) ||
	    fnum(mn, rf, "member", 0, 26, &idx) || fbool(r, rf, "corrupt", &corrupt))
		return -1;
	if (!name)
		return ferr(r, rf, "array", "missing (the name of an entry of arrays:)");
	if (idx < 0)
		return ferr(r, rf, "member", "missing (this member's index, 0 for the first)");
	int ai = find_def(c, name);
	if (ai < 0)
		return ferr(ymap_get(r, "array"), rf, "array", "unknown array '%s'%s", name,
			    c->p->narrays ? "" : " (the scenario has no arrays:)");
	struct bl_md_array *a = &c->p->arrays[ai];
	if (idx >= a->raid_disks && c->defs[ai].devices_given)
		return ferr(mn, rf, "member", "%lld is out of range: '%s' has %d devices", idx,
			    name, a->raid_disks);
	for (size_t i = 0; i < a->nmembers; i++)
		if (a->members[i].index == idx)
			return ferr(mn, rf, "member", "member %lld of '%s' is already %s", idx,
				    name, a->members[i].field);
	a->members = xrealloc(a->members, (a->nmembers + 1) * sizeof(*a->members));
	struct bl_md_member m = {disk, part, (int)idx, corrupt, xstrdup(field), sc_pos(c->b, r)};
	a->members[a->nmembers++] = m;
	if (!c->defs[ai].devices_given && idx + 1 > a->raid_disks)
		a->raid_disks = (int)idx + 1;
	return 0;
}

static int build_member(struct dctx *c, const struct ynode *r, const char *field, size_t disk,
			int part)
{
	char *rf = xasprintf("%s.raid", field);
	int ret = add_member(c, r, field, rf, disk, part);
	free(rf);
	return ret;
}

static bool has_member(const struct bl_disk_plan *p, size_t disk)
{
	for (size_t i = 0; i < p->narrays; i++)
		for (size_t k = 0; k < p->arrays[i].nmembers; k++)
			if (p->arrays[i].members[k].disk == disk)
				return true;
	return false;
}

static int part_type(const struct ynode *po, enum bl_ptable t, struct bl_disk_part *p)
{
	const struct ynode *v = ymap_get(po, "type");
	if (v && (v->kind != Y_SCALAR || yis_null(v)))
		return ferr(v, p->field, "type", "expected a type name or code");
	if (bl_ptype_parse(v ? v->s : "linux", t, &p->mbr_type, p->gpt_type))
		return ferr(at(po, "type"), p->field, "type", "%s", bl_errmsg());
	return 0;
}

static int part_size(struct sc_build *b, const struct ynode *po, bool last, struct bl_disk_part *p)
{
	const struct ynode *sz = ymap_get(po, "size");
	if (!sz)
		return ferr(po, p->field, "size", "missing (e.g. 32M, or rest)");
	p->size_pos = sc_pos(b, sz);
	if (sz->kind == Y_SCALAR && !strcmp(sz->s, "rest")) {
		if (!last)
			return ferr(sz, p->field, "size",
				    "only the last partition can take the rest");
		return 0; /* size 0: the rest */
	}
	if (fsize(sz, "size", &p->size))
		return -1;
	if (!p->size)
		return ferr(sz, p->field, "size", "expected a size like 32M, or rest");
	if (p->size % 512)
		return ferr(sz, p->field, "size", "%llu is not a multiple of 512 bytes", p->size);
	return 0;
}

static int build_part(struct dctx *c, size_t di, const struct ynode *po, size_t k, bool last)
{
	static const char *const keys[] = {"size",	 "type", "name", "bootable",
					   "filesystem", "raid", NULL};
	struct bl_disk *d = &c->p->disks[di];
	struct bl_disk_part *p = &d->parts[k];
	const struct ynode *fo = ymap_get(po, "filesystem"), *ro = ymap_get(po, "raid");
	const char *name;
	p->field = xasprintf("%s.partitions[%zu]", d->field, k);
	p->pos = sc_pos(c->b, po);
	if (fkeys(po, p->field, keys) || part_type(po, d->table, p) ||
	    fstr(po, p->field, "name", &name) || fbool(po, p->field, "bootable", &p->bootable))
		return -1;
	if (name && d->table != BL_PTABLE_GPT)
		return ferr(ymap_get(po, "name"), p->field, "name",
			    "only GPT partitions have names");
	if (name && strlen(name) > 36)
		return ferr(ymap_get(po, "name"), p->field, "name", "longer than 36 characters");
	p->name = name ? xstrdup(name) : NULL;
	if (part_size(c->b, po, last, p))
		return -1;
	if (fo && ro)
		return ferr(fo, p->field, "filesystem",
			    "a raid member's content is its array's filesystem");
	if (fo && build_fs(c->b, fo, p->field, &p->fs))
		return -1;
	return ro ? build_member(c, ro, p->field, di, (int)k) : 0;
}

static int build_parts(struct dctx *c, size_t di)
{
	struct bl_disk *d = &c->p->disks[di];
	const struct ynode *dn = c->dn[di], *parts = ymap_get(dn, "partitions");
	if (!parts)
		return d->table == BL_PTABLE_NONE
			   ? 0
			   : ferr(dn, d->field, "partitions", "missing (the disk has a %s table)",
				  d->table == BL_PTABLE_MBR ? "mbr" : "gpt");
	if (!parts->n)
		return ferr(parts, d->field, "partitions", "expected a non-empty list");
	if (d->table == BL_PTABLE_MBR && parts->n > 4)
		return ferr(parts, d->field, "partitions",
			    "an MBR holds at most 4 primary partitions, not %zu", parts->n);
	if (d->table == BL_PTABLE_MBR && d->size / 512 > 0xffffffffULL)
		return ferr(ymap_get(dn, "size"), d->field, "size",
			    "too large for an MBR (2 TiB at most)");
	d->parts = xcalloc(parts->n, sizeof(*d->parts));
	for (size_t k = 0; k < parts->n; k++) {
		d->nparts++;
		if (build_part(c, di, parts->kv[k], k, k + 1 == parts->n))
			return -1;
	}
	return 0;
}

static int build_disk(struct dctx *c, size_t di)
{
	struct bl_disk *d = &c->p->disks[di];
	const struct ynode *dn = c->dn[di], *fo = ymap_get(dn, "filesystem"),
			   *ro = ymap_get(dn, "raid"), *parts = ymap_get(dn, "partitions");
	if (build_parts(c, di))
		return -1;
	if (fo && parts)
		return ferr(fo, d->field, "filesystem",
			    "a partitioned disk's filesystems go in its partitions");
	if (ro && parts)
		return ferr(ro, d->field, "raid",
			    "a partitioned disk's raid members are its partitions");
	if (fo && ro)
		return ferr(fo, d->field, "filesystem",
			    "a raid member's content is its array's filesystem");
	if (fo && build_fs(c->b, fo, d->field, &d->fs))
		return -1;
	if (ro && build_member(c, ro, d->field, di, -1))
		return -1;
	if (c->corrupt[di] && !has_member(c->p, di))
		return ferr(ymap_get(dn, "corrupt"), d->field, "corrupt",
			    "only raid members can be corrupted (their md superblock)");
	return 0;
}

/* every index below raid_disks has a member (an absent disk still counts) */
static int arrays_complete(struct dctx *c)
{
	for (size_t i = 0; i < c->p->narrays; i++) {
		const struct bl_md_array *a = &c->p->arrays[i];
		const struct ynode *def = c->defs[i].at;
		if (!a->nmembers)
			return ferr(def, a->field, NULL,
				    "array '%s' has no members (add `raid: {array: %s, member: 0}` "
				    "to a disk or partition)",
				    a->name, a->name);
		for (int k = 0; k < a->raid_disks; k++) {
			size_t m = 0;
			while (m < a->nmembers && a->members[m].index != k)
				m++;
			if (m == a->nmembers)
				return ferr(
				    def, a->field, NULL,
				    "member %d of '%s' is missing (declare it, with `absent: "
				    "true` on its disk for a degraded boot)",
				    k, a->name);
		}
	}
	return 0;
}

static int build_plan(struct dctx *c, const struct ynode *dsn, const struct ynode *an)
{
	struct bl_disk_plan *p = c->p;
	for (size_t i = 0; i < p->ndisks; i++)
		if (disk_shape(c, c->dn[i], i))
			return -1;
	if ((an && arrays_shape(an)) || collect_arrays(c, an, dsn))
		return -1;
	p->arrays = xcalloc(c->ndefs ? c->ndefs : 1, sizeof(*p->arrays));
	p->narrays = c->ndefs;
	for (size_t i = 0; i < p->narrays; i++)
		if (build_array(c, &c->defs[i], i))
			return -1;
	for (size_t i = 0; i < p->ndisks; i++)
		if (build_disk(c, i))
			return -1;
	return arrays_complete(c);
}

int sc_disks(struct sc_build *b, const struct ynode *dsn, const struct ynode *an)
{
	struct dctx c = {b, &b->s->disks, NULL, NULL, NULL, 0};
	if (dsn && ck_seq(dsn, "disks"))
		return -1;
	size_t n = dsn ? dsn->n : 0;
	c.p->disks = xcalloc(n ? n : 1, sizeof(*c.p->disks));
	c.p->ndisks = n; /* freed with the plan, also when incomplete */
	c.dn = xcalloc(n ? n : 1, sizeof(*c.dn));
	c.corrupt = xcalloc(n ? n : 1, sizeof(*c.corrupt));
	for (size_t i = 0; i < n; i++)
		c.dn[i] = dsn->kv[i];
	int r = build_plan(&c, dsn, an);
	for (size_t i = 0; i < c.ndefs; i++) {
		free(c.defs[i].field);
		for (int k = 0; k < AK_N; k++)
			free(c.defs[i].origin[k]);
	}
	free(c.defs);
	free(c.dn);
	free(c.corrupt);
	return r;
}
