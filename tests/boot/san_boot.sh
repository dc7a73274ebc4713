#!/bin/bash
# One boot per backend with the sanitizer build (build/san/bootlab: ASan +
# UBSan + LeakSanitizer, `make san`): QEMU x86_64 and aarch64 and UML (the
# smoke matrix), libvirt (the test's own daemon, ci/libvirtd), the
# interactive `boot` front end on a panicking guest and on a refused kernel,
# and an expect-script step. A sanitizer report makes bootlab
# exit 23 (tests/run sets ASAN_OPTIONS/UBSAN_OPTIONS) and is shown here.
# timeout: 600
. "$(dirname "$0")/../lib.sh"

SAN="$BOOTLAB_HOME/build/san/bootlab"
if [ ! -x "$SAN" ]; then
	not_ok "the sanitizer build exists ($SAN: make san)"
	done_testing
	exit 1
fi
export ASAN_OPTIONS="detect_leaks=1:exitcode=23:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=23:print_stacktrace=1:${UBSAN_OPTIONS:-}"
san_clean() { # NAME OUTPUT: no sanitizer report in it
	if printf '%s' "$2" | grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:'; then
		not_ok "$1: no sanitizer report"
		printf '%s\n' "$2" | grep -A12 -E 'Sanitizer|runtime error' | head -n 30 | sed 's/^/#   /'
	else ok "$1: no sanitizer report"; fi
}

out=$("$SAN" run -j 2 --report-dir "$T_TMP/m" scenarios/smoke.yaml 2>&1); rc=$?
echo "$out" | tail -n 4 | sed 's/^/# /'
expect_eq "qemu x86_64, qemu aarch64, uml: exit 0" "$rc" 0
for v in 'arch=x86_64,backend=qemu' 'arch=aarch64,backend=qemu' 'arch=x86_64,backend=uml'; do
	expect_match "smoke[$v] passes" "$out" "^PASS +smoke\[$v\]"
done
san_clean "qemu and uml" "$out"

libvirtd_start || { done_testing; exit 1; }
out=$("$SAN" run --backend libvirt --report-dir "$T_TMP/l" tests/data/scenarios/smoke-one.yaml 2>&1); rc=$?
echo "$out" | tail -n 2 | sed 's/^/# /'
expect_eq "libvirt: exit 0" "$rc" 0
expect_match "libvirt: smoke passes" "$out" '^PASS +smoke'
san_clean "libvirt" "$out"
libvirtd_stop

# boot: the interactive front end, on a guest whose /init exits 3
mkdir -p "$T_TMP/root/dev"
printf '#include <unistd.h>\nint main(void){return 3;}\n' > "$T_TMP/exit3.c"
musl-gcc -static -Os -o "$T_TMP/root/init" "$T_TMP/exit3.c"
(cd "$T_TMP/root" && find . | cpio -o -H newc --quiet) > "$T_TMP/exit3.cpio"
out=$("$SAN" boot --kernel x86_64 --initrd "$T_TMP/exit3.cpio" --timeout 60s < /dev/null 2>&1); rc=$?
expect_eq "boot: exit 1 (a panic)" "$rc" 1
expect_match "boot: outcome" "$(printf '%s\n' "$out" | tail -n 1)" \
	'^outcome: panic \(attempted to kill init, exit status 3\)$'
san_clean "boot" "$out"
# boot: a kernel refused while preparing (bl_prepare fails half-way)
out=$("$SAN" boot --kernel "$("$SAN" kernel path --arch x86_64)" --backend uml < /dev/null 2>&1); rc=$?
expect_eq "boot: an x86_64 kernel on uml: exit 2" "$rc" 2
san_clean "boot refused" "$out"

# an expect-script step (its own child process beside the emulator)
out=$("$SAN" run --report-dir "$T_TMP/e" tests/data/scenarios/rescue-shell.yaml 2>&1); rc=$?
echo "$out" | tail -n 2 | sed 's/^/# /'
# (its wrong-answer variant fails on purpose)
expect_eq "expect script step: exit 1, one of two variants passed" \
	"$rc $(printf '%s\n' "$out" | grep -o '[0-9]* of [0-9]* passed')" "1 1 of 2 passed"
san_clean "expect script step" "$out"
no_emulator_left
done_testing
