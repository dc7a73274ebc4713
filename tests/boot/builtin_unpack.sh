#!/bin/bash
# A kernel whose built-in archive the kernel cannot unpack (a small newc
# archive followed by bytes that are no archive at all, like the relink bug
# that wrote heap memory after it): init/initramfs.c prints the Mem-Info
# dump and panics, often with garbage for a message. bootlab names it
# "failed to unpack the built-in initramfs", reason builtin-unpack, with the
# message's bytes escaped, in `boot`'s outcome line and in run's report.
# The archive is fixed, so its relink is cached after the first run.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T_TMP/root/dev"
touch -d @0 "$T_TMP/root" "$T_TMP/root/dev"
(cd "$T_TMP/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) > "$T_TMP/bad.cpio"
# not a compression magic, not a cpio header, not zeros
printf '\xa5\x08\x1b\xff%.0s' $(seq 1 64) >> "$T_TMP/bad.cpio"
img=$("$BOOTLAB" kernel build --arch x86_64 --builtin "$T_TMP/bad.cpio" -q)
expect_eq "a broken archive is linked as it is" "$?" 0

out=$("$BOOTLAB" boot --kernel "$img" --timeout 60s < /dev/null 2>&1); rc=$?
expect_eq "boot: exit 1" "$rc" 1
expect_match "boot: the kernel dumped memory and panicked" "$out" 'Mem-Info:'
last=$(printf '%s\n' "$out" | tail -n 1)
expect_match "boot: outcome names the built-in archive" "$last" \
	'^outcome: panic \(failed to unpack the built-in initramfs \(.*\)\)$'
check "boot: outcome line is printable ASCII" bash -c "printf '%s' \"\$1\" | LC_ALL=C grep -q '^[ -~]*$'" _ "$last"

cat > "$T_TMP/s.yaml" <<YAML
name: builtin-unpack
arch: x86_64
backend: qemu
kernel:
  image: $img
timeout: 60s
steps:
  - panic: {reason: builtin-unpack}
YAML
out=$("$BOOTLAB" run --report-dir "$T_TMP/r" "$T_TMP/s.yaml" 2>&1); rc=$?
echo "$out" | tail -n 3 | sed 's/^/# /'
expect_eq "run: a panic: builtin-unpack step passes" "$rc" 0
rep=$(ls "$T_TMP"/r/2*/report.json)
expect_eq "report: reason builtin-unpack" "$(json_get "$rep" '.scenarios[0].panic.reason')" builtin-unpack
d=$(json_get "$rep" '.scenarios[0].panic.description')
expect_match "report: description" "$d" '^failed to unpack the built-in initramfs \('
check "report: description is printable ASCII (bytes escaped)" \
	bash -c "printf '%s' \"\$1\" | LC_ALL=C grep -q '^[ -~]*$'" _ "$d"
no_emulator_left
done_testing
