#!/bin/bash
# timeout: 600
# scenarios/switch-root.yaml and scenarios/own-initramfs.yaml: leaving the
# initramfs (docs/kernel-behaviour.md sections 7 and 8, oracles 16 and 20).
. "$(dirname "$0")/scenarios_lib.sh"

run_library scenarios/switch-root.yaml
s=switch-root
all_pass 7 $s "$s[ext4]" "$s[busybox-same-fs]" "$s[busybox-not-mountpoint]" "$s[aarch64]" "$s[aarch64-ext4]" "$s[uml]"
expect_eq "pivot_root on rootfs: EINVAL (errno 22)" "$(step $s 4 .errno)" 22
expect_eq "tmpfs: stage-2 root is tmpfs" "$(sv $s .hello2.root.fstype)" tmpfs
expect_eq "tmpfs: stage 1 was rootfs tmpfs" "$(sv $s .hello.rootfs.magic)" 0x01021994
expect_eq "ext4: stage-2 root is vda/ext4" "$(sv "$s[ext4]" '"\(.hello2.root.device)/\(.hello2.root.fstype)"')" vda/ext4
expect_match "ext4: second switch refused on the rootfs magic" "$(step "$s[ext4]" 7 .message)" '^rootfs is not ramfs/tmpfs \(magic 0xef53\)$'
expect_eq "busybox, same fs: exit 1" "$(sv "$s[busybox-same-fs]" .panic.message)" \
	'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100'
console_has "$s[busybox-not-mountpoint]" 'switch_root: error moving root: Invalid argument'
expect_eq "aarch64: stage-2 root vda/ext4" "$(sv "$s[aarch64-ext4]" '"\(.hello2.root.device)/\(.hello2.root.fstype)"')" vda/ext4
expect_eq "uml: stage 1 on ramfs (root=98:0 appended)" "$(sv "$s[uml]" .hello.rootfs.magic)" 0x858458f6
expect_eq "uml: stage 2 on tmpfs" "$(sv "$s[uml]" .hello2.root.fstype)" tmpfs

run_library scenarios/own-initramfs.yaml
o=own-initramfs
all_pass 3 $o "$o[no-exec]" "$o[observed]"
expect_eq "stage 2 from the busybox script: argv" "$(sv $o '.hello2.argv | join(" ")')" /sbin/init
expect_eq "stage 2: no bootlab switch (busybox did it)" "$(sv $o '.hello2.since_switch_ns')" null
expect_eq "stage 2: root vda ext4" "$(sv $o '"\(.hello2.root.device) \(.hello2.root.fstype)"')" "vda ext4"
expect_eq "the real root is read-only" "$(step $o 4 .error)" EROFS
expect_eq "no exec: exit 0 panic" "$(sv "$o[no-exec]" .panic.message)" \
	'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000'
expect_eq "no exec: no stage-2 hello" "$(sv "$o[no-exec]" .hello2)" null
ob="$o[observed]"
expect_eq "observed: the observer ran the project's /init" "$(sv "$ob" '.observed.events[0] | "\(.event) \(.init)"')" "start /init"
expect_eq "observed: PID 1 ran the script with busybox sh" "$(sv "$ob" '[.observed.events[] | select(.event == "exec" and .pid == 1)][0].argv | join(" ")')" "/bin/busybox sh /init"
expect_eq "observed: the root mount and its status" "$(sv "$ob" '.observed.events as $e | [$e[] | select(.event == "exec" and .argv[0] == "mount" and .argv[-1] == "/mnt/root")][0].pid as $p | [$e[] | select(.event == "exit" and .pid == $p)][0].status')" 0
expect_eq "observed: PID 1 exec'd switch_root, then /sbin/init on the new root" \
	"$(sv "$ob" '[.observed.events[] | select(.pid == 1 and .event != "start") | .event + ":" + ((.argv // []) | join(" "))] | .[-3:] | join(",")')" \
	"exec:switch_root /mnt/root /sbin/init,switch_root:,exec:/sbin/init"
expect_eq "observed: stage 2 as unobserved (agent PID 1 on vda)" "$(sv "$ob" '"\(.hello2.pid) \(.hello2.root.device)"')" "1 vda"
no_emulator_left
done_testing
