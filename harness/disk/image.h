/* Private to harness/disk (other stages include disk.h): what image.c
 * assembles a set of disk images from. */
#ifndef BL_DISK_IMAGE_H
#define BL_DISK_IMAGE_H

#include "disk.h"

/* ---- layout.c: where everything of a plan goes ---- */

struct dk_part {
	uint64_t start, sectors; /* 512-byte sectors */
};

struct dk_member {
	uint64_t base;	  /* byte offset of the member in its disk */
	uint64_t sectors; /* the member's size */
	struct bl_md_geom geom;
};

struct dk_array {
	uint64_t array_sectors;	   /* per member: what the array holds */
	uint64_t data_offset;	   /* where the data starts on each member */
	struct dk_member *members; /* parallel to bl_md_array.members */
};

struct dk_layout {
	struct dk_part **parts;	 /* [disk][partition] */
	struct dk_array *arrays; /* parallel to bl_disk_plan.arrays */
	size_t ndisks, narrays;
};

/* Lay PLAN out: partitions on 1 MiB boundaries, md superblocks and data
 * where md.c reads them. What does not fit is an error at its position
 * (BL_DISK_ERR_AT); release *L either way. */
int dk_layout_plan(const struct bl_disk_plan *plan, struct dk_layout *l);
void dk_layout_release(struct dk_layout *l);

/* "FILE:LINE:COL: " before the current message; returns BL_DISK_ERR_AT */
int dk_err_at(const struct bl_srcpos *pos);

/* ---- image.c ---- */

/* SOURCE_DATE_EPOCH, or a fixed date: images must not depend on the clock */
uint64_t dk_epoch(void);
/* 16 bytes derived from the set's input hash and a tag ("fs:disks[0].filesystem") */
void dk_derive16(const char *sethash, const char *tag, uint8_t out[16]);

/* ---- fs.c: one ext2/3/4 filesystem ---- */

/* the newc bytes a `cpio:` or `list:` source renders to (hashed, then unpacked) */
int dk_fs_render_source(const struct bl_disk_fs *fs, struct strbuf *out);
/* Make FS as an image of at most ROOM bytes (WHAT: "disk", "partition" or
 * "array", for messages) in STAGE, placing AGENT at fs->agent. *IMG is the
 * image to place (caller frees), *LEN its size. */
int dk_fs_make(const struct bl_disk_fs *fs, uint64_t room, const char *what, const char *agent,
	       const char *stage, const char *sethash, char **img, uint64_t *len);

#endif
