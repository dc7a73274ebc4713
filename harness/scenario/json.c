/* A plan as JSON: what `bootlab scenario show` prints and what a report
 * can embed, so a user sees exactly what bootlab understood. */
#include "scenario/scenario.h"
#include "util/util.h"

#include <stdlib.h>

static const char *const entry_names[] = {
    [BL_ENT_FILE] = "file",	    [BL_ENT_DIR] = "dir",     [BL_ENT_NOD] = "nod",
    [BL_ENT_SLINK] = "symlink",	    [BL_ENT_PIPE] = "pipe",   [BL_ENT_SOCK] = "sock",
    [BL_ENT_HARDLINK] = "hardlink", [BL_ENT_TREE] = "tree",   [BL_ENT_LIST] = "list",
    [BL_ENT_CPIO] = "cpio",	    [BL_ENT_AGENT] = "agent", [BL_ENT_MODULES] = "modules",
};
static const char *const step_names[] = {
    [BL_STEP_HELLO] = "hello",
    [BL_STEP_CONSOLE_WAIT] = "console",
    [BL_STEP_CONSOLE_SEND] = "send",
    [BL_STEP_AGENT] = "agent",
    [BL_STEP_EXPECT_PANIC] = "panic",
    [BL_STEP_EXPECT_OUTCOME] = "outcome",
    [BL_STEP_EXPECT_SCRIPT] = "expect-script",
};
const char *bl_step_kind_name(enum bl_step_kind k)
{
	return step_names[k];
}

static const char *const op_names[] = {
    [BL_AS_EQUALS] = "equals", [BL_AS_MATCHES] = "matches",   [BL_AS_EXISTS] = "exists",
    [BL_AS_ABSENT] = "absent", [BL_AS_CONTAINS] = "contains",
};

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static void set_pos(json_t *o, const struct bl_srcpos *p)
{
	if (p->file)
		json_object_set_new(o, "at", json_sprintf("%s:%d:%d", p->file, p->line, p->col));
}

static json_t *strv(char **v)
{
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *entry_json(const struct bl_entry *e)
{
	json_t *o = json_object();
	set_str(o, "kind", entry_names[e->kind]);
	set_str(o, "path", e->path);
	if (e->content) {
		json_t *c = json_stringn(e->content, e->content_len);
		json_object_set_new(o, "content", c ? c : json_string("?"));
	}
	set_str(o, "source", e->source);
	set_str(o, "target", e->target);
	switch (e->kind) {
	case BL_ENT_NOD:
		json_object_set_new(o, "type", json_sprintf("%c", e->devtype));
		json_object_set_new(o, "major", json_integer(e->major));
		json_object_set_new(o, "minor", json_integer(e->minor));
		/* fall through */
	case BL_ENT_FILE:
	case BL_ENT_DIR:
	case BL_ENT_SLINK:
	case BL_ENT_PIPE:
	case BL_ENT_SOCK:
	case BL_ENT_AGENT:
		json_object_set_new(o, "mode", json_sprintf("%04o", e->mode));
		json_object_set_new(o, "uid", json_integer(e->uid));
		json_object_set_new(o, "gid", json_integer(e->gid));
		break;
	case BL_ENT_MODULES:
		json_object_set_new(o, "modules", strv(e->modules));
		break;
	default:
		break;
	}
	set_pos(o, &e->pos);
	return o;
}

static json_t *step_json(const struct bl_step *st)
{
	json_t *o = json_object();
	set_str(o, "name", st->name);
	set_str(o, "kind", step_names[st->kind]);
	json_object_set_new(o, "timeout_ms", json_integer(st->timeout_ms));
	switch (st->kind) {
	case BL_STEP_HELLO:
		json_object_set_new(o, "stage", json_integer(st->stage));
		break;
	case BL_STEP_CONSOLE_WAIT:
		set_str(o, "regex", st->regex);
		break;
	case BL_STEP_CONSOLE_SEND:
		json_object_set_new(o, "text", json_string(st->text));
		break;
	case BL_STEP_AGENT:
		json_object_set(o, "request", st->request);
		if (st->expect_error)
			json_object_set_new(o, "error",
					    st->expect_errno ? json_string(st->expect_errno)
							     : json_true());
		json_object_set_new(o, "no_reply", json_boolean(st->no_reply));
		break;
	case BL_STEP_EXPECT_PANIC:
		set_str(o, "reason", st->panic_reason);
		if (st->panic_status >= 0)
			json_object_set_new(o, "status", json_integer(st->panic_status));
		if (st->panic_signal >= 0)
			json_object_set_new(o, "signal", json_integer(st->panic_signal));
		break;
	case BL_STEP_EXPECT_OUTCOME:
		set_str(o, "outcome", st->outcome);
		break;
	case BL_STEP_EXPECT_SCRIPT:
		set_str(o, "script", st->script);
		break;
	}
	if (st->nasserts) {
		json_t *a = json_array();
		for (size_t i = 0; i < st->nasserts; i++) {
			const struct bl_assert *as = &st->asserts[i];
			json_t *x = json_object();
			set_str(x, "field", as->field);
			set_str(x, "op", op_names[as->op]);
			if (as->value)
				json_object_set(x, "value", as->value);
			set_str(x, "regex", as->regex);
			set_pos(x, &as->pos);
			json_array_append_new(a, x);
		}
		json_object_set_new(o, "expect", a);
	}
	set_pos(o, &st->pos);
	return o;
}

/* ---- disks: the typed plan harness/disk writes ---- */

static json_t *fs_json(const struct bl_disk_fs *fs)
{
	if (!fs)
		return json_null();
	json_t *o = json_object(), *files = json_array();
	set_str(o, "type", bl_fs_type_name(fs->type));
	set_str(o, "label", fs->label);
	if (fs->size)
		json_object_set_new(o, "size", json_integer((json_int_t)fs->size));
	set_str(o, "cpio", fs->cpio);
	set_str(o, "list", fs->list);
	set_str(o, "tree", fs->tree);
	set_str(o, "agent", fs->agent);
	set_str(o, "image", fs->image);
	for (size_t i = 0; i < fs->nfiles; i++) {
		const struct bl_disk_file *f = &fs->files[i];
		json_t *x = json_pack("{s:s}", "path", f->path);
		set_str(x, "source", f->source);
		set_str(x, "content", f->content);
		set_str(x, "symlink", f->symlink);
		if (f->dir)
			json_object_set_new(x, "dir", json_true());
		if (f->mode >= 0)
			json_object_set_new(x, "mode", json_sprintf("%04o", (unsigned)f->mode));
		json_array_append_new(files, x);
	}
	json_object_set_new(o, "files", files);
	set_pos(o, &fs->pos);
	return o;
}

/* the type as the disk's table stores it: an MBR byte or a GPT GUID */
static json_t *part_json(const struct bl_disk_part *p, enum bl_ptable t)
{
	char type[37];
	if (t == BL_PTABLE_GPT)
		bl_guid_str(p->gpt_type, type);
	else
		snprintf(type, sizeof(type), "%02x", p->mbr_type);
	json_t *o = json_pack("{s:I,s:s,s:b}", "size", (json_int_t)p->size, "type", type,
			      "bootable", p->bootable);
	set_str(o, "name", p->name);
	json_object_set_new(o, "filesystem", fs_json(p->fs));
	set_pos(o, &p->pos);
	return o;
}

static json_t *disks_json(const struct bl_disk_plan *pl)
{
	static const char *const tables[] = {"none", "mbr", "gpt"};
	json_t *a = json_array();
	for (size_t i = 0; i < pl->ndisks; i++) {
		const struct bl_disk *d = &pl->disks[i];
		json_t *parts = json_array();
		for (size_t k = 0; k < d->nparts; k++)
			json_array_append_new(parts, part_json(&d->parts[k], d->table));
		json_t *x = json_pack("{s:s,s:I,s:s,s:b,s:o,s:o}", "name", d->name, "size",
				      (json_int_t)d->size, "table", tables[d->table], "absent",
				      d->absent, "partitions", parts, "filesystem", fs_json(d->fs));
		set_pos(x, &d->pos);
		json_array_append_new(a, x);
	}
	return a;
}

static json_t *arrays_json(const struct bl_disk_plan *pl)
{
	json_t *a = json_array();
	for (size_t i = 0; i < pl->narrays; i++) {
		const struct bl_md_array *md = &pl->arrays[i];
		json_t *mem = json_array();
		for (size_t k = 0; k < md->nmembers; k++) {
			const struct bl_md_member *m = &md->members[k];
			json_array_append_new(mem, json_pack("{s:s,s:i,s:i,s:b}", "disk",
							     pl->disks[m->disk].name, "partition",
							     m->part + 1, "index", m->index,
							     "corrupt", m->corrupt));
		}
		json_t *x = json_pack("{s:s,s:s,s:i,s:i,s:I,s:o,s:o}", "name", md->name, "metadata",
				      bl_md_meta_name(md->meta), "minor", md->minor, "raid_disks",
				      md->raid_disks, "data_offset", (json_int_t)md->data_offset,
				      "filesystem", fs_json(md->fs), "members", mem);
		set_pos(x, &md->pos);
		json_array_append_new(a, x);
	}
	return a;
}

json_t *bl_scenario_to_json(const struct bl_scenario *s)
{
	json_t *o = json_object();
	set_str(o, "name", s->name);
	set_str(o, "base_name", s->base_name);
	set_str(o, "variant", s->variant);
	set_str(o, "file", s->file);
	set_str(o, "description", s->description);
	set_str(o, "arch", s->arch);
	set_str(o, "backend", s->backend);
	set_str(o, "machine", s->machine);
	json_t *k = json_object();
	set_str(k, "kind", s->kernel.kind);
	set_str(k, "config", s->kernel.config);
	set_str(k, "image", s->kernel.image);
	set_str(k, "modules", s->kernel.modules_dir);
	set_str(k, "package", s->kernel.package);
	json_object_set_new(o, "kernel", k);
	set_str(o, "cmdline", s->cmdline);
	json_object_set_new(o, "memory_mb", json_integer(s->memory_mb));
	json_object_set_new(o, "timeout_ms", json_integer(s->timeout_ms));
	json_object_set_new(o, "observe", json_boolean(s->observe));
	json_object_set_new(o, "emulator_args", strv(s->emulator_args));
	json_t *arr = json_array();
	for (size_t i = 0; i < s->narchives; i++) {
		const struct bl_archive_spec *a = &s->archives[i];
		json_t *x = json_object();
		set_str(x, "name", a->name);
		set_str(x, "codec", a->codec);
		json_object_set_new(x, "builtin", json_boolean(a->builtin));
		json_object_set_new(x, "corrupt", json_boolean(a->corrupt));
		set_str(x, "raw", a->raw);
		json_t *e = json_array();
		for (size_t j = 0; j < a->nentries; j++)
			json_array_append_new(e, entry_json(&a->entries[j]));
		json_object_set_new(x, "entries", e);
		set_pos(x, &a->pos);
		json_array_append_new(arr, x);
	}
	json_object_set_new(o, "archives", arr);
	json_object_set_new(o, "disks", disks_json(&s->disks));
	json_object_set_new(o, "arrays", arrays_json(&s->disks));
	json_t *st = json_array();
	for (size_t i = 0; i < s->nsteps; i++)
		json_array_append_new(st, step_json(&s->steps[i]));
	json_object_set_new(o, "steps", st);
	set_pos(o, &s->pos);
	return o;
}
