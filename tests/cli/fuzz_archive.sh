#!/bin/bash
# The archive reader (+ lint), extraction into a scratch folder (nothing
# written outside it) and the gen_init_cpio list parser under
# libFuzzer + ASan/UBSan for 30 s each (FUZZ_ARCHIVE_TIME overrides):
# no crash, no leak, no out-of-memory.
# timeout: 420
. "$(dirname "$0")/../lib.sh"
T=${FUZZ_ARCHIVE_TIME:-30}
fuzz_ready fuzz_archive || { done_testing; exit; }
for t in fuzz_archive_read fuzz_archive_extract fuzz_archive_list; do
	fuzz_build $t || continue
	fuzz_run "$T_TMP" $t "$T" -rss_limit_mb=1536
done
done_testing
