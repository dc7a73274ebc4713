/* Private to harness/disk (other stages include disk.h): the checked plan
 * that layout.c makes from the specs and image.c turns into images. */
#ifndef BL_DISK_LAYOUT_H
#define BL_DISK_LAYOUT_H

#include "disk.h"

enum dk_table { DK_NONE, DK_MBR, DK_GPT };

struct dk_file {
	char *path;    /* absolute path inside the filesystem */
	char *source;  /* host file (absolute), or */
	char *content; /* inline text, or */
	char *symlink; /* link target, or */
	bool dir;      /* an empty folder */
	int mode;      /* -1 = from the source / default */
};

struct dk_fs {
	char *field; /* "disks[0].filesystem", for messages */
	char *type;  /* ext2 | ext3 | ext4 */
	char *label;
	unsigned long long size; /* 0 = the whole container */
	char *cpio;		 /* an initramfs-style archive (any codec), unpacked first */
	char *list;		 /* a gen_init_cpio list, unpacked first */
	char *tree;		 /* host folder (absolute), copied over them */
	struct dk_file *files;
	size_t nfiles;
	char *agent_at;	 /* `agent: /sbin/init` */
	char *agent_src; /* opts->agent_path */
	char *image;	 /* a ready filesystem image, placed as is */
};

struct dk_part {
	uint64_t start, sectors;
	uint8_t mbr_type;
	uint8_t gpt_type[16];
	bool bootable;
	char *name;
	struct dk_fs *fs;
	int member; /* is a raid member */
};

struct dk_disk {
	char *field;
	const char *name; /* borrowed from the spec */
	unsigned long long size;
	bool absent;
	enum dk_table table;
	struct dk_part *parts;
	size_t nparts;
	struct dk_fs *fs;
	int member;
};

struct dk_member {
	int disk, part; /* part -1: the whole disk */
	int index;
	bool corrupt;
	char *field;   /* "disks[1]" or "disks[0].partitions[1]" */
	uint64_t base; /* byte offset of the member in its disk */
	uint64_t sectors;
	struct bl_md_geom geom;
};

struct dk_array {
	char *name, *field;
	enum bl_md_meta meta;
	int level, minor, raid_disks;
	bool devices_given;
	uint64_t data_offset_req, data_offset, array_sectors;
	struct dk_member *members;
	size_t nmembers;
	struct dk_fs *fs;
	uint8_t uuid[16];
};

struct dk_plan {
	const struct bl_disk_spec *specs;
	struct dk_disk *disks;
	size_t ndisks;
	struct dk_array *arrays;
	size_t narrays;
};

/* check specs + opts->arrays; *out is freed with dk_plan_free */
int dk_plan_new(const struct bl_disk_spec *specs, size_t n, const char *scenario_dir,
		const struct bl_disk_opts *opts, struct dk_plan **out);
void dk_plan_free(struct dk_plan *pl);
void dk_fs_free(struct dk_fs *fs);

#endif
