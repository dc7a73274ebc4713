/* harness/disk: a disk plan -> raw disk images.
 *
 * The plan (struct bl_disk_plan) is a scenario's `disks:` and `arrays:`,
 * typed and checked once by harness/scenario (schema: docs/disks.md); this
 * stage knows nothing of YAML or scenarios. It lays the plan out and writes
 * it, without root, loop devices or the md driver: MBR and GPT partition
 * tables, md RAID1 superblocks (metadata 0.90, 1.0, 1.2, checksums
 * included) and ext2/3/4 filesystems made by `mke2fs -d` from a staging
 * folder. UUIDs, timestamps and mke2fs seeds derive from the content, so
 * the same input gives the same bytes.
 *
 * What only shows while laying out or writing (a partition, filesystem or
 * member that does not fit, contents mke2fs cannot place, an unreadable
 * source) is reported at the position the plan keeps for that field.
 *
 * Images are cached under CACHE/disks/<hash>.img (hash of the whole disk
 * set's input, tree contents included, and the disk's name) and copied
 * (reflinked when the filesystem can, holes kept) into the per-boot
 * workdir, so a boot that writes never changes the cache. */
#ifndef BL_DISK_H
#define BL_DISK_H

#include "util/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the plan ---- */

/* Names the plan builder checks against these tables. Each parse function
 * returns 0, or -1 with a message quoting S and listing what is known. */
enum bl_ptable { BL_PTABLE_NONE, BL_PTABLE_MBR, BL_PTABLE_GPT };
enum bl_fs_type { BL_FS_EXT2, BL_FS_EXT3, BL_FS_EXT4 };
enum bl_md_meta { BL_MD_090 = 90, BL_MD_10 = 10, BL_MD_12 = 12 };
int bl_fs_type_parse(const char *s, enum bl_fs_type *t);
const char *bl_fs_type_name(enum bl_fs_type t);		 /* "ext4": mke2fs -t */
int bl_md_meta_parse(const char *s, enum bl_md_meta *m); /* "0.90", "1.0", "1.2" */
const char *bl_md_meta_name(enum bl_md_meta m);
/* a partition type name ("linux", "raid", ...), an MBR type byte in hex
 * ("fd", "0x83") or, in a GPT, a GUID -> the MBR byte and the GPT type */
int bl_ptype_parse(const char *s, enum bl_ptable t, uint8_t *mbr, uint8_t gpt[16]);

/* One `files:` entry: exactly one of source, content, symlink and dir. */
struct bl_disk_file {
	char *path;    /* absolute path inside the filesystem */
	char *source;  /* host file (absolute) */
	char *content; /* inline text */
	char *symlink; /* link target */
	bool dir;      /* an empty folder */
	int mode;      /* permission bits; -1: the source's, or the default */
};

/* Every part of the plan keeps its field path for messages
 * ("disks[0].filesystem: contents do not fit ...") and where it was
 * written (struct bl_srcpos), so a later error can name FILE:LINE:COL. */
struct bl_disk_fs {
	char *field; /* "disks[0].filesystem" (it also seeds the filesystem's UUID) */
	enum bl_fs_type type;
	char *label;		 /* or NULL */
	char *uuid;		 /* a fixed UUID (plans made in memory: bootlab gate), or NULL:
				    derived from the content */
	unsigned long long size; /* bytes; 0: the whole disk, partition or array */
	char *cpio;		 /* host archive (any codec), unpacked first, or NULL */
	char *list;		 /* host gen_init_cpio list, unpacked first, or NULL */
	char *tree;		 /* host folder copied over them, or NULL */
	struct bl_disk_file *files;
	size_t nfiles;
	char *agent;	      /* where the agent goes (`agent: /sbin/init`), or NULL */
	char *image;	      /* a ready filesystem image placed as is (host path), or NULL */
	struct bl_srcpos pos; /* the `filesystem:` value; the others are their keys' values */
	struct bl_srcpos size_pos, source_pos, tree_pos, agent_pos, image_pos;
};

struct bl_disk_part {
	char *field;		 /* "disks[0].partitions[1]" */
	unsigned long long size; /* bytes; 0: the rest of the disk */
	uint8_t mbr_type;
	uint8_t gpt_type[16]; /* on-disk GUID bytes */
	bool bootable;
	char *name;	       /* GPT partition name (ASCII), or NULL */
	struct bl_disk_fs *fs; /* or NULL */
	struct bl_srcpos pos, size_pos;
};

struct bl_disk {
	char *name;		 /* "d0": the image is WORKDIR/d0.img */
	char *field;		 /* "disks[0]" */
	unsigned long long size; /* bytes, a multiple of 512 */
	bool absent;		 /* built, but not attached to the machine */
	enum bl_ptable table;
	struct bl_disk_part *parts; /* nparts > 0 exactly when there is a table */
	size_t nparts;
	struct bl_disk_fs *fs; /* a filesystem on the whole disk, or NULL */
	struct bl_srcpos pos;
};

/* md RAID1: a member is a whole disk or one of its partitions */
struct bl_md_member {
	size_t disk;	      /* index into bl_disk_plan.disks */
	int part;	      /* index into that disk's parts; -1: the whole disk */
	int index;	      /* its role, from 0 */
	bool corrupt;	      /* its superblock is overwritten with junk */
	char *field;	      /* "disks[1]" or "disks[0].partitions[1]" */
	struct bl_srcpos pos; /* its `raid:` mapping */
};

struct bl_md_array {
	char *name;  /* "md0": the 1.x set_name */
	char *field; /* where it was first defined: "arrays[0]" or "disks[0].raid" */
	enum bl_md_meta meta;
	int minor;	       /* 0.90 preferred minor */
	int raid_disks;	       /* every index below it has a member */
	uint64_t data_offset;  /* 1.2: requested sectors before the data; 0: default */
	struct bl_disk_fs *fs; /* the array's content, or NULL */
	struct bl_md_member *members;
	size_t nmembers;
	struct bl_srcpos pos; /* where it was first defined */
};

/* The plan owns every pointer in it (bl_disk_plan_release frees them);
 * the file names in the positions belong to whoever made the plan. */
struct bl_disk_plan {
	struct bl_disk *disks;
	size_t ndisks;
	struct bl_md_array *arrays;
	size_t narrays;
};
void bl_disk_plan_release(struct bl_disk_plan *p);
void bl_disk_fs_free(struct bl_disk_fs *fs);

/* ---- writing it ---- */

struct bl_disk_image {
	char *name;		 /* "d0" */
	char *path;		 /* WORKDIR/d0.img */
	char *cached;		 /* the cache's image it is a copy of, as built */
	bool absent;		 /* built, but not to be attached to the machine */
	unsigned long long size; /* bytes */
};

struct bl_disk_opts {
	const char *agent_path; /* host file that `agent:` places; NULL refuses them */
	const char *cache_dir;	/* NULL: bl_cache_dir()/disks */
	json_t *summary;	/* if not NULL: filled with {disks: [...], arrays: [...]} facts
				   (uuids as mdadm prints them, sizes, offsets) */
};

/* bl_disks_build's error when the message starts with the FILE:LINE:COL of
 * the plan's field at fault (any other error is -1) */
#define BL_DISK_ERR_AT (-2)

/* Build every disk of PLAN into WORKDIR as NAME.img. On success *OUT holds
 * plan->ndisks images in plan order (caller frees with
 * bl_disk_images_free). On error returns -1 or BL_DISK_ERR_AT, with a
 * message naming the field ("disks[0].filesystem: contents do not fit in
 * 4096 KiB"), and leaves neither cache entries nor workdir files behind. */
int bl_disks_build(const struct bl_disk_plan *plan, const char *workdir,
		   const struct bl_disk_opts *opts, struct bl_disk_image **out, size_t *nout);
void bl_disk_images_free(struct bl_disk_image *v, size_t n);

/* ---- pieces (used by the builder, exposed for tests and tools) ---- */

/* md RAID1 member superblocks. Offsets and sizes are in 512-byte sectors,
 * relative to the member (whole disk or partition). */
struct bl_md_geom {
	uint64_t sb_offset;   /* where the superblock goes */
	uint64_t data_offset; /* where the array's data starts */
	uint64_t avail;	      /* sectors usable for data on this member */
};
/* Where metadata META puts things on a member of DEV_SECTORS; DATA_OFFSET
 * is 1.2's requested data offset (0 = default 2048). -1 if too small. */
int bl_md_geometry(enum bl_md_meta meta, uint64_t dev_sectors, uint64_t data_offset,
		   struct bl_md_geom *g);
/* The array's size per member as mdadm chooses it: the smallest member's
 * usable sectors rounded down to 64 KiB (what the kernel's raid1 exports). */
uint64_t bl_md_array_sectors(uint64_t min_avail);

struct bl_md_params {
	enum bl_md_meta meta;
	uint8_t uuid[16];	/* array UUID (0.90: four host-endian words) */
	char name[32];		/* 1.x set_name, e.g. "md0" */
	int md_minor;		/* 0.90 preferred minor (md0 -> 0) */
	int raid_disks;		/* members in a full array */
	int index;		/* this member's role and number */
	uint64_t dev_sectors;	/* member size */
	uint64_t array_sectors; /* per-member data size the array uses */
	struct bl_md_geom geom;
	uint8_t dev_uuid[16]; /* 1.x device UUID */
	uint64_t time;	      /* ctime and utime (seconds) */
};
/* Write the superblock of one member at BASE (bytes into FD): clean,
 * events 1, no bitmap, every member active and in sync. */
int bl_md_write_sb(int fd, uint64_t base, const struct bl_md_params *p);
/* mdadm's printing of an array UUID ("a1b2c3d4:...:...:..."), OUT >= 36 */
void bl_md_uuid_str(enum bl_md_meta meta, const uint8_t uuid[16], char *out);

/* Partition tables. LBAs are 512-byte sectors. */
struct bl_part_entry {
	uint64_t start, sectors;
	uint8_t mbr_type;
	bool bootable;
	uint8_t gpt_type[16]; /* mixed-endian on-disk GUID bytes */
	uint8_t gpt_guid[16];
	const char *name; /* GPT partition name (ASCII), or NULL */
};
int bl_ptable_write_mbr(int fd, uint64_t disk_sectors, uint32_t signature,
			const struct bl_part_entry *p, size_t n);
int bl_ptable_write_gpt(int fd, uint64_t disk_sectors, const uint8_t disk_guid[16],
			const struct bl_part_entry *p, size_t n);
/* "0FC63DAF-8483-4772-8E79-3D69D8477DE4" -> on-disk bytes; -1 if malformed */
int bl_guid_parse(const char *s, uint8_t out[16]);
void bl_guid_str(const uint8_t g[16], char out[37]); /* the reverse, upper case */

/* md superblock checksums as the kernel computes them (md.c calc_sb_csum
 * and calc_sb_1_csum); SB points at the superblock's first byte */
uint32_t bl_md_csum_090(const void *sb); /* 4096-byte superblock */
uint32_t bl_md_csum_1(const void *sb);	 /* 256 + 2*max_dev bytes */

/* An empty (all holes) file of SIZE bytes at PATH, created or truncated */
int bl_disk_create_sparse(const char *path, uint64_t size);
/* Copy SRC to DST (created or truncated): FICLONE when possible, else
 * copy_file_range over the data extents only, so holes stay holes. */
int bl_disk_copy_sparse(const char *src, const char *dst);
/* S as one argument of a debugfs command file (-f): in double quotes, a
 * '"' doubled (debugfs' parser takes "" in quotes as one quote), so
 * spaces, quotes and '#' stay in the argument; -1 with a message naming
 * S when it holds a newline, which ends a command and cannot be quoted */
int bl_debugfs_arg(struct strbuf *sb, const char *s);

#endif
