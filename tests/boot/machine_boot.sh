#!/bin/bash
# timeout: 600
# bootlab boot: one interactive boot, the typed outcome on the last line,
# non-zero unless pass. Driven without a terminal (stdin from /dev/null or
# a pipe) and under a pty (script(1)) for the raw mode and its restore.
# The initrds are real: busybox-static sh scripts packed with GNU cpio, and
# a static musl program that dereferences NULL.
. "$(dirname "$0")/../lib.sh"

mk() { # mk NAME INIT-SCRIPT: an initrd whose /init is that sh script
	local d="$T_TMP/$1"
	mkdir -p "$d/bin"
	cp /bin/busybox "$d/bin/busybox"
	ln -s busybox "$d/bin/sh"
	printf '#!/bin/sh\n%s\n' "$2" > "$d/init"
	chmod 755 "$d/init"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) > "$T_TMP/$1.cpio.gz"
}
mk exit7 'echo init-says-hi; exit 7'
mk reboot 'echo bye; /bin/busybox reboot -f'
mk poweroff 'echo bye; /bin/busybox poweroff -f'
mk halt 'echo bye; /bin/busybox halt -f'
mk early 'read line; echo got:$line; exit 3'
mk read 'echo ready-for-input; read line; echo got:$line; exit 3'
mk sleep 'echo ready-for-input; /bin/busybox sleep 60; exit 1'
mkdir -p "$T_TMP/segv"
printf 'int main(void){volatile int *p=0; return *p;}\n' > "$T_TMP/segv.c"
musl-gcc -static -O0 -o "$T_TMP/segv/init" "$T_TMP/segv.c"
(cd "$T_TMP/segv" && find . | cpio -o -H newc --quiet | gzip -1) > "$T_TMP/segv.cpio.gz"

last() { printf '%s\n' "$1" | tail -n 1; }

out=$("$BOOTLAB" boot --kernel x86_64 --initrd "$T_TMP/exit7.cpio.gz" < /dev/null 2>&1); rc=$?
expect_eq "qemu: exit 7 -> last line names the panic and the status" "$(last "$out")" \
	"outcome: panic (attempted to kill init, exit status 7)"
expect_eq "qemu: a panic exits 1" "$rc" 1
expect_match "the console is on stdout" "$out" 'init-says-hi'
expect_match "the kernel's own panic line is there too" "$out" 'Attempted to kill init! exitcode=0x00000700'

out=$("$BOOTLAB" boot --kernel x86_64 --initrd "$T_TMP/segv.cpio.gz" < /dev/null 2>&1); rc=$?
expect_eq "qemu: NULL dereference -> signal 11 SIGSEGV" "$(last "$out")" \
	"outcome: panic (attempted to kill init, signal 11 SIGSEGV)"
expect_eq "exit 1" "$rc" 1

# how a boot ends (docs/machines.md): a reset nobody asked for is not a pass
out=$("$BOOTLAB" boot --kernel x86_64 --initrd "$T_TMP/reboot.cpio.gz" < /dev/null 2>&1); rc=$?
expect_eq "qemu: a guest that reboots by itself -> reboot, with its last words" "$(last "$out")" \
	'outcome: reboot (the guest restarted by itself (reboot: Restarting system) after "bye")'
expect_eq "a reboot exits 1" "$rc" 1
for how in poweroff halt; do
	t0=$(date +%s)
	out=$("$BOOTLAB" boot --kernel x86_64 --timeout 120s --initrd "$T_TMP/$how.cpio.gz" < /dev/null 2>&1); rc=$?
	secs=$(($(date +%s) - t0))
	expect_eq "qemu microvm: $how -f -> pass" "$(last "$out")" "outcome: pass"
	expect_eq "$how -f: exit 0" "$rc" 0
	check "$how -f: the boot ends at the kernel's last words, not the deadline (${secs}s)" test "$secs" -lt 60
done

# a Debian initramfs without root=: initramfs-tools' panic() reboots
# under panic=-1; that is a reboot, not a pass
ck=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
ci=/boot/initrd.img-${ck#/boot/vmlinuz-}
if [ -n "$ck" ] && [ -r "$ci" ]; then
	out=$("$BOOTLAB" boot --kernel "$ck" --initrd "$ci" --timeout 300s < /dev/null 2>&1); rc=$?
	expect_match "initramfs-tools without root= -> reboot naming why" "$(last "$out")" \
		'^outcome: reboot \(.*No root device specified.*" / "Rebooting automatically due to panic= boot argument"\)$'
	expect_eq "and exits 1" "$rc" 1
else
	skip "no Debian cloud kernel and initrd in /boot" "initramfs-tools without root= -> reboot"
fi

# --expect: pass as soon as a line matches, and the boot ends there
t0=$(date +%s)
out=$("$BOOTLAB" boot --kernel x86_64 --initrd "$T_TMP/sleep.cpio.gz" --expect '^ready-for-input$' \
	< /dev/null 2>&1); rc=$?
secs=$(($(date +%s) - t0))
expect_eq "--expect matched -> pass" "$(last "$out")" "outcome: pass"
expect_eq "--expect: exit 0" "$rc" 0
check "--expect: the boot ended at the match, not after init's 60 s sleep (${secs}s)" test "$secs" -lt 50
out=$("$BOOTLAB" boot --kernel x86_64 --initrd "$T_TMP/exit7.cpio.gz" --expect 'never-printed' \
	< /dev/null 2>&1); rc=$?
expect_eq "--expect unmatched, init dies -> the panic" "$(last "$out")" \
	"outcome: panic (attempted to kill init, exit status 7)"
out=$("$BOOTLAB" boot --kernel x86_64 --expect 'a(' < /dev/null 2>&1); rc=$?
expect_match "--expect with a bad regex is named" "$out" "bad regex for --expect 'a\(': "
expect_eq "bad usage, exit 2" "$rc" 2

# piped input is held until the guest can read it: none of it is lost
out=$(printf 'typed-early\n' | "$BOOTLAB" boot --kernel x86_64 --initrd "$T_TMP/early.cpio.gz" \
	--timeout 60s 2>&1)
expect_match "input piped before the boot reaches /init whole" "$out" 'got:typed-early'
out=$(printf 'typed-early\n' | "$BOOTLAB" boot --kernel x86_64 --initrd "$T_TMP/early.cpio.gz" \
	--append quiet --timeout 60s 2>&1)
expect_match "with quiet and a silent /init too (sent 5 s after the start)" "$out" 'got:typed-early'

# the machine follows from the kernel's bytes, not its name
x86=$("$BOOTLAB" kernel path --arch x86_64)
for k in x86_64 "$x86"; do
	out=$("$BOOTLAB" -v boot --kernel "$k" --initrd "$T_TMP/exit7.cpio.gz" < /dev/null 2>&1)
	expect_match "--kernel $(basename "$k"): microvm" "$(grep '^bootlab: emulator:' <<<"$out")" ' microvm,acpi=off'
done

# stdin goes to the guest: type after the guest asks
out=$( (for i in $(seq 300); do grep -q ready-for-input "$T_TMP/read.out" 2>/dev/null && break; sleep 0.1; done
	echo typed-line) | "$BOOTLAB" boot --kernel x86_64 --initrd "$T_TMP/read.cpio.gz" 2>&1 | tee "$T_TMP/read.out")
expect_match "a line typed on stdin reaches the guest's /init" "$out" 'got:typed-line'
expect_eq "and its exit 3 is decoded" "$(last "$out")" "outcome: panic (attempted to kill init, exit status 3)"

# UML: the panic ends in SIGABRT (exit 134), still a panic from the console
out=$("$BOOTLAB" boot --kernel /usr/bin/linux --initrd "$T_TMP/exit7.cpio.gz" < /dev/null 2>&1); rc=$?
expect_eq "uml (Debian): exit 7 -> panic, exit status 7" "$(last "$out")" \
	"outcome: panic (attempted to kill init, exit status 7)"
expect_eq "exit 1" "$rc" 1
out=$("$BOOTLAB" boot --kernel /usr/bin/linux --initrd "$T_TMP/poweroff.cpio.gz" < /dev/null 2>&1); rc=$?
expect_eq "uml: poweroff -> pass" "$(last "$out")" "outcome: pass"
if um=$("$BOOTLAB" kernel path --arch um 2>/dev/null); then
	out=$("$BOOTLAB" boot --kernel "$um" --initrd "$T_TMP/segv.cpio.gz" < /dev/null 2>&1)
	expect_eq "uml (built): SIGSEGV decoded" "$(last "$out")" \
		"outcome: panic (attempted to kill init, signal 11 SIGSEGV)"
else
	skip "no built UML kernel in the cache" "uml (built): SIGSEGV decoded"
fi

# aarch64 on virt: the built Image and Debian's arm64 kernel
mkdir -p "$T_TMP/arm"
printf '#include <unistd.h>\nint main(void){write(1,"arm-init\\n",9); _exit(5);}\n' > "$T_TMP/arm5.c"
aarch64-linux-gnu-gcc -static -Os -o "$T_TMP/arm/init" "$T_TMP/arm5.c"
(cd "$T_TMP/arm" && find . | cpio -o -H newc --quiet | gzip -1) > "$T_TMP/arm5.cpio.gz"
out=$("$BOOTLAB" boot --kernel aarch64 --initrd "$T_TMP/arm5.cpio.gz" < /dev/null 2>&1)
expect_eq "aarch64 (built Image): exit 5 decoded" "$(last "$out")" \
	"outcome: panic (attempted to kill init, exit status 5)"
expect_match "aarch64: the guest's own output on the console" "$out" 'arm-init'
if deb=$("$BOOTLAB" kernel fetch --arch aarch64 -q 2>/dev/null); then
	out=$("$BOOTLAB" boot --kernel "$deb" --initrd "$T_TMP/arm5.cpio.gz" < /dev/null 2>&1)
	expect_eq "aarch64 (Debian): exit 5 decoded" "$(last "$out")" \
		"outcome: panic (attempted to kill init, exit status 5)"
else
	skip "Debian's arm64 kernel cannot be fetched" "aarch64 (Debian): exit 5 decoded"
fi

# on a terminal: raw mode while the guest runs (Ctrl-] arrives without a
# newline and ends the boot), the terminal restored afterwards
cat > "$T_TMP/pty.sh" <<PTY
stty -g > "$T_TMP/before"
"$BOOTLAB" boot --kernel x86_64 --initrd "$T_TMP/sleep.cpio.gz" > "$T_TMP/pty.out" 2>&1
echo \$? > "$T_TMP/pty.rc"
stty -g > "$T_TMP/after"
PTY
( for i in $(seq 300); do grep -q ready-for-input "$T_TMP/pty.out" 2>/dev/null && break; sleep 0.1; done
  printf '\035'; sleep 20 ) | timeout 120 script -qec "bash $T_TMP/pty.sh" /dev/null > /dev/null 2>&1
expect_match "Ctrl-] ends the boot at once (raw mode: no newline needed)" "$(cat "$T_TMP/pty.out")" \
	'^outcome: interrupted'
expect_eq "an interrupted boot exits 130" "$(cat "$T_TMP/pty.rc" 2>/dev/null)" 130
expect_match "on a terminal it says how to leave" "$(head -n 3 "$T_TMP/pty.out")" \
	'^bootlab boot: .*Ctrl-\] ends the boot'
check "the terminal's settings are restored" cmp -s "$T_TMP/before" "$T_TMP/after"
check "they were saved at all" test -s "$T_TMP/before"

# SIGTERM while the guest runs: the terminal is restored too
cat > "$T_TMP/pty2.sh" <<PTY
stty -g > "$T_TMP/before2"
"$BOOTLAB" boot --kernel x86_64 --initrd "$T_TMP/sleep.cpio.gz" > "$T_TMP/pty2.out" 2>&1 &
pid=\$!
for i in \$(seq 300); do grep -q ready-for-input "$T_TMP/pty2.out" && break; sleep 0.1; done
kill -TERM \$pid; wait \$pid; echo \$? > "$T_TMP/pty2.rc"
stty -g > "$T_TMP/after2"
PTY
sleep 30 | timeout 120 script -qec "bash $T_TMP/pty2.sh" /dev/null > /dev/null 2>&1
check "SIGTERM: terminal restored" cmp -s "$T_TMP/before2" "$T_TMP/after2"
expect_match "SIGTERM: an outcome line all the same" "$(tail -n 1 "$T_TMP/pty2.out")" '^outcome: interrupted'
expect_eq "SIGTERM: exit 130" "$(cat "$T_TMP/pty2.rc" 2>/dev/null)" 130

out=$("$BOOTLAB" boot --initrd "$T_TMP/exit7.cpio.gz" < /dev/null 2>&1); rc=$?
expect_eq "no --kernel is bad usage" "$rc" 2
out=$("$BOOTLAB" boot --kernel x86_64 --initrd "$T_TMP/nope.gz" < /dev/null 2>&1); rc=$?
expect_eq "a missing initrd is bad usage" "$rc" 2
expect_match "and named" "$out" "nope.gz"
x86=$("$BOOTLAB" kernel path --arch x86_64)
out=$("$BOOTLAB" boot --kernel "$x86" --backend uml < /dev/null 2>&1); rc=$?
expect_match "an x86_64 kernel image on uml is refused, naming both" "$out" "is for 'x86_64'.*needs 'um'"
expect_eq "as a setup error (exit 2)" "$rc" 2
no_emulator_left
done_testing
