#!/bin/sh
# Regenerates the small archives the scenario library uses where the
# scenario format cannot express a case itself. Real tools only (GNU cpio,
# the codecs' own CLIs); the outputs are committed so a boot does not
# depend on these tools. Run from anywhere: tests/data/library/make.sh
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# overwrite-order: the same directory in two archives of one initrd with
# different mtimes (docs/kernel-behaviour.md section 3, oracle 9)
for t in 1000 3000; do
	rm -rf "$tmp/t" && mkdir -p "$tmp/t/dm"
	touch -d "@$t" "$tmp/t/dm"
	(cd "$tmp/t" && echo dm | cpio --quiet -o -H newc -R 0:0) >"dm-$t.cpio"
done

# compression: segments the scenario codecs deliberately do not make
#   plain xz (CRC64 check): oracle 2
#   lz4 frame format (not the legacy -l format): oracle 3
rm -rf "$tmp/p" && mkdir -p "$tmp/p/etc"
printf 'from the user segment\n' >"$tmp/p/etc/user-segment"
touch -d @0 "$tmp/p/etc/user-segment" "$tmp/p/etc"
(cd "$tmp/p" && printf 'etc\netc/user-segment\n' | cpio --quiet -o -H newc -R 0:0) >"$tmp/user.cpio"
xz -z -c --check=crc64 "$tmp/user.cpio" >user-crc64.cpio.xz
lz4 -z -q -c --no-frame-crc "$tmp/user.cpio" >user-frame.cpio.lz4
