#!/bin/bash
# The x86_64 agent, static and stripped, stays under 100 KiB (102400 bytes).
# timeout: 120
. "$(dirname "$0")/../lib.sh"
# built into its own folder: the tree's agent is what other tests, running
# beside this one, put in their archives
BIN=$T_TMP/build/agent/x86_64/init-agent
if ! command -v musl-gcc >/dev/null; then
	skip "musl-gcc not installed (ci/install-deps)" "agent size"; done_testing; exit
fi
out=$(make --no-print-directory -B agent ARCH=x86_64 O="$T_TMP/build" 2>&1)
check "make agent builds $BIN" test -x "$BIN"
expect_match "make agent prints the size" "$out" 'agent size: [0-9]+ bytes \(x86_64, stripped\)'
size=$(stat -c %s "$BIN")
if [ "$size" -le 102400 ]; then ok "size $size <= 102400"; else not_ok "size $size > 102400"; fi
expect_match "static" "$(file -b "$BIN")" 'statically linked'
expect_match "stripped" "$(file -b "$BIN")" ', stripped'
done_testing
