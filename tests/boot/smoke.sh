#!/bin/bash
# timeout: 600
# The walking skeleton end to end: a real kernel boots the agent, which says
# hello over virtio-serial; bootlab checks the hello and writes the reports.
# scenarios/smoke.yaml is a matrix (qemu x86_64, UML, qemu aarch64): every
# row must pass; the facts below are the qemu x86_64 row's.
. "$(dirname "$0")/../lib.sh"

# its own boot log (tests/run's count gets the lines after)
out=$(BOOTLAB_BOOT_LOG="$T_TMP/boots" "$BOOTLAB" run --report-dir "$T_TMP/r" scenarios/smoke.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "bootlab run smoke exits 0" "$rc" 0
expect_eq "BOOTLAB_BOOT_LOG: one line per emulator started, its backend" \
	"$(sort "$T_TMP/boots" 2>&1 | tr '\n' ' ')" "qemu qemu uml "
[ -z "${BOOTLAB_BOOT_LOG:-}" ] || cat "$T_TMP/boots" >> "$BOOTLAB_BOOT_LOG"
for row in 'arch=x86_64,backend=qemu' 'arch=x86_64,backend=uml' 'arch=aarch64,backend=qemu'; do
	expect_match "one line for smoke[$row] with outcome and time" "$out" "^PASS +smoke\\[$row\\] +pass +[0-9.]+s"
done
rep=$(ls -d "$T_TMP"/r/2*/ | head -1)
check "report.json written" test -s "$rep/report.json"
# the x86_64 qemu row, alone in a report of its own view
jq '.scenarios |= map(select(.name == "smoke[arch=x86_64,backend=qemu]"))' "$rep/report.json" > "$T_TMP/row.json"
j="$T_TMP/row.json"
expect_eq "three rows" "$(json_get "$rep/report.json" '.scenarios | length')" 3
expect_eq "outcome pass" "$(json_get "$j" '.scenarios[0].outcome')" pass
expect_eq "hello pid is 1" "$(json_get "$j" '.scenarios[0].hello.pid')" 1
expect_eq "hello stage 1" "$(json_get "$j" '.scenarios[0].hello.stage')" 1
expect_match "hello cmdline has the scenario's words" "$(json_get "$j" '.scenarios[0].hello.cmdline')" 'bootlab\.smoke=1'
expect_eq "fd 0 open on /dev/console 5:1" "$(json_get "$j" '.scenarios[0].hello.fds[0].rdev')" "5:1"
expect_match "hello carries CLOCK_BOOTTIME" "$(json_get "$j" '.scenarios[0].hello.boottime_ns')" '^[0-9]+$'
expect_match "hello names its channel" "$(json_get "$j" '.scenarios[0].hello.channel')" '^virtio:/dev/vport'
expect_eq "agent-hello phase recorded" "$(json_get "$j" '[.scenarios[0].phases[].name] | index("agent-hello") != null')" true
expect_eq "no panic" "$(json_get "$j" '.scenarios[0].panic')" null
check "junit.xml is well-formed" xmllint --noout "$rep/junit.xml"
expect_eq "junit has three passing testcases" \
	"$(xmllint --xpath 'count(//testcase[not(failure) and not(error)])' "$rep/junit.xml")" 3
log="$rep/$(json_get "$j" '.scenarios[0].console_log')"
check "console log written" test -s "$log"
check "reports/latest points at the run" test -e "$T_TMP/r/latest/report.json"
no_emulator_left
done_testing
