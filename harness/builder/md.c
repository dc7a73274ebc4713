/* The md RAID1 layer of a root stack, written by mdadm itself: metadata
 * 1.2 over every device below, the UUID fixed (derived from the stack's
 * cache key), named "root" on homehost "bootlab". --assume-clean: the
 * members are all zeros, so they are in sync before the filesystem is
 * written through the array. */
#include "builder/internal.h"

#include <stdlib.h>

void bu_md_create(struct bu_script *s)
{
	struct strbuf sh = STRBUF_INIT;
	sb_addf(&sh,
		"mdadm --create " BL_STACK_MD_DEV " --run --assume-clean --metadata=1.2 "
		"--level=1 --raid-devices=%zu --uuid=%s --name=root --homehost=bootlab",
		s->devs.n, s->md_uuid);
	for (size_t i = 0; i < s->devs.n; i++)
		sb_addf(&sh, " %s", s->devs.v[i]);
	sb_adds(&sh, "\ncat /proc/mdstat\n");
	bu_add(s, "raid1: mdadm --create", sb_detach(&sh, NULL));
	sl_release(&s->devs);
	sl_push(&s->devs, BL_STACK_MD_DEV);
}

void bu_md_stop(struct bu_script *s)
{
	bu_add(s, "raid1: mdadm --stop", xstrdup("mdadm --stop " BL_STACK_MD_DEV "\n"));
}

void bu_md_report(struct bu_script *s)
{
	struct strbuf sh = STRBUF_INIT;
	sb_adds(&sh, "mdadm --examine");
	for (size_t i = 0; i < s->members.n; i++)
		sb_addf(&sh, " %s", s->members.v[i]);
	sb_addc(&sh, '\n');
	bu_add(s, "raid1: mdadm --examine", sb_detach(&sh, NULL));
}
