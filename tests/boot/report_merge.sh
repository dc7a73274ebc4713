#!/bin/bash
# bootlab report merge and bootlab run --retry, on real UML boots (the
# agent's hello, ~0.1 s each once the UML kernel is cached): three shards
# merged equal one unsharded run; a variant that fails once and then
# passes (an Expect step that needs a marker file on the host and makes
# it) is flaky under --retry and when two runs are merged; bad inputs get
# an error naming the file and field, exit 2, and no OUT.
. "$(dirname "$0")/../lib.sh"
S="$T_TMP/sc"
mkdir -p "$S"
# uml_scenario NAME DESCRIPTION [STEP]: the agent's hello on UML, STEP
# (a YAML step line, optional), then power off
uml_scenario() {
	printf 'name: %s\ndescription: %s\nbackend: uml\ntimeout: 30s\n' "$1" "$2"
	printf 'archives:\n  - name: main\n    codec: none\n    entries:\n      - agent: /init\n'
	printf 'steps:\n  - hello:\n      stage: 1\n'
	[ -z "$3" ] || printf '  %s\n' "$3"
	printf '  - agent: {op: poweroff}\n  - outcome: pass\n'
}
for n in a b c d e f; do uml_scenario "mini-$n" "agent hello on UML" > "$S/mini-$n.yaml"; done
# name and outcome per variant, sorted
verdicts() { jq -r '.scenarios[] | "\(.name) \(.outcome)"' "$1" | sort; }

# ---- three shards merged == one unsharded run ----
"$BOOTLAB" run -j2 --report-dir "$T_TMP/full" "$S"/mini-*.yaml > "$T_TMP/full.out" 2>&1
expect_eq "unsharded run passes" "$?" 0
for i in 1 2 3; do
	"$BOOTLAB" run -j2 --report-dir "$T_TMP/s$i" --shard "$i/3" "$S"/mini-*.yaml > "$T_TMP/s$i.out" 2>&1
done
shards=$(for i in 1 2 3; do jq -r '.scenarios | length' "$T_TMP"/s$i/latest/report.json; done | awk "{s+=\$1} END {print s}")
expect_eq "the three shards hold the six variants between them" "$shards" 6
out=$("$BOOTLAB" report merge "$T_TMP"/s1/latest "$T_TMP"/s2/latest "$T_TMP"/s3/latest -o "$T_TMP/merged" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "merge exits 0" "$rc" 0
M="$T_TMP/merged/report.json"
expect_eq "merged variants and outcomes equal the unsharded run's" "$(verdicts "$M")" "$(verdicts "$T_TMP"/full/latest/report.json)"
expect_match "merge prints run's summary line" "$out" "^6 of 6 passed; report: $T_TMP/merged/report.json$"
expect_eq "each variant says which shard it ran on" \
	"$(jq -r '[.scenarios[].ran_on.shard] | sort | unique | join(" ")' "$M")" "1/3 2/3 3/3"
expect_eq "merged_from names the three runs" "$(jq -r '.merged_from | length' "$M")" 3
missing=0
for f in $(jq -r '.scenarios[].repetitions[].console_log' "$M"); do
	[ -s "$T_TMP/merged/$f" ] || missing=$((missing + 1))
done
expect_eq "every console log is copied into OUT" "$missing" 0
expect_eq "index.html links every console log" \
	"$(grep -o 'href="mini-[a-f].console.log"' "$T_TMP/merged/index.html" | sort -u | wc -l)" 6
expect_eq "junit.xml has one testcase per variant" "$(grep -c '<testcase ' "$T_TMP/merged/junit.xml")" 6
# the same run given twice (its folder and reports/latest): each boot once
"$BOOTLAB" report merge "$T_TMP"/s1/latest "$T_TMP"/s1/2* "$T_TMP"/s2/latest "$T_TMP"/s3/latest \
	-o "$T_TMP/merged2" > /dev/null 2>&1
expect_eq "a run given twice is kept once" "$(jq '[.scenarios[].repetitions | length] | add' "$T_TMP/merged2/report.json")" 6
"$BOOTLAB" report merge "$T_TMP"/s1/latest "$T_TMP"/s2/latest "$T_TMP"/s3/latest -o "$T_TMP/slash/" > /dev/null 2>&1
check "-o OUT/ (a trailing slash) makes OUT" test -s "$T_TMP/slash/report.json"
out=$("$BOOTLAB" report merge "$T_TMP"/s1/latest "$T_TMP"/s2/latest -o "$T_TMP/merged3" 2>&1)
expect_match "a missing shard is named" "$out" "no report of shard 3/3"

# ---- flaky: fails once, then passes ----
cat > "$S/flaky.exp" <<'EXP'
# passes only when the marker file exists on the host, and makes it
log_user 0
if {[file exists $env(BL_TEST_MARKER)]} { exit 0 }
close [open $env(BL_TEST_MARKER) w]
exit 1
EXP
uml_scenario flaky "fails once, then passes (a marker file on the host)" \
	"- expect-script: flaky.exp" > "$S/flaky.yaml"
export BL_TEST_MARKER="$T_TMP/marker"
out=$("$BOOTLAB" run --report-dir "$T_TMP/noretry" "$S/flaky.yaml" 2>&1); rc=$?
expect_eq "without --retry the first boot fails the run" "$rc" 1
rm -f "$BL_TEST_MARKER"
out=$("$BOOTLAB" run --report-dir "$T_TMP/retry" --retry 2 "$S/flaky.yaml" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "--retry 2: exit 0 (flaky passed on its retry)" "$rc" 0
expect_match "the summary counts it flaky, not passed" "$out" "^0 of 1 passed, 1 flaky \(2 boots\)"
R="$T_TMP/retry/latest"
expect_eq "its outcome is flaky" "$(json_get $R/report.json '.scenarios[0].outcome')" flaky
expect_eq "summary.flaky 1, pass 0" "$(json_get $R/report.json '"\(.summary.flaky) \(.summary.pass)"')" "1 0"
expect_eq "both attempts in the report" \
	"$(json_get $R/report.json '[.scenarios[0].repetitions[] | "\(.attempt):\(.outcome)"] | join(" ")')" "1:fail 2:pass"
expect_eq "each attempt has its own console log" \
	"$(json_get $R/report.json '[.scenarios[0].repetitions[].console_log] | join(" ")')" "flaky.console.log flaky.a2.console.log"
check "the attempt 2 log is there" test -s "$R/flaky.a2.console.log"
expect_eq "junit: a flaky testcase has no failure" "$(grep -c '<failure' "$R/junit.xml")" 0
expect_match "junit: system-out says flaky" "$(cat "$R/junit.xml")" "flaky: passed on one attempt"
rm -f "$BL_TEST_MARKER"
out=$("$BOOTLAB" run --report-dir "$T_TMP/nopass" --retry 1 "$S/mini-a.yaml" "$S/flaky.yaml" --filter '^mini-a$' 2>&1); rc=$?
expect_eq "--retry with nothing failing boots once" "$(json_get "$T_TMP"/nopass/latest/report.json '.scenarios[0].repetitions | length')" 1

# two runs of one choice merged: a fail then a pass is flaky
rm -f "$BL_TEST_MARKER"
"$BOOTLAB" run --report-dir "$T_TMP/run1" "$S/flaky.yaml" > /dev/null 2>&1
"$BOOTLAB" run --report-dir "$T_TMP/run2" "$S/flaky.yaml" > /dev/null 2>&1
out=$("$BOOTLAB" report merge "$T_TMP/run2/latest" "$T_TMP/run1/latest" -o "$T_TMP/reruns" 2>&1); rc=$?
expect_eq "merged reruns: exit 0" "$rc" 0
expect_match "merged reruns: summary" "$out" "^0 of 1 passed, 1 flaky \(2 boots\)"
F="$T_TMP/reruns/report.json"
expect_eq "merged reruns: attempts in the order the runs started" \
	"$(json_get "$F" '[.scenarios[0].repetitions[] | "\(.attempt):\(.outcome)"] | join(" ")')" "1:fail 2:pass"
expect_eq "merged reruns: console logs under names that do not collide" \
	"$(json_get "$F" '[.scenarios[0].repetitions[].console_log] | join(" ")')" "flaky.console.log flaky.2.console.log"
check "merged reruns: both logs copied, and different" \
	bash -c "! cmp -s '$T_TMP/reruns/flaky.console.log' '$T_TMP/reruns/flaky.2.console.log'"
# the failed attempt's repro folder (docs/repro.md) comes along, whole
rp=$(json_get "$T_TMP/run1/latest/report.json" '.scenarios[0].repro')
mrp=$(json_get "$F" '.scenarios[0].repro')
expect_eq "merged reruns: the failed attempt keeps its repro folder" "$mrp" "$rp"
check "merged reruns: the repro folder's files copied as they were" \
	diff -r "$T_TMP/run1/latest/$rp" "$T_TMP/reruns/$mrp"
expect_eq "merged reruns: the copy is a folder of the merged report, not a link" \
	"$(stat -c %F "$T_TMP/reruns/$mrp")" directory

# ---- bad inputs: exit 2, the file and field named, no OUT ----
bad() { # NAME WANT-REGEX ARGS...
	local name="$1" want="$2"; shift 2
	local o; o=$("$BOOTLAB" report merge "$@" -o "$T_TMP/out" 2>&1); local r=$?
	expect_eq "$name: exit 2" "$r" 2
	expect_match "$name: message" "$o" "$want"
	local left; left=$(ls -d "$T_TMP"/out* 2>/dev/null)
	expect_eq "$name: nothing written" "$left" ""
}
mkdir -p "$T_TMP/empty"
bad "a folder without a report" "'$T_TMP/empty': a folder without a report.json" "$T_TMP/s1/latest" "$T_TMP/empty"
bad "runs of different scenario sets" "are runs of different scenario sets" "$T_TMP/s1/latest" "$T_TMP/run1/latest"
# broken copies of shard 2's report as bad.json beside its logs (a file
# stands for its folder; done_testing checks every report.json's schema)
mk() { mkdir -p "$T_TMP/$1"; cp "$T_TMP"/s2/latest/*.log "$T_TMP/$1/"; jq "$2" "$T_TMP"/s2/latest/report.json > "$T_TMP/$1/bad.json"; }
mkdir -p "$T_TMP/trunc"; head -c 300 "$T_TMP"/s2/latest/report.json > "$T_TMP/trunc/bad.json"
bad "truncated report.json" "trunc/bad.json':[0-9]+:[0-9]+: not valid JSON" "$T_TMP/s1/latest" "$T_TMP/trunc/bad.json"
mk badout '.scenarios[0].outcome = "maybe"'
bad "unknown outcome" "badout/bad.json': field 'scenarios\[0\]\.outcome': unknown value 'maybe'" "$T_TMP/s1/latest" "$T_TMP/badout/bad.json"
mk badrep '.scenarios[1].repetitions[0].duration_s = "slow"'
bad "a time that is not a number" "field 'scenarios\[1\]\.repetitions\[0\]\.duration_s': not a number" "$T_TMP/s1/latest" "$T_TMP/badrep/bad.json"
mk badphase '.scenarios[0].phases = [{"name": 5}]'
bad "a shown run's phase without a name" "field 'scenarios\[0\]\.phases\[0\]\.name': not a string" "$T_TMP/s1/latest" "$T_TMP/badphase/bad.json"
mk climb '.scenarios[0].repetitions[0].console_log = "../../etc/passwd"'
bad "a console log outside the folder" "console_log': '\.\./\.\./etc/passwd' is not a file in the report's folder" "$T_TMP/s1/latest" "$T_TMP/climb/bad.json"
mk nolog '.'
rm -f "$T_TMP"/nolog/*.console.log
bad "a console log that is missing" "nolog/bad.json': .*console\.log" "$T_TMP/s1/latest" "$T_TMP/nolog/bad.json"
mk linked '.'
f=$(jq -r '.scenarios[0].repetitions[0].console_log' "$T_TMP/linked/bad.json")
rm "$T_TMP/linked/$f"; ln -s /etc/passwd "$T_TMP/linked/$f"
bad "a console log that is a symlink" "linked/bad.json': cannot open" "$T_TMP/s1/latest" "$T_TMP/linked/bad.json"
# a repro folder holding a symlink: refused (nothing of the host's is copied)
cp -r "$(readlink -f "$T_TMP/run1/latest")" "$T_TMP/rlink"
ln -s /etc/shadow "$T_TMP/rlink/$rp/shadow"
bad "a repro folder holding a symlink" "rlink/report.json': '$rp/shadow' is not a regular file" "$T_TMP/rlink"
cp -r "$(readlink -f "$T_TMP/run1/latest")" "$T_TMP/rdir"
rm -rf "$T_TMP/rdir/$rp" && ln -s /etc "$T_TMP/rdir/$rp"
bad "a repro folder that is a symlink" "rdir/report.json': cannot open '$rp' in its folder" "$T_TMP/rdir"
# a FIFO where a console log should be: refused without being opened for reading
mk fifo '.'
f=$(jq -r '.scenarios[0].repetitions[0].console_log' "$T_TMP/fifo/bad.json")
rm "$T_TMP/fifo/$f"; mkfifo "$T_TMP/fifo/$f"
o=$(timeout 20 "$BOOTLAB" report merge "$T_TMP/s1/latest" "$T_TMP/fifo/bad.json" -o "$T_TMP/out" 2>&1); r=$?
expect_eq "a console log that is a FIFO: refused, exit 2" "$r" 2
expect_match "a console log that is a FIFO: message" "$o" "fifo/bad.json': '$f' is not a regular file"
mk nosel 'del(.selection)'
bad "a report without selection" "nosel/bad.json': field 'selection': missing" "$T_TMP/s1/latest" "$T_TMP/nosel/bad.json"
mkdir -p "$T_TMP/out"
o=$("$BOOTLAB" report merge "$T_TMP/s1/latest" -o "$T_TMP/out" 2>&1); rc=$?
expect_eq "an existing OUT: exit 2" "$rc" 2
expect_match "an existing OUT: message" "$o" "exists: merge into a new folder"
rmdir "$T_TMP/out"
o=$("$BOOTLAB" report merge 2>&1); rc=$?
expect_eq "no input: exit 2" "$rc" 2
o=$("$BOOTLAB" report frob 2>&1); rc=$?
expect_match "unknown subcommand named" "$o" "unknown subcommand 'frob'"
no_emulator_left
done_testing
