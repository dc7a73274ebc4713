#!/bin/bash
# timeout: 200
# Kernel lines against the guest's: /init echoes "Kernel panic - not
# syncing: ..." to /dev/console without a printk time stamp, then the agent
# runs and answers (tests/data/scenarios/guest-fake-panic.yaml): no panic
# verdict may come. And the kernel's real panic starting in the middle of a
# guest's line (tests/data/scenarios/panic-mid-line.yaml) is a panic.
. "$(dirname "$0")/scenarios_lib.sh"

run_library tests/data/scenarios/guest-fake-panic.yaml
v=guest-fake-panic
console_has $v '^ *[0-9.]+  Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000b00$'
expect_eq "the agent answered after the fake line" "$(step $v 2 .type)" file
expect_eq "no panic in the report" "$(sv $v .panic)" null
expect_eq "outcome pass" "$(sv $v .outcome)" pass
expect_eq "bootlab run exits 0" "$RC" 0

run_library tests/data/scenarios/panic-mid-line.yaml
v=panic-mid-line
expect_eq "a panic cutting into a guest's line: the panic, init's exit status 1" \
	"$(sv $v '.panic | "\(.reason) \(.exit_status)"')" "kill-init 1"
expect_eq "and the scenario passes" "$(sv $v .outcome)" pass
no_emulator_left
done_testing
