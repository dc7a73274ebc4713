#!/bin/bash
# timeout: 600
# bootlab gate --disks FILE (docs/root-stacks.md, "A layout of your
# own"): the root disks are a whole layout in the scenario format, and
# the filesystem holding `agent:` is the root. The busybox-stacks example
# reaches the second partition of a GPT disk (root=/dev/vda2 added) and
# a disk that comes after an absent one (root=/dev/vda); what the layout
# wrote beside the root is there when stage 2 runs. A bad file, a layout
# without a root or with two, and options that also make a root are usage
# errors before anything is built.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../root_stack_lib.sh"

stack_start gate_disks
# disks_gate NAME FILE [ARGS...]: the example's gate on the layout FILE
disks_gate() {
	local name=$1 file=$2
	shift 2
	out=$($gate --kernel "$K" --initramfs "$T_TMP/bbs.cpio.gz" --disks "$file" "$@" \
		--report-dir "$T_TMP/$name" --timeout 120s 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
}

# 1. GPT: a small boot partition, the root on the second one
cat >"$T_TMP/gpt.yaml" <<EOF
disks:
  - name: d0
    size: 48M
    table: gpt
    partitions:
      - {size: 8M, type: linux, name: boot, filesystem: {type: ext4, label: boot}}
      - size: rest
        type: linux
        name: root
        filesystem:
          type: ext4
          agent: /sbin/init
          tree: $T_TMP/stackroot
          files: [{path: /etc/layout, content: "gpt root\n"}]
EOF
disks_gate gpt "$T_TMP/gpt.yaml"
expect_eq "gpt layout: gate exits 0" "$rc" 0
expect_match "gpt layout: root= names the second partition" "$out" \
	"^bootlab gate: disks $T_TMP/gpt.yaml, adding root=/dev/vda2$"
expect_eq "gpt layout: stage 2 on vda2, ext4" "$(hello2_root gpt)" vda2/ext4
expect_match "gpt layout: the kernel read the GPT's two partitions" "$(console gpt)" ' vda: vda1 vda2$'

# 2. an absent disk first: the next one is vda
cat >"$T_TMP/absent.yaml" <<EOF
disks:
  - {name: gone, size: 16M, absent: true, filesystem: {type: ext4}}
  - {name: d1, size: 32M, filesystem: {type: ext4, agent: /sbin/init}}
EOF
disks_gate absent "$T_TMP/absent.yaml"
expect_eq "after an absent disk: gate exits 0" "$rc" 0
expect_match "after an absent disk: root=/dev/vda" "$out" 'adding root=/dev/vda$'
expect_eq "after an absent disk: stage 2 on vda" "$(hello2_root absent)" vda/ext4

# 3. usage errors: exit 2, the file named, no report
bad() { # LABEL PATTERN FILE [ARGS...]
	local label=$1 pat=$2 file=$3
	shift 3
	out=$($gate --kernel "$K" --initramfs "$T_TMP/bbs.cpio.gz" --disks "$file" "$@" \
		--report-dir "$T_TMP/bad" 2>&1)
	expect_eq "$label: exit 2" "$?" 2
	expect_match "$label: the message says why" "$out" "$pat"
}
printf 'disks:\n  - {name: d0, size: 32M, filesytem: {type: ext4}}\n' >"$T_TMP/typo.yaml"
bad "a misspelt key" "^bootlab gate: --disks $T_TMP/typo.yaml:2:27: unknown key 'filesytem' in disk" "$T_TMP/typo.yaml"
printf 'disks:\n  - {name: d0, size: 32M, filesystem: {type: ext4}}\n' >"$T_TMP/none.yaml"
bad "no agent" "no filesystem holds .agent:." "$T_TMP/none.yaml"
printf 'disks:\n  - {name: d0, size: 32M, filesystem: {type: ext4, agent: /sbin/init}}\n  - {name: d1, size: 32M, filesystem: {type: ext4, agent: /init}}\n' >"$T_TMP/two.yaml"
bad "two agents" "disks\[0\]\.filesystem and disks\[1\]\.filesystem both hold .agent:." "$T_TMP/two.yaml"
cat >"$T_TMP/md.yaml" <<EOF
arrays:
  - {name: md0, level: 1, metadata: "1.2", filesystem: {type: ext4, agent: /sbin/init}}
disks:
  - {name: d0, size: 32M, raid: {array: md0, member: 0}}
  - {name: d1, size: 32M, raid: {array: md0, member: 1}}
EOF
bad "the root on an array without root=" "arrays\[0\]\.filesystem. is on an md array.*give root= in --cmdline" "$T_TMP/md.yaml"
bad "--disks with --root-stack" "--disks and --root-stack: the layout file says what the root is" \
	"$T_TMP/gpt.yaml" --root-stack raid1+ext4
bad "--disks with --root-by" "--disks and --root-by" "$T_TMP/gpt.yaml" --root-by uuid
check "no report written for a usage error" test ! -e "$T_TMP/bad"

no_emulator_left
done_testing
