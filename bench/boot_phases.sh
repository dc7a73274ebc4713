#!/bin/bash
# Boot phase timings of scenarios/smoke.yaml: --repeat N (default 5, or
# BENCH_REPEAT) boots one at a time, then the min/median/max per phase
# from report.json. With BENCH_BASELINE=OLD/report.json it also prints
# `bootlab compare` against that run. Prints numbers; asserts nothing.
cd "$(dirname "$0")/.." || exit 1
n=${BENCH_REPEAT:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
./bootlab run -j 1 --repeat "$n" --report-dir "$out" --arch x86_64 --backend qemu scenarios/smoke.yaml > "$out/run.txt" 2>&1 || {
	cat "$out/run.txt"; exit 1; }
j="$out/latest/report.json"
echo "smoke, $n boots, -j 1 (host seconds since spawn; guest clock where known)"
jq -r '.scenarios[0].timing.phases[] |
	[.name, .reached, .host_s.min, .host_s.median, .host_s.max, (.guest_s.median // "-")] | @tsv' "$j" |
	awk -F'\t' 'BEGIN { printf "  %-14s %7s %8s %8s %8s %10s\n", "phase", "reached", "min", "median", "max", "guest med" }
		{ printf "  %-14s %7s %8.3f %8.3f %8.3f %10s\n", $1, $2, $3, $4, $5, $6 }'
if [ -n "${BENCH_BASELINE:-}" ]; then
	./bootlab compare "$BENCH_BASELINE" "$j"
fi
mkdir -p bench/out && cp "$j" bench/out/boot_phases.last.json
