#!/bin/bash
# Cost of stage-1 observation (docs/observe.md): Debian's initramfs-tools
# image for the installed cloud kernel, gated unobserved and observed
# (`bootlab gate` and `bootlab gate --observe`, the same image, kernel and
# empty ext4 root), N times each (BENCH_N, default 5), interleaved so
# background load hits both alike. Prints the median per side of stage
# 1's guest time (the kernel's run-init line to stage 2's hello: what is
# traced), of when stage 2 said hello (guest seconds since the kernel
# started), of the gate's wall time and of its CPU time (bootlab and
# QEMU), and their ratios observed / plain; issue 19's target is at most
# 1.10. Prints numbers; asserts nothing.
set -u
cd "$(dirname "$0")/.." || exit 1
N=${BENCH_N:-5}
ck=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
if [ -z "$ck" ] || ! command -v mkinitramfs >/dev/null; then
	echo "bench/observe: no Debian cloud kernel or mkinitramfs (ci/install-deps)"
	exit 1
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/bootlab-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkinitramfs -o "$W/debian.img" "${ck#/boot/vmlinuz-}" >"$W/mkinitramfs.log" 2>&1 || {
	cat "$W/mkinitramfs.log"; exit 1; }

# gate NAME [--observe]: one line "wall-s cpu-s stage-2-s stage-1-s"
# appended to $W/NAME.txt: the gate's wall time and CPU time (bootlab and
# QEMU, user and system), when stage 2 said hello and how long stage 1
# took (guest seconds: from the kernel's run-init line to that hello)
gate() {
	/usr/bin/time -o "$W/$1.time" -f '%e %U %S' ./bootlab gate "${@:2}" --kernel "$ck" \
		--initramfs "$W/debian.img" --report-dir "$W/$1" --timeout 120s >"$W/$1.out" 2>&1 ||
		{ echo "bench/observe: gate $* failed:"; tail -n 5 "$W/$1.out"; }
	local g
	g=$(jq -r '[.scenarios[0].timing.phases[] | {(.name): .guest_s.median}] | add |
		"\(.["stage2-hello"] // "nan") \(if .["stage2-hello"] and .["run-init"] then .["stage2-hello"] - .["run-init"] else "nan" end)"' \
		"$W/$1/latest/report.json" 2>/dev/null)
	echo "$(awk '{ print $1, $2 + $3 }' "$W/$1.time" | tail -n 1) ${g:-nan nan}" >>"$W/$1.txt"
}
# one unmeasured gate of each first: the page cache, the agent's modules
# and the disk image's recipe are warm for both sides alike
gate warm
gate warm --observe
: >"$W/plain.txt"
: >"$W/observed.txt"
for i in $(seq 1 "$N"); do
	gate plain
	gate observed --observe
done
# median COLUMN FILE
median() { cut -d' ' -f"$1" "$2" | sort -g | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
printf '\nobservation cost (Debian initramfs-tools, %s, %d gates each, medians)\n' "${ck#/boot/vmlinuz-}" "$N"
printf '  %-14s %10s %10s %10s %10s\n' "" "stage 1 s" "stage 2 s" "wall s" "CPU s"
for side in plain observed; do
	printf '  %-14s %10.3f %10.3f %10.3f %10.3f\n' "$side" \
		"$(median 4 "$W/$side.txt")" "$(median 3 "$W/$side.txt")" "$(median 1 "$W/$side.txt")" "$(median 2 "$W/$side.txt")"
done
printf '  %-14s' "observed/plain"
for c in 4 3 1 2; do printf ' %9.3fx' "$(echo "$(median $c "$W/observed.txt") / $(median $c "$W/plain.txt")" | bc -l)"; done
printf '   (target: at most 1.10x)\n'
for side in plain observed; do
	printf '  %s runs (wall cpu stage-2 stage-1): %s\n' "$side" "$(paste -sd';' "$W/$side.txt")"
done
