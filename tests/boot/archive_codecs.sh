#!/bin/bash
# timeout: 600
# A real kernel (kernels/x86_64.config: every RD_* decompressor) unpacks one
# stacked initrd with a segment per codec and the agent reads a file from
# each (scenarios/compression-stack.yaml). Then a segment bootlab's reader
# refuses (xz with CRC64) is refused by the kernel with the same words.
. "$(dirname "$0")/../lib.sh"

out=$("$BOOTLAB" run --report-dir "$T_TMP/r" scenarios/compression-stack.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "compression-stack exits 0" "$rc" 0
expect_match "compression-stack passes" "$out" '^PASS +compression-stack +pass'
rep=$(ls -d "$T_TMP"/r/2*/ | head -1)
j="$rep/report.json"
log="$rep/$(json_get "$j" '.scenarios[0].console_log')"
check "console log written" test -s "$log"
no_match "no 'Initramfs unpacking failed'" 'Initramfs unpacking failed' "$log"
expect_eq "every step passed" \
	"$(json_get "$j" '[.scenarios[0].steps[] | select(.result == "pass")] | length' 2>/dev/null)" \
	"$(json_get "$j" '[.scenarios[0].steps[]] | length' 2>/dev/null)"

# kernel parity: plain xz (CRC64) after the agent's archive
mkdir -p "$T_TMP/x"; printf 'late\n' > "$T_TMP/x/late"
"$BOOTLAB" archive build "tree:$T_TMP/x=/late-dir" --mtime 1 -o "$T_TMP/late.cpio"
xz -z -k -c "$T_TMP/late.cpio" > "$T_TMP/crc64.xz"
ours=$("$BOOTLAB" archive list "$T_TMP/crc64.xz" 2>&1)
expect_match "bootlab's reader refuses CRC64" "$ours" "Input was encoded with settings that are not supported by this XZ decoder"
{
	initrd_scenario xz-crc64 "the kernel refuses an xz segment with CRC64; boot continues" 60s \
		crc64 "$T_TMP/crc64.xz"
	echo "  - agent: {op: poweroff}"
	echo "  - outcome: pass"
} > "$T_TMP/crc64.yaml"
out=$("$BOOTLAB" run --report-dir "$T_TMP/r2" "$T_TMP/crc64.yaml" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
rep=$(ls -d "$T_TMP"/r2/2*/ | head -1)
log="$rep/$(json_get "$rep/report.json" '.scenarios[0].console_log')"
expect_match "the kernel says the same" "$(cat "$log")" "Initramfs unpacking failed: Input was encoded with settings that are not supported by this XZ decoder"
no_emulator_left
done_testing
