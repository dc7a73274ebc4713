#!/bin/bash
# timeout: 300
# bootlab gate --root-stack ext4 --root-by path|label on bootlab's x86_64
# kernel with the busybox example: the root= word bootlab adds is printed
# and reaches the project's /init (which mounts what root= names); a
# root= of the user's own is kept and no word is added; a label the disk
# does not carry fails.
. "$(dirname "$0")/../lib.sh"

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
console() { cat "$T_TMP/$1"/latest/*.console.log; }

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
no_emulator_left

done_testing
