/* md RAID superblocks written by bootlab, so that no md driver, loop device
 * or root is needed on the host. Layouts are the kernel's
 * include/uapi/linux/raid/md_p.h; where things go and what is checked
 * follows drivers/md/md.c (super_90_load, super_1_load). Only clean RAID1
 * arrays with every member active are written: that is what a fresh
 * `mdadm --create --assume-clean --bitmap=none` leaves behind. */
#include "disk.h"
#include "util/util.h"

#include <endian.h>
#include <linux/raid/md_p.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum bl_md_meta meta;
} meta_names[] = {
    {"0.90", BL_MD_090},
    {"1.0", BL_MD_10},
    {"1.2", BL_MD_12},
    /* what `metadata: 0.9` or `1` written as YAML numbers read as */
    {"0.9", BL_MD_090},
    {"0", BL_MD_090},
    {"1", BL_MD_10},
};

int bl_md_meta_parse(const char *s, enum bl_md_meta *m)
{
	for (size_t i = 0; i < BL_ARRAY_SIZE(meta_names); i++)
		if (!strcmp(s, meta_names[i].name)) {
			*m = meta_names[i].meta;
			return 0;
		}
	return bl_err("unknown metadata '%s' (known: 0.90, 1.0, 1.2)", s);
}

const char *bl_md_meta_name(enum bl_md_meta m)
{
	for (size_t i = 0; i < BL_ARRAY_SIZE(meta_names); i++)
		if (meta_names[i].meta == m)
			return meta_names[i].name;
	return "?";
}

uint32_t bl_md_csum_090(const void *sbp)
{
	/* md.c calc_sb_csum: 32-bit host-endian words with sb_csum taken as
	 * 0, summed into 64 bits, folded once */
	const mdp_super_t *sb = sbp;
	const uint32_t *w = sbp;
	size_t skip = offsetof(mdp_super_t, sb_csum) / 4;
	uint64_t sum = 0;
	(void)sb;
	for (size_t i = 0; i < MD_SB_BYTES / 4; i++)
		if (i != skip)
			sum += w[i];
	return (uint32_t)((sum & 0xffffffff) + (sum >> 32));
}

uint32_t bl_md_csum_1(const void *sbp)
{
	/* md.c calc_sb_1_csum: little-endian words over 256 + 2*max_dev bytes */
	const struct mdp_superblock_1 *sb = sbp;
	const uint8_t *p = sbp;
	size_t size = 256 + (size_t)le32toh(sb->max_dev) * 2;
	size_t skip = offsetof(struct mdp_superblock_1, sb_csum);
	uint64_t sum = 0;
	size_t off = 0;
	for (; size - off >= 4; off += 4) {
		uint32_t w;
		if (off == skip)
			continue;
		memcpy(&w, p + off, 4);
		sum += le32toh(w);
	}
	if (size - off == 2) {
		uint16_t h;
		memcpy(&h, p + off, 2);
		sum += le16toh(h);
	}
	return (uint32_t)((sum & 0xffffffff) + (sum >> 32));
}

int bl_md_geometry(enum bl_md_meta meta, uint64_t dev, uint64_t data_offset, struct bl_md_geom *g)
{
	memset(g, 0, sizeof(*g));
	switch (meta) {
	case BL_MD_090:
		if (dev < 2 * MD_RESERVED_SECTORS)
			return bl_err("member of %llu sectors is too small for metadata 0.90",
				      (unsigned long long)dev);
		/* MD_NEW_SIZE_SECTORS: the last 64K-aligned 64K block */
		g->sb_offset = (dev & ~(uint64_t)(MD_RESERVED_SECTORS - 1)) - MD_RESERVED_SECTORS;
		g->data_offset = 0;
		g->avail = g->sb_offset;
		break;
	case BL_MD_10:
		if (dev < 64 * 2)
			return bl_err("member of %llu sectors is too small for metadata 1.0",
				      (unsigned long long)dev);
		/* super_1_load minor 0: at least 8K, less than 12K from the end, 4K aligned */
		g->sb_offset = (dev - 8 * 2) & ~(uint64_t)(4 * 2 - 1);
		g->data_offset = 0;
		g->avail = g->sb_offset;
		break;
	case BL_MD_12:
		if (!data_offset)
			data_offset = 2048;
		if (data_offset < 16)
			return bl_err(
			    "data offset %llu is inside the 1.2 superblock (need >= 16 sectors)",
			    (unsigned long long)data_offset);
		if (dev < data_offset + 128)
			return bl_err("member of %llu sectors is too small for metadata 1.2 with "
				      "data at sector %llu",
				      (unsigned long long)dev, (unsigned long long)data_offset);
		g->sb_offset = 8; /* 4K from the start */
		g->data_offset = data_offset;
		g->avail = dev - data_offset;
		break;
	default:
		return bl_err("unknown md metadata %d", (int)meta);
	}
	return 0;
}

uint64_t bl_md_array_sectors(uint64_t min_avail)
{
	/* mdadm rounds the component size down to its 64K default chunk */
	return min_avail & ~(uint64_t)127;
}

void bl_md_uuid_str(enum bl_md_meta meta, const uint8_t u[16], char *out)
{
	if (meta == BL_MD_090) {
		/* four host-endian words, printed as numbers */
		uint32_t w[4];
		memcpy(w, u, 16);
		sprintf(out, "%08x:%08x:%08x:%08x", w[0], w[1], w[2], w[3]);
		return;
	}
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i && i % 4 == 0)
			*o++ = ':';
		o += sprintf(o, "%02x", u[i]);
	}
}

static int write_090(int fd, uint64_t base, const struct bl_md_params *p)
{
	mdp_super_t *sb = xcalloc(1, MD_SB_BYTES);
	uint32_t w[4];
	memcpy(w, p->uuid, 16);
	sb->md_magic = MD_SB_MAGIC;
	sb->major_version = 0;
	sb->minor_version = 90;
	sb->patch_version = 0;
	sb->set_uuid0 = w[0];
	sb->set_uuid1 = w[1];
	sb->set_uuid2 = w[2];
	sb->set_uuid3 = w[3];
	sb->ctime = (uint32_t)p->time;
	sb->level = 1;
	sb->size = (uint32_t)(p->array_sectors / 2); /* KiB */
	sb->nr_disks = (uint32_t)p->raid_disks;
	sb->raid_disks = (uint32_t)p->raid_disks;
	sb->md_minor = (uint32_t)p->md_minor;
	sb->not_persistent = 0;
	sb->utime = (uint32_t)p->time;
	sb->state = 1 << MD_SB_CLEAN;
	sb->active_disks = (uint32_t)p->raid_disks;
	sb->working_disks = (uint32_t)p->raid_disks;
	sb->failed_disks = 0;
	sb->spare_disks = 0;
	sb->events_lo = 1;
	sb->events_hi = 0;
	sb->cp_events_lo = 1;
	sb->cp_events_hi = 0;
	sb->recovery_cp = 0;
	sb->layout = 0;
	sb->chunk_size = 0;
	for (int i = 0; i < p->raid_disks && i < MD_SB_DISKS; i++) {
		sb->disks[i].number = (uint32_t)i;
		sb->disks[i].raid_disk = (uint32_t)i;
		sb->disks[i].state = (1 << MD_DISK_ACTIVE) | (1 << MD_DISK_SYNC);
	}
	sb->this_disk = sb->disks[p->index];
	sb->sb_csum = bl_md_csum_090(sb);
	int r = bl_pwrite_all(fd, sb, MD_SB_BYTES, base + p->geom.sb_offset * 512);
	free(sb);
	return r;
}

static int write_1(int fd, uint64_t base, const struct bl_md_params *p)
{
	/* one 4K block: the kernel reads that much; roles follow the header */
	uint8_t *blk = xcalloc(1, 4096);
	struct mdp_superblock_1 *sb = (struct mdp_superblock_1 *)blk;
	int max_dev = p->raid_disks;
	sb->magic = htole32(MD_SB_MAGIC);
	sb->major_version = htole32(1);
	sb->feature_map = 0; /* no bitmap, no bad-block log */
	memcpy(sb->set_uuid, p->uuid, 16);
	memcpy(sb->set_name, p->name, sizeof(sb->set_name));
	sb->ctime = htole64(p->time & MD_SUPERBLOCK_1_TIME_SEC_MASK);
	sb->level = htole32(1);
	sb->layout = 0;
	sb->size = htole64(p->array_sectors);
	sb->chunksize = 0;
	sb->raid_disks = htole32((uint32_t)p->raid_disks);
	sb->data_offset = htole64(p->geom.data_offset);
	sb->data_size = htole64(p->geom.avail);
	sb->super_offset = htole64(p->geom.sb_offset);
	sb->recovery_offset = 0;
	sb->dev_number = htole32((uint32_t)p->index);
	memcpy(sb->device_uuid, p->dev_uuid, 16);
	sb->utime = htole64(p->time & MD_SUPERBLOCK_1_TIME_SEC_MASK);
	sb->events = htole64(1);
	sb->resync_offset = htole64(UINT64_MAX); /* clean: nothing to resync */
	sb->max_dev = htole32((uint32_t)max_dev);
	for (int i = 0; i < max_dev; i++)
		sb->dev_roles[i] = htole16((uint16_t)i);
	sb->sb_csum = htole32(bl_md_csum_1(sb));
	int r = bl_pwrite_all(fd, blk, 4096, base + p->geom.sb_offset * 512);
	free(blk);
	return r;
}

int bl_md_write_sb(int fd, uint64_t base, const struct bl_md_params *p)
{
	if (p->raid_disks < 1 || p->index < 0 || p->index >= p->raid_disks ||
	    p->raid_disks > MD_SB_DISKS)
		return bl_err("bad md member %d of %d", p->index, p->raid_disks);
	if (p->meta == BL_MD_090)
		return write_090(fd, base, p);
	return write_1(fd, base, p);
}
