#!/bin/bash
# report.json against docs/report.schema.json (python3-jsonschema) and
# junit.xml against tests/data/junit.xsd (xmllint): a report made here, and
# broken copies of it that must be refused. Every report.json and junit.xml
# the boot tests produce is checked the same way by done_testing
# (tests/lib.sh check_reports).
. "$(dirname "$0")/../lib.sh"
CHECK="$BOOTLAB_HOME/tests/tools/check-report"
XSD="$BOOTLAB_HOME/tests/data/junit.xsd"

check "jsonschema is importable by /usr/bin/python3" /usr/bin/python3 -c 'import jsonschema'
check "docs/report.schema.json is a valid draft 2020-12 schema" /usr/bin/python3 -c '
import json, jsonschema
jsonschema.Draft202012Validator.check_schema(json.load(open("docs/report.schema.json")))'

out=$("$BOOTLAB" run --report-dir "$T_TMP/r" --repeat 2 tests/data/scenarios/setup-error.yaml 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "setup-error run exits 2 (bad input found while preparing)" "$rc" 2
j=$(ls "$T_TMP"/r/*/report.json | head -1)
x="$(dirname "$j")/junit.xml"
check "report.json written" test -s "$j"
expect_eq "outcome setup-error" "$(json_get "$j" '.scenarios[0].outcome')" setup-error
expect_eq "two repetitions recorded" "$(json_get "$j" '.scenarios[0].repetitions | length')" 2
expect_eq "repeat recorded" "$(json_get "$j" '.repeat')" 2

# refusals: each broken copy must fail validation, naming the field
bad() { # NAME JQ-EDIT WANT-IN-MESSAGE
	jq "$2" "$j" > "$T_TMP/bad.json"
	local o; o=$("$CHECK" "$T_TMP/bad.json" 2>&1); local r=$?
	if [ $r -eq 1 ] && printf '%s' "$o" | grep -qF -- "$3"; then ok "refused: $1"; else
		not_ok "refused: $1"; printf '%s\n' "$o" | sed 's/^/#   /'; fi
}
bad "unknown outcome" '.scenarios[0].outcome = "maybe"' "scenarios/0/outcome"
bad "missing summary" 'del(.summary)' "'summary' is a required property"
bad "unknown top-level key" '.extra = 1' "Additional properties"
bad "phase with a made-up name" '.scenarios[0].phases = [{"name":"warp","host_s":1,"guest_s":null}]' "phases/0/name"
bad "negative time" '.scenarios[0].duration_s = -1' "duration_s"
bad "timing stat without median" '.scenarios[0].timing.duration_s = {"min":1,"max":2}' "'median' is a required property"
bad "wrong schema tag" '.schema = "bootlab-report/0"' "schema"
bad "skipped step with times" '.scenarios[0].steps[0] |= (.result = "skipped" | .start_s = 1 | .end_s = 2)' "steps/0"
printf '{"schema": ' > "$T_TMP/trunc.json"
o=$("$CHECK" "$T_TMP/trunc.json" 2>&1); rc=$?
expect_eq "truncated JSON is refused" "$rc" 1

check "junit.xml matches the JUnit XSD" xmllint --noout --schema "$XSD" "$x"
sed 's/<testcase classname="[^"]*" name="[^"]*"/<testcase/' "$x" > "$T_TMP/bad-junit.xml"
o=$(xmllint --noout --schema "$XSD" "$T_TMP/bad-junit.xml" 2>&1); rc=$?
check "a testcase without name is refused by the XSD" test "$rc" -ne 0
expect_match "xmllint names the missing attribute" "$o" "name.*required"
sed 's/<failure /<flop /; s/<\/failure>/<\/flop>/; s/<error /<flop /; s/<\/error>/<\/flop>/' "$x" > "$T_TMP/bad-junit2.xml"
o=$(xmllint --noout --schema "$XSD" "$T_TMP/bad-junit2.xml" 2>&1); rc=$?
check "an unknown element is refused by the XSD" test "$rc" -ne 0
done_testing
