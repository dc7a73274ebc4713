#!/bin/bash
# timeout: 600
# bootlab gate --uuid NAME=UUID (docs/root-stacks.md, "Fixed
# identifiers"): an initramfs built before the disks, whose mdadm.conf
# names the array by UUID only, reaches its root when the gate is given
# that UUID and does not when the array gets bootlab's derived one. The
# fixed md, LUKS and filesystem UUIDs are the ones the real tools read
# back (host mdadm --examine, cryptsetup luksDump in the builder, the
# initramfs mounting root=UUID=), both spellings of an md UUID are one
# cache entry, and bad --uuid words are usage errors naming the word.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../root_stack_lib.sh"

stack_start gate_root_stack_ids
MD=0badc0de:5eed1e55:0000cafe:12345678
MD_DASHED=0BADC0DE-5EED-1E55-0000-CAFE12345678
LUKS=c0ffee00-1111-4222-8333-444455556666
ROOT=feedf00d-aaaa-4bbb-8ccc-dddddddddddd
# the segment that embeds the md UUID, stacked after the example: its
# mdadm.conf replaces the example's (which names the array by name)
printf 'DEVICE /dev/vd*\nARRAY /dev/md0 UUID=%s\n' "$MD" >"$T_TMP/mdadm.conf"
printf 'file /etc/mdadm.conf %s 0644 0 0\n' "$T_TMP/mdadm.conf" >"$T_TMP/conf.list"
"$BOOTLAB" archive build "list:$T_TMP/conf.list" -o "$T_TMP/conf.cpio" >/dev/null
conf=(--initramfs "$T_TMP/conf.cpio")

# 1. every identifier fixed: md (mdadm's spelling), LUKS, root by UUID
stack_gate all raid1+luks+ext4 "${conf[@]}" --passphrase 'open sesame' --root-by uuid \
	--uuid "md=$MD" --uuid "luks=$LUKS" --uuid "root=$ROOT"
expect_eq "raid1+luks+ext4, all fixed: gate exits 0" "$rc" 0
expect_match "the gate prints the fixed md UUID" "$out" "^bootlab gate: md array /dev/md0, UUID $MD$"
expect_match "and the fixed LUKS UUID" "$out" "^bootlab gate: LUKS2 header UUID $LUKS, "
expect_match "root= names the fixed filesystem UUID" "$out" "adding root=UUID=$ROOT$"
ex=$(mdadm --examine "$(dirname "$log")"/m0.img "$(dirname "$log")"/m1.img 2>&1)
expect_eq "host mdadm --examine: both members carry the fixed array UUID" \
	"$(echo "$ex" | grep -c "Array UUID : $MD$")" 2
expect_match "cryptsetup luksDump in the builder read the fixed LUKS UUID" "$(cat "$log")" \
	"^UUID:[[:space:]]+$LUKS$"
expect_match "the initramfs's mdadm assembled the array its mdadm.conf names by UUID" \
	"$(console all)" 'md/raid1:md0: active with 2 out of 2 mirrors'
# (busybox's mount finds UUID= by scanning /dev: the crypt device's node
# there is dm-0, the only device-mapper device of this stack)
expect_eq "stage 2 on the crypt device found by the fixed filesystem UUID" \
	"$(hello2_root all)" dm-0/ext4

# 2. the same UUIDs, md spelled 8-4-4-4-12 in capitals: one cache entry
stack_gate again raid1+luks+ext4 "${conf[@]}" --passphrase 'open sesame' --root-by uuid \
	--uuid "md=$MD_DASHED" --uuid "luks=$LUKS" --uuid "root=$ROOT"
expect_eq "md UUID spelled 8-4-4-4-12: gate exits 0" "$rc" 0
expect_match "the members come from the cache" "$out" 'root stack raid1\+luks\+ext4: 2 member disks from the cache'
expect_match "printed in mdadm's spelling" "$out" "^bootlab gate: md array /dev/md0, UUID $MD$"

# 3. no --uuid md: the array gets a derived UUID the initramfs does not know
stack_gate derived raid1+ext4 "${conf[@]}"
expect_eq "raid1+ext4, md UUID not fixed: gate exits 1" "$rc" 1
derived=$(echo "$out" | sed -n 's/^bootlab gate: md array \/dev\/md0, UUID //p')
check "the derived md UUID is another one" test -n "$derived" -a "$derived" != "$MD"
expect_match "the failure names the md layer as not assembled" "$out" \
	'^layer raid1: the array was never assembled'

# 4. the same stack with --uuid md: reached
stack_gate fixed raid1+ext4 "${conf[@]}" --uuid "md=$MD"
expect_eq "raid1+ext4, md UUID fixed: gate exits 0" "$rc" 0
expect_match "written anew: another UUID is another cache entry" "$out" \
	'root stack raid1\+ext4: 2 member disks written by mdadm'
expect_eq "stage 2 on md0" "$(hello2_root fixed)" md0/ext4

# 5. bad --uuid words: exit 2 naming the word, nothing booted
bad() { # LABEL PATTERN ARGS...
	local label=$1 pat=$2
	shift 2
	out=$($gate --kernel "$K" --initramfs "$T_TMP/bbs.cpio.gz" --report-dir "$T_TMP/bad" "$@" 2>&1)
	expect_eq "$label: exit 2" "$?" 2
	expect_match "$label: the message names it" "$out" "$pat"
}
bad "not hex" "--uuid md: '0badc0de:5eed1e55:0000cafe:1234567z' is not a UUID" \
	--root-stack raid1+ext4 --uuid md=0badc0de:5eed1e55:0000cafe:1234567z
bad "mdadm's spelling for the filesystem" "--uuid root: '$MD' is not a UUID \(32 hex digits as 8-4-4-4-12\)" \
	--uuid "root=$MD"
bad "an unknown name" "--uuid 'vg=$LUKS': want NAME=UUID, NAME one of md, luks, root" \
	--uuid "vg=$LUKS"
bad "md on a stack without md" "--uuid md=$MD: no --root-stack has an md layer" \
	--root-stack lvm+ext4 --uuid "md=$MD"
bad "a name given twice" "--uuid 'luks' given twice" \
	--root-stack luks+ext4 --passphrase x --uuid "luks=$LUKS" --uuid "luks=$LUKS"
check "no report written for a usage error" test ! -e "$T_TMP/bad"

stack_cleanup
done_testing
