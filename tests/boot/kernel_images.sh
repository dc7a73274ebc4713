#!/bin/bash
# Every kernel bootlab builds boots a static /init on its emulator, from an
# external initrd and, relinked with the same archive built in, with no
# initrd at all. The archive holds a nonce, so every run relinks for real
# (a cached relink once hid a relink that wrote heap bytes after the
# archive); the relink is removed from the cache afterwards. Raw emulator
# lines on purpose: this checks the kernels, not bootlab's machine backends.
# timeout: 1800
. "$(dirname "$0")/../lib.sh"

cat > "$T_TMP/hello.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void)
{
	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, 0);
	int fd = open("/dev/console", O_WRONLY);
	if (fd >= 0)
		dup2(fd, 1);
	printf("BOOTLAB-KERNEL-HELLO pid=%d\n", (int)getpid());
	fflush(stdout);
	reboot(HOW);
	return 0;
}
C

run_emu() { # ARCH IMAGE [INITRD] -> console on stdout
	local arch=$1 img=$2 initrd=${3:-}
	case $arch in x86_64 | aarch64) boot_counted qemu ;; um) boot_counted uml ;; esac
	case $arch in
	x86_64)
		timeout 60 qemu-system-x86_64 -M microvm,acpi=off -nodefaults -no-user-config \
			-display none -serial stdio -no-reboot -m 128 -kernel "$img" \
			${initrd:+-initrd "$initrd"} \
			-append 'console=ttyS0 panic=-1 quiet noapictimer reboot=t' </dev/null ;;
	aarch64)
		timeout 60 qemu-system-aarch64 -M virt -cpu cortex-a57 -m 128 -nodefaults \
			-no-user-config -display none -serial stdio -no-reboot -kernel "$img" \
			${initrd:+-initrd "$initrd"} -append 'console=ttyAMA0 panic=-1 quiet' </dev/null ;;
	um)
		mkdir -p "$T_TMP/uml"
		timeout 60 "$img" mem=64M ${initrd:+initrd="$initrd"} con=null con0=null,fd:1 \
			panic=-1 quiet uml_dir="$T_TMP/uml" </dev/null ;;
	esac
}

for arch in x86_64 aarch64 um; do
	case $arch in
	x86_64) cc=musl-gcc how=RB_AUTOBOOT ;;
	aarch64) cc=aarch64-linux-gnu-gcc how=RB_AUTOBOOT ;;
	um) cc=musl-gcc how=RB_POWER_OFF ;;
	esac
	if ! command -v $cc >/dev/null; then
		skip "no $cc" "$arch kernel boots"
		continue
	fi
	img=$("$BOOTLAB" kernel build --arch $arch -q)
	if [ $? -ne 0 ] || [ ! -s "$img" ]; then
		not_ok "$arch kernel build"
		continue
	fi
	mkdir -p "$T_TMP/$arch/root"
	$cc -static -Os -DHOW=$how -o "$T_TMP/$arch/root/init" "$T_TMP/hello.c" || { not_ok "$arch hello"; continue; }
	# new content on every run: never a cache hit
	echo "$(date +%s.%N) $$ $RANDOM" > "$T_TMP/$arch/root/nonce"
	touch -h -d @0 "$T_TMP/$arch/root" "$T_TMP/$arch/root/init" "$T_TMP/$arch/root/nonce"
	(cd "$T_TMP/$arch/root" && find . | LC_ALL=C sort | cpio -o -H newc --reproducible --quiet |
		gzip -n -9) > "$T_TMP/$arch/hello.cpio.gz"

	t0=$(date +%s.%N)
	out=$(run_emu $arch "$img" "$T_TMP/$arch/hello.cpio.gz" 2>&1)
	rc=$?
	t1=$(date +%s.%N)
	echo "# $arch: external initrd boot took $(echo "$t1 - $t0" | bc)s (exit $rc)"
	expect_match "$arch: /init from the initrd runs as pid 1" "$out" "BOOTLAB-KERNEL-HELLO pid=1"
	# the base build's built-in archive is the kernel's default list
	# (/dev/console among it), so an initrd without /dev still gets a console
	check "$arch: built-in default archive supplies /dev/console" \
		test "$(printf '%s\n' "$out" | grep -c 'unable to open an initial console')" = 0
	check "$arch: the emulator exits by itself (not the timeout)" test $rc -ne 124

	t0=$(date +%s.%N)
	b=$("$BOOTLAB" kernel build --arch $arch --builtin "$T_TMP/$arch/hello.cpio.gz" 2>"$T_TMP/$arch/relink.err")
	t1=$(date +%s.%N)
	echo "# $arch: built-in relink took $(echo "$t1 - $t0" | bc)s"
	check "$arch: relinked image exists" test -s "$b"
	expect_match "$arch: a real relink, not a cache hit" "$(cat "$T_TMP/$arch/relink.err")" \
		"kernel $arch relinked in"
	out=$(run_emu $arch "$b" 2>&1)
	rc=$?
	expect_match "$arch: /init from the built-in archive runs, no initrd" "$out" \
		"BOOTLAB-KERNEL-HELLO pid=1"
	expect_match "$arch: built-in archive replaced the default one (no /dev/console)" \
		"$out" "unable to open an initial console"
	check "$arch: relinked kernel exits by itself" test $rc -ne 124
	check "$arch: no unpacking error for the built-in archive" \
		test "$(printf '%s\n' "$out" | grep -c 'Kernel panic\|Initramfs unpacking failed')" = 0
	case "$b" in */builtin/*/*) rm -rf "$(dirname "$b")" ;; esac
	out=$(run_emu $arch "$img" 2>&1)
	expect_match "$arch: the plain kernel has no /init of its own (default archive only)" \
		"$out" "No working init found|Kernel panic"
done
done_testing
