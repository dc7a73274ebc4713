#!/bin/bash
# timeout: 120
# Errors found while preparing a boot (after the loader) still point at the
# scenario's file, line and column, exit 2, and boot nothing; the ones the
# loader can see are refused before anything is prepared.
. "$(dirname "$0")/../lib.sh"

out=$("$BOOTLAB" run --report-dir "$T_TMP/r" tests/data/scenarios/bad-disk-fit.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "disk layout that does not fit exits 2" "$rc" 2
expect_match "message has file:line:col and the field" "$out" \
	'bad-disk-fit\.yaml:18:16: disks\[0\]\.partitions\[1\]\.size: partition of 16384 KiB starting at sector 18432 does not fit on the disk'
j=$(ls "$T_TMP"/r/2*/report.json)
expect_eq "outcome setup-error" "$(json_get "$j" '.scenarios[0].outcome')" setup-error
expect_eq "nothing was booted" "$(json_get "$j" '.scenarios[0].emulator.command')" null

# a name harness/disk does not know is found when the scenario loads
out=$("$BOOTLAB" run --report-dir "$T_TMP/r2" tests/data/scenarios/bad-disk-type.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "bad disk layout exits 2" "$rc" 2
expect_match "message has file:line:col and the field" "$out" \
	'bad-disk-type\.yaml:16:26: disks\[0\]\.partitions\[0\]\.type: unknown partition type .nosuchtype.'
check "refused before anything is prepared" test ! -e "$T_TMP/r2"
done_testing
