#!/bin/bash
# timeout: 400
# bootlab repro (docs/repro.md) with bootlab's x86_64 kernel on QEMU:
# - bootlab run of tests/data/scenarios/repro.yaml keeps a repro folder for
#   each variant that did not pass (the initrd and disk image as built,
#   repro.json with the emulator's argv as it ran), none for the pass;
# - bootlab repro boots each again to the recorded outcome: a panic, and
#   a failed step's `fail`, which only the scenario's steps make;
# - with --keep the passing variant has one too, and boots to pass;
# - a changed disk image or scenario file is refused (exit 2, naming the
#   field) before anything boots;
# - the same on UML (bootlab run --backend uml);
# - bootlab gate --observe of a busybox /init that exits 3: the repro of
#   its plan made in memory (no scenario file) says the same why;
# - bootlab gate of an /init that never mounts the root: repro.json's
#   `gate` records the stage-2 hello's timeout, the repro runs the gate's
#   steps again (the hello step named) to the same timeout.
. "$(dirname "$0")/../lib.sh"

# repro DIR: bootlab repro's output in $out (its last lines shown), its
# status in $rc
repro() {
	out=$("$BOOTLAB" repro "$1" </dev/null 2>&1)
	rc=$?
	echo "$out" | tail -n 4 | sed 's/^/# /'
}

K=$("$BOOTLAB" kernel build --arch x86_64 -q) || K=
check "the project's x86_64 kernel is built" test -f "$K"
SC="$T_TMP/repro.yaml"
cp tests/data/scenarios/repro.yaml "$SC"

"$BOOTLAB" run --report-dir "$T_TMP/r" "$SC" >"$T_TMP/run.out" 2>&1; rc=$?
sed 's/^/# /' "$T_TMP/run.out"
expect_eq "run: two variants fail" "$rc" 1
R=$(readlink -f "$T_TMP/r/latest")
P="$R/repro_exit-7_"
check "the panicking variant's repro folder holds repro.json, the initrd and the disk" \
	test -s "$P/repro.json" -a -s "$P/initrd" -a -f "$P/disk0.img"
check "the passing variant has no repro folder" test ! -e "$R/repro"
expect_eq "report.json names each repro folder (null for the pass)" \
	"$(jq -r '[.scenarios[].repro] | map(tostring) | join(" ")' "$R/report.json")" \
	"null repro_exit-7_ repro_wrong-cmdline_"
expect_eq "index.html says how to boot the failing variants again, and only them" \
	"$(xmllint --html --xpath '//p[@class="repro"]/code/text()' "$R/index.html" 2>/dev/null | sed 's|.*/||' | sort | tr '\n' ' ')" \
	"repro_exit-7_ repro_wrong-cmdline_ "
expect_eq "the disk image kept is 4 MiB, as built" "$(stat -c %s "$P/disk0.img")" 4194304
expect_eq "repro.json's kernel is the one booted, with its SHA-256" \
	"$(jq -r '.kernel.path + " " + .kernel.sha256' "$P/repro.json")" \
	"$(jq -r '.scenarios[1].kernel.image' "$R/report.json") $(sha256sum <"$K" | cut -d' ' -f1)"
# the -append word of the argv is the command line the report says was passed
expect_eq "repro.json's emulator argv holds the kernel command line as passed" \
	"$(jq -r '.emulator.argv as $a | $a[($a | index("-append")) + 1]' "$P/repro.json")" \
	"$(jq -r '.scenarios[1].kernel.cmdline' "$R/report.json")"

repro "$P"
expect_eq "repro of the panic: exit 1" "$rc" 1
expect_match "repro: the guest's console is on stdout" "$out" \
	'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000700'
expect_match "repro: the outcome line" "$out" '^outcome: panic \(attempted to kill init, exit status 7\)$'
expect_match "repro: the same outcome as recorded" "$out" '^repro: same outcome \(panic\)$'

repro "$R/repro_wrong-cmdline_"
expect_match "repro of a failed step: fail again (the scenario's steps ran)" "$out" \
	'^repro: same outcome \(fail\)$'

"$BOOTLAB" run --keep --report-dir "$T_TMP/k" --filter '^repro$' "$SC" >/dev/null 2>&1
K2=$(readlink -f "$T_TMP/k/latest")
check "--keep: the passing variant has a repro folder" test -s "$K2/repro/repro.json"
repro "$K2/repro"
expect_eq "repro of the pass: exit 0" "$rc" 0
expect_match "repro of the pass: the same outcome" "$out" '^repro: same outcome \(pass\)$'

cp "$P/disk0.img" "$T_TMP/disk0.img"
printf 'x' | dd of="$P/disk0.img" bs=1 seek=4096 conv=notrunc status=none
repro "$P"
expect_eq "a disk image changed since: exit 2" "$rc" 2
expect_match "the error names repro.json's field and the file" "$out" \
	"repro.json: field 'disks.0': '.*/disk0.img' no longer has SHA-256 "
cp "$T_TMP/disk0.img" "$P/disk0.img"
echo "# edited" >>"$SC"
repro "$P"
expect_eq "a scenario file changed since: exit 2" "$rc" 2
expect_match "the error names the scenario field" "$out" "field 'scenario': '$SC' no longer has SHA-256"
echo "$out" >"$T_TMP/refused.out"
no_match "nothing booted when refused" 'Linux version' "$T_TMP/refused.out"

# UML: the run's --backend does not change the variant's name; the record
# says where it booted
"$BOOTLAB" run --backend uml --filter 'exit-7' --report-dir "$T_TMP/u" "$SC" >/dev/null 2>&1
U="$(readlink -f "$T_TMP/u/latest")/repro_exit-7_"
expect_eq "uml: the repro folder records the uml backend" "$(jq -r '.machine.backend' "$U/repro.json")" uml
repro "$U"
expect_match "uml: repro boots UML again to the same panic" "$out" '^repro: same outcome \(panic\)$'
expect_match "uml: ... the UML kernel's console" "$out" 'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000700'

# a plan made in memory: bootlab gate --observe of an /init that exits 3
printf '#!/bin/busybox sh\n/bin/busybox echo repro-test: giving up\nexit 3\n' | busybox_initrd "$T_TMP/init.cpio.gz"
"$BOOTLAB" gate --observe --kernel "$K" --initramfs "$T_TMP/init.cpio.gz" --report-dir "$T_TMP/g" >"$T_TMP/gate.out" 2>&1
G=$(readlink -f "$T_TMP/g/latest")
GP=$(sed -n 's/^boot it again: bootlab repro //p' "$T_TMP/gate.out")
expect_eq "gate: its failure report says how to boot it again, the folder report.json names" \
	"$(readlink -f "$GP")" "$G/$(jq -r '.scenarios[0].repro' "$G/report.json")"
expect_eq "gate: the repro folder names no scenario file" "$(jq -r '.scenario' "$GP/repro.json")" null
repro "$GP"
expect_eq "repro of the gate's boot: exit 1" "$rc" 1
expect_match "repro of the gate's boot: the observed why again" "$out" \
	'^outcome: panic \(/init \(busybox sh\) exited 3; last commands: "/bin/busybox echo repro-test: giving up" exited 0; '
expect_eq "repro of the gate's boot: word for word the recorded reason" \
	"$(echo "$out" | sed -n 's/^outcome: panic (//p')" "$(echo "$out" | sed -n 's/^recorded: panic (//p')"
expect_match "repro of the gate's boot: the same outcome" "$out" '^repro: same outcome \(panic\)$'
expect_match "repro of the gate's boot: the gate's steps ran again" "$out" \
	"^step 'the initramfs switched to the root disk': kernel panic \\(.*\\) while waiting for the agent's stage-2 hello$"
# a record older than `gate` loads as before: no steps, the same panic
jq 'del(.gate)' "$GP/repro.json" >"$T_TMP/old.json" && cp "$T_TMP/old.json" "$GP/repro.json"
repro "$GP"
expect_eq "a repro.json without gate: booted without steps" "$(echo "$out" | grep -c "^step '")" 0
expect_match "a repro.json without gate: the same outcome" "$out" '^repro: same outcome \(panic\)$'

# a gate that never reaches its root: /init sleeps until the deadline
printf '#!/bin/busybox sh\n/bin/busybox echo repro-test: no root\nexec /bin/busybox sleep 600\n' |
	busybox_initrd "$T_TMP/sleep.cpio.gz"
"$BOOTLAB" gate --timeout 8s --kernel "$K" --initramfs "$T_TMP/sleep.cpio.gz" --report-dir "$T_TMP/s" >"$T_TMP/gate2.out" 2>&1
SP=$(sed -n 's/^boot it again: bootlab repro //p' "$T_TMP/gate2.out")
expect_eq "gate timeout: repro.json's gate holds the hello's timeout, no passphrase" \
	"$(jq -c '.gate' "$SP/repro.json" 2>&1)" '{"hello_timeout_ms":8000,"passphrase":null}'
repro "$SP"
expect_eq "repro of the gate's timeout: exit 1" "$rc" 1
expect_match "repro of the gate's timeout: the stage-2 hello step waited again" "$out" \
	"^step 'the initramfs switched to the root disk': boot deadline reached while waiting for the agent's stage-2 hello$"
expect_match "repro of the gate's timeout: the same outcome" "$out" '^repro: same outcome \(timeout\)$'
no_emulator_left
done_testing
