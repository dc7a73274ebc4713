#!/bin/bash
# timeout: 300
# Nothing outlives bootlab: SIGKILL `bootlab run` in the middle of a boot
# and no emulator process (qemu-system-*, UML's linux and the helper
# processes it forks) may be left. The emulators run in their own process
# group with PR_SET_PDEATHSIG(SIGKILL), so the kernel kills them when
# bootlab dies. Every work folder of this test is under $T_TMP/w, which
# is in every emulator's command line: that is how its processes are told
# from other work on the machine.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T_TMP/w"
agent_scenario slow 120s > "$T_TMP/slow.yaml" <<'YAML'
  - hello:
  - console: "this line is never printed"
    timeout: 110s
YAML

mine() { pgrep -f "$T_TMP/w" | grep -vx "$$" ; }

for backend in qemu uml; do
	TMPDIR="$T_TMP/w" "$BOOTLAB" run --backend $backend --report-dir "$T_TMP/r-$backend" \
		"$T_TMP/slow.yaml" > "$T_TMP/out-$backend" 2>&1 &
	bl=$!
	# mid-boot: the emulator runs and the agent has said hello
	for i in $(seq 600); do
		n=$(mine | wc -l)
		[ "$n" -gt 0 ] && grep -qs 'agent' "$T_TMP"/r-$backend/*/slow.console.log && break
		[ "$n" -gt 0 ] && [ "$i" -gt 100 ] && break
		sleep 0.1
	done
	before=$(mine | wc -l)
	check "$backend: the emulator is running before the kill ($before processes)" test "$before" -gt 0
	if [ $backend = uml ]; then
		check "uml: it has helper processes of its own (more than one process)" test "$before" -gt 1
	fi
	kill -KILL $bl
	wait $bl 2>/dev/null
	left=""
	for i in $(seq 50); do
		left=$(mine)
		[ -z "$left" ] && break
		sleep 0.1
	done
	expect_eq "$backend: no emulator process left 5 s after SIGKILL of bootlab" "$left" ""
	[ -n "$left" ] && ps -o pid,ppid,pgid,args -p $(echo $left | tr ' ' ,) | sed 's/^/#   /' && kill -KILL $left
done

# SIGTERM goes the orderly way: the emulator is stopped, a report written
TMPDIR="$T_TMP/w" "$BOOTLAB" run --backend uml --report-dir "$T_TMP/r-term" "$T_TMP/slow.yaml" \
	> "$T_TMP/out-term" 2>&1 &
bl=$!
for i in $(seq 300); do [ "$(mine | wc -l)" -gt 0 ] && break; sleep 0.1; done
sleep 0.5
kill -TERM $bl
wait $bl
rc=$?
expect_eq "SIGTERM: bootlab exits 130 (interrupted)" "$rc" 130
check "SIGTERM: the report is written" test -s "$(ls -d "$T_TMP"/r-term/2*/ | head -1)/report.json"
expect_eq "SIGTERM: no emulator left" "$(mine)" ""
done_testing
