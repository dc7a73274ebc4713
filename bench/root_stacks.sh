#!/bin/bash
# Root stacks (docs/root-stacks.md): for each stack, the busybox-stacks
# example gated twice on bootlab's x86_64 kernel with the same root folder:
# cold (the builder guest writes the members) and warm (from the cache),
# printed beside the plain-ext4 gate of the same initramfs: wall seconds
# of each gate, the warm gate's ratio to ext4's, and when stage 2 said
# hello (guest seconds). The root folder holds a nonce, so the first gate
# of each stack is cold; its cache entries are removed at the end. Prints
# numbers; asserts nothing.
set -u
cd "$(dirname "$0")/.." || exit 1
K=$(./bootlab kernel build --arch x86_64 -q) || exit 1
W=$(mktemp -d "${TMPDIR:-/tmp}/bootlab-bench.XXXXXX")
dirs=()
cleanup() { rm -rf "$W" "${dirs[@]}"; }
trap cleanup EXIT
ci/examples/busybox-stacks/build.sh "$W/bbs.cpio.gz" || exit 1
mkdir -p "$W/root/etc"
echo "bench $$ $(date +%s%N)" >"$W/root/etc/nonce"

# gate NAME STACK: wall seconds in $secs, stage-2 guest seconds in $hello
gate() {
	local t0 t1 extra=()
	case $2 in *luks*) extra=(--passphrase bench) ;; esac
	t0=$(date +%s.%N)
	./bootlab gate --kernel "$K" --initramfs "$W/bbs.cpio.gz" --root "$W/root" --root-size 32M \
		--root-stack "$2" "${extra[@]}" --report-dir "$W/$1" --timeout 120s >"$W/$1.out" 2>&1 ||
		echo "bench/root_stacks: gate $2 failed (see below)" >&2
	t1=$(date +%s.%N)
	secs=$(echo "$t1 - $t0" | bc)
	hello=$(jq -r '.scenarios[0].timing.phases[] | select(.name == "stage2-hello") | .guest_s.median // "-"' \
		"$W/$1/latest/report.json" 2>/dev/null)
	local log
	log=$(sed -n 's/^bootlab gate: root stack .*(log: \(.*\))$/\1/p' "$W/$1.out")
	[ -n "$log" ] && dirs+=("$(dirname "$log")")
}

printf '%-22s %9s %9s %12s %12s\n' "root stack" "cold s" "warm s" "warm/ext4" "stage-2 s"
base=
for st in ext4 raid1+ext4 lvm+ext4 luks+ext4 raid1+lvm+ext4 raid1+luks+lvm+ext4; do
	gate "c-$st" "$st"
	cold=$secs
	gate "w-$st" "$st"
	warm=$secs
	[ -z "$base" ] && base=$warm
	printf '%-22s %9.2f %9.2f %12.2f %12.2f\n' "$st" "$cold" "$warm" "$(echo "$warm / $base" | bc -l)" "${hello/-/0}"
done
