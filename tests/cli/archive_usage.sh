#!/bin/bash
# bootlab archive: --help, usage errors exit 2 with a message, bad input exits 1.
. "$(dirname "$0")/../lib.sh"
cd "$T_TMP"
out=$("$BOOTLAB" archive --help); rc=$?
expect_eq "--help exits 0" "$rc" 0
for s in build stack list extract cat lint; do
	expect_match "--help documents '$s'" "$out" "bootlab archive $s"
done
expect_match "help lists every codec" "$out" "none gzip bzip2 lzma xz lzo lz4 zstd"
expect_eq "'bootlab archive build --help' exits 0" "$("$BOOTLAB" archive build --help >/dev/null; echo $?)" 0
expect_match "bootlab --help lists archive" "$("$BOOTLAB" --help)" "archive +build, stack, list"
"$BOOTLAB" archive >/dev/null 2>&1
expect_eq "no subcommand: exit 2" "$?" 2
out=$("$BOOTLAB" archive frobnicate 2>&1); rc=$?
expect_eq "unknown subcommand: exit 2" "$rc" 2
expect_match "names it" "$out" "unknown subcommand 'frobnicate'"
out=$("$BOOTLAB" archive build x 2>&1); rc=$?
expect_eq "build without -o: exit 2" "$rc" 2
expect_match "says -o is required" "$out" "-o OUT is required"
out=$("$BOOTLAB" archive build x -o y --compress brotli 2>&1); rc=$?
expect_eq "unknown codec: exit 2" "$rc" 2
expect_match "names the codec" "$out" "unknown codec 'brotli'"
out=$("$BOOTLAB" archive build x -o y --mtime yesterday 2>&1)
expect_match "bad --mtime named" "$out" "bad --mtime 'yesterday'"
out=$("$BOOTLAB" archive build nothere -o y 2>&1); rc=$?
expect_eq "missing source: exit 1" "$rc" 1
expect_match "names the source" "$out" "source 'nothere' does not exist"
check "nothing written" test ! -e y
out=$("$BOOTLAB" archive lint --ram lots x 2>&1); rc=$?
expect_eq "bad --ram: exit 2" "$rc" 2
out=$("$BOOTLAB" archive list nothere 2>&1); rc=$?
expect_eq "list of a missing file: exit 1" "$rc" 1
expect_match "names the file" "$out" "nothere"
printf 'dir /a 0755 0 0\n' > l; "$BOOTLAB" archive build l -o a.cpio --mtime 0
out=$("$BOOTLAB" archive cat a.cpio /a 2>&1); rc=$?
expect_eq "cat of a folder: exit 1" "$rc" 1
expect_match "says what it is" "$out" "not a regular file \(dir\)"
out=$("$BOOTLAB" archive cat a.cpio /b 2>&1)
expect_match "cat of a missing path" "$out" "no entry '/b'"
done_testing
