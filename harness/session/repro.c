/* The repro folder of a boot (docs/repro.md): REPORT_DIR/NAME/ with
 * repro.json (schema bootlab-repro/1), the initrd bootlab made and the
 * disk images as they were built, so that `bootlab repro` boots the same
 * bytes again. The kernel and a user's own archive stay where they are,
 * named with their SHA-256. */
#include "session/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* {KEY: VALUE, "sha256": ...} of the file at PATH */
static json_t *file_json(const char *key, const char *value, const char *path)
{
	char hex[65];
	if (bl_sha256_file_hex(path, hex) < 0)
		return NULL;
	return json_pack("{s:s,s:s}", key, value, "sha256", hex);
}

/* SRC kept in DIR as NAME: a copy, or a hard link when LINK (the report
 * folder's NAME.initrd, a file of the report's own; never the disk cache's,
 * which an edit of the folder would change) */
static json_t *keep_file(const char *src, const char *dir, const char *name, bool link_ok)
{
	char *dst = xasprintf("%s/%s", dir, name);
	json_t *j = NULL;
	if ((link_ok && link(src, dst) == 0) || bl_copy_file(src, dst) == 0)
		j = file_json("file", name, dst);
	free(dst);
	return j;
}

/* the initrd: bootlab's (in the work folder) copied, a user's named */
static json_t *initrd_json(const struct bl_prepared *p, const struct bl_result *r,
			   const char *workdir, const char *dir)
{
	if (!p->initrd)
		return json_null();
	if (!bl_path_in(p->initrd, workdir))
		return file_json("path", p->initrd, p->initrd);
	bool kept = r->initrd && !bl_path_in(r->initrd, workdir) && bl_file_exists(r->initrd);
	return keep_file(kept ? r->initrd : p->initrd, dir, "initrd", kept);
}

static json_t *disks_json(const struct bl_prepared *p, const char *dir)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < p->ndisks; i++) {
		char name[32];
		snprintf(name, sizeof(name), "disk%zu.img", i);
		json_t *d = keep_file(p->disk_sources[i], dir, name, false);
		if (!d) {
			json_decref(a);
			return NULL;
		}
		if (p->disk_late_ms && p->disk_late_ms[i] > 0)
			json_object_set_new(d, "late_ms", json_integer(p->disk_late_ms[i]));
		json_array_append_new(a, d);
	}
	return a;
}

/* the scenario file with its hash; null for a plan made in memory */
static json_t *scenario_json(const struct bl_scenario *sc)
{
	if (!sc->file || sc->file[0] != '/' || !bl_file_exists(sc->file))
		return json_null();
	json_t *j = file_json("path", sc->file, sc->file);
	return j ? j : json_null();
}

/* how a gate's steps were made (bl_plan_gate_steps()), null for another
 * plan: its passphrase too, which a LUKS gate's repro must type again */
static json_t *gate_json(const struct bl_scenario *sc)
{
	if (!sc->gate)
		return json_null();
	json_t *g = json_pack("{s:i,s:o}", "hello_timeout_ms", sc->gate->hello_timeout_ms,
			      "passphrase", str_or_null(sc->gate->passphrase));
	if (sc->gate->read_mdstat) /* --degraded; absent otherwise, as in older records */
		json_object_set_new(g, "read_mdstat", json_true());
	return g;
}

static json_t *machine_json(const struct bl_prepared *p, const struct bl_scenario *sc)
{
	const struct bl_machine_plan *mp = &p->plan;
	json_t *words = json_array();
	for (size_t i = 0; i < mp->cmdline.n; i++)
		json_array_append_new(words, json_string(mp->cmdline.w[i].text));
	size_t nextra = 0;
	while (sc->emulator_args && sc->emulator_args[nextra])
		nextra++;
	return json_pack("{s:s,s:s,s:o,s:o,s:i,s:i,s:o,s:o}", "arch", mp->arch, "backend",
			 mp->backend, "machine", str_or_null(p->machine), "virtio",
			 str_or_null(p->virtio), "memory_mb", mp->memory_mb, "panic", mp->panic,
			 "cmdline", words, "emulator_args", strv_json(sc->emulator_args, nextra));
}

static json_t *record_json(const struct bl_scenario *sc, const struct bl_prepared *p,
			   const struct bl_result *r, const char *workdir, const char *dir)
{
	json_t *kernel = file_json("path", p->kernel, p->kernel);
	json_t *initrd = kernel ? initrd_json(p, r, workdir, dir) : NULL;
	json_t *disks = initrd ? disks_json(p, dir) : NULL;
	if (!disks) {
		json_decref(kernel);
		json_decref(initrd);
		return NULL;
	}
	json_t *emu =
	    json_pack("{s:o,s:s}", "argv", strv_json(r->emulator_argv.v, r->emulator_argv.n),
		      "work_dir", workdir);
	return json_pack("{s:s,s:s,s:o,s:o,s:{s:s,s:o},s:o,s:o,s:o,s:o,s:b,s:i,s:o}", "schema",
			 "bootlab-repro/1", "variant", sc->name, "scenario", scenario_json(sc),
			 "gate", gate_json(sc), "recorded", "outcome", bl_outcome_name(r->outcome),
			 "reason", str_or_null(r->reason), "kernel", kernel, "initrd", initrd,
			 "disks", disks, "machine", machine_json(p, sc), "observe", sc->observe,
			 "timeout_ms", sc->timeout_ms, "emulator", emu);
}

/* REPORT_DIR/NAME from the console log REPORT_DIR/NAME.console.log */
static char *repro_dir_of(const struct bl_result *r)
{
	const char *suffix = ".console.log";
	size_t n = r->console_log ? strlen(r->console_log) : 0;
	if (n <= strlen(suffix) || strcmp(r->console_log + n - strlen(suffix), suffix)) {
		bl_err("no console log to name the repro folder after");
		return NULL;
	}
	return xasprintf("%.*s", (int)(n - strlen(suffix)), r->console_log);
}

char *bl_repro_write(const struct bl_scenario *sc, const struct bl_prepared *prep,
		     const struct bl_result *r, const char *workdir)
{
	if (!r->emulator_argv.n) {
		bl_err("the emulator did not start (or is libvirt's): nothing to boot again");
		return NULL;
	}
	char *dir = repro_dir_of(r);
	if (!dir)
		return NULL;
	json_t *doc = NULL;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		bl_err_errno("cannot make '%s'", dir);
	else if (!(doc = record_json(sc, prep, r, workdir, dir)))
		bl_err_prefix("repro folder '%s'", dir);
	char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	char *file = xasprintf("%s/repro.json", dir);
	int rc = text ? bl_write_file_atomic(file, text, strlen(text), 0644) : -1;
	free(file);
	free(text);
	json_decref(doc);
	if (rc < 0) {
		free(dir);
		return NULL;
	}
	return dir;
}
