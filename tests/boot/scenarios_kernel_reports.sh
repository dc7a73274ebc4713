#!/bin/bash
# timeout: 600
# scenarios/kernel-reports.yaml: LKDTM provokes real kernel reports on qemu
# x86_64; each is classified with its class and title; an unexpected
# WARNING fails a boot whose steps passed, with its title as the reason;
# fail-on: allows it; a program's imitation of a panic on /dev/console is
# neither a panic nor a report (docs/kernel-reports.md).
. "$(dirname "$0")/scenarios_lib.sh"

run_library scenarios/kernel-reports.yaml
k=kernel-reports
all_pass 11 $k "$k[unexpected]" "$k[allowed]" "$k[imitation]" "$k[bug]" "$k[exception]" \
	"$k[array-bounds]" "$k[list-add]" "$k[refcount]" "$k[stack-protector]" "$k[soft-lockup]"
expect_eq "unexpected WARNING: the title is the reason" "$(sv "$k[unexpected]" .reason)" \
	"expected fail: kernel report (warning): WARNING in lkdtm_WARNING"
expect_eq "allowed WARNING: listed, does not fail" \
	"$(sv "$k[allowed]" '.kernel_reports | map("\(.class) \(.fails)") | join(",")')" "warning false"
expect_eq "imitation: no report, no panic" \
	"$(sv "$k[imitation]" '"\(.kernel_reports | length) \(.panic)"')" "0 null"
for v in bug exception array-bounds list-add refcount stack-protector soft-lockup; do
	expect_eq "$v: one report, with frames and a body" \
		"$(sv "$k[$v]" '.kernel_reports | map(select(.frames | length > 0) | select(.body | length > 100)) | length')" 1
done
expect_eq "soft lockup: the panic is part of its report" \
	"$(sv "$k[soft-lockup]" '.kernel_reports[0] | "\(.class) \(.panicked)"')" "soft-lockup true"
done_testing
