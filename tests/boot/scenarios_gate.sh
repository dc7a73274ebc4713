#!/bin/bash
# timeout: 900
# ci/initramfs-gate (bootlab gate): the busybox example passes with a
# default root, a root folder and a root ext4 image (the image itself left
# untouched); a broken root= fails with the decoded panic, the console tail
# (escape sequences shown as \xNN) and lint findings; paths with spaces,
# quotes and commas reach debugfs and QEMU intact (knowing the kernel's built-in archive); Debian's
# mkinitramfs image for the installed cloud kernel passes with its own root
# disk; bad usage exits 2.
. "$(dirname "$0")/../lib.sh"

gate=ci/initramfs-gate
K=$("$BOOTLAB" kernel build --arch x86_64 -q) || K=
check "the project's x86_64 kernel is built" test -f "$K"
ci/examples/busybox/build.sh "$T_TMP/bb.cpio.gz"
check "busybox example initramfs built" test -s "$T_TMP/bb.cpio.gz"

# 1. default root disk, JUnit written
out=$($gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" --report-dir "$T_TMP/r1" \
	--junit "$T_TMP/gate.xml" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "busybox example: gate exits 0" "$rc" 0
expect_match "busybox example: says it passed" "$out" '^bootlab gate: passed'
j="$T_TMP/r1/latest/report.json"
expect_eq "stage-2 hello on vda/ext4" "$(json_get "$j" '.scenarios[0].hello2 | "\(.root.device)/\(.root.fstype)"')" vda/ext4
expect_eq "stage-2 agent is /sbin/init" "$(json_get "$j" '.scenarios[0].hello2.argv[0]')" /sbin/init
expect_match "the kernel ran the project's /init" "$(cat "$T_TMP"/r1/latest/*.console.log)" 'busybox initramfs: mounting /dev/vda'
check_junit "JUnit copied, well-formed, matches the XSD" "$T_TMP/gate.xml"
expect_eq "JUnit: one passing testcase" \
	"$(xmllint --xpath 'count(//testcase[not(failure) and not(error)])' "$T_TMP/gate.xml")" 1

# 2. --root FOLDER and --root IMAGE (the image is copied, not modified)
mkdir -p "$T_TMP/rootdir/etc" && echo "from the folder" >"$T_TMP/rootdir/etc/motd"
out=$($gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" --report-dir "$T_TMP/r2" --root "$T_TMP/rootdir" 2>&1)
expect_eq "--root FOLDER: gate exits 0" "$?" 0
mke2fs -q -t ext4 -d "$T_TMP/rootdir" "$T_TMP/root.ext4" 32M
sum=$(sha256sum <"$T_TMP/root.ext4")
out=$($gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" --report-dir "$T_TMP/r3" --root "$T_TMP/root.ext4" 2>&1)
expect_eq "--root IMAGE: gate exits 0" "$?" 0
expect_eq "--root IMAGE: the project's image is unchanged" "$(sha256sum <"$T_TMP/root.ext4")" "$sum"

# 3. a broken boot: the failure report
out=$($gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" --report-dir "$T_TMP/r4" \
	--cmdline root=/dev/vdz --junit "$T_TMP/fail.xml" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "root=/dev/vdz: gate exits 1" "$rc" 1
expect_match "decoded panic" "$out" '^panic: attempted to kill init, exit status 1$'
expect_match "the kernel's panic line" "$out" 'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100'
expect_match "console tail holds the script's message" "$out" '^busybox initramfs: cannot mount /dev/vdz$'
# linted with the gate's kernel: its default built-in archive has /dev/console
expect_match "lint knows the kernel: no no-dev-console finding" "$out" '^lint: no findings$'
check_junit "failure JUnit: well-formed, matches the XSD" "$T_TMP/fail.xml"
expect_eq "JUnit has the failure" "$(xmllint --xpath 'count(//testcase/failure)' "$T_TMP/fail.xml")" 1
j4=$(ls "$T_TMP"/r4/*/report.json | head -1)
expect_eq "one failure is counted once: only the stage-2 hello step failed" \
	"$(jq -c '[.scenarios[0].steps[] | .result]' "$j4")" '["fail","skipped","skipped"]'

# 3b. hostile names and guest bytes: the agent's folder and TMPDIR (the
# work folder with the root image's copy) hold a space, quotes, '#' and a
# comma, which the debugfs script quotes and -drive file= doubles; root=
# carries an escape sequence, which the failure report shows as \xNN
W="$T_TMP/we'ird \"dir\" #1,2"
mkdir -p "$W/tmp" "$W/agent/x86_64"
cp build/agent/x86_64/init-agent "$W/agent/x86_64/"
out=$(TMPDIR="$W/tmp" BOOTLAB_AGENT_DIR="$W/agent" $gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" \
	--report-dir "$T_TMP/r5" --root "$T_TMP/root.ext4" 2>&1); rc=$?
expect_eq "agent and work folder named with ' \" # and ,: gate exits 0" "$rc" 0
[ $rc -eq 0 ] || echo "$out" | tail -n 30 | sed 's/^/#   /'
esc=$(printf 'root=/dev/vdz\033]0;pwned\007\033[2J')
out=$($gate --kernel "$K" --initramfs "$T_TMP/bb.cpio.gz" --report-dir "$T_TMP/r6" --cmdline "$esc" 2>&1); rc=$?
expect_eq "root= with an escape sequence: gate exits 1" "$rc" 1
expect_match "the console tail shows it escaped" "$out" \
	'^busybox initramfs: cannot mount /dev/vdz\\x1b\]0;pwned\\x07\\x1b\[2J$'
check "no ESC or BEL byte reaches the terminal" test "$(printf '%s' "$out" | tr -d -c '\033\007' | wc -c)" = 0

# 4. bad usage
out=$($gate --initramfs "$T_TMP/bb.cpio.gz" 2>&1); rc=$?
expect_eq "no --kernel: exit 2" "$rc" 2
out=$($gate --kernel "$K" --initramfs "$T_TMP/nope.img" 2>&1); rc=$?
expect_eq "missing initramfs: exit 2" "$rc" 2
expect_match "missing initramfs: named" "$out" "nope\.img'?: no such file"

# 5. Debian's initramfs-tools image for the installed cloud kernel
ck=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
if [ -n "$ck" ] && command -v mkinitramfs >/dev/null; then
	ver=${ck#/boot/vmlinuz-}
	debian_initramfs "$ver" "$T_TMP/debian-initrd.img"
	check "mkinitramfs built an initramfs for $ver" test -s "$T_TMP/debian-initrd.img"
	out=$($gate --kernel "$ck" --initramfs "$T_TMP/debian-initrd.img" --report-dir "$T_TMP/r5" 2>&1); rc=$?
	echo "$out" | sed 's/^/# /'
	expect_eq "Debian initramfs: gate exits 0" "$rc" 0
	j="$T_TMP/r5/latest/report.json"
	expect_eq "Debian initramfs: stage 2 on vda/ext4" \
		"$(json_get "$j" '.scenarios[0].hello2 | "\(.root.device)/\(.root.fstype)"')" vda/ext4
	expect_match "Debian initramfs: the agent found its virtio port" \
		"$(json_get "$j" '.scenarios[0].hello2.channel')" '^virtio:'
	expect_match "Debian initramfs: initramfs-tools mounted the root" \
		"$(cat "$T_TMP"/r5/latest/*.console.log)" 'Begin: Mounting root file system'
else
	skip "no Debian cloud kernel or mkinitramfs" "Debian initramfs gate"
fi
no_emulator_left
done_testing
