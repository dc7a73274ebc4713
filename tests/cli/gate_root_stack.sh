#!/bin/bash
# bootlab gate --root-stack / --root-by: the stack grammar (block layers
# bottom-up, a filesystem on top, each layer once) and --root-by are
# checked, with exit 2 before an emulator starts.
. "$(dirname "$0")/../lib.sh"

touch "$T_TMP/k" "$T_TMP/i"
err() { "$BOOTLAB" gate --kernel "$T_TMP/k" --initramfs "$T_TMP/i" "$@" 2>&1 >/dev/null | head -n 1; }
rc() { "$BOOTLAB" gate --kernel "$T_TMP/k" --initramfs "$T_TMP/i" "$@" >/dev/null 2>&1; echo $?; }

expect_eq "unknown layer" "$(err --root-stack btrfs)" \
	"bootlab gate: --root-stack: root stack 'btrfs': unknown layer 'btrfs' (known: raid1, raid5, raid10, lvm, lvm-thin, luks, luks1, ext4, xfs)"
expect_eq "filesystem below the top" "$(err --root-stack ext4+lvm)" \
	"bootlab gate: --root-stack: root stack 'ext4+lvm': filesystem 'ext4' below the top"
expect_eq "no filesystem on top" "$(err --root-stack raid1+lvm)" \
	"bootlab gate: --root-stack: root stack 'raid1+lvm': the top layer 'lvm' is not a filesystem (ext4, xfs)"
expect_eq "a layer twice" "$(err --root-stack raid1+raid1+ext4)" \
	"bootlab gate: --root-stack: root stack 'raid1+raid1+ext4': layer 'raid1' twice"
expect_eq "md over an LV" "$(err --root-stack lvm+raid1+ext4)" \
	"bootlab gate: --root-stack: root stack 'lvm+raid1+ext4': raid1 above lvm (md over one lvm device) is not a stack bootlab builds: raid1 goes on the disks, at the bottom"
expect_eq "two md layers" "$(err --root-stack raid1+raid5+ext4)" \
	"bootlab gate: --root-stack: root stack 'raid1+raid5+ext4': layers 'raid1' and 'raid5': one md layer in a stack"
expect_eq "raid10 over an LV" "$(err --root-stack lvm+raid10+ext4)" \
	"bootlab gate: --root-stack: root stack 'lvm+raid10+ext4': raid10 above lvm (md over one lvm device) is not a stack bootlab builds: raid10 goes on the disks, at the bottom"
expect_eq "two luks layers" "$(err --root-stack luks+lvm+luks1+ext4)" \
	"bootlab gate: --root-stack: root stack 'luks+lvm+luks1+ext4': layers 'luks' and 'luks1': one luks layer in a stack"
expect_eq "luks1 without a key" "$(err --root-stack raid5+luks1+ext4)" \
	"bootlab gate: --root-stack with luks needs --passphrase TEXT or --keyfile FILE"
expect_eq "two lvm layers" "$(err --root-stack lvm+luks+lvm-thin+ext4)" \
	"bootlab gate: --root-stack: root stack 'lvm+luks+lvm-thin+ext4': layers 'lvm' and 'lvm-thin': one lvm layer in a stack"
# a stack that parses gets as far as the key check (no emulator starts)
for st in raid5+ext4 raid10+ext4 raid5+lvm+ext4 raid10+lvm+ext4 lvm-thin+ext4 raid1+lvm-thin+ext4 xfs raid5+lvm+xfs; do
	expect_eq "$st parses" "$(err --root-stack $st --passphrase p)" \
		"bootlab gate: --passphrase: no --root-stack has a luks layer"
done
expect_eq "empty layer" "$(err --root-stack raid1++ext4)" \
	"bootlab gate: --root-stack: empty layer in 'raid1++ext4'"
expect_eq "empty stack" "$(err --root-stack '')" "bootlab gate: --root-stack: empty root stack"
expect_eq "--root-by foo" "$(err --root-by foo)" "bootlab gate: --root-by: 'foo' is not path, uuid or label"
mke2fs -q -t ext4 "$T_TMP/root.ext4" 8M 2>/dev/null
expect_match "--root-by label with --root IMAGE" "$(err --root-by label --root "$T_TMP/root.ext4")" \
	"--root-by label needs a root made by bootlab"
expect_match "--root-by uuid with --root IMAGE" "$(err --root-by uuid --root "$T_TMP/root.ext4")" \
	"--root-by uuid needs a root made by bootlab"
expect_eq "two filesystems" "$(err --root-stack lvm+xfs+ext4)" \
	"bootlab gate: --root-stack: root stack 'lvm+xfs+ext4': filesystem 'xfs' below the top"
for a in "--root-stack btrfs" "--root-stack lvm+raid1+ext4" "--root-by uuid --root $T_TMP/root.ext4" "--root-stack"; do
	# shellcheck disable=SC2086
	expect_eq "exit 2: $a" "$(rc $a)" 2
done
expect_eq "a stack twice" "$(err --root-stack ext4 --root-stack ext4)" \
	"bootlab gate: --root-stack 'ext4' given twice"
expect_eq "-j 0" "$(err -j 0)" "bootlab gate: -j takes a number from 1 to 64, not '0'"
expect_eq "luks without a key" "$(err --root-stack luks+ext4)" \
	"bootlab gate: --root-stack with luks needs --passphrase TEXT or --keyfile FILE"
echo key >"$T_TMP/key"
expect_eq "two keys" "$(err --root-stack luks+ext4 --passphrase p --keyfile "$T_TMP/key")" \
	"bootlab gate: --passphrase and --keyfile: give one key"
expect_eq "a key without luks" "$(err --passphrase p)" \
	"bootlab gate: --passphrase: no --root-stack has a luks layer"
expect_match "a missing key file" "$(err --root-stack luks+ext4 --keyfile "$T_TMP/nokey")" \
	"^bootlab gate: --keyfile: .*nokey"
# --degraded needs a redundant md layer in every stack: refused before
# anything is built
for st in ext4 lvm+ext4 luks+ext4 xfs; do
	expect_eq "--degraded $st refused" "$(err --root-stack $st --degraded --passphrase p)" \
		"bootlab gate: --degraded: root stack '$st' has no md layer (raid1, raid5, raid10) that runs without a member"
	expect_eq "--degraded $st: exit 2" "$(rc --root-stack $st --degraded --passphrase p)" 2
done
expect_eq "--degraded: the stack without md is named" "$(err --root-stack raid1+ext4 --root-stack lvm+ext4 --degraded)" \
	"bootlab gate: --degraded: root stack 'lvm+ext4' has no md layer (raid1, raid5, raid10) that runs without a member"
expect_eq "--degraded without --root-stack: plain ext4 refused" "$(err --degraded)" \
	"bootlab gate: --degraded: root stack 'ext4' has no md layer (raid1, raid5, raid10) that runs without a member"
for st in raid1+ext4 raid5+lvm+ext4 raid10+ext4; do
	expect_eq "--degraded $st accepted" "$(err --root-stack $st --degraded --passphrase p)" \
		"bootlab gate: --passphrase: no --root-stack has a luks layer"
done
expect_match "--help lists --degraded[=HOW]" "$("$BOOTLAB" gate --help)" "--degraded\[=HOW\] "
expect_match "--help lists --uuid" "$("$BOOTLAB" gate --help)" "--uuid NAME=UUID "
expect_match "--help lists --disks" "$("$BOOTLAB" gate --help)" "--disks FILE "
expect_match "--help lists --root-stack" "$("$BOOTLAB" gate --help)" "--root-stack SPEC"

done_testing
