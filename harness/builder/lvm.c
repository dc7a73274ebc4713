/* The LVM layer of a root stack, written by lvm2 itself: one PV on the
 * device below, the VG BL_STACK_VG, the LV BL_STACK_LV just large enough
 * for the filesystem (whole 4 MiB extents). The builder guest has no
 * udev: lvm makes the /dev nodes itself (bu_lvm_conf). */
#include "builder/internal.h"

#include <stdlib.h>

const char bu_lvm_conf[] = "devices {\n"
			   "\tobtain_device_list_from_udev = 0\n"
			   "\texternal_device_info_source = \"none\"\n"
			   "\tuse_aio = 0\n"
			   "}\n"
			   "activation {\n"
			   "\tudev_sync = 0\n"
			   "\tudev_rules = 0\n"
			   "\tmonitoring = 0\n"
			   "}\n"
			   "global {\n"
			   "\tlocking_dir = \"/run/lock/lvm\"\n"
			   "}\n";

#define EXTENT (4ULL << 20)
/* the agent's run keeps an fd open that lvm would warn about */
#define LVM_ENV "export LVM_SUPPRESS_FD_WARNINGS=1\n"

void bu_lvm_create(struct bu_script *s, enum bl_layer l)
{
	unsigned long long lv = (s->fs_bytes + EXTENT - 1) / EXTENT * EXTENT;
	struct strbuf sh = STRBUF_INIT;
	const char *pv = s->devs.v[0];
	sb_adds(&sh, LVM_ENV);
	sb_addf(&sh, "lvm pvcreate -y %s\n", pv);
	sb_addf(&sh, "lvm vgcreate -y -s 4m " BL_STACK_VG " %s\n", pv);
	sb_addf(&sh, "lvm lvcreate -y -W n -n " BL_STACK_LV " -L %llub " BL_STACK_VG "\n", lv);
	bu_add(s, xstrdup("lvm: pvcreate, vgcreate, lvcreate"), sb_detach(&sh, NULL));
	sl_release(&s->devs);
	sl_push(&s->devs, "/dev/mapper/" BL_STACK_VG "-" BL_STACK_LV);
}

void bu_lvm_stop(struct bu_script *s, enum bl_layer l)
{
	bu_add(s, xstrdup("lvm: vgchange -an"),
	       xstrdup(LVM_ENV "lvm vgchange -an " BL_STACK_VG "\n"));
}

void bu_lvm_report(struct bu_script *s, enum bl_layer l)
{
	bu_add(s, xstrdup("lvm: pvs, lvs"),
	       xstrdup(LVM_ENV "lvm pvs -o pv_name,vg_name,pv_size,pv_uuid\n"
			       "lvm lvs -o lv_name,vg_name,lv_size,lv_uuid --units b\n"));
}
