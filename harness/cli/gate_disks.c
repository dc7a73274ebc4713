/* bootlab gate --disks FILE: the root disks are a whole layout in the
 * scenario format ({disks: [...], arrays: [...]}, docs/disks.md), loaded
 * and checked by the scenario loader when the gate starts, so a bad file
 * is a usage error naming FILE:LINE:COLUMN before anything is built. The
 * filesystem holding `agent:` is the root the initramfs must reach; the
 * root= word is the device the kernel names it by (docs/root-stacks.md,
 * "A layout of your own"). */
#include "cli/cli.h"
#include "disk/disk.h"
#include "scenario/scenario.h"
#include "util/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* the virtio disk name of plan disk I: absent disks are not attached, so
 * the ones after them move up a letter */
static char *disk_dev(const struct bl_disk_plan *p, size_t i)
{
	size_t n = 0;
	for (size_t k = 0; k < i; k++)
		n += !p->disks[k].absent;
	if (n >= 26)
		return NULL;
	return xasprintf("/dev/vd%c", (char)('a' + n));
}

/* note FS as the root when it holds the agent, DEV (owned) its device;
 * -1 on a second one, or when its disk is ABSENT */
static int take(struct cli_gate_layout *l, struct bl_disk_fs *fs, char *dev, bool absent)
{
	if (!fs || !fs->agent || absent || l->root) {
		free(dev);
		if (fs && fs->agent && absent)
			return bl_err("%s holds `agent:` on a disk that is absent", fs->field);
		if (fs && fs->agent && l->root)
			return bl_err("%s and %s both hold `agent:`: the gate reaches one root",
				      l->field, fs->field);
		return 0;
	}
	l->root = fs;
	l->field = fs->field;
	l->root_dev = dev;
	return 0;
}

/* the filesystem with `agent:` and its device, over every place one can be */
static int find_root(struct cli_gate_layout *l)
{
	struct bl_disk_plan *p = &l->spec->disks;
	int rc = 0;
	for (size_t i = 0; i < p->ndisks && rc == 0; i++) {
		struct bl_disk *d = &p->disks[i];
		char *dev = disk_dev(p, i);
		rc = take(l, d->fs, dev ? xstrdup(dev) : NULL, d->absent);
		for (size_t k = 0; k < d->nparts && rc == 0; k++)
			rc = take(l, d->parts[k].fs, dev ? xasprintf("%s%zu", dev, k + 1) : NULL,
				  d->absent);
		free(dev);
	}
	for (size_t i = 0; i < p->narrays && rc == 0; i++) /* md0 or md127: the initramfs's */
		rc = take(l, p->arrays[i].fs, NULL, false);
	if (rc == 0 && !l->root)
		rc = bl_err("no filesystem holds `agent:` (the root the initramfs must reach: "
			    "`agent: /sbin/init` on it)");
	return rc;
}

int cli_gate_layout_load(const char *file, struct cli_gate_layout *l)
{
	*l = (struct cli_gate_layout){0};
	if (!(l->spec = bl_scenario_load_disks(file)))
		return -1;
	if (find_root(l) < 0) {
		bl_err_prefix("%s", file);
		cli_gate_layout_release(l);
		return -1;
	}
	return 0;
}

struct bl_disk_fs *cli_gate_layout_use(struct cli_gate_layout *l, struct bl_scenario *sc)
{
	bl_disk_plan_release(&sc->disks);
	sc->disks = l->spec->disks;
	memset(&l->spec->disks, 0, sizeof(l->spec->disks));
	/* the positions in the plan name the file: its names go along */
	if (sc->srcfiles)
		for (char **f = sc->srcfiles; *f; f++)
			free(*f);
	free(sc->srcfiles);
	sc->srcfiles = l->spec->srcfiles;
	l->spec->srcfiles = NULL;
	return l->root;
}

void cli_gate_layout_release(struct cli_gate_layout *l)
{
	if (l->spec)
		bl_scenario_free(l->spec);
	free(l->root_dev);
	*l = (struct cli_gate_layout){0};
}
