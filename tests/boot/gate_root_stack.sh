#!/bin/bash
# timeout: 600
# bootlab gate --root-stack and --root-by on bootlab's x86_64 kernel.
# Plain ext4 with the busybox example: the root= word bootlab adds is
# printed and reaches the project's /init (which mounts what root= names);
# a root= of the user's own is kept and no word is added; a label the disk
# does not carry fails. Stacks with the busybox-stacks example (mdadm and
# lvm added): raid1, lvm and raid1+lvm under ext4 are written by mdadm and
# lvm2 in the builder guest, read back by mdadm --examine on the host,
# reached by the initramfs, taken from the cache the second time; an
# initramfs without mdadm, or whose lvm fails, is told by the layer it did
# not reach. Debian's initramfs-tools image (mdadm and lvm2 hooks) for the
# cloud kernel reaches all three by UUID. A LUKS gate that fails after
# the unlock is booted again by bootlab repro, the passphrase typed again.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../root_stack_lib.sh"

gate=ci/initramfs-gate
K=$("$BOOTLAB" kernel build --arch x86_64 -q) || K=
check "the project's x86_64 kernel is built" test -f "$K"
ci/examples/busybox/build.sh "$T_TMP/bb.cpio.gz"
check "busybox example initramfs built" test -s "$T_TMP/bb.cpio.gz"
run_gate() { # NAME ARGS...: the gate's output in $out, its status in $rc
	local name=$1; shift
	out=$($gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" --report-dir "$T_TMP/$name" --timeout 120s "$@" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
}

# 1. default: ext4, root by path
run_gate path
expect_eq "path: gate exits 0" "$rc" 0
expect_match "path: the root= word is printed" "$out" '^bootlab gate: root stack ext4, adding root=/dev/vda$'
expect_match "path: /init mounted /dev/vda" "$(console path)" 'busybox initramfs: mounting /dev/vda'

# 2. root by label: the root filesystem carries bootlab's label
run_gate label --root-stack ext4 --root-by label
expect_eq "label: gate exits 0" "$rc" 0
expect_match "label: the root= word is printed" "$out" \
	'^bootlab gate: root stack ext4, adding root=LABEL=bootlab-root$'
expect_match "label: /init mounted by label" "$(console label)" 'busybox initramfs: mounting LABEL=bootlab-root'
j="$T_TMP/label/latest/report.json"
expect_eq "label: stage-2 hello on vda/ext4" \
	"$(json_get "$j" '.scenarios[0].hello2 | "\(.root.device)/\(.root.fstype)"')" vda/ext4

# 3. the user's root= wins: no word added, and a label not on the disk fails
run_gate user --root-by label --cmdline "root=LABEL=not-there"
expect_eq "user root=: gate exits 1" "$rc" 1
echo "$out" >"$T_TMP/user.out"
no_match "user root=: no root= word added" 'adding root=' "$T_TMP/user.out"
expect_match "user root=: /init tried the user's label" "$(console user)" \
	'busybox initramfs: cannot mount LABEL=not-there'

# 4. root by UUID: the filesystem bootlab makes carries bootlab's UUID
run_gate uuid --root-by uuid
expect_eq "uuid: gate exits 0" "$rc" 0
expect_match "uuid: the root= word is printed" "$out" \
	'^bootlab gate: root stack ext4, adding root=UUID=b0071ab0-0000-4000-8000-000000000001$'

# 5. stacks (tests/root_stack_lib.sh): the root folder holds a nonce,
# so this run's stacks are new to the cache; they are removed from it at
# the end
stack_setup gate_root_stack

stack_gate raid1 raid1+ext4
expect_eq "raid1+ext4: gate exits 0" "$rc" 0
expect_match "raid1+ext4: root=/dev/md0 added" "$out" 'root stack raid1\+ext4, adding root=/dev/md0$'
expect_match "raid1+ext4: members written in the builder guest" "$out" \
	'root stack raid1\+ext4: 2 member disks written by mdadm/lvm2 in the builder guest'
uuid=$(echo "$out" | sed -n 's/^bootlab gate: md array \/dev\/md0, UUID //p')
sd=$(dirname "$log")
ex=$(mdadm --examine "$sd/m0.img" "$sd/m1.img" 2>&1)
echo "$ex" | sed 's/^/# /'
expect_eq "raid1+ext4: host mdadm --examine: both members carry the printed array UUID" \
	"$(echo "$ex" | grep -c "Array UUID : ${uuid:-none}$")" 2
expect_eq "raid1+ext4: host mdadm --examine: metadata 1.2 raid1, clean" \
	"$(echo "$ex" | grep -E '^ +(Version|Raid Level|State) :' | awk '{ print $NF }' | sort | uniq -c | awk '{ printf "%s %s ", $1, $2 }')" \
	"2 1.2 2 clean 2 raid1 "
expect_match "raid1+ext4: the initramfs's mdadm ran the array, both mirrors" "$(console raid1)" \
	'md/raid1:md0: active with 2 out of 2 mirrors'
expect_eq "raid1+ext4: stage 2 on md0/ext4" "$(hello2_root raid1)" md0/ext4

stack_gate raid1-again raid1+ext4
expect_eq "raid1+ext4 again: gate exits 0" "$rc" 0
expect_match "raid1+ext4 again: members from the cache" "$out" 'root stack raid1\+ext4: 2 member disks from the cache'
echo "$out" >"$T_TMP/again.out"
no_match "raid1+ext4 again: no builder guest booted" 'stack-builder' "$T_TMP/again.out"

stack_gate lvm lvm+ext4
expect_eq "lvm+ext4: gate exits 0" "$rc" 0
expect_match "lvm+ext4: root=/dev/mapper/bootlab-root added" "$out" 'adding root=/dev/mapper/bootlab-root$'
expect_match "lvm+ext4: lvs in the builder read back LV root of VG bootlab" "$(cat "$log")" \
	'^ +root +bootlab +[0-9]+B'
expect_eq "lvm+ext4: stage 2 on the LV, ext4" "$(hello2_root lvm)" mapper/bootlab-root/ext4

stack_gate raid1-lvm raid1+lvm+ext4
expect_eq "raid1+lvm+ext4: gate exits 0" "$rc" 0
expect_match "raid1+lvm+ext4: the PV is the md array" "$(cat "$log")" '^ +/dev/md0 +bootlab '
expect_eq "raid1+lvm+ext4: stage 2 on the LV, ext4" "$(hello2_root raid1-lvm)" mapper/bootlab-root/ext4

# 6. failures name the layer not reached: an initramfs without mdadm (the
# plain busybox example), and one whose lvm fails (a stacked segment
# replaces /sbin/lvm)
out=$($gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" --root "$T_TMP/stackroot" --root-size 32M \
	--root-stack raid1+ext4 --report-dir "$T_TMP/nomd" --timeout 60s 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "no mdadm: gate exits 1" "$rc" 1
expect_match "no mdadm: the array is named as never assembled" "$out" \
	'^layer raid1: the array was never assembled'
printf '#!/bin/sh\necho "lvm: broken on purpose" >&2\nexit 5\n' >"$T_TMP/lvm-broken"
printf 'file /sbin/lvm %s 0755 0 0\n' "$T_TMP/lvm-broken" >"$T_TMP/nolvm.list"
"$BOOTLAB" archive build "list:$T_TMP/nolvm.list" -o "$T_TMP/nolvm.cpio" >/dev/null
stack_gate nolvm raid1+lvm+ext4 --initramfs "$T_TMP/nolvm.cpio"
expect_eq "broken lvm: gate exits 1" "$rc" 1
expect_match "broken lvm: md0 assembled" "$out" '^layer raid1: assembled: md0: active with 2 out of 2 mirrors$'
expect_match "broken lvm: the LV is named as not seen" "$out" '^layer lvm: LV bootlab/root not seen'

# LUKS: the passphrase typed at cryptsetup's prompt (it ends without a
# newline); a key file the initramfs holds (a stacked segment adds it) on
# all four layers; a key file with the wrong bytes is named as refused
luks_gate luks luks+ext4 2
# a LUKS gate that fails after the unlock (a root= not there): its repro
# folder keeps the passphrase, and bootlab repro types it again
stack_gate lukswrong luks+ext4 --passphrase 'open sesame' --cmdline root=/dev/mapper/not-there
expect_eq "luks+ext4, wrong root=: gate exits 1" "$rc" 1
LP=$(echo "$out" | sed -n 's/^boot it again: bootlab repro //p')
expect_eq "luks+ext4, wrong root=: repro.json's gate holds the passphrase" \
	"$(jq -c '.gate' "$LP/repro.json" 2>&1)" '{"hello_timeout_ms":120000,"passphrase":"open sesame"}'
rout=$("$BOOTLAB" repro "$LP" </dev/null 2>&1)
echo "$rout" | tail -n 4 | sed 's/^/# /'
expect_match "luks repro: the passphrase typed again unlocked the disk" "$rout" \
	'busybox-stacks initramfs: cryptsetup exited 0'
expect_match "luks repro: the same outcome" "$rout" '^repro: same outcome \(panic\)$'
printf 'a key file\n\0with a NUL' >"$T_TMP/key"
keyseg() { # NAME FILE: a segment holding FILE as /etc/keyfile
	printf 'file /etc/keyfile %s 0600 0 0\n' "$2" >"$T_TMP/$1.list"
	"$BOOTLAB" archive build "list:$T_TMP/$1.list" -o "$T_TMP/$1.cpio" >/dev/null
}
keyseg goodkey "$T_TMP/key"
stack_gate all4 raid1+luks+lvm+ext4 --keyfile "$T_TMP/key" --initramfs "$T_TMP/goodkey.cpio"
expect_eq "raid1+luks+lvm+ext4, key file: gate exits 0" "$rc" 0
expect_eq "raid1+luks+lvm+ext4: stage 2 on the LV, ext4" "$(hello2_root all4)" mapper/bootlab-root/ext4
expect_match "raid1+luks+lvm+ext4: the PV is the LUKS device" "$(cat "$log")" '^ +/dev/mapper/bootlab-crypt +bootlab '
printf 'not the key' >"$T_TMP/wrong-key"
keyseg badkey "$T_TMP/wrong-key"
stack_gate badkey luks+ext4 --keyfile "$T_TMP/key" --initramfs "$T_TMP/badkey.cpio"
expect_eq "luks+ext4, wrong key file: gate exits 1" "$rc" 1
expect_match "luks+ext4, wrong key file: the layer names the refusal" "$out" \
	'^layer luks: the key was refused: No key available with this passphrase'

# 7. several stacks in one gate, two at once: a table, one JUnit testcase
# each, and the failure block of the stack that failed
out=$($gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" --root "$T_TMP/stackroot" --root-size 32M \
	--root-stack ext4 --root-stack raid1+ext4 -j 2 --report-dir "$T_TMP/multi" \
	--junit "$T_TMP/multi.xml" --timeout 60s 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "two stacks, one fails: gate exits 1" "$rc" 1
expect_match "two stacks: the table's ext4 row passed" "$out" '^ext4 +pass +[0-9]+\.[0-9]+$'
expect_match "two stacks: the table's raid1+ext4 row failed" "$out" '^raid1\+ext4 +(panic|fail|timeout) +-$'
expect_match "two stacks: the failure block names the stack" "$out" \
	'^=== bootlab gate: root stack raid1\+ext4: the initramfs did not reach the root ===$'
check_junit "two stacks: JUnit well-formed" "$T_TMP/multi.xml"
expect_eq "two stacks: JUnit testcases, failed ones" \
	"$(xmllint --xpath 'count(//testcase)' "$T_TMP/multi.xml") $(xmllint --xpath 'count(//testcase[failure])' "$T_TMP/multi.xml")" "2 1"
expect_eq "two stacks: the failed testcase is raid1+ext4" \
	"$(xmllint --xpath 'string(//testcase[failure]/@name)' "$T_TMP/multi.xml")" 'initramfs-gate[stack=raid1+ext4]'

# 8. Debian's initramfs-tools (its mdadm, lvm2, thin-provisioning-tools
# and xfs hooks) for the cloud kernel, made with a copy of the host's
# configuration folder: every stack reached by UUID, raid5, raid10, a
# thin LV and xfs too; the array it assembles is md127 (the homehost is
# not its own)
ck=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
check "Debian's cloud kernel is installed (ci/install-deps)" test -n "$ck"
debian_initramfs "${ck#/boot/vmlinuz-}" "$T_TMP/debian.img"
check "mkinitramfs built an initramfs" test -s "$T_TMP/debian.img"
listing=$("$BOOTLAB" archive list "$T_TMP/debian.img" 2>/dev/null)
expect_match "initramfs-tools packed mdadm, lvm and thin_check" \
	"$(echo "$listing" | grep -oE 'sbin/(mdadm|lvm|thin_check)( -> .*)?$' | sed 's/ -> .*//' | sort | tr '\n' ' ')" \
	'^sbin/lvm sbin/mdadm sbin/thin_check $'
for st in raid1+ext4 lvm+ext4 raid1+lvm+ext4 raid5+ext4 raid10+ext4 lvm-thin+ext4 xfs; do
	out=$($gate --kernel "$ck" --initramfs "$T_TMP/debian.img" --root "$T_TMP/stackroot" --root-size 32M \
		--root-stack $st --root-by uuid --report-dir "$T_TMP/deb-$st" --timeout 150s 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
	log=$(echo "$out" | sed -n 's/^bootlab gate: root stack .*(log: \(.*\))$/\1/p')
	[ -n "$log" ] && stack_dirs+=("$(dirname "$log")")
	expect_eq "initramfs-tools, $st: gate exits 0" "$rc" 0
done
expect_match "initramfs-tools, raid1+ext4: mdadm ran the array as md127" "$(console deb-raid1+ext4)" \
	'md/raid1:md127: active with 2 out of 2 mirrors'
expect_eq "initramfs-tools, raid1+ext4: stage 2 on md127/ext4" "$(hello2_root deb-raid1+ext4)" md127/ext4
expect_eq "initramfs-tools, raid1+lvm+ext4: stage 2 on the LV" "$(hello2_root deb-raid1+lvm+ext4)" mapper/bootlab-root/ext4
expect_match "initramfs-tools, raid5+ext4: mdadm ran the array as md127" "$(console deb-raid5+ext4)" \
	'md/raid:md127: raid level 5 active with 3 out of 3 devices'
expect_match "initramfs-tools, raid10+ext4: mdadm ran the array as md127" "$(console deb-raid10+ext4)" \
	'md/raid10:md127: active with 4 out of 4 devices'
expect_eq "initramfs-tools, lvm-thin+ext4: stage 2 on the thin LV" "$(hello2_root deb-lvm-thin+ext4)" mapper/bootlab-root/ext4
expect_eq "initramfs-tools, xfs: stage 2 on vda/xfs" "$(hello2_root deb-xfs)" vda/xfs

no_emulator_left
stack_cleanup

done_testing
