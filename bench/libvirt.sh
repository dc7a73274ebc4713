#!/bin/bash
# Per-boot overhead of the libvirt backend against the direct qemu backend,
# and of a host that shares no folder with bootlab against a local libvirt
# boot, side by side in one run: the smoke scenario on q35 (the machine
# libvirt uses) through each, N boots each, interleaved so background load
# hits all alike. The remote host is a second private daemon that cannot
# see bootlab's files (ci/libvirtd, BOOTLAB_LIBVIRTD_HIDE), reached over
# qemu+ssh:// through a real sshd in its namespace (ci/libvirtd ssh):
# every boot goes through ssh and the upload pool (docs/libvirt.md), warm
# after the first, as on a lab host. Prints mean and median wall time per boot
# (bootlab's own wall time) and the ratios.
set -u
cd "$(dirname "$0")/.."
N=${BENCH_N:-5}
T=$(mktemp -d "${TMPDIR:-/tmp}/bootlab-bench.XXXXXX")
started=0
cleanup() {
	BOOTLAB_LIBVIRTD_DIR="$T/lvr" ci/libvirtd stop >/dev/null 2>&1
	rm -rf "$T"
	[ $started = 1 ] && ci/libvirtd stop
}
trap cleanup EXIT
# the private daemon of ci/libvirtd (its default state folder, so QEMU's
# capabilities stay cached between runs)
if ! ci/libvirtd status; then started=1; fi
BOOTLAB_LIBVIRT_URI=$(ci/libvirtd start) || { echo "libvirt bench: no libvirtd"; exit 1; }
export BOOTLAB_LIBVIRT_URI
cache=${XDG_CACHE_HOME:-$HOME/.cache}/bootlab
BOOTLAB_LIBVIRTD_DIR="$T/lvr" BOOTLAB_LIBVIRTD_HIDE="/tmp:$HOME:$cache:$PWD:$T" \
	ci/libvirtd start >/dev/null || { echo "libvirt bench: no second libvirtd"; exit 1; }
REMOTE=$(BOOTLAB_LIBVIRTD_DIR="$T/lvr" ci/libvirtd ssh) || { echo "libvirt bench: no sshd"; exit 1; }
remote() { ./bootlab run -j 1 --connect "$REMOTE" "$@"; }

cat > "$T/q35.yaml" <<YAML
extends: $PWD/tests/data/scenarios/smoke-one.yaml
name: smoke-q35
machine: q35
YAML
# warm the caches (kernel, libvirt capabilities) outside the measurement
./bootlab run --report-dir "$T/warm" "$T/q35.yaml" >/dev/null 2>&1
./bootlab run --backend libvirt --report-dir "$T/warm" "$T/q35.yaml" >/dev/null 2>&1
remote --report-dir "$T/warm" "$T/q35.yaml" >/dev/null 2>&1

: > "$T/qemu.txt"; : > "$T/libvirt.txt"; : > "$T/remote.txt"
for i in $(seq 1 "$N"); do
	for b in qemu libvirt remote; do
		s=$(date +%s.%N)
		if [ $b = remote ]; then
			remote --report-dir "$T/$b" "$T/q35.yaml" >/dev/null 2>&1
		else
			./bootlab run -j 1 --backend $b --report-dir "$T/$b" "$T/q35.yaml" >/dev/null 2>&1
		fi || echo "  ($b run $i did not pass)"
		e=$(date +%s.%N)
		echo "$(echo "$e - $s" | bc)" >> "$T/$b.txt"
	done
done
stats() { sort -n "$1" | awk '{a[NR]=$1; s+=$1} END {printf "%.3f %.3f", s/NR, (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
read qm qmed <<<"$(stats "$T/qemu.txt")"
read lm lmed <<<"$(stats "$T/libvirt.txt")"
read rmean rmed <<<"$(stats "$T/remote.txt")"
printf '\nlibvirt backend overhead (smoke on q35, %d boots each, wall time of `bootlab run`)\n' "$N"
printf '  %-22s mean %7.3fs  median %7.3fs\n' "qemu (direct)" "$qm" "$qmed"
printf '  %-22s mean %7.3fs  median %7.3fs\n' "libvirt qemu:///system" "$lm" "$lmed"
printf '  %-22s mean %7.3fs  median %7.3fs\n' "libvirt over ssh" "$rmean" "$rmed"
printf '  overhead per boot: %+.3fs (ratio libvirt/qemu %.2fx)\n' "$(echo "$lm - $qm" | bc)" "$(echo "$lm / $qm" | bc -l)"
printf '  a host over ssh without bootlab'"'"'s files (uploads, warm pool): %+.3fs per boot (ratio against local libvirt %.2fx)\n' \
	"$(echo "$rmean - $lm" | bc)" "$(echo "$rmean / $lm" | bc -l)"
