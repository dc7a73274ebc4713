/* A disk plan -> where everything goes: partition starts and sizes, md
 * members' superblock and data offsets, array sizes. The plan was checked
 * when it was built (harness/scenario); what is left is capacity, which
 * only the layout knows: an error here names the field that does not fit,
 * at the position the plan keeps for it. */
#include "image.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN_SECTORS 2048ULL /* partitions start on 1 MiB boundaries */
#define GPT_TAIL 33ULL	      /* backup entries and header at the end of a GPT disk */

int dk_err_at(const struct bl_srcpos *pos)
{
	bl_err_prefix("%s:%d:%d", pos->file ? pos->file : "?", pos->line, pos->col);
	return BL_DISK_ERR_AT;
}

static int place_parts(const struct bl_disk *d, struct dk_part *out)
{
	uint64_t sectors = d->size / 512;
	uint64_t end = d->table == BL_PTABLE_GPT ? sectors - GPT_TAIL : sectors; /* exclusive */
	uint64_t at = ALIGN_SECTORS;
	for (size_t k = 0; k < d->nparts; k++) {
		const struct bl_disk_part *p = &d->parts[k];
		out[k].start = at;
		if (at >= end) {
			bl_err("%s: no room left on the disk (%llu MiB) for this partition",
			       p->field, d->size >> 20);
			return dk_err_at(&p->pos);
		}
		out[k].sectors = p->size ? p->size / 512 : end - at; /* 0: the rest */
		if (at + out[k].sectors > end) {
			bl_err(
			    "%s.size: partition of %llu KiB starting at sector %llu does not fit "
			    "on the disk (%llu KiB, usable up to sector %llu)",
			    p->field, p->size >> 10, (unsigned long long)at, d->size >> 10,
			    (unsigned long long)end);
			return dk_err_at(&p->size_pos);
		}
		at = (at + out[k].sectors + ALIGN_SECTORS - 1) / ALIGN_SECTORS * ALIGN_SECTORS;
	}
	return 0;
}

/* the array's size: the smallest member's usable sectors, as mdadm picks it */
static int place_array(const struct bl_disk_plan *pl, struct dk_part **parts,
		       const struct bl_md_array *a, struct dk_array *out)
{
	uint64_t min_avail = UINT64_MAX;
	out->members = xcalloc(a->nmembers ? a->nmembers : 1, sizeof(*out->members));
	for (size_t i = 0; i < a->nmembers; i++) {
		const struct bl_md_member *m = &a->members[i];
		struct dk_member *g = &out->members[i];
		g->base = m->part >= 0 ? parts[m->disk][m->part].start * 512 : 0;
		g->sectors =
		    m->part >= 0 ? parts[m->disk][m->part].sectors : pl->disks[m->disk].size / 512;
		if (bl_md_geometry(a->meta, g->sectors, a->data_offset, &g->geom) < 0) {
			bl_err_prefix("%s.raid", m->field);
			return dk_err_at(&m->pos);
		}
		if (g->geom.avail < min_avail)
			min_avail = g->geom.avail;
	}
	out->array_sectors = bl_md_array_sectors(min_avail);
	if (a->meta == BL_MD_090 && out->array_sectors / 2 > 0xffffffffULL) {
		bl_err("%s: array '%s' is too large for metadata 0.90 (4 TiB per member)", a->field,
		       a->name);
		return dk_err_at(&a->pos);
	}
	if (out->array_sectors < 128) {
		bl_err("%s: array '%s' would hold less than 64 KiB", a->field, a->name);
		return dk_err_at(&a->pos);
	}
	out->data_offset = out->members[0].geom.data_offset;
	return 0;
}

int dk_layout_plan(const struct bl_disk_plan *plan, struct dk_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->ndisks = plan->ndisks;
	l->parts = xcalloc(plan->ndisks ? plan->ndisks : 1, sizeof(*l->parts));
	for (size_t i = 0; i < plan->ndisks; i++) {
		const struct bl_disk *d = &plan->disks[i];
		l->parts[i] = xcalloc(d->nparts ? d->nparts : 1, sizeof(**l->parts));
		int r = place_parts(d, l->parts[i]);
		if (r < 0)
			return r;
	}
	l->narrays = plan->narrays;
	l->arrays = xcalloc(plan->narrays ? plan->narrays : 1, sizeof(*l->arrays));
	for (size_t i = 0; i < plan->narrays; i++) {
		int r = place_array(plan, l->parts, &plan->arrays[i], &l->arrays[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

void dk_layout_release(struct dk_layout *l)
{
	for (size_t i = 0; i < l->ndisks && l->parts; i++)
		free(l->parts[i]);
	free(l->parts);
	for (size_t i = 0; i < l->narrays && l->arrays; i++)
		free(l->arrays[i].members);
	free(l->arrays);
	memset(l, 0, sizeof(*l));
}
