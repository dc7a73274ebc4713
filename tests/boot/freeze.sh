#!/bin/bash
# timeout: 400
# --freeze and --dump-memory (docs/repro.md, "Freezing a crashed guest")
# with bootlab's x86_64 kernel on QEMU:
# - bootlab run --freeze=60s --dump-memory of a boot whose /init exits 7:
#   the kernel panics with panic=0, bootlab stops the guest after the
#   panic trailer and prints where it is held; QMP's query-status on the
#   printed qmp.sock says paused, QEMU uses no CPU, the core is an ELF core
#   with NT_PRSTATUS notes (mode 0600), gdb -batch with the printed command
#   reads $rip; SIGTERM to bootlab ends the hold and QEMU; report.json says
#   panic and `frozen`, index.html and junit.xml show it (why, when, the
#   dump);
# - the variants that pass (a poweroff, an expected panic) are neither
#   held nor dumped nor shown frozen; one whose step times out is, at its
#   timeout;
# - bootlab boot --freeze of a guest that hangs: frozen at the deadline;
# - bootlab repro --freeze --dump-memory of the panic;
# - bootlab gate --freeze=1s --dump-memory of an /init that never reaches
#   the root: frozen at the deadline, dumped, held, then ended; the
#   failure report, report.json and the --junit file say so;
# - UML is refused (exit 2).
. "$(dirname "$0")/../lib.sh"

K=$("$BOOTLAB" kernel build --arch x86_64 -q) || K=
check "the project's x86_64 kernel is built" test -f "$K"
SC=tests/data/scenarios/freeze.yaml

# held ERRFILE: wait (60 s at most) until bootlab says where the guest is held
held() {
	for _ in $(seq 600); do
		grep -q '^  gdb: ' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
field() { sed -n "s/^  $2: *//p" "$1" | head -n 1; }
# qmp SOCKET COMMAND: the "return" of COMMAND on a QMP socket, as JSON
qmp() {
	python3 - "$1" "$2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
json.loads(f.readline())  # the greeting
for cmd in ("qmp_capabilities", sys.argv[2]):
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    while True:
        m = json.loads(f.readline())
        if "return" in m or "error" in m:
            break
print(json.dumps(m.get("return", m)))
PY
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

"$BOOTLAB" run --freeze=60s --dump-memory --report-dir "$T_TMP/r" --filter '^freeze$' "$SC" \
	>"$T_TMP/run.out" 2>"$T_TMP/run.err" &
pid=$!
if held "$T_TMP/run.err"; then ok "run --freeze: bootlab says where the guest is held"; else
	not_ok "run --freeze: bootlab says where the guest is held"; sed 's/^/#   /' "$T_TMP/run.err"; fi
sed 's/^/# /' "$T_TMP/run.err"
expect_match "... frozen at the panic" "$(cat "$T_TMP/run.err")" "^bootlab: 'freeze' frozen at [0-9.]+ s \(kernel panic\)"
qpid=$(field "$T_TMP/run.err" "qemu pid")
sock=$(field "$T_TMP/run.err" "qmp.sock" | sed 's/ (QMP)$//')
hmp=$(field "$T_TMP/run.err" "monitor.sock" | sed 's/ (HMP)$//')
core=$(field "$T_TMP/run.err" "memory dump")
gdbcmd=$(field "$T_TMP/run.err" "gdb")
check "the printed QEMU pid is a running QEMU" grep -q qemu-system "/proc/$qpid/comm"
check "monitor.sock is a socket" test -S "$hmp"
expect_eq "QMP on the printed qmp.sock: query-status says paused" \
	"$(qmp "$sock" query-status | jq -r .status)" paused
c0=$(cpu_ticks "$qpid"); sleep 1; c1=$(cpu_ticks "$qpid")
if [ $((c1 - c0)) -le 5 ]; then ok "a frozen QEMU uses ~no CPU ($((c1 - c0)) ticks in 1 s)"; else
	not_ok "a frozen QEMU uses ~no CPU ($((c1 - c0)) ticks in 1 s)"; fi
check "the memory dump is in the report folder, whole (no .tmp left)" \
	test -s "$core" -a ! -e "$core.tmp"
expect_eq "... with mode 0600" "$(stat -c %a "$core")" 600
expect_match "... an ELF core" "$(readelf -h "$core" 2>&1)" 'Type: +CORE \(Core file\)'
expect_match "... with the CPU's registers in a NOTE (NT_PRSTATUS)" "$(readelf -n "$core" 2>&1)" \
	'CORE +0x[0-9a-f]+[[:space:]]+NT_PRSTATUS'
expect_match "the gdb command names the cached vmlinux and the stub" "$gdbcmd" \
	"^gdb -q $(dirname "$K")/vmlinux -ex 'target remote 127\.0\.0\.1:[0-9]+'$"
if command -v gdb >/dev/null; then
	eval "$gdbcmd -batch -ex 'info registers rip'" >"$T_TMP/gdb.out" 2>&1
	sed 's/^/# gdb: /' "$T_TMP/gdb.out"
	expect_match "gdb -batch attaches to the frozen guest and reads \$rip" "$(cat "$T_TMP/gdb.out")" \
		'^rip +0xffffffff[0-9a-f]+ '
else
	skip "no gdb (ci/install-deps)" "gdb reads \$rip of the frozen guest"
fi
kill -TERM "$pid"
wait "$pid"
expect_eq "SIGTERM ends the hold and the run (exit 130)" "$?" 130
if kill -0 "$qpid" 2>/dev/null; then not_ok "no QEMU left after SIGTERM"; else ok "no QEMU left after SIGTERM"; fi
R=$(readlink -f "$T_TMP/r/latest")
expect_eq "report.json: the outcome stays the panic" "$(jq -r '.scenarios[0].outcome' "$R/report.json")" panic
expect_eq "report.json: frozen says why and where the dump is" \
	"$(jq -r '.scenarios[0].frozen | "\(.why) \(.dump) \(.at_s > 0)"' "$R/report.json")" "panic freeze.core true"
words=" $(jq -r '.scenarios[0].kernel.cmdline' "$R/report.json") "
check "the kernel ran with panic=0 and nokaslr, not panic=-1" \
	test "${words#* panic=0 }" != "$words" -a "${words#* nokaslr }" != "$words" -a "${words#* panic=-1 }" = "$words"
# index.html and junit.xml say it too: why, when (report.json's at_s) and the dump
at=$(printf '%.3f' "$(jq -r '.scenarios[0].frozen.at_s' "$R/report.json")")
expect_match "index.html: a line says the guest is frozen, why, when and where its dump is" \
	"$(xmllint --html --xpath 'string(//section[@data-name="freeze"]//p[@class="frozen"])' "$R/index.html" 2>/dev/null)" \
	"^frozen at ${at//./\\.} s \(kernel panic\); memory dump: freeze\.core$"
expect_eq "index.html: the dump is linked relative to the report" \
	"$(xmllint --html --xpath 'string(//p[@class="frozen"]/a/@href)' "$R/index.html" 2>/dev/null)" freeze.core
jout=$(xmllint --xpath 'string(//testcase[@name="freeze"]/system-out)' "$R/junit.xml" 2>&1)
expect_match "junit.xml: system-out says the guest is frozen, why, when and the dump" "$jout" \
	"^frozen: kernel panic at ${at//./\\.} s; memory dump: .*/freeze\.core$"
check "junit.xml: ... the dump path it names is the dump" \
	cmp "$(printf '%s\n' "$jout" | sed -n 's/^frozen: .*; memory dump: //p')" "$R/freeze.core"

# the variants: only the failing one (hang, at its step's timeout) is held
"$BOOTLAB" run -j2 --freeze=1s --dump-memory --report-dir "$T_TMP/v" --filter '\[' "$SC" \
	>"$T_TMP/v.out" 2>"$T_TMP/v.err"; rc=$?
sed 's/^/# /' "$T_TMP/v.out" "$T_TMP/v.err"
expect_eq "run --freeze of the variants: one fails (exit 1)" "$rc" 1
V=$(readlink -f "$T_TMP/v/latest")
expect_eq "only the failing variant was held and dumped" "$(cd "$V" && ls -- *.core | tr '\n' ' ')" "freeze_hang_.core "
expect_eq "report.json: frozen at the step's timeout, null for the passes" \
	"$(jq -r '[.scenarios[] | "\(.name)=\(.outcome)/\(.frozen.why)"] | join(" ")' "$V/report.json")" \
	"freeze[pass]=pass/null freeze[expected-panic]=pass/null freeze[hang]=timeout/step-timeout"
expect_eq "index.html: only the failing variant has the frozen line, at its step's timeout" \
	"$(xmllint --html --xpath '//section[p[@class="frozen"]]/@data-name' "$V/index.html" 2>/dev/null | tr -d ' ')" \
	'data-name="freeze[hang]"'
expect_match "... saying why" \
	"$(xmllint --html --xpath 'string(//p[@class="frozen"])' "$V/index.html" 2>/dev/null)" \
	'^frozen at [0-9.]+ s \(step timeout\); memory dump: freeze_hang_\.core$'
expect_eq "junit.xml: only the failing variant's system-out says frozen" \
	"$(xmllint --xpath '//testcase/system-out[contains(., "frozen: ")]/../@name' "$V/junit.xml" 2>/dev/null | tr -d ' ')" \
	'name="freeze[hang]"'
# report merge keeps the hold and copies the dump beside the merged report
"$BOOTLAB" report merge -o "$T_TMP/vm" "$V" >/dev/null 2>&1
expect_eq "report merge keeps frozen, with the dump copied" \
	"$(jq -r '[.scenarios[] | "\(.name)=\(.frozen.why)/\(.frozen.dump)"] | join(" ")' "$T_TMP/vm/report.json")" \
	"freeze[pass]=null/null freeze[expected-panic]=null/null freeze[hang]=step-timeout/freeze_hang_.core"
check "report merge: the dump's copy is byte-identical" cmp "$V/freeze_hang_.core" "$T_TMP/vm/freeze_hang_.core"
expect_eq "report merge: index.html's frozen line links the copy, junit.xml names it" \
	"$(xmllint --html --xpath 'string(//p[@class="frozen"]/a/@href)' "$T_TMP/vm/index.html" 2>/dev/null) $(xmllint --xpath 'string(//testcase/system-out[contains(., "frozen: ")])' "$T_TMP/vm/junit.xml" | sed -n 's|^frozen: .*; memory dump: .*/||p')" \
	"freeze_hang_.core freeze_hang_.core"

# bootlab boot of a guest that hangs: frozen at the boot's deadline
printf '#!/bin/busybox sh\n/bin/busybox echo freeze-test: hanging\nexec /bin/busybox sleep 1000\n' |
	busybox_initrd "$T_TMP/hang.cpio.gz"
out=$("$BOOTLAB" boot --kernel "$K" --initrd "$T_TMP/hang.cpio.gz" --timeout 5s --freeze=1s </dev/null 2>&1); rc=$?
echo "$out" | grep -E '^bootlab|^outcome' | sed 's/^/# /'
expect_eq "boot --freeze of a hanging guest: exit 1" "$rc" 1
expect_match "... frozen at the boot's deadline" "$out" "^bootlab: 'boot' frozen at [0-9.]+ s \(boot deadline\)"
expect_match "... held for the time given, then ended" "$out" "no longer held \(the hold time is over\)"
expect_match "... the outcome stays the timeout" "$out" '^outcome: timeout \(boot deadline of 5000 ms reached'

# bootlab repro --freeze --dump-memory of the panic
P="$R/freeze"
out=$("$BOOTLAB" repro --freeze=1s --dump-memory "$P" </dev/null 2>&1); rc=$?
echo "$out" | grep -E '^bootlab|^repro|^outcome|^  ' | sed 's/^/# /'
expect_eq "repro --freeze: exit 1 (the panic)" "$rc" 1
expect_match "... frozen at the panic" "$out" "^bootlab: 'freeze' frozen at [0-9.]+ s \(kernel panic\)"
expect_match "... the same outcome as recorded" "$out" '^repro: same outcome \(panic\)$'
core=$(ls "$P"/repro-*.core 2>/dev/null | head -n 1)
expect_match "... its memory dumped into the repro folder" "$(readelf -n "$core" 2>&1)" 'NT_PRSTATUS'

# bootlab gate --freeze --dump-memory of an /init that never reaches the root
"$BOOTLAB" gate --kernel "$K" --initramfs "$T_TMP/hang.cpio.gz" --timeout 5s --freeze=1s --dump-memory \
	--report-dir "$T_TMP/g" --junit "$T_TMP/gate.xml" </dev/null >"$T_TMP/gate.out" 2>"$T_TMP/gate.err"; rc=$?
grep -E '^bootlab|^outcome|^frozen|^memory|^boot it' "$T_TMP/gate.out" "$T_TMP/gate.err" | sed 's/^/# /'
expect_eq "gate --freeze of an /init that never reaches the root: exit 1" "$rc" 1
expect_match "... frozen at the boot's deadline" "$(cat "$T_TMP/gate.err")" \
	"^bootlab: 'initramfs-gate' frozen at [0-9.]+ s \(boot deadline\)"
expect_match "... held for the time given, then ended" "$(cat "$T_TMP/gate.err")" \
	"'initramfs-gate' no longer held \(the hold time is over\)"
G=$(readlink -f "$T_TMP/g/latest")
expect_eq "gate: report.json's outcome stays the timeout, frozen at the deadline with its dump" \
	"$(jq -r '.scenarios[0] | "\(.outcome) \(.frozen.why) \(.frozen.dump) \(.frozen.at_s >= 5)"' "$G/report.json")" \
	"timeout deadline initramfs-gate.core true"
expect_match "gate: the dump is an ELF core with the CPU's registers" "$(readelf -n "$G/initramfs-gate.core" 2>&1)" \
	'CORE +0x[0-9a-f]+[[:space:]]+NT_PRSTATUS'
expect_eq "gate: ... with mode 0600, no .tmp left" \
	"$(stat -c %a "$G/initramfs-gate.core") $(ls "$G" | grep -c '\.tmp$')" "600 0"
words=" $(jq -r '.scenarios[0].kernel.cmdline' "$G/report.json") "
check "gate: the kernel ran with panic=0 and nokaslr, not panic=-1" \
	test "${words#* panic=0 }" != "$words" -a "${words#* nokaslr }" != "$words" -a "${words#* panic=-1 }" = "$words"
expect_match "gate: its failure report says where the guest was frozen" "$(cat "$T_TMP/gate.out")" \
	'^frozen: boot deadline at [0-9.]+ s$'
expect_eq "gate: ... and names the dump" \
	"$(readlink -f "$(sed -n 's/^memory dump: //p' "$T_TMP/gate.out")")" "$G/initramfs-gate.core"
expect_match "gate --junit: the testcase's system-out says frozen, with the dump" \
	"$(xmllint --xpath 'string(//testcase/system-out)' "$T_TMP/gate.xml" 2>&1)" \
	'^frozen: boot deadline at [0-9.]+ s; memory dump: .*/initramfs-gate\.core$'
check_junit "gate --junit: valid against the JUnit XSD" "$T_TMP/gate.xml"

out=$("$BOOTLAB" run --freeze --backend uml --report-dir "$T_TMP/u" "$SC" 2>&1); rc=$?
expect_eq "run --freeze on UML: refused, exit 2" "$rc" 2
expect_match "... naming the option and the backend" "$out" "--freeze needs the qemu backend, not 'uml'"
no_emulator_left
done_testing
