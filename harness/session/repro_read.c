/* repro.json read back and checked (docs/repro.md): every field typed,
 * every file there with the SHA-256 it had, before anything boots. The
 * folder is someone's report and may have been edited: each error names
 * the file and the field. */
#include "session/session.h"

#include <stdlib.h>
#include <string.h>

struct rd {
	const char *file; /* DIR/repro.json, for messages */
	struct bl_repro *rec;
};

static int field_err(const struct rd *rd, const char *field, const char *what)
{
	return bl_err("%s: field '%s': %s", rd->file, field, what);
}

/* the member KEY of OBJ (FIELD names it in messages) as a string; NULL
 * allowed when NULLABLE */
static int get_str(const struct rd *rd, json_t *obj, const char *key, const char *field,
		   bool nullable, char **out)
{
	json_t *v = json_object_get(obj, key);
	if (nullable && json_is_null(v))
		return 0;
	if (!json_is_string(v) || !json_string_length(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return field_err(rd, field, v ? "not a non-empty string" : "missing");
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int get_int(const struct rd *rd, json_t *obj, const char *key, const char *field, int min,
		   int max, int *out)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v))
		return field_err(rd, field, v ? "not an integer" : "missing");
	json_int_t n = json_integer_value(v);
	if (n < min || n > max)
		return field_err(rd, field, "out of range");
	*out = (int)n;
	return 0;
}

static int get_strv(const struct rd *rd, json_t *obj, const char *key, const char *field,
		    struct strlist *out)
{
	json_t *a = json_object_get(obj, key), *v;
	size_t i;
	if (!json_is_array(a))
		return field_err(rd, field, a ? "not an array" : "missing");
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return field_err(rd, field, "holds something else than strings");
		sl_push(out, json_string_value(v));
	}
	return 0;
}

static bool is_hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* F's file on the host (its path, or its name in the folder) hashes to
 * what was recorded */
static int check_hash(const struct rd *rd, const char *field, const struct bl_repro_file *f)
{
	char *path = f->name ? xasprintf("%s/%s", rd->rec->dir, f->name) : xstrdup(f->path);
	char hex[65];
	int rc = bl_sha256_file_hex(path, hex);
	if (rc < 0)
		rc = bl_err_prefix("%s: field '%s'", rd->file, field);
	else if (strcmp(hex, f->sha256))
		rc = bl_err("%s: field '%s': '%s' no longer has SHA-256 %s (now %s)", rd->file,
			    field, path, f->sha256, hex);
	free(path);
	return rc;
}

/* {"path": P | "file": NAME, "sha256": H}; a NAME stays in the folder */
static int get_file(const struct rd *rd, json_t *obj, const char *field, bool folder_only,
		    struct bl_repro_file *f)
{
	char *sub = xasprintf("%s.sha256", field), *hash = NULL;
	int rc = -1;
	if (!json_is_object(obj))
		field_err(rd, field, obj ? "not an object" : "missing");
	else if (folder_only && !json_object_get(obj, "file"))
		field_err(rd, field, "names no 'file' in the folder (where disks are kept)");
	else if (json_object_get(obj, "file"))
		rc = get_str(rd, obj, "file", field, false, &f->name);
	else
		rc = get_str(rd, obj, "path", field, false, &f->path);
	if (rc == 0 && f->name && (strchr(f->name, '/') || !strcmp(f->name, "..")))
		rc = field_err(rd, field, "a file name in the folder may not hold '/'");
	if (rc == 0 && (rc = get_str(rd, obj, "sha256", sub, false, &hash)) == 0 && !is_hex64(hash))
		rc = field_err(rd, sub, "not 64 lower-case hex digits");
	if (rc == 0)
		memcpy(f->sha256, hash, 65);
	free(hash);
	free(sub);
	return rc < 0 ? rc : check_hash(rd, field, f);
}

/* a disk's late_ms (hot-plugged then): absent, or 1 ms to an hour */
static int get_late(const struct rd *rd, json_t *obj, const char *field, int *out)
{
	json_t *v = json_object_get(obj, "late_ms");
	if (!v)
		return 0;
	char *sub = xasprintf("%s.late_ms", field);
	int rc = 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 3600000)
		rc = field_err(rd, sub, "not a whole number of ms from 1 to 3600000");
	else
		*out = (int)json_integer_value(v);
	free(sub);
	return rc;
}

static int read_disks(const struct rd *rd, json_t *doc)
{
	json_t *a = json_object_get(doc, "disks"), *v;
	size_t i;
	if (!json_is_array(a))
		return field_err(rd, "disks", a ? "not an array" : "missing");
	rd->rec->disks = xcalloc(json_array_size(a) + 1, sizeof(*rd->rec->disks));
	rd->rec->disk_late_ms = xcalloc(json_array_size(a) + 1, sizeof(int));
	json_array_foreach(a, i, v)
	{
		char field[40];
		snprintf(field, sizeof(field), "disks.%zu", i);
		rd->rec->ndisks = i + 1;
		if (get_file(rd, v, field, true, &rd->rec->disks[i]) < 0 ||
		    get_late(rd, v, field, &rd->rec->disk_late_ms[i]) < 0)
			return -1;
	}
	return 0;
}

static bool one_of(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, v[i]))
			return true;
	return false;
}

static int read_machine(const struct rd *rd, json_t *doc)
{
	struct bl_repro *r = rd->rec;
	json_t *m = json_object_get(doc, "machine");
	if (!json_is_object(m))
		return field_err(rd, "machine", m ? "not an object" : "missing");
	if (get_str(rd, m, "arch", "machine.arch", false, &r->arch) < 0 ||
	    get_str(rd, m, "backend", "machine.backend", false, &r->backend) < 0 ||
	    get_str(rd, m, "machine", "machine.machine", true, &r->machine) < 0 ||
	    get_str(rd, m, "virtio", "machine.virtio", true, &r->virtio) < 0 ||
	    get_int(rd, m, "memory_mb", "machine.memory_mb", 16, 65536, &r->memory_mb) < 0 ||
	    get_int(rd, m, "panic", "machine.panic", -1000000, 1000000, &r->panic) < 0 ||
	    get_strv(rd, m, "cmdline", "machine.cmdline", &r->cmdline) < 0 ||
	    get_strv(rd, m, "emulator_args", "machine.emulator_args", &r->emulator_args) < 0)
		return -1;
	if (strcmp(r->backend, "qemu") && strcmp(r->backend, "uml"))
		return field_err(rd, "machine.backend",
				 "repro boots qemu and uml (a libvirt boot's plan is QEMU's: "
				 "boot it with bootlab run)");
	if (!bl_kernel_arch_name(r->arch))
		return field_err(rd, "machine.arch", "not an arch bootlab knows");
	static const char *const types[] = {"microvm", "q35", "pc", "virt"};
	static const char *const virtio[] = {"mmio", "pci", "none"};
	if (r->machine && !one_of(r->machine, types, BL_ARRAY_SIZE(types)))
		return field_err(rd, "machine.machine", "not microvm, q35, pc or virt");
	if (r->virtio && !one_of(r->virtio, virtio, BL_ARRAY_SIZE(virtio)))
		return field_err(rd, "machine.virtio", "not mmio, pci or none");
	return 0;
}

static int read_recorded(const struct rd *rd, json_t *doc)
{
	json_t *rec = json_object_get(doc, "recorded");
	char *outcome = NULL;
	if (!json_is_object(rec))
		return field_err(rd, "recorded", rec ? "not an object" : "missing");
	int rc = get_str(rd, rec, "outcome", "recorded.outcome", false, &outcome);
	if (rc == 0 && bl_outcome_parse(outcome, &rd->rec->outcome) < 0)
		rc = field_err(rd, "recorded.outcome", "not an outcome bootlab knows");
	free(outcome);
	return rc < 0 ? rc : get_str(rd, rec, "reason", "recorded.reason", true, &rd->rec->reason);
}

static int read_scenario(const struct rd *rd, json_t *doc)
{
	json_t *s = json_object_get(doc, "scenario");
	if (json_is_null(s))
		return 0;
	struct bl_repro_file f = {0};
	int rc = get_file(rd, s, "scenario", false, &f);
	if (rc == 0 && !f.path)
		rc = field_err(rd, "scenario", "names no host 'file'");
	free(f.name);
	rd->rec->scenario = f.path;
	memcpy(rd->rec->scenario_sha256, f.sha256, sizeof(f.sha256));
	return rc;
}

/* a gate's steps (absent or null: another plan, or a record older than
 * the field, booted without steps) */
static int read_gate(const struct rd *rd, json_t *doc)
{
	json_t *g = json_object_get(doc, "gate");
	if (!g || json_is_null(g))
		return 0;
	if (!json_is_object(g))
		return field_err(rd, "gate", "not an object");
	if (rd->rec->scenario)
		return field_err(rd, "gate", "a plan from a scenario file has the file's steps");
	struct bl_gate_steps *gs = rd->rec->gate = xcalloc(1, sizeof(*gs));
	if (get_int(rd, g, "hello_timeout_ms", "gate.hello_timeout_ms", 1, 86400000,
		    &gs->hello_timeout_ms) < 0 ||
	    get_str(rd, g, "passphrase", "gate.passphrase", true, &gs->passphrase) < 0)
		return -1;
	if (gs->passphrase && bl_gate_passphrase_check(gs->passphrase) < 0)
		return bl_err_prefix("%s: field 'gate.passphrase'", rd->file);
	json_t *m = json_object_get(g, "read_mdstat"); /* absent in older folders */
	if (m && !json_is_boolean(m))
		return field_err(rd, "gate.read_mdstat", "not true or false");
	gs->read_mdstat = json_is_true(m);
	return 0;
}

static int read_files(const struct rd *rd, json_t *doc)
{
	json_t *initrd = json_object_get(doc, "initrd");
	if (get_file(rd, json_object_get(doc, "kernel"), "kernel", false, &rd->rec->kernel) < 0)
		return -1;
	if (!json_is_null(initrd)) {
		rd->rec->has_initrd = true;
		if (get_file(rd, initrd, "initrd", false, &rd->rec->initrd) < 0)
			return -1;
	}
	return read_disks(rd, doc);
}

static int read_emulator(const struct rd *rd, json_t *doc)
{
	json_t *e = json_object_get(doc, "emulator");
	if (!json_is_object(e))
		return field_err(rd, "emulator", e ? "not an object" : "missing");
	if (get_strv(rd, e, "argv", "emulator.argv", &rd->rec->argv) < 0 ||
	    get_str(rd, e, "work_dir", "emulator.work_dir", false, &rd->rec->work_dir) < 0)
		return -1;
	if (!rd->rec->argv.n)
		return field_err(rd, "emulator.argv", "empty");
	return 0;
}

static int read_doc(const struct rd *rd, json_t *doc)
{
	struct bl_repro *r = rd->rec;
	json_t *schema = json_object_get(doc, "schema"), *obs = json_object_get(doc, "observe");
	if (!json_is_object(doc))
		return bl_err("%s: not a JSON object", rd->file);
	if (!json_is_string(schema) || strcmp(json_string_value(schema), "bootlab-repro/1"))
		return field_err(rd, "schema", "not 'bootlab-repro/1'");
	if (!json_is_boolean(obs))
		return field_err(rd, "observe", obs ? "not a boolean" : "missing");
	r->observe = json_is_true(obs);
	if (get_str(rd, doc, "variant", "variant", false, &r->variant) < 0 ||
	    get_int(rd, doc, "timeout_ms", "timeout_ms", 1, 86400000, &r->timeout_ms) < 0 ||
	    read_recorded(rd, doc) < 0 || read_machine(rd, doc) < 0 || read_emulator(rd, doc) < 0)
		return -1;
	if (read_scenario(rd, doc) < 0 || read_gate(rd, doc) < 0)
		return -1;
	return read_files(rd, doc);
}

int bl_repro_read(const char *dir, struct bl_repro *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->dir = xstrdup(dir);
	struct rd rd = {.file = NULL, .rec = rec};
	char *file = xasprintf("%s/repro.json", dir);
	rd.file = file;
	int rc = -1;
	json_error_t je;
	json_t *doc = NULL;
	if (!bl_is_dir(dir))
		bl_err("'%s' is not a folder (a variant's repro folder in a report folder)", dir);
	else if (!bl_file_exists(file))
		bl_err("%s: missing (bootlab keeps it for a variant that did not pass, and for "
		       "every variant with --keep)",
		       file);
	else if (!(doc = json_load_file(file, JSON_REJECT_DUPLICATES, &je)))
		bl_err("%s:%d:%d: %s", file, je.line, je.column, je.text);
	else
		rc = read_doc(&rd, doc);
	json_decref(doc);
	free(file);
	if (rc < 0)
		bl_repro_release(rec);
	return rc;
}

static void file_release(struct bl_repro_file *f)
{
	free(f->name);
	free(f->path);
}

void bl_repro_release(struct bl_repro *rec)
{
	free(rec->dir);
	free(rec->variant);
	free(rec->scenario);
	free(rec->reason);
	bl_gate_steps_free(rec->gate);
	file_release(&rec->kernel);
	file_release(&rec->initrd);
	for (size_t i = 0; i < rec->ndisks; i++)
		file_release(&rec->disks[i]);
	free(rec->disks);
	free(rec->disk_late_ms);
	free(rec->arch);
	free(rec->backend);
	free(rec->machine);
	free(rec->virtio);
	sl_release(&rec->cmdline);
	sl_release(&rec->emulator_args);
	sl_release(&rec->argv);
	free(rec->work_dir);
	memset(rec, 0, sizeof(*rec));
}

/* a repro file's path on the host; caller frees */
static char *file_path(const struct bl_repro *rec, const struct bl_repro_file *f)
{
	return f->name ? bl_path_join(rec->dir, f->name) : xstrdup(f->path);
}

static int prepare_disks(const struct bl_repro *rec, const char *workdir, struct bl_prepared *p)
{
	p->disks = xcalloc(rec->ndisks + 1, sizeof(char *));
	p->disk_sources = xcalloc(rec->ndisks + 1, sizeof(char *));
	p->disk_late_ms = xcalloc(rec->ndisks + 1, sizeof(int));
	for (size_t i = 0; i < rec->ndisks; i++) {
		p->disk_late_ms[i] = rec->disk_late_ms ? rec->disk_late_ms[i] : 0;
		p->disk_sources[i] = file_path(rec, &rec->disks[i]);
		p->disks[i] = xasprintf("%s/d%zu.img", workdir, i);
		p->ndisks = i + 1;
		if (bl_copy_file(p->disk_sources[i], p->disks[i]) < 0)
			return -1;
	}
	return 0;
}

int bl_repro_prepare(const struct bl_repro *rec, const char *workdir, struct bl_prepared *p)
{
	memset(p, 0, sizeof(*p));
	p->arch = xstrdup(rec->arch);
	p->kernel = file_path(rec, &rec->kernel);
	p->initrd = rec->has_initrd ? file_path(rec, &rec->initrd) : NULL;
	p->machine = rec->machine ? xstrdup(rec->machine) : NULL;
	p->virtio = rec->virtio ? xstrdup(rec->virtio) : NULL;
	if (prepare_disks(rec, workdir, p) < 0)
		return -1;
	struct bl_machine_plan *mp = &p->plan;
	mp->arch = p->arch;
	mp->backend = rec->backend;
	mp->machine = p->machine;
	mp->virtio = p->virtio;
	mp->kernel = p->kernel;
	mp->kernel_kind = bl_kernel_kind_of(p->kernel);
	mp->initrd = p->initrd;
	mp->memory_mb = rec->memory_mb;
	mp->disks = (const char *const *)p->disks;
	mp->ndisks = p->ndisks;
	mp->disk_late_ms = p->disk_late_ms;
	mp->extra_args = rec->emulator_args.n ? (const char *const *)rec->emulator_args.v : NULL;
	mp->workdir = workdir;
	for (size_t i = 0; i < rec->cmdline.n; i++)
		bl_cmdline_parse(&mp->cmdline, rec->cmdline.v[i]);
	mp->panic = rec->panic;
	return 0;
}
