#!/bin/bash
# bootlab compare: per-scenario, per-phase differences between two reports
# (tests/data/reports: old.json single runs, new.json --repeat 3 medians),
# the kernel reports new in NEW (new.json's smoke holds a real LKDTM
# WARNING report of scenarios/kernel-reports.yaml), and clear errors with
# exit 2 for files that are not reports.
. "$(dirname "$0")/../lib.sh"
D=tests/data/reports

out=$("$BOOTLAB" compare $D/old.json $D/new.json 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "compare exits 0" "$rc" 0
# the block of one variant: from its title line to the blank line
block() { printf '%s\n' "$out" | awk -v n="$1" '$1 == n {p=1} p && /^$/ {exit} p'; }
smoke=$(block smoke)
expect_match "smoke: agent-hello 1.200 -> median 1.800, +0.600 s, +50.0%" "$smoke" \
	'^  agent-hello +1\.200 +1\.800 +\+0\.600 +\+50\.0%$'
expect_match "smoke: unchanged phase is +0" "$smoke" '^  run-init +1\.000 +1\.000 +\+0\.000 +\+0\.0%$'
expect_match "smoke: duration from the medians" "$smoke" '^  duration +1\.250 +1\.850 +\+0\.600 +\+48\.0%$'
expect_match "smoke: says the new side is a median of 3 runs" "$smoke" 'median of 1 -> 3 runs'
raid=$(block raid-root)
expect_match "raid-root: outcome change shown" "$raid" 'outcome pass -> timeout'
expect_match "raid-root: switch-root got faster" "$raid" '^  switch-root +3\.000 +2\.000 +-1\.000 +-33\.3%$'
expect_match "variant only in NEW" "$(block brand-new)" 'only in NEW'
expect_match "variant only in OLD" "$(block gone-away)" 'only in OLD'
expect_match "phase only in NEW marked new" "$(block brand-new)" '^  end +- +1\.000 +new'
expect_eq "smoke has no switch-root row (reached by neither)" "$(printf '%s\n' "$smoke" | grep -c switch-root)" 0

# reports without timing (phases only) still compare
jq 'del(.scenarios[].timing)' $D/new.json > "$T_TMP/notiming.json"
out=$("$BOOTLAB" compare $D/old.json "$T_TMP/notiming.json" 2>&1); rc=$?
expect_eq "report without timing: exit 0" "$rc" 0
expect_match "falls back to the shown run's phases (smoke run 3: 2.000)" "$(block smoke)" \
	'^  agent-hello +1\.200 +2\.000 +\+0\.800 +\+66\.7%$'
# a folder stands for its report.json
mkdir -p "$T_TMP/run1" && cp $D/old.json "$T_TMP/run1/report.json"
out=$("$BOOTLAB" compare "$T_TMP/run1" $D/new.json 2>&1); rc=$?
expect_eq "folder argument: exit 0" "$rc" 0
out=$("$BOOTLAB" compare --filter '^smoke$' $D/old.json $D/new.json 2>&1)
expect_eq "--filter keeps one variant" "$(printf '%s\n' "$out" | grep -cE '^[a-z]')" 1

# bad input: exit 2, a message naming the file and what is wrong
bad() { # NAME WANT-REGEX ARGS...
	local name="$1" want="$2"; shift 2
	local o; o=$("$BOOTLAB" compare "$@" 2>&1); local r=$?
	expect_eq "$name: exit 2" "$r" 2
	expect_match "$name: message" "$o" "$want"
}
bad "missing file" "nope\.json.*No such file" $D/old.json "$T_TMP/nope.json"
printf '{"schema": "bootlab-report/1",\n  "scenarios": [\n' > "$T_TMP/trunc.json"
bad "truncated JSON" "trunc\.json':3:[0-9]+: not valid JSON" "$T_TMP/trunc.json" $D/new.json
echo '{"a": 1}' > "$T_TMP/other.json"
bad "JSON that is not a report" "other\.json': not a bootlab report" $D/old.json "$T_TMP/other.json"
jq '.schema = "bootlab-report/9"' $D/old.json > "$T_TMP/future.json"
bad "newer schema" "future\.json': report schema 'bootlab-report/9' is newer" "$T_TMP/future.json" $D/new.json
jq '.scenarios = {}' $D/old.json > "$T_TMP/noscen.json"
bad "scenarios not a list" "field 'scenarios': not a list" "$T_TMP/noscen.json" $D/new.json
jq 'del(.scenarios[1].name)' $D/old.json > "$T_TMP/noname.json"
bad "scenario without name" "field 'scenarios\[1\]\.name': missing" "$T_TMP/noname.json" $D/new.json
bad "one argument" "need two reports" $D/old.json
bad "unknown option" "unknown option '--bogus'" --bogus $D/old.json $D/new.json
out=$("$BOOTLAB" compare --help); rc=$?
expect_eq "--help exits 0" "$rc" 0
# kernel reports: new by signature, once each, and counted
out=$("$BOOTLAB" compare $D/old.json $D/new.json 2>&1)
expect_match "smoke: its WARNING is new in NEW" "$(block smoke)" \
	'^  new kernel report: 6f960cd44ee65d4f warning: WARNING in lkdtm_WARNING \(allowed\)$'
expect_match "the count of new kernel reports" "$out" '^1 new kernel report in NEW$'
out=$("$BOOTLAB" compare $D/new.json $D/new.json 2>&1)
expect_match "NEW against itself: none new" "$out" '^0 new kernel reports in NEW$'
jq '.scenarios[0].kernel_reports += .scenarios[0].kernel_reports' $D/new.json > "$T_TMP/twice.json"
out=$("$BOOTLAB" compare $D/old.json "$T_TMP/twice.json" 2>&1)
expect_eq "a signature the kernel repeated is listed once" "$(grep -c '^  new kernel report' <<<"$out")" 1
jq '.scenarios[0].kernel_reports[0].signature = "0000000000000000"' $D/new.json > "$T_TMP/other.json"
out=$("$BOOTLAB" compare $D/new.json "$T_TMP/other.json" 2>&1)
expect_match "another signature is new" "$out" '^  new kernel report: 0000000000000000 warning'
# a kernel report that is not one: exit 2 naming the field
kbad() { # NAME WANT JQ-EDIT
	jq ".scenarios[0].kernel_reports[0] |= ($3)" $D/new.json > "$T_TMP/k.json"
	bad "kernel report $1" "k\.json': field 'scenarios\[0\]\.kernel_reports\[0\]\.$2" $D/old.json "$T_TMP/k.json"
}
kbad "unknown class" "class': unknown value 'warn'" '.class = "warn"'
kbad "class none" "class': unknown value 'none'" '.class = "none"'
kbad "title null" "title': null" '.title = null'
kbad "line 0" "line': out of range" '.line = 0'
kbad "pid a string" "pid': not an integer" '.pid = "17"'
kbad "negative guest time" "guest_s': a negative time" '.guest_s = -1'
kbad "nine frames" "frames': more than 8 frames" '.frames = [range(9) | "f"]'
kbad "a frame not a string" "frames\[1\]': not a string" '.frames = ["a", 1]'
kbad "task longer than the kernel's" "task': too long" '.task = "0123456789012345678901234567890123"'
kbad "no body" "body': missing" 'del(.body)'
kbad "fails not a boolean" "fails': not a boolean" '.fails = "yes"'
jq '.scenarios[0].kernel_reports = {}' $D/new.json > "$T_TMP/k.json"
bad "kernel_reports not a list" "field 'scenarios\[0\]\.kernel_reports': not a list" $D/old.json "$T_TMP/k.json"

# stage 1 of observed boots: typed events read back, per argv[0]
# obs ARGV0 SECONDS: an observed stage 1 where PID 1 ran ARGV0 for SECONDS
obs() {
	jq --arg p "$1" --argjson d "$2" '.scenarios[0].observed = {dropped: 0, events: [
		{event: "start", guest_s: 0.5, printk_clock: true, init: "/init"},
		{event: "exec", guest_s: 1, printk_clock: true, pid: 7, ppid: 1, argv: [$p, "1"], exe: "/bin/x"},
		{event: "exit", guest_s: (1 + $d), printk_clock: true, pid: 7, ppid: 1, status: 0},
		{event: "exec", guest_s: 1.5, printk_clock: true, pid: 8, ppid: 1, argv: ["false"], exe: "/bin/x"},
		{event: "exit", guest_s: 1.6, printk_clock: true, pid: 8, ppid: 1, status: 1},
		{event: "switch_root", guest_s: (2 + $d), printk_clock: true, pid: 1}]}' $D/old.json
}
obs /bin/sleep 0.2 >"$T_TMP/o1.json"
obs /bin/sleep 1.2 >"$T_TMP/o2.json"
out=$("$BOOTLAB" compare "$T_TMP/o1.json" "$T_TMP/o2.json" 2>&1); rc=$?
expect_eq "observed reports: exit 0" "$rc" 0
expect_match "stage 1: a program's time in OLD and NEW, with its runs" "$out" \
	'^  /bin/sleep +0\.200 +1\.200 +\+1\.000 +\+500\.0%  runs 1 -> 1$'
expect_match "stage 1: a failed program counted" "$out" '^  false +0\.100 +0\.100 +\+0\.000 +\+0\.0%  runs 1 -> 1, failed 1 -> 1$'
expect_match "stage 1: the root change's guest time" "$out" '^  root change +2\.200 +3\.200 +\+1\.000 '
out=$("$BOOTLAB" compare "$T_TMP/o1.json" $D/old.json 2>&1)
expect_match "stage 1 observed in OLD only: said" "$out" '^  stage 1 \(observed; guest s\): not in NEW$'
obs "$(printf '\033]0;pwned\007')" 1 >"$T_TMP/o3.json"
out=$("$BOOTLAB" compare "$T_TMP/o1.json" "$T_TMP/o3.json" 2>&1)
expect_match "a guest's argv[0] with terminal escapes is printed escaped" "$out" '^  \\x1b\]0;pwned\\x07 '
obad() { # NAME WANT JQ-EDIT (of the second event)
	jq ".scenarios[0].observed.events[1] |= ($3)" "$T_TMP/o1.json" > "$T_TMP/ob.json"
	bad "observed $1" "ob\.json': field 'scenarios\[0\]\.observed\.events\[1\]\.$2" $D/old.json "$T_TMP/ob.json"
}
obad "unknown event" "event': unknown value 'fork'" '.event = "fork"'
obad "argv not strings" "argv': holds something else than strings" '.argv = [1]'
obad "negative time" "guest_s': a negative time" '.guest_s = -2'
obad "pid a string" "pid': not an integer" '.pid = "7"'
obad "no clock flag" "printk_clock': missing" 'del(.printk_clock)'
jq '.scenarios[0].observed.events = 3' "$T_TMP/o1.json" > "$T_TMP/ob.json"
bad "observed events not a list" "field 'scenarios\[0\]\.observed\.events': not a list" $D/old.json "$T_TMP/ob.json"
check "fixtures are valid reports" "$BOOTLAB_HOME/tests/tools/check-report" $D/old.json $D/new.json "$T_TMP/o1.json"
done_testing
