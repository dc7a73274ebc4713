# Helpers for tests/boot/scenarios_*.sh (sourced, not run: no exec bit).
# Each test runs one library scenario file with all its variants, asserts
# that every variant passed, then reads a few facts back from report.json
# so that a scenario whose steps stopped checking anything still fails.
. "$(dirname "$0")/../lib.sh"

L_RUNS=0
# run_library FILE [bootlab run options]: sets R (report.json), OUT, RC
run_library() {
	local f=$1
	shift
	L_RUNS=$((L_RUNS + 1))
	OUT=$("$BOOTLAB" run --report-dir "$T_TMP/r$L_RUNS" -j 2 "$@" "$f" 2>&1)
	RC=$?
	echo "$OUT" | sed 's/^/# /'
	R=$(ls "$T_TMP/r$L_RUNS"/*/report.json 2>/dev/null | head -1)
	[ -n "$R" ] || R=/dev/null
}

# sv VARIANT JQ: a value of one variant's report entry
sv() { jq -r --arg n "$1" ".scenarios[] | select(.name == \$n) | $2" "$R"; }

# step VARIANT N JQ: a value of step N's (1-based) reply
step() { sv "$1" ".steps[$(($2 - 1))].reply | $3"; }

# all_pass N NAME...: the run exited 0, has exactly these N variants, each passed
all_pass() {
	local n=$1
	shift
	expect_eq "bootlab run exits 0" "$RC" 0
	expect_eq "$n variants in the report" "$(jq '.scenarios | length' "$R")" "$n"
	# one point per variant: its outcome is pass and none of its steps
	# failed or was skipped (a pass needs both, docs/architecture.md)
	for v in "$@"; do
		expect_eq "$v: passed, every step passed" \
			"$(sv "$v" '"\(.outcome) \([.steps[] | select(.result != "pass")] | length)"')" "pass 0"
	done
}

# console VARIANT REGEX: the variant's console log has a matching line
console_has() {
	local log
	log="$(dirname "$R")/$(sv "$1" .console_log)"
	if grep -qE -- "$2" "$log" 2>/dev/null; then ok "$1: console has /$2/"; else
		not_ok "$1: console has /$2/"
		tail -n 15 "$log" 2>/dev/null | sed 's/^/#   | /'
	fi
}

# console_lacks VARIANT REGEX: the variant's console log is there and has
# no matching line (lib.sh no_match: a missing log fails)
console_lacks() { no_match "$1: console lacks /$2/" "$2" "$(dirname "$R")/$(sv "$1" .console_log)"; }

# every emulator this test started is gone (tests/run gives each test its
# own session; other work on the machine does not count)
# (no test point when none is: lib.sh no_emulator_left)
no_emulator_left() {
	local left
	left=$(pgrep -a -s 0 -f 'qemu-system|linux.*initrd=')
	[ -z "$left" ] && return 0
	not_ok "no emulator left behind"; echo "$left" | sed 's/^/#   /'
}

# the matrix rows of the library's machine-independent files
ROWS=("arch=x86_64,backend=qemu" "arch=x86_64,backend=uml" "arch=aarch64,backend=qemu")
# vname BASE VARIANT ROW: the report name of a variant in a matrix row
# (VARIANT empty for the base scenario)
vname() { if [ -n "$2" ]; then echo "$1[$2,$3]"; else echo "$1[$3]"; fi; }
