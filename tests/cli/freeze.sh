#!/bin/bash
# --freeze[=T] and --dump-memory of boot, repro, run and gate (docs/repro.md,
# "Freezing a crashed guest") refused before anything boots: a duration
# that is not one, --dump-memory without --freeze, and a backend other
# than QEMU (UML, libvirt), each with exit 2 and a message naming the
# option (and the backend). Nothing here boots: the UML kernel is not
# built, the repro folder's kernel is not a kernel.
. "$(dirname "$0")/../lib.sh"

# refused NAME REGEX CMD...: exit 2 and a message matching REGEX
refused() {
	local n=$1 re=$2 out rc
	shift 2
	out=$("$@" 2>&1 </dev/null); rc=$?
	if [ "$rc" = 2 ] && printf '%s' "$out" | grep -qE -- "$re"; then ok "$n"; else
		not_ok "$n"; echo "#   exit $rc: $out" | head -n 5; fi
}

for cmd in boot repro run gate; do
	help=$("$BOOTLAB" "$cmd" --help)
	if printf '%s' "$help" | grep -qE '^  --freeze\[=T\] ' &&
		printf '%s' "$help" | grep -qE '^  --dump-memory '; then
		ok "$cmd --help describes --freeze and --dump-memory"
	else not_ok "$cmd --help describes --freeze and --dump-memory"; fi
done
refused "boot --freeze=abc: a bad duration, named" "bootlab boot: --freeze: bad duration 'abc'" \
	"$BOOTLAB" boot --kernel x86_64 --freeze=abc
refused "boot --freeze=25h: too long" "--freeze: duration '25h' is too long" \
	"$BOOTLAB" boot --kernel x86_64 --freeze=25h
refused "repro --freeze=0: too short" "bootlab repro: --freeze: duration '0' must be at least 1ms" \
	"$BOOTLAB" repro --freeze=0 "$T_TMP"
refused "run --freeze=1x: a bad duration" "bootlab run: --freeze: bad duration '1x'" \
	"$BOOTLAB" run --freeze=1x tests/data/scenarios/repro.yaml
refused "boot --dump-memory without --freeze" "--dump-memory needs --freeze" \
	"$BOOTLAB" boot --kernel x86_64 --dump-memory
refused "gate --freeze=2d: a bad duration, named" "^bootlab gate: --freeze: bad duration '2d'" \
	"$BOOTLAB" gate --kernel "$T_TMP/none" --initramfs "$T_TMP/none" --freeze=2d
refused "gate --dump-memory without --freeze: refused before its files are looked at" \
	"^bootlab gate: --dump-memory needs --freeze" \
	"$BOOTLAB" gate --kernel "$T_TMP/none" --initramfs "$T_TMP/none" --dump-memory
refused "boot --freeze on UML: the option and the backend named" \
	"^bootlab boot: --freeze needs the qemu backend, not 'uml'" \
	"$BOOTLAB" boot --kernel um --freeze --dump-memory
refused "run --freeze --backend uml: the variant, option and backend named" \
	"^bootlab run: variant 'repro': --freeze needs the qemu backend, not 'uml'" \
	"$BOOTLAB" run --report-dir "$T_TMP/r" --freeze --backend uml tests/data/scenarios/repro.yaml
refused "run --freeze=5s --dump-memory --backend libvirt: refused" \
	"--freeze needs the qemu backend, not 'libvirt'" \
	"$BOOTLAB" run --report-dir "$T_TMP/r" --freeze=5s --dump-memory --backend libvirt \
	tests/data/scenarios/repro.yaml
refused "run --dump-memory without --freeze" "bootlab run: variant 'repro': --dump-memory needs --freeze" \
	"$BOOTLAB" run --report-dir "$T_TMP/r" --dump-memory tests/data/scenarios/repro.yaml
nothing_written "a refused run writes no report" "$T_TMP/r"

# a UML repro folder, complete and matching its hashes
D="$T_TMP/d"
mkdir "$D"
head -c 4096 /dev/urandom >"$T_TMP/kernel"
head -c 512 /dev/urandom >"$D/initrd"
sha() { sha256sum <"$1" | cut -d' ' -f1; }
jq -n --arg k "$T_TMP/kernel" --arg ks "$(sha "$T_TMP/kernel")" --arg is "$(sha "$D/initrd")" '{
	schema: "bootlab-repro/1", variant: "v", scenario: null,
	recorded: {outcome: "panic", reason: "why"},
	kernel: {path: $k, sha256: $ks}, initrd: {file: "initrd", sha256: $is}, disks: [],
	machine: {arch: "x86_64", backend: "uml", machine: null, virtio: null, memory_mb: 256,
		panic: -1, cmdline: ["panic=-1"], emulator_args: []},
	observe: false, timeout_ms: 2000,
	emulator: {argv: ["linux"], work_dir: "/tmp/x"}}' >"$D/repro.json"
refused "repro --freeze of a UML boot: the option and backend named" \
	"^bootlab repro: --freeze needs the qemu backend, not 'uml'" "$BOOTLAB" repro --freeze "$D"
expect_eq "... and nothing was written into its folder" "$(ls "$D" | tr '\n' ' ')" "initrd repro.json "
no_emulator_left
done_testing
