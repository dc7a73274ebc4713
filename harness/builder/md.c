/* The md layer of a root stack (raid1, raid5, raid10), written by mdadm
 * itself: metadata 1.2 over every device below, the UUID fixed (derived
 * from the stack's cache key), named "root" on homehost "bootlab".
 * --assume-clean: the members are all zeros, so mirrors are in sync and
 * RAID5's parity (the XOR of zeros) is right before the filesystem is
 * written through the array. RAID10 is the near layout with two copies
 * (n2, mdadm's default) over four members: striped mirrors.
 * bl_stack_md_corrupt() breaks a work copy's superblock afterwards, for
 * `bootlab gate --degraded=corrupt`. */
#include "builder/builder.h"
#include "builder/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* where mdadm's metadata 1.2 puts the superblock, its magic (little
 * endian) and the array name (set_name[32]) within it */
#define SB12_OFFSET 4096
#define SB_MAGIC 0xa92b4efcu
#define SB_NAME 32

/* mdadm's --level and --layout for L */
static const char *md_level(enum bl_layer l)
{
	switch (l) {
	case BL_LAYER_RAID5:
		return "--level=5 --layout=left-symmetric";
	case BL_LAYER_RAID10:
		return "--level=10 --layout=n2";
	default:
		return "--level=1";
	}
}

void bu_md_create(struct bu_script *s, enum bl_layer l)
{
	struct strbuf sh = STRBUF_INIT;
	sb_addf(&sh,
		"mdadm --create " BL_STACK_MD_DEV " --run --assume-clean --metadata=1.2 "
		"%s --raid-devices=%zu --uuid=%s --name=root --homehost=bootlab",
		md_level(l), s->devs.n, s->md_uuid);
	for (size_t i = 0; i < s->devs.n; i++)
		sb_addf(&sh, " %s", s->devs.v[i]);
	sb_adds(&sh, "\ncat /proc/mdstat\n");
	bu_add(s, xasprintf("%s: mdadm --create", bl_layer_name(l)), sb_detach(&sh, NULL));
	sl_release(&s->devs);
	sl_push(&s->devs, BL_STACK_MD_DEV);
}

void bu_md_stop(struct bu_script *s, enum bl_layer l)
{
	bu_add(s, xasprintf("%s: mdadm --stop", bl_layer_name(l)),
	       xstrdup("mdadm --stop " BL_STACK_MD_DEV "\n"));
}

void bu_md_report(struct bu_script *s, enum bl_layer l)
{
	struct strbuf sh = STRBUF_INIT;
	sb_adds(&sh, "mdadm --examine");
	for (size_t i = 0; i < s->members.n; i++)
		sb_addf(&sh, " %s", s->members.v[i]);
	sb_addc(&sh, '\n');
	bu_add(s, xasprintf("%s: mdadm --examine", bl_layer_name(l)), sb_detach(&sh, NULL));
}

/* the member's superblock: its magic read at SB12_OFFSET, 0 when it is
 * there */
static int sb_magic_ok(int fd, const char *member)
{
	uint8_t m[4];
	if (pread(fd, m, sizeof(m), SB12_OFFSET) != (ssize_t)sizeof(m))
		return bl_err("'%s': no md superblock at 4 KiB (too short)", member);
	uint32_t v =
	    (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
	if (v != SB_MAGIC)
		return bl_err("'%s': no md superblock at 4 KiB (magic %08x)", member, v);
	return 0;
}

int bl_stack_md_corrupt(const char *member)
{
	int fd = open(member, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return bl_err_errno("cannot open '%s'", member);
	int rc = sb_magic_ok(fd, member);
	uint8_t c = 0;
	if (rc == 0 && pread(fd, &c, 1, SB12_OFFSET + SB_NAME) != 1)
		rc = bl_err_errno("cannot read '%s'", member);
	c ^= 0x20; /* "bootlab:root" -> "Bootlab:root" */
	if (rc == 0 && pwrite(fd, &c, 1, SB12_OFFSET + SB_NAME) != 1)
		rc = bl_err_errno("cannot write '%s'", member);
	if (close(fd) < 0 && rc == 0)
		rc = bl_err_errno("cannot write '%s'", member);
	return rc;
}
