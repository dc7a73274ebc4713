#!/bin/bash
# The scenario loader under libFuzzer + ASan/UBSan for 30 s
# (FUZZ_SCENARIO_TIME overrides): no crash, no leak, no hang; failures leave
# the set empty, successes give complete plans (tests/fuzz/fuzz_scenario.c).
# timeout: 300
. "$(dirname "$0")/../lib.sh"
T=${FUZZ_SCENARIO_TIME:-30}
if ! command -v clang >/dev/null; then
	skip "clang not installed (ci/install-deps)" "fuzz_scenario"
	done_testing; exit
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' |
	clang -x c -fsanitize=fuzzer -o "$T_TMP/probe" - 2>/dev/null; then
	skip "clang has no libFuzzer runtime (libclang-rt-14-dev)" "fuzz_scenario"
	done_testing; exit
fi
if make --no-print-directory -s -f tests/fuzz/fuzz.mk build/fuzz/fuzz_scenario >"$T_TMP/build.log" 2>&1; then
	ok "build fuzz_scenario"
else
	not_ok "build fuzz_scenario"; sed 's/^/#   /' "$T_TMP/build.log"; done_testing; exit
fi
mkdir -p "$T_TMP/corpus"
build/fuzz/fuzz_scenario -max_total_time="$T" -max_len=70000 -timeout=10 -rss_limit_mb=1024 \
	-dict=tests/fuzz/fuzz_scenario.dict \
	"$T_TMP/corpus" tests/fuzz/corpus/fuzz_scenario >"$T_TMP/fuzz.log" 2>&1
rc=$?
runs=$(grep -o 'Done [0-9]* runs' "$T_TMP/fuzz.log" | awk '{print $2}')
if [ $rc -eq 0 ] && [ -n "$runs" ]; then
	ok "fuzz_scenario ${T}s: $runs runs, no finding"
else
	not_ok "fuzz_scenario exited $rc"; grep -A30 -m1 -E 'ERROR|SUMMARY|deadly' "$T_TMP/fuzz.log" | sed 's/^/#   /'
fi
rm -rf /tmp/bl-fuzz-scenario.*
done_testing
