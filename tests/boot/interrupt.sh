#!/bin/bash
# timeout: 200
# Ctrl-C: a -j 2 run of four boots that would wait 100 s each gets SIGINT
# while two are running. bootlab must stop both emulators, write the
# report of what ran (the two interrupted boots, marked so) and exit 130;
# no emulator it started may outlive it.
. "$(dirname "$0")/../lib.sh"

"$BOOTLAB" run -j 2 --report-dir "$T_TMP/r" tests/data/scenarios/slow-variants.yaml > "$T_TMP/out" 2>&1 &
pid=$!
# wait until both boots run /init (the console logs are written line by line)
hellos=0
for _ in $(seq 1 600); do
	hellos=$(cat "$T_TMP"/r/*/*.console.log 2>/dev/null | grep -c 'Run /init as init process')
	[ "$hellos" -ge 2 ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
expect_eq "two boots running before the signal" "$hellos" 2
emus=$(pgrep -P $pid | tr '\n' ' ')
expect_eq "bootlab has two emulator children" "$(pgrep -a -P $pid | grep -c qemu-system)" 2
kill -INT $pid
# bootlab must end on its own, well before the boots' 100 s waits
for _ in $(seq 1 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then not_ok "bootlab ended after SIGINT"; kill -KILL $pid; else ok "bootlab ended after SIGINT"; fi
wait $pid; rc=$?
sed 's/^/# /' "$T_TMP/out"
expect_eq "exit status 130 (interrupted)" "$rc" 130
left=""
for e in $emus; do kill -0 "$e" 2>/dev/null && left="$left $e"; done
expect_eq "its emulators are gone" "$left" ""
j=$(ls "$T_TMP"/r/*/report.json 2>/dev/null | head -1)
check "report.json written after the interruption" test -s "$j"
expect_eq "report says interrupted" "$(json_get "$j" .interrupted)" true
expect_eq "two variants recorded (the others never started)" "$(json_get "$j" '.scenarios | length')" 2
expect_eq "both marked interrupted" "$(json_get "$j" '[.scenarios[].outcome] | unique | join(",")')" interrupted
expect_eq "counted as interrupted in the summary" "$(json_get "$j" .summary.interrupted)" 2
expect_match "reason says interrupted" "$(json_get "$j" '.scenarios[0].reason')" 'interrupted'
expect_eq "both ended by bootlab (last phase end)" "$(json_get "$j" '[.scenarios[].last_phase] | unique | join(",")')" end
# the signal came after both logged "Run /init" (the phase is recorded as
# the line is logged)
expect_eq "run-init recorded for both" "$(json_get "$j" '[.scenarios[].phases[] | select(.name == "run-init")] | length')" 2
check "junit.xml written" test -s "$(dirname "$j")/junit.xml"
check "index.html written" test -s "$(dirname "$j")/index.html"
expect_match "summary line says interrupted" "$(cat "$T_TMP/out")" '0 of 2 passed \(interrupted\)'
no_emulator_left
done_testing
