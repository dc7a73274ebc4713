#!/bin/bash
# timeout: 400
# Stage-1 observation (docs/observe.md) on QEMU aarch64 (virt) with
# bootlab's aarch64 kernel (kernels/aarch64.config: ptrace, uevents and
# mount namespaces need no option of their own): the busybox /init of
# observe_lib.sh, run by Debian's arm64 busybox-static, observed to its
# failing root mount (explained by `boot` and `gate`) and to its switch of
# root (the execs with argv, their statuses, the mounts, the switch), as
# observe.sh does on x86_64. Debian's arm64 busybox-static is downloaded
# (apt-get download, not installed: it would replace the host's
# /bin/busybox); ci/install-deps gives apt the arm64 architecture.
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
else
	sed 's/^/# /' "$T_TMP/apt.log"
	skip "apt-get download busybox-static:arm64 failed (no arm64 architecture: ci/install-deps)" \
		"observed aarch64 busybox boots"
fi
no_emulator_left
done_testing
