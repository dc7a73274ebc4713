#!/bin/bash
# timeout: 400
# A step of each kind against a real kernel (tests/data/scenarios/
# steps-all.yaml, rescue-shell.yaml), seven variants run with -j 2: hello,
# console wait, send, agent with expect and with error, panic, outcome,
# and an Expect script that answers a busybox-static rescue shell's prompt
# on the console. Variants that must fail prove each check can fail.
. "$(dirname "$0")/../lib.sh"
D=tests/data/scenarios

out=$("$BOOTLAB" run -j 2 --report-dir "$T_TMP/r" $D/steps-all.yaml $D/rescue-shell.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "run exits 1 (some variants must fail)" "$rc" 1
j=$(ls "$T_TMP"/r/*/report.json | head -1)
dir=$(dirname "$j")
o() { jq -r --arg n "$1" '.scenarios[] | select(.name == $n) | .outcome' "$j"; }
msg() { jq -r --arg n "$1" '.scenarios[] | select(.name == $n) | .reason' "$j"; }
step() { jq -r --arg n "$1" --argjson i "$2" '.scenarios[] | select(.name == $n) | .steps[$i] | "\(.kind) \(.result)"' "$j"; }

expect_eq "run prints the HTML page's path, and it is there" \
	"$(sed -n 's/^html: //p' <<<"$out")" "$dir/index.html"
check "the page it names exists" test -s "$(sed -n 's/^html: //p' <<<"$out")"
expect_eq "jobs recorded" "$(json_get "$j" .jobs)" 2
expect_eq "seven variants reported" "$(json_get "$j" '.scenarios | length')" 7
expect_eq "junit has seven testcases" "$(xmllint --xpath 'count(//testcase)' "$dir/junit.xml")" 7
expect_match "junit step lines are numbered once" "$(cat "$dir/junit.xml")" '(^|<system-out>)1: hello'
check "and never twice ('step 1 1: ...')" test "$(grep -cE '^step [0-9]+ [0-9]+:' "$dir/junit.xml")" = 0

# steps-all: every kind passes in one boot
expect_eq "steps-all passes" "$(o steps-all)" pass
kinds=$(jq -r '.scenarios[] | select(.name == "steps-all") | [.steps[] | "\(.kind):\(.result)"] | join(" ")' "$j")
expect_eq "steps-all: kinds and results" "$kinds" \
	"hello:pass console:pass send:pass agent:pass agent:pass agent:pass agent:pass panic:pass outcome:pass"
expect_eq "hello step checked pid 1" "$(jq -r '.scenarios[] | select(.name == "steps-all") | .steps[0].reply.pid' "$j")" 1
expect_match "console step kept the matching line" \
	"$(jq -r '.scenarios[] | select(.name == "steps-all") | .steps[1].reply.line' "$j")" 'Run /init as init process'
expect_eq "agent error step saw ENOENT" "$(jq -r '.scenarios[] | select(.name == "steps-all") | .steps[4].reply.error' "$j")" ENOENT
expect_eq "panic decoded: exit status 3" "$(jq -r '.scenarios[] | select(.name == "steps-all") | .panic.exit_status' "$j")" 3
expect_match "expected panic named in the reason" "$(msg steps-all)" 'expected kernel panic: attempted to kill init, exit status 3'

# the failing variants fail for the right reason
expect_eq "wrong-expect fails" "$(o 'steps-all[wrong-expect]')" fail
expect_match "wrong-expect names the field and both values" "$(msg 'steps-all[wrong-expect]')" "'size' is 6, expected 7"
expect_eq "missing-error fails" "$(o 'steps-all[missing-error]')" fail
expect_match "missing-error says the op succeeded" "$(msg 'steps-all[missing-error]')" "'stat' succeeded, expected ENOENT"
expect_eq "outcome: panic turns a panic into a pass" "$(o 'steps-all[outcome-panic]')" pass
expect_eq "outcome step passed" "$(step 'steps-all[outcome-panic]' 2)" "outcome pass"
expect_eq "outcome: pass on a panicking boot is not a pass" "$(o 'steps-all[outcome-mismatch]')" panic
expect_eq "mismatching outcome step failed" "$(step 'steps-all[outcome-mismatch]' 2)" "outcome fail"

# the rescue shell and its Expect script
expect_eq "rescue-shell passes" "$(o rescue-shell)" pass
expect_eq "expect-script step passed" "$(step rescue-shell 1)" "expect-script pass"
expect_eq "send step passed" "$(step rescue-shell 2)" "send pass"
log="$dir/$(jq -r '.scenarios[] | select(.name == "rescue-shell") | .console_log' "$j")"
expect_match "the shell printed the prompt and the command" "$(cat "$log")" 'rescue# .*echo \$\(\(6\*7\)\)'
expect_match "the shell answered 42" "$(cat "$log")" '^ *[0-9.]+  42$'
expect_match "the emulator exited after reboot -f" \
	"$(jq -r '.scenarios[] | select(.name == "rescue-shell") | .emulator.exit' "$j")" '^exited 0$'
expect_eq "wrong answer fails" "$(o 'rescue-shell[wrong-answer]')" fail
expect_match "wrong answer: the script's exit status is the reason" "$(msg 'rescue-shell[wrong-answer]')" \
	"expect script '.*rescue-43\.exp' exited 1: shell said 42$"
expect_eq "summary: 3 pass" "$(json_get "$j" .summary.pass)" 3

# what the report names is still there: a failed boot's initrd is kept
# beside its console log, a passed one's is named as gone
kept=$(jq -r '.scenarios[] | select(.name == "rescue-shell[wrong-answer]") | .initrd' "$j")
expect_eq "a failed boot's initrd is kept in the report folder" "$kept" "rescue-shell_wrong-answer_.initrd"
expect_match "and it is the archive that was booted" "$("$BOOTLAB" archive list "$dir/$kept" 2>&1)" 'bin/busybox'
expect_eq "a passed boot's initrd is null (removed with its work folder)" \
	"$(jq -r '.scenarios[] | select(.name == "rescue-shell") | .initrd' "$j")" null
wd=$(jq -r '.scenarios[] | select(.name == "rescue-shell") | .emulator.work_dir' "$j")
expect_eq "the work folder is named as removed" \
	"$(jq -r '.scenarios[] | select(.name == "rescue-shell") | .emulator.work_dir_kept' "$j")" false
check "and it is indeed gone ($wd)" test ! -e "$wd" -a -n "$wd"
no_emulator_left
done_testing
