/* The `disks:` / `arrays:` schema (docs/disks.md) -> a checked plan.
 * Every error names the field it is about, e.g.
 * "disks[1].partitions[0].type: unknown partition type 'xx'". */
#include "layout.h"
#include "util/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN_SECTORS 2048ULL /* partitions start on 1 MiB boundaries */

int bl_disk_parse_size(const json_t *v, unsigned long long *bytes)
{
	if (json_is_integer(v)) {
		if (json_integer_value(v) <= 0)
			return -1;
		*bytes = (unsigned long long)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	const char *s = json_string_value(v);
	char *end;
	if (!isdigit((unsigned char)*s))
		return -1;
	unsigned long long n = strtoull(s, &end, 10);
	unsigned long long mul = 1;
	switch (toupper((unsigned char)*end)) {
	case 0:
		break;
	case 'K':
		mul = 1ULL << 10;
		break;
	case 'M':
		mul = 1ULL << 20;
		break;
	case 'G':
		mul = 1ULL << 30;
		break;
	case 'T':
		mul = 1ULL << 40;
		break;
	default:
		return -1;
	}
	if (*end) {
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
	}
	if (*end || n == 0 || n > (~0ULL) / mul)
		return -1;
	*bytes = n * mul;
	return 0;
}

/* ---- small typed getters; each error names FIELD.KEY ---- */

static int check_keys(const json_t *o, const char *field, const char *const *allowed)
{
	const char *k;
	json_t *v;
	if (!json_is_object(o))
		return bl_err("%s: expected a mapping", field);
	json_object_foreach((json_t *)o, k, v)
	{
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(*a, k);
		if (!ok) {
			struct strbuf sb = STRBUF_INIT;
			for (const char *const *a = allowed; *a; a++)
				sb_addf(&sb, "%s%s", a == allowed ? "" : ", ", *a);
			bl_err("%s: unknown key '%s' (known: %s)", field, k, sb_str(&sb));
			sb_release(&sb);
			return -1;
		}
	}
	return 0;
}

static int get_str(const json_t *o, const char *key, const char *field, const char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bl_err("%s.%s: expected a string", field, key);
	*out = json_string_value(v);
	return 0;
}

static int get_bool(const json_t *o, const char *key, const char *field, bool *out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (!strcmp(s, "true") || !strcmp(s, "yes")) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, "false") || !strcmp(s, "no")) {
			*out = false;
			return 0;
		}
	}
	return bl_err("%s.%s: expected true or false", field, key);
}

static int get_int(const json_t *o, const char *key, const char *field, long long *out,
		   long long min, long long max)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	long long n;
	char *end = NULL;
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (json_is_string(v) && *json_string_value(v)) {
		n = strtoll(json_string_value(v), &end, 0);
		if (*end)
			return bl_err("%s.%s: expected a number, not '%s'", field, key,
				      json_string_value(v));
	} else
		return bl_err("%s.%s: expected a number", field, key);
	if (n < min || n > max)
		return bl_err("%s.%s: %lld is out of range %lld-%lld", field, key, n, min, max);
	*out = n;
	return 0;
}

/* a scalar as text, for the fields YAML may type as numbers (type: 83, metadata: 1.2) */
static char *scalar_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%g", json_real_value(v));
	return NULL;
}

/* ---- partition types ---- */
static const struct ptype {
	const char *name;
	uint8_t mbr;
	const char *guid;
} ptypes[] = {
    {"linux", 0x83, "0FC63DAF-8483-4772-8E79-3D69D8477DE4"},
    {"raid", 0xfd, "A19D880F-05FC-4D3B-A006-743F0F84911E"},
    {"swap", 0x82, "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"},
    {"lvm", 0x8e, "E6D6D379-F507-44C2-A23C-238F2A3DF928"},
    {"esp", 0xef, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"},
    {"fat32", 0x0c, "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"},
    {"bios", 0, "21686148-6449-6E6F-744E-656564454649"},
    {"home", 0, "933AC7E1-2EB4-4F13-B844-0E14E2AEF915"},
    {"root-x86-64", 0, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"},
    {"root-arm64", 0, "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"},
};

static const struct {
	const char *alias, *name;
} ptype_aliases[] = {
    {"linux-raid", "raid"}, {"linux-swap", "swap"}, {"linux-lvm", "lvm"},
    {"efi", "esp"},	    {"bios-boot", "bios"},  {"linux-home", "home"},
};

static int parse_ptype(const json_t *v, enum dk_table table, struct dk_part *p, const char *field)
{
	char *s = v ? scalar_text(v) : xstrdup("linux");
	if (!s)
		return bl_err("%s.type: expected a type name or code", field);
	int r = -1;
	for (size_t i = 0; i < BL_ARRAY_SIZE(ptype_aliases); i++)
		if (!strcasecmp(s, ptype_aliases[i].alias)) {
			free(s);
			s = xstrdup(ptype_aliases[i].name);
			break;
		}
	for (size_t i = 0; i < BL_ARRAY_SIZE(ptypes); i++) {
		if (strcasecmp(s, ptypes[i].name))
			continue;
		if (table == DK_MBR && !ptypes[i].mbr) {
			bl_err("%s.type: partition type '%s' exists only in a GPT", field, s);
			goto out;
		}
		p->mbr_type = ptypes[i].mbr;
		bl_guid_parse(ptypes[i].guid, p->gpt_type);
		r = 0;
		goto out;
	}
	if (table == DK_GPT && bl_guid_parse(s, p->gpt_type) == 0) {
		r = 0;
		goto out;
	}
	/* an MBR type byte in hex like fdisk: fd, 0xfd, 83 (YAML may have made it 83) */
	const char *h = s;
	if (!strncasecmp(h, "0x", 2))
		h += 2;
	char *end;
	unsigned long b = strtoul(h, &end, 16);
	if (*h && !*end && strlen(h) <= 2 && b > 0) {
		if (table == DK_MBR) {
			p->mbr_type = (uint8_t)b;
			r = 0;
			goto out;
		}
		/* in a GPT, the MBR codes of known types stand for their GUIDs */
		for (size_t i = 0; i < BL_ARRAY_SIZE(ptypes); i++)
			if (ptypes[i].mbr == b) {
				bl_guid_parse(ptypes[i].guid, p->gpt_type);
				r = 0;
				goto out;
			}
	}
	bl_err("%s.type: unknown partition type '%s' (names: linux, raid, swap, lvm, esp, fat32%s)",
	       field, s,
	       table == DK_GPT ? ", bios, home, root-x86-64, root-arm64, or a GUID"
			       : ", or a hex byte like fd");
out:
	free(s);
	return r;
}

/* ---- filesystems ---- */
static const char *const fs_keys[] = {"type",  "tree",	"cpio", "list",	 "files",
				      "agent", "label", "size", "image", NULL};
static const char *const file_keys[] = {"path", "source", "content", "symlink",
					"dir",	"mode",	  NULL};

static char *abspath(const char *dir, const char *p)
{
	if (p[0] == '/' || !dir)
		return xstrdup(p);
	return bl_path_join(dir, p);
}

static int parse_fs1(const json_t *o, const char *field, const char *sdir,
		     const struct bl_disk_opts *opts, struct dk_fs **out);

/* `filesystem: ext4` is short for `filesystem: {type: ext4}` */
static int parse_fs(const json_t *o, const char *field, const char *sdir,
		    const struct bl_disk_opts *opts, struct dk_fs **out)
{
	if (!json_is_string(o))
		return parse_fs1(o, field, sdir, opts, out);
	json_t *t = json_pack("{s:O}", "type", o);
	int r = parse_fs1(t, field, sdir, opts, out);
	json_decref(t);
	return r;
}

static int parse_fs1(const json_t *o, const char *field, const char *sdir,
		     const struct bl_disk_opts *opts, struct dk_fs **out)
{
	struct dk_fs *fs = xcalloc(1, sizeof(*fs));
	const char *s;
	fs->field = xstrdup(field);
	if (check_keys(o, field, fs_keys) < 0)
		goto fail;
	if (get_str(o, "type", field, &s) < 0)
		goto fail;
	fs->type = xstrdup(s ? s : "ext4");
	if (strcmp(fs->type, "ext4") && strcmp(fs->type, "ext3") && strcmp(fs->type, "ext2")) {
		bl_err("%s.type: unknown filesystem type '%s' (known: ext2, ext3, ext4)", field,
		       fs->type);
		goto fail;
	}
	if (get_str(o, "label", field, &s) < 0)
		goto fail;
	if (s) {
		if (strlen(s) > 16) {
			bl_err("%s.label: '%s' is longer than 16 bytes", field, s);
			goto fail;
		}
		fs->label = xstrdup(s);
	}
	json_t *v = json_object_get(o, "size");
	if (v && bl_disk_parse_size(v, &fs->size) < 0) {
		bl_err("%s.size: expected a size like 32M", field);
		goto fail;
	}
	if (get_str(o, "tree", field, &s) < 0)
		goto fail;
	if (s) {
		fs->tree = abspath(sdir, s);
		if (!bl_is_dir(fs->tree)) {
			bl_err("%s.tree: '%s' is not a folder", field, fs->tree);
			goto fail;
		}
	}
	static const char *const srcs[] = {"cpio", "list"};
	for (size_t k = 0; k < 2; k++) {
		if (get_str(o, srcs[k], field, &s) < 0)
			goto fail;
		if (!s)
			continue;
		char *p = abspath(sdir, s);
		if (!bl_file_exists(p) || bl_is_dir(p)) {
			bl_err("%s.%s: '%s' is not a file", field, srcs[k], p);
			free(p);
			goto fail;
		}
		*(k ? &fs->list : &fs->cpio) = p;
	}
	if (fs->cpio && fs->list) {
		bl_err("%s.list: give one of cpio and list", field);
		goto fail;
	}
	if (get_str(o, "image", field, &s) < 0)
		goto fail;
	if (s) {
		fs->image = abspath(sdir, s);
		if (!bl_file_exists(fs->image)) {
			bl_err("%s.image: '%s' does not exist", field, fs->image);
			goto fail;
		}
	}
	if (get_str(o, "agent", field, &s) < 0)
		goto fail;
	if (s) {
		if (s[0] != '/') {
			bl_err("%s.agent: '%s' must be an absolute path like /sbin/init", field, s);
			goto fail;
		}
		if (!opts || !opts->agent_path) {
			bl_err("%s.agent: no agent binary is known to place at '%s'", field, s);
			goto fail;
		}
		fs->agent_at = xstrdup(s);
		fs->agent_src = xstrdup(opts->agent_path);
	}
	v = json_object_get(o, "files");
	if (v) {
		if (!json_is_array(v)) {
			bl_err("%s.files: expected a list", field);
			goto fail;
		}
		fs->files = xcalloc(json_array_size(v) + 1, sizeof(*fs->files));
		size_t i;
		json_t *f;
		json_array_foreach(v, i, f)
		{
			char *ff = xasprintf("%s.files[%zu]", field, i);
			struct dk_file *d = &fs->files[fs->nfiles++];
			const char *path, *src, *content, *link;
			bool dir = false;
			long long mode = -1;
			int bad = check_keys(f, ff, file_keys) < 0 ||
				  get_str(f, "path", ff, &path) < 0 ||
				  get_str(f, "source", ff, &src) < 0 ||
				  get_str(f, "content", ff, &content) < 0 ||
				  get_str(f, "symlink", ff, &link) < 0 ||
				  get_bool(f, "dir", ff, &dir) < 0;
			json_t *m = json_object_get(f, "mode");
			if (!bad && m) {
				char *t = scalar_text(m);
				char *end;
				mode = t ? strtol(t, &end, 8) : -1;
				if (!t || *end || mode < 0 || mode > 07777) {
					bl_err("%s.mode: expected octal permissions like \"0755\"",
					       ff);
					bad = 1;
				}
				free(t);
			}
			if (!bad && (!path || path[0] != '/' || strstr(path, ".."))) {
				bl_err("%s.path: expected an absolute path without '..'", ff);
				bad = 1;
			}
			if (!bad && (!!src + !!content + !!link + dir) != 1) {
				bl_err("%s: give exactly one of source, content, symlink, dir", ff);
				bad = 1;
			}
			if (!bad && src) {
				d->source = abspath(sdir, src);
				if (!bl_file_exists(d->source)) {
					bl_err("%s.source: '%s' does not exist", ff, d->source);
					bad = 1;
				}
			}
			free(ff);
			if (bad)
				goto fail;
			d->path = xstrdup(path);
			d->content = content ? xstrdup(content) : NULL;
			d->symlink = link ? xstrdup(link) : NULL;
			d->dir = dir;
			d->mode = (int)mode;
		}
	}
	if (fs->image && (fs->tree || fs->cpio || fs->list || fs->nfiles || fs->agent_at)) {
		bl_err(
		    "%s.image: an image is placed as is; it cannot take tree, cpio, list, files or "
		    "agent",
		    field);
		goto fail;
	}
	*out = fs;
	return 0;
fail:
	dk_fs_free(fs);
	return -1;
}

void dk_fs_free(struct dk_fs *fs)
{
	if (!fs)
		return;
	free(fs->field);
	free(fs->type);
	free(fs->label);
	free(fs->tree);
	free(fs->cpio);
	free(fs->list);
	free(fs->image);
	free(fs->agent_at);
	free(fs->agent_src);
	for (size_t i = 0; i < fs->nfiles; i++) {
		free(fs->files[i].path);
		free(fs->files[i].source);
		free(fs->files[i].content);
		free(fs->files[i].symlink);
	}
	free(fs->files);
	free(fs);
}

/* ---- raid membership and arrays ---- */
/* a raid: mapping may also carry its array's settings (see collect_arrays) */
static const char *const raid_keys[] = {"array",   "member",	 "corrupt",	"level", "metadata",
					"devices", "filesystem", "data_offset", "minor", NULL};
static const char *const inline_array_keys[] = {"level",       "metadata", "devices", "filesystem",
						"data_offset", "minor",	   NULL};

static int parse_raid(struct dk_plan *pl, const json_t *o, const char *field, int disk, int part,
		      bool disk_corrupt)
{
	const char *arr;
	long long idx = -1;
	bool corrupt = disk_corrupt;
	if (check_keys(o, field, raid_keys) < 0 || get_str(o, "array", field, &arr) < 0 ||
	    get_int(o, "member", field, &idx, 0, 26) < 0 ||
	    get_bool(o, "corrupt", field, &corrupt) < 0)
		return -1;
	if (!arr)
		return bl_err("%s.array: missing (the name of an entry of arrays:)", field);
	if (idx < 0)
		return bl_err("%s.member: missing (this member's index, 0 for the first)", field);
	struct dk_array *a = NULL;
	for (size_t i = 0; i < pl->narrays; i++)
		if (!strcmp(pl->arrays[i].name, arr))
			a = &pl->arrays[i];
	if (!a)
		return bl_err("%s.array: unknown array '%s'%s", field, arr,
			      pl->narrays ? "" : " (the scenario has no arrays:)");
	if (idx >= a->raid_disks && a->devices_given)
		return bl_err("%s.member: %lld is out of range: '%s' has %d devices", field, idx,
			      arr, a->raid_disks);
	for (size_t i = 0; i < a->nmembers; i++)
		if (a->members[i].index == idx)
			return bl_err("%s.member: member %lld of '%s' is already %s", field, idx,
				      arr, a->members[i].field);
	a->members = xrealloc(a->members, (a->nmembers + 1) * sizeof(*a->members));
	struct dk_member *m = &a->members[a->nmembers++];
	memset(m, 0, sizeof(*m));
	m->disk = disk;
	m->part = part;
	m->index = (int)idx;
	m->corrupt = corrupt;
	m->field = xstrndup(field, strlen(field) - strlen(".raid"));
	if (!a->devices_given && idx + 1 > a->raid_disks)
		a->raid_disks = (int)idx + 1;
	if (part >= 0)
		pl->disks[disk].parts[part].member = 1;
	else
		pl->disks[disk].member = 1;
	return 0;
}

static const char *const array_keys[] = {"name",       "level",	      "metadata", "devices",
					 "filesystem", "data_offset", "minor",	  NULL};

static int parse_array(struct dk_plan *pl, const json_t *o, size_t ai, const char *field,
		       const char *sdir, const struct bl_disk_opts *opts)
{
	struct dk_array *a = &pl->arrays[ai];
	const char *name;
	long long level = 1, devices = -1, minor = -1, doff = 0;
	if (check_keys(o, field, array_keys) < 0 || get_str(o, "name", field, &name) < 0 ||
	    get_int(o, "level", field, &level, -10, 10) < 0 ||
	    get_int(o, "devices", field, &devices, 1, 26) < 0 ||
	    get_int(o, "minor", field, &minor, 0, 255) < 0 ||
	    get_int(o, "data_offset", field, &doff, 16, 1LL << 40) < 0)
		return -1;
	a->field = xstrdup(field);
	if (!name)
		return bl_err("%s.name: missing (e.g. md0)", field);
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_.-", *c))
			return bl_err("%s.name: '%s' may hold only letters, digits, '_', '.', '-'",
				      field, name);
	a->name = xstrdup(name);
	if (level != 1)
		return bl_err("%s.level: only RAID1 (level 1) is supported, not %lld", field,
			      level);
	a->level = 1;
	json_t *mv = json_object_get(o, "metadata");
	char *m = mv ? scalar_text(mv) : xstrdup("1.2");
	if (!m)
		return bl_err("%s.metadata: expected \"0.90\", \"1.0\" or \"1.2\"", field);
	if (!strcmp(m, "0.90") || !strcmp(m, "0.9") || !strcmp(m, "0"))
		a->meta = BL_MD_090;
	else if (!strcmp(m, "1.0") || !strcmp(m, "1"))
		a->meta = BL_MD_10;
	else if (!strcmp(m, "1.2"))
		a->meta = BL_MD_12;
	else {
		bl_err("%s.metadata: unknown metadata '%s' (known: 0.90, 1.0, 1.2)", field, m);
		free(m);
		return -1;
	}
	free(m);
	if (doff && a->meta != BL_MD_12)
		return bl_err("%s.data_offset: only metadata 1.2 has a data offset", field);
	a->data_offset_req = (uint64_t)doff;
	if (minor < 0) {
		/* md0 -> 0, md127 -> 127, else its position */
		const char *d = name + strcspn(name, "0123456789");
		minor =
		    (!strncmp(name, "md", 2) && *d && !d[strspn(d, "0123456789")] && d == name + 2)
			? atoi(d)
			: (long long)ai;
		if (minor > 255)
			minor = (long long)ai;
	}
	a->minor = (int)minor;
	a->devices_given = devices > 0;
	a->raid_disks = devices > 0 ? (int)devices : 0;
	json_t *f = json_object_get(o, "filesystem");
	if (f) {
		char *ff = xasprintf("%s.filesystem", field);
		int r = parse_fs(f, ff, sdir, opts, &a->fs);
		free(ff);
		if (r < 0)
			return -1;
	}
	return 0;
}

static const char *const disk_keys[] = {"name",	      "size", "table",	"ptable",  "partitions",
					"filesystem", "raid", "absent", "corrupt", NULL};
static const char *const part_keys[] = {"size",	      "type", "name", "bootable",
					"filesystem", "raid", NULL};

static int parse_disk(struct dk_plan *pl, size_t di, const char *sdir,
		      const struct bl_disk_opts *opts)
{
	const struct bl_disk_spec *spec = pl->specs + di;
	struct dk_disk *d = &pl->disks[di];
	const json_t *o = spec->layout;
	char field[64];
	snprintf(field, sizeof(field), "disks[%zu]", di);
	d->field = xstrdup(field);
	d->name = spec->name;
	d->size = spec->size;
	d->absent = spec->absent;
	if (!d->name || !*d->name)
		return bl_err("%s.name: missing", field);
	for (const char *c = d->name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_.-", *c))
			return bl_err("%s.name: '%s' may hold only letters, digits, '_', '.', '-'",
				      field, d->name);
	for (size_t i = 0; i < di; i++)
		if (!strcmp(pl->disks[i].name, d->name))
			return bl_err("%s.name: disk '%s' is declared twice", field, d->name);
	if (o && !json_is_object(o))
		return bl_err("%s: expected a mapping", field);
	if (o && check_keys(o, field, disk_keys) < 0)
		return -1;
	if (!d->size && o && json_object_get(o, "size") &&
	    bl_disk_parse_size(json_object_get(o, "size"), &d->size) < 0)
		return bl_err("%s.size: expected a size like 64M", field);
	if (!d->size)
		return bl_err("%s.size: missing (e.g. 64M)", field);
	if (d->size % 512)
		return bl_err("%s.size: %llu is not a multiple of 512 bytes", field, d->size);
	bool absent = d->absent, corrupt = false;
	if (o && (get_bool(o, "absent", field, &absent) < 0 ||
		  get_bool(o, "corrupt", field, &corrupt) < 0))
		return -1;
	d->absent = absent;
	const char *tab = spec->ptable;
	if (!tab && o) {
		json_t *t = json_object_get(o, "table");
		if (!t)
			t = json_object_get(o, "ptable");
		if (t && !json_is_string(t))
			return bl_err("%s.table: expected mbr, gpt or none", field);
		tab = t ? json_string_value(t) : NULL;
	}
	if (!tab || !strcmp(tab, "none"))
		d->table = DK_NONE;
	else if (!strcmp(tab, "mbr") || !strcmp(tab, "msdos") || !strcmp(tab, "dos"))
		d->table = DK_MBR;
	else if (!strcmp(tab, "gpt"))
		d->table = DK_GPT;
	else
		return bl_err("%s.table: unknown partition table '%s' (known: mbr, gpt, none)",
			      field, tab);
	uint64_t sectors = d->size / 512;
	json_t *parts = o ? json_object_get(o, "partitions") : NULL;
	if (parts && d->table == DK_NONE)
		return bl_err("%s.partitions: needs `table: mbr` or `table: gpt`", field);
	if (!parts && d->table != DK_NONE)
		return bl_err("%s.partitions: missing (the disk has a %s table)", field, tab);
	if (parts) {
		if (!json_is_array(parts) || !json_array_size(parts))
			return bl_err("%s.partitions: expected a non-empty list", field);
		size_t np = json_array_size(parts);
		if (d->table == DK_MBR && np > 4)
			return bl_err(
			    "%s.partitions: an MBR holds at most 4 primary partitions, not %zu",
			    field, np);
		if (d->table == DK_MBR && sectors > 0xffffffffULL)
			return bl_err("%s.size: too large for an MBR (2 TiB at most)", field);
		d->parts = xcalloc(np, sizeof(*d->parts));
		d->nparts = np;
		uint64_t end = d->table == DK_GPT ? sectors - 33 : sectors; /* exclusive */
		uint64_t at = ALIGN_SECTORS;
		for (size_t i = 0; i < np; i++) {
			char pf[160];
			snprintf(pf, sizeof(pf), "%s.partitions[%zu]", field, i);
			json_t *po = json_array_get(parts, i);
			struct dk_part *p = &d->parts[i];
			const char *pname;
			if (check_keys(po, pf, part_keys) < 0 ||
			    parse_ptype(json_object_get(po, "type"), d->table, p, pf) < 0 ||
			    get_str(po, "name", pf, &pname) < 0 ||
			    get_bool(po, "bootable", pf, &p->bootable) < 0)
				return -1;
			if (pname && d->table != DK_GPT)
				return bl_err("%s.name: only GPT partitions have names", pf);
			if (pname && strlen(pname) > 36)
				return bl_err("%s.name: longer than 36 characters", pf);
			p->name = pname ? xstrdup(pname) : NULL;
			json_t *sz = json_object_get(po, "size");
			if (!sz)
				return bl_err("%s.size: missing (e.g. 32M, or rest)", pf);
			p->start = at;
			if (at >= end)
				return bl_err(
				    "%s: no room left on the disk (%llu MiB) for this partition",
				    pf, d->size >> 20);
			if (json_is_string(sz) && !strcmp(json_string_value(sz), "rest")) {
				if (i + 1 != np)
					return bl_err(
					    "%s.size: only the last partition can take the rest",
					    pf);
				p->sectors = end - at;
			} else {
				unsigned long long b;
				if (bl_disk_parse_size(sz, &b) < 0)
					return bl_err("%s.size: expected a size like 32M, or rest",
						      pf);
				if (b % 512)
					return bl_err(
					    "%s.size: %llu is not a multiple of 512 bytes", pf, b);
				p->sectors = b / 512;
				if (at + p->sectors > end)
					return bl_err("%s.size: partition of %llu KiB starting at "
						      "sector %llu "
						      "does not fit on the disk (%llu KiB, usable "
						      "up to sector %llu)",
						      pf, b >> 10, (unsigned long long)at,
						      d->size >> 10, (unsigned long long)end);
			}
			at = (p->start + p->sectors + ALIGN_SECTORS - 1) / ALIGN_SECTORS *
			     ALIGN_SECTORS;
			json_t *fo = json_object_get(po, "filesystem");
			json_t *ro = json_object_get(po, "raid");
			if (fo && ro)
				return bl_err(
				    "%s.filesystem: a raid member's content is its array's "
				    "filesystem",
				    pf);
			if (fo) {
				char *ff = xasprintf("%s.filesystem", pf);
				int r = parse_fs(fo, ff, sdir, opts, &p->fs);
				free(ff);
				if (r < 0)
					return -1;
			}
			if (ro) {
				char *rf = xasprintf("%s.raid", pf);
				int r = parse_raid(pl, ro, rf, (int)di, (int)i, corrupt);
				free(rf);
				if (r < 0)
					return -1;
			}
		}
	}
	json_t *fo = o ? json_object_get(o, "filesystem") : NULL;
	json_t *ro = o ? json_object_get(o, "raid") : NULL;
	if (fo && parts)
		return bl_err(
		    "%s.filesystem: a partitioned disk's filesystems go in its partitions", field);
	if (ro && parts)
		return bl_err("%s.raid: a partitioned disk's raid members are its partitions",
			      field);
	if (fo && ro)
		return bl_err("%s.filesystem: a raid member's content is its array's filesystem",
			      field);
	if (fo) {
		char *ff = xasprintf("%s.filesystem", field);
		int r = parse_fs(fo, ff, sdir, opts, &d->fs);
		free(ff);
		if (r < 0)
			return -1;
	}
	if (ro) {
		char *rf = xasprintf("%s.raid", field);
		int r = parse_raid(pl, ro, rf, (int)di, -1, corrupt);
		free(rf);
		if (r < 0)
			return -1;
	}
	if (corrupt) {
		bool any = d->member;
		for (size_t i = 0; i < d->nparts; i++)
			any |= d->parts[i].member;
		if (!any)
			return bl_err(
			    "%s.corrupt: only raid members can be corrupted (their md superblock)",
			    field);
	}
	return 0;
}

/* sizes, offsets, and the checks that need every disk */
static int plan_arrays(struct dk_plan *pl)
{
	for (size_t ai = 0; ai < pl->narrays; ai++) {
		struct dk_array *a = &pl->arrays[ai];
		if (!a->nmembers)
			return bl_err(
			    "%s: array '%s' has no members (add `raid: {array: %s, member: 0}` "
			    "to a disk or partition)",
			    a->field, a->name, a->name);
		for (int k = 0; k < a->raid_disks; k++) {
			int found = 0;
			for (size_t i = 0; i < a->nmembers; i++)
				found |= a->members[i].index == k;
			if (!found)
				return bl_err("%s: member %d of '%s' is missing (declare it, with "
					      "`absent: true` on its disk for a degraded boot)",
					      a->field, k, a->name);
		}
		uint64_t min_avail = UINT64_MAX;
		for (size_t i = 0; i < a->nmembers; i++) {
			struct dk_member *m = &a->members[i];
			struct dk_disk *d = &pl->disks[m->disk];
			m->base = m->part >= 0 ? d->parts[m->part].start * 512 : 0;
			m->sectors = m->part >= 0 ? d->parts[m->part].sectors : d->size / 512;
			if (bl_md_geometry(a->meta, m->sectors, a->data_offset_req, &m->geom) < 0)
				return bl_err_prefix("%s.raid", m->field);
			if (m->geom.avail < min_avail)
				min_avail = m->geom.avail;
		}
		a->array_sectors = bl_md_array_sectors(min_avail);
		if (a->meta == BL_MD_090 && a->array_sectors / 2 > 0xffffffffULL)
			return bl_err(
			    "%s: array '%s' is too large for metadata 0.90 (4 TiB per member)",
			    a->field, a->name);
		if (a->array_sectors < 128)
			return bl_err("%s: array '%s' would hold less than 64 KiB", a->field,
				      a->name);
		a->data_offset = a->members[0].geom.data_offset;
	}
	return 0;
}

/* Arrays come from the top-level `arrays:` list and from the settings
 * written inside members' `raid:` mappings (level, metadata, filesystem...),
 * merged per name; the same key given twice must agree. */
struct collected {
	json_t **obj;	 /* merged definition, with "name" */
	json_t **origin; /* key -> field that set it */
	char **field;	 /* where the array was first defined */
	size_t n;
};

static int merge_def(struct collected *c, const char *name, const json_t *o, const char *field,
		     const char *const *keys)
{
	size_t i;
	for (i = 0; i < c->n; i++)
		if (!strcmp(json_string_value(json_object_get(c->obj[i], "name")), name))
			break;
	const char *const *k;
	int any = 0;
	for (k = keys; *k; k++)
		any |= json_object_get(o, *k) != NULL;
	if (i == c->n) {
		if (!any && keys == inline_array_keys)
			return 0; /* a plain membership: the array is defined elsewhere (or not) */
		c->obj = xrealloc(c->obj, (c->n + 1) * sizeof(*c->obj));
		c->origin = xrealloc(c->origin, (c->n + 1) * sizeof(*c->origin));
		c->field = xrealloc(c->field, (c->n + 1) * sizeof(*c->field));
		c->obj[i] = json_pack("{s:s}", "name", name);
		c->origin[i] = json_object();
		c->field[i] = xstrdup(field);
		c->n++;
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)o, key, v)
	{
		int wanted = 0;
		for (k = keys; *k; k++)
			wanted |= !strcmp(*k, key);
		if (!wanted)
			continue;
		json_t *old = json_object_get(c->obj[i], key);
		if (old && !json_equal(old, v)) {
			char *a = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			char *b = json_dumps(old, JSON_ENCODE_ANY | JSON_COMPACT);
			bl_err("%s.%s: %s differs from %s.%s = %s for array '%s'", field, key, a,
			       json_string_value(json_object_get(c->origin[i], key)), key, b, name);
			free(a);
			free(b);
			return -1;
		}
		if (!old) {
			json_object_set(c->obj[i], key, v);
			json_object_set_new(c->origin[i], key, json_string(field));
		}
	}
	return 0;
}

static int collect_raid(struct collected *c, const json_t *r, const char *field)
{
	const json_t *a = json_object_get(r, "array");
	if (!json_is_object(r) || !json_is_string(a))
		return 0; /* parse_raid reports it */
	return merge_def(c, json_string_value(a), r, field, inline_array_keys);
}

static int collect_arrays(const struct bl_disk_spec *specs, size_t n, const json_t *arrays,
			  struct collected *c)
{
	static const char *const all[] = {"level",	 "metadata", "devices", "filesystem",
					  "data_offset", "minor",    "name",	NULL};
	if (arrays && !json_is_null(arrays)) {
		if (!json_is_array(arrays))
			return bl_err("arrays: expected a list");
		for (size_t i = 0; i < json_array_size(arrays); i++) {
			char f[48];
			json_t *o = json_array_get(arrays, i);
			const json_t *nm = json_object_get(o, "name");
			snprintf(f, sizeof(f), "arrays[%zu]", i);
			if (check_keys(o, f, array_keys) < 0)
				return -1;
			if (!json_is_string(nm))
				return bl_err("%s.name: missing (e.g. md0)", f);
			for (size_t k = 0; k < c->n; k++)
				if (!strcmp(json_string_value(json_object_get(c->obj[k], "name")),
					    json_string_value(nm)))
					return bl_err("%s.name: array '%s' is declared twice", f,
						      json_string_value(nm));
			if (merge_def(c, json_string_value(nm), o, f, all) < 0)
				return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *l = specs[i].layout;
		char f[160];
		snprintf(f, sizeof(f), "disks[%zu].raid", i);
		if (json_is_object(l) && collect_raid(c, json_object_get(l, "raid"), f) < 0)
			return -1;
		const json_t *parts = json_is_object(l) ? json_object_get(l, "partitions") : NULL;
		for (size_t k = 0; json_is_array(parts) && k < json_array_size(parts); k++) {
			snprintf(f, sizeof(f), "disks[%zu].partitions[%zu].raid", i, k);
			if (collect_raid(c, json_object_get(json_array_get(parts, k), "raid"), f) <
			    0)
				return -1;
		}
	}
	return 0;
}

int dk_plan_new(const struct bl_disk_spec *specs, size_t n, const char *sdir,
		const struct bl_disk_opts *opts, struct dk_plan **out)
{
	struct dk_plan *pl = xcalloc(1, sizeof(*pl));
	pl->specs = specs;
	pl->ndisks = n;
	pl->disks = xcalloc(n ? n : 1, sizeof(*pl->disks));
	struct collected c = {0};
	int r = collect_arrays(specs, n, opts ? opts->arrays : NULL, &c);
	if (!r) {
		pl->narrays = c.n;
		pl->arrays = xcalloc(c.n ? c.n : 1, sizeof(*pl->arrays));
		for (size_t i = 0; i < c.n && !r; i++)
			r = parse_array(pl, c.obj[i], i, c.field[i], sdir, opts);
	}
	for (size_t i = 0; i < c.n; i++) {
		json_decref(c.obj[i]);
		json_decref(c.origin[i]);
		free(c.field[i]);
	}
	free(c.obj);
	free(c.origin);
	free(c.field);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (parse_disk(pl, i, sdir, opts) < 0)
			goto fail;
	if (plan_arrays(pl) < 0)
		goto fail;
	*out = pl;
	return 0;
fail:
	dk_plan_free(pl);
	return -1;
}

void dk_plan_free(struct dk_plan *pl)
{
	if (!pl)
		return;
	for (size_t i = 0; i < pl->ndisks; i++) {
		struct dk_disk *d = &pl->disks[i];
		free(d->field);
		for (size_t k = 0; k < d->nparts; k++) {
			free(d->parts[k].name);
			dk_fs_free(d->parts[k].fs);
		}
		free(d->parts);
		dk_fs_free(d->fs);
	}
	free(pl->disks);
	for (size_t i = 0; i < pl->narrays; i++) {
		struct dk_array *a = &pl->arrays[i];
		free(a->name);
		free(a->field);
		for (size_t k = 0; k < a->nmembers; k++)
			free(a->members[k].field);
		free(a->members);
		dk_fs_free(a->fs);
	}
	free(pl->arrays);
	free(pl);
}
