#!/bin/bash
# timeout: 900
# bootlab gate --root-stack SPEC --degraded: the md layer's last member
# is built and cached as usual but not attached; the busybox-stacks
# example's `mdadm --assemble --scan` starts the array without it and
# reaches the root. The stage-2 agent's /proc/mdstat shows the array
# degraded, the kernel says so, and the non-degraded gate of the same
# stack takes the same cache entry. Debian's initramfs-tools gets there
# too, late. --degraded=corrupt attaches that member with its md
# superblock's checksum broken instead: the array starts without it too;
# --degraded=late:8s hot-plugs it 8 s after the start, and Debian's
# initramfs-tools starts the array whole.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../root_stack_lib.sh"

stack_start gate_root_stack_degraded
# mdstat NAME: /proc/mdstat as the stage-2 agent read it
mdstat() { json_get "$T_TMP/$1/latest/report.json" '.scenarios[0].steps[] | select(.name | endswith("agent read /proc/mdstat")) | .reply.data'; }

# 1. RAID1: vdb left out, [2/1] [U_]
stack_gate raid1 raid1+ext4 --degraded
expect_eq "raid1+ext4 --degraded: gate exits 0" "$rc" 0
expect_match "raid1+ext4 --degraded: root= and bootdegraded=true added" "$out" \
	'root stack raid1\+ext4, adding root=/dev/md0 bootdegraded=true$'
expect_match "raid1+ext4 --degraded: the left-out member is named" "$out" \
	'root stack raid1\+ext4, degraded: member 2 of 2 \(m1\.img, /dev/vdb\) left out, 1 attached$'
expect_match "raid1+ext4 --degraded: the kernel ran md0 on 1 of 2 mirrors" "$(console raid1)" \
	'md/raid1:md0: active with 1 out of 2 mirrors'
m=$(mdstat raid1)
echo "$m" | sed 's/^/# mdstat: /'
expect_match "raid1+ext4 --degraded: agent's /proc/mdstat: md0 on vda alone" "$m" 'md0 : active raid1 vda\[0\]$'
expect_match "raid1+ext4 --degraded: agent's /proc/mdstat: [2/1] [U_]" "$m" ' blocks super 1\.2 \[2/1\] \[U_\]'
expect_eq "raid1+ext4 --degraded: stage 2 on md0/ext4" "$(hello2_root raid1)" md0/ext4
expect_match "raid1+ext4 --degraded: the gate prints the agent's /proc/mdstat" "$out" \
	"^bootlab gate: root stack raid1\\+ext4: the stage-2 agent's /proc/mdstat: md0 : active raid1 vda\\[0\\] [0-9]+ blocks super 1\\.2 \\[2/1\\] \\[U_\\]\$"
# the same stack without --degraded: the same cache entry, both members
stack_gate raid1-whole raid1+ext4
expect_eq "raid1+ext4 after --degraded: gate exits 0" "$rc" 0
expect_match "raid1+ext4 after --degraded: members from the cache" "$out" \
	'root stack raid1\+ext4: 2 member disks from the cache'
expect_match "raid1+ext4 whole: the kernel ran md0 on 2 of 2 mirrors" "$(console raid1-whole)" \
	'md/raid1:md0: active with 2 out of 2 mirrors'
expect_eq "raid1+ext4 whole: no mdstat step" "$(mdstat raid1-whole)" ""
echo "$out" >"$T_TMP/raid1-whole.out"
no_match "raid1+ext4 whole: no /proc/mdstat printed" "/proc/mdstat" "$T_TMP/raid1-whole.out"

# 1b. RAID1, vdb attached with its superblock corrupt in the work copy:
# the same cache entry; host mdadm reads the bad checksum there (and not
# in the cache), the initramfs starts md0 without vdb
stack_gate raid1-corrupt raid1+ext4 --degraded=corrupt --keep
expect_eq "raid1+ext4 --degraded=corrupt: gate exits 0" "$rc" 0
expect_match "raid1+ext4 --degraded=corrupt: the corrupt member is named" "$out" \
	'root stack raid1\+ext4, degraded: member 2 of 2 \(m1\.img, /dev/vdb\) attached with its md superblock corrupt \(checksum wrong\)$'
expect_match "raid1+ext4 --degraded=corrupt: members from the cache" "$out" \
	'root stack raid1\+ext4: 2 member disks from the cache'
work=$(echo "$out" | sed -n "s/^bootlab gate: kept work folder '\(.*\)'$/\1/p")
expect_match "host mdadm --examine: the attached copy's checksum is wrong" \
	"$(mdadm --examine "$work/stack-m1.img" 2>&1)" '^ +Checksum : [0-9a-f]+ - expected [0-9a-f]+$'
expect_match "host mdadm --examine: the cache's member is intact" \
	"$(mdadm --examine "$(dirname "$log")/m1.img" 2>&1)" '^ +Checksum : [0-9a-f]+ - correct$'
[ -n "$work" ] && rm -rf "$work"
expect_match "raid1+ext4 --degraded=corrupt: the kernel ran md0 on 1 of 2 mirrors" "$(console raid1-corrupt)" \
	'md/raid1:md0: active with 1 out of 2 mirrors'
m=$(mdstat raid1-corrupt)
echo "$m" | sed 's/^/# mdstat: /'
expect_match "raid1+ext4 --degraded=corrupt: agent's /proc/mdstat: md0 on vda alone, [2/1] [U_]" "$m" \
	'md0 : active raid1 vda\[0\]
 +[0-9]+ blocks super 1\.2 \[2/1\] \[U_\]'
expect_eq "raid1+ext4 --degraded=corrupt: stage 2 on md0/ext4" "$(hello2_root raid1-corrupt)" md0/ext4
out=$($gate --kernel "$K" --initramfs "$T_TMP/bbs.cpio.gz" --root-stack raid1+ext4 --degraded=torn 2>&1)
expect_eq "--degraded=torn: exit 2" "$?" 2
expect_match "--degraded=torn: the message says what HOW may be" "$out" "--degraded='torn': absent \(the default\), corrupt or late:T"

# 2. RAID5: vdc left out, [3/2] [UU_]
stack_gate raid5 raid5+ext4 --degraded
expect_eq "raid5+ext4 --degraded: gate exits 0" "$rc" 0
expect_match "raid5+ext4 --degraded: the left-out member is named" "$out" \
	'root stack raid5\+ext4, degraded: member 3 of 3 \(m2\.img, /dev/vdc\) left out, 2 attached$'
expect_match "raid5+ext4 --degraded: the kernel ran md0 on 2 of 3 devices" "$(console raid5)" \
	'md/raid:md0: raid level 5 active with 2 out of 3 devices'
m=$(mdstat raid5)
echo "$m" | sed 's/^/# mdstat: /'
expect_match "raid5+ext4 --degraded: agent's /proc/mdstat: [3/2] [UU_]" "$m" ' \[3/2\] \[UU_\]'
expect_eq "raid5+ext4 --degraded: stage 2 on md0/ext4" "$(hello2_root raid5)" md0/ext4
expect_match "raid5+ext4 --degraded: the gate prints the agent's /proc/mdstat" "$out" \
	"^bootlab gate: root stack raid5\\+ext4: the stage-2 agent's /proc/mdstat: md0 : active raid5 vda\\[0\\] vdb\\[1\\] .*\\[3/2\\] \\[UU_\\]\$"

# 3. Debian's initramfs-tools (mkinitramfs for the cloud kernel, a copy of
# the host's configuration folder) ignores bootdegraded=: its
# local-block/mdadm waits, assembling with --no-degraded, then runs the
# array on its 20th try (about 20 s)
ck=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
debian_initramfs "${ck#/boot/vmlinuz-}" "$T_TMP/debian.img"
check "mkinitramfs built an initramfs for Debian's cloud kernel" test -s "$T_TMP/debian.img"
K=$ck STACK_INITRAMFS="$T_TMP/debian.img" stack_gate deb raid1+ext4 --degraded --root-by uuid
expect_eq "initramfs-tools, raid1+ext4 --degraded: gate exits 0" "$rc" 0
expect_match "initramfs-tools: local-block retried before running the array" "$(console deb)" \
	'Running /scripts/local-block \.\.\. mdadm: No arrays found'
expect_match "initramfs-tools: its mdadm ran md127 on 1 of 2 mirrors" "$(console deb)" \
	'md/raid1:md127: active with 1 out of 2 mirrors'
m=$(mdstat deb)
echo "$m" | sed 's/^/# mdstat: /'
expect_match "initramfs-tools: agent's /proc/mdstat: [2/1] [U_]" "$m" 'md127 : active .*raid1 vda\[0\]
 +[0-9]+ blocks super 1\.2 \[2/1\] \[U_\]'
expect_eq "initramfs-tools, raid1+ext4 --degraded: stage 2 on md127/ext4" "$(hello2_root deb)" md127/ext4

# 4. the same initramfs, the second member hot-plugged 8 s after the
# start (QMP device_add into an empty PCIe root port; Debian's kernel has
# PCIe hotplug): its udev adds the member as it appears, and the array
# starts whole before local-block gives up waiting for it
K=$ck STACK_INITRAMFS="$T_TMP/debian.img" stack_gate late raid1+ext4 --degraded=late:8s --root-by uuid
expect_eq "initramfs-tools, raid1+ext4 --degraded=late:8s: gate exits 0" "$rc" 0
expect_match "late: the gate names the member and when it comes" "$out" \
	'root stack raid1\+ext4, degraded: member 2 of 2 \(m1\.img\) hot-plugged 8\.000 s after the start$'
at=$(json_get "$T_TMP/late/latest/report.json" '.scenarios[0].emulator.hotplugged[0] | select(.error == null) | .at_s')
echo "# hot-plugged at ${at:-?} s"
check "late: report.json: QEMU took the member at 8 s (and not much later)" \
	awk -v t="${at:-0}" 'BEGIN { exit !(t >= 8 && t < 9) }'
expect_match "late: the gate prints when" "$out" '^bootlab gate: root stack raid1\+ext4: member hot-plugged at 8\.[0-9]+ s$'
expect_match "late: its mdadm ran md127 on both mirrors" "$(console late)" \
	'md/raid1:md127: active with 2 out of 2 mirrors'
m=$(mdstat late)
echo "$m" | sed 's/^/# mdstat: /'
expect_match "late: agent's /proc/mdstat: [2/2] [UU]" "$m" ' blocks super 1\.2 \[2/2\] \[UU\]'
expect_eq "late: stage 2 on md127/ext4" "$(hello2_root late)" md127/ext4
stack_gate micro raid1+ext4 --degraded=late:1s --machine microvm
check "late on a microvm: the gate fails" test "$rc" -ne 0
expect_match "late on a microvm: QEMU is not started, the reason says why" "$out" \
	"a hot-plugged disk needs virtio over PCI \(q35, virt\), not machine 'microvm'"
out=$($gate --kernel "$K" --initramfs "$T_TMP/bbs.cpio.gz" --root-stack raid1+ext4 --degraded=late:soon 2>&1)
expect_eq "--degraded=late:soon: exit 2" "$?" 2
expect_match "--degraded=late:soon: the message names the value" "$out" "--degraded=late:soon: .*soon"

no_emulator_left
stack_cleanup

done_testing
