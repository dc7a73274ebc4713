#!/bin/bash
# The archive reader (+ lint) and the gen_init_cpio list parser under
# libFuzzer + ASan/UBSan for 30 s each (FUZZ_ARCHIVE_TIME overrides):
# no crash, no leak, no out-of-memory.
# timeout: 420
. "$(dirname "$0")/../lib.sh"
T=${FUZZ_ARCHIVE_TIME:-30}
if ! command -v clang >/dev/null; then
	skip "clang not installed (ci/install-deps)" "fuzz_archive"
	done_testing; exit
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' |
	clang -x c -fsanitize=fuzzer -o "$T_TMP/probe" - 2>/dev/null; then
	skip "clang has no libFuzzer runtime (libclang-rt-14-dev)" "fuzz_archive"
	done_testing; exit
fi
for t in fuzz_archive_read fuzz_archive_list; do
	if make --no-print-directory -s -f tests/fuzz/fuzz.mk build/fuzz/$t >"$T_TMP/build.log" 2>&1; then
		ok "build $t"
	else
		not_ok "build $t"; sed 's/^/#   /' "$T_TMP/build.log"; continue
	fi
	mkdir -p "$T_TMP/corpus-$t"
	(cd "$T_TMP" && "$BOOTLAB_HOME/build/fuzz/$t" -max_total_time="$T" -max_len=70000 -timeout=10 \
		-rss_limit_mb=1536 "$T_TMP/corpus-$t" "$BOOTLAB_HOME/tests/fuzz/corpus/$t") >"$T_TMP/fuzz.log" 2>&1
	rc=$?
	runs=$(grep -o 'Done [0-9]* runs' "$T_TMP/fuzz.log" | awk '{print $2}')
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		ok "$t ${T}s: $runs runs, no finding"
	else
		not_ok "$t exited $rc"; grep -A30 -m1 -E 'ERROR|SUMMARY|deadly' "$T_TMP/fuzz.log" | sed 's/^/#   /'
	fi
done
done_testing
