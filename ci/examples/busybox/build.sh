#!/bin/sh
# build.sh [OUT]: pack the busybox example initramfs with GNU cpio + gzip,
# the way a project would (default OUT: initramfs.cpio.gz). Needs a static
# busybox (Debian: busybox-static, /bin/busybox).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-initramfs.cpio.gz}
busybox=${BUSYBOX:-/bin/busybox}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/dev" "$tmp/proc" "$tmp/sys" "$tmp/mnt/root"
cp "$busybox" "$tmp/bin/busybox"
cp "$here/init" "$tmp/init"
chmod 0755 "$tmp/init" "$tmp/bin/busybox"
(cd "$tmp" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -n -9 >"$out"
