/* harness/disk: a scenario's `disks:` (and `arrays:`) -> raw disk images.
 *
 * Everything is written by bootlab itself, without root, loop devices or
 * the md driver: MBR and GPT partition tables, md RAID1 superblocks
 * (metadata 0.90, 1.0, 1.2, checksums included) and ext2/3/4 filesystems
 * made by `mke2fs -d` from a staging folder. The schema is in
 * docs/disks.md. UUIDs, timestamps and mke2fs seeds derive from the
 * content, so the same input gives the same bytes.
 *
 * Images are cached under CACHE/disks/<hash>.img (hash of the whole disk
 * set's input, tree contents included, and the disk's name) and copied
 * (reflinked when the filesystem can, holes kept) into the per-boot
 * workdir, so a boot that writes never changes the cache. */
#ifndef BL_DISK_H
#define BL_DISK_H

#include "scenario/scenario.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bl_disk_image {
	char *name;		 /* "d0" */
	char *path;		 /* WORKDIR/d0.img */
	bool absent;		 /* built, but not to be attached to the machine */
	unsigned long long size; /* bytes */
};

struct bl_disk_opts {
	const json_t *arrays; /* the scenario's top-level `arrays:` list, or NULL */
	const char
	    *agent_path; /* host file that `agent: /sbin/init` entries place; NULL refuses them */
	const char *cache_dir; /* NULL: bl_cache_dir()/disks */
	json_t *summary;       /* if not NULL: filled with {disks: [...], arrays: [...]} facts
				  (uuids as mdadm prints them, sizes, offsets) */
};

/* Build every disk of SPECS into WORKDIR as NAME.img. Relative paths in
 * layouts (tree:, source:, image:) are resolved against SCENARIO_DIR.
 * On success *OUT holds N images in SPECS order (caller frees with
 * bl_disk_images_free). On error returns -1 with a message naming the field
 * ("disks[1].partitions[0].type: unknown partition type 'xx'") and leaves
 * neither cache entries nor workdir files behind. */
int bl_disks_build(const struct bl_disk_spec *specs, size_t n, const char *scenario_dir,
		   const char *workdir, const struct bl_disk_opts *opts, struct bl_disk_image **out,
		   size_t *nout);
void bl_disk_images_free(struct bl_disk_image *v, size_t n);

/* "64M", "1G", "512K", "4096", 4096 -> bytes (binary units). -1 on error. */
int bl_disk_parse_size(const json_t *v, unsigned long long *bytes);

/* ---- pieces (used by the builder, exposed for tests and tools) ---- */

/* md RAID1 member superblocks. Offsets and sizes are in 512-byte sectors,
 * relative to the member (whole disk or partition). */
enum bl_md_meta { BL_MD_090 = 90, BL_MD_10 = 10, BL_MD_12 = 12 };
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

/* md superblock checksums as the kernel computes them (md.c calc_sb_csum
 * and calc_sb_1_csum); SB points at the superblock's first byte */
uint32_t bl_md_csum_090(const void *sb); /* 4096-byte superblock */
uint32_t bl_md_csum_1(const void *sb);	 /* 256 + 2*max_dev bytes */

/* Copy SRC to DST (created or truncated): FICLONE when possible, else
 * copy_file_range over the data extents only, so holes stay holes. */
int bl_disk_copy_sparse(const char *src, const char *dst);

#endif
