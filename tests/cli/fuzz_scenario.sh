#!/bin/bash
# The scenario loader under libFuzzer + ASan/UBSan for 30 s
# (FUZZ_SCENARIO_TIME overrides): no crash, no leak, no hang; failures leave
# the set empty, successes give complete plans (tests/fuzz/fuzz_scenario.c).
# timeout: 300
. "$(dirname "$0")/../lib.sh"
T=${FUZZ_SCENARIO_TIME:-30}
fuzz_ready fuzz_scenario || { done_testing; exit; }
fuzz_build fuzz_scenario || { done_testing; exit; }
# another run's folder of the old fixed name in /tmp is left alone: the
# target's folder is under TMPDIR (this test's T_TMP)
other=$(mktemp -d /tmp/bl-fuzz-scenario.XXXXXX)
fuzz_run . fuzz_scenario "$T" -rss_limit_mb=1024 -dict=tests/fuzz/fuzz_scenario.dict
check "another run's /tmp/bl-fuzz-scenario.* folder is untouched" test -d "$other"
check "the target's folder is in the test's own TMPDIR" \
	test -n "$(find "$T_TMP" -maxdepth 2 -name s.yaml -path '*fuzz-scenario*')"
rmdir "$other"
done_testing
