/* Plans made in memory, for the front ends that take no scenario file
 * (bootlab boot, bootlab gate): the same struct bl_scenario the loader
 * makes, every string and array owned by the plan, so bl_scenario_free()
 * releases it. */
#include "session/session.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

struct bl_scenario *bl_plan_new(const char *name, const char *file)
{
	struct bl_scenario *sc = xcalloc(1, sizeof(*sc));
	sc->file = xstrdup(file);
	sc->name = xstrdup(name);
	sc->base_name = xstrdup(name);
	/* the loader's defaults (docs/scenario-format.md) */
	sc->arch = xstrdup("x86_64");
	sc->backend = xstrdup("qemu");
	sc->kernel.kind = xstrdup("build");
	sc->memory_mb = 256;
	sc->timeout_ms = 60000;
	sc->kpolicy = bl_kpolicy_default();
	return sc;
}

void bl_plan_set(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

void bl_plan_add_raw(struct bl_scenario *sc, const char *name, const char *path)
{
	sc->archives = xrealloc(sc->archives, (sc->narchives + 1) * sizeof(*sc->archives));
	sc->archives[sc->narchives++] = (struct bl_archive_spec){
	    .name = xstrdup(name),
	    .raw = xstrdup(path),
	};
}

struct bl_step *bl_plan_add_step(struct bl_scenario *sc, enum bl_step_kind kind, const char *name)
{
	sc->steps = xrealloc(sc->steps, (sc->nsteps + 1) * sizeof(*sc->steps));
	struct bl_step *st = &sc->steps[sc->nsteps++];
	*st = (struct bl_step){
	    .kind = kind,
	    .name = xstrdup(name),
	    .timeout_ms = 30000,
	    .panic_status = -1,
	    .panic_signal = -1,
	};
	return st;
}

struct bl_disk *bl_plan_add_disk(struct bl_scenario *sc, const char *name, unsigned long long size)
{
	struct bl_disk_plan *p = &sc->disks;
	p->disks = xrealloc(p->disks, (p->ndisks + 1) * sizeof(*p->disks));
	struct bl_disk *d = &p->disks[p->ndisks];
	*d = (struct bl_disk){
	    .name = xstrdup(name),
	    .field = xasprintf("disks[%zu]", p->ndisks),
	    .size = size,
	    .pos = {.file = sc->file},
	};
	p->ndisks++;
	return d;
}

struct bl_disk_fs *bl_plan_disk_fs(struct bl_scenario *sc, struct bl_disk *d, enum bl_fs_type type)
{
	struct bl_srcpos at = {.file = sc->file};
	struct bl_disk_fs *fs = xcalloc(1, sizeof(*fs));
	*fs = (struct bl_disk_fs){
	    .field = xasprintf("%s.filesystem", d->field),
	    .type = type,
	    .pos = at,
	    .size_pos = at,
	    .source_pos = at,
	    .tree_pos = at,
	    .agent_pos = at,
	    .image_pos = at,
	};
	bl_disk_fs_free(d->fs);
	d->fs = fs;
	return fs;
}

struct bl_disk_file *bl_plan_fs_file(struct bl_disk_fs *fs, const char *path)
{
	fs->files = xrealloc(fs->files, (fs->nfiles + 1) * sizeof(*fs->files));
	struct bl_disk_file *f = &fs->files[fs->nfiles++];
	*f = (struct bl_disk_file){.path = xstrdup(path), .mode = -1};
	return f;
}

void bl_plan_attach(struct bl_scenario *sc, const char *path, const char *source)
{
	size_t n = 0;
	while (sc->attach && sc->attach[n])
		n++;
	sc->attach = xrealloc(sc->attach, (n + 2) * sizeof(*sc->attach));
	sc->attach_src = xrealloc(sc->attach_src, (n + 2) * sizeof(*sc->attach_src));
	sc->attach_late_ms = xrealloc(sc->attach_late_ms, (n + 1) * sizeof(*sc->attach_late_ms));
	sc->attach[n] = xstrdup(path);
	sc->attach_src[n] = xstrdup(source ? source : path);
	sc->attach_late_ms[n] = 0;
	sc->attach[n + 1] = sc->attach_src[n + 1] = NULL;
}

void bl_plan_attach_late(struct bl_scenario *sc, const char *path, const char *source, int late_ms)
{
	bl_plan_attach(sc, path, source);
	size_t n = 0;
	while (sc->attach[n + 1])
		n++;
	sc->attach_late_ms[n] = late_ms;
}
