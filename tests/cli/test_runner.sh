#!/bin/bash
# tests/run itself, on a tree of tiny fake tests: a test that dies after
# its first point (plan 1..3) or prints no plan fails; a skip is a failure
# under CI=true unless marked unfixable; a process left in a test's session
# fails it and is killed; no_match fails on a missing file; repeated points
# count once as distinct checks; boots are counted (docs/testing.md); the
# quick tests run two at a time, their lines before the boot tests'; the
# fuzz tests run in a lane of their own beside everything, at the lowest
# priority, their lines after the boot tests', their points, boots and
# failures counted like the rest.
. "$(dirname "$0")/../lib.sh"

tree=$T_TMP/tree
mkdir -p "$tree/tests/cli"
cp tests/run tests/lib.sh "$tree/tests/"
fake() { # NAME BODY: tests/cli/NAME.sh sourcing lib.sh
	printf '#!/bin/bash\n. "$(dirname "$0")/../lib.sh"\n%s\n' "$2" > "$tree/tests/cli/$1.sh"
	chmod +x "$tree/tests/cli/$1.sh"
}
fake good 'ok "one"; done_testing'
fake half 'echo 1..3; ok "first"; exit 0'
fake noplan 'ok "only"; exit 0'
fake skipfix 'skip "jq missing" "needs jq"; done_testing'
fake skipunfix 'skip_unfixable "needs KVM" "kvm"; done_testing'
fake leave 'sleep 120 & ok "started a sleeper"; done_testing'
fake nomatch 'no_match "missing log" error "$T_TMP/nothere.log"
printf "fine\n" > "$T_TMP/l"; no_match "clean log" error "$T_TMP/l"; done_testing'
fake dup 'for i in 1 2 3; do ok "same"; done; ok "other"; boot_counted qemu; boot_counted uml
boot_counted qemu; done_testing'
# two quick tests that pass only when they run at once: each waits for the
# other's file
fake pair1 'touch pair1; for i in $(seq 100); do [ -e pair2 ] && break; sleep 0.1; done
check "pair2 ran beside" test -e pair2; done_testing'
fake pair2 'touch pair2; for i in $(seq 100); do [ -e pair1 ] && break; sleep 0.1; done
check "pair1 ran beside" test -e pair1; done_testing'
# the fuzz lane: one that passes (a boot counted, a point shared with dup)
# while slow beside the others, at nice 19 in its own autogroup, one that
# fails; and a boot test
fake fuzz_a 'sleep 2; ok "other"; ok "lane point"; boot_counted uml
expect_eq "nice 19" "$(nice) $(cut -d" " -f3 /proc/self/autogroup)" "19 19"; done_testing'
fake fuzz_b 'echo 1..2; ok "lane first"; exit 0'
mkdir -p "$tree/tests/boot"
printf '#!/bin/bash\n. "$(dirname "$0")/../lib.sh"\nok "boot test"; done_testing\n' > "$tree/tests/boot/zz.sh"
chmod +x "$tree/tests/boot/zz.sh"

# counts NAME: "ok failed skipped" of NAME's line in the runner's output
counts() { printf '%s\n' "$out" | awk -v n="$1" '$1 == n { print $2, $4, $6 }'; }

out=$(env -u CI -u BOOTLAB_STRICT_SKIPS "$tree/tests/run" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
expect_eq "runner exits 1 when a test fails" "$rc" 1
expect_eq "a passing test passes" "$(counts good)" "1 0 0"
expect_eq "plan 1..3 but one point printed, exit 0: one failure" "$(counts half)" "1 1 0"
expect_match "  named as stopped half-way" "$(cat "$tree/tests/out/half.log")" 'planned 3 test points but printed 1'
expect_eq "no plan, exit 0: one failure" "$(counts noplan)" "1 1 0"
expect_eq "without CI: a skip is a skip" "$(counts skipfix)" "0 0 1"
expect_eq "a process left in the test's session fails it" "$(counts leave)" "1 1 0"
expect_eq "  and is killed" "$(pgrep -fc 'sleep 120')" 0
expect_eq "no_match: a missing file fails, a clean one passes" "$(counts nomatch)" "1 1 0"
expect_eq "two quick tests run at once" "$(counts pair1) $(counts pair2)" "1 0 0 1 0 0"
expect_eq "the fuzz lane: a passing test passes, at the lowest priority" "$(counts fuzz_a)" "3 0 0"
expect_eq "the fuzz lane: one that stops half-way fails" "$(counts fuzz_b)" "1 1 0"
lines=$(printf '%s\n' "$out" | awk '{print $1}' |
	grep -xE 'dup|good|half|leave|nomatch|noplan|pair1|pair2|skipfix|skipunfix|fuzz_a|fuzz_b|zz')
expect_eq "the quick tests' lines come first, each once" "$(echo "$lines" | head -n 10 | sort | tr '\n' ' ')" \
	"dup good half leave nomatch noplan pair1 pair2 skipfix skipunfix "
expect_eq "then the boot tests', then the fuzz lane's" "$(echo "$lines" | tail -n +11 | tr '\n' ' ')" \
	"zz fuzz_a fuzz_b "
expect_eq "the lane's failure is named" "$(printf '%s\n' "$out" | grep '^failed:' | grep -c fuzz_b)" 1
expect_eq "repeated points count once as distinct checks (the lane's too)" \
	"$(printf '%s\n' "$out" | grep '^distinct checks:')" "distinct checks: 15"
expect_eq "boots counted by backend, from both lanes" "$(printf '%s\n' "$out" | grep '^boots:')" \
	"boots: 4 (qemu 2, uml 2)"
expect_match "the last line stays 'N passed, N failed, N skipped'" "$(printf '%s\n' "$out" | tail -n 1)" \
	'^16 passed, 5 failed, 2 skipped$'

out=$(CI=true "$tree/tests/run" skip 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
expect_eq "CI=true: a skip the set-up can fix is a failure" "$(counts skipfix)" "0 1 0"
expect_eq "CI=true: an unfixable skip stays a skip" "$(counts skipunfix)" "0 0 1"
expect_match "CI=true: the failure names the skip's reason" "$(cat "$tree/tests/out/skipfix.log")" \
	'^not ok - skipped under CI=true .*needs jq # SKIP jq missing'
done_testing
