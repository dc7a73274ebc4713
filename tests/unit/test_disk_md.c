/* md superblocks: the checksum functions against superblocks that Debian's
 * mdadm wrote in a guest (tests/data/md/make-golden.sh, 24 MiB members),
 * and bootlab's writer against the same geometry and fields. */
#include "disk/disk.h"
#include "t.h"
#include "util/util.h"

#include <endian.h>
#include <linux/raid/md_p.h>
#include <stdlib.h>
#include <unistd.h>

#define MEMBER_SECTORS (24ULL * 1024 * 1024 / 512)

static char *golden(const char *name, size_t *len)
{
	char *path = xasprintf("tests/data/md/%s", name);
	char *data = NULL;
	if (bl_read_file(path, &data, len) < 0)
		data = NULL;
	free(path);
	return data;
}

/* write our superblock for META on a 24 MiB member into a buffer */
static int ours(enum bl_md_meta meta, uint8_t *buf, struct bl_md_geom *g)
{
	char tmpl[] = "/tmp/bl-md-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0)
		return -1;
	unlink(tmpl);
	struct bl_md_params p = {.meta = meta, .md_minor = 0, .raid_disks = 2, .index = 0};
	if (bl_md_geometry(meta, MEMBER_SECTORS, 0, g) < 0)
		return -1;
	p.geom = *g;
	p.dev_sectors = MEMBER_SECTORS;
	p.array_sectors = bl_md_array_sectors(g->avail);
	p.time = 1704067200;
	memset(p.uuid, 0x5a, 16);
	snprintf(p.name, sizeof(p.name), "md0");
	int r = bl_md_write_sb(fd, 0, &p);
	if (!r && pread(fd, buf, 4096, (off_t)(g->sb_offset * 512)) != 4096)
		r = -1;
	close(fd);
	return r;
}

static void test_090(void)
{
	size_t len;
	char *g = golden("mdadm-0.90.sb", &len);
	if (!T_OK(g && len == 4096, "0.90: golden superblock readable")) {
		free(g);
		return;
	}
	mdp_super_t *sb = (mdp_super_t *)g;
	T_EQ_INT(sb->md_magic, MD_SB_MAGIC, "0.90: golden magic");
	T_EQ_INT(bl_md_csum_090(sb), sb->sb_csum, "0.90: checksum equals mdadm's");
	g[100] ^= 1;
	T_OK(bl_md_csum_090(sb) != sb->sb_csum, "0.90: checksum changes with the content");
	g[100] ^= 1;

	uint8_t buf[4096];
	struct bl_md_geom geom;
	T_OK(ours(BL_MD_090, buf, &geom) == 0, "0.90: written");
	mdp_super_t *o = (mdp_super_t *)buf;
	T_EQ_INT(o->sb_csum, bl_md_csum_090(o), "0.90: ours has a right checksum");
	T_EQ_INT(geom.sb_offset, (MEMBER_SECTORS & ~127ULL) - 128, "0.90: superblock offset");
	T_EQ_INT(o->size, sb->size, "0.90: size (KiB) equals mdadm's");
	T_EQ_INT(o->major_version, sb->major_version, "0.90: major");
	T_EQ_INT(o->minor_version, sb->minor_version, "0.90: minor");
	T_EQ_INT(o->level, sb->level, "0.90: level");
	T_EQ_INT(o->raid_disks, sb->raid_disks, "0.90: raid disks");
	T_EQ_INT(o->nr_disks, sb->nr_disks, "0.90: nr disks");
	T_EQ_INT(o->md_minor, sb->md_minor, "0.90: preferred minor");
	T_EQ_INT(o->state, sb->state, "0.90: state (clean)");
	T_EQ_INT(o->active_disks, sb->active_disks, "0.90: active disks");
	T_EQ_INT(o->this_disk.state, sb->this_disk.state, "0.90: this disk active+sync");
	T_EQ_INT(o->disks[1].state, sb->disks[1].state, "0.90: other disk active+sync");
	T_EQ_INT(o->this_disk.raid_disk, sb->this_disk.raid_disk, "0.90: role");
	free(g);
}

static void test_1(enum bl_md_meta meta, const char *file, uint64_t want_sb)
{
	const char *v = meta == BL_MD_10 ? "1.0" : "1.2";
	size_t len;
	char *g = golden(file, &len);
	if (!T_OK(g && len == 4096, "%s: golden superblock readable", v)) {
		free(g);
		return;
	}
	struct mdp_superblock_1 *sb = (struct mdp_superblock_1 *)g;
	T_EQ_INT(le32toh(sb->magic), MD_SB_MAGIC, "%s: golden magic", v);
	T_EQ_INT(bl_md_csum_1(sb), le32toh(sb->sb_csum), "%s: checksum equals mdadm's", v);
	g[40] ^= 1;
	T_OK(bl_md_csum_1(sb) != le32toh(sb->sb_csum), "%s: checksum changes with the content", v);
	g[40] ^= 1;

	uint8_t buf[4096];
	struct bl_md_geom geom;
	T_OK(ours(meta, buf, &geom) == 0, "%s: written", v);
	struct mdp_superblock_1 *o = (struct mdp_superblock_1 *)buf;
	T_EQ_INT(le32toh(o->sb_csum), bl_md_csum_1(o), "%s: ours has a right checksum", v);
	T_EQ_INT(geom.sb_offset, want_sb, "%s: superblock offset (kernel rule)", v);
	T_EQ_INT(le64toh(o->super_offset), le64toh(sb->super_offset),
		 "%s: super_offset equals mdadm's", v);
	T_EQ_INT(le64toh(o->data_offset), le64toh(sb->data_offset),
		 "%s: data_offset equals mdadm's", v);
	T_EQ_INT(le64toh(o->size), le64toh(sb->size), "%s: array size equals mdadm's", v);
	T_EQ_INT(le32toh(o->level), le32toh(sb->level), "%s: level", v);
	T_EQ_INT(le32toh(o->raid_disks), le32toh(sb->raid_disks), "%s: raid disks", v);
	T_EQ_INT(le32toh(o->feature_map), le32toh(sb->feature_map), "%s: feature map", v);
	T_EQ_INT(le64toh(o->resync_offset), le64toh(sb->resync_offset), "%s: clean", v);
	T_EQ_INT(le32toh(o->dev_number), le32toh(sb->dev_number), "%s: dev number", v);
	T_EQ_INT(le16toh(o->dev_roles[0]), le16toh(sb->dev_roles[0]), "%s: role 0", v);
	T_EQ_INT(le16toh(o->dev_roles[1]), le16toh(sb->dev_roles[1]), "%s: role 1", v);
	T_OK(le64toh(o->data_size) <= le64toh(sb->data_size) + 128,
	     "%s: data size %llu close to mdadm's %llu", v,
	     (unsigned long long)le64toh(o->data_size), (unsigned long long)le64toh(sb->data_size));
	free(g);
}

static void test_uuid(void)
{
	uint8_t u[16];
	char s[40];
	for (int i = 0; i < 16; i++)
		u[i] = (uint8_t)(i * 17);
	bl_md_uuid_str(BL_MD_12, u, s);
	T_EQ_STR(s, "00112233:44556677:8899aabb:ccddeeff", "1.x uuid printed as bytes");
	bl_md_uuid_str(BL_MD_090, u, s);
	T_EQ_STR(s, "33221100:77665544:bbaa9988:ffeeddcc", "0.90 uuid printed as LE words");
}

int main(void)
{
	test_090();
	test_1(BL_MD_10, "mdadm-1.0.sb", (MEMBER_SECTORS - 16) & ~7ULL);
	test_1(BL_MD_12, "mdadm-1.2.sb", 8);
	test_uuid();
	return t_done();
}
