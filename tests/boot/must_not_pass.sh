#!/bin/bash
# timeout: 300
# A boot that must not pass: rdinit=/does-not-exist. The kernel falls back,
# finds no root device and panics; bootlab must say so, not "pass".
. "$(dirname "$0")/../lib.sh"

out=$("$BOOTLAB" run --report-dir "$T_TMP/r" tests/data/scenarios/rdinit-missing.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "bootlab run exits 1" "$rc" 1
j=$(ls "$T_TMP"/r/2*/report.json | head -1)
outcome=$(json_get "$j" '.scenarios[0].outcome')
check "outcome is not pass" test "$outcome" != pass
expect_eq "outcome is panic" "$outcome" panic
expect_eq "panic reason is vfs" "$(json_get "$j" '.scenarios[0].panic.reason')" vfs
expect_match "report holds the kernel's message" "$(json_get "$j" '.scenarios[0].panic.message')" \
	'^Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block\(0,0\)'
expect_match "events hold the root device message" "$(json_get "$j" '[.scenarios[0].events[].line] | join("\n")')" \
	'VFS: Cannot open root device'
expect_match "junit has the failure" "$(cat "$(dirname "$j")/junit.xml")" '<failure type="panic"'
no_emulator_left
done_testing
