#!/bin/bash
# The scenario loader under libFuzzer + ASan/UBSan for 30 s
# (FUZZ_SCENARIO_TIME overrides): no crash, no leak, no hang; failures leave
# the set empty, successes give complete plans (tests/fuzz/fuzz_scenario.c).
# timeout: 300
. "$(dirname "$0")/../lib.sh"
T=${FUZZ_SCENARIO_TIME:-30}
fuzz_ready fuzz_scenario || { done_testing; exit; }
fuzz_build fuzz_scenario || { done_testing; exit; }
fuzz_run . fuzz_scenario "$T" -rss_limit_mb=1024 -dict=tests/fuzz/fuzz_scenario.dict
rm -rf /tmp/bl-fuzz-scenario.*
done_testing
