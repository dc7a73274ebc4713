# Shell helpers for tests/cli and tests/boot: TAP output and assertions.
# Source it: . "$(dirname "$0")/../lib.sh"
T_N=0
T_FAILED=0
cd "$(dirname "$0")/../.." || exit 1
: "${BOOTLAB_HOME:=$PWD}"
export BOOTLAB_HOME
BOOTLAB="$BOOTLAB_HOME/bootlab"
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bootlab-test.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT
# bootlab's work folders (and so every emulator command line) live under
# T_TMP, so a test can tell its own emulators from anyone else's
export TMPDIR="$T_TMP"

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
skip() { T_N=$((T_N + 1)); echo "ok $T_N - $2 # SKIP $1"; }
# check NAME COMMAND...: one test point from a command's exit status
check() { local n="$1"; shift; if "$@"; then ok "$n"; else not_ok "$n"; fi; }
# expect_eq NAME GOT WANT
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got '$2', want '$3'"; fi; }
# expect_match NAME STRING REGEX (extended regex)
expect_match() {
	if printf '%s' "$2" | grep -qE -- "$3"; then ok "$1"; else
		not_ok "$1"; echo "#   '$3' not found in:"; printf '%s\n' "$2" | tail -n 20 | sed 's/^/#   | /'; fi
}
# json_get FILE JQ-FILTER: one raw value
json_get() { jq -r "$2" "$1"; }
# no emulator started by this test is still running
no_emulator_left() {
	local left
	left=$(pgrep -af -- "$T_TMP" | grep -v pgrep)
	if [ -z "$left" ]; then ok "no emulator left behind"; else
		not_ok "no emulator left behind"; echo "$left" | sed 's/^/#   /'; fi
}
# check_reports DIR: every report.json under DIR matches docs/report.schema.json
# and every junit.xml tests/data/junit.xsd (one test point per file)
check_reports() {
	local f out
	while IFS= read -r f; do
		if out=$("$BOOTLAB_HOME/tests/tools/check-report" "$f" 2>&1); then ok "schema: $f"; else
			not_ok "schema: $f"; printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'; fi
	done < <(find "$1" -name report.json -type f 2>/dev/null | sort)
	while IFS= read -r f; do
		if out=$(xmllint --noout --schema "$BOOTLAB_HOME/tests/data/junit.xsd" "$f" 2>&1); then
			ok "junit schema: $f"; else
			not_ok "junit schema: $f"; printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'; fi
	done < <(find "$1" -name junit.xml -type f 2>/dev/null | sort)
}
# done_testing: every report the test produced is checked, then the plan
done_testing() { check_reports "$T_TMP"; echo "1..$T_N"; [ "$T_FAILED" -eq 0 ]; }
