#!/bin/bash
# timeout: 900
# Reader/kernel parity: for each flawed initrd segment the real kernel prints
# "Initramfs unpacking failed: MSG" (boot continues, docs/kernel-behaviour.md
# section 1.4) and 'bootlab archive list' on the same bytes fails with MSG in
# its error.
. "$(dirname "$0")/../lib.sh"
cd "$T_TMP"

printf 'dir /p 0755 0 0\nfile /p/f %s 0644 0 0\n' "$T_TMP/data" > l
head -c 3000 /dev/urandom | od -An -tx1 > data
"$BOOTLAB" archive build l --mtime 1 -o t.cpio
mkdir -p raw
# each case: a file whose bytes go into the initrd as they are
{ cat t.cpio; printf '\0'; gzip -9n < t.cpio; } > raw/padding
{ cat t.cpio; printf 'JUNKJUNK'; } | gzip -9n > raw/junk-within
head -c 150 t.cpio | gzip -9n > raw/junk-at-end
mkdir -p tree/x && (cd tree && find . | cpio -o -H odc --quiet) > raw/odc
lz4 -q < t.cpio > raw/lz4-frame
xz --check=crc64 < t.cpio > raw/xz-crc64
for c in gzip bzip2 lzma xz lzo lz4 zstd; do
	"$BOOTLAB" archive build l --mtime 1 --compress $c -o full.$c
	head -c $(( $(stat -c %s full.$c) - 24 )) full.$c > raw/trunc-$c
done

files=()
for f in raw/*; do
	n=$(basename "$f")
	{
		initrd_scenario "parity-$n" "kernel/reader parity for $n" 60s flawed "$T_TMP/$f"
		echo "  - agent: {op: poweroff}"
		echo "  - outcome: pass"
	} > "$n.yaml"
	files+=("$n.yaml")
done
out=$("$BOOTLAB" run -j 2 --report-dir "$T_TMP/r" "${files[@]}" 2>&1)
echo "$out" | sed 's/^/# /'
rep=$(ls -d "$T_TMP"/r/2*/ | head -1)
j="$rep/report.json"
for f in raw/*; do
	n=$(basename "$f")
	log="$rep/$(jq -r --arg n "parity-$n" '.scenarios[] | select(.name == $n) | .console_log' "$j")"
	kmsg=$(sed -n 's/.*Initramfs unpacking failed: //p' "$log" | tr -d '\r' | head -n1)
	ours=$("$BOOTLAB" archive list "$f" 2>&1 >/dev/null)
	if [ -z "$kmsg" ]; then
		not_ok "$n: the kernel reported an unpacking failure"; continue
	fi
	if [[ "$ours" == *"$kmsg"* ]]; then
		ok "$n: kernel and bootlab agree: '$kmsg'"
	else
		not_ok "$n: kernel says '$kmsg'"; echo "#   bootlab says: $ours"
	fi
done
no_emulator_left
done_testing
