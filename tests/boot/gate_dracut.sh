#!/bin/bash
# timeout: 600
# A dracut initramfs through bootlab gate: Debian's dracut-core, unpacked
# and run from its own tree (tests/lib.sh dracut_initramfs), makes a
# --no-hostonly image for the installed cloud kernel, with systemd as its
# /init. bootlab lint finds no error in it (libsystemd-core finds
# libsystemd-shared through the RUNPATH of the systemd binary, as glibc's
# loader does), and the gate passes: systemd mounts the root by UUID and
# its initrd-switch-root.service switches to it, which it refuses on a
# root without an os-release file (the gate's new root carries one). With
# a root UUID no disk has, dracut starts its emergency shell: the gate
# stops once it is quiet and names it and the device systemd timed out
# on; bootlab boot waits to its deadline and names them in the timeout.
. "$(dirname "$0")/../lib.sh"

gate=ci/initramfs-gate
ck=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
if [ -z "$ck" ]; then
	skip "no Debian cloud kernel (ci/install-deps installs linux-image-cloud-amd64)" "dracut gate"
	done_testing
	exit 0
fi
ver=${ck#/boot/vmlinuz-}
dracut_initramfs "$ver" "$T_TMP/dracut.img" || sed 's/^/#   /' "$T_TMP/dracut.log" | tail -n 20
check "dracut-core's dracut made an image for $ver" test -s "$T_TMP/dracut.img"
expect_match "its /init is systemd (dracut's systemd module)" \
	"$("$BOOTLAB" archive list "$T_TMP/dracut.img" 2>&1)" ' init -> usr/lib/systemd/systemd$'
out=$("$BOOTLAB" archive lint "$T_TMP/dracut.img" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "lint: no error in dracut's image (exit 0)" "$rc" 0

out=$($gate --kernel "$ck" --initramfs "$T_TMP/dracut.img" --root-by uuid --timeout 240s \
	--report-dir "$T_TMP/r" 2>&1); rc=$?
echo "$out" | grep -v '^\[' | sed 's/^/# /'
expect_eq "dracut: the gate passes (exit 0)" "$rc" 0
j="$T_TMP/r/latest/report.json"
expect_eq "dracut: stage 2 on vda/ext4" \
	"$(json_get "$j" '.scenarios[0].hello2 | "\(.root.device)/\(.root.fstype)"')" vda/ext4
console=$(cat "$T_TMP"/r/latest/*.console.log)
expect_match "dracut: systemd mounted the root at /sysroot" "$console" 'Mounted .*sysroot.mount'
expect_match "dracut: systemd reached its switch-root target" "$console" \
	'Reached target .*initrd-switch-root.target'

# a root UUID that no disk has: systemd gives up on the device after
# rd.timeout and dracut starts its emergency shell. Nobody types into a
# gate's console, so the gate stops 10 s after the shell went quiet, long
# before its deadline, and says why, quoting systemd's failed unit
bad="root=UUID=0badbad0-0000-4000-8000-000000000000 rd.timeout=10"
out=$($gate --kernel "$ck" --initramfs "$T_TMP/dracut.img" --timeout 150s --report-dir "$T_TMP/bad" \
	--cmdline "$bad" 2>&1); rc=$?
echo "$out" | grep -v '^\[' | sed 's/^/# /'
expect_eq "no such root: the gate fails (exit 1)" "$rc" 1
j="$T_TMP/bad/latest/report.json"
expect_eq "no such root: outcome fail" "$(json_get "$j" '.scenarios[0].outcome')" fail
expect_match "no such root: the reason names dracut's emergency shell and the device systemd gave up on" \
	"$(json_get "$j" '.scenarios[0].reason')" \
	'^step 1 \(the initramfs switched to the root disk\): the initramfs started its emergency shell: "Entering emergency mode\. Exit the shell to continue\." after "Timed out waiting for device .*0000-4000-8000-000000000000\.", and its console stayed quiet for 10 s'
check "no such root: the gate stopped well before its 150 s deadline" \
	jq -e '.scenarios[0].duration_s < 120' "$j"
# bootlab boot waits on (its user may type into the shell): a timeout,
# whose reason names the shell
out=$("$BOOTLAB" boot --kernel "$ck" --initrd "$T_TMP/dracut.img" --append "$bad" --memory 512M \
	--timeout 45s </dev/null 2>&1 | tail -n 1)
echo "# $out"
expect_match "bootlab boot: a timeout whose reason names the emergency shell" "$out" \
	'^outcome: timeout \(boot deadline of 45000 ms reached; last phase: run-init; the initramfs started its emergency shell: "Entering emergency mode\. Exit the shell to continue\." after "Timed out waiting for device '
no_emulator_left
done_testing
