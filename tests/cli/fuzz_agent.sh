#!/bin/bash
# The agent's request parser under libFuzzer + ASan/UBSan for 30 s
# (FUZZ_AGENT_TIME overrides): no crash, no leak, round trips hold.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
T=${FUZZ_AGENT_TIME:-30}
fuzz_ready fuzz_agent_req || { done_testing; exit; }
fuzz_build fuzz_agent_req || { done_testing; exit; }
fuzz_run . fuzz_agent_req "$T" -rss_limit_mb=1024
done_testing
