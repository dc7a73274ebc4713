#!/bin/bash
# timeout: 600
# bootlab gate --root-stack SPEC --degraded: the md layer's last member
# is built and cached as usual but not attached; the busybox-stacks
# example's `mdadm --assemble --scan` starts the array without it and
# reaches the root. The stage-2 agent's /proc/mdstat shows the array
# degraded, the kernel says so, and the non-degraded gate of the same
# stack takes the same cache entry.
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
# the same stack without --degraded: the same cache entry, both members
stack_gate raid1-whole raid1+ext4
expect_eq "raid1+ext4 after --degraded: gate exits 0" "$rc" 0
expect_match "raid1+ext4 after --degraded: members from the cache" "$out" \
	'root stack raid1\+ext4: 2 member disks from the cache'
expect_match "raid1+ext4 whole: the kernel ran md0 on 2 of 2 mirrors" "$(console raid1-whole)" \
	'md/raid1:md0: active with 2 out of 2 mirrors'
expect_eq "raid1+ext4 whole: no mdstat step" "$(mdstat raid1-whole)" ""

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

no_emulator_left
stack_cleanup

done_testing
