#!/bin/bash
# timeout: 600
# scenarios/compression.yaml: one boot per codec, a stacked mix, a corrupt
# segment and the two user-made segments the kernel refuses
# (docs/kernel-behaviour.md sections 1.3 and 1.4, oracles 2 and 3).
. "$(dirname "$0")/scenarios_lib.sh"

run_library scenarios/compression.yaml
c=compression
names=()
for row in "${ROWS[@]}"; do
	for v in "" none bzip2 lzma xz lzo lz4 zstd stacked corrupt xz-crc64 lz4-frame; do
		names+=("$(vname $c "$v" "$row")")
	done
done
all_pass 36 "${names[@]}"
for row in "${ROWS[@]}"; do
	for v in gzip none bzip2 lzma xz lzo lz4 zstd; do
		[ $v = gzip ] && n=$(vname $c "" "$row") || n=$(vname $c $v "$row")
		expect_eq "$n: the agent read the file" "$(step "$n" 2 .data)" unpacked
		console_has "$n" 'Unpacking initramfs\.\.\.'
		console_lacks "$n" 'Initramfs unpacking failed'
	done
	expect_eq "$row: stacked: 8 segments, last one's file wins" \
		"$(step "$(vname $c stacked "$row")" 10 .data)" last
	for v in corrupt xz-crc64 lz4-frame; do
		n=$(vname $c $v "$row")
		expect_eq "$n: boot went on with the first segment" "$(step "$n" 3 .data)" unpacked
	done
	console_has "$(vname $c corrupt "$row")" 'Initramfs unpacking failed: XZ-compressed data is corrupt$'
	console_has "$(vname $c xz-crc64 "$row")" \
		'Initramfs unpacking failed: Input was encoded with settings that are not supported by this XZ decoder$'
	console_has "$(vname $c lz4-frame "$row")" 'Initramfs unpacking failed: invalid magic at start of compressed archive$'
done
# the committed user segments are what make.sh says they are
expect_eq "user-crc64.cpio.xz is xz with check CRC64" \
	"$(xz --robot -lv tests/data/library/user-crc64.cpio.xz | awk -F'\t' '$1=="file"{print $7}')" CRC64
expect_eq "user-frame.cpio.lz4 is lz4 frame format" \
	"$(od -An -tx1 -N4 tests/data/library/user-frame.cpio.lz4 | tr -d ' ')" 04224d18
no_emulator_left
done_testing
