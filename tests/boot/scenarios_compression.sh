#!/bin/bash
# timeout: 600
# scenarios/compression.yaml: one boot per codec, a stacked mix, a corrupt
# segment and the two user-made segments the kernel refuses
# (kernel-facts.md sections 1.3 and 1.4, oracles 2 and 3).
. "$(dirname "$0")/scenarios_lib.sh"

run_library scenarios/compression.yaml
c=compression
all_pass 12 $c "$c[none]" "$c[bzip2]" "$c[lzma]" "$c[xz]" "$c[lzo]" "$c[lz4]" "$c[zstd]" \
	"$c[stacked]" "$c[corrupt]" "$c[xz-crc64]" "$c[lz4-frame]"
for v in none bzip2 lzma xz lzo lz4 zstd; do
	expect_eq "$v: the agent read the file" "$(step "$c[$v]" 2 .data)" unpacked
	console_has "$c[$v]" 'Unpacking initramfs\.\.\.'
done
expect_eq "stacked: 8 segments, last one's file wins" "$(step "$c[stacked]" 10 .data)" last
for v in "$c[corrupt]" "$c[xz-crc64]" "$c[lz4-frame]"; do
	expect_eq "$v: boot went on with the first segment" "$(step "$v" 3 .data)" unpacked
done
console_has "$c[corrupt]" 'Initramfs unpacking failed: XZ-compressed data is corrupt$'
console_has "$c[xz-crc64]" 'Initramfs unpacking failed: Input was encoded with settings that are not supported by this XZ decoder$'
console_has "$c[lz4-frame]" 'Initramfs unpacking failed: invalid magic at start of compressed archive$'
for v in none gzip lzma lzo lz4 zstd; do
	[ $v = gzip ] && n=$c || n="$c[$v]"
	! grep -q 'Initramfs unpacking failed' "$(dirname "$R")/$(sv "$n" .console_log)"
	check "$v: no unpacking error" test $? -eq 0
done
# the committed user segments are what make.sh says they are
expect_eq "user-crc64.cpio.xz is xz with check CRC64" \
	"$(xz --robot -lv tests/data/library/user-crc64.cpio.xz | awk -F'\t' '$1=="file"{print $7}')" CRC64
expect_eq "user-frame.cpio.lz4 is lz4 frame format" \
	"$(od -An -tx1 -N4 tests/data/library/user-frame.cpio.lz4 | tr -d ' ')" 04224d18
no_emulator_left
done_testing
