/* The LVM layer of a root stack, written by lvm2 itself: one PV on the
 * device below, the VG BL_STACK_VG, the LV BL_STACK_LV just large enough
 * for the filesystem (whole 4 MiB extents): linear (lvm), or a thin LV
 * (lvm-thin) of that virtual size in the thin pool BL_STACK_POOL, whose
 * data is as large (the filesystem copied onto the LV allocates it all)
 * and whose metadata (and its spare) lvm sizes itself (lvcreate takes no
 * -W for thin pools or thin LVs: nothing is wiped there). The builder guest
 * has no udev: lvm makes the /dev nodes itself (bu_lvm_conf); it has no
 * thin_check either (thin-provisioning-tools), so lvm is told not to run
 * it when it activates the pool. */
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
			   "\tthin_check_executable = \"\"\n"
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
	if (l == BL_LAYER_LVM_THIN) {
		sb_addf(&sh,
			"lvm lvcreate -y -Z n --type thin-pool -n " BL_STACK_POOL
			" -L %llub " BL_STACK_VG "\n",
			lv);
		sb_addf(&sh,
			"lvm lvcreate -y --type thin -n " BL_STACK_LV
			" -V %llub --thinpool " BL_STACK_POOL " " BL_STACK_VG "\n",
			lv);
	} else {
		sb_addf(&sh, "lvm lvcreate -y -W n -n " BL_STACK_LV " -L %llub " BL_STACK_VG "\n",
			lv);
	}
	bu_add(s, xasprintf("%s: pvcreate, vgcreate, lvcreate", bl_layer_name(l)),
	       sb_detach(&sh, NULL));
	sl_release(&s->devs);
	sl_push(&s->devs, "/dev/mapper/" BL_STACK_VG "-" BL_STACK_LV);
}

void bu_lvm_stop(struct bu_script *s, enum bl_layer l)
{
	bu_add(s, xasprintf("%s: vgchange -an", bl_layer_name(l)),
	       xstrdup(LVM_ENV "lvm vgchange -an " BL_STACK_VG "\n"));
}

void bu_lvm_report(struct bu_script *s, enum bl_layer l)
{
	bu_add(
	    s, xasprintf("%s: pvs, lvs", bl_layer_name(l)),
	    xstrdup(LVM_ENV
		    "lvm pvs -o pv_name,vg_name,pv_size,pv_uuid\n"
		    "lvm lvs -a -o lv_name,vg_name,lv_size,lv_uuid,segtype,pool_lv --units b\n"));
}
