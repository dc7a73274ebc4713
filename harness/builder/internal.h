/* harness/builder, private: the builder guest's steps, one shell
 * script per layer (md.c, lvm.c), made by build.c and run by guest.c. */
#ifndef BL_BUILDER_INTERNAL_H
#define BL_BUILDER_INTERNAL_H

#include "builder/builder.h"
#include "util/util.h"

/* one `run` request of the builder guest: a script for /bin/sh -ec */
struct bu_step {
	char *what; /* "raid1: mdadm --create", shown when it fails */
	char *script;
};

struct bu_script {
	struct bu_step *v;
	size_t n;
	struct strlist members;	   /* the member disks in the guest: /dev/vda... */
	struct strlist devs;	   /* the devices the next layer is made on */
	char md_uuid[40];	   /* mdadm's form, derived from the cache key */
	char luks_uuid[37];	   /* derived from the cache key too */
	struct strlist below_luks; /* the device LUKS went on */
	const char *key;	   /* the LUKS key's bytes (a passphrase's, or a key file's) */
	size_t key_len;
	unsigned long long fs_bytes;
	bool xfs;			/* the top is xfs: mkfs.xfs in the guest */
	const char *fs_label, *fs_uuid; /* the xfs's, or NULL */
};
/* add a step; WHAT and SCRIPT are the script's now */
void bu_add(struct bu_script *s, char *what, char *script);

/* Each layer's steps: made on the devices below (S->devs), the device
 * it leaves for the layer above in S->devs; stopped; read back by its
 * tool. L is the layer (raid1, raid5...).
 * md.c: md RAID1, RAID5 or RAID10 over every device below, metadata 1.2 */
void bu_md_create(struct bu_script *s, enum bl_layer l);
void bu_md_stop(struct bu_script *s, enum bl_layer l);
void bu_md_report(struct bu_script *s, enum bl_layer l);
/* lvm.c: one PV on the device below, VG BL_STACK_VG, LV BL_STACK_LV
 * holding the filesystem */
void bu_lvm_create(struct bu_script *s, enum bl_layer l);
void bu_lvm_stop(struct bu_script *s, enum bl_layer l);
void bu_lvm_report(struct bu_script *s, enum bl_layer l);
/* luks.c: LUKS2 on the device below, opened as BL_STACK_CRYPT with the
 * key in the builder's archive */
void bu_luks_create(struct bu_script *s, enum bl_layer l);
void bu_luks_stop(struct bu_script *s, enum bl_layer l);
void bu_luks_report(struct bu_script *s, enum bl_layer l);
/* xfs.c: mkfs.xfs on the top device, the files of FS_DEV (the ext4
 * bootlab made) copied onto it; xfs_db's read of its superblock */
void bu_xfs_make(struct bu_script *s, const char *fs_dev);
void bu_xfs_report(struct bu_script *s);
/* the xfsprogs programs the guest runs for an xfs top */
extern const char *const bu_xfs_tools[2];
/* /etc/lvm/lvm.conf of the builder guest: no udev there */
extern const char bu_lvm_conf[];

/* guest.c: boot the builder guest with MEMBERS empty and FS as the last
 * disk, run S's steps; 0, or -1 naming the step that failed and its output.
 * LOG gets every step's output. */
int bu_guest_run(const struct bu_script *s, char *const *members, size_t n, const char *fs,
		 const char *workdir, int timeout_ms, struct strbuf *log);

#endif
