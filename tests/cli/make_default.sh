#!/bin/bash
# `make` (the default goal) builds everything the shipped scenarios need:
# ./bootlab, the agent for x86_64 and for aarch64 (smoke.yaml has an
# aarch64 row), the guest tools. Asked of make itself with -n in a scratch
# output folder, so nothing is built here.
. "$(dirname "$0")/../lib.sh"

out=$(make -n --no-print-directory O="$T_TMP/build" BIN="$T_TMP/bootlab" 2>&1)
rc=$?
expect_eq "make -n succeeds" "$rc" 0
for arch in x86_64 aarch64; do
	expect_match "the default goal builds the $arch agent" "$out" "$T_TMP/build/agent/$arch/init-agent"
done
expect_match "and bootlab itself" "$out" "-o $T_TMP/bootlab "
expect_match "and the guest tools" "$out" "$T_TMP/build/tools/raidautorun"
done_testing
