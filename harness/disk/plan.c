/* The disk plan's vocabulary that lives nowhere else (filesystem types,
 * what mke2fs -t takes) and its lifetime. Partition types are in
 * ptable.c, md metadata versions in mdsb.c. */
#include "disk.h"

#include <stdlib.h>
#include <string.h>

static const char *const fs_names[] = {
    [BL_FS_EXT2] = "ext2",
    [BL_FS_EXT3] = "ext3",
    [BL_FS_EXT4] = "ext4",
};

int bl_fs_type_parse(const char *s, enum bl_fs_type *t)
{
	for (size_t i = 0; i < BL_ARRAY_SIZE(fs_names); i++)
		if (!strcmp(s, fs_names[i])) {
			*t = (enum bl_fs_type)i;
			return 0;
		}
	return bl_err("unknown filesystem type '%s' (known: ext2, ext3, ext4)", s);
}

const char *bl_fs_type_name(enum bl_fs_type t)
{
	return fs_names[t];
}

void bl_disk_fs_free(struct bl_disk_fs *fs)
{
	if (!fs)
		return;
	free(fs->field);
	free(fs->label);
	free(fs->uuid);
	free(fs->cpio);
	free(fs->list);
	free(fs->tree);
	for (size_t i = 0; i < fs->nfiles; i++) {
		free(fs->files[i].path);
		free(fs->files[i].source);
		free(fs->files[i].content);
		free(fs->files[i].symlink);
	}
	free(fs->files);
	free(fs->agent);
	free(fs->image);
	free(fs);
}

void bl_disk_plan_release(struct bl_disk_plan *p)
{
	for (size_t i = 0; i < p->ndisks; i++) {
		struct bl_disk *d = &p->disks[i];
		for (size_t k = 0; k < d->nparts; k++) {
			free(d->parts[k].field);
			free(d->parts[k].name);
			bl_disk_fs_free(d->parts[k].fs);
		}
		free(d->parts);
		bl_disk_fs_free(d->fs);
		free(d->name);
		free(d->field);
	}
	free(p->disks);
	for (size_t i = 0; i < p->narrays; i++) {
		struct bl_md_array *a = &p->arrays[i];
		for (size_t k = 0; k < a->nmembers; k++)
			free(a->members[k].field);
		free(a->members);
		bl_disk_fs_free(a->fs);
		free(a->name);
		free(a->field);
	}
	free(p->arrays);
	memset(p, 0, sizeof(*p));
}
