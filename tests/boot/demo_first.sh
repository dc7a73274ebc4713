#!/bin/bash
# timeout: 600
# make demo's first stage (ci/demo --first) on an empty kernel cache: it
# installs nothing here (ci/install-deps --first finds every package),
# builds no kernel and gives its verdicts on Debian's packaged kernels
# (cloud-amd64 on q35, user-mode-linux) within the 5 minutes issue 21 asks
# for, each stage announced on the terminal. The boots go through bootlab,
# so the suite counts them.
. "$(dirname "$0")/../lib.sh"

cache=$T_TMP/cache
mkdir -m 700 "$cache"
t0=$SECONDS
out=$(cd "$BOOTLAB_HOME" && XDG_CACHE_HOME=$cache DEMO_REPORT_DIR=$T_TMP/r ci/demo --first 2>&1)
rc=$?
secs=$((SECONDS - t0))
echo "$out" | grep -v '^  CC ' | sed 's/^/# /'
expect_eq "ci/demo --first exits 0" "$rc" 0
check "first verdicts within 5 minutes (took ${secs} s)" [ "$secs" -lt 300 ]
stages=$(echo "$out" | sed -n 's/^demo \[[0-9]*:[0-9][0-9]\] \([a-z]*\).*/\1/p' | tr '\n' ' ')
expect_eq "progress lines, one per stage, in order" "$stages" "stage installing building booting first "
j=$(ls -d "$T_TMP"/r/2*/ 2>/dev/null | head -1)report.json
outcome() { jq -r --arg n "$1" '.scenarios[] | select(.name==$n) | .outcome' "$j" 2>/dev/null; }
expect_eq "cloud-amd64 on q35: pass" "$(outcome smoke-debian)" pass
expect_eq "Debian's UML: pass" "$(outcome 'smoke-debian[uml]')" pass
expect_eq "the first stage boots only those two" "$(jq '.scenarios | length' "$j" 2>/dev/null)" 2
built=$(ls "$cache/bootlab/kernels" 2>/dev/null | grep -E '^(x86_64|um|aarch64)-[0-9a-f]+$')
expect_eq "no kernel built or fetched into the empty cache" "$built" ""
no_emulator_left
done_testing
