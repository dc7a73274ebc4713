/*
 * Root stacks: the layers between the disks and the root filesystem,
 * named bottom-up and joined by '+' ("raid1+lvm+ext4"), as `bootlab gate
 * --root-stack` takes them (docs/root-stacks.md).
 */
#ifndef BL_DISK_STACK_H
#define BL_DISK_STACK_H

#include <stdbool.h>
#include <stddef.h>

enum bl_layer {
	BL_LAYER_RAID1,
	BL_LAYER_RAID5,
	BL_LAYER_RAID10,
	BL_LAYER_LVM,
	BL_LAYER_LVM_THIN,
	BL_LAYER_LUKS,
	BL_LAYER_LUKS1,
	BL_LAYER_EXT4,
	BL_LAYER_XFS,
};

/* what a layer is: a stack has at most one layer of each kind (one md
 * array, one VG, one LUKS device) and a filesystem on top */
enum bl_layer_kind { BL_KIND_MD, BL_KIND_LVM, BL_KIND_LUKS, BL_KIND_FS };

#define BL_STACK_MAX 4

struct bl_stack {
	enum bl_layer layer[BL_STACK_MAX]; /* bottom-up; the last one is the filesystem */
	size_t n;
};

/* how the root= word bootlab adds names the top filesystem */
enum bl_root_by { BL_ROOT_BY_PATH, BL_ROOT_BY_UUID, BL_ROOT_BY_LABEL };

/* identifiers the user fixes (bootlab gate --uuid NAME=UUID), "" where
 * not, so that an initramfs that embeds them (mdadm.conf, crypttab,
 * fstab) can be built before the disks */
struct bl_stack_ids {
	char array[40]; /* the md array's, as mdadm prints it: 8:8:8:8 hex */
	char luks[37];	/* the LUKS header's: 8-4-4-4-12 */
	char root[37];	/* the top filesystem's: 8-4-4-4-12 */
};

/* ARG "NAME=UUID" into IDS: NAME md, luks or root; UUID 32 hex digits as
 * 8-4-4-4-12, or for md also mdadm's 8:8:8:8, stored in lower case in
 * the form that NAME's tool prints; -1 with bl_err() naming what is wrong
 * (a NAME given twice too) */
int bl_stack_id_parse(const char *arg, struct bl_stack_ids *ids);

/* SPEC into S; -1 with bl_err() naming the word and what may stand there */
int bl_stack_parse(const char *spec, struct bl_stack *s);
int bl_root_by_parse(const char *word, enum bl_root_by *by);
const char *bl_layer_name(enum bl_layer l);
enum bl_layer_kind bl_layer_kind(enum bl_layer l);
/* whether S has a layer of kind K */
bool bl_stack_has_kind(const struct bl_stack *s, enum bl_layer_kind k);
/* whether S survives a missing member: its md layer (raid1, raid5,
 * raid10; every md level bootlab builds) is redundant */
bool bl_stack_redundant(const struct bl_stack *s);

#endif
