#!/bin/bash
# timeout: 400
# Stage-1 observation (docs/observe.md) on QEMU aarch64 (virt) with
# bootlab's aarch64 kernel (kernels/aarch64.config: ptrace, uevents and
# mount namespaces need no option of their own): the busybox /init of
# observe_lib.sh, run by Debian's arm64 busybox-static, observed to its
# failing root mount (explained by `boot` and `gate`) and to its switch of
# root (the execs with argv, their statuses, the mounts, the switch), as
# observe.sh does on x86_64; and on Debian's arm64 kernel, the failure
# of a script that does not load its disk driver, explained. Debian's
# arm64 busybox-static is downloaded (apt-get download, not installed:
# it would replace the host's /bin/busybox); ci/install-deps gives apt
# the arm64 architecture.
. "$(dirname "$0")/observe_lib.sh"

K=$("$BOOTLAB" kernel build --arch aarch64 -q) || K=
check "the project's aarch64 kernel is built" test -f "$K"
mkdir -p "$T_TMP/deb"
if (cd "$T_TMP/deb" && apt-get download -qq busybox-static:arm64) >"$T_TMP/apt.log" 2>&1 &&
	dpkg-deb -x "$T_TMP"/deb/busybox-static_*_arm64.deb "$T_TMP/deb/root" &&
	file -L "$T_TMP/deb/root/bin/busybox" | grep -q 'ARM aarch64.*statically linked'; then
	ok "Debian's arm64 busybox-static, downloaded"
	obs_initrd "$T_TMP/init.cpio.gz" "$T_TMP/deb/root/bin/busybox"
	obs_busybox_boots aarch64 "$K" "$T_TMP/init.cpio.gz"
	# Debian's arm64 kernel: virtio_blk is a module the script does not
	# load (the observer's segment brings only its port's), so no vda:
	# the same failure, explained the same way
	if dk=$("$BOOTLAB" kernel fetch --arch aarch64 -q 2>/dev/null); then
		out=$("$BOOTLAB" gate --observe --arch aarch64 --kernel "$dk" --initramfs "$T_TMP/init.cpio.gz" \
			--report-dir "$T_TMP/debian" 2>&1); rc=$?
		expect_eq "aarch64, Debian's kernel, no disk driver: gate exits 1" "$rc" 1
		expect_match "aarch64, Debian's kernel: the reason names the failing mount and mount's message" "$out" \
			'^reason: /init \(busybox sh\) exited 1: "mount -o ro /dev/vda /mnt/root" exited 255 at [0-9.]+ s; console: "mount: mounting /dev/vda on /mnt/root failed: No such file or directory"'
		j=$(ls "$T_TMP"/debian/*/report.json | head -1)
		expect_eq "aarch64, Debian's kernel: no block device, no module load seen; PID 1 exited 1 last" \
			"$(json_get "$j" '.scenarios[0].observed.events | "\([.[] | select(.event == "block" or .event == "module")] | length) \(.[-1] | "\(.event) \(.pid) \(.status)")"')" \
			"0 exit 1 1"
	else
		skip "Debian's arm64 kernel cannot be fetched" "aarch64, Debian's kernel observed"
	fi
else
	sed 's/^/# /' "$T_TMP/apt.log"
	skip "apt-get download busybox-static:arm64 failed (no arm64 architecture: ci/install-deps)" \
		"observed aarch64 busybox boots"
fi
no_emulator_left
done_testing
