#!/bin/bash
# timeout: 900
# bootlab gate --root-stack: the layers beyond raid1, lvm and luks
# (tests/boot/gate_root_stack.sh has those), on bootlab's x86_64 kernel
# with the busybox-stacks example. Each stack is written by the real tool
# in the builder guest, read back by that tool (on the host where it reads
# image files, else from the build log), reached by the initramfs (stage-2
# hello on the top filesystem) and taken from the cache the second time.
# raid5 (3 members) and raid10 (4 members, near=2): mdadm --examine;
# luks1 (LUKS1, PBKDF2 with 1000 iterations): cryptsetup luksDump;
# lvm-thin (a thin LV in a thin pool): lvs segment types; xfs (made by
# mkfs.xfs in the builder guest): blkid and xfs_db on the host.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../root_stack_lib.sh"

# the root folder holds a nonce, so this run's stacks are new to the
# cache; they are removed from it at the end (tests/root_stack_lib.sh)
stack_start gate_root_stack_layers
# cached NAME STACK [ARGS...]: the same gate again boots no builder
cached() {
	local name=$1 stack=$2
	stack_gate "$@"
	expect_eq "$stack again: gate exits 0" "$rc" 0
	expect_match "$stack again: members from the cache" "$out" "root stack ${stack//+/\\+}: [0-9] member disks? from the cache"
	echo "$out" >"$T_TMP/$name.out"
	no_match "$stack again: no builder guest booted" 'stack-builder' "$T_TMP/$name.out"
}
# md_examine STACK N: mdadm --examine of the N cached members on the host;
# every member carries the printed array UUID; prints "level devices layout"
md_examine() {
	local stack=$1 n=$2 uuid sd ex m=()
	uuid=$(echo "$out" | sed -n 's/^bootlab gate: md array \/dev\/md0, UUID //p')
	sd=$(dirname "$log")
	for i in $(seq 0 $((n - 1))); do m+=("$sd/m$i.img"); done
	ex=$(mdadm --examine "${m[@]}" 2>&1)
	echo "$ex" | sed 's/^/# /'
	expect_eq "$stack: host mdadm --examine: all $n members carry the printed array UUID" \
		"$(echo "$ex" | grep -c "Array UUID : ${uuid:-none}$")" "$n"
	expect_eq "$stack: host mdadm --examine: metadata 1.2, clean, on every member" \
		"$(echo "$ex" | grep -E '^ +(Version|State) :' | awk '{ print $NF }' | sort | uniq -c | awk '{ printf "%s %s ", $1, $2 }')" \
		"$n 1.2 $n clean "
	examined=$(echo "$ex" | awk -F' : ' '/^ +Raid Level :/ { l = $2 } /^ +Raid Devices :/ { d = $2 } /^ +Layout :/ { y = $2 } END { print l, d, y }')
}

# 1. md RAID5 over three members, left-symmetric
stack_gate raid5 raid5+ext4
expect_eq "raid5+ext4: gate exits 0" "$rc" 0
expect_match "raid5+ext4: root=/dev/md0 added" "$out" 'root stack raid5\+ext4, adding root=/dev/md0$'
expect_match "raid5+ext4: 3 members written in the builder guest" "$out" \
	'root stack raid5\+ext4: 3 member disks written by mdadm/lvm2 in the builder guest'
md_examine raid5+ext4 3
expect_eq "raid5+ext4: host mdadm --examine: level, devices, layout" "$examined" "raid5 3 left-symmetric"
expect_match "raid5+ext4: the initramfs's mdadm ran the array, all 3 devices" "$(console raid5)" \
	'md/raid:md0: raid level 5 active with 3 out of 3 devices'
expect_eq "raid5+ext4: stage 2 on md0/ext4" "$(hello2_root raid5)" md0/ext4
cached raid5-again raid5+ext4

# 2. md RAID10 over four members, near=2 (striped mirrors)
stack_gate raid10 raid10+ext4
expect_eq "raid10+ext4: gate exits 0" "$rc" 0
expect_match "raid10+ext4: root=/dev/md0 added" "$out" 'root stack raid10\+ext4, adding root=/dev/md0$'
expect_match "raid10+ext4: 4 members written in the builder guest" "$out" \
	'root stack raid10\+ext4: 4 member disks written by mdadm/lvm2 in the builder guest'
md_examine raid10+ext4 4
expect_eq "raid10+ext4: host mdadm --examine: level, devices, layout" "$examined" "raid10 4 near=2"
expect_match "raid10+ext4: the initramfs's mdadm ran the array, all 4 devices" "$(console raid10)" \
	'md/raid10:md0: active with 4 out of 4 devices'
expect_eq "raid10+ext4: stage 2 on md0/ext4" "$(hello2_root raid10)" md0/ext4
cached raid10-again raid10+ext4

# 3. LVM on RAID5: the PV is the array
stack_gate raid5-lvm raid5+lvm+ext4
expect_eq "raid5+lvm+ext4: gate exits 0" "$rc" 0
expect_match "raid5+lvm+ext4: the PV is the md array" "$(cat "$log")" '^ +/dev/md0 +bootlab '
expect_eq "raid5+lvm+ext4: stage 2 on the LV, ext4" "$(hello2_root raid5-lvm)" mapper/bootlab-root/ext4

# 4. LUKS1: the passphrase typed at cryptsetup's prompt; luksDump on the
# host reads version 1, the printed UUID and the cheap PBKDF2; a key file
# the initramfs holds opens it under LVM on RAID10
luks_gate luks1 luks1+ext4 1
echo "$dump" | head -n 20 | sed 's/^/# /'
expect_eq "luks1+ext4: host cryptsetup luksDump: sha256, 1000 PBKDF2 iterations, one key slot" \
	"$(echo "$dump" | awk '/^Hash spec:/ { h = $3 } /^\tIterations:/ { i = $2 } /ENABLED$/ { n++ } END { print h, i, n }')" \
	"sha256 1000 1"
cached luks1-again luks1+ext4 --passphrase 'open sesame'
printf 'a key file\n\0with a NUL' >"$T_TMP/key"
printf 'file /etc/keyfile %s 0600 0 0\n' "$T_TMP/key" >"$T_TMP/key.list"
"$BOOTLAB" archive build "list:$T_TMP/key.list" -o "$T_TMP/key.cpio" >/dev/null
stack_gate raid10-luks1-lvm raid10+luks1+lvm+ext4 --keyfile "$T_TMP/key" --initramfs "$T_TMP/key.cpio"
expect_eq "raid10+luks1+lvm+ext4, key file: gate exits 0" "$rc" 0
expect_match "raid10+luks1+lvm+ext4: the PV is the LUKS1 device" "$(cat "$log")" '^ +/dev/mapper/bootlab-crypt +bootlab '
expect_match "raid10+luks1+lvm+ext4: luksDump in the builder read LUKS1 on md0" "$(cat "$log")" '^Version:[[:space:]]+1$'
expect_eq "raid10+luks1+lvm+ext4: stage 2 on the LV, ext4" "$(hello2_root raid10-luks1-lvm)" mapper/bootlab-root/ext4

# 5. a thin LV: lvs in the builder reads the LV as thin in pool 'pool',
# the pool as thin-pool; the initramfs's lvm activates both
stack_gate thin lvm-thin+ext4
expect_eq "lvm-thin+ext4: gate exits 0" "$rc" 0
expect_match "lvm-thin+ext4: root=/dev/mapper/bootlab-root added" "$out" 'adding root=/dev/mapper/bootlab-root$'
expect_match "lvm-thin+ext4: lvs read LV root as a thin LV in pool 'pool'" "$(cat "$log")" \
	'^ +root +bootlab +[0-9]+B +[A-Za-z0-9-]+ +thin +pool *$'
expect_match "lvm-thin+ext4: lvs read the pool as thin-pool" "$(cat "$log")" \
	'^ +pool +bootlab +[0-9]+B +[A-Za-z0-9-]+ +thin-pool( |$)'
expect_eq "lvm-thin+ext4: stage 2 on the thin LV, ext4" "$(hello2_root thin)" mapper/bootlab-root/ext4
cached thin-again lvm-thin+ext4

# 6. xfs: alone (one member, the filesystem itself: blkid and xfs_db on
# the host read bootlab's UUID), found by UUID; and on LVM on RAID5
stack_gate xfs xfs --root-by uuid
expect_eq "xfs: gate exits 0" "$rc" 0
expect_match "xfs: root=UUID= added" "$out" 'root stack xfs, adding root=UUID=b0071ab0-0000-4000-8000-000000000001$'
expect_match "xfs: 1 member written in the builder guest" "$out" \
	'root stack xfs: 1 member disk written by mdadm/lvm2 in the builder guest'
x0="$(dirname "$log")/m0.img"
expect_eq "xfs: host blkid reads xfs with bootlab's UUID" \
	"$(blkid -o export "$x0" | grep -E '^(TYPE|UUID)=' | sort | tr '\n' ' ')" \
	"TYPE=xfs UUID=b0071ab0-0000-4000-8000-000000000001 "
expect_eq "xfs: host xfs_db reads the superblock" \
	"$(xfs_db -r -c 'sb 0' -c 'p magicnum uuid' "$x0" 2>&1 | tr '\n' ' ')" \
	"magicnum = 0x58465342 uuid = b0071ab0-0000-4000-8000-000000000001 "
expect_eq "xfs: stage 2 on vda/xfs" "$(hello2_root xfs)" vda/xfs
cached xfs-again xfs --root-by uuid
stack_gate raid5-lvm-xfs raid5+lvm+xfs
expect_eq "raid5+lvm+xfs: gate exits 0" "$rc" 0
expect_match "raid5+lvm+xfs: xfs_db in the builder read an xfs superblock on the LV" "$(cat "$log")" \
	'^magicnum = 0x58465342$'
expect_eq "raid5+lvm+xfs: stage 2 on the LV, xfs" "$(hello2_root raid5-lvm-xfs)" mapper/bootlab-root/xfs

# 7. an initramfs without mdadm (the plain busybox example) is told by
# the layer it did not reach, the kernel line that was missing named
ci/examples/busybox/build.sh "$T_TMP/bb.cpio.gz"
STACK_INITRAMFS="$T_TMP/bb.cpio.gz" stack_gate nomd raid5+ext4
expect_eq "raid5, no mdadm: gate exits 1" "$rc" 1
expect_match "raid5, no mdadm: the array is named as never assembled" "$out" \
	"^layer raid5: the array was never assembled \(the kernel never said 'md/raid:mdN: raid level 5 active'\)"

no_emulator_left
stack_cleanup

done_testing
