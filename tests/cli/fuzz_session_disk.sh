#!/bin/bash
# The host session's console and agent-channel line parsers and the disk
# spec loader under libFuzzer + ASan/UBSan for 30 s each
# (FUZZ_SESSION_TIME overrides): no crash, no leak, no out-of-memory.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
T=${FUZZ_SESSION_TIME:-30}
fuzz_ready fuzz_session_disk || { done_testing; exit; }
for t in fuzz_session_console fuzz_disk_spec; do
	fuzz_build $t || continue
	fuzz_run "$T_TMP" $t "$T" -rss_limit_mb=1536
done
done_testing
