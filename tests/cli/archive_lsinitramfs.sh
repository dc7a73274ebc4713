#!/bin/bash
# bootlab lists Debian's initramfs-tools images (early microcode prefix +
# compressed main archive) with the same file set as lsinitramfs.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
cd "$T_TMP"

if ! command -v lsinitramfs >/dev/null; then
	skip "lsinitramfs missing (initramfs-tools-core)" "lsinitramfs comparison"
	done_testing; exit
fi
names() { "$BOOTLAB" archive list --json "$1" | jq -r '.segments[].entries[].name' | sed 's|^\./||; s|^/||; /^$/d' | LC_ALL=C sort -u; }
ref() { lsinitramfs "$1" | sed 's|^\./||; s|^/||; /^$/d' | LC_ALL=C sort -u; }

n=0
for img in /boot/initrd.img-*; do
	[ -r "$img" ] || continue
	n=$((n + 1))
	b=$(basename "$img")
	expect_eq "$b: same file set as lsinitramfs" "$(names "$img")" "$(ref "$img")"
	# extraction gives the same tree as unmkinitramfs (names, modes, types,
	# symlink targets, sizes, contents, file mtimes)
	rm -rf umk bex
	unmkinitramfs "$img" umk 2>/dev/null
	"$BOOTLAB" archive extract "$img" -C bex
	expect_eq "$b: extract exits 0" "$?" 0
	check "$b: same contents as unmkinitramfs" diff -r --no-dereference umk bex
	expect_eq "$b: same names, modes, types, targets, sizes" \
		"$(cd bex && find . -printf '%p %m %y %l %s\n' | LC_ALL=C sort | md5sum)" \
		"$(cd umk && find . -printf '%p %m %y %l %s\n' | LC_ALL=C sort | md5sum)"
	expect_eq "$b: same file mtimes" \
		"$(cd bex && find . -type f -printf '%p %T@\n' | LC_ALL=C sort | md5sum)" \
		"$(cd umk && find . -type f -printf '%p %T@\n' | LC_ALL=C sort | md5sum)"
	# the same image behind an early microcode archive, as initramfs-tools
	# builds it when a microcode package is installed
	mkdir -p uc/kernel/x86/microcode
	head -c 4096 /dev/urandom > uc/kernel/x86/microcode/GenuineIntel.bin
	"$BOOTLAB" archive build uc --root-uid squash --root-gid squash --mtime 0 -o early.cpio
	"$BOOTLAB" archive stack early.cpio "$img" -o stacked.img
	expect_eq "$b + microcode prefix: same file set as lsinitramfs" "$(names stacked.img)" "$(ref stacked.img)"
	segs=$("$BOOTLAB" archive list --json stacked.img | jq -r '[.segments[].codec] | join(",")')
	expect_match "$b + microcode: first segment uncompressed" "$segs" "^none,"
	expect_eq "$b: microcode file readable" "$("$BOOTLAB" archive cat stacked.img kernel/x86/microcode/GenuineIntel.bin | md5sum)" "$(md5sum < uc/kernel/x86/microcode/GenuineIntel.bin)"
done
[ $n -gt 0 ] || skip "no /boot/initrd.img-*" "lsinitramfs comparison"
done_testing
