#!/bin/bash
# timeout: 400
# Stage-1 observation (docs/observe.md) on QEMU x86_64:
# - bootlab's kernel and a hand-written busybox-static /init
#   (observe_lib.sh: its failing root mount explained by `boot` and
#   `gate`, and its timeline to the switch of root; observe_arm.sh boots
#   the same on aarch64);
# - Debian's initramfs-tools image: its timeline, virtio_blk loaded and
#   vda appearing, and a missing root UUID explained at the timeout.
. "$(dirname "$0")/observe_lib.sh"

K=$("$BOOTLAB" kernel build --arch x86_64 -q) || K=
check "the project's x86_64 kernel is built" test -f "$K"
obs_initrd "$T_TMP/init.cpio.gz"
obs_busybox_boots x86_64 "$K" "$T_TMP/init.cpio.gz"

# Debian's initramfs-tools image for the installed cloud kernel (its
# agent port modules come in the observer's segment): a switch to the
# root with udev, module loads and the root mount in the timeline; with a
# root UUID that does not exist, the timeout names the retried lookup.
# Its wait loop (scripts/local in the image) runs from ~7 s for 30 s
# (max(30, rootdelay), and rootdelay= also sleeps first), each round
# mdadm --assemble then blkid, both failing: the deadline of 30 s falls
# inside the loop, idle or loaded, and the last failure is one of the two
# (or, on a slow boot, the first degraded `mdadm --run` of the loop's
# last third, which has failed only once)
ck=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
if [ -n "$ck" ] && command -v mkinitramfs >/dev/null; then
	debian_initramfs "${ck#/boot/vmlinuz-}" "$T_TMP/debian.img"
	out=$("$BOOTLAB" gate --observe --kernel "$ck" --initramfs "$T_TMP/debian.img" --report-dir "$T_TMP/r3" 2>&1); rc=$?
	[ $rc -eq 0 ] || echo "$out" | tail -n 30 | sed 's/^/# /'
	expect_eq "Debian initramfs observed: gate exits 0" "$rc" 0
	j=$(ls "$T_TMP"/r3/*/report.json | head -1)
	cmds=$(json_get "$j" '.scenarios[0].observed.events[] | select(.event == "exec") | .argv | join(" ")')
	expect_match "Debian: udevd started and settled" "$cmds" '^udevadm settle$'
	expect_match "Debian: modules loaded by modprobe" "$cmds" '^/sbin/modprobe '
	expect_match "Debian: the root mounted" "$cmds" '^mount -r -t ext4 /dev/vda /root$'
	expect_eq "Debian: run-init switched the root, then /sbin/init ran" \
		"$(json_get "$j" '[.scenarios[0].observed.events[] | select(.event | test("exec|switch_root"))][-3:] | map(.event + ":" + ((.argv // []) | join(" "))) | join(",")')" \
		"exec:run-init /root /sbin/init,switch_root:,exec:/sbin/init"
	ev=$(json_get "$j" '.scenarios[0].observed.events | to_entries[] | "\(.key) \(.value.event) \(.value.name // .value.devname // .value.argv[0] // "") \(.value.initial // false)"')
	expect_match "Debian: the kernel loaded virtio_blk (a module event)" "$ev" '^[0-9]+ module virtio_blk false$'
	expect_match "Debian: vda appeared in stage 1 (a block add, not present at start)" "$ev" '^[0-9]+ block vda false$'
	udevd=$(awk '$2 == "exec" && $3 ~ /udevd$/ { print $1; exit }' <<<"$ev")
	vda=$(awk '$2 == "block" && $3 == "vda" { print $1; exit }' <<<"$ev")
	mod=$(awk '$2 == "module" && $3 == "virtio_blk" { print $1; exit }' <<<"$ev")
	check "Debian: udevd started, then vda appeared, then virtio_blk's load was reported (after its init)" \
		test -n "$udevd" -a -n "$vda" -a -n "$mod" -a "${udevd:-0}" -lt "${vda:-0}" -a "${vda:-0}" -lt "${mod:-0}"
	expect_match "Debian: the root mounted on /root, then moved to /" \
		"$(json_get "$j" '[.scenarios[0].observed.events[] | select(.source == "/dev/vda") | "\(.event) \(.fstype) \(.target)"] | join(",")')" \
		'^mount ext4 /root,.*move ext4 /$'
	out=$("$BOOTLAB" gate --observe --kernel "$ck" --initramfs "$T_TMP/debian.img" --report-dir "$T_TMP/r4" \
		--cmdline "root=UUID=00000000-1111-2222-3333-444444444444" --timeout 30s 2>&1); rc=$?
	grep '^reason: ' <<<"$out" | sed 's/^/# /'
	expect_eq "Debian, root UUID missing: gate exits 1" "$rc" 1
	expect_match "Debian, root UUID missing: the timeout names the retried lookup" "$out" \
		'^reason: boot deadline of 30000 ms reached; last phase: run-init; .*last failed: "(blkid -l -t UUID=00000000-1111-2222-3333-444444444444 -o device|mdadm -q --assemble --scan --(no-degraded|run))" exited [12] at [0-9.]+ s( \([0-9]+ times since [0-9.]+ s\))?(;|$)'
	expect_match "Debian, root UUID missing: the timeout names the block devices there (vda)" "$out" \
		'^reason: boot deadline .*; block devices: vda(;|$)'
else
	skip "no Debian cloud kernel or mkinitramfs" "Debian initramfs observed"
fi
no_emulator_left
done_testing
