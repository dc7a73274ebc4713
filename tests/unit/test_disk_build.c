/* harness/disk end to end from YAML: scenario files loaded by the real
 * loader, disks built into a private cache and workdir, the bytes checked
 * where the kernel looks for them; then bad layouts, each an error naming
 * its field at its FILE:LINE, found when the scenario loads or (capacity)
 * when the images are laid out, with nothing left behind. */
#include "disk/disk.h"
#include "scenario/scenario.h"
#include "t.h"
#include "util/util.h"

#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/raid/md_p.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmp;

static int load(const char *yaml, struct bl_scenario_set *set)
{
	char *dir = xasprintf("%s/s", tmp);
	char *file = xasprintf("%s/s/t.yaml", tmp);
	bl_mkdir_p(dir, 0755);
	int r = bl_write_file_atomic(file, yaml, strlen(yaml), 0644);
	memset(set, 0, sizeof(*set));
	if (!r)
		r = bl_scenario_load(file, NULL, set);
	free(dir);
	free(file);
	return r;
}

static int build(const struct bl_scenario *s, struct bl_disk_image **imgs, size_t *n, json_t *sum)
{
	char *work = xasprintf("%s/work", tmp), *cache = xasprintf("%s/cache", tmp);
	struct bl_disk_opts o = {.agent_path = "/bin/true", .cache_dir = cache, .summary = sum};
	int r = bl_disks_build(&s->disks, work, &o, imgs, n);
	free(work);
	free(cache);
	return r;
}

static int read_at(const char *path, uint64_t off, void *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t r = pread(fd, buf, n, (off_t)off);
	close(fd);
	return r == (ssize_t)n ? 0 : -1;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
	if (d)
		closedir(d);
	return n;
}

static const char raid_yaml[] =
    "name: raid\n"
    "disks:\n"
    "  - name: d0\n"
    "    size: 48M\n"
    "    ptable: mbr\n"
    "    partitions:\n"
    "      - {size: 4M, type: 83}\n"
    "      - size: rest\n"
    "        type: fd\n"
    "        raid: {array: md0, member: 0, metadata: \"0.90\", level: 1,\n"
    "               filesystem: {type: ext4, agent: /sbin/init, label: root}}\n"
    "  - name: d1\n"
    "    size: 48M\n"
    "    ptable: mbr\n"
    "    partitions:\n"
    "      - {size: 4M, type: linux}\n"
    "      - {size: rest, type: linux-raid, raid: {array: md0, member: 1, corrupt: true}}\n"
    "  - name: d2\n"
    "    size: 32M\n"
    "    absent: true\n"
    "    filesystem: {type: ext4}\n"
    "steps:\n"
    "  - hello:\n";

static void test_raid_from_yaml(void)
{
	struct bl_scenario_set set;
	if (!T_OK(load(raid_yaml, &set) == 0 && set.n == 1, "raid scenario loads: %s", bl_errmsg()))
		return;
	struct bl_disk_image *imgs = NULL;
	size_t n = 0;
	json_t *sum = json_object();
	int r = build(set.v[0], &imgs, &n, sum);
	if (T_OK(r == 0 && n == 3, "built: %s", r ? bl_errmsg() : "3 images")) {
		T_EQ_STR(imgs[0].name, "d0", "image 0 name");
		T_OK(!imgs[0].absent && imgs[2].absent, "absent flag carried");
		struct stat st;
		T_OK(stat(imgs[1].path, &st) == 0 && st.st_size == 48 << 20, "d1 is 48M");

		/* MBR: partition 2 of type fd starting at 1 MiB + 4 MiB */
		uint8_t mbr[512];
		T_OK(read_at(imgs[0].path, 0, mbr, 512) == 0, "read mbr");
		T_EQ_INT(mbr[510] | mbr[511] << 8, 0xaa55, "mbr signature");
		T_EQ_INT(mbr[446 + 4], 0x83, "partition 1 type 83 (YAML 83 read as hex)");
		T_EQ_INT(mbr[446 + 16 + 4], 0xfd, "partition 2 type fd");
		uint32_t start, count;
		memcpy(&start, mbr + 446 + 16 + 8, 4);
		memcpy(&count, mbr + 446 + 16 + 12, 4);
		T_EQ_INT(le32toh(start), 2048 + 8192, "partition 2 start");
		T_EQ_INT(le32toh(count), 48 * 2048 - 2048 - 8192, "partition 2 takes the rest");

		/* 0.90 superblock where md_autodetect looks: MD_NEW_SIZE_SECTORS */
		uint64_t psz = le32toh(count);
		uint64_t sbo = (psz & ~127ULL) - 128;
		mdp_super_t sb;
		T_OK(read_at(imgs[0].path, (le32toh(start) + sbo) * 512, &sb, sizeof(sb)) == 0,
		     "read sb");
		T_EQ_INT(sb.md_magic, MD_SB_MAGIC, "d0p2: 0.90 magic at the end");
		T_EQ_INT(sb.minor_version, 90, "d0p2: 0.90");
		T_EQ_INT(sb.md_minor, 0, "d0p2: preferred minor 0 (md0)");
		T_EQ_INT(sb.sb_csum, bl_md_csum_090(&sb), "d0p2: checksum");
		T_EQ_INT(sb.size, sbo / 2, "d0p2: size in KiB");
		T_OK(read_at(imgs[1].path, (le32toh(start) + sbo) * 512, &sb, sizeof(sb)) == 0,
		     "read corrupt sb");
		T_OK(sb.md_magic != MD_SB_MAGIC, "d1p2: corrupt member has no magic");

		/* ext4 magic in the array content at offset 0 and in d2 */
		uint8_t m[2];
		T_OK(read_at(imgs[0].path, le32toh(start) * 512ULL + 1024 + 56, m, 2) == 0 &&
			 m[0] == 0x53 && m[1] == 0xef,
		     "array content is ext4");
		T_OK(read_at(imgs[2].path, 1024 + 56, m, 2) == 0 && m[0] == 0x53 && m[1] == 0xef,
		     "whole-disk ext4");
		json_t *a =
		    json_object_get(json_array_get(json_object_get(sum, "arrays"), 0), "metadata");
		T_EQ_STR(json_string_value(a), "0.90", "summary: metadata");

		/* built again: from the cache, same bytes */
		char *cache = xasprintf("%s/cache", tmp);
		size_t before = count_entries(cache);
		struct bl_disk_image *again = NULL;
		size_t n2;
		T_OK(build(set.v[0], &again, &n2, NULL) == 0, "rebuilt");
		T_EQ_INT(count_entries(cache), before, "rebuild adds nothing to the cache");
		bl_disk_images_free(again, n2);
		free(cache);
	}
	json_decref(sum);
	bl_disk_images_free(imgs, n);
	bl_scenario_set_release(&set);
}

static const char arrays_yaml[] =
    "name: arrays\n"
    "arrays:\n"
    "  - {name: md3, level: 1, metadata: \"1.0\", filesystem: {type: ext4, agent: /sbin/init}}\n"
    "disks:\n"
    "  - name: d0\n"
    "    size: 40M\n"
    "    table: gpt\n"
    "    partitions:\n"
    "      - {size: 32M, type: linux-raid, raid: {array: md3, member: 0}}\n"
    "  - {name: d1, size: 40M, raid: {array: md3, member: 1}}\n"
    "steps:\n"
    "  - hello:\n";

static void test_arrays_from_yaml(void)
{
	struct bl_scenario_set set;
	if (!T_OK(load(arrays_yaml, &set) == 0 && set.n == 1, "arrays: scenario loads: %s",
		  bl_errmsg()))
		return;
	struct bl_disk_image *imgs = NULL;
	size_t n = 0;
	json_t *sum = json_object();
	int r = build(set.v[0], &imgs, &n, sum);
	if (T_OK(r == 0 && n == 2, "arrays: built: %s", r ? bl_errmsg() : "2 images")) {
		json_t *a = json_array_get(json_object_get(sum, "arrays"), 0);
		T_EQ_STR(json_string_value(json_object_get(a, "metadata")), "1.0",
			 "arrays: metadata from the top-level list");
		T_EQ_INT(json_integer_value(json_object_get(a, "minor")), 3,
			 "arrays: md3 -> minor 3");
		/* the smaller member (a 32M partition) sets the size */
		uint64_t p = 32ULL * 2048;
		T_EQ_INT(json_integer_value(json_object_get(a, "size_kib")),
			 (((p - 16) & ~7ULL) & ~127ULL) / 2,
			 "arrays: size from the smaller member");
		struct mdp_superblock_1 sb;
		T_OK(read_at(imgs[0].path, (2048 + ((p - 16) & ~7ULL)) * 512, &sb, sizeof(sb)) ==
			     0 &&
			 le32toh(sb.magic) == MD_SB_MAGIC,
		     "arrays: 1.0 superblock at the end of the GPT partition");
	}
	json_decref(sum);
	bl_disk_images_free(imgs, n);
	bl_scenario_set_release(&set);
}

static const struct bad {
	const char *disks; /* YAML under disks:, from line 3 */
	int line;	   /* where the message points */
	bool at_build;	   /* found while laying out or writing, not when loading */
	const char *msg;   /* the error must contain this */
} bads[] = {
    {"  - {name: d0, size: 64M, ptable: mbr, partitions: [{size: 8M, type: xx}]}\n", 3, false,
     "disks[0].partitions[0].type: unknown partition type 'xx'"},
    {"  - {name: d0, size: 64M, ptable: mbr, partitions: [{size: 8M, type: home}]}\n", 3, false,
     "disks[0].partitions[0].type: partition type 'home' exists only in a GPT"},
    {"  - {name: d0, size: 64M, ptable: mbr, partitions: [{size: 80M}]}\n", 3, true,
     "disks[0].partitions[0].size: partition of 81920 KiB"},
    {"  - {name: d0, size: 64M, table: gpt, partitions: [{size: 40M}, {size: 40M}]}\n", 3, true,
     "disks[0].partitions[1].size:"},
    {"  - {name: d0, size: 64M, table: gpt, partitions: [{size: rest}, {size: 4M}]}\n", 3, false,
     "disks[0].partitions[0].size: only the last partition can take the rest"},
    {"  - {name: d0, size: 64M, ptable: mbr, partitions: [{size: 1M}, {size: 1M}, {size: 1M}, "
     "{size: 1M}, {size: 1M}]}\n",
     3, false, "disks[0].partitions: an MBR holds at most 4"},
    {"  - {name: d0, size: 4M, filesystem: {type: ext4, size: 8M}}\n", 3, true,
     "disks[0].filesystem.size: 8192 KiB is larger than the disk (4096 KiB)"},
    {"  - {name: d0, size: 4M, filesystem: {type: xfs}}\n", 3, false,
     "disks[0].filesystem.type: unknown filesystem type 'xfs'"},
    {"  - {name: d0, size: 4M, filesystem: {tree: /usr/share}}\n", 3, true,
     "disks[0].filesystem: contents do not fit in 4096 KiB"},
    {"  - {name: d0, size: 4M, filesystem: {files: [{path: etc/x, content: y}]}}\n", 3, false,
     "disks[0].filesystem.files[0].path: expected an absolute path"},
    {"  - {name: d0, size: 4M, filesystem: {files: [{path: /x, content: y, mode: 999}]}}\n", 3,
     false, "disks[0].filesystem.files[0].mode: expected octal"},
    {"  - {name: d0, size: 4M, filesystem: {colour: red}}\n", 3, false,
     "disks[0].filesystem: unknown key 'colour'"},
    {"  - {name: d0, size: 64M, raid: {array: md0, member: 0}}\n"
     "  - {name: d1, size: 64M, raid: {array: md0, member: 0, level: 1}}\n",
     4, false, "disks[1].raid.member: member 0 of 'md0' is already disks[0]"},
    {"  - {name: d0, size: 64M, raid: {array: md0, member: 1, level: 1}}\n", 3, false,
     "disks[0].raid: member 0 of 'md0' is missing"},
    {"  - {name: d0, size: 64M, raid: {array: md0, member: 0, devices: 2}}\n", 3, false,
     "disks[0].raid: member 1 of 'md0' is missing"},
    {"  - {name: d0, size: 64M, raid: {array: md0, member: 0, metadata: \"1.1\"}}\n", 3, false,
     "disks[0].raid.metadata: unknown metadata '1.1' (known: 0.90, 1.0, 1.2)"},
    {"  - {name: d0, size: 64M, raid: {array: md0, member: 0, level: 5}}\n", 3, false,
     "disks[0].raid.level: only RAID1"},
    {"  - {name: d0, size: 64M, raid: {array: md0, member: 0, metadata: \"1.0\"}}\n"
     "  - {name: d1, size: 64M, raid: {array: md0, member: 1, metadata: \"1.2\"}}\n",
     4, false, "disks[1].raid.metadata: \"1.2\" differs from disks[0].raid.metadata"},
    {"  - {name: d0, size: 64M, raid: {array: md0}}\n", 3, false, "disks[0].raid.member: missing"},
    {"  - {name: d0, size: 64M, raid: {member: 0}}\n", 3, false, "disks[0].raid.array: missing"},
    {"  - {name: d0, size: 64M, raid: {array: md0, member: 0}}\n", 3, false,
     "disks[0].raid.array: unknown array 'md0'"},
    {"  - {name: d0, size: 64M, filesystem: {type: ext4}, raid: {array: md0, member: 0, "
     "level: 1}}\n",
     3, false, "disks[0].filesystem: a raid member's content is its array's filesystem"},
    {"  - {name: d0, size: 64M, raid: {array: md0, member: 0, level: 1, filesystem: {size: "
     "100M}}}\n",
     3, true, "disks[0].raid.filesystem.size: 102400 KiB is larger than the array"},
    {"  - {name: d0, size: 64K, raid: {array: md0, member: 0, level: 1}}\n", 3, true,
     "disks[0].raid: member of 128 sectors is too small for metadata 1.2"},
    {"  - {name: d0, size: 64M, filesystem: {agent: sbin/init}}\n", 3, false,
     "disks[0].filesystem.agent: 'sbin/init' must be an absolute path"},
};

/* the error of bad layout I: from the loader, or from the build */
static const char *bad_error(size_t i, bool *at_build)
{
	char *y = xasprintf("name: bad\ndisks:\n%ssteps:\n  - console: login\n", bads[i].disks);
	struct bl_scenario_set set;
	const char *m = "(no error)";
	*at_build = false;
	if (load(y, &set) < 0) {
		m = bl_errmsg();
	} else {
		struct bl_disk_image *imgs = NULL;
		size_t n = 0;
		int r = build(set.v[0], &imgs, &n, NULL);
		*at_build = true;
		if (r == BL_DISK_ERR_AT)
			m = bl_errmsg();
		else if (r < 0)
			m = "(an error without its position)";
		bl_disk_images_free(imgs, n);
		bl_scenario_set_release(&set);
	}
	free(y);
	return m;
}

static void test_bad(void)
{
	char *cache = xasprintf("%s/cache", tmp);
	char *work = xasprintf("%s/work", tmp);
	for (size_t i = 0; i < BL_ARRAY_SIZE(bads); i++) {
		bl_rm_rf(cache);
		bl_rm_rf(work);
		bool at_build;
		const char *m = bad_error(i, &at_build);
		char at[32];
		snprintf(at, sizeof(at), "/t.yaml:%d:", bads[i].line);
		if (!T_OK(strstr(m, at) && strstr(m, bads[i].msg),
			  "bad %zu: error names the field at "
			  "line %d",
			  i, bads[i].line))
			printf("#   got '%s'\n#   want '%s' at %s\n", m, bads[i].msg, at);
		T_OK(at_build == bads[i].at_build, "bad %zu: found %s", i,
		     bads[i].at_build ? "while building" : "when loading");
		T_OK(count_entries(work) == 0 && count_entries(cache) == 0,
		     "bad %zu: nothing left in workdir or cache", i);
	}
	free(cache);
	free(work);
}

/* every size in a disk layout reads the same way */
static void test_sizes(void)
{
	static const struct {
		const char *in;
		long long want;
	} t[] = {{"64M", 64LL << 20}, {"1G", 1LL << 30}, {"512K", 512 << 10}, {"4096", 4096},
		 {"2MiB", 2 << 20},   {"x", -1},	 {"0", -1},	      {"5Q", -1}};
	for (size_t i = 0; i < BL_ARRAY_SIZE(t); i++) {
		char *y = xasprintf("name: s\ndisks:\n  - {name: d0, size: %s}\nsteps:\n"
				    "  - console: x\n",
				    t[i].in);
		struct bl_scenario_set set;
		long long got = load(y, &set) < 0 ? -1 : (long long)set.v[0]->disks.disks[0].size;
		T_EQ_INT(got, t[i].want, "size '%s'", t[i].in);
		if (got >= 0)
			bl_scenario_set_release(&set);
		free(y);
	}
}

int main(void)
{
	tmp = bl_mktemp_dir("disk-test");
	if (!tmp) {
		printf("Bail out! %s\n", bl_errmsg());
		return 1;
	}
	test_sizes();
	test_raid_from_yaml();
	test_arrays_from_yaml();
	test_bad();
	bl_rm_rf(tmp);
	free(tmp);
	return t_done();
}
