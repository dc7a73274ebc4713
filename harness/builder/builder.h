/* harness/builder: root stacks written by the real tools.
 *
 * The layers of a root stack (md RAID1/5/10, LVM, LUKS, an xfs top) are
 * made by Debian's mdadm, lvm2, cryptsetup and mkfs.xfs themselves, never
 * by a writer of bootlab's own: bootlab boots a builder guest (its own
 * x86_64 kernel, the agent as /init, the host's tools and busybox with
 * their libraries) with the stack's member disks empty and the top
 * filesystem's image as one more disk. The agent runs one shell script
 * made of each layer's commands, bottom-up: create the layer on the
 * devices below, copy the filesystem image onto the top device (or make
 * the xfs there and copy its files), stop the layers again; then the
 * tools' own reports of what they wrote (mdadm --examine, lvm pvs/lvs,
 * cryptsetup luksDump, xfs_db) go into the build log. No root and no loop
 * device on the host.
 *
 * Members are cached by content under CACHE/stacks/<key>/ (the stack, the
 * filesystem image's bytes, the fixed identifiers and the tools' binaries)
 * and copied (holes kept) into the caller's work folder, so a second gate
 * of the same root boots no builder. docs/root-stacks.md. */
#ifndef BL_BUILDER_H
#define BL_BUILDER_H

#include "disk/stack.h"

#include <stdbool.h>
#include <stddef.h>

/* the names a stack's layers get, fixed so that an initramfs that embeds
 * them (mdadm.conf, crypttab, fstab) can be built before the disks */
#define BL_STACK_MD_DEV "/dev/md0"
#define BL_STACK_VG "bootlab"
#define BL_STACK_LV "root"
#define BL_STACK_POOL "pool" /* lvm-thin: the thin pool holding BL_STACK_LV */
#define BL_STACK_CRYPT "bootlab-crypt"

struct bl_stack_build_opts {
	const char *fs_image; /* the top filesystem, a whole-device image */
	const char *workdir;  /* members are copied here as stack-mN.img */
	int timeout_ms;	      /* the builder guest's deadline */
	const char *key;      /* the LUKS key (passphrase or key file bytes), or NULL */
	size_t key_len;
	const char *fs_label; /* an xfs top's label and UUID (--root-by), or NULL */
	const char *fs_uuid;
	const struct bl_stack_ids *ids; /* the md and LUKS UUIDs the user fixed, or NULL:
					   each one not fixed is derived from the cache key */
};

struct bl_stack_disks {
	char **members; /* images in the work folder, attached in this order */
	char **sources; /* the cache's images they were copied from */
	size_t n;
	char md_uuid[40];   /* the md array's UUID as mdadm prints it, or "" */
	char luks_uuid[37]; /* the LUKS header's UUID, or "" */
	bool cached;	    /* no builder guest booted: the cache had them */
	char *log;	    /* the build log in the cache (the tools' reports) */
};

/* whether S has layer L */
bool bl_stack_has(const struct bl_stack *s, enum bl_layer l);
/* How many member disks stack S needs (md RAID1: two, RAID5: three,
 * RAID10: four; else one). */
size_t bl_stack_members(const struct bl_stack *s);
/* The top block device by path, as an initramfs that assembled the
 * stack names it: "/dev/md0", "/dev/mapper/bootlab-root", "/dev/mapper/bootlab-crypt"; NULL for a
 * bare filesystem (the first disk). */
const char *bl_stack_top_dev(const struct bl_stack *s);

/* Build (or take from the cache) the members of S holding O->fs_image.
 * 0, or -1 with a message naming the layer whose command failed and its
 * output; nothing is left in the cache on failure. */
int bl_stack_build(const struct bl_stack *s, const struct bl_stack_build_opts *o,
		   struct bl_stack_disks *out);
void bl_stack_disks_release(struct bl_stack_disks *d);

/* Corrupt the md superblock of MEMBER, a work copy of a member the
 * builder wrote (metadata 1.2, 4 KiB in): one byte of the array name
 * changes, so its checksum no longer matches and md refuses the member
 * (`bootlab gate --degraded=corrupt`). -1 with a message when MEMBER
 * holds no such superblock. */
int bl_stack_md_corrupt(const char *member);

#endif
