#!/bin/bash
# timeout: 600
# scenarios/init-selection.yaml: rdinit=, init=, no /init, a /init whose
# interpreter is missing, a non-executable /init with the /bin/sh fallback
# (docs/kernel-behaviour.md section 5, oracles 12 and 13).
. "$(dirname "$0")/scenarios_lib.sh"

run_library scenarios/init-selection.yaml
i=init-selection
all_pass 10 $i "$i[init-ignored]" "$i[no-init]" "$i[rdinit-missing]" "$i[interp-missing]" \
	"$i[mode-0644]" "$i[requested-init-fails]" "$i[aarch64]" "$i[aarch64-interp-missing]" "$i[uml-no-init]"
expect_eq "rdinit=: the agent's argv[0]" "$(sv $i '.hello.argv[0]')" /sbin/agent
expect_eq "init= ignored: argv[0] is /init" "$(sv "$i[init-ignored]" '.hello.argv[0]')" /init
for v in "$i[no-init]" "$i[rdinit-missing]"; do
	expect_eq "$v: VFS panic" "$(sv "$v" .panic.reason)" vfs
	expect_eq "$v: no hello" "$(sv "$v" .hello)" null
done
expect_eq "interpreter missing: no-init panic" "$(sv "$i[interp-missing]" .panic.reason)" no-init
console_has "$i[interp-missing]" 'Failed to execute /init \(error -2\)'
expect_eq "mode 0644: /bin/sh exited 7" "$(sv "$i[mode-0644]" .panic.message)" \
	'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000700'
expect_eq "init=/nope: Requested init panic" "$(sv "$i[requested-init-fails]" .panic.message)" \
	'Kernel panic - not syncing: Requested init /nope failed (error -2).'
expect_eq "aarch64: rdinit= argv[0]" "$(sv "$i[aarch64]" '.hello.argv[0]')" /sbin/agent
expect_eq "aarch64: interpreter missing: no-init panic" "$(sv "$i[aarch64-interp-missing]" .panic.reason)" no-init
expect_eq "uml: no /init: VFS panic on root=98:0" "$(sv "$i[uml-no-init]" .panic.message)" \
	'Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(98,0)'
no_emulator_left
done_testing
