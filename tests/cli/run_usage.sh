#!/bin/bash
# bootlab run: bad usage and missing files exit 2 with a message naming them.
. "$(dirname "$0")/../lib.sh"

out=$("$BOOTLAB" run --report-dir "$T_TMP/r" missing.yaml 2>&1); rc=$?
expect_eq "missing scenario file exits 2" "$rc" 2
expect_match "message names the file" "$out" "missing\.yaml"
out=$("$BOOTLAB" run 2>&1); rc=$?
expect_eq "no scenario exits 2" "$rc" 2
out=$("$BOOTLAB" run --bogus x.yaml 2>&1); rc=$?
expect_eq "unknown option exits 2" "$rc" 2
out=$("$BOOTLAB" run -j 0 scenarios/smoke.yaml 2>&1); rc=$?
expect_eq "-j 0 exits 2" "$rc" 2
expect_match "-j message" "$out" "-j takes a number"
out=$("$BOOTLAB" nosuchcommand 2>&1); rc=$?
expect_eq "unknown command exits 2" "$rc" 2
out=$("$BOOTLAB" run --help); rc=$?
expect_eq "run --help exits 0" "$rc" 0
expect_match "run --help documents --report-dir" "$out" "--report-dir"
check "nothing written for a failed load" test ! -e "$T_TMP/r"
done_testing
