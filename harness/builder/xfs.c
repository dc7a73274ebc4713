/* The xfs filesystem of a root stack, made by mkfs.xfs itself on the top
 * device in the builder guest: the filesystem bootlab made (an ext4
 * image, the last disk: the agent as /sbin/init, the --root tree, the
 * label and UUID --root-by asks for) is mounted read-only and its files
 * are copied onto the new xfs with `cp -a`. mkfs.xfs refuses filesystems
 * under 300 MiB unless told --unsupported (its fstests escape): a root
 * stack's filesystem is as small as its files. */
#include "builder/internal.h"

#include <stdlib.h>

const char *const bu_xfs_tools[2] = {"/sbin/mkfs.xfs", "/usr/sbin/xfs_db"};

void bu_xfs_make(struct bu_script *s, const char *fs_dev)
{
	struct strbuf sh = STRBUF_INIT;
	const char *top = s->devs.v[0];
	sb_addf(&sh, "mkfs.xfs -f --unsupported%s%s%s%s %s\n", s->fs_label ? " -L " : "",
		s->fs_label ? s->fs_label : "", s->fs_uuid ? " -m uuid=" : "",
		s->fs_uuid ? s->fs_uuid : "", top);
	sb_addf(&sh,
		"mkdir -p /mnt/src /mnt/dst\n"
		"mount -t ext4 -o ro %s /mnt/src\n"
		"mount -t xfs %s /mnt/dst\n"
		"cp -a /mnt/src/. /mnt/dst/\n"
		"rm -rf /mnt/dst/lost+found\n"
		"umount /mnt/dst\n"
		"umount /mnt/src\n",
		fs_dev, top);
	bu_add(s, xstrdup("xfs: mkfs.xfs, copy the files"), sb_detach(&sh, NULL));
}

void bu_xfs_report(struct bu_script *s)
{
	bu_add(
	    s, xstrdup("xfs: xfs_db"),
	    xasprintf("xfs_db -r -c 'sb 0' -c 'p magicnum uuid fname dblocks' %s\n", s->devs.v[0]));
}
