/* The md layer of a root stack (raid1, raid5, raid10), written by mdadm
 * itself: metadata 1.2 over every device below, the UUID fixed (derived
 * from the stack's cache key), named "root" on homehost "bootlab".
 * --assume-clean: the members are all zeros, so mirrors are in sync and
 * RAID5's parity (the XOR of zeros) is right before the filesystem is
 * written through the array. RAID10 is the near layout with two copies
 * (n2, mdadm's default) over four members: striped mirrors. */
#include "builder/internal.h"

#include <stdlib.h>

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
