#!/bin/bash
# timeout: 300
# scenarios/raid-gentoo.yaml: the Gentoo wiki's busybox /init on a 0.90
# RAID1 root of type-fd partitions. Every variant must pass, and the report
# must show what each one is about: the ENOTTY from RAID_AUTORUN and the
# user-space assembly, a stage-2 agent on md0 with [UU] / [U_], and the
# rescue shell exiting 7 under the Expect script. Then the negative: the
# same rescue boot with an Expect script that wants a degraded array must
# fail, so the script's check is not vacuous.
. "$(dirname "$0")/scenarios_lib.sh"

bb=$(command -v busybox)
check "host busybox is static" bash -c "file -L '$bb' | grep -q 'statically linked'"
check "Debian's busybox has no raidautorun applet (why build/tools/raidautorun exists)" \
	bash -c "! busybox --list | grep -qx raidautorun"
check "build/tools/raidautorun is static" \
	bash -c "file -L build/tools/raidautorun | grep -q 'statically linked'"

run_library scenarios/raid-gentoo.yaml
all_pass 4 raid-gentoo 'raid-gentoo[corrupt]' 'raid-gentoo[missing]' 'raid-gentoo[rescue]'

for v in raid-gentoo 'raid-gentoo[corrupt]' 'raid-gentoo[missing]'; do
	expect_match "$v: RAID_AUTORUN refused with ENOTTY" \
		"$(step "$v" 1 .line)" "RAID_AUTORUN '/dev/md0': .*ENOTTY"
	expect_eq "$v: stage-2 root device" "$(sv "$v" .hello2.root.device)" md0
	expect_eq "$v: stage-2 root fstype" "$(sv "$v" .hello2.root.fstype)" ext4
	expect_eq "$v: stage-2 init argv" "$(sv "$v" '.hello2.argv | join(" ")')" /sbin/init
	expect_eq "$v: stage-2 pid" "$(sv "$v" .hello2.pid)" 1
	expect_eq "$v: /etc/motd from the array" \
		"$(sv "$v" '.steps[] | select(.name | endswith("read /etc/motd")) | .reply.data')" \
		"gentoo root on md0"
	console_has "$v" "Run /init as init process"
done
mdstat() { sv "$1" '.steps[] | select(.name | endswith("read /proc/mdstat")) | .reply.data'; }
expect_match "healthy: both members in md0" "$(mdstat raid-gentoo)" \
	'md0 : active raid1 vd[ab]2\[[01]\] vd[ab]2\[[01]\]'
expect_match "healthy: [2/2] [UU]" "$(mdstat raid-gentoo)" '43968 blocks \[2/2\] \[UU\]'
console_has raid-gentoo "md/raid1:md0: active with 2 out of 2 mirrors"
for v in 'raid-gentoo[corrupt]' 'raid-gentoo[missing]'; do
	expect_match "$v: only vda2 in md0" "$(mdstat "$v")" 'md0 : active raid1 vda2\[0\]$'
	expect_match "$v: [2/1] [U_]" "$(mdstat "$v")" '43968 blocks \[2/1\] \[U_\]'
	console_has "$v" "md/raid1:md0: active with 1 out of 2 mirrors"
done
console_has 'raid-gentoo[corrupt]' "md: vdb2 does not have a valid v0.90 superblock, not importing"
console_has 'raid-gentoo[corrupt]' "raidautorun: vdb2 \(type fd\): not added: Invalid argument"
console_lacks 'raid-gentoo[missing]' vdb

v='raid-gentoo[rescue]'
expect_eq "$v: outcome is the expected panic" "$(sv "$v" .panic.reason)" kill-init
expect_eq "$v: the rescue shell exited 7" "$(sv "$v" .panic.exit_status)" 7
expect_eq "$v: no stage-2 hello" "$(sv "$v" .hello2)" null
expect_eq "$v: no stage-1 hello (no agent in the initramfs)" "$(sv "$v" .hello)" null
console_has "$v" "mount: mounting /dev/md0 on /mnt/root failed: Invalid argument"
console_has "$v" "md/raid1:md0: active with 2 out of 2 mirrors"
console_has "$v" "BusyBox v[0-9.]+ .*built-in shell \(ash\)"
console_has "$v" "43968 blocks \[2/2\] \[UU\]"
console_has "$v" "Attempted to kill init! exitcode=0x00000700"

# negative: an Expect script that wants the array degraded must fail the boot
cat > "$T_TMP/degraded.exp" <<'EXP'
log_user 0
set timeout 5
expect -re {# (\x1b\[6n)?$}
send "cat /proc/mdstat\r"
expect {
	-re {\[2/1\] \[U_\]} { exit 0 }
	timeout { exit 1 }
}
EXP
cat > "$T_TMP/neg.yaml" <<EOY
name: raid-gentoo-neg
extends: $PWD/scenarios/raid-gentoo.yaml
arrays:
  - {name: md0, level: 1, metadata: "0.90"}
timeout: 40s
steps:
  - console: "Something went wrong. Dropping you to a shell."
  - expect-script: degraded.exp
    timeout: 20s
  - outcome: pass
variants: []
EOY
run_library "$T_TMP/neg.yaml"
expect_eq "negative: bootlab run exits non-zero" "$([ "$RC" -ne 0 ] && echo yes)" yes
expect_eq "negative: one boot" "$(jq '.scenarios | length' "$R")" 1
expect_eq "negative: outcome fail" "$(sv raid-gentoo-neg .outcome)" fail
expect_match "negative: the expect script step failed" \
	"$(sv raid-gentoo-neg '.steps[1].result + " " + (.steps[1].message // "")')" '^fail .*exited 1'

no_emulator_left
done_testing
