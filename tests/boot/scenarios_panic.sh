#!/bin/bash
# timeout: 600
# scenarios/panic-on-exit.yaml: "Attempted to kill init!" with the decoded
# exitcode; panic=-1 ends the emulator at once, panic=0 hangs and bootlab
# ends it as a panic, not a timeout (docs/kernel-behaviour.md section 6,
# oracles 14 and 15).
. "$(dirname "$0")/scenarios_lib.sh"

run_library scenarios/panic-on-exit.yaml
p=panic-on-exit
all_pass 10 $p "$p[exit-1]" "$p[exit-127]" "$p[sigsegv]" "$p[panic-0]" "$p[panic-1]" "$p[init-args]" \
	"$p[aarch64]" "$p[aarch64-sigsegv]" "$p[uml]"
expect_eq "exit 0 decoded" "$(sv $p '.panic.message')" \
	'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000'
expect_eq "exit 127 decoded" "$(sv "$p[exit-127]" '.panic.message')" \
	'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00007f00'
expect_eq "SIGSEGV decoded" "$(sv "$p[sigsegv]" '.panic.message')" \
	'Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b'
for v in $p "$p[exit-1]" "$p[exit-127]" "$p[sigsegv]" "$p[init-args]"; do
	expect_eq "$v: the emulator exited by itself (panic=-1, -no-reboot)" "$(sv "$v" .emulator.exit)" "exited 0"
	console_lacks "$v" '---\[ end Kernel panic'
done
expect_eq "panic=0 boot ends as a panic, not a timeout" "$(sv "$p[panic-0]" .reason)" \
	"expected kernel panic: attempted to kill init, exit status 3"
expect_eq "panic=0 boot ended well before its 60 s deadline" \
	"$(sv "$p[panic-0]" '.duration_s < 30')" true
expect_eq "panic=0 command line carries panic=0 and not panic=-1" \
	"$(sv "$p[panic-0]" '.emulator.command | test("panic=0") and (test("panic=-1") | not)')" true
expect_eq "init-args: bootlab's panic=-1 before the --, init's panic=0 after it" \
	"$(sv "$p[init-args]" '.emulator.command | test("panic=-1 .*-- panic=0")')" true
console_has "$p[panic-1]" 'Rebooting in 1 seconds\.\.'
expect_eq "aarch64: exit 0 decoded" "$(sv "$p[aarch64]" '.panic.message')" \
	'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000'
expect_eq "aarch64: hello from arm64" "$(sv "$p[aarch64]" '.hello.arch')" aarch64
expect_eq "aarch64: SIGSEGV decoded" "$(sv "$p[aarch64-sigsegv]" '.panic.message')" \
	'Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b'
expect_eq "uml: exit 3 decoded" "$(sv "$p[uml]" '.panic.message')" \
	'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000300'
# even with panic=0 (the panic_exit notifier)
console_lacks "$p[uml]" '---\[ end Kernel panic'
# UML aborts itself (SIGABRT); when the host lets it dump a core first, the
# dump can outlast bootlab's panic grace and bootlab kills it instead
st=$(sv "$p[uml]" .emulator.exit)
if [ "$st" = "killed by signal 9 (SIGKILL)" ]; then
	skip_unfixable "the host's core dump outlasted bootlab's panic grace" "uml: died of SIGABRT (oracle 19)"
else
	expect_eq "uml: the process died of SIGABRT despite panic=0 (oracle 19)" "$st" "killed by signal 6 (SIGABRT)"
fi
no_emulator_left
done_testing
