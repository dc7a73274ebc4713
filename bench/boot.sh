#!/bin/bash
# Boot speed, side by side in one run (issue 5, "Speed"): bootlab's boot to
# agent hello against raw emulator runs of a static hello /init that
# powers off, printed as ratios with PASS/MISS per goal. Rounds are
# interleaved (every variant once per round) so that load from other work
# hits each about equally. BENCH_ROUNDS (default 5) runs each; the table
# shows min and median, the goals use the min (the run least disturbed by
# other work on a shared machine: the cost of the thing itself).
#
#   raw-plain     qemu-system-x86_64 -m 128 -nographic -no-reboot -kernel bzImage
#                 -initrd hello.cpio.gz (the built minimal kernel's bzImage;
#                 -append console=ttyS0 so the hello is seen)
#   raw-<row>     the exact emulator line bootlab used for that row (from its
#                 report, with the agent's socketpair on fd 3), hello initrd
#   raw-debarm64  a plain run of Debian's arm64 kernel on virt with the hello
#   bootlab-<row> `bootlab run` of smoke on that row: wall time of the whole
#                 command, and its agent-hello phase (host clock from spawn)
#
# Goals: bootlab's overhead <= 5% over raw-<row> for each backend; x86_64
# hello <= 0.25x raw-plain; aarch64 hello <= 0.25x raw-debarm64; UML hello
# <= 0.05 s; the built-in relink time and the shipped suite's wall time are
# printed. The bench never fails on a goal (exit 0 unless it cannot run).
set -u
cd "$(dirname "$0")/.." || exit 1
BOOTLAB=$PWD/bootlab
ROUNDS=${BENCH_ROUNDS:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/bootlab-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export BOOTLAB_ACCEL=${BOOTLAB_ACCEL:-tcg}

x86_bz=$(dirname "$("$BOOTLAB" kernel path --arch x86_64)")/bzImage
arm_img=$("$BOOTLAB" kernel path --arch aarch64) || exit 1
deb_arm=$("$BOOTLAB" kernel fetch --arch aarch64 -q) || exit 1
"$BOOTLAB" kernel path --arch um > /dev/null || exit 1
[ -f "$x86_bz" ] || { echo "bench/boot: no bzImage beside the x86_64 build"; exit 1; }

# hello /init: prints HELLO-INIT, then reboot (QEMU -no-reboot exits) or
# power off (UML re-execs itself on reboot)
cat > "$W/hello.c" <<'EOF'
#include <sys/reboot.h>
#include <unistd.h>
int main(void)
{
	write(1, "HELLO-INIT\n", 11);
#ifdef POWEROFF
	reboot(RB_POWER_OFF);
#else
	reboot(RB_AUTOBOOT);
#endif
	return 0;
}
EOF
mkinitrd() { # CC FLAGS OUT
	rm -rf "$W/root" && mkdir -p "$W/root"
	$1 -static -Os $2 -o "$W/root/init" "$W/hello.c" || exit 1
	(cd "$W/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$3"
}
mkinitrd musl-gcc "" "$W/hello-x86.cpio.gz"
mkinitrd musl-gcc "-DPOWEROFF" "$W/hello-uml.cpio.gz"
mkinitrd aarch64-linux-gnu-gcc "" "$W/hello-arm.cpio.gz"

# the smoke scenario on one row of its matrix
smoke_run() { # ARCH BACKEND REPORT-DIR
	"$BOOTLAB" run --report-dir "$3" --arch "$1" --backend "$2" scenarios/smoke.yaml > /dev/null 2>&1
}
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# one bootlab run per row first, for its emulator line
rows="x86_64:qemu aarch64:qemu x86_64:uml"
for r in $rows; do
	a=${r%:*} b=${r#*:}
	smoke_run "$a" "$b" "$W/line-$a-$b"
	j=$(ls "$W"/line-$a-$b/2*/report.json 2>/dev/null | head -1)
	[ -n "$j" ] || { echo "bench/boot: bootlab run failed for $a/$b"; exit 1; }
	jq -r '.scenarios[0].emulator.command' "$j" > "$W/line-$a-$b.cmd"
done

cat > "$W/timer.py" <<'EOF'
# one timed emulator run: argv from a file (shell-quoted), the hello initrd
# swapped in, a socketpair as console (fds 0/1) and another as fd 3 (the
# agent channel bootlab would hold); prints seconds from exec to exit, or
# "fail" when the hello did not show up
import os, shlex, socket, subprocess, sys, time
mode, cmdfile, initrd = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "line":
    argv = shlex.split(open(cmdfile).read())
    for i, a in enumerate(argv):
        if a == "-initrd":
            argv[i + 1] = initrd
        elif a.startswith("initrd="):
            argv[i] = "initrd=" + initrd
        elif a.startswith("uml_dir="):
            argv[i] = "uml_dir=" + os.path.dirname(initrd)
else:
    argv = shlex.split(cmdfile.replace("@INITRD@", initrd))
# keep the sockets off fd 3, which the child gets as the agent channel
reserved = [os.open("/dev/null", os.O_RDONLY) for _ in range(4)]
con_a, con_b = socket.socketpair()
ag_a, ag_b = socket.socketpair()
os.dup2(ag_b.fileno(), 3)
t0 = time.monotonic()
p = subprocess.Popen(argv, stdin=con_b, stdout=con_b, stderr=subprocess.DEVNULL,
                     pass_fds=(3,), start_new_session=True)
con_b.close(); os.close(3); ag_b.close()
out = b""
con_a.settimeout(60)
try:
    while True:
        d = con_a.recv(65536)
        if not d:
            break
        out += d
except socket.timeout:
    p.kill()
p.wait()
t = time.monotonic() - t0
print("%.3f" % t if b"HELLO-INIT" in out else "fail")
EOF

plain="qemu-system-x86_64 -m 128 -nographic -no-reboot -kernel $x86_bz -initrd @INITRD@ -append console=ttyS0"
debarm="qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512 -nodefaults -no-user-config -display none -no-reboot -kernel $deb_arm -initrd @INITRD@ -append 'console=ttyAMA0 panic=-1 quiet' -serial stdio"

declare -A T
add() { T[$1]="${T[$1]:-} $2"; }
bl_run() { # ARCH BACKEND: wall and hello of one bootlab run
	local a=$1 b=$2 d="$W/bl-$1-$2-$3" t0 t1
	t0=$(date +%s.%N)
	smoke_run "$a" "$b" "$d"
	t1=$(date +%s.%N)
	local j
	j=$(ls "$d"/2*/report.json 2>/dev/null | head -1)
	if [ -n "$j" ] && [ "$(jq -r '.scenarios[0].outcome' "$j")" = pass ]; then
		add "bl-wall-$a-$b" "$(sub "$t1" "$t0")"
		add "bl-hello-$a-$b" "$(jq -r '.scenarios[0].phases[] | select(.name=="agent-hello") | .host_s' "$j")"
	fi
	rm -rf "$d"
}
for round in $(seq "$ROUNDS"); do
	add raw-plain "$(python3 "$W/timer.py" cmd "$plain" "$W/hello-x86.cpio.gz")"
	add raw-debarm64 "$(python3 "$W/timer.py" cmd "$debarm" "$W/hello-arm.cpio.gz")"
	add raw-x86_64-qemu "$(python3 "$W/timer.py" line "$W/line-x86_64-qemu.cmd" "$W/hello-x86.cpio.gz")"
	add raw-aarch64-qemu "$(python3 "$W/timer.py" line "$W/line-aarch64-qemu.cmd" "$W/hello-arm.cpio.gz")"
	add raw-x86_64-uml "$(python3 "$W/timer.py" line "$W/line-x86_64-uml.cmd" "$W/hello-uml.cpio.gz")"
	for r in $rows; do bl_run "${r%:*}" "${r#*:}" "$round"; done
done

median() { # the median of the numbers given (ignores "fail")
	printf '%s\n' $1 | grep -E '^[0-9.]+$' | sort -n | awk '{v[NR]=$1} END {
		if (NR == 0) print "nan"; else if (NR % 2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2 }'
}
M() { median "${T[$1]:-}"; }
mini() { printf '%s\n' $1 | grep -E '^[0-9.]+$' | sort -n | head -n 1 | grep . || echo nan; }
N() { mini "${T[$1]:-}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "nan"; else printf "%.3f", a / b }'; }
goal() { # NAME VALUE OP LIMIT UNIT
	local ok
	ok=$(awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { if (v == "nan") print "MISS"; else if (op == "<=") print (v <= l ? "PASS" : "MISS"); }')
	printf '%-6s %-58s %8s %s %s%s\n' "$ok" "$1" "$2" "$3" "$4" "$5"
}

echo "boot bench: $ROUNDS interleaved rounds, seconds, accel ${BOOTLAB_ACCEL}"
printf '  %-36s %8s %8s   %s\n' "" min median runs
line() { printf '  %-36s %8s %8s   [%s ]\n' "$1" "$(N "$2")" "$(M "$2")" "${T[$2]:-}"; }
line "raw-plain (x86 bzImage, -M pc)" raw-plain
line "raw-debarm64 (Debian arm64, virt)" raw-debarm64
for r in $rows; do
	k="${r%:*}-${r#*:}"
	line "raw-$k (bootlab's line, hello)" "raw-$k"
	line "bootlab-$k wall (bootlab run)" "bl-wall-$k"
	line "bootlab-$k agent hello" "bl-hello-$k"
done
echo
echo "goals (from the min of each row):"
for r in $rows; do
	k="${r%:*}-${r#*:}"
	ov=$(awk -v a="$(N bl-wall-$k)" -v b="$(N raw-$k)" 'BEGIN { if (a == "nan" || b == "nan") print "nan"; else printf "%.3f", a / b - 1 }')
	goal "bootlab overhead, $k: wall(run)/raw(same line) - 1" "$ov" "<=" 0.05 ""
done
goal "x86_64 default: agent hello / raw-plain" "$(ratio "$(N bl-hello-x86_64-qemu)" "$(N raw-plain)")" "<=" 0.25 "x"
goal "aarch64 default: agent hello / raw-debarm64" "$(ratio "$(N bl-hello-aarch64-qemu)" "$(N raw-debarm64)")" "<=" 0.25 "x"
goal "uml: agent hello (s)" "$(N bl-hello-x86_64-uml)" "<=" 0.05 " s"

# the built-in relink: a new archive each run, so never a cache hit
mkdir -p "$W/bi/dev"
date +%s%N > "$W/bi/stamp"
(cd "$W/bi" && find . | cpio -o -H newc --quiet) > "$W/builtin.cpio"
t0=$(date +%s.%N)
"$BOOTLAB" kernel build --arch x86_64 --builtin "$W/builtin.cpio" -q > /dev/null 2>&1
t1=$(date +%s.%N)
printf '%-6s %-58s %8.2f s\n' "INFO" "built-in relink (x86_64, new archive)" "$(sub "$t1" "$t0")"

# the whole shipped suite, as `make check` boots it (2 cores)
t0=$(date +%s.%N)
sum=$("$BOOTLAB" run --report-dir "$W/suite" scenarios/*.yaml 2>&1 | tail -n 1)
t1=$(date +%s.%N)
printf '%-6s %-58s %8.2f s  (%s)\n' "INFO" "shipped suite: bootlab run scenarios/*.yaml" "$(sub "$t1" "$t0")" "$sum"
exit 0
