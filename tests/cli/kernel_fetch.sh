#!/bin/bash
# Debian's arm64 kernel fetched into the cache (apt-get download + dpkg-deb -x,
# no install; depmod -b on the copy), then its modules resolved with libkmod
# against the extracted tree (docs/kernels.md, "Distro kernels"). The first
# run needs apt.
# timeout: 900
. "$(dirname "$0")/../lib.sh"

img=$("$BOOTLAB" kernel fetch --arch aarch64 -q 2>"$T_TMP/err")
rc=$?
if [ $rc -ne 0 ] && grep -qE "needs root|apt-get|apt-cache" "$T_TMP/err" && [ "$(id -u)" != 0 ]; then
	skip "cannot fetch without root: $(head -c 200 "$T_TMP/err")" "arm64 kernel fetch"
	done_testing
	exit
fi
expect_eq "fetch exits 0" "$rc" 0
[ $rc -eq 0 ] || sed 's/^/#   /' "$T_TMP/err"
check "image exists" test -s "$img"
check "image has the arm64 magic" \
	test "$(dd if="$img" bs=1 skip=56 count=4 2>/dev/null)" = "$(printf 'ARM\x64')"
root=$(dirname "$(dirname "$img")")
ver=${img##*/vmlinuz-}
check "modules.dep made by depmod" test -s "$root/lib/modules/$ver/modules.dep"
t0=$(date +%s.%N)
img2=$("$BOOTLAB" kernel fetch --arch aarch64 -q)
t1=$(date +%s.%N)
expect_eq "second fetch: same image" "$img2" "$img"
check "second fetch is instant (cached, no apt)" test "$(echo "$t1 - $t0 < 2" | bc)" = 1

got=$("$BOOTLAB" kernel modules --kernel "$img" virtio_mmio virtio_console | sed 's|.*/||' | tr '\n' ' ')
expect_eq "arm64: agent port over virtio-mmio (VIRTIO core built in)" "$got" \
	"virtio_mmio.ko virtio_console.ko "
got=$("$BOOTLAB" kernel modules --kernel "$img" virtio_blk raid1 ext4 | sed 's|.*/||' | tr '\n' ' ')
expect_eq "arm64: disks, md and ext4 with their dependencies" "$got" \
	"virtio_blk.ko md-mod.ko raid1.ko jbd2.ko mbcache.ko crc16.ko ext4.ko "
paths=$("$BOOTLAB" kernel modules --kernel "$img" virtio_console)
case "$paths" in "$root"/*) ok "modules come from the fetched tree, not the host" ;;
*) not_ok "modules come from the fetched tree, not the host"; echo "#   $paths" ;; esac
expect_eq "config of the fetched kernel" \
	"$("$BOOTLAB" kernel config --kernel "$img" VIRTIO_CONSOLE PCI_HOST_GENERIC)" \
	"VIRTIO_CONSOLE m
PCI_HOST_GENERIC y"
expect_match "kernel list shows it" "$("$BOOTLAB" kernel list)" "^aarch64 +distro .* $img\$"
# a cache path with a quote, a double quote and a space: apt-get runs in
# it with no shell between (env -C), so the path is never parsed
q="$T_TMP/it's a \"cache\""
mkdir -p "$q"
img3=$(XDG_CACHE_HOME=$q "$BOOTLAB" kernel fetch --arch aarch64 -q 2>"$T_TMP/err"); rc=$?
expect_eq "fetch into a cache path with quotes and a space: exit 0" "$rc" 0
[ $rc -eq 0 ] || sed 's/^/#   /' "$T_TMP/err"
case "$img3" in "$q"/*) check "its image is there" test -s "$img3" ;;
*) not_ok "its image is there"; echo "#   got '$img3'" ;; esac
"$BOOTLAB" kernel fetch --arch um >/dev/null 2>"$T_TMP/err"
check "fetch of another arch is refused" test $? -ne 0
done_testing
