#!/bin/sh
# build.sh [OUT]: the busybox-stacks example initramfs (default OUT:
# initramfs.cpio.gz): static busybox, the host's mdadm, lvm and cryptsetup
# with every library ldd names (as initramfs-tools' copy_exec does), an
# mdadm.conf
# naming the array bootlab's root stacks make (/dev/md0, name
# bootlab:root) and an lvm.conf for a system without udev (and without
# thin-provisioning-tools: no thin_check when a thin pool is activated).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-initramfs.cpio.gz}
busybox=${BUSYBOX:-/bin/busybox}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/sbin" "$tmp/dev" "$tmp/proc" "$tmp/sys" "$tmp/run" \
	"$tmp/mnt/root" "$tmp/etc/lvm"
cp "$busybox" "$tmp/bin/busybox"
for prog in /sbin/mdadm /sbin/lvm /sbin/cryptsetup; do
	cp "$prog" "$tmp/sbin/"
	for lib in $(ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$tmp$(dirname "$lib")"
		cp -L "$lib" "$tmp$lib"
	done
done
printf 'DEVICE /dev/vd*\nARRAY /dev/md0 name=bootlab:root\n' >"$tmp/etc/mdadm.conf"
cat >"$tmp/etc/lvm/lvm.conf" <<'CONF'
devices {
	obtain_device_list_from_udev = 0
	external_device_info_source = "none"
	use_aio = 0
}
activation {
	udev_sync = 0
	udev_rules = 0
	monitoring = 0
}
global {
	thin_check_executable = ""
}
CONF
cp "$here/init" "$tmp/init"
chmod 0755 "$tmp/init" "$tmp/bin/busybox"
(cd "$tmp" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -n -9 >"$out"
