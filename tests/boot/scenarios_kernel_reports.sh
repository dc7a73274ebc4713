#!/bin/bash
# timeout: 600
# scenarios/kernel-reports.yaml: LKDTM provokes real kernel reports on qemu
# x86_64, qemu aarch64, UML and the debug x86_64 kernel (KASAN; lockdep
# from the kernel's own locking self-tests);
# each is classified with its class and title; an unexpected
# WARNING fails a boot whose steps passed, with its title as the reason;
# fail-on: allows it; a program's imitation of a panic on /dev/console is
# neither a panic nor a report (docs/kernel-reports.md). The reports those
# real boots make: index.html shows each kernel report folded open with its
# body, junit.xml carries the failing report's title as the failure message
# and its body, `bootlab compare` lists the reports new in the second run,
# `report merge` keeps them; --fail-on and --allow on `run` override the
# scenario's fail-on:.
. "$(dirname "$0")/scenarios_lib.sh"

run_library scenarios/kernel-reports.yaml
k=kernel-reports
all_pass 20 $k "$k[unexpected]" "$k[allowed]" "$k[imitation]" "$k[bug]" "$k[exception]" \
	"$k[array-bounds]" "$k[list-add]" "$k[refcount]" "$k[stack-protector]" "$k[stack-overflow]" "$k[soft-lockup]" \
	"$k[hung-task]" "$k[aarch64-warning]" "$k[aarch64-exception]" "$k[uml-warning]" \
	"$k[uml-exception]" "$k[kasan-uaf]" "$k[kasan-oob]" "$k[lockdep]"
expect_eq "unexpected WARNING: the title is the reason" "$(sv "$k[unexpected]" .reason)" \
	"expected fail: kernel report (warning): WARNING in lkdtm_WARNING"
expect_eq "allowed WARNING: listed, does not fail" \
	"$(sv "$k[allowed]" '.kernel_reports | map("\(.class) \(.fails)") | join(",")')" "warning false"
expect_eq "imitation: no report, no panic" \
	"$(sv "$k[imitation]" '"\(.kernel_reports | length) \(.panic)"')" "0 null"
for v in bug exception array-bounds list-add refcount stack-protector stack-overflow soft-lockup; do
	expect_eq "$v: one report, with frames and a body" \
		"$(sv "$k[$v]" '.kernel_reports | map(select(.frames | length > 0) | select(.body | length > 100)) | length')" 1
done
expect_eq "stack overflow: the guard page kills the writer, not the machine" \
	"$(sv "$k[stack-overflow]" '.kernel_reports[0] | "\(.class) \(.task) \(.panicked)"')" "stack-overflow sh false"
expect_eq "hung task: the blocked task's name and PID" \
	"$(sv "$k[hung-task]" '.kernel_reports[0] | "\(.class) \(.task) \(.pid > 1)"')" "hung-task sh true"
expect_eq "the other machines: arm64 and UML report on their own consoles" \
	"$(for v in aarch64-warning aarch64-exception uml-warning uml-exception; do
		sv "$k[$v]" '"\(.arch)/\(.backend) \(.kernel_reports | map(.class) | join(","))"'
	done | tr '\n' ' ')" "aarch64/qemu warning aarch64/qemu bug x86_64/uml warning x86_64/uml bug "
expect_eq "arm64 and UML kernel faults: the panic that followed is on the report" \
	"$(for v in aarch64-exception uml-exception; do sv "$k[$v]" '.kernel_reports[0].panicked'; done | tr '\n' ' ')" \
	"true true "
expect_eq "the debug kernel's variants booted it, on q35's boot protocol (no PVH)" \
	"$(for v in kasan-uaf kasan-oob; do sv "$k[$v]" '.kernel.image | split("/") | .[-1]'; done | tr '\n' ' ')" \
	"bzImage bzImage "
for v in kasan-uaf kasan-oob; do
	expect_eq "$v: KASAN's report from its first rule to its last, with the access" \
		"$(sv "$k[$v]" '.kernel_reports[0].body | test("^=+\n") and test("\n=+\n?$") and
			test("\n(Read|Write) of size [0-9]+ at addr [0-9a-f]+ by task sh/[0-9]+\n")')" true
done
# the debug kernel's build (kernels/x86_64-debug.config: the x86_64 core,
# no disks, plus KASAN and lockdep), cached by the run above
dbg=$("$BOOTLAB" kernel path --arch x86_64 --fragment kernels/x86_64-debug.config)
expect_eq "the debug fragment's kernel is cached" "$?" 0
check "the debug kernel is another build than the plain one" \
	test -n "$dbg" -a "$dbg" != "$("$BOOTLAB" kernel path --arch x86_64)"
expect_eq "without a PVH entry, the kernel bootlab boots is its bzImage" "${dbg##*/}" bzImage
expect_eq "the debug kernel has the core's options and its own" \
	"$("$BOOTLAB" kernel config --arch x86_64 --fragment kernels/x86_64-debug.config \
		LKDTM UBSAN_BOUNDS KASAN PROVE_LOCKING PVH | tr '\n' ' ')" \
	"LKDTM y UBSAN_BOUNDS y KASAN y PROVE_LOCKING y PVH n "
expect_eq "the debug kernel leaves out the disks the plain one adds to the core" \
	"$("$BOOTLAB" kernel config --arch x86_64 --fragment kernels/x86_64-debug.config \
		VIRTIO_BLK EXT4_FS XFS_FS | tr '\n' ' ')|$("$BOOTLAB" kernel config --arch x86_64 \
		VIRTIO_BLK EXT4_FS XFS_FS | tr '\n' ' ')" "VIRTIO_BLK n EXT4_FS n XFS_FS n |VIRTIO_BLK y EXT4_FS y XFS_FS y "
expect_eq "debug kernel: reliable frames (frame pointers), no '?' guesses, from KASAN's dump_stack" \
	"$(sv "$k[kasan-uaf]" '.kernel_reports[0].frames[0:2] | join(" ")')" "dump_stack_lvl print_report"
# lockdep: every report of the self-tests is lockdep's (none a plain
# WARNING), each placed in the self-test that made it, in swapper's context
expect_eq "lockdep: every report is of class lockdep (none a plain WARNING)" \
	"$(sv "$k[lockdep]" '.kernel_reports | map(.class) | unique | "\(length) \(.[0])"')" "1 lockdep"
expect_eq "lockdep: the self-tests' 55 reports" "$(sv "$k[lockdep]" '.kernel_reports | length')" 55
expect_eq "lockdep: each titled after its self-test (a *_spin function), none after lockdep's own frames" \
	"$(sv "$k[lockdep]" '[.kernel_reports[] | select(.title | test(" in [A-Za-z0-9_]+_spin(_[0-9]+)?$") | not)] | length')" 0
expect_eq "lockdep: the seven kinds of report the self-tests make" \
	"$(sv "$k[lockdep]" '.kernel_reports | map(.title | sub(" in .*"; "") | sub("^(HARD|SOFT)IRQ.*"; "lock order")) | unique | join(",")')" \
	"bad unlock balance detected,held lock freed,inconsistent lock state,lock order,possible circular locking dependency detected,possible irq lock inversion dependency detected,possible recursive locking detected"
expect_eq "lockdep: reported before user space, by swapper (PID 0)" \
	"$(sv "$k[lockdep]" '.kernel_reports | map("\(.task)/\(.pid)") | unique | join(",")')" "swapper/0"
expect_eq "soft lockup: the panic is part of its report" \
	"$(sv "$k[soft-lockup]" '.kernel_reports[0] | "\(.class) \(.panicked)"')" "soft-lockup true"
expect_eq "expected WARNING: listed, does not fail" \
	"$(sv "$k" '.kernel_reports | map("\(.class) \(.fails)") | join(",")')" "warning false"
expect_eq "unexpected WARNING: marked as failing the boot" \
	"$(sv "$k[unexpected]" '.kernel_reports | map("\(.class) \(.fails)") | join(",")')" "warning true"

# index.html: every report of the run, folded open, with its body
R1=$R
facts=$("$BOOTLAB_HOME/tests/tools/html-dom" "$(dirname "$R1")/index.html")
echo "$facts" | grep '^kreport' | sed 's/^/# html: /'
expect_eq "index.html: one report block per report.json report" "$(grep -c '^kreport ' <<<"$facts")" \
	"$(jq '[.scenarios[].kernel_reports[]] | length' "$R1")"
expect_eq "index.html: every report folded open" "$(grep '^kreport ' <<<"$facts" | grep -vc ' open ')" 0
expect_match "index.html: the unexpected WARNING, failing, with its body" "$facts" \
	"^kreport $k\\[unexpected\\] warning open fails [2-9][0-9] WARNING in lkdtm_WARNING\$"
expect_match "index.html: the soft lockup with its class and title" "$facts" \
	"^kreport $k\\[soft-lockup\\] soft-lockup open allowed [0-9]+ BUG: soft lockup in lkdtm_SOFTLOCKUP\$"
html=$(cat "$(dirname "$R1")/index.html")
expect_match "index.html: time, CPU, PID and task of a report" "$html" \
	'<span class="kmeta">\[[0-9]+\.[0-9]{6}\] CPU [0-9]+ PID [0-9]+ task <span class="ktask">sh</span>'

# 2. --fail-on and --allow override the scenario: 'allowed' (fail-on: [bug])
# fails on its WARNING, 'unexpected' (default) passes it
run_library scenarios/kernel-reports.yaml --filter "^$k\\[(allowed|unexpected)\\]\$" \
	--fail-on warning --allow warning,bug --fail-on warning,oops
expect_eq "--fail-on warning: the run fails" "$RC" 1
expect_eq "--fail-on warning: 'allowed' fails on its WARNING" "$(sv "$k[allowed]" '"\(.outcome) \(.reason)"')" \
	"fail kernel report (warning): WARNING in lkdtm_WARNING"
j=$(dirname "$R")/junit.xml
expect_eq "junit: the failure message is the report's title" \
	"$(xmllint --xpath "string(//testcase[@name='$k[allowed]']/failure/@message)" "$j")" "WARNING in lkdtm_WARNING"
body=$(xmllint --xpath "string(//testcase[@name='$k[allowed]']/failure)" "$j")
kbody=$(sv "$k[allowed]" '.kernel_reports[0].body')
check "junit: the failure holds the report's whole body (report.json's, $(wc -l <<<"$kbody") lines)" \
	test -n "$kbody" -a -z "${body##*"$kbody"*}"
expect_match "junit: from the cut here marker" "$kbody" '^-+\[ cut here \]-+$'
expect_match "junit: to the end of the trace" "$kbody" '^-+\[ end trace [0-9a-f]+ \]-+$'
R2=$R
# 'unexpected' expects its WARNING to fail it (outcome: fail): allowed, its
# boot passes, so that step fails
run_library scenarios/kernel-reports.yaml --filter "^$k\\[unexpected\\]\$" --allow warning
expect_eq "--allow warning: the WARNING does not fail 'unexpected'" \
	"$(sv "$k[unexpected]" '"\(.kernel_reports | map("\(.class) \(.fails)") | join(",")) \(.reason)"')" \
	"warning false step 6 (6: outcome fail): outcome was pass, expected fail"

# compare: OLD the --fail-on run (two variants), NEW the whole library: the
# reports of the variants only NEW ran are new, the WARNINGs of 'allowed'
# and 'unexpected' are not (same signature in both)
out=$("$BOOTLAB" compare "$R2" "$R1" 2>&1); rc=$?
echo "$out" | grep -E 'kernel report' | sed 's/^/# /'
expect_eq "compare exits 0" "$rc" 0
want=$(jq '[.scenarios[] | select(.name != "'"$k"'[allowed]" and .name != "'"$k"'[unexpected]") | .kernel_reports[]] | length' "$R1")
expect_eq "compare: the reports only NEW has are new ($want)" "$(grep -c '^  new kernel report: ' <<<"$out")" "$want"
expect_match "compare: a new one by signature, class and title" "$out" \
	"^  new kernel report: $(R=$R1 sv "$k[bug]" .kernel_reports[0].signature) bug: kernel BUG in lkdtm_BUG \\(allowed\\)\$"
expect_match "compare: the count" "$out" "^$want new kernel reports in NEW\$"
expect_eq "compare: NEW against itself, nothing new" "$("$BOOTLAB" compare "$R1" "$R1" | tail -n 1)" \
	"0 new kernel reports in NEW"

# report merge reads the reports back and writes them again
"$BOOTLAB" report merge -o "$T_TMP/merged" "$(dirname "$R1")" >/dev/null 2>&1
expect_eq "report merge keeps every kernel report" \
	"$(jq -c '[.scenarios[].kernel_reports[] | del(.line)]' "$T_TMP/merged/report.json")" \
	"$(jq -c '[.scenarios[].kernel_reports[] | del(.line)]' "$R1")"
expect_eq "merged index.html shows them" \
	"$("$BOOTLAB_HOME/tests/tools/html-dom" "$T_TMP/merged/index.html" | grep -c '^kreport ')" \
	"$(grep -c '^kreport ' <<<"$facts")"
done_testing
