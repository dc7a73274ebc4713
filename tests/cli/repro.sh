#!/bin/bash
# bootlab repro with bad input (docs/repro.md): a repro folder is someone's
# report and may be incomplete or edited. Each case is refused with exit 2
# and a message naming repro.json's field (or the folder), before anything
# boots: the kernel here is not a kernel, so a case that got through would
# end in an emulator error (exit 3), not 2.
. "$(dirname "$0")/../lib.sh"

out=$("$BOOTLAB" repro 2>&1); rc=$?
expect_eq "no folder: usage error" "$rc" 2
expect_match "no folder: says so" "$out" 'a repro folder is required'
out=$("$BOOTLAB" repro --frob x 2>&1); rc=$?
expect_eq "an unknown option: usage error" "$rc" 2
out=$("$BOOTLAB" repro "$T_TMP/none" 2>&1); rc=$?
expect_eq "a folder that is not there: exit 2" "$rc" 2
expect_match "... named" "$out" "'$T_TMP/none' is not a folder"
mkdir "$T_TMP/empty"
out=$("$BOOTLAB" repro "$T_TMP/empty" 2>&1); rc=$?
expect_match "a folder without repro.json: named missing" "$out" "$T_TMP/empty/repro.json: missing"

# a complete folder: a kernel file outside, an initrd and a disk inside
D="$T_TMP/d"
mkdir "$D"
head -c 4096 /dev/urandom >"$T_TMP/kernel"
head -c 512 /dev/urandom >"$D/initrd"
truncate -s 1M "$D/disk0.img"
sha() { sha256sum <"$1" | cut -d' ' -f1; }
jq -n --arg k "$T_TMP/kernel" --arg ks "$(sha "$T_TMP/kernel")" --arg is "$(sha "$D/initrd")" \
	--arg ds "$(sha "$D/disk0.img")" '{
	schema: "bootlab-repro/1", variant: "v", scenario: null,
	recorded: {outcome: "panic", reason: "why"},
	kernel: {path: $k, sha256: $ks}, initrd: {file: "initrd", sha256: $is},
	disks: [{file: "disk0.img", sha256: $ds}],
	machine: {arch: "x86_64", backend: "qemu", machine: "q35", virtio: "pci", memory_mb: 256,
		panic: -1, cmdline: ["panic=-1"], emulator_args: []},
	observe: false, timeout_ms: 2000,
	emulator: {argv: ["qemu-system-x86_64", "-kernel", $k], work_dir: "/tmp/x"}}' >"$T_TMP/good.json"

# case NAME JQ-EDIT REGEX: the folder with repro.json edited is refused,
# exit 2, the message matching REGEX
case_bad() {
	jq "$2" "$T_TMP/good.json" >"$D/repro.json"
	out=$("$BOOTLAB" repro "$D" 2>&1 </dev/null); rc=$?
	if [ "$rc" = 2 ] && printf '%s' "$out" | grep -qE -- "$3"; then ok "$1"; else
		not_ok "$1"; echo "#   exit $rc: $out" | head -n 5; fi
}
case_bad "wrong schema" '.schema = "bootlab-repro/9"' "field 'schema': not 'bootlab-repro/1'"
case_bad "no kernel" 'del(.kernel)' "field 'kernel': missing"
case_bad "a kernel hash that is not hex" '.kernel.sha256 = "xyz"' "field 'kernel.sha256': not 64 lower-case hex"
case_bad "a kernel changed since" '.kernel.sha256 = ("0" * 64)' \
	"field 'kernel': '.*/kernel' no longer has SHA-256 0{64} \\(now [0-9a-f]{64}\\)"
case_bad "an initrd outside the folder by name" '.initrd.file = "../kernel"' "field 'initrd': a file name in the folder may not hold '/'"
case_bad "a disk by host path" '.disks[0] = {path: "/etc/passwd", sha256: .disks[0].sha256}' "field 'disks.0': names no 'file' in the folder"
case_bad "a disk that is gone" '.disks[0].file = "disk9.img"' "field 'disks.0': cannot open '.*/disk9.img'"
case_bad "disks not an array" '.disks = {}' "field 'disks': not an array"
case_bad "an outcome bootlab does not know" '.recorded.outcome = "meh"' "field 'recorded.outcome': not an outcome"
case_bad "a libvirt boot" '.machine.backend = "libvirt"' "field 'machine.backend': repro boots qemu and uml"
case_bad "a machine type QEMU is not given" '.machine.machine = "-monitor"' "field 'machine.machine': not microvm, q35, pc or virt"
case_bad "memory out of range" '.machine.memory_mb = 1' "field 'machine.memory_mb': out of range"
case_bad "a command line word that is not a string" '.machine.cmdline = [1]' "field 'machine.cmdline': holds something else"
case_bad "an empty emulator argv" '.emulator.argv = []' "field 'emulator.argv': empty"
case_bad "observe not a boolean" '.observe = "yes"' "field 'observe': not a boolean"
case_bad "a scenario file that is gone" '.scenario = {path: "/nonexistent.yaml", sha256: ("0" * 64)}' \
	"field 'scenario': cannot open '/nonexistent.yaml'"
cp tests/data/scenarios/repro.yaml "$T_TMP/s.yaml"
case_bad "a scenario without the variant" \
	".scenario = {path: \"$T_TMP/s.yaml\", sha256: \"$(sha "$T_TMP/s.yaml")\"}" \
	"field 'variant': '.*/s.yaml' has no variant 'v'"
case_bad "a variant name with a terminal escape: shown escaped" \
	".scenario = {path: \"$T_TMP/s.yaml\", sha256: \"$(sha "$T_TMP/s.yaml")\"} | .variant = \"x\\u001b[2Jy\"" \
	"has no variant 'x\\\\x1b\\[2Jy'"
case_bad "a gate that is not an object" '.gate = "luks"' "field 'gate': not an object"
case_bad "a gate's negative timeout" '.gate = {hello_timeout_ms: -1, passphrase: null}' \
	"field 'gate.hello_timeout_ms': out of range"
case_bad "a gate's timeout as a string" '.gate = {hello_timeout_ms: "8s", passphrase: null}' \
	"field 'gate.hello_timeout_ms': not an integer"
case_bad "a gate without its passphrase field" '.gate = {hello_timeout_ms: 8000}' \
	"field 'gate.passphrase': missing"
case_bad "a gate's passphrase that is not a string" '.gate = {hello_timeout_ms: 8000, passphrase: 7}' \
	"field 'gate.passphrase': not a non-empty string"
case_bad "a gate's passphrase with a newline" '.gate = {hello_timeout_ms: 8000, passphrase: "a\nb"}' \
	"field 'gate.passphrase': holds a line break"
case_bad "a gate's passphrase with a NUL: refused as JSON bootlab does not read" \
	'.gate = {hello_timeout_ms: 8000, passphrase: "a\u0000b"}' 'u0000 is not allowed'
case_bad "a gate's passphrase too long" '.gate = {hello_timeout_ms: 8000, passphrase: ("x" * 513)}' \
	"field 'gate.passphrase': longer than 512 bytes"
case_bad "a gate's read_mdstat that is not a boolean" '.gate = {hello_timeout_ms: 8000, passphrase: null, read_mdstat: "yes"}' \
	"field 'gate.read_mdstat': not true or false"
case_bad "a gate with a scenario file" \
	".scenario = {path: \"$T_TMP/s.yaml\", sha256: \"$(sha "$T_TMP/s.yaml")\"} | .gate = {hello_timeout_ms: 8000, passphrase: null}" \
	"field 'gate': a plan from a scenario file has the file's steps"
printf '{"schema": ' >"$D/repro.json"
out=$("$BOOTLAB" repro "$D" 2>&1); rc=$?
expect_eq "repro.json that is not JSON: exit 2" "$rc" 2
expect_match "... with its line and column" "$out" "$D/repro.json:1:[0-9]+: "
done_testing
