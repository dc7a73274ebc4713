#!/bin/bash
# timeout: 300
# --gdb (docs/repro.md, "Debugging with gdb") on bootlab boot and bootlab
# repro, with bootlab's x86_64 kernel on QEMU: bootlab prints the gdb
# command (the cached vmlinux, the stub's port), the guest stays stopped
# until gdb continues, and `gdb -batch` with that command sets a
# breakpoint on run_init_process, continues, and reads the registers: the
# pc is the symbol's address and rdi points at "/init". After gdb detaches
# the boot runs on to its outcome.
. "$(dirname "$0")/../lib.sh"

if ! command -v gdb >/dev/null; then skip "no gdb (ci/install-deps)" "--gdb"; done_testing; exit; fi
K=$("$BOOTLAB" kernel build --arch x86_64 -q) || K=
check "the project's x86_64 kernel is built" test -f "$K"
printf '#!/bin/busybox sh\n/bin/busybox echo gdb-test: init ran\nexit 3\n' | busybox_initrd "$T_TMP/init.cpio.gz"

# wait_cmd ERRFILE: the gdb command bootlab printed (within 60 s)
wait_cmd() {
	for _ in $(seq 600); do
		grep -q "target remote" "$1" 2>/dev/null && break
		sleep 0.1
	done
	sed -n "s/^  \(gdb .*target remote 127\.0\.0\.1:[0-9]*'\)$/\1/p" "$1"
}
# attach NAME CMD: gdb -batch with CMD, a breakpoint on run_init_process
attach() {
	eval "$2 -batch -ex 'hbreak run_init_process' -ex continue -ex 'info registers rip' -ex 'x/s \$rdi'" \
		>"$T_TMP/$1.gdb" 2>&1
	sed 's/^/# gdb: /' "$T_TMP/$1.gdb"
}

"$BOOTLAB" boot --gdb --kernel "$K" --initrd "$T_TMP/init.cpio.gz" --timeout 120s </dev/null \
	>"$T_TMP/boot.out" 2>"$T_TMP/boot.err" &
pid=$!
cmd=$(wait_cmd "$T_TMP/boot.err")
expect_match "boot --gdb prints the gdb command with the cached vmlinux and the stub's port" "$cmd" \
	"^gdb -q $(dirname "$K")/vmlinux -ex 'target remote 127\.0\.0\.1:[0-9]+'$"
sleep 1
no_match "the guest is stopped until gdb continues: no console output yet" 'Linux version' "$T_TMP/boot.out"
attach boot "$cmd"
rip=$(awk '$1 == "rip" { print $2 }' "$T_TMP/boot.gdb")
expect_eq "gdb stopped at the breakpoint: rip is run_init_process's address (nm)" \
	"$rip" "0x$(nm "$(dirname "$K")/vmlinux" | awk '$3 == "run_init_process" { print $1 }')"
expect_match "gdb read rdi, the init run_init_process is given" "$(cat "$T_TMP/boot.gdb")" ':[[:space:]]+"/init"$'
wait "$pid"
expect_eq "after gdb detached the boot ran on: exit 1" "$?" 1
expect_match "... to its outcome" "$(cat "$T_TMP/boot.out")" '^outcome: panic \(attempted to kill init, exit status 3\)$'
check "the kernel booted with nokaslr" grep -q 'Command line: .*nokaslr' "$T_TMP/boot.out"

# repro --gdb of a failed variant of tests/data/scenarios/repro.yaml
"$BOOTLAB" run --report-dir "$T_TMP/r" --filter 'exit-7' tests/data/scenarios/repro.yaml >/dev/null 2>&1
P="$(readlink -f "$T_TMP/r/latest")/repro_exit-7_"
"$BOOTLAB" repro --gdb "$P" </dev/null >"$T_TMP/repro.out" 2>"$T_TMP/repro.err" &
pid=$!
cmd=$(wait_cmd "$T_TMP/repro.err")
expect_match "repro --gdb prints the gdb command" "$cmd" "^gdb -q .*/vmlinux -ex 'target remote 127\.0\.0\.1:[0-9]+'$"
attach repro "$cmd"
expect_match "repro --gdb: gdb stopped in run_init_process" "$(cat "$T_TMP/repro.gdb")" \
	'^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <run_init_process>$'
wait "$pid"
expect_match "repro --gdb: then the recorded outcome" "$(cat "$T_TMP/repro.out")" '^repro: same outcome \(panic\)$'
no_emulator_left
done_testing
