/* libFuzzer target: the scenario loader (harness/scenario/, with libyaml
 * and jansson). The input is written to a scenario file in a private
 * folder and loaded with and without --arch/--backend overrides.
 * Checks, besides "no crash, no leak, no hang": a failure leaves the set
 * empty and its message starts with "FILE:" (a position or the file's own
 * read error); a success gives complete plans (names, steps, compiled
 * regexes, disk plans whose parts all know where they were written and
 * whose md members point at real disks). */
#include "scenario/scenario.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* s.yaml in a private folder under $TMPDIR (the test's own folder, which
 * the test removes: never a shared name in /tmp that another run uses) */
static char *path;

static void check_pos(const struct bl_srcpos *p)
{
	if (!p->file || p->line < 1 || p->col < 1)
		abort();
}

static void check_disks(const struct bl_disk_plan *p)
{
	for (size_t i = 0; i < p->ndisks; i++) {
		const struct bl_disk *d = &p->disks[i];
		check_pos(&d->pos);
		if (!d->name || !d->field || d->size % 512 || !d->size ||
		    (d->nparts > 0) != (d->table != BL_PTABLE_NONE))
			abort();
		for (size_t k = 0; k < d->nparts; k++)
			check_pos(&d->parts[k].size_pos);
	}
	for (size_t i = 0; i < p->narrays; i++) {
		const struct bl_md_array *a = &p->arrays[i];
		check_pos(&a->pos);
		if (!a->nmembers || a->raid_disks < 1)
			abort();
		for (size_t k = 0; k < a->nmembers; k++) {
			const struct bl_md_member *m = &a->members[k];
			check_pos(&m->pos);
			if (m->disk >= p->ndisks || m->index >= a->raid_disks ||
			    m->part >= (int)p->disks[m->disk].nparts)
				abort();
		}
	}
}

static void check_plan(const struct bl_scenario *s)
{
	if (!s->name || !s->arch || !s->backend || !s->kernel.kind || s->nsteps == 0)
		abort();
	if (s->memory_mb < 16 || s->timeout_ms < 1)
		abort();
	for (size_t i = 0; i < s->nsteps; i++) {
		const struct bl_step *st = &s->steps[i];
		if (!st->name || st->timeout_ms < 1)
			abort();
		if (st->kind == BL_STEP_CONSOLE_WAIT && regexec(&st->re, "x", 0, NULL, 0) > 1)
			abort();
		if (st->kind == BL_STEP_AGENT && !json_is_object(st->request))
			abort();
	}
	for (size_t i = 0; i < s->narchives; i++)
		for (size_t j = 0; j < s->archives[i].nentries; j++)
			if (s->archives[i].entries[j].mode > 07777)
				abort();
	check_disks(&s->disks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct bl_load_opts opts[] = {
	    {NULL, NULL}, {"aarch64", NULL}, {NULL, "uml"}, {"x86_64", "libvirt"}};
	if (!path) {
		char *dir = bl_mktemp_dir("fuzz-scenario");
		if (!dir)
			abort();
		path = bl_path_join(dir, "s.yaml");
		free(dir);
		/* an `extends: /dev/stdin` must not wait for a terminal */
		int fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		close(fd);
	}
	if (size > 65536)
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	for (size_t o = 0; o < BL_ARRAY_SIZE(opts); o++) {
		struct bl_scenario_set set = {0};
		bl_regex_budget_reset(); /* each load stands for one bootlab run */
		if (bl_scenario_load(path, &opts[o], &set) == 0) {
			for (size_t i = 0; i < set.n; i++)
				check_plan(set.v[i]);
			bl_scenario_set_release(&set);
		} else {
			if (set.n != 0)
				abort();
			/* the top file, or a base it extends, is named first */
			if (!strchr(bl_errmsg(), ':'))
				abort();
			if (o == 0)
				break; /* the overrides cannot repair a broken file */
		}
	}
	return 0;
}
