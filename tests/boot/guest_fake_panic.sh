#!/bin/bash
# timeout: 200
# EXPECTED TO FAIL until the console classifier (harness/session/classify.c)
# takes a panic only from kernel output (issue 16, item 6; pair with that
# work): /init echoes "Kernel panic - not syncing: ..." to /dev/console,
# without a printk time stamp, then the agent runs and answers
# (tests/data/scenarios/guest-fake-panic.yaml). No panic verdict may come.
. "$(dirname "$0")/scenarios_lib.sh"

run_library tests/data/scenarios/guest-fake-panic.yaml
v=guest-fake-panic
console_has $v '^ *[0-9.]+  Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000b00$'
expect_eq "the agent answered after the fake line" "$(step $v 2 .type)" file
expect_eq "no panic in the report" "$(sv $v .panic)" null
expect_eq "outcome pass" "$(sv $v .outcome)" pass
expect_eq "bootlab run exits 0" "$RC" 0
no_emulator_left
done_testing
