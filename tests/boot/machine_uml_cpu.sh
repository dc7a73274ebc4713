#!/bin/bash
# timeout: 300
# UML runs bound to one host CPU (docs/machines.md, "UML specifics"): the
# affinity of every process of a running UML boot (the kernel and the
# guest address spaces it forks) is read from /proc, and the report's
# emulator.cpu must name that CPU. Two boots of one run take different
# CPUs; BOOTLAB_UML_PIN=0 leaves the affinity alone; QEMU is not bound.
. "$(dirname "$0")/../lib.sh"

allowed=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
ncpu=$(nproc)
mkdir -p "$T_TMP/w"
agent_scenario slow 60s > "$T_TMP/slow.yaml" <<'YAML'
  - hello:
  - console: "this line is never printed"
    timeout: 50s
YAML
for q in quick quick2; do
	agent_scenario $q 60s > "$T_TMP/$q.yaml" <<'YAML'
  - hello:
  - agent: {op: poweroff}
  - outcome: pass
YAML
done

mine() { pgrep -f "$T_TMP/w/$1" | grep -vx "$$"; }
# the distinct Cpus_allowed_list values of the processes given
affinities() {
	for p in "$@"; do awk '/^Cpus_allowed_list/ {print $2}' /proc/$p/status 2>/dev/null; done | sort -u
}
# a UML boot that stays up; prints the affinities seen once the agent is up
held_boot() { # TAG [ENV...]
	local tag=$1
	shift
	mkdir -p "$T_TMP/w/$tag"
	env TMPDIR="$T_TMP/w/$tag" "$@" "$BOOTLAB" run --backend uml --report-dir "$T_TMP/r-$tag" \
		"$T_TMP/slow.yaml" > "$T_TMP/out-$tag" 2>&1 &
	local bl=$! pids=""
	for i in $(seq 300); do
		pids=$(mine "$tag")
		[ -n "$pids" ] && grep -qs '"hello"\|Run /init' "$T_TMP"/r-$tag/*/slow.console.log && break
		sleep 0.1
	done
	sleep 0.3 # UML's helpers and the agent's address space are forked by now
	pids=$(mine "$tag")
	echo "$(echo $pids | wc -w) $(affinities $pids | paste -sd,)" > "$T_TMP/aff-$tag"
	kill -TERM $bl
	wait $bl 2>/dev/null
}

held_boot pinned
read -r n aff < "$T_TMP/aff-pinned"
j=$(ls "$T_TMP"/r-pinned/2*/report.json 2>/dev/null | head -1)
cpu=$(jq -r '.scenarios[0].emulator.cpu' "$j" 2>/dev/null)
check "uml: the boot's processes were found ($n)" test "${n:-0}" -gt 1
if [ "$ncpu" -lt 2 ]; then
	skip_unfixable "the host has one CPU" "uml: bound to one CPU"
	skip_unfixable "the host has one CPU" "uml: the report names that CPU"
else
	expect_eq "uml: every process of the boot is bound to one CPU, the report's" "$aff" "$cpu"
	expect_match "uml: the report names a CPU bootlab may use" "$cpu" '^[0-9]+$'
fi

held_boot free BOOTLAB_UML_PIN=0
read -r n aff < "$T_TMP/aff-free"
j=$(ls "$T_TMP"/r-free/2*/report.json 2>/dev/null | head -1)
check "uml, BOOTLAB_UML_PIN=0: the boot's processes were found ($n)" test "${n:-0}" -gt 1
expect_eq "uml, BOOTLAB_UML_PIN=0: the affinity is bootlab's own" "$aff" "$allowed"
expect_eq "uml, BOOTLAB_UML_PIN=0: the report's emulator.cpu is null" \
	"$(jq -r '.scenarios[0].emulator.cpu' "$j")" null

# two boots of one run at once (-j2): two CPUs
"$BOOTLAB" run -j2 --backend uml --report-dir "$T_TMP/r-two" "$T_TMP/quick.yaml" "$T_TMP/quick2.yaml" > "$T_TMP/out-two" 2>&1
expect_eq "uml -j2: both boots pass" "$?" 0
j=$(ls "$T_TMP"/r-two/2*/report.json | head -1)
cpus=$(jq -r '[.scenarios[].emulator.cpu] | map(tostring) | join(" ")' "$j")
if [ "$ncpu" -lt 2 ]; then
	skip_unfixable "the host has one CPU" "uml -j2: the two boots run on different CPUs"
else
	set -- $cpus
	check "uml -j2: the two boots run on different CPUs ($cpus)" test "$#" = 2 -a "${1:-x}" != "${2:-x}"
fi

"$BOOTLAB" run --backend qemu --report-dir "$T_TMP/r-qemu" "$T_TMP/quick.yaml" > "$T_TMP/out-qemu" 2>&1
j=$(ls "$T_TMP"/r-qemu/2*/report.json | head -1)
expect_eq "qemu: not bound (emulator.cpu null)" \
	"$(jq -r '[.scenarios[].emulator.cpu] | unique | map(tostring) | join(" ")' "$j")" null
expect_eq "no emulator left" "$(mine "")" ""
done_testing
