#!/bin/bash
# timeout: 300
# Infrastructure failures exit 3: the same smoke scenario with no QEMU on
# PATH (everything else in /usr/bin still there) is an emulator-error.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T_TMP/bin"
ln -s /usr/bin/* "$T_TMP/bin/"
rm -f "$T_TMP"/bin/qemu-system-*
out=$(PATH="$T_TMP/bin:/usr/sbin:/sbin" "$BOOTLAB" run --report-dir "$T_TMP/r" tests/data/scenarios/smoke-one.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "no emulator exits 3" "$rc" 3
j=$(ls "$T_TMP"/r/2*/report.json)
expect_eq "outcome emulator-error" "$(json_get "$j" '.scenarios[0].outcome')" emulator-error
expect_match "reason says the emulator could not run" "$(json_get "$j" '.scenarios[0].reason')" \
	"cannot run 'qemu-system-x86_64'"
no_emulator_left
done_testing
